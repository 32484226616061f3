// x86_64: address-space geometry and the arch get_unmapped_area hooks
// (arch/x86/kernel/sys_x86_64.c, arch/x86/mm/mmap.c). All addresses are page numbers.

import type { MmStruct } from '../mm/mm.js';
import type { KFile } from '../fs/file.js';
import { unmappedArea, unmappedAreaTopdown } from '../mm/unmapped.js';
import { VM_SHADOW_STACK } from '../mm/vma.js';
import { MAP_32BIT, MAP_FIXED, ENOMEM } from '../mm/uapi.js';

/** DEFAULT_MAP_WINDOW = 2^47 - 4096, in pages. */
export const DEFAULT_MAP_WINDOW = 2 ** 35 - 1;
export const TASK_SIZE_MAX_4L = DEFAULT_MAP_WINDOW;
export const TASK_SIZE_MAX_5L = 2 ** 44 - 1;
/** MAP_32BIT window [1 GiB, 2 GiB) in pages. */
const MAP32_BEGIN = 0x40000;
const MAP32_END = 0x80000;

export interface ArchOps {
  name: string;
  /** TASK_SIZE of a 64-bit task, pages. */
  taskSize(la57: boolean): number;
  /** arch_pick_mmap_layout(): mmap_base and mmap_legacy_base, pages. */
  mmapBases(rlimitStack: bigint, stackGuardGap: bigint): { base: number; legacyBase: number };
  getUnmappedArea(mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number, vmFlags: number): number;
  getUnmappedAreaTopdown(mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number, vmFlags: number): number;
}

const SIZE_128M = 128n << 20n;
const DMW_BYTES = (1n << 47n) - 4096n;
const U64_MAX = (1n << 64n) - 1n;

function pageAlignBig(v: bigint): bigint {
  return (v + 4095n) & ~4095n;
}

/** mmap_base() and mmap_legacy_base() without randomisation (arch/x86/mm/mmap.c). */
export function x86MmapBases(rlimitStack: bigint, stackGuardGap: bigint): { base: number; legacyBase: number } {
  const pad = stackGuardGap; // stack_maxrandom_size() is 0 without PF_RANDOMIZE
  let gap = rlimitStack;
  if (gap + pad <= U64_MAX) gap += pad; // RLIM_INFINITY: the pad would wrap, so it is not added
  const gapMax = (DMW_BYTES / 6n) * 5n;
  if (gap < SIZE_128M) gap = SIZE_128M;
  else if (gap > gapMax) gap = gapMax;
  const base = pageAlignBig(DMW_BYTES - gap);
  const legacy = pageAlignBig(DMW_BYTES / 3n);
  return { base: Number(base >> 12n), legacyBase: Number(legacy >> 12n) };
}

/** vm_start_gap() placement of a new mapping's own start: stack_guard_placement(). */
function stackGuardPlacement(vmFlags: number): number {
  return vmFlags & VM_SHADOW_STACK ? 1 : 0;
}

/** mmap_address_hint_valid() */
function mmapAddressHintValid(mm: MmStruct, addr: number, len: number): boolean {
  if (mm.taskSize - len < addr) return false;
  return addr > DEFAULT_MAP_WINDOW === addr + len > DEFAULT_MAP_WINDOW;
}

/** The hint is free: no VMA, or it ends at or below the next VMA's start gap. */
function hintFits(mm: MmStruct, addr: number, len: number): boolean {
  const vma = mm.tree.findVma(addr);
  return vma === null || addr + len <= mm.vmStartGap(vma);
}

/** arch_get_unmapped_area(): bottom-up. */
function getUnmappedArea(mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number, vmFlags: number): number {
  if (flags & MAP_FIXED) return addr;
  // find_start_end()
  let begin: number;
  let end: number;
  if (flags & MAP_32BIT) {
    begin = MAP32_BEGIN;
    end = MAP32_END;
  } else {
    begin = mm.mmapLegacyBase;
    end = addr > DEFAULT_MAP_WINDOW ? mm.taskSizeMax : DEFAULT_MAP_WINDOW;
  }
  if (len > end) return -ENOMEM;
  if (addr !== 0 && end - len >= addr && hintFits(mm, addr, len)) return addr;
  // align_offset = pgoff; align_mask stays 0: hugetlb (its own mask, no pgoff) is not
  // modelled and the AMD F15h mask is off without randomisation.
  void file;
  return unmappedArea(mm, len, begin, end, 0, pgoff, stackGuardPlacement(vmFlags));
}

/** arch_get_unmapped_area_topdown() */
function getUnmappedAreaTopdown(mm: MmStruct, file: KFile | null, addr0: number, len: number, pgoff: number, flags: number, vmFlags: number): number {
  if (len > mm.taskSize) return -ENOMEM;
  if (flags & MAP_FIXED) return addr0;
  if (!(flags & MAP_32BIT)) {
    const addr = addr0;
    if (addr !== 0 && mmapAddressHintValid(mm, addr, len) && hintFits(mm, addr, len)) return addr;
    // low_limit PAGE_SIZE (MAP_ABOVE4G would use 4 GiB); high_limit mmap_base, raised by
    // a hint above the 47-bit window into the rest of a 5-level address space.
    let high = mm.mmapBase;
    if (addr > DEFAULT_MAP_WINDOW) high += mm.taskSizeMax - DEFAULT_MAP_WINDOW;
    const r = unmappedAreaTopdown(mm, len, 1, high, 0, pgoff, stackGuardPlacement(vmFlags));
    if (r >= 0) return r;
  }
  // Bottom-up fallback from mmap_legacy_base, with vm_flags dropped.
  return getUnmappedArea(mm, file, addr0, len, pgoff, flags, 0);
}

export const x86_64: ArchOps = {
  name: 'x86_64',
  taskSize: (la57) => (la57 ? TASK_SIZE_MAX_5L : TASK_SIZE_MAX_4L),
  mmapBases: x86MmapBases,
  getUnmappedArea,
  getUnmappedAreaTopdown,
};
