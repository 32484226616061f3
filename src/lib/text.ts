// Outside text and values in one-line, bounded error messages.

/**
 * Text from outside (a file name, a field value) made safe for a one-line message: control
 * characters (newline, carriage return, escape, …) are shown escaped and it is cut at max
 * characters.
 */
export function oneLine(s: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/**
 * A short, bounded description of any JSON value for an error message: strings and numbers
 * quoted as JSON (cut at 40 characters), arrays and objects only named, so that no input,
 * however large or deeply nested, can make building a message expensive.
 */
export function show(v: unknown): string {
  if (typeof v === 'string') return oneLine(JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v));
  if (v === undefined) return 'nothing';
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

/** "1 fault", "1,024 faults": a count with its noun, singular for one. */
export function countOf(n: number, noun: string, plural = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : plural}`;
}
