import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arm64Leaves, arm64BestLeaf, MiB, GiB, KiB } from '../src/arch/arm64.js';

test('arm64 leaf sizes per granule, with what huge pfnmaps can use', () => {
  const show = (g: '4K' | '16K' | '64K') => arm64Leaves(g).map((l) => `${l.kind}:${l.bytes}:${l.pfnmap}`);
  assert.deepEqual(show('4K'), [`PTE:${4 * KiB}:supported`, `CONT_PTE:${64 * KiB}:proposed`, `PMD:${2 * MiB}:supported`, `CONT_PMD:${32 * MiB}:proposed`, `PUD:${GiB}:not supported`]);
  assert.deepEqual(show('16K'), [`PTE:${16 * KiB}:supported`, `CONT_PTE:${2 * MiB}:proposed`, `PMD:${32 * MiB}:supported`, `CONT_PMD:${GiB}:proposed`]);
  assert.deepEqual(show('64K'), [`PTE:${64 * KiB}:supported`, `CONT_PTE:${2 * MiB}:proposed`, `PMD:${512 * MiB}:supported`, `CONT_PMD:${16 * GiB}:proposed`]);
});

test('a 128 GiB BAR on arm64: PMD leaves today, contiguous PMDs only as proposed', () => {
  assert.equal(arm64BestLeaf('4K', 128 * GiB).today.kind, 'PMD');
  assert.equal(arm64BestLeaf('4K', 128 * GiB).proposed.kind, 'CONT_PMD');
  assert.equal(arm64BestLeaf('16K', 128 * GiB).proposed.bytes, GiB);
  assert.equal(arm64BestLeaf('64K', 16 * KiB).today.kind, 'PTE');
});
