// The mm's own linear memory (AssemblyScript, compiled ahead of time to WebAssembly). Tree
// nodes and VMA records are fixed-size blocks taken from per-kind free lists, as the kernel
// takes maple nodes and vm_area_structs from their kmem caches. Each mm has its own
// instance, so its memory goes when the mm goes.

/** Tells the JavaScript side that the memory grew (its views of the old buffer are dead). */
@external("env", "grew")
declare function grew(): void;

/** Throws on the JavaScript side, with a message for the code (FAIL_*): the core cannot go on. */
@external("env", "fail")
export declare function fail(code: i32): void;
export const FAIL_NO_MEMORY = 1;
export const FAIL_NOT_IN_TREE = 2;

let top: usize = 0;

/** An mm's instance handed to a new mm: every block goes, zeroed (see reset() in index.ts). */
export function slabReset(): void {
  if (top != 0) {
    const base = (__heap_base + 63) & ~(<usize>63);
    memory.fill(base, 0, top - base);
  }
  top = 0;
}

/** The end of the blocks handed out so far (tests: a reused instance allocates as a fresh one). */
export function heapTop(): usize {
  return top;
}

/** size bytes (a multiple of 64) past the last block handed out, 64-byte aligned. */
export function bump(size: usize): usize {
  if (top == 0) top = (__heap_base + 63) & ~(<usize>63);
  const p = top;
  const end = <u64>p + <u64>size;
  const have = (<u64>memory.size()) << 16; // (4 GiB does not fit a usize)
  if (end > have) {
    const need = <i32>((end - have + 0xffff) >> 16);
    // grow by a quarter at least: few growths, few view refreshes; near the 4 GiB limit,
    // by what is needed
    const quarter = memory.size() >> 2;
    if (quarter <= need || memory.grow(quarter) < 0) {
      if (memory.grow(need) < 0) {
        fail(FAIL_NO_MEMORY);
        unreachable();
      }
    }
    grew();
  }
  top = <usize>end;
  return p;
}
