// `npm run oracle -- --count N`: a differential campaign against the live kernel.
// Each seed's random op list runs in the kernel (the C recorder) and in the model; every
// result and the final /proc/self/maps must be identical.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { generateOps } from './generate.js';
import { recordTrace, liveKernelStatus } from './record.js';
import { validateTrace } from '../trace/load.js';
import { replay, type Mismatch, type MmapBaseReport } from '../trace/replay.js';
import type { Trace, TraceOp } from '../trace/format.js';

export interface CampaignResult {
  seed: number;
  trace: Trace;
  ops: number;
  resultsMatched: number;
  finalMatched: boolean;
  firstMismatch: Mismatch | null;
}

/** Record one random trace in the live kernel and replay it in the model. */
export function runSeed(seed: number, count: number): CampaignResult {
  const { files, ops } = generateOps(seed, count);
  const trace = recordTrace({ name: `random-${seed}`, files, ops });
  const r = replay(validateTrace(trace));
  return { seed, trace, ops: r.ops, resultsMatched: r.resultsMatched, finalMatched: r.finalMatched, firstMismatch: r.firstMismatch };
}

/**
 * The generated ops without MAP_32BIT: with randomisation its search starts at a random page
 * per call, which a trace does not record (replay refuses such ops; docs/trace-format.md).
 */
export function withoutMap32bit(ops: TraceOp[]): TraceOp[] {
  return ops.map((o) => (o.op === 'mmap' && o.flags.includes('32BIT') ? { ...o, flags: o.flags.filter((f) => f !== '32BIT') } : o));
}

/** A randomised trace's env without mmapBase: what a replay must then infer. */
export function withoutMmapBase(trace: Trace): Trace {
  const env = { ...trace.env };
  delete env.mmapBase;
  return { ...trace, env };
}

export interface AslrResult {
  seed: number;
  trace: Trace;
  ops: number;
  /** replayed with env.mmapBase, the base the recorder measured */
  given: CampaignResult;
  /** replayed with mmapBase removed: the base inferred from initial */
  inferred: CampaignResult & { mmapBase: MmapBaseReport | undefined };
}

/** Record one random trace with ASLR on (no MAP_32BIT) and replay it with and without env.mmapBase. */
export function runAslrSeed(seed: number, count: number): AslrResult {
  const { files, ops } = generateOps(seed, count);
  const trace = recordTrace({ name: `aslr-${seed}`, files, ops: withoutMap32bit(ops), randomize: true });
  if (trace.env.mmapBase === undefined) throw new Error('pfnmap oracle: the recorder could not measure mmap_base');
  const one = (t: Trace) => {
    const r = replay(validateTrace(t));
    return { seed, trace: t, ops: r.ops, resultsMatched: r.resultsMatched, finalMatched: r.finalMatched, firstMismatch: r.firstMismatch, mmapBase: r.mmapBase };
  };
  return { seed, trace, ops: trace.ops.length, given: one(trace), inferred: one(withoutMmapBase(trace)) };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '500' },
      ops: { type: 'string', default: '300' },
      seed: { type: 'string', default: '1' },
      keep: { type: 'string', default: 'oracle/failures' },
      aslr: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npm run oracle -- [--count N] [--ops N] [--seed FIRST] [--keep DIR] [--aslr]\n' +
      'Records N random traces of --ops ops in the live kernel and replays each in the model.\n' +
      'With --aslr the traces are recorded with randomisation (no MAP_32BIT) and each is replayed\n' +
      'twice: with the mmap_base the recorder measured, and with it removed (inferred).\n' +
      'Mismatching traces are written to --keep (default oracle/failures) for `pfnmap replay`.');
    return 0;
  }
  const num = (v: string, name: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) {
      console.error(`pfnmap oracle: --${name} must be a positive integer, got ${JSON.stringify(v)}`);
      process.exit(2);
    }
    return n;
  };
  const count = num(values.count!, 'count');
  const nops = num(values.ops!, 'ops');
  const first = num(values.seed!, 'seed');
  const st = liveKernelStatus();
  if (!st.usable) {
    console.error(`pfnmap oracle: the live kernel cannot be used here: ${st.reason}`);
    return 2;
  }
  let bad = 0;
  let opsTotal = 0;
  let matchedTotal = 0;
  if (values.aslr) return aslrCampaign(first, count, nops, values.keep!, st.kernel);
  for (let s = first; s < first + count; s++) {
    const r = runSeed(s, nops);
    opsTotal += r.ops;
    matchedTotal += r.resultsMatched;
    if (r.firstMismatch !== null || !r.finalMatched) {
      bad++;
      fs.mkdirSync(values.keep!, { recursive: true });
      const file = path.join(values.keep!, `random-${s}.json`);
      fs.writeFileSync(file, JSON.stringify(r.trace));
      console.log(`seed ${s}: MISMATCH ${JSON.stringify(r.firstMismatch)} → ${file}`);
    }
  }
  console.log(`${count} traces on ${st.kernel}: ${count - bad} identical, ${bad} differ; ` +
    `${matchedTotal}/${opsTotal} results identical`);
  return bad === 0 ? 0 : 1;
}

function aslrCampaign(first: number, count: number, nops: number, keep: string, kernel: string): number {
  let bad = 0;
  const bases = new Set<string>();
  for (let s = first; s < first + count; s++) {
    let r: AslrResult;
    try {
      r = runAslrSeed(s, nops);
    } catch (e) {
      bad++;
      console.log(`seed ${s}: ${(e as Error).message}`);
      continue;
    }
    bases.add(r.trace.env.mmapBase!);
    const okGiven = r.given.firstMismatch === null && r.given.finalMatched;
    const okInferred = r.inferred.firstMismatch === null && r.inferred.finalMatched && r.inferred.mmapBase?.value === r.trace.env.mmapBase;
    if (!okGiven || !okInferred) {
      bad++;
      fs.mkdirSync(keep, { recursive: true });
      const file = path.join(keep, `aslr-${s}.json`);
      fs.writeFileSync(file, JSON.stringify(r.trace));
      console.log(`seed ${s}: MISMATCH given ${JSON.stringify(r.given.firstMismatch)} inferred ${JSON.stringify(r.inferred.firstMismatch)} ${JSON.stringify(r.inferred.mmapBase)} → ${file}`);
    }
  }
  console.log(`${count} randomised traces on ${kernel} (${bases.size} distinct mmap_base): ${count - bad} identical both with env.mmapBase and inferred, ${bad} differ`);
  return bad === 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('oracle', 'campaign.js'))) {
  process.exitCode = main();
}
