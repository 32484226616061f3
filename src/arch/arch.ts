// One architecture as the model needs it, as data: the page size, the page-table geometry,
// which leaves device pfnmaps may use, and the arch hooks of get_unmapped_area and of the
// mmap layout. Everything in mm/, vfio/ and fs/ reads its sizes from here; nothing there
// assumes 4 KiB pages, 512-entry tables, 2 MiB or 1 GiB.
//
// Unit: every address the model keeps is a page number of this arch's page size. A 64-bit
// address is below 2^(64 - pageShift) pages, at most 2^52 (4 KiB pages), so every page
// number and every sum or difference of two of them is an exact float64 integer on every
// granule; bench/run.ts measures this choice against BigInt bytes.

import type { MmStruct } from '../mm/mm.js';
import type { KFile } from '../fs/file.js';

/** The arch hooks of the address-space layout and of get_unmapped_area. */
export interface ArchOps {
  name: string;
  /** TASK_SIZE of a 64-bit task, pages. */
  taskSize(la57: boolean): number;
  /**
   * arch_pick_mmap_layout(): mmap_base and mmap_legacy_base, pages; `rnd` is
   * arch_mmap_rnd() in pages when the task randomises its layout (PF_RANDOMIZE).
   */
  mmapBases(rlimitStack: bigint, stackGuardGap: bigint, rnd?: number | null): { base: number; legacyBase: number };
  /**
   * mmap_is_legacy(): whether the task gets the bottom-up layout; absent, the
   * vm.legacy_va_layout sysctl (or ADDR_COMPAT_LAYOUT) alone decides, as on x86.
   */
  mmapIsLegacy?(rlimitStack: bigint, sysctlLegacy: boolean): boolean;
  /** DEFAULT_MAP_WINDOW, pages: the top of the default mmap window */
  defaultMapWindow: number;
  /** the arch's own MAP_ flags in LEGACY_MAP_MASK (x86: MAP_32BIT | MAP_ABOVE4G; else 0) */
  legacyMapFlags: number;
  getUnmappedArea(mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number, vmFlags: number): number;
  getUnmappedAreaTopdown(mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number, vmFlags: number): number;
}

/** Page and page-table geometry (asm/pgtable-types.h, asm/page.h of the arch). */
export interface ArchGeometry {
  /** PAGE_SHIFT: 12, 14 or 16 */
  readonly pageShift: number;
  /** PAGE_SIZE, bytes */
  readonly pageSize: number;
  /** one past the last page number: 2^64 bytes in pages */
  readonly pages2_64: number;
  /** 2^63 bytes in pages: where loff_t offsets turn negative (MAX_LFS_FILESIZE + 1) */
  readonly pages2_63: number;
  /** PTRS_PER_PTE (= PTRS_PER_PMD): entries of one table page */
  readonly ptrsPerTable: number;
  /** CONFIG_PGTABLE_LEVELS */
  readonly levels: number;
  /** PMD_SHIFT - PAGE_SHIFT and PUD_SHIFT - PAGE_SHIFT (a folded PUD: PGDIR_SHIFT) */
  readonly pmdOrder: number;
  readonly pudOrder: number;
  /** pages under one PMD and one PUD entry */
  readonly pmdPages: number;
  readonly pudPages: number;
  /**
   * The leaves the arch can give a pfnmap: ARCH_SUPPORTS_PMD_PFNMAP and
   * ARCH_SUPPORTS_PUD_PFNMAP (the latter needs HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD).
   */
  readonly pfnmapPmd: boolean;
  readonly pfnmapPud: boolean;
  /**
   * Contiguous-bit ranges in entries (CONT_PTES, CONT_PMDS), 0 where the arch has none.
   * Proposed for pfnmaps in review, in no kernel: shown, never used by the fault path.
   */
  readonly contPtes: number;
  readonly contPmds: number;
}

export interface Arch extends ArchOps, ArchGeometry {}

/** The geometry of a radix page table of 8-byte entries with `levels` levels. */
export function geometry(pageShift: number, levels: number, pfnmap: { pmd: boolean; pud: boolean }, cont: { ptes: number; pmds: number } = { ptes: 0, pmds: 0 }): ArchGeometry {
  const bits = pageShift - 3; // log2 of the entries of one table page
  const pmdOrder = bits;
  // with fewer than 4 levels the PUD is folded into the PGD, whose entries span what a
  // PUD's would (PUD_SHIFT = PGDIR_SHIFT)
  const pudOrder = 2 * bits;
  return {
    pageShift, pageSize: 2 ** pageShift, pages2_64: 2 ** (64 - pageShift), pages2_63: 2 ** (63 - pageShift), ptrsPerTable: 2 ** bits, levels,
    pmdOrder, pudOrder, pmdPages: 2 ** pmdOrder, pudPages: 2 ** pudOrder,
    pfnmapPmd: pfnmap.pmd, pfnmapPud: pfnmap.pud, contPtes: cont.ptes, contPmds: cont.pmds,
  };
}

/** Bytes as a page count of the arch, rounded up (PAGE_ALIGN(bytes) >> PAGE_SHIFT). */
export function bytesToPagesUp(a: ArchGeometry, bytes: number): number {
  return Math.ceil(bytes / a.pageSize);
}

/** A leaf's size, the way people write it: 4K, 64K, 2M, 32M, 512M, 1G, 64G, 4T. */
export function sizeName(bytes: number): string {
  for (const [u, s] of [[2 ** 40, 'T'], [2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']] as const) if (bytes >= u && bytes % u === 0) return `${bytes / u}${s}`;
  return `${bytes}`;
}
