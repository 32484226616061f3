// arm64: the leaf sizes each translation granule offers, which of them huge pfnmaps can use,
// and the contiguous-bit ranges the series' review talked about. arm64 selects
// ARCH_SUPPORTS_HUGE_PFNMAP but not HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD (through 7.2), so
// device memory gets PMD leaves at best; the contiguous hint (CONT_PTE / CONT_PMD) is never
// set for special (pfnmap) entries — contpte_try_fold() skips mappings without a folio —
// so those sizes are proposals (Jason Gunthorpe's review of v1 and v2), not kernel behaviour.

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
