// Changing the VMA list: mmap_region, munmap, splits and merges (mm/vma.c __mmap_region,
// vma_merge_new_range, __split_vma, vms_gather_munmap_vmas, vms_complete_munmap_vmas,
// do_vmi_munmap; mm/rmap.c anon_vma_prepare). Addresses are page numbers; results 0 or
// -errno. What only the JavaScript side knows — files and their ->mmap, page tables — it
// does when called back.

import { bump } from './slab';
import {
  newVma, freeVma, rStart, rEnd, rPgoff, rFlags, rAnon, rFile, rExtra, setPgoff, setAnon,
  VM_ACCESS_FLAGS, VM_ACCOUNT, VM_NORESERVE, VM_SHARED, VM_SPECIAL, VM_WRITE, X_OPS,
} from './vma';
import {
  insert, remove, adjust, findVma, findVmaInGap, startOfFound, endOfFound, endOfPrevFound, prevOfFound, prevOf, next, count,
} from './tree';
import { enoughMemory, maxMapCount, newAnonVma, taskSize, ENOMEM, EINVAL } from './mm';

/** vma_adjust_trans_huge() at a split address of a VMA with vm_ops (src/mm/vma-ops.ts). */
@external("env", "splitHuge")
declare function splitHuge(v: usize, addr: f64): void;
/** A split-off VMA takes the file, vm_ops and name of the one it came from. */
@external("env", "copyExtras")
declare function copyExtras(to: usize, from: usize): void;
/** unmap_region(): zap and free the page tables of [start, end) the VMAs left. */
@external("env", "unmapPageTables")
declare function unmapPageTables(start: f64, end: f64): void;
/** A new file-backed or shared anonymous VMA, before it enters the tree: the file, ->mmap. 0 or -errno. */
@external("env", "mmapFile")
declare function mmapFile(v: usize, len: f64): i32;

// ---- merge rules (mm/vma.c is_mergeable_vma, is_mergeable_anon_vma, can_vma_merge_*) -------
// Mempolicy, userfaultfd context and anon VMA names are not modelled: every VMA has the
// default ones, so they never block a merge. is_mergeable_vma() is "same flags and same
// file" (VM_SOFTDIRTY is not modelled). The range that wants to merge is given by its
// attributes (struct vma_merge_struct): vm_flags, file, anon_vma, pgoff and length.

/** anon_vmas are compatible when either is absent or both are the same (no fork here). */
@inline export function anonVmaCompatible(a: i32, b: i32): bool {
  return a == 0 || b == 0 || a == b;
}

/** can_vma_merge_after(): the range may be appended to prev. */
export function canMergeAfter(prev: usize, flags: i32, file: i32, anonVma: i32, pgoff: f64): bool {
  return rFlags(prev) == flags && rFile(prev) == file && anonVmaCompatible(rAnon(prev), anonVma) && rPgoff(prev) + (rEnd(prev) - rStart(prev)) == pgoff;
}

/** can_vma_merge_before(): the range may be prepended to next. */
export function canMergeBefore(nxt: usize, flags: i32, file: i32, anonVma: i32, pgoff: f64, pages: f64): bool {
  return rFlags(nxt) == flags && rFile(nxt) == file && anonVmaCompatible(rAnon(nxt), anonVma) && rPgoff(nxt) == pgoff + pages;
}

// ---- the gathered list ---------------------------------------------------------------------

/** What vms_gather_munmap_vmas() collected: records, in order. Grows, never shrinks. */
let gathered: usize = 0;
let gatheredCap: i32 = 0;

export function mmapReset(): void {
  gathered = 0;
  gatheredCap = 0;
}

@inline function gatheredAt(i: i32): usize {
  return load<u32>(gathered + (<usize>i << 2));
}

function gatheredPut(i: i32, v: usize): void {
  if (i >= gatheredCap) {
    const cap = gatheredCap == 0 ? 64 : gatheredCap * 2;
    const b = bump(<usize>cap << 2);
    if (gatheredCap > 0) memory.copy(b, gathered, <usize>gatheredCap << 2);
    gathered = b;
    gatheredCap = cap;
  }
  store<u32>(gathered + (<usize>i << 2), <u32>v);
}

// ---- splits and removal ---------------------------------------------------------------------

