// Map one region of a device under a variant, touch it, and describe the result: the
// shared core of the default job, `compare` and `plan`.

import { requireVariant } from '../kernels/variants.js';
import { VfioProcess, mapBar, bestOrderFor } from '../vfio/process.js';
import { regionPgoffPages } from '../vfio/pci.js';
import { touchRange } from '../mm/memory.js';
import { errnoName } from '../mm/uapi.js';
import { sysMadvise, MADV_HUGEPAGE } from '../mm/madvise.js';
import { sizeLabel, type Device } from '../devices/device.js';
import type { MmConfig } from '../mm/config.js';
import type { Arch, ArchGeometry } from '../arch/arch.js';
import { x86_64 } from '../arch/x86_64.js';

export interface MapResult {
  /** the variant's name as asked for (an alias, or BASE[+SERIES]) */
  variant: string;
  bar: number;
  offset: number;
  size: number;
  addr: string | null;
  /** errno of the mmap, or the signal a touch stopped with */
  error: string | null;
  /** the largest power of two dividing the address, in bytes (capped at the largest leaf) */
  alignment: number;
  leaves: { pud: number; pmd: number; pte: number };
  /** the arch, and the bytes one leaf of each level maps there (x86_64: 1G, 2M, 4K) */
  arch: string;
  leafBytes: { pud: number; pmd: number; pte: number };
  faults: number;
  /** what the faults did: leaves installed by order, ->huge_fault attempts that fell back */
  installed: { pte: number; pmd: number; pud: number };
  fallback: { pmd: number; pud: number };
  tlbEntries: number;
  /** a region with sparse mmap areas, mapped area by area: each area's own result */
  areas?: AreaResult[];
}

/** One VFIO_REGION_INFO_CAP_SPARSE_MMAP area as mapped and touched. */
export interface AreaResult {
  offset: number;
  size: number;
  addr: string | null;
  error: string | null;
  alignment: number;
  /** the VA's congruence with the area's file offset: the largest power of two (≤ 1 GiB) dividing VA − offset */
  congruence: number;
  leaves: { pud: number; pmd: number; pte: number };
  faults: number;
}

/** The alignment of page number `pages` in bytes, up to the arch's largest pfnmap leaf. */
export function alignmentOf(pages: number, g: ArchGeometry = x86_64): number {
  const cap = (g.pfnmapPud ? g.pudPages : g.pmdPages) * g.pageSize;
  let a = g.pageSize;
  while (a < cap && pages % ((a * 2) / g.pageSize) === 0) a *= 2;
  return a;
}

/** The bytes a PUD, a PMD and a PTE leaf map on the arch. */
export function leafBytesOf(g: ArchGeometry): MapResult['leafBytes'] {
  return { pud: g.pudPages * g.pageSize, pmd: g.pmdPages * g.pageSize, pte: g.pageSize };
}

type Leaves = { pud: number; pmd: number; pte: number };

/** "128×1G", "65,536×2M + 512×4K", "256×512M" (arm64 64K): counts by the arch's leaf sizes. */
export function fmtLeaves(l: Leaves, b: Leaves = leafBytesOf(x86_64)): string {
  return (['pud', 'pmd', 'pte'] as const).filter((k) => l[k] > 0).map((k) => `${l[k].toLocaleString('en-US')}×${sizeLabel(b[k])}`).join(' + ') || '-';
}

/** mmap [offset, offset+len) of BAR `bar` the way a program under `v` does, then touch it. */
export function mapAndTouch(v: string, dev: Device, bar: number, offset: number, len: number, config: Partial<MmConfig> = {}, p?: VfioProcess, arch?: Arch): MapResult {
  const proc = p ?? new VfioProcess(requireVariant(v), config, arch === undefined ? undefined : { arch });
  const f = proc.openDevice(dev);
  const r = touchAndDescribe(proc, mapBar(proc, f, bar, offset, len), { variant: v, bar, offset, size: len });
  if (p === undefined) proc.mm.release(); // the result is plain data: the process can go
  return r;
}

/** Touch the mapping at page a (or report the mmap's -errno) and describe what it got. */
export function touchAndDescribe(proc: VfioProcess, a: number, base: Pick<MapResult, 'variant' | 'bar' | 'offset' | 'size'>): MapResult {
  const g = proc.mm.arch;
  const arch = { arch: g.name, leafBytes: leafBytesOf(g) };
  if (a < 0) {
    return { ...base, addr: null, error: errnoName(-a), alignment: 0, leaves: { pud: 0, pmd: 0, pte: 0 }, ...arch, faults: 0,
      installed: { pte: 0, pmd: 0, pud: 0 }, fallback: { pmd: 0, pud: 0 }, tlbEntries: 0 };
  }
  const pages = Math.ceil(base.size / g.pageSize);
  const t = touchRange(proc.mm, a, a + pages);
  const leaves = proc.mm.pgtables.leaves(a, a + pages);
  return {
    ...base, addr: '0x' + (a * g.pageSize).toString(16), error: t.signal, alignment: alignmentOf(a, g), leaves, ...arch, faults: t.faults,
    installed: t.installed, fallback: t.fallback, tlbEntries: leaves.pud + leaves.pmd + leaves.pte,
  };
}

