// x86_64: address-space geometry and the arch get_unmapped_area hooks
// (arch/x86/kernel/sys_x86_64.c, arch/x86/mm/mmap.c). All addresses are page numbers.

import type { MmStruct } from '../mm/mm.js';
import { geometry, type Arch } from './arch.js';
import type { KFile } from '../fs/file.js';
import { unmappedArea, unmappedAreaTopdown } from '../mm/unmapped.js';
import { VM_SHADOW_STACK } from '../mm/vma.js';
import { MAP_32BIT, MAP_ABOVE4G, MAP_FIXED, ENOMEM } from '../mm/uapi.js';
import { Undecidable } from '../mm/undecidable.js';

/** DEFAULT_MAP_WINDOW = 2^47 - 4096, in pages. */
export const DEFAULT_MAP_WINDOW = 2 ** 35 - 1;
export const TASK_SIZE_MAX_4L = DEFAULT_MAP_WINDOW;
export const TASK_SIZE_MAX_5L = 2 ** 44 - 1;
/** MAP_32BIT window [1 GiB, 2 GiB) in pages. */
const MAP32_BEGIN = 0x40000;
const MAP32_END = 0x80000;
/** With PF_RANDOMIZE, MAP_32BIT starts at randomize_page(1 GiB, 32 MiB): 0 to 8191 pages up. */
const MAP32_RANDOM_PAGES = 0x2000;
/** __STACK_RND_MASK of a 64-bit task: stack_maxrandom_size() is this many pages. */
const STACK_RND_MASK_64 = 0x3fffffn;

export type { ArchOps } from './arch.js';

const SIZE_128M = 128n << 20n;
const DMW_BYTES = (1n << 47n) - 4096n;
const U64_MAX = (1n << 64n) - 1n;

function pageAlignBig(v: bigint): bigint {
  return (v + 4095n) & ~4095n;
}

/**
 * mmap_base() and mmap_legacy_base() (arch/x86/mm/mmap.c). Without PF_RANDOMIZE (rnd null)
 * the pad is the stack guard gap alone; with it the pad also holds stack_maxrandom_size()
 * (16 GiB - 4 KiB) and both bases move by the same random factor: mmap_base down, the legacy
 * base up.
 */
export function x86MmapBases(rlimitStack: bigint, stackGuardGap: bigint, rnd: number | null = null): { base: number; legacyBase: number } {
  const rndBytes = BigInt(rnd ?? 0) << 12n;
  const pad = stackGuardGap + (rnd === null ? 0n : STACK_RND_MASK_64 << 12n);
  let gap = rlimitStack;
  if (gap + pad <= U64_MAX) gap += pad; // RLIM_INFINITY: the pad would wrap, so it is not added
  const gapMax = (DMW_BYTES / 6n) * 5n;
  if (gap < SIZE_128M) gap = SIZE_128M;
  else if (gap > gapMax) gap = gapMax;
  const base = pageAlignBig(DMW_BYTES - gap - rndBytes);
  const legacy = pageAlignBig(DMW_BYTES / 3n) + rndBytes;
  return { base: Number(base >> 12n), legacyBase: Number(legacy >> 12n) };
}

/**
 * The mmap_base values a randomised task can have: rnd is a page count below
 * 2^mmap_rnd_bits, so the base lies in [hi - (2^bits - 1), hi] pages, hi the base at rnd 0.
 */
export function x86MmapBaseRange(rlimitStack: bigint, stackGuardGap: bigint, rndBits: number): { lo: number; hi: number } {
  const hi = x86MmapBases(rlimitStack, stackGuardGap, 0).base;
  return { lo: hi - (2 ** rndBits - 1), hi };
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
  // modelled and the AMD F15h mask (va_align, family 15h CPUs only) is not either.
  void file;
  const gap = stackGuardPlacement(vmFlags);
  if (flags & MAP_32BIT && mm.config.randomize) {
    // begin is a fresh random page in [1 GiB, 1 GiB + 32 MiB) for every call. The lowest fit
    // at or above begin never decreases as begin grows, so when the lowest and the highest
    // begin give the same answer every begin does; otherwise the trace cannot tell.
    const r = unmappedArea(mm, len, begin, end, 0, pgoff, gap);
    const rTop = unmappedArea(mm, len, begin + MAP32_RANDOM_PAGES - 1, end, 0, pgoff, gap);
    if (r !== rTop) throw new Undecidable('MAP_32BIT with randomisation starts its search at a random page of [0x40000000, 0x42000000), and here the result depends on which');
    return r;
  }
  return unmappedArea(mm, len, begin, end, 0, pgoff, gap);
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
    mm.bottomUpFallbacks++;
  }
  // Bottom-up fallback from mmap_legacy_base, with vm_flags dropped.
  return getUnmappedArea(mm, file, addr0, len, pgoff, flags, 0);
}

/**
 * x86_64: 4 KiB pages, 4-level paging (5-level with la57 changes only the task size here),
 * PMD and PUD pfnmaps (ARCH_SUPPORTS_PMD_PFNMAP, ARCH_SUPPORTS_PUD_PFNMAP), no contiguous
 * bit.
 */
export const x86_64: Arch = {
  ...geometry(12, 4, { pmd: true, pud: true }),
  name: 'x86_64',
  defaultMapWindow: DEFAULT_MAP_WINDOW,
  legacyMapFlags: MAP_32BIT | MAP_ABOVE4G,
  taskSize: (la57) => (la57 ? TASK_SIZE_MAX_5L : TASK_SIZE_MAX_4L),
  mmapBases: x86MmapBases,
  getUnmappedArea,
  getUnmappedAreaTopdown,
};
