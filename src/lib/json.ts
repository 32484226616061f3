// Parsing JSON from outside: one-line errors that name the source, a leading byte-order mark
// ignored (RFC 8259 §8.1 allows it), and a bound on nesting so that no value is deeper than
// any format of the project can be. (Files: json-file.ts.)

import { InputError } from '../trace/input-error.js';

/** Deeper than every pfnmap format (traces, devices, sweep results) needs. */
export const MAX_JSON_DEPTH = 32;

/** The path of the first value nested deeper than max levels, or null; iterative. */
export function tooDeep(v: unknown, max = MAX_JSON_DEPTH): string | null {
  const stack: [unknown, number, string][] = [[v, 0, '']];
  while (stack.length > 0) {
    const [x, d, path] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d >= max) return path || '(top)';
    if (Array.isArray(x)) for (let i = 0; i < x.length; i++) stack.push([x[i], d + 1, `${path}[${i}]`]);
    else for (const k of Object.keys(x)) stack.push([(x as Record<string, unknown>)[k], d + 1, path ? `${path}.${k}` : k]);
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
