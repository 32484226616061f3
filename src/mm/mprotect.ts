// The mprotect() system call (mm/mprotect.c do_mprotect_pkey, mprotect_fixup;
// mm/vma.c vma_modify_flags → vma_merge_existing_range or split).

import type { MmStruct } from './mm.js';
import { type Vma, VM_ACCESS_FLAGS, VM_ACCOUNT, VM_HUGETLB, VM_NORESERVE, VM_SHARED, VM_SPECIAL, VM_WRITE, vmaIsAnonymous } from './vma.js';
import { canMergeAfter, canMergeBefore, anonVmaCompatible } from './vma-merge.js';
import { splitVma } from './vma-ops.js';
import { EACCES, EINVAL, ENOMEM } from './uapi.js';
import { pageAlignUp, type Split } from '../lib/u64.js';

/** sys_mprotect() → do_mprotect_pkey(). VMAs before a hole keep their new protection. */
export function sysMprotect(mm: MmStruct, startIn: Split, lenIn: Split, prot: number): number {
  if (startIn.sub !== 0) return -EINVAL;
  if (lenIn.pg === 0 && lenIn.sub === 0) return 0;
  const start = startIn.pg;
  const len = pageAlignUp(lenIn);
  const end = start + len;
  if (len >= mm.arch.pages2_64 || end >= mm.arch.pages2_64) return -ENOMEM; // end <= start: wrapped
  if (prot & ~7) return -EINVAL; // arch_validate_prot(); PROT_SEM etc. are not modelled

  let vma = mm.findVmaIntersection(start, end);
  if (vma === null || vma.start > start) return -ENOMEM;
  let prev: Vma | null = start > vma.start ? vma : mm.tree.prevOf(vma.start);
  let tmp = vma.start;
  let nstart = start;
  while (vma !== null && vma.start < end) {
    if (vma.start !== tmp) return -ENOMEM;
    const newflags = (prot & 7) | (vma.flags & ~VM_ACCESS_FLAGS);
    // newflags >> 4 moves the VM_MAY* bits onto VM_*: asking more than VM_MAY* allows
    if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) return -EACCES;
    tmp = vma.end < end ? vma.end : end;
    const r = mprotectFixup(mm, vma, prev, nstart, tmp, newflags);
    if (typeof r === 'number') return r;
    prev = r;
    tmp = r.end;
    nstart = tmp;
    vma = mm.tree.next(r);
  }
  if (tmp < end) return -ENOMEM;
  return 0;
}

/** mprotect_fixup(): returns the VMA now covering [start, end) (possibly merged), or -errno. */
function mprotectFixup(mm: MmStruct, vma: Vma, prev: Vma | null, start: number, end: number, newflags: number): Vma | number {
  const oldflags = vma.flags;
  if (newflags === oldflags) return vma;
  const pages = end - start;
  if (newflags & VM_WRITE) {
    // A private mapping turning writable is charged once.
    if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
      if (!mm.enoughMemory(pages)) return -ENOMEM;
      newflags |= VM_ACCOUNT;
    }
  } else if (oldflags & VM_ACCOUNT && vmaIsAnonymous(vma) && vma.anonVma === 0) {
    // Never faulted anonymous memory gives its charge back.
    newflags &= ~VM_ACCOUNT;
  }
  const r = vmaModifyFlags(mm, vma, prev, start, end, newflags);
  // change_protection(): a huge pfnmap leaf reaching outside [start, end) is zapped whole
  // (a split at a PMD-aligned address inside a PUD leaf leaves the leaf across two VMAs)
  if (typeof r !== 'number' && r.ops !== null) mm.pgtables.splitPartialLeaves(start, end);
  return r;
}

/**
 * vma_modify_flags(): [start, end) of vma takes newflags — merged into a neighbour when
 * they match (vma_merge_existing_range), else split off (vma_modify). The VMA now covering
 * the range, or -ENOMEM at the map_count limit.
 */
export function vmaModifyFlags(mm: MmStruct, vma: Vma, prev: Vma | null, start: number, end: number, newflags: number): Vma | number {
  const merged = mergeExistingRange(mm, vma, prev, start, end, newflags);
  if (merged !== null) return merged;
  let v = vma;
  if (v.start < start) {
    if (mm.mapCount >= mm.config.maxMapCount) return -ENOMEM;
    v = splitVma(mm, v, start);
  }
  if (v.end > end) {
    if (mm.mapCount >= mm.config.maxMapCount) return -ENOMEM;
    splitVma(mm, v, end);
  }
  v.flags = newflags;
  return v;
}

/**
 * vma_merge_existing_range(): [start, end) of `middle` takes `newflags`; merge it into
 * prev and/or next when they match. Null when nothing merges.
 */
function mergeExistingRange(mm: MmStruct, middle: Vma, prev: Vma | null, start: number, end: number, newflags: number): Vma | null {
  if (newflags & VM_SPECIAL) return null;
  const leftSide = start === middle.start;
  const rightSide = end === middle.end;
  if (!leftSide && !rightSide) return null;
  const pgoff = middle.pgoff + (start - middle.start);
  const mergeLeft = leftSide && prev !== null && prev !== middle && prev.end === start && canMergeAfter(prev, newflags, middle.file, middle.anonVma, pgoff);
  let next: Vma | null = null;
  let mergeRight = false;
  if (rightSide) {
    next = mm.tree.next(middle);
    mergeRight = next !== null && next.start === end && canMergeBefore(next, newflags, middle.file, middle.anonVma, pgoff, end - start);
    if (mergeRight && mergeLeft && !anonVmaCompatible(mm.tree, prev!.anonVma, next!.anonVma)) mergeRight = false;
  }
  if (!mergeLeft && !mergeRight) return null;

  if (mergeLeft && mergeRight) {
    // prev absorbs middle and next
    const p = prev!;
    const n = next!;
    if (p.anonVma === 0) p.anonVma = middle.anonVma || n.anonVma;
    mm.removeVma(middle);
    mm.removeVma(n);
    mm.tree.adjust(p, p.start, n.end);
    return p;
  }
  if (mergeLeft) {
    const p = prev!;
    if (p.anonVma === 0) p.anonVma = middle.anonVma;
    if (rightSide) mm.removeVma(middle);
    else {
      middle.pgoff += end - middle.start;
      mm.tree.adjust(middle, end, middle.end);
    }
    mm.tree.adjust(p, p.start, end);
    return p;
  }
  const n = next!;
  if (n.anonVma === 0) n.anonVma = middle.anonVma;
  if (leftSide) mm.removeVma(middle);
  else mm.tree.adjust(middle, middle.start, start);
  n.pgoff = pgoff;
  mm.tree.adjust(n, start, n.end);
  return n;
}
