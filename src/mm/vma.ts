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
 * Where VMAs keep their page numbers: one Float64Array per field, indexed by Vma.id. A
 * page number above 2^31 in an object field would be a boxed heap number (16 bytes and an
 * allocation per VMA each); here it is 8 bytes in an array. A store belongs to one mm; ids
 * stay with their Vma for its life (freed VMAs are pooled and reused, id and all).
 */
export class VmaStore {
  start = new Float64Array(64);
  end = new Float64Array(64);
  pgoff = new Float64Array(64);
  private used = 0;

  alloc(): number {
    if (this.used === this.start.length) {
      const n = this.used + (this.used >> 1);
      this.start = grownTo(this.start, n);
      this.end = grownTo(this.end, n);
      this.pgoff = grownTo(this.pgoff, n);
    }
    return this.used++;
  }
}

function grownTo(a: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

/** The store of VMAs made outside an mm (tests, tools). */
const LOOSE = new VmaStore();

export class Vma {
  // Fields are set in the constructor, in one order and with their final kinds of value,
  // so every Vma has one hidden class. start, end and pgoff live in the store.
  declare readonly store: VmaStore;
  declare readonly id: number;
  declare flags: number;
  declare file: KFile | null;
  /** Identity of the anon_vma (0: none yet). Copied on split, shared by merged VMAs. */
  declare anonVma: number;
  /** /proc/pid/maps name of an anonymous VMA ([stack], [heap]); null otherwise. */
  declare name: string | null;
  /** vm_ops with fault handlers, set by the driver's ->mmap (null: not modelled). */
  declare ops: VmOps | null;

  constructor(start: number, end: number, flags: number, file: KFile | null, pgoff: number, anonVma = 0, name: string | null = null, store: VmaStore = LOOSE) {
    this.store = store;
    this.id = store.alloc();
    this.flags = flags;
    this.file = file;
    this.anonVma = anonVma;
    this.name = name;
    this.ops = null;
    store.start[this.id] = start;
    store.end[this.id] = end;
    store.pgoff[this.id] = pgoff;
  }

  /** vm_start: the first page */
  get start(): number {
    return this.store.start[this.id];
  }
  set start(pg: number) {
    this.store.start[this.id] = pg;
  }

  /** vm_end: one past the last page */
  get end(): number {
    return this.store.end[this.id];
  }
  set end(pg: number) {
    this.store.end[this.id] = pg;
  }

  /** vm_pgoff: the file offset of start, in pages */
  get pgoff(): number {
    return this.store.pgoff[this.id];
  }
  set pgoff(pg: number) {
    this.store.pgoff[this.id] = pg;
  }

  /** Reuse a freed VMA as a new one (vm_area_alloc from the model's pool). */
  reinit(start: number, end: number, flags: number, file: KFile | null, pgoff: number, anonVma: number, name: string | null): this {
    const st = this.store;
    st.start[this.id] = start;
    st.end[this.id] = end;
    st.pgoff[this.id] = pgoff;
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
