// `npm run oracle -- --count N`: a differential campaign against the live kernel.
// Each seed's random op list runs in the kernel (the C recorder) and in the model; every
// result and the final /proc/self/maps must be identical.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { generateOps } from './generate.js';
import { recordTrace, liveKernelStatus } from './record.js';
import { validateTrace } from '../trace/load.js';
import { replay, type Mismatch } from '../trace/replay.js';
import type { Trace } from '../trace/format.js';

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

function main(): number {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '500' },
      ops: { type: 'string', default: '300' },
      seed: { type: 'string', default: '1' },
      keep: { type: 'string', default: 'oracle/failures' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npm run oracle -- [--count N] [--ops N] [--seed FIRST] [--keep DIR]\n' +
      'Records N random traces of --ops ops in the live kernel and replays each in the model.\n' +
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

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('oracle', 'campaign.js'))) {
  process.exitCode = main();
}
