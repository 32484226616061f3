// Traces with vfio-pci devices: touch and madvise ops, fault counts, hazards, variants.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateTrace } from '../src/trace/load.js';
import { replay } from '../src/trace/replay.js';
import { InputError } from '../src/trace/input-error.js';
import { TYPICAL_PROCESS } from '../src/kernels/process-template.js';

const initial = TYPICAL_PROCESS.map(([start, end, perms, offset, backing]) => ({ start, end, perms, offset, backing }));
const GIB = 0x40000000;

function trace(kernel: string, ops: unknown[], results: unknown[], extra: Record<string, unknown> = {}) {
  return {
    format: 'pfnmap-trace/1', name: 't', kernel: 'model', arch: 'x86_64',
    env: { rlimitStack: '0x800000', randomize: false, pageSize: 4096 },
    files: [{ id: 'v0', kind: 'vfio-pci', device: 'gpu-128g' }],
    initial, ops, results, final: [], model: { kernel }, ...extra,
  };
}

const mapBar2 = { op: 'mmap', addr: '0x0', len: '0x2000000000', prot: 'rw', flags: ['SHARED'], fd: 'v0', offset: '0x20000000000' };
const touchAll = { op: 'touch', addr: '@0', len: '0x2000000000' };

test('a full BAR touch: 6.12 gets 2 MiB leaves from its accidental file THP alignment, v2 1 GiB ones', () => {
  const env = { rlimitStack: '0x800000', randomize: false, pageSize: 4096, thpEnabled: 'always' };
  for (const [k, faults] of [['linux-6.12', 65536], ['v2', 128], ['linux-7.2', 0x2000000]] as const) {
    const t = validateTrace(trace(k, [mapBar2, touchAll], [{ ret: '0x0' }, { ret: '0x0', faults }], { env }));
    const r = replay(t);
    // op 0's address is whatever the variant picks; op 1's fault count is the point
    assert.equal(r.firstMismatch?.op, 0, k);
    assert.deepEqual(r.got[1], { ret: '0x0', faults }, k);
  }
});

test('on vanilla 6.18 with THP=madvise a BAR needs MADV_HUGEPAGE before huge faults', () => {
  const ops = [
    { op: 'mmap', addr: '0x400000000', len: '0x80000000', prot: 'rw', flags: ['SHARED', 'FIXED'], fd: 'v0', offset: '0x20000000000' },
    { op: 'touch', addr: '@0', len: '0x40000000' },
    { op: 'madvise', addr: '@0+0x40000000', len: '0x40000000', advice: 'HUGEPAGE' },
    { op: 'touch', addr: '@0+0x40000000', len: '0x40000000' },
  ];
  const t = validateTrace(trace('linux-6.18', ops, [{ ret: '0x400000000' }, { ret: '0x0', faults: GIB / 4096 }, { ret: '0x0' }, { ret: '0x0', faults: 1 }], { env: { rlimitStack: '0x800000', randomize: false, pageSize: 4096, thpEnabled: 'madvise' } }));
  const r = replay(t);
  assert.equal(r.resultsMatched, ops.length, JSON.stringify(r.firstMismatch));
  // madvise split the VMA in two at the 1 GiB boundary
  assert.deepEqual(r.final.filter((v) => v.backing === 'v0').map((v) => [v.start, v.end, v.offset]), [
    ['0x400000000', '0x440000000', '0x20000000000'], ['0x440000000', '0x480000000', '0x20040000000'],
  ]);
});

test('a hazard stops the replay and must be expected', () => {
  const ops = [
    { op: 'mmap', addr: '0x400000000', len: '0x40000000', prot: 'rw', flags: ['SHARED', 'FIXED'], fd: 'v0', offset: '0x20000000000' },
    { op: 'touch', addr: '@0', len: '0x40000000' },
    { op: 'munmap', addr: '@0+0x1000', len: '0x1000' },
    { op: 'touch', addr: '@0', len: '0x1000' },
  ];
  const good = validateTrace(trace('linux-7.2', ops, [{ ret: '0x400000000' }, { ret: '0x0', faults: 1 }, { ret: '0x0', hazard: 'pmd-split-in-pud-leaf' }, { ret: '0x0', faults: 1 }]));
  const r = replay(good);
  assert.equal(r.firstMismatch?.op, 3, 'the op after a hazard is not run');
  assert.equal(r.resultsMatched, 3);
  const bad = validateTrace(trace('linux-7.2', ops.slice(0, 3), [{ ret: '0x400000000' }, { ret: '0x0', faults: 1 }, { ret: '0x0' }]));
  assert.deepEqual(replay(bad).firstMismatch, { op: 2, expected: { ret: '0x0' }, got: { ret: '0x0', hazard: 'pmd-split-in-pud-leaf' } });
});

