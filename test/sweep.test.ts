import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sweep, mergeResults, parseShard, parseSweepResult, sweepCase } from '../src/cli/sweep.js';
import { packageRoot } from '../src/cli/paths.js';

const V = ['linux-6.18', 'v2'] as const;

test('shards of a campaign add up to the whole, on threads or not', async () => {
  const base = { seed: 7, count: 24, variants: [...V], thp: 'always' as const };
  const whole = await sweep({ ...base, shard: { index: 0, count: 1 }, workers: 1 });
  const parts = await Promise.all([0, 1, 2].map((i) => sweep({ ...base, shard: { index: i, count: 3 }, workers: 2 })));
  const merged = mergeResults(parts);
  assert.deepEqual(merged.variants, whole.variants);
  assert.deepEqual(merged.shards, ['0/3', '1/3', '2/3']);
  assert.ok(whole.variants.v2.pudBytes + whole.variants.v2.pmdBytes > whole.variants['linux-6.18'].pudBytes + whole.variants['linux-6.18'].pmdBytes);
  assert.throws(() => mergeResults([parts[0], parts[0]]), /shard 0\/3 appears twice/);
  assert.throws(() => mergeResults([parts[0], { ...parts[1], seed: 8 }]), /another campaign/);
  // a result read back from a file is checked field by field before it is added up
  const copy = () => JSON.parse(JSON.stringify(parts[1]));
  assert.deepEqual(parseSweepResult(copy(), 'r.json'), parts[1]);
  assert.throws(() => parseSweepResult({ ...copy(), shards: '1/3' }, 'r.json'), /^InputError: r\.json: shards: expected a non-empty array/);
  assert.throws(() => parseSweepResult({ ...copy(), shards: ['3/3'] }, 'r.json'), /r\.json: shards\[0\]: expected "I\/N" with I < N/);
  assert.throws(() => parseSweepResult({ ...copy(), variants: null }, 'r.json'), /r\.json: variants: expected an object/);
  const t = copy();
  t.variants.v2.cases = 'x';
  assert.throws(() => parseSweepResult(t, 'r.json'), /r\.json: variants\.v2\.cases: expected a non-negative whole number, got "x"/);
});

test('merge refuses totals no sweep produces and sets of shards that do not make a campaign', async () => {
  const base = { seed: 5, count: 10, variants: [...V], thp: 'always' as const };
  const parts = await Promise.all([0, 1, 2].map((i) => sweep({ ...base, shard: { index: i, count: 3 }, workers: 1 })));
  const copy = (k: number) => JSON.parse(JSON.stringify(parts[k]));
  const bad = (mutate: (r: any) => void, re: RegExp) => {
    const r = copy(1);
    mutate(r);
    assert.throws(() => parseSweepResult(r, 'r.json'), re);
  };
  // shard 1 of 3 holds cases 1, 4, 7 of 10
  assert.equal(parts[1].variants.v2.cases, 3);
  bad((r) => (r.variants.v2.cases = 2.5), /variants\.v2\.cases: expected a non-negative whole number, got 2\.5/);
  bad((r) => (r.variants.v2.cases = -3), /expected a non-negative whole number, got -3/);
  bad((r) => (r.variants.v2.cases = 4), /variants\.v2\.cases: 4 cases, but shards 1\/3 of a 10-case sweep hold 3/);
  bad((r) => (r.variants.v2.failed = r.variants.v2.cases + 1), /variants\.v2\.failed: 4 failed of 3 cases/);
  bad((r) => (r.variants.v2.pteBytes = r.variants.v2.bytes + 4096), /leaves cover \d+ bytes of the \d+ mapped/);
  bad((r) => (r.variants = JSON.parse('{"__proto__": {"cases": 3}}')), /variants\.__proto__: unknown variant/);
  bad((r) => (r.shards = ['01/3']), /shards\[0\]: expected "I\/N"/);
  bad((r) => (r.shards = ['1/3', '1/3']), /shard 1\/3 is listed twice/);
  bad((r) => (r.thp = 'sometimes'), /thp: expected always, madvise, never/);
  // shards of different counts, a shard twice, a missing shard (unless --partial)
  const other = await sweep({ ...base, shard: { index: 1, count: 2 }, workers: 1 });
  assert.throws(() => mergeResults([parts[0], other]), /holds shard 1\/2 of 2, the others are of 3/);
  assert.throws(() => mergeResults([parts[0], parts[1], parts[1]], false, ['a.json', 'b.json', './b.json']), /shard 1\/3 appears twice \(b\.json and \.\/b\.json\)/);
  assert.throws(() => mergeResults([parts[0], parts[2]]), /merge: shard 1\/3 missing \(give --partial/);
  const partial = mergeResults([parts[0], parts[2]], true);
  assert.equal(partial.partial, true);
  assert.equal(partial.variants.v2.cases, parts[0].variants.v2.cases + parts[2].variants.v2.cases);
  assert.equal(mergeResults(parts).partial, undefined);
  assert.equal(({} as Record<string, unknown>).cases, undefined, 'nothing leaked onto Object.prototype');
});

test('cases are deterministic and inside their BAR', () => {
  for (let i = 0; i < 200; i++) {
    const c = sweepCase(3, i);
    assert.deepEqual(sweepCase(3, i), c);
    assert.ok(c.offset + c.len <= c.barSize && c.len > 0 && c.barStart % c.barSize === 0);
  }
});

test('--shard auto reads Kubernetes and Slurm indices', () => {
  assert.deepEqual(parseShard('auto', { JOB_COMPLETION_INDEX: '4', PFNMAP_SHARDS: '8' }), { index: 4, count: 8 });
  assert.deepEqual(parseShard('auto', { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '10' }), { index: 4, count: 10 });
  assert.throws(() => parseShard('auto', {}), /JOB_COMPLETION_INDEX/);
  assert.throws(() => parseShard('3/3', {}), /not below/);
  assert.throws(() => parseShard('x', {}), /expected I\/N/);
});

test('CLI: sweep shards to files, merge them, draw the SVG', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-sweep-'));
  const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  for (const i of [0, 1]) {
    const r = spawnSync(process.execPath, [cli, 'sweep', '--count', '6', '--kernels', 'v2', '--shard', `${i}/2`, '--out', path.join(dir, `s${i}.json`)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
  }
  const m = spawnSync(process.execPath, [cli, 'merge', path.join(dir, 's0.json'), path.join(dir, 's1.json'), '--svg', path.join(dir, 'c.svg')], { encoding: 'utf8' });
  assert.equal(m.status, 0, m.stderr);
  assert.equal(JSON.parse(m.stdout).variants.v2.cases, 6);
  assert.match(fs.readFileSync(path.join(dir, 'c.svg'), 'utf8'), /^<svg [^>]*>.*% huge.*<\/svg>\n$/s);
  const bad = spawnSync(process.execPath, [cli, 'merge', path.join(dir, 's0.json'), path.join(dir, 's0.json')], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^pfnmap: merge: shard 0\/2 appears twice \(\S*s0\.json and \S*s0\.json\)\n$/);
  fs.rmSync(dir, { recursive: true });
});
