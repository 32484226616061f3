// Command-line plumbing shared by every command: option parsing with one-line errors,
// strict numbers, and output files written without a stack trace.

import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errText } from '../lib/json-file.js';
import { oneLine } from '../lib/text.js';

/** Bad usage: one line on stderr, exit 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Is tok an option of this command (so not the value of the option before it)? */
function isOption(tok: string, options: Options): boolean {
  if (tok === '-h' || tok === '--help' || tok === '--') return true;
  if (!tok.startsWith('--')) return false;
  const name = tok.slice(2).split('=')[0];
  return Object.hasOwn(options, name);
}

/**
 * node:util parseArgs, except that a value starting with "-" may follow its option after a
 * space ("--bar -1", "--offset -0x1000"), so that it reaches the option's own check and
 * its message, and that parse errors become one-line UsageErrors naming the option.
 */
export function parseArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof nodeParseArgs<T>> {
  const options = config.options ?? {};
  const args: string[] = [];
  const a = config.args ?? [];
  for (let i = 0; i < a.length; i++) {
    const m = /^--([^=]+)$/.exec(a[i]);
    if (m && Object.hasOwn(options, m[1]) && options[m[1]].type === 'string' && i + 1 < a.length && a[i + 1].startsWith('-') && !isOption(a[i + 1], options)) {
      args.push(`${a[i]}=${a[i + 1]}`);
      i++;
    } else args.push(a[i]);
  }
  try {
    return nodeParseArgs({ ...config, args } as T);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (typeof err.code !== 'string' || !err.code.startsWith('ERR_PARSE_ARGS')) throw e;
    const opt = /'(-[^' ]*)/.exec(err.message)?.[1];
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${oneLine(opt ?? '')} (see --help)`);
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument ${oneLine(JSON.stringify(/'([^']*)'/.exec(err.message)?.[1] ?? ''))}`);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && opt) {
      const t = options[opt.replace(/^-+/, '')]?.type;
      throw new UsageError(t === 'boolean' ? `${opt}: takes no value` : `${opt}: needs a value`);
    }
    throw new UsageError(oneLine(err.message.split('\n')[0]));
  }
}

/** A decimal integer option in [min, max]; blank, signed, fractional or huge text is refused. */
export function intOption(v: string, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^[0-9]{1,16}$/.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name}: expected a whole number ${range}, got ${oneLine(JSON.stringify(v))}`);
  }
  return n;
}

/** Write an output file named by --flag; any failure is one line naming the flag and path. */
export function writeOutput(file: string, text: string, flag: string): void {
  if (file === '') throw new UsageError(`--${flag}: expected a file path, got ""`);
  try {
    fs.writeFileSync(file, text);
  } catch (e) {
    throw new UsageError(`--${flag}: cannot write ${oneLine(JSON.stringify(file))}: ${errText(e)}`);
  }
}

/**
 * Refuse up front an output path that cannot be written (before a long run): empty, a
 * directory, or in a folder that is missing or not writable. Other failures (a full disk)
 * still surface in writeOutput.
 */
export function checkOutput(file: string | undefined, flag: string): void {
  if (file === undefined) return;
  if (file === '') throw new UsageError(`--${flag}: expected a file path, got ""`);
  const where = oneLine(JSON.stringify(file));
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) throw new UsageError(`--${flag}: cannot write ${where}: it is a directory`);
  if (st === undefined) {
    const dir = path.dirname(file);
    try {
      if (!fs.statSync(dir).isDirectory()) throw new UsageError(`--${flag}: cannot write ${where}: ${oneLine(dir)} is not a directory`);
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--${flag}: cannot write ${where}: ${errText(e)}`);
    }
  }
}
