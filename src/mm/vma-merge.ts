// When two VMAs may become one (mm/vma.c is_mergeable_vma, is_mergeable_anon_vma,
// can_vma_merge_before/after): the rules are the core's (src/mm/wasm/mmap.ts), asked here
// for mprotect's and madvise's merges.

import type { Vma } from './vma.js';
import type { KFile } from '../fs/file.js';
import type { GapTree } from './gap-tree.js';

/** anon_vmas are compatible when either is absent or both are the same (no fork here). */
export function anonVmaCompatible(t: GapTree, a: number, b: number): boolean {
  return t.x.anonVmaCompatible(a, b) !== 0;
}

// The range that wants to merge is given by its attributes (struct vma_merge_struct):
// vm_flags, file, anon_vma, pgoff and length in pages.

/** can_vma_merge_after(): the range may be appended to prev. */
export function canMergeAfter(prev: Vma, flags: number, file: KFile | null, anonVma: number, pgoff: number): boolean {
  const t = prev.tree;
  return t.x.canMergeAfter(prev.rec, flags, t.keyOf(file), anonVma, pgoff) !== 0;
}

/** can_vma_merge_before(): the range may be prepended to next. */
export function canMergeBefore(next: Vma, flags: number, file: KFile | null, anonVma: number, pgoff: number, pages: number): boolean {
  const t = next.tree;
  return t.x.canMergeBefore(next.rec, flags, t.keyOf(file), anonVma, pgoff, pages) !== 0;
}
