// VMA records in the mm's memory (include/linux/mm_types.h vm_area_struct, the numbers of
// it). Addresses are page numbers in float64 (exact below 2^53); a record is 48 bytes:
//   0 vm_start, 8 vm_end, 16 vm_pgoff            (f64)
//   24 vm_flags, 28 anon_vma id (0: none)         (i32)
//   32 file key (0: none; the JavaScript side keeps the file itself)
//   36 what the JavaScript handle adds: X_FILE, X_OPS, X_NAME
//   40 the handle's index on the JavaScript side (0: none yet), kept across reuse
//   44 the next free record while on the free list
// While a record is in the tree its start and end change only through adjust().

import { bump } from './slab';

/** vm_area_free() of a record whose handle holds a file or vm_ops: the handle drops them. */
@external("env", "dropExtras")
declare function dropExtras(r: usize): void;

export const R_START: usize = 0;
export const R_END: usize = 8;
export const R_PGOFF: usize = 16;
export const R_FLAGS: usize = 24;
export const R_ANON: usize = 28;
export const R_FILE: usize = 32;
export const R_EXTRA: usize = 36;
export const R_HANDLE: usize = 40;
const R_LINK: usize = 44;
export const REC_SIZE: usize = 48;

export const X_FILE: i32 = 1;
export const X_OPS: i32 = 2;
export const X_NAME: i32 = 4;

// vm_flags bits the core reads (include/linux/mm.h); the model's VM_SHADOW_STACK is a free
// bit (src/mm/vma.ts). A test checks these against the JavaScript side's.
export const VM_READ: i32 = 0x1;
export const VM_WRITE: i32 = 0x2;
export const VM_EXEC: i32 = 0x4;
export const VM_SHARED: i32 = 0x8;
export const VM_GROWSDOWN: i32 = 0x100;
export const VM_PFNMAP: i32 = 0x400;
export const VM_SHADOW_STACK: i32 = 0x800;
export const VM_IO: i32 = 0x4000;
export const VM_DONTEXPAND: i32 = 0x40000;
export const VM_ACCOUNT: i32 = 0x100000;
export const VM_NORESERVE: i32 = 0x200000;
export const VM_MIXEDMAP: i32 = 0x10000000;
export const VM_ACCESS_FLAGS: i32 = VM_READ | VM_WRITE | VM_EXEC;
export const VM_SPECIAL: i32 = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

@inline export function rStart(r: usize): f64 { return load<f64>(r, R_START); }
@inline export function rEnd(r: usize): f64 { return load<f64>(r, R_END); }
@inline export function rPgoff(r: usize): f64 { return load<f64>(r, R_PGOFF); }
@inline export function rFlags(r: usize): i32 { return load<i32>(r, R_FLAGS); }
@inline export function rAnon(r: usize): i32 { return load<i32>(r, R_ANON); }
@inline export function rFile(r: usize): i32 { return load<i32>(r, R_FILE); }
@inline export function rExtra(r: usize): i32 { return load<i32>(r, R_EXTRA); }
@inline export function setStart(r: usize, v: f64): void { store<f64>(r, v, R_START); }
@inline export function setEnd(r: usize, v: f64): void { store<f64>(r, v, R_END); }
@inline export function setPgoff(r: usize, v: f64): void { store<f64>(r, v, R_PGOFF); }
@inline export function setAnon(r: usize, v: i32): void { store<i32>(r, v, R_ANON); }

/** Records freed by this mm, reused first (a steady churn of mappings allocates nothing). */
let freeRecs: usize = 0;

export function vmaReset(): void {
  freeRecs = 0;
}
const CHUNK: usize = 64; // records per fresh block: 3072 bytes, a multiple of 64

/** vm_area_alloc(): a record with these fields; a reused one keeps its handle index. */
export function newVma(start: f64, end: f64, flags: i32, file: i32, pgoff: f64, anonVma: i32, extra: i32): usize {
  let r = freeRecs;
  if (r == 0) {
    const b = bump(CHUNK * REC_SIZE);
    // link the block's records in address order, the first one to be used first
    for (let i: usize = 1; i < CHUNK; i++) store<u32>(b + (i - 1) * REC_SIZE, <u32>(b + i * REC_SIZE), R_LINK);
    store<u32>(b + (CHUNK - 1) * REC_SIZE, 0, R_LINK);
    r = b;
  }
  freeRecs = load<u32>(r, R_LINK);
  store<f64>(r, start, R_START);
  store<f64>(r, end, R_END);
  store<f64>(r, pgoff, R_PGOFF);
  store<i32>(r, flags, R_FLAGS);
  store<i32>(r, anonVma, R_ANON);
  store<i32>(r, file, R_FILE);
  store<i32>(r, extra, R_EXTRA);
  return r;
}

/** vm_area_free(): the record (out of the tree) goes back to the free list, file and ops dropped. */
export function freeVma(r: usize): void {
  if (rExtra(r) & (X_FILE | X_OPS)) dropExtras(r);
  store<i32>(r, 0, R_FILE);
  store<i32>(r, rExtra(r) & X_NAME, R_EXTRA);
  store<u32>(r, <u32>freeRecs, R_LINK);
  freeRecs = r;
}
