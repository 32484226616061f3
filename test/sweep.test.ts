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
  assert.throws(() => parseSweepResult(t, 'r.json'), /r\.json: variants\.v2\.cases: expected a non-negative number, got "x"/);
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
  assert.match(bad.stderr, /^pfnmap: merge: shard 0\/2 appears twice\n$/);
  fs.rmSync(dir, { recursive: true });
});
