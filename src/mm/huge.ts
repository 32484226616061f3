// THP-sized placement (mm/huge_memory.c __thp_get_unmapped_area, thp_get_unmapped_area).

import type { MmStruct } from './mm.js';
import type { KFile } from '../fs/file.js';
import { modPow2 } from '../lib/u64.js';

/**
 * __thp_get_unmapped_area(): search for len + size, then move the start up to the first
 * address congruent to the file offset modulo size. 0 means "no alignment, fall back".
 * `off` is the offset in pages. Offsets of 2^63 bytes and more are signed in the kernel
 * (loff_t); they fail file_mmap_ok() with EOVERFLOW later whatever is picked here, and only
 * whether some search succeeds decides ENOMEM against EOVERFLOW, so the model treats them
 * as unsigned.
 */
export function thpGetUnmappedAreaAligned(
  mm: MmStruct, file: KFile | null, addr: number, len: number, off: number, flags: number, size: number, vmFlags: number,
): number {
  if (mm.compat) return 0;
  const offEnd = off + len;
  const offAlign = Math.ceil(off / size) * size;
  // loff_t: an offset below 2^63 bytes whose round_up() reaches 2^63 makes off_align
  // negative; then off_end > off_align, and off_end - off_align, compared as unsigned with
  // size, is huge: both checks pass and the padded search goes ahead (seen on arm64 16K)
  const signedTop = mm.arch.pages2_63;
  const wrapped = off < signedTop && offAlign >= signedTop;
  if (!wrapped && (offEnd <= offAlign || offEnd - offAlign < size)) return 0;
  const lenPad = len + size;
  if (off + lenPad >= mm.arch.pages2_64) return 0; // (off + len_pad) wrapped
  const ret = mm.getUnmappedAreaVmflags(file, addr, lenPad, off, flags, vmFlags);
  if (ret < 0) return 0; // the padding may be what failed: the caller retries without it
  if (ret === addr) return addr; // the hint was free for the padded length
  const offSub = modPow2(off - ret, size);
  // Top-down layouts push an already aligned start one size up (the +size quirk).
  if (mm.topdown && offSub === 0) return ret + size;
  return ret + offSub;
}

/** thp_get_unmapped_area_vmflags() */
export function thpGetUnmappedAreaVmflags(
  mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number, vmFlags: number,
): number {
  const ret = thpGetUnmappedAreaAligned(mm, file, addr, len, pgoff, flags, mm.arch.pmdPages, vmFlags);
  if (ret !== 0) return ret;
  return mm.getUnmappedAreaVmflags(file, addr, len, pgoff, flags, vmFlags);
}

/** thp_get_unmapped_area(): the f_op hook of ext4, xfs, btrfs, fuse, erofs. */
export function thpGetUnmappedArea(mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number): number {
  return thpGetUnmappedAreaVmflags(mm, file, addr, len, pgoff, flags, 0);
}
