import { parseSplitOrNull, hexMessage, type Split } from '../lib/u64.js';
import { oneLine } from '../lib/text.js';

export { oneLine, show } from '../lib/text.js';

/** Malformed input (a trace, a device file, a CLI argument): the message names the field. */
export class InputError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${oneLine(field)}: ${oneLine(message, 1000)}`);
    this.name = 'InputError';
  }
}

/** A "0x…" field of at most 64 bits; a malformed one is an InputError naming the field. */
export function hexField(v: unknown, field: string): Split {
  const s = parseSplitOrNull(v);
  if (s === null) throw new InputError(field, hexMessage(v));
  return s;
}