/**
 * Map every mmap-able area of a region (its sparse mmap areas, or the whole region) the way
 * a program under `v` does — each area its own mmap, as VMMs map them — touch each, and
 * sum what they got. The row's address and alignment are the first area's.
 */
export function mapAreasAndTouch(v: string, dev: Device, bar: number, config: Partial<MmConfig> = {}, p?: VfioProcess, arch?: Arch): MapResult {
  const proc = p ?? new VfioProcess(requireVariant(v), config, arch === undefined ? undefined : { arch });
  const g = proc.mm.arch;
  const f = proc.openDevice(dev);
  const region = dev.regions.find((r) => r.index === bar)!;
  const list = region.sparse ?? [{ offset: 0, size: region.size }];
  const rows = list.map((a) => touchAndDescribe(proc, mapBar(proc, f, bar, a.offset, a.size), { variant: v, bar, offset: a.offset, size: a.size }));
  const sum = (h: (r: MapResult) => number) => rows.reduce((n, r) => n + h(r), 0);
  const areas: AreaResult[] = rows.map((r) => {
    const va = r.addr === null ? null : Number(BigInt(r.addr) / BigInt(g.pageSize));
    const pgoff = bar * regionPgoffPages(g) + Math.floor(r.offset / g.pageSize);
    return {
      offset: r.offset, size: r.size, addr: r.addr, error: r.error, alignment: r.alignment,
      congruence: va === null ? 0 : alignmentOf(Math.abs(va - pgoff) || g.pudPages, g),
      leaves: r.leaves, faults: r.faults,
    };
  });
  const first = rows[0];
  return {
    ...first, offset: list[0].offset, size: sum((r) => r.size), error: rows.find((r) => r.error !== null)?.error ?? null,
    leaves: { pud: sum((r) => r.leaves.pud), pmd: sum((r) => r.leaves.pmd), pte: sum((r) => r.leaves.pte) },
    faults: sum((r) => r.faults),
    installed: { pte: sum((r) => r.installed.pte), pmd: sum((r) => r.installed.pmd), pud: sum((r) => r.installed.pud) },
    fallback: { pmd: sum((r) => r.fallback.pmd), pud: sum((r) => r.fallback.pud) },
    tlbEntries: sum((r) => r.tlbEntries), areas,
  };
}

/**
 * What the reserve-and-MAP_FIXED recipe yields on kernel k: placed as the recipe places it,
 * faulted by k's rules. Where THP is "madvise" and k lacks the pfnmap bypass of the THP
 * tunables, the recipe must add madvise(MADV_HUGEPAGE) or it gets 4 KiB leaves: `madvise`
 * says whether it did.
 */
export function recipeOnKernel(k: string, dev: Device, bar: number, config: Partial<MmConfig> = {}, arch?: Arch, area?: { offset: number; size: number }): MapResult & { madvise: boolean } {
  const proc = new VfioProcess({ ...requireVariant(k), userspaceRecipe: true, recipe: null }, config, arch === undefined ? undefined : { arch });
  const f = proc.openDevice(dev);
  const region = dev.regions.find((r) => r.index === bar)!;
  const { offset, size } = area ?? { offset: 0, size: region.size };
  const a = mapBar(proc, f, bar, offset, size);
  const c = proc.mm.config;
  const madvise = a >= 0 && c.thpEnabled === 'madvise' && !c.thpPfnmapBypass;
  if (madvise) sysMadvise(proc.mm, { pg: a, sub: 0 }, { pg: Math.ceil(size / proc.mm.arch.pageSize), sub: 0 }, MADV_HUGEPAGE);
  return { ...touchAndDescribe(proc, a, { variant: k, bar, offset, size }), madvise };
}

/** The userspace recipe that gets the best leaves on a kernel without a placement hook. */
export function recipe(config: MmConfig, bar: number, offset: number, len: number, g: ArchGeometry = x86_64): { align: number; reserve: number; residue: number; fileOffset: number } {
  const align = 2 ** bestOrderFor(config, Math.ceil(len / g.pageSize), g) * g.pageSize;
  const fileOffset = bar * 2 ** 40 + offset;
  return { align, reserve: len + (align > g.pageSize ? align : 0), residue: fileOffset % align, fileOffset };
}
