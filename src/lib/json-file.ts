// JSON files from outside, for the command line (node only; the page uses json.ts).

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../trace/input-error.js';
import { parseJson } from './json.js';

/** Read a JSON file (or gzip-compressed JSON) as parseJson does. */
export function readJsonFile(path: string): unknown {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError(path, `cannot read: ${errText(e)}`);
  }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new InputError(path, `bad gzip data: ${errText(e)}`);
    }
  }
  return parseJson(buf.toString('utf8'), path);
}

/** An fs error as "ENOENT: no such file or directory" without the path it repeats. */
export function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === 'string' && typeof err.message === 'string') {
    const m = /^[A-Z0-9_]+: ([^,]*)/.exec(err.message);
    return m ? `${err.code}: ${m[1]}` : `${err.code}: ${err.message}`;
  }
  return String((e as Error)?.message ?? e);
}
