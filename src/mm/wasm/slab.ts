// The mm's own linear memory (AssemblyScript, compiled ahead of time to WebAssembly). Tree
// nodes and VMA records are fixed-size blocks taken from per-kind free lists, as the kernel
// takes maple nodes and vm_area_structs from their kmem caches. Each mm has its own
// instance, so its memory goes when the mm goes.

/** Tells the JavaScript side that the memory grew (its views of the old buffer are dead). */
@external("env", "grew")
declare function grew(): void;

let top: usize = 0;

/** size bytes (a multiple of 64) past the last block handed out, 64-byte aligned. */
export function bump(size: usize): usize {
  if (top == 0) top = (__heap_base + 63) & ~(<usize>63);
  const p = top;
  const end = p + size;
  const have = (<usize>memory.size()) << 16;
  if (end > have) {
    let pages = <i32>((end - have + 0xffff) >> 16);
    const quarter = memory.size() >> 2; // grow by a quarter at least: few growths, few view refreshes
    if (pages < quarter) pages = quarter;
    if (memory.grow(pages) < 0) unreachable();
    grew();
  }
  top = end;
  return p;
}
