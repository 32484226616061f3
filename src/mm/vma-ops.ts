// Splitting and unmapping VMAs (mm/vma.c __split_vma, vms_gather_munmap_vmas).

import type { MmStruct } from './mm.js';
import type { Vma } from './vma.js';
import { SLOT_LEAF } from './pgtable.js';

/**
 * vma_adjust_trans_huge() at a split address: a PMD leaf across it is zapped whole (the
 * rest refaults); inside a PUD leaf, a split that is not PMD aligned walks the PUD leaf
 * as if it were a PMD table (split_huge_pmd_address → mm_find_pmd) — a kernel oops.
 */
function splitHugeAt(mm: MmStruct, addr: number): void {
  const pt = mm.pgtables;
  const pmd = pt.pmdPages;
  const slot = pt.pudSlot(addr);
  if (slot === undefined) return;
  if (typeof slot === 'number') {
    if (addr % pmd !== 0 && mm.config.hazards.pudSplit) mm.hazard = 'pmd-split-in-pud-leaf';
    return;
  }
  if (slot.kind[Math.floor(addr / pmd) % pt.n] === SLOT_LEAF && addr % pmd !== 0) {
    const b = Math.floor(addr / pmd) * pmd;
    pt.zap(b, b + pmd);
  }
}

/** __split_vma(): cut v at addr; v keeps [start, addr), the new VMA [addr, end) is returned. */
export function splitVma(mm: MmStruct, v: Vma, addr: number): Vma {
  if (v.ops !== null && mm.pgtables.pud.size > 0) splitHugeAt(mm, addr);
  const upper = mm.newVma(addr, v.end, v.flags, v.file, v.pgoff + (addr - v.start), v.anonVma, v.name);
  upper.ops = v.ops;
  mm.tree.adjust(v, v.start, addr);
  mm.tree.insert(upper);
  return upper;
}

/**
 * vms_gather_munmap_vmas(): split the VMAs at the edges of [start, end) and gather the
 * ones inside, in order (still in the tree), into mm.gathered[0, n); returns n. Returns -1
 * with ENOMEM semantics when the first split would take map_count over the limit. The list
 * is reused and not trimmed: entries from n on are stale.
 */
export function gatherMunmapVmas(mm: MmStruct, first: Vma, start: number, end: number): number {
  let v: Vma | null = first;
  if (v.start < start) {
    // Only a split that leaves pieces on both sides is checked against max_map_count.
    if (end < v.end && mm.mapCount >= mm.config.maxMapCount) return -1;
    v = splitVma(mm, v, start);
  }
  const out = mm.gathered;
  let n = 0;
  while (v !== null && v.start < end) {
    if (v.end > end) splitVma(mm, v, end);
    if (n < out.length) out[n] = v;
    else out.push(v);
    n++;
    if (v.end >= end) break; // what follows starts at or after end
    v = mm.tree.next(v);
  }
  return n;
}
