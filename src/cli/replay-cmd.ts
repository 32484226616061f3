// pfnmap replay TRACE|DIR …: replay any number of traces in one process. A directory
// stands for the *.json and *.json.gz files directly in it (not its subdirectories),
// sorted by name. A trace that cannot be read is an "error" row and the others still run.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTraceFile } from '../trace/load.js';
import { replay, type ReplayReport } from '../trace/replay.js';
import { InputError } from '../trace/input-error.js';
import { errText } from '../lib/json-file.js';
import { oneLine } from '../lib/text.js';

export const isTraceName = (f: string): boolean => f.endsWith('.json') || f.endsWith('.json.gz');

/** One file to replay, or an argument that names none (its error). */
export interface TraceArg {
  file: string;
  error?: string;
}

/** The trace files an argument names: the file itself, or a directory's traces. */
export function traceFilesOf(arg: string): TraceArg[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(arg);
  } catch (e) {
    return [{ file: arg, error: `${oneLine(arg)}: cannot read: ${errText(e)}` }];
  }
  if (!st.isDirectory()) return [{ file: arg }];
  let names: string[];
  try {
    names = fs.readdirSync(arg);
  } catch (e) {
    return [{ file: arg, error: `${oneLine(arg)}: cannot read the directory: ${errText(e)}` }];
  }
  const files = names
    .filter(isTraceName)
    // code-unit order, as bundledTraces sorts: the same on every machine and locale
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => path.join(arg, n))
    .filter((f) => {
      // a subdirectory named x.json is not a trace; a dangling symlink is (its row says why)
      try {
        return !fs.statSync(f).isDirectory();
      } catch {
        return true;
      }
    });
  if (files.length === 0) return [{ file: arg, error: `${oneLine(arg)}: no *.json or *.json.gz trace in this directory (subdirectories are not searched)` }];
  return files.map((file) => ({ file }));
}

export type ReplayResult = 'ok' | 'mismatch' | 'error';

/** One trace's outcome: the single-trace report (when it ran), its file and result. */
export type ReplayRow = (ReplayReport & { file: string; result: 'ok' | 'mismatch' }) | { file: string; result: 'error'; error: string };

/** Replay one file; bad input becomes an error row, anything else (a bug) propagates. */
export function replayRow(a: TraceArg): ReplayRow {
  if (a.error !== undefined) return { file: a.file, result: 'error', error: a.error };
  let r;
  try {
    r = replay(loadTraceFile(a.file));
  } catch (e) {
    if (e instanceof InputError) return { file: a.file, result: 'error', error: oneLine(e.message, 2000) };
    throw e;
  }
  const report: ReplayReport = {
    trace: r.trace, ops: r.ops, resultsMatched: r.resultsMatched, finalMatched: r.finalMatched,
    firstMismatch: r.firstMismatch, modelNs: r.modelNs,
    ...(r.mmapBase === undefined ? {} : { mmapBase: r.mmapBase }),
  };
  const ok = r.firstMismatch === null && r.finalMatched;
  return { ...report, file: a.file, result: ok ? 'ok' : 'mismatch' };
}

/** 2 any bad input, else 1 any mismatch, else 0. */
export function exitCodeOf(rows: ReplayRow[]): number {
  if (rows.some((r) => r.result === 'error')) return 2;
  return rows.some((r) => r.result === 'mismatch') ? 1 : 0;
}

export function fmtNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  return ns >= 1e4 ? `${(ns / 1e3).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
}

/** "op 12: expected {…}, got {…}", one bounded line. */
function mismatchText(r: ReplayReport): string {
  const m = r.firstMismatch;
  if (m === null) return 'final maps DIFFER';
  const where = m.op === 'final' ? `final maps, VMA ${m.index}` : `op ${m.op}`;
  return oneLine(`${where}: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.got)}`, 240);
}

/** The summary table and its total line. */
export function replayTable(rows: ReplayRow[]): string[] {
  const names = rows.map((r) => oneLine(r.file));
  const w = Math.max(5, ...names.map((n) => n.length));
  const opsW = Math.max(3, ...rows.map((r) => (r.result === 'error' ? 1 : r.ops.toLocaleString('en-US').length)));
  const out = [`${'trace'.padEnd(w)}  ${'ops'.padStart(opsW)}  ${'result'.padEnd(8)}  ${'model'.padStart(9)}  detail`];
  rows.forEach((r, i) => {
    if (r.result === 'error') {
      // the message starts with the file; the row already names it
      const prefix = `${names[i]}: `;
      const msg = r.error.startsWith(prefix) ? r.error.slice(prefix.length) : r.error;
      out.push(`${names[i].padEnd(w)}  ${'-'.padStart(opsW)}  ${'error'.padEnd(8)}  ${'-'.padStart(9)}  ${msg}`);
      return;
    }
    const detail = r.result === 'ok' ? '' : `${r.resultsMatched}/${r.ops} results identical, final maps ${r.finalMatched ? 'identical' : 'DIFFER'}; first mismatch ${mismatchText(r)}`;
    out.push(`${names[i].padEnd(w)}  ${r.ops.toLocaleString('en-US').padStart(opsW)}  ${(r.result === 'ok' ? 'ok' : 'MISMATCH').padEnd(8)}  ${fmtNs(r.modelNs).padStart(9)}  ${detail}`.trimEnd());
  });
  const ran = rows.filter((r): r is Exclude<ReplayRow, { result: 'error' }> => r.result !== 'error');
  const n = (k: ReplayResult) => rows.filter((r) => r.result === k).length;
  const ops = ran.reduce((a, r) => a + r.ops, 0);
  const ns = ran.reduce((a, r) => a + r.modelNs, 0);
  out.push('');
  out.push(`total: ${rows.length} trace${rows.length === 1 ? '' : 's'}, ${ops.toLocaleString('en-US')} ops: ${n('ok')} ok, ${n('mismatch')} MISMATCH, ${n('error')} error; model ${fmtNs(ns)}`);
  return out;
}