/** Take v out of the tree and free it (vma_complete / vm_area_free). */
export function removeVma(v: usize): void {
  remove(v);
  freeVma(v);
}

/** __split_vma(): cut v at addr; v keeps [start, addr), the new VMA [addr, end) is returned. */
export function splitVma(v: usize, addr: f64): usize {
  const extra = rExtra(v);
  if (extra & X_OPS) splitHuge(v, addr);
  const upper = newVma(addr, rEnd(v), rFlags(v), rFile(v), rPgoff(v) + (addr - rStart(v)), rAnon(v), extra);
  if (extra != 0) copyExtras(upper, v);
  adjust(v, rStart(v), addr);
  insert(upper);
  return upper;
}

/**
 * vms_gather_munmap_vmas(): split the VMAs at the edges of [start, end) and gather the ones
 * inside, in order (still in the tree); returns how many. -1 (ENOMEM) when the first split
 * would take map_count over the limit.
 */
export function gatherMunmapVmas(first: usize, start: f64, end: f64): i32 {
  let v = first;
  if (rStart(v) < start) {
    // Only a split that leaves pieces on both sides is checked against max_map_count.
    if (end < rEnd(v) && <f64>count >= maxMapCount) return -1;
    v = splitVma(v, start);
  }
  let n = 0;
  while (v != 0 && rStart(v) < end) {
    if (rEnd(v) > end) splitVma(v, end);
    gatheredPut(n, v);
    n++;
    if (rEnd(v) >= end) break; // what follows starts at or after end
    v = next(v);
  }
  return n;
}

/** vms_complete_munmap_vmas(): the gathered VMAs leave the tree, then their page tables go. */
function completeMunmap(n: i32, start: f64, end: f64): void {
  for (let i = 0; i < n; i++) removeVma(gatheredAt(i));
  unmapPageTables(start, end);
}

// ---- mmap_region ---------------------------------------------------------------------------

