// A fuzz worker thread: runs cases through the CLI's own main() in-process, with the
// console captured, each in a fresh temporary directory. The parent (run.ts) times each
// case and ends a worker that overruns.

import { parentPort } from 'node:worker_threads';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { format } from 'node:util';
import { main } from '../cli/main.js';
import { packageRoot } from '../cli/paths.js';
import type { FuzzCase } from './gen.js';

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** main() threw or its promise rejected (past the CLI's own top level) */
  threw: string | null;
  ms: number;
}

const FIXTURE = path.join(packageRoot(), 'fixtures', 'kernel-traces', 'mixed-1.json');
let out: string[] = [];
let err: string[] = [];
console.log = (...a: unknown[]) => void out.push(format(...a));
console.error = (...a: unknown[]) => void err.push(format(...a));
console.warn = console.error;

export async function runCase(c: FuzzCase): Promise<Outcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-fuzz-'));
  const sub = (s: string) => s.replaceAll('$D', dir).replaceAll('$FIXTURE', FIXTURE);
  out = [];
  err = [];
  const t0 = performance.now();
  let code: number | null = null;
  let threw: string | null = null;
  try {
    for (const d of c.dirs ?? []) fs.mkdirSync(path.join(dir, d), { recursive: true });
    for (const f of c.files) {
      fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
      fs.writeFileSync(path.join(dir, f.path), f.data);
    }
    code = await main(c.argv.map(sub));
  } catch (e) {
    threw = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ms = performance.now() - t0;
  const lines = (xs: string[]) => (xs.length ? xs.join('\n') + '\n' : '');
  return { code, stdout: lines(out).slice(0, 4000), stderr: lines(err).slice(0, 4000), threw, ms };
}

parentPort?.on('message', async (m: { id: number; c: FuzzCase }) => {
  const o = await runCase(m.c);
  parentPort!.postMessage({ id: m.id, o });
});
