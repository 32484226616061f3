// The fuzz runner: generate cases with fast-check (deterministic per seed), run them on
// worker threads through the CLI's main(), and classify each:
//   ok               what the case expects happened
//   crash            exit 70, another unexpected exit code, or an exception past main()
//   hang             the case ran over the time bound (its worker is ended)
//   accepted-invalid a mutation the format forbids did not exit 2
//   refused-valid    a valid input exited 2 (or 1 where 1 is no genuine replay mismatch)
//   multi-line-error exit 2 without exactly one stderr line "pfnmap: …", or with stdout
//                    (but for `replay` of several traces, whose table names each bad file)

import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import * as fs from 'node:fs';
import { fuzzCase, type FuzzCase } from './gen.js';
import type { Outcome } from './worker.js';

export const CLASSES = ['ok', 'crash', 'hang', 'accepted-invalid', 'refused-valid', 'multi-line-error'] as const;
export type Class = (typeof CLASSES)[number];

export interface Failure { index: number; cls: Class; c: FuzzCase; o: Outcome | null }

export interface Campaign { counts: Record<Class, number>; failures: Failure[]; byFamily: Record<string, number>; ms: number; slowest: number }

const ONE_LINE = /^pfnmap: [^\n]*\n$/;

export function classify(c: FuzzCase, o: Outcome | null): Class {
  if (o === null) return 'hang';
  if (o.threw !== null || o.code === null || o.code === 70) return 'crash';
  if (o.code === 2 && (!ONE_LINE.test(o.stderr) || (o.stdout !== '' && !replaysSeveral(c.argv)))) return 'multi-line-error';
  const ok = c.okCodes ?? [0];
  if (c.expect === 'invalid') return o.code === 2 ? 'ok' : 'accepted-invalid';
  if (c.expect === 'valid') return o.code === 2 ? 'refused-valid' : ok.includes(o.code) ? 'ok' : 'crash';
  return o.code === 2 || ok.includes(o.code) || o.code === 0 ? 'ok' : 'crash';
}

const isDir = (p: string) => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** `replay` of more than one input: its table (or JSON lines) reports every trace, bad ones too. */
function replaysSeveral(argv: string[]): boolean {
  if (argv[0] !== 'replay') return false;
  const dash = argv.indexOf('--');
  const named = (dash < 0 ? argv.slice(1) : argv.slice(1, dash)).filter((a) => !a.startsWith('--'));
  return named.length + (dash < 0 ? 0 : argv.length - dash - 1) > 1 || named.some(isDir);
}

/** The cases of a campaign: fast-check samples, in chunks so that memory stays flat. */
function* cases(runs: number, seed: number): Generator<FuzzCase> {
  const chunk = 250;
  for (let at = 0, k = 0; at < runs; at += chunk, k++) {
    yield* fc.sample(fuzzCase, { seed: (seed * 1_000_003 + k) | 0, numRuns: Math.min(chunk, runs - at) });
  }
}

export async function runCampaign(opts: { runs: number; seed: number; timeoutMs?: number; workers?: number; progress?: (done: number, counts: Record<Class, number>) => void }): Promise<Campaign> {
  const timeout = opts.timeoutMs ?? 5000;
  const counts = Object.fromEntries(CLASSES.map((k) => [k, 0])) as Record<Class, number>;
  const byFamily: Record<string, number> = {};
  const failures: Failure[] = [];
  const t0 = performance.now();
  let slowest = 0;
  const it = cases(opts.runs, opts.seed);
  let index = 0;
  let done = 0;
  const script = new URL('./worker.js', import.meta.url);
  const lane = async () => {
    let w = new Worker(script);
    try {
      for (;;) {
        const n = it.next();
        if (n.done) return;
        const c = n.value;
        const id = index++;
        const o = await new Promise<Outcome | null>((resolve) => {
          const timer = setTimeout(() => {
            w.removeAllListeners();
            void w.terminate();
            w = new Worker(script);
            resolve(null);
          }, timeout);
          const onMsg = (m: { id: number; o: Outcome }) => { clearTimeout(timer); w.off('error', onErr); resolve(m.o); };
          const onErr = (e: Error) => {
            clearTimeout(timer);
            w.off('message', onMsg);
            w = new Worker(script);
            resolve({ code: null, stdout: '', stderr: '', threw: `worker died: ${e.message}`, ms: 0 });
          };
          w.once('message', onMsg);
          w.once('error', onErr);
          w.postMessage({ id, c });
        });
        if (o) slowest = Math.max(slowest, o.ms);
        const cls = o !== null && o.ms > timeout ? 'hang' : classify(c, o);
        counts[cls]++;
        byFamily[c.family] = (byFamily[c.family] ?? 0) + 1;
        if (cls !== 'ok') failures.push({ index: id, cls, c, o });
        opts.progress?.(++done, counts);
      }
    } finally {
      await w.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.workers ?? 2) }, lane));
  return { counts, failures, byFamily, ms: performance.now() - t0, slowest };
}

/** A failure as a few lines a person can reproduce from. */
export function describe(f: Failure): string {
  const files = f.c.files.map((x) => `    ${x.path}: ${typeof x.data === 'string' ? JSON.stringify(x.data.length > 300 ? x.data.slice(0, 300) + '…' : x.data) : `<${x.data.length} bytes>`}`);
  return [`#${f.index} ${f.cls} [${f.c.family}: ${f.c.what}] expect ${f.c.expect}`, `  argv: ${JSON.stringify(f.c.argv)}`, ...files,
    `  exit ${f.o?.code ?? '-'}${f.o?.threw ? ` threw ${f.o.threw}` : ''}${f.o ? ` in ${f.o.ms.toFixed(0)} ms` : ' (timed out)'}`,
    ...(f.o ? [`  stderr: ${JSON.stringify(f.o.stderr.slice(0, 400))}`, `  stdout: ${JSON.stringify(f.o.stdout.slice(0, 200))}`] : [])].join('\n');
}