/** accountable_mapping(): private writable memory is charged to overcommit. */
@inline function accountableMapping(vmFlags: i32): bool {
  return (vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE;
}

/** __mmap_region(): replace whatever is in [addr, addr+len), merge or insert. */
export function mmapRegion(addr: f64, len: f64, vmFlags: i32, file: i32, pgoff: f64): i32 {
  const end = addr + len;
  // __mmap_setup(): gather (and split at the edges) what MAP_FIXED replaces: the replaced
  // VMAs are gathered[0, nOld); usually the range is inside the gap the placement search
  // just found: no descent then
  let nOld = 0;
  const first = findVmaInGap(addr);
  if (first != 0 && startOfFound(first) < end) {
    nOld = gatherMunmapVmas(first, addr, end);
    if (nOld < 0) return -ENOMEM;
  }
  if (accountableMapping(vmFlags)) {
    let nrAccounted: f64 = 0;
    for (let i = 0; i < nOld; i++) {
      const o = gatheredAt(i);
      if (rFlags(o) & VM_ACCOUNT) nrAccounted += rEnd(o) - rStart(o);
    }
    const charged = len - nrAccounted;
    // On failure the old VMAs are put back as they are now: split, not re-merged.
    if (charged > 0 && !enoughMemory(charged)) return -ENOMEM;
    vmFlags |= VM_ACCOUNT;
  }
  if (nOld > 0) completeMunmap(nOld, addr, end);

  // vma_merge_new_range(). A shared anonymous mapping gets its file only later
  // (shmem_zero_setup), so here it has none, and no neighbour can match it. With nothing
  // replaced the tree is as findVma() left it: first (if any) starts above addr and is the
  // next VMA.
  const prev = nOld == 0 ? prevOfFound(addr) : prevOf(addr);
  const nxt = nOld == 0 ? first : findVma(addr);
  if (!(vmFlags & VM_SPECIAL) && (prev != 0 || nxt != 0)) {
    // prev.end and next.start from the tree's leaf where it knows them (next was found last)
    const mergeLeft = prev != 0 && endOfPrevFound(prev) == addr && canMergeAfter(prev, vmFlags, file, 0, pgoff);
    let mergeRight = nxt != 0 && startOfFound(nxt) == end && canMergeBefore(nxt, vmFlags, file, 0, pgoff, len);
    if (mergeRight && mergeLeft && !anonVmaCompatible(rAnon(prev), rAnon(nxt))) mergeRight = false;
    if (mergeLeft) {
      if (mergeRight) {
        const newEnd = rEnd(nxt);
        if (rAnon(prev) == 0) setAnon(prev, rAnon(nxt));
        removeVma(nxt);
        adjust(prev, rStart(prev), newEnd);
      } else {
        adjust(prev, rStart(prev), end);
      }
      return 0;
    }
    if (mergeRight) {
      setPgoff(nxt, pgoff);
      adjust(nxt, addr, rEnd(nxt));
      return 0;
    }
  }
  // __mmap_new_vma(). shmem_zero_setup() charges the shmem file unless VM_NORESERVE;
  // failing here, after the old range was cleared, leaves the range empty.
  const sharedAnon = file == 0 && (vmFlags & VM_SHARED) != 0;
  if (sharedAnon && !(vmFlags & VM_NORESERVE) && !enoughMemory(len)) return -ENOMEM;
  const vma = newVma(addr, end, vmFlags, file, pgoff, 0, 0);
  if (file != 0 || sharedAnon) {
    // ->mmap runs before the VMA is in the tree; failing here leaves the range empty
    const err = mmapFile(vma, len);
    if (err < 0) {
      freeVma(vma);
      return err;
    }
  }
  insert(vma);
  return 0;
}

// ---- munmap ---------------------------------------------------------------------------------

/** sys_munmap() → __vm_munmap() → do_vmi_munmap(); the arguments as page numbers and sub-page bits. */
export function munmap(startPg: f64, startSub: f64, lenPg: f64, lenSub: f64): i32 {
  const ts = taskSize;
  if (startSub != 0 || startPg > ts) return -EINVAL;
  // len > TASK_SIZE - start, on the raw length
  if (lenPg > ts - startPg || (lenPg == ts - startPg && lenSub != 0)) return -EINVAL;
  const pages = lenSub == 0 ? lenPg : lenPg + 1;
  if (pages == 0) return -EINVAL;
  const end = startPg + pages;
  const first = findVma(startPg);
  if (first == 0) return 0;
  // its bounds from the tree's leaf (the record need not be read)
  const firstStart = startOfFound(first);
  if (firstStart >= end) return 0; // find_vma_intersection() found none
  if (firstStart >= startPg && endOfFound(first) == end) {
    // exactly one VMA, whole: nothing to split, nothing follows inside the range
    gatheredPut(0, first);
    completeMunmap(1, startPg, end);
    return 0;
  }
  const n = gatherMunmapVmas(first, startPg, end);
  if (n < 0) return -ENOMEM;
  completeMunmap(n, startPg, end);
  return 0;
}

// ---- populate ------------------------------------------------------------------------------

/**
 * mm_populate() of a new mapping at addr: faulting the pages in gives a private writable
 * mapping its anon_vma (a write fault breaks COW); read faults map the zero page or the page
 * cache.
 */
export function populate(addr: f64): void {
  const v = findVma(addr);
  if (v == 0 || rStart(v) > addr) return;
  if ((rFlags(v) & (VM_WRITE | VM_SHARED)) == VM_WRITE && rAnon(v) == 0) setAnon(v, anonVmaPrepare(v));
}

/**
 * anon_vma_prepare() → find_mergeable_anon_vma(): a VMA faulted for the first time shares the
 * anon_vma of a neighbour it could merge with but for its access flags (next first, then
 * prev), so the two can merge later; otherwise it gets a new one.
 */
function anonVmaPrepare(v: usize): i32 {
  const nx = next(v);
  if (nx != 0 && rAnon(nx) != 0 && anonVmaReusable(v, nx)) return rAnon(nx);
  const pv = prevOf(rStart(v));
  if (pv != 0 && rAnon(pv) != 0 && anonVmaReusable(pv, v)) return rAnon(pv);
  return newAnonVma();
}

/** anon_vma_compatible(a, b): b follows a and differs at most in VM_READ/WRITE/EXEC. */
function anonVmaReusable(a: usize, b: usize): bool {
  return rEnd(a) == rStart(b) && rFile(a) == rFile(b) && ((rFlags(a) ^ rFlags(b)) & ~VM_ACCESS_FLAGS) == 0 && rPgoff(b) == rPgoff(a) + (rStart(b) - rStart(a));
}
