// The core of one mm, compiled ahead of time to WebAssembly: its VMA records, the gap tree
// that indexes them, the free-area search, and mmap_region / munmap with their splits and
// merges. The JavaScript side (src/mm/gap-tree.ts, src/mm/mm.ts, src/mm/mmap.ts) makes one
// instance per mm and keeps everything else: argument checks, the placement policy and its
// hooks, files, drivers, page tables.

import { bump, slabReset } from './slab';
export { heapTop, FAIL_NO_MEMORY, FAIL_NOT_IN_TREE } from './slab';
import { vmaReset } from './vma';
import { treeReset } from './tree';
import { mmReset } from './mm';
import { mmapReset } from './mmap';

export {
  R_START, R_END, R_PGOFF, R_FLAGS, R_ANON, R_FILE, R_EXTRA, R_HANDLE, REC_SIZE, X_FILE, X_OPS, X_NAME,
  VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_GROWSDOWN, VM_PFNMAP, VM_SHADOW_STACK, VM_IO, VM_DONTEXPAND, VM_ACCOUNT,
  VM_NORESERVE, VM_MIXEDMAP, newVma,
} from './vma';
export {
  treeInit, insert, remove, adjust, findVma, findVmaInGap, startOfFound, endOfFound, endOfPrevFound, prevOfFound, next,
  prevOf, first, toArray, checkInvariants, lowestGap, highestGap,
  BAD_EMPTY_LEAF, BAD_HOLE_EDGE, BAD_HOLE, BAD_STALE, BAD_EMPTY_VMA, BAD_LEAF_ORDER, BAD_EMPTY_INNER, BAD_SUMMARY,
  BAD_CHILD_ORDER, BAD_COUNT,
} from './tree';
export { mmInit, newAnonVma, enoughMemory } from './mm';
export { vmStartGap, unmappedArea, unmappedAreaTopdown } from './unmapped';
export { anonVmaCompatible, canMergeAfter, canMergeBefore, removeVma, splitVma, gatherMunmapVmas, mmapRegion, munmap, populate } from './mmap';
import { count, height, gapA, gapB, gapNext } from './tree';

/** The tree's count, height and last search result, for the JavaScript side to read. */
export function mapCount(): i32 {
  return count;
}
export function levels(): i32 {
  return height + 1;
}
export function lastGapA(): f64 {
  return gapA;
}
export function lastGapB(): f64 {
  return gapB;
}
export function lastGapNext(): usize {
  return gapNext;
}

let scratchAt: usize = 0;
let scratchSize: usize = 0;

/**
 * The instance as a fresh one would be, for a new mm (instantiating costs about 100 µs, more
 * than a sweep case's mm does): every module's globals back to their first values and every
 * block of memory zeroed. The memory keeps its size.
 */
export function reset(): void {
  slabReset();
  vmaReset();
  treeReset();
  mmReset();
  mmapReset();
  scratchAt = 0;
  scratchSize = 0;
}

/** A buffer of at least `bytes` bytes for results such as toArray(); reused, so valid until the next call. */
export function scratch(bytes: usize): usize {
  if (bytes > scratchSize) {
    scratchSize = (bytes + 4095) & ~(<usize>4095);
    scratchAt = bump(scratchSize);
  }
  return scratchAt;
}
