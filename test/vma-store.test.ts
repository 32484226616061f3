import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Vma, VmaStore } from '../src/mm/vma.js';

test('VmaStore: every VMA keeps its own start, end and pgoff across chunks, exact above 2^31 and near 2^52', () => {
  const store = new VmaStore();
  const vmas: Vma[] = [];
  const top = 2 ** 52 - 1;
  for (let i = 0; i < 10_000; i++) vmas.push(new Vma(top - 3 * i - 2, top - 3 * i, i, null, 2 ** 40 + i, 0, null, store));
  // writes through one VMA leave its neighbours in the chunk alone
  vmas[4096].start -= 1;
  vmas[4096].pgoff = 7;
  vmas[4095].end = top;
  for (let i = 0; i < vmas.length; i++) {
    const v = vmas[i];
    assert.equal(v.start, top - 3 * i - 2 - (i === 4096 ? 1 : 0), `start ${i}`);
    assert.equal(v.end, i === 4095 ? top : top - 3 * i, `end ${i}`);
    assert.equal(v.pgoff, i === 4096 ? 7 : 2 ** 40 + i, `pgoff ${i}`);
    assert.equal(v.pages, v.end - v.start);
  }
  // a pooled VMA reused by reinit keeps its slot
  const r = vmas[5].reinit(10, 20, 0, null, 30, 0, null);
  assert.deepEqual([r.start, r.end, r.pgoff, vmas[4].start, vmas[6].end], [10, 20, 30, top - 14, top - 18]);
});
