// Splitting VMAs (mm/vma.c __split_vma): the cut is the core's, the page tables are ours.

import type { MmStruct } from './mm.js';
import type { Vma } from './vma.js';
import { SLOT_LEAF } from './pgtable.js';

/**
 * vma_adjust_trans_huge() at a split address: a PMD leaf across it is zapped whole (the
 * rest refaults); inside a PUD leaf, a split that is not PMD aligned walks the PUD leaf
 * as if it were a PMD table (split_huge_pmd_address → mm_find_pmd) — a kernel oops.
 */
export function splitHugeAt(mm: MmStruct, addr: number): void {
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

/**
 * __split_vma() in the core (src/mm/wasm/mmap.ts): cut v at addr; v keeps [start, addr), the
 * new VMA [addr, end) is returned. A VMA with vm_ops gets splitHugeAt() first.
 */
export function splitVma(mm: MmStruct, v: Vma, addr: number): Vma {
  return mm.tree.vmaOf(mm.tree.x.splitVma(v.rec, addr));
}
