// The project's own fuzz suite, bounded for npm test: a few hundred generated cases over every
// reader (traces, device files, lspci text, sysfs directories, sweep shards) and the argv of
// every command, each classified by src/fuzz/run.ts. Every class but "ok" must be empty.
// A longer campaign: npm run fuzz -- --runs 10000 --seed 1

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLASSES, describe, runCampaign, classify } from '../src/fuzz/run.js';
import type { FuzzCase } from '../src/fuzz/gen.js';

const seed = Number(process.env.PFNMAP_FUZZ_SEED ?? 20251);

test(`fuzz: 400 generated cases (seed ${seed}) are all ok, none over 5 s`, async () => {
  const r = await runCampaign({ runs: 400, seed, workers: 2, timeoutMs: 5000 });
  const msg = r.failures.slice(0, 5).map(describe).join('\n\n');
  for (const k of CLASSES) if (k !== 'ok') assert.equal(r.counts[k], 0, `${k}: ${r.counts[k]}\n${msg}`);
  assert.equal(r.counts.ok, 400);
  assert.deepEqual(Object.keys(r.byFamily).sort(), ['argv', 'device', 'lspci', 'maps', 'merge', 'sysfs', 'trace'], `every family is generated: ${JSON.stringify(r.byFamily)}`);
});

test('fuzz: the oracle can fail (each class is reachable)', () => {
  const c = (expect: FuzzCase['expect'], okCodes?: number[]): FuzzCase => ({ family: 't', what: 't', expect, files: [], argv: [], okCodes });
  const o = (code: number | null, stderr = '', stdout = '', threw: string | null = null) => ({ code, stdout, stderr, threw, ms: 1 });
  assert.equal(classify(c('valid'), o(0)), 'ok');
  assert.equal(classify(c('valid'), o(70, 'pfnmap: internal error: x\n')), 'crash');
  assert.equal(classify(c('any'), o(null, '', '', 'TypeError: x')), 'crash');
  assert.equal(classify(c('valid'), null), 'hang');
  assert.equal(classify(c('invalid'), o(0)), 'accepted-invalid');
  assert.equal(classify(c('valid'), o(2, 'pfnmap: x\n')), 'refused-valid');
  assert.equal(classify(c('valid'), o(1)), 'crash');
  assert.equal(classify(c('valid', [0, 1]), o(1)), 'ok');
  assert.equal(classify(c('invalid'), o(2, 'pfnmap: a\nb\n')), 'multi-line-error');
  assert.equal(classify(c('invalid'), o(2, 'oops\n')), 'multi-line-error');
  assert.equal(classify(c('invalid'), o(2, 'pfnmap: a\n', 'half a table\n')), 'multi-line-error');
  assert.equal(classify(c('invalid'), o(2, 'pfnmap: a\n')), 'ok');
});
