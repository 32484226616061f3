// arm64: the leaf sizes each translation granule offers, which of them huge pfnmaps can use,
// and the contiguous-bit ranges the series' review talked about. arm64 selects
// ARCH_SUPPORTS_HUGE_PFNMAP but not HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD (through 7.2), so
// device memory gets PMD leaves at best; the contiguous hint (CONT_PTE / CONT_PMD) is never
// set for special (pfnmap) entries — contpte_try_fold() skips mappings without a folio —
// so those sizes are proposals (Jason Gunthorpe's review of v1 and v2), not kernel behaviour.

import type { MmStruct } from '../mm/mm.js';
import type { KFile } from '../fs/file.js';
import { geometry, type Arch } from './arch.js';
import { unmappedArea, unmappedAreaTopdown } from '../mm/unmapped.js';
import { MAP_FIXED, ENOMEM } from '../mm/uapi.js';
import { VM_SHADOW_STACK } from '../mm/vma.js';

export type Granule = '4K' | '16K' | '64K';

export interface LeafSize {
  /** e.g. "PTE", "CONT_PTE", "PMD", "CONT_PMD", "PUD" */
  readonly kind: string;
  readonly bytes: number;
  /** what a huge pfnmap of device memory gets today */
  readonly pfnmap: 'supported' | 'not supported' | 'proposed';
  readonly note: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** page size and the number of entries CONT_PTE / CONT_PMD span (arch/arm64 Kconfig) */
const GRANULES: Record<Granule, { page: number; contPte: number; contPmd: number; pud: boolean }> = {
  '4K': { page: 4 * KiB, contPte: 16, contPmd: 16, pud: true },
  '16K': { page: 16 * KiB, contPte: 128, contPmd: 32, pud: false },
  '64K': { page: 64 * KiB, contPte: 32, contPmd: 32, pud: false },
};

/** The leaf sizes of one granule, smallest first. */
export function arm64Leaves(g: Granule): LeafSize[] {
  const G = GRANULES[g];
  const entries = G.page / 8; // 8-byte descriptors per table page
  const pmd = G.page * entries;
  const out: LeafSize[] = [
    { kind: 'PTE', bytes: G.page, pfnmap: 'supported', note: 'one page' },
    { kind: 'CONT_PTE', bytes: G.page * G.contPte, pfnmap: 'proposed', note: `${G.contPte} contiguous PTEs; contpte never folds special PTEs` },
    { kind: 'PMD', bytes: pmd, pfnmap: 'supported', note: 'ARCH_SUPPORTS_PMD_PFNMAP' },
    { kind: 'CONT_PMD', bytes: pmd * G.contPmd, pfnmap: 'proposed', note: `${G.contPmd} contiguous PMDs; no huge pfnmap support` },
  ];
  if (G.pud) out.push({ kind: 'PUD', bytes: pmd * entries, pfnmap: 'not supported', note: 'no HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD on arm64' });
  return out.sort((a, b) => a.bytes - b.bytes);
}

/** The largest leaf a BAR region of `bytes` can use on a granule, today and as proposed. */
export function arm64BestLeaf(g: Granule, bytes: number): { today: LeafSize; proposed: LeafSize } {
  const leaves = arm64Leaves(g).filter((l) => l.bytes <= bytes);
  const pick = (ok: (l: LeafSize) => boolean) => [...leaves].reverse().find(ok) ?? arm64Leaves(g)[0];
  return { today: pick((l) => l.pfnmap === 'supported'), proposed: pick((l) => l.pfnmap !== 'not supported') };
}

export { KiB, MiB, GiB };

// ---- arm64 as an architecture of the model (Linux 7.2) --------------------------------

/** What an arm64 kernel's config and the CPU it runs on decide for the address space. */
export interface Arm64Config {
  granule: Granule;
  /** CONFIG_ARM64_VA_BITS: 39/48/52 (4K), 36/47/48/52 (16K), 42/48/52 (64K) */
  vaBits: number;
  /**
   * The CPU can translate 52-bit VAs (FEAT_LVA on 64K, FEAT_LPA2 on 4K/16K; QEMU's -cpu max
   * has both): a VA_BITS=52 kernel then runs with vabits_actual = 52, else VA_BITS_MIN.
   */
  cpu52: boolean;
}

const PAGE_SHIFT: Record<Granule, number> = { '4K': 12, '16K': 14, '64K': 16 };
const VA_CHOICES: Record<Granule, number[]> = { '4K': [39, 48, 52], '16K': [36, 47, 48, 52], '64K': [42, 48, 52] };

/** CONFIG_PGTABLE_LEVELS for a granule and VA_BITS (arch/arm64/Kconfig). */
export function arm64PgtableLevels(g: Granule, vaBits: number): number {
  const shift = PAGE_SHIFT[g];
  // each level resolves PAGE_SHIFT - 3 bits above the page offset
  return Math.ceil((vaBits - shift) / (shift - 3));
}

/** VA_BITS_MIN (asm/memory.h): the VA size every CPU can run, 47 on 16K, else 48, for 52. */
export function arm64VaBitsMin(g: Granule, vaBits: number): number {
  if (vaBits <= 48) return vaBits;
  return g === '16K' ? 47 : 48;
}

const RLIM_INFINITY = (1n << 64n) - 1n;
const SIZE_128M = 128n << 20n;

/**
 * arm64 of Linux 7.2: the granule's page size and tables (PGTABLE_LEVELS from VA_BITS),
 * PMD pfnmaps only (ARCH_SUPPORTS_HUGE_PFNMAP, no HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD), the
 * generic top-down layout (mm/util.c arch_pick_mmap_layout, mmap_base) and the generic
 * get_unmapped_area hooks (mm/mmap.c generic_get_unmapped_area{,_topdown}) with arm64's
 * arch_get_mmap_end / arch_get_mmap_base: the default window is 2^VA_BITS_MIN, a hint
 * above it opens the task's whole 2^vabits_actual.
 */
export function arm64(cfg: Arm64Config): Arch {
  const g = GRANULES[cfg.granule];
  if (!VA_CHOICES[cfg.granule].includes(cfg.vaBits)) throw new Error(`arm64 ${cfg.granule}: no ARM64_VA_BITS_${cfg.vaBits}`);
  const shift = PAGE_SHIFT[cfg.granule];
  const levels = arm64PgtableLevels(cfg.granule, cfg.vaBits);
  if (levels < 3) throw new Error(`arm64 ${cfg.granule} with ${cfg.vaBits}-bit VAs folds the PMD level: not modelled`);
  const vaMin = arm64VaBitsMin(cfg.granule, cfg.vaBits);
  const vaActual = cfg.vaBits === 52 && cfg.cpu52 ? 52 : vaMin;
  const pages = (bits: number) => 2 ** (bits - shift);
  const DMW = pages(vaMin); // DEFAULT_MAP_WINDOW (no ARM64_FORCE_52BIT), pages
  const TASK = pages(vaActual); // TASK_SIZE_64
  const STACK_TOP = BigInt(DMW) << BigInt(shift); // STACK_TOP_MAX = DEFAULT_MAP_WINDOW_64, bytes
  const TASK_UNMAPPED_BASE = Math.ceil(DMW / 4); // PAGE_ALIGN(DEFAULT_MAP_WINDOW / 4)
  const STACK_RND_MASK = 0x3ffff >> (shift - 12); // asm/elf.h, a 64-bit task
  const ps = BigInt(2 ** shift);

  /** arch_get_mmap_end(): the window's top, raised to TASK_SIZE by a hint above it. */
  const mmapEnd = (addr: number) => (addr > DMW ? TASK : DMW);

  /** mmap_base() of mm/util.c, pages. */
  const mmapBase = (rlimitStack: bigint, stackGuardGap: bigint, rnd: number | null): number => {
    let gap = rlimitStack;
    let pad = stackGuardGap;
    if (rnd !== null) pad += BigInt(STACK_RND_MASK) << BigInt(shift); // PF_RANDOMIZE
    if (gap + pad <= RLIM_INFINITY) gap += pad; // values close to RLIM_INFINITY would wrap
    const gapMax = (STACK_TOP / 6n) * 5n;
    if (gap < SIZE_128M) gap = SIZE_128M;
    else if (gap > gapMax) gap = gapMax;
    const base = STACK_TOP - gap - BigInt(rnd ?? 0) * ps;
    return Number((base + ps - 1n) / ps); // PAGE_ALIGN
  };

  /** The hint is free: no VMA there, or it ends at or below the next one's start gap. */
  const hintOk = (mm: MmStruct, addr: number, len: number, end: number): boolean => {
    if (end - len < addr || addr < mm.mmapMinAddr) return false;
    const vma = mm.tree.findVma(addr);
    // (!prev || addr >= vm_end_gap(prev)) holds: vm_end_gap() is vm_end without VM_GROWSUP
    return vma === null || addr + len <= mm.vmStartGap(vma);
  };
  const startGap = (vmFlags: number) => (vmFlags & VM_SHADOW_STACK ? 1 : 0); // stack_guard_placement()

  /** generic_get_unmapped_area(): bottom-up from mm->mmap_base. */
  function getUnmappedArea(mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number, vmFlags: number): number {
    const end = mmapEnd(addr);
    if (len > end - mm.mmapMinAddr) return -ENOMEM;
    if (flags & MAP_FIXED) return addr;
    if (addr !== 0 && hintOk(mm, addr, len, end)) return addr;
    void file, pgoff; // hugetlb's align_mask is not modelled
    return unmappedArea(mm, len, mm.mmapBase, end, 0, 0, startGap(vmFlags));
  }

  /** generic_get_unmapped_area_topdown(): below mmap_base, then bottom-up from TASK_UNMAPPED_BASE. */
  function getUnmappedAreaTopdown(mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number, vmFlags: number): number {
    const end = mmapEnd(addr);
    if (len > end - mm.mmapMinAddr) return -ENOMEM;
    if (flags & MAP_FIXED) return addr;
    if (addr !== 0 && hintOk(mm, addr, len, end)) return addr;
    void file, pgoff;
    // arch_get_mmap_base(): a hint above the window lifts the base by TASK_SIZE - window
    const high = addr > DMW ? mm.mmapBase + TASK - DMW : mm.mmapBase;
    const r = unmappedAreaTopdown(mm, len, 1, high, 0, 0, startGap(vmFlags));
    if (r >= 0) return r;
    return unmappedArea(mm, len, TASK_UNMAPPED_BASE, end, 0, 0, startGap(vmFlags));
  }

  return {
    ...geometry(shift, levels, { pmd: true, pud: false }, { ptes: g.contPte, pmds: g.contPmd }),
    name: `arm64-${cfg.granule.toLowerCase()}`,
    legacyMapFlags: 0, // MAP_32BIT and MAP_ABOVE4G are x86's: 0 in LEGACY_MAP_MASK here
    taskSize: () => TASK,
    mmapBases: (rlimitStack, stackGuardGap, rnd = null) => ({
      base: mmapBase(rlimitStack, stackGuardGap, rnd ?? null),
      legacyBase: TASK_UNMAPPED_BASE + (rnd ?? 0), // mmap_is_legacy(): TASK_UNMAPPED_BASE + random_factor
    }),
    // mmap_is_legacy(): an unlimited stack means the bottom-up layout here (not on x86)
    mmapIsLegacy: (rlimitStack, sysctlLegacy) => rlimitStack === RLIM_INFINITY || sysctlLegacy,
    defaultMapWindow: DMW,
    getUnmappedArea,
    getUnmappedAreaTopdown,
  };
}
