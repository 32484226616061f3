// VMA records in the mm core's memory, seen through their JavaScript handles.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GapTree } from '../src/mm/gap-tree.js';
import * as vma from '../src/mm/vma.js';
import { newMm } from '../src/kernels/linux-6.18.js';
import { makeFile } from '../src/kernels/linux-6.18.js';

test('records: every VMA keeps its own numbers across memory growth, exact above 2^31 and near 2^52', () => {
  const t = new GapTree();
  const vmas: vma.Vma[] = [];
  const top = 2 ** 52 - 1;
  const before = t.x.memory.buffer.byteLength;
  for (let i = 0; i < 10_000; i++) vmas.push(t.newVma(top - 3 * i - 2, top - 3 * i, i, null, 2 ** 40 + i, i + 1));
  assert.ok(t.x.memory.buffer.byteLength > before, 'the memory grew while the records were made');
  // writes through one handle leave its neighbours alone
  vmas[4096].pgoff = 7;
  vmas[4096].flags = -1;
  vmas[4095].anonVma = 2 ** 31 - 1;
  for (let i = 0; i < vmas.length; i++) {
    const v = vmas[i];
    assert.equal(v.start, top - 3 * i - 2, `start ${i}`);
    assert.equal(v.end, top - 3 * i, `end ${i}`);
    assert.equal(v.pgoff, i === 4096 ? 7 : 2 ** 40 + i, `pgoff ${i}`);
    assert.equal(v.flags, i === 4096 ? -1 : i, `flags ${i}`);
    assert.equal(v.anonVma, i === 4095 ? 2 ** 31 - 1 : i + 1, `anonVma ${i}`);
    assert.equal(v.pages, 2);
    assert.equal(t.vmaOf(v.rec), v, 'one handle per record');
  }
});

test('records: a freed record is reused with its handle, and the file, ops and name of the old VMA are gone', () => {
  const mm = newMm();
  const f = makeFile('f0', 'memfd', 16, mm.config);
  const a = mm.newVma(0x1000, 0x1010, vma.VM_READ, f, 3, 0, '[heap]');
  a.ops = { name: 'test_ops', fault: () => 0 };
  mm.tree.insert(a);
  assert.deepEqual([a.file, a.name, a.ops?.name], [f, '[heap]', 'test_ops']);
  mm.removeVma(a);
  // vm_area_free() as the model does it: file and ops dropped, the numbers and name kept until reuse
  assert.deepEqual([a.start, a.end, a.file, a.ops, a.name], [0x1000, 0x1010, null, null, '[heap]']);
  const b = mm.newVma(0x2000, 0x2004, vma.VM_WRITE, null, 0);
  assert.equal(b, a, 'the freed record and its handle come back');
  assert.deepEqual([b.start, b.end, b.flags, b.file, b.name, b.ops], [0x2000, 0x2004, vma.VM_WRITE, null, null, null]);
});

test('the core and the JavaScript side agree on the vm_flags bits and record layout they share', () => {
  const x = new GapTree().x;
  const value = (name: string) => (x[name] as WebAssembly.Global).value;
  for (const name of ['VM_READ', 'VM_WRITE', 'VM_EXEC', 'VM_SHARED', 'VM_GROWSDOWN', 'VM_PFNMAP', 'VM_SHADOW_STACK', 'VM_IO', 'VM_DONTEXPAND', 'VM_ACCOUNT', 'VM_NORESERVE', 'VM_MIXEDMAP', 'X_FILE', 'X_OPS', 'X_NAME']) {
    assert.equal(value(name), (vma as unknown as Record<string, number>)[name], name);
  }
  const js = [8 * vma.D_START, 8 * vma.D_END, 8 * vma.D_PGOFF, 4 * vma.W_FLAGS, 4 * vma.W_ANON, 4 * vma.W_FILE, 4 * vma.W_EXTRA, 4 * vma.W_HANDLE];
  assert.deepEqual(['R_START', 'R_END', 'R_PGOFF', 'R_FLAGS', 'R_ANON', 'R_FILE', 'R_EXTRA', 'R_HANDLE'].map(value), js);
  assert.ok(4 * vma.W_HANDLE < value('REC_SIZE'), 'the handle index is inside the record');
});

