// Parsing JSON from outside: one-line errors that name the source, a leading byte-order mark
// ignored (RFC 8259 §8.1 allows it), and a bound on nesting so that no value is deeper than
// any format of the project can be. (Files: json-file.ts.)

import { InputError } from '../trace/input-error.js';

/** Deeper than every pfnmap format (traces, devices, sweep results) needs. */
export const MAX_JSON_DEPTH = 32;

/**
 * The path of the first value nested deeper than max levels, or null. Depth first, last
 * child first; the recursion is bounded by max, and a path is only built for the value found.
 */
export function tooDeep(v: unknown, max = MAX_JSON_DEPTH): string | null {
  if (!exceeds(v, 0, max)) return null;
  const r = deepSuffix(v, 0, max);
  return r === null ? null : r || '(top)';
}

/**
 * Whether a value below x (at depth d), or x itself, is an object at depth max or deeper: the
 * check every file passes, with no key list or path made (for…in over the keys); only a file
 * that fails it is walked again by deepSuffix for the path.
 */
function exceeds(x: unknown, d: number, max: number): boolean {
  if (typeof x !== 'object' || x === null) return false;
  if (d >= max) return true;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) if (exceeds(x[i], d + 1, max)) return true;
    return false;
  }
  for (const k in x) if (exceeds((x as Record<string, unknown>)[k], d + 1, max)) return true;
  return false;
}

/** The path below x (at depth d) to the first too-deep value: "" for x itself, null for none. */
function deepSuffix(x: unknown, d: number, max: number): string | null {
  if (typeof x !== 'object' || x === null) return null;
  if (d >= max) return '';
  if (Array.isArray(x)) {
    for (let i = x.length - 1; i >= 0; i--) {
      const c = x[i];
      if (typeof c !== 'object' || c === null) continue;
      const r = deepSuffix(c, d + 1, max);
      if (r !== null) return `[${i}]${r}`;
    }
    return null;
  }
  const keys = Object.keys(x);
  for (let i = keys.length - 1; i >= 0; i--) {
    const c = (x as Record<string, unknown>)[keys[i]];
    if (typeof c !== 'object' || c === null) continue;
    const r = deepSuffix(c, d + 1, max);
    if (r !== null) return d === 0 ? keys[i] + r : `.${keys[i]}${r}`;
  }
  return null;
}

/** JSON.parse for text from `where` (a file name or a field): InputError on any problem. */
export function parseJson(text: string, where: string): unknown {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let data: unknown;
  try {
    data = JSON.parse(t);
  } catch (e) {
    throw new InputError(where, `not valid JSON: ${(e as Error).message}`);
  }
  const deep = tooDeep(data);
  if (deep !== null) throw new InputError(where, `${deep}: nested deeper than ${MAX_JSON_DEPTH} levels`);
  return data;
}
