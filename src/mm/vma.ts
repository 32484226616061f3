// The VMA: one mapped range of an address space (include/linux/mm_types.h vm_area_struct).
// Addresses are page numbers (src/lib/u64.ts). While a Vma is in a gap tree its start and
// end may only change through GapTree.adjust(), which keeps the tree's copies in step.

import type { KFile } from '../fs/file.js';
import type { VmOps } from './memory.js';

// vm_flags bits, with the kernel's values (include/linux/mm.h).
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_PFNMAP = 0x400;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_DONTEXPAND = 0x40000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_HUGETLB = 0x400000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;
export const VM_DONTDUMP = 0x4000000;
// VM_SHADOW_STACK is a high bit in the kernel; any free bit serves the model.
export const VM_SHADOW_STACK = 0x800;

export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
export const VM_STARTGAP_FLAGS = VM_GROWSDOWN | VM_SHADOW_STACK;
/** VM_SPECIAL: mappings that are never merged. */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

/**
 * Where VMAs keep their page numbers: start, end and pgoff side by side in Float64Array
 * chunks (a VMA's three numbers share a cache line). A page number above 2^31 in an object
 * field would be a boxed heap number (16 bytes and an allocation each); here it is 8 bytes.
 * Chunks are never grown or copied: a full one is followed by a new one, up to 4096 VMAs
 * each. A store belongs to one mm; a slot stays with its Vma for the Vma's life (freed VMAs
 * are pooled and reused, slot and all).
 */
export class VmaStore {
  /** the chunk new slots come from */
  chunk = new Float64Array(3 * 16);
  private used = 0;

  /** a new slot in `chunk`: the index of its start */
  alloc(): number {
    if (this.used === this.chunk.length) {
      this.chunk = new Float64Array(Math.min(2 * this.chunk.length, 3 * 4096));
      this.used = 0;
    }
    const at = this.used;
    this.used += 3;
    return at;
  }
}

/** The store of VMAs made outside an mm (tests, tools). */
const LOOSE = new VmaStore();

export class Vma {
  // Fields are set in the constructor, in one order and with their final kinds of value,
  // so every Vma has one hidden class. start, end and pgoff live in the store.
  /** the store chunk holding this VMA's numbers, and the index of its start (end and pgoff follow) */
  declare readonly chunk: Float64Array;
  declare readonly at: number;
  declare flags: number;
  declare file: KFile | null;
  /** Identity of the anon_vma (0: none yet). Copied on split, shared by merged VMAs. */
  declare anonVma: number;
  /** /proc/pid/maps name of an anonymous VMA ([stack], [heap]); null otherwise. */
  declare name: string | null;
  /** vm_ops with fault handlers, set by the driver's ->mmap (null: not modelled). */
  declare ops: VmOps | null;

  constructor(start: number, end: number, flags: number, file: KFile | null, pgoff: number, anonVma = 0, name: string | null = null, store: VmaStore = LOOSE) {
    this.at = store.alloc();
    this.chunk = store.chunk;
    this.flags = flags;
    this.file = file;
    this.anonVma = anonVma;
    this.name = name;
    this.ops = null;
    const f = this.chunk;
    f[this.at] = start;
    f[this.at + 1] = end;
    f[this.at + 2] = pgoff;
  }

  /** vm_start: the first page */
  get start(): number {
    return this.chunk[this.at];
  }
  set start(pg: number) {
    this.chunk[this.at] = pg;
  }

  /** vm_end: one past the last page */
  get end(): number {
    return this.chunk[this.at + 1];
  }
  set end(pg: number) {
    this.chunk[this.at + 1] = pg;
  }

  /** vm_pgoff: the file offset of start, in pages */
  get pgoff(): number {
    return this.chunk[this.at + 2];
  }
  set pgoff(pg: number) {
    this.chunk[this.at + 2] = pg;
  }

  /** Reuse a freed VMA as a new one (vm_area_alloc from the model's pool). */
  reinit(start: number, end: number, flags: number, file: KFile | null, pgoff: number, anonVma: number, name: string | null): this {
    const f = this.chunk;
    f[this.at] = start;
    f[this.at + 1] = end;
    f[this.at + 2] = pgoff;
    this.flags = flags;
    this.file = file;
    this.anonVma = anonVma;
    this.name = name;
    this.ops = null;
    return this;
  }

  get pages(): number {
    return this.end - this.start;
  }
}

// A freed VMA is reused (reinit) and its flags, file and anon_vma change in place. V8
// treats fields not written since construction as constant and optimized code may rely on
// it: the first reuse, which comes only once a process starts unmapping, would discard all
// of that code. Reusing one VMA here, before anything runs, marks the fields as changing.
new Vma(0, 1, 0, null, 0).reinit(0, 1, 0, null, 0, 0, null);

/** /proc/pid/maps permission column (fs/proc/task_mmu.c show_map_vma). */
export function permsOf(flags: number): string {
  return (
    (flags & VM_READ ? 'r' : '-') +
    (flags & VM_WRITE ? 'w' : '-') +
    (flags & VM_EXEC ? 'x' : '-') +
    (flags & VM_MAYSHARE ? 's' : 'p')
  );
}

/** vma_is_anonymous(): no vm_ops — in the model, no file. */
export function vmaIsAnonymous(v: Vma): boolean {
  return v.file === null;
}
