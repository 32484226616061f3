// When two VMAs may become one (mm/vma.c is_mergeable_vma, is_mergeable_anon_vma,
// can_vma_merge_before/after). Mempolicy, userfaultfd context and anon VMA names are
// not modelled: every VMA has the default ones, so they never block a merge.

import type { Vma } from './vma.js';
import type { KFile } from '../fs/file.js';




/** anon_vmas are compatible when either is absent or both are the same (no fork here). */
export function anonVmaCompatible(a: number, b: number): boolean {
  return a === 0 || b === 0 || a === b;
}

// The range that wants to merge is given by its attributes (struct vma_merge_struct):
// vm_flags, file, anon_vma, pgoff and length in pages.
// is_mergeable_vma() is "same flags and same file" (VM_SOFTDIRTY is not modelled).

/** can_vma_merge_after(): the range may be appended to prev. */
export function canMergeAfter(prev: Vma, flags: number, file: KFile | null, anonVma: number, pgoff: number): boolean {
  return prev.flags === flags && prev.file === file && anonVmaCompatible(prev.anonVma, anonVma) && prev.pgoff + (prev.end - prev.start) === pgoff;
}

/** can_vma_merge_before(): the range may be prepended to next. */
export function canMergeBefore(next: Vma, flags: number, file: KFile | null, anonVma: number, pgoff: number, pages: number): boolean {
  return next.flags === flags && next.file === file && anonVmaCompatible(next.anonVma, anonVma) && next.pgoff === pgoff + pages;
}
