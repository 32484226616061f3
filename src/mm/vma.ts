// The VMA: one mapped range of an address space (include/linux/mm_types.h vm_area_struct).
// Addresses are page numbers (src/lib/u64.ts).

import type { KFile } from '../fs/file.js';
import type { VmOps } from './memory.js';
import type { GapTree } from './gap-tree.js';

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
/** VM_SPECIAL: mappings that are never merged. */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

// What a record's handle adds to it (src/mm/wasm/vma.ts R_EXTRA): set when the handle holds
// a file, vm_ops or a name. The core copies the bits on a split (and asks for the fields to
// be copied), and on free asks for the file and vm_ops to be dropped; a reused record's name
// counts only while its bit says so.
export const X_FILE = 1;
export const X_OPS = 2;
export const X_NAME = 4;

// record fields in the core's memory (src/mm/wasm/vma.ts), as indexes of 8- and 4-byte words
export const D_START = 0;
export const D_END = 1;
export const D_PGOFF = 2;
export const W_FLAGS = 6;
export const W_ANON = 7;
export const W_FILE = 8;
export const W_EXTRA = 9;
export const W_HANDLE = 10;

/**
 * A VMA as the JavaScript side sees it: a handle on one record of an mm's core (its numbers
 * live there, src/mm/wasm/vma.ts), plus the file, vm_ops and name, which are JavaScript
 * values. One handle per record, kept when the core reuses the record, so handles compare
 * as VMAs do. While a VMA is in the tree its start and end change only through
 * GapTree.adjust().
 */
export class Vma {
  // set in the constructor, in one order, so every Vma has one hidden class
  /** views of the core's memory, the tree's own (GapTree refreshes them when it grows) */
  f64: Float64Array;
  i32: Int32Array;
  /** the record's index in f64 and in i32 */
  private readonly d: number;
  private readonly w: number;
  private file_: KFile | null;
  private ops_: VmOps | null;
  private name_: string | null;

  /** `rec` is the record's byte address in tree's core */
  constructor(readonly tree: GapTree, readonly rec: number) {
    this.f64 = tree.f64;
    this.i32 = tree.i32;
    this.d = rec >>> 3;
    this.w = rec >>> 2;
    this.file_ = null;
    this.ops_ = null;
    this.name_ = null;
  }

  /** vm_start: the first page */
  get start(): number {
    return this.f64[this.d + D_START];
  }

  /** vm_end: one past the last page */
  get end(): number {
    return this.f64[this.d + D_END];
  }

  /** vm_pgoff: the file offset of start, in pages */
  get pgoff(): number {
    return this.f64[this.d + D_PGOFF];
  }
  set pgoff(pg: number) {
    this.f64[this.d + D_PGOFF] = pg;
  }

  get flags(): number {
    return this.i32[this.w + W_FLAGS];
  }
  set flags(f: number) {
    this.i32[this.w + W_FLAGS] = f;
  }

  /** Identity of the anon_vma (0: none yet). Copied on split, shared by merged VMAs. */
  get anonVma(): number {
    return this.i32[this.w + W_ANON];
  }
  set anonVma(a: number) {
    this.i32[this.w + W_ANON] = a;
  }

  private mark(bit: number, on: boolean): void {
    const i = this.w + W_EXTRA;
    const w = this.i32;
    w[i] = on ? w[i] | bit : w[i] & ~bit;
  }

  get file(): KFile | null {
    return this.file_;
  }
  set file(f: KFile | null) {
    this.file_ = f;
    this.mark(X_FILE, f !== null);
    this.i32[this.w + W_FILE] = this.tree.keyOf(f);
  }

  /** vm_ops with fault handlers, set by the driver's ->mmap (null: not modelled). */
  get ops(): VmOps | null {
    return this.ops_;
  }
  set ops(o: VmOps | null) {
    this.ops_ = o;
    this.mark(X_OPS, o !== null);
  }

  /** /proc/pid/maps name of an anonymous VMA ([stack], [heap]); null otherwise. */
  get name(): string | null {
    return (this.i32[this.w + W_EXTRA] & X_NAME) !== 0 ? this.name_ : null;
  }

  /** The JavaScript fields of a new record (its extra bits already say which are set). */
  setExtras(file: KFile | null, ops: VmOps | null, name: string | null): void {
    this.file_ = file;
    this.ops_ = ops;
    this.name_ = name;
  }

  /** vm_area_free() of the record: the file and vm_ops go (its bits are cleared by the core). */
  dropExtras(): void {
    this.file_ = null;
    this.ops_ = null;
  }

  /** A split-off VMA's file, vm_ops and name: those of the VMA it came from. */
  takeExtras(from: Vma): void {
    this.setExtras(from.file_, from.ops_, from.name_);
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
