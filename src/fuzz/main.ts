// npm run fuzz -- --runs N --seed S [--workers K] [--timeout MS] [--show N]
// Prints the count of each class; exits 1 when any case is not ok.

import { parseArgs } from 'node:util';
import { CLASSES, describe, runCampaign } from './run.js';
import { defaultWorkers } from '../cli/sweep.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, seed: { type: 'string', default: '1' }, workers: { type: 'string' }, timeout: { type: 'string', default: '5000' }, show: { type: 'string', default: '20' } } });
const num = (s: string, name: string) => {
  if (!/^[0-9]{1,9}$/.test(s)) { console.error(`fuzz: --${name}: expected a whole number, got ${JSON.stringify(s)}`); process.exit(2); }
  return Number(s);
};
const runs = num(values.runs!, 'runs');
const seed = num(values.seed!, 'seed');
const workers = values.workers === undefined ? defaultWorkers() : num(values.workers, 'workers');
const tty = process.stderr.isTTY === true;
const r = await runCampaign({
  runs, seed, workers, timeoutMs: num(values.timeout!, 'timeout'),
  progress: (done, counts) => {
    if (tty ? done % 50 === 0 || done === runs : done % 1000 === 0) process.stderr.write(`${tty ? '\r' : ''}${done}/${runs} cases, ${runs ? done - counts.ok : 0} not ok${tty && done < runs ? '' : '\n'}`);
  },
});
for (const f of r.failures.slice(0, num(values.show!, 'show'))) console.log(describe(f) + '\n');
console.log(`pfnmap fuzz: ${runs} cases, seed ${seed}, ${workers} workers, ${(r.ms / 1000).toFixed(1)} s (slowest case ${r.slowest.toFixed(0)} ms)`);
console.log(`families: ${Object.entries(r.byFamily).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
for (const k of CLASSES) console.log(`  ${k.padEnd(17)} ${r.counts[k]}`);
process.exitCode = r.failures.length === 0 ? 0 : 1;