test('a VMA that is not in the tree cannot be removed, moved or walked from: a clear error', () => {
  const t = new GapTree();
  const a = t.newVma(10, 20, 0, null, 0);
  t.insert(a);
  const b = t.newVma(30, 40, 0, null, 0);
  assert.throws(() => t.remove(b), /gap-tree: VMA not in the tree/);
  assert.throws(() => t.adjust(b, 30, 41), /gap-tree: VMA not in the tree/);
  assert.throws(() => t.next(b), /gap-tree: VMA not in the tree/);
  t.checkInvariants();
  assert.deepEqual(t.toArray(), [a]);
  // a record whose numbers changed behind the tree's back: the check names what is wrong
  t.f64[a.rec >>> 3] = 11;
  assert.throws(() => t.checkInvariants(), /^Error: gap-tree invariant: leaf copy of a VMA is stale$/);
});

test('a released mm hands its core to the next mm, which behaves exactly as one on a fresh core', async () => {
  const { sysMmap, sysMunmap } = await import('../src/mm/mmap.js');
  const { sysMprotect } = await import('../src/mm/mprotect.js');
  const { shmemZeroSetup } = await import('../src/kernels/linux-6.18.js');
  const Z = { pg: 0, sub: 0 };
  /** a seeded mix of anonymous mmaps (some MAP_FIXED, some populated), munmaps and mprotects */
  const run = (mm: ReturnType<typeof newMm>, seed: number, n: number) => {
    let x = seed >>> 0 || 1;
    const r = (k: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % k);
    const got: number[] = [];
    const placed: number[] = [];
    for (let i = 0; i < n; i++) {
      const len = { pg: 1 + r(6), sub: 0 };
      const k = r(10);
      if (k < 5 || placed.length === 0) {
        const fixed = k === 4 && placed.length > 0;
        const at = fixed ? { pg: placed[r(placed.length)] + r(3), sub: 0 } : Z;
        const flags = 0x22 | (fixed ? 0x10 : 0) | (r(4) === 0 ? 0x8000 : 0); // PRIVATE|ANONYMOUS, FIXED, POPULATE
        const a = sysMmap(mm, at, len, 1 + r(3), flags, null, Z, shmemZeroSetup);
        got.push(a);
        if (a >= 0) placed.push(a);
      } else if (k < 8) {
        got.push(sysMunmap(mm, { pg: placed[r(placed.length)] + r(2), sub: 0 }, len));
      } else {
        got.push(sysMprotect(mm, { pg: placed[r(placed.length)], sub: 0 }, len, r(4)));
      }
    }
    mm.tree.checkInvariants();
    const maps = mm.tree.toArray().map((v) => [v.start, v.end, v.flags, v.pgoff, v.anonVma]);
    // the same blocks handed out, in the same order: nothing of the last mm is reused
    return { got, maps, heapTop: mm.tree.x.heapTop() };
  };
  for (const seed of [1, 2, 3]) {
    // empty the pool of released cores (it keeps at most 8), so that the next mm is fresh
    const holders = Array.from({ length: 9 }, () => newMm());
    const fresh = run(newMm({ maxMapCount: 1 << 20 }), seed, 3000);
    // a used core: thousands of VMAs (its memory grew), then released
    const used = newMm({ maxMapCount: 1 << 20 });
    run(used, seed + 100, 6000);
    // and everything unmapped: its free lists of records and nodes are full when it goes
    assert.equal(sysMunmap(used, Z, { pg: used.taskSize, sub: 0 }), 0);
    assert.equal(used.mapCount, 0);
    const grown = used.tree.x.memory.buffer.byteLength;
    used.release();
    assert.throws(() => used.tree.count, /released/);
    const again = newMm({ maxMapCount: 1 << 20 });
    assert.equal(again.tree.x.memory.buffer.byteLength, grown, 'the next mm got the released core');
    assert.deepEqual(run(again, seed, 3000), fresh, `seed ${seed}`);
    again.release();
    void holders;
  }
});
