// When two VMAs may become one (mm/vma.c is_mergeable_vma, is_mergeable_anon_vma,
// can_vma_merge_before/after). Mempolicy, userfaultfd context and anon VMA names are
// not modelled: every VMA has the default ones, so they never block a merge.

import type { Vma } from './vma.js';
import type { KFile } from '../fs/file.js';

/** The attributes of the range that wants to merge (struct vma_merge_struct). */
export interface MergeCandidate {
  flags: number;
  file: KFile | null;
  anonVma: number;
  pgoff: number;
  pages: number;
}

/** is_mergeable_vma(): same flags (VM_SOFTDIRTY is not modelled) and same file. */
function isMergeableVma(tgt: Vma, c: MergeCandidate): boolean {
  return tgt.flags === c.flags && tgt.file === c.file;
}

/** anon_vmas are compatible when either is absent or both are the same (no fork here). */
export function anonVmaCompatible(a: number, b: number): boolean {
  return a === 0 || b === 0 || a === b;
}

/** can_vma_merge_after(): c may be appended to prev. */
export function canMergeAfter(prev: Vma, c: MergeCandidate): boolean {
  return isMergeableVma(prev, c) && anonVmaCompatible(prev.anonVma, c.anonVma) && prev.pgoff + prev.pages === c.pgoff;
}

/** can_vma_merge_before(): c may be prepended to next. */
export function canMergeBefore(next: Vma, c: MergeCandidate): boolean {
  return isMergeableVma(next, c) && anonVmaCompatible(next.anonVma, c.anonVma) && next.pgoff === c.pgoff + c.pages;
}
