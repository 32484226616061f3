// The mm_struct's numbers the core reads, set once when the mm is made (src/mm/mm.ts).

export const ENOMEM: i32 = 12;
export const EINVAL: i32 = 22;

/** mmap_min_addr, pages */
export let mmapMinAddr: f64 = 0;
/** stack_guard_gap, pages */
export let stackGuardGap: f64 = 0;
/** TASK_SIZE, pages */
export let taskSize: f64 = 0;
/** vm.max_map_count */
export let maxMapCount: f64 = 0;
/** vm.overcommit_memory, and the commit limit the model charges against (pages) */
export let overcommitMemory: i32 = 0;
export let commitPages: f64 = 0;
let anonVmaSeq: i32 = 0;

export function mmInit(minAddr: f64, guardGap: f64, task: f64, maxMaps: f64, overcommit: i32, commit: f64): void {
  mmapMinAddr = minAddr;
  stackGuardGap = guardGap;
  taskSize = task;
  maxMapCount = maxMaps;
  overcommitMemory = overcommit;
  commitPages = commit;
}

export function mmReset(): void {
  mmInit(0, 0, 0, 0, 0, 0);
  anonVmaSeq = 0;
}

/** A new anon_vma's identity. */
export function newAnonVma(): i32 {
  return ++anonVmaSeq;
}

/**
 * __vm_enough_memory() for a charge of `pages` (security_vm_enough_memory_mm).
 * OVERCOMMIT_NEVER would need the committed total; the model treats it like GUESS.
 */
export function enoughMemory(pages: f64): bool {
  return overcommitMemory == 1 ? true : pages <= commitPages;
}