test('device traces name their variant and their device, or fail naming the field', () => {
  const t = trace('linux-6.18', [], []);
  assert.throws(() => validateTrace({ ...t, model: { kernel: 'linux-9' } }), (e: unknown) => e instanceof InputError && /^model\.kernel: unknown kernel variant/.test(e.message));
  assert.throws(() => validateTrace({ ...t, model: undefined, kernel: '5.4.0' }), (e: unknown) => e instanceof InputError && /^model\.kernel: cannot tell/.test(e.message));
  assert.throws(() => validateTrace({ ...t, files: [{ id: 'v0', kind: 'vfio-pci', device: 'gpu-1t' }] }), (e: unknown) => e instanceof InputError && /^files\[0\]\.device: unknown preset/.test(e.message));
  assert.throws(() => validateTrace({ ...t, model: { kernel: 'v2', config: { warp: 9 } } }), (e: unknown) => e instanceof InputError && /^model\.config\.warp/.test(e.message));
  assert.throws(() => validateTrace(trace('v2', [{ op: 'madvise', addr: '0x0', len: '0x1000', advice: 'FREE' }], [{ ret: '0x0' }])), (e: unknown) => e instanceof InputError && /^ops\[0\]\.advice/.test(e.message));
});

// Every part of an expected result and of an expected VMA is compared, and in the form the
// trace writes it: a number with a leading zero is not what the kernel's trace prints.
test('a change to any part of an expected result or VMA is the first mismatch, reported as the model gave it', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { packageRoot } = await import('../src/cli/paths.js');
  const text = readFileSync(join(packageRoot(), 'fixtures/vfio-traces/linux-6.12-bar2-2g-munmap-middle.json'), 'utf8');
  const fresh = () => JSON.parse(text);
  const good = replay(validateTrace(fresh()));
  assert.equal(good.firstMismatch, null);
  assert.ok(good.finalMatched);
  const k = fresh().final.findIndex((v: { backing: string }) => v.backing === 'v0');
  assert.ok(k >= 0);
  const cases: [string, (t: any) => void, number | 'final'][] = [
    ['a leading zero in ret', (t) => (t.results[0].ret = '0x07ffff3c00000'), 0],
    ['another address', (t) => (t.results[1].ret = '0x7ffff3c01000'), 1],
    ['sub-page bits in ret', (t) => (t.results[1].ret = '0x7ffff3c00001'), 1],
    ['another fault count', (t) => (t.results[2].faults = 33), 2],
    ['no fault count where the touch counted', (t) => delete t.results[4].faults, 4],
    ['a fault count where there was no touch', (t) => (t.results[3].faults = 0), 3],
    ['an errno for a success', (t) => (t.results[3] = { errno: 'EINVAL' }), 3],
    ['another signal', (t) => (t.results[6] = { signal: 'SIGBUS' }), 6],
    ['a success for a signal', (t) => (t.results[6] = { ret: '0x0' }), 6],
    ['a hazard the model did not hit', (t) => (t.results[7].hazard = 'pmd-split-in-pud-leaf'), 7],
    ['the start of a VMA', (t) => (t.final[k].start = '0x' + (BigInt(t.final[k].start) + 0x1000n).toString(16)), 'final'],
    ['a leading zero in an end', (t) => (t.final[k].end = '0x0' + t.final[k].end.slice(2)), 'final'],
    ['perms', (t) => (t.final[k].perms = 'r--s'), 'final'],
    ['the offset', (t) => (t.final[k].offset = '0x1000'), 'final'],
    ['the backing', (t) => (t.final[k].backing = 'anon'), 'final'],
  ];
  for (const [name, change, op] of cases) {
    const t = fresh();
    change(t);
    const r = replay(validateTrace(t));
    assert.equal(r.firstMismatch?.op, op, name);
    if (op === 'final') {
      assert.equal(r.finalMatched, false, name);
      assert.equal(r.firstMismatch?.index, k, name);
      assert.deepEqual(r.firstMismatch?.got, good.final[k], name);
    } else {
      assert.equal(r.resultsMatched, good.resultsMatched - 1, name);
      assert.deepEqual(r.firstMismatch?.got, good.got[op], name);
    }
  }
});
