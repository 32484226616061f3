// Page tables of one address space: x86_64 4-level paging seen from the PUD level down.
// A 1 GiB PUD slot is empty, a PUD leaf, or a PMD table; a 2 MiB PMD slot is empty, a PMD
// leaf, or a PTE table; a PTE table records which 4 KiB entries are present. Tables are
// shared by every VMA that overlaps their range, as real page tables are — which is why a
// neighbour's table in the same 1 GiB stops a later 1 GiB fault from being tried at all.
// Addresses are page numbers; leaves remember the pfn they map.

export const PMD_ORDER = 9;
export const PUD_ORDER = 18;
export const PMD_PAGES = 1 << PMD_ORDER;
export const PUD_PAGES = 1 << PUD_ORDER;

export interface PteTable {
  /** pfn + 1 of each present entry, 0 when none */
  readonly pte: Float64Array;
  present: number;
}

export interface PmdTable {
  /** per 2 MiB slot: undefined (none), a PTE table, or a leaf pfn (number) */
  readonly pmd: (PteTable | number | undefined)[];
  used: number;
}

/** What a range of the page tables holds, by leaf size. */
export interface LeafCount {
  pud: number;
  pmd: number;
  pte: number;
}

export class PageTables {
  /** per 1 GiB slot (address >> 30): a PMD table or a PUD leaf pfn */
  readonly pud = new Map<number, PmdTable | number>();
  /** page-table pages in use below the PUD level (PMD tables + PTE tables) */
  tables = 0;
  // the PTE table of the last 2 MiB block looked up (faults come in runs)
  private cacheBlock = -1;
  private cachePte: PteTable | null = null;

  /** The PTE table mapping pg, allocating the PMD and PTE tables as needed. */
  pteFor(pg: number): PteTable {
    const b = Math.floor(pg / PMD_PAGES);
    if (b === this.cacheBlock) return this.cachePte!;
    const t = this.pteAlloc(this.pmdAlloc(pg), pg);
    this.cacheBlock = b;
    this.cachePte = t;
    return t;
  }

  pudSlot(pg: number): PmdTable | number | undefined {
    return this.pud.get(Math.floor(pg / PUD_PAGES));
  }

  /** pmd_alloc(): the PMD table for pg's 1 GiB slot, allocated when the slot is empty. */
  pmdAlloc(pg: number): PmdTable {
    const k = Math.floor(pg / PUD_PAGES);
    let e = this.pud.get(k);
    if (e === undefined) {
      e = { pmd: new Array<PteTable | number | undefined>(512).fill(undefined), used: 0 };
      this.pud.set(k, e);
      this.tables++;
    }
    if (typeof e === 'number') throw new Error('pmdAlloc under a PUD leaf');
    return e;
  }

  /** pte_alloc(): the PTE table for pg's 2 MiB slot. */
  pteAlloc(t: PmdTable, pg: number): PteTable {
    const i = Math.floor(pg / PMD_PAGES) % 512;
    let e = t.pmd[i];
    if (e === undefined) {
      e = { pte: new Float64Array(512), present: 0 };
      t.pmd[i] = e;
      t.used++;
      this.tables++;
    }
    if (typeof e === 'number') throw new Error('pteAlloc under a PMD leaf');
    return e;
  }

  setPudLeaf(pg: number, pfn: number): void {
    this.cacheBlock = -1;
    this.pud.set(Math.floor(pg / PUD_PAGES), pfn);
  }

  setPmdLeaf(t: PmdTable, pg: number, pfn: number): void {
    const i = Math.floor(pg / PMD_PAGES) % 512;
    if (t.pmd[i] === undefined) t.used++;
    t.pmd[i] = pfn;
  }

  /** The leaves that cover [start, end) (page numbers): one TLB entry each. */
  leaves(start: number, end: number): LeafCount {
    const c: LeafCount = { pud: 0, pmd: 0, pte: 0 };
    for (let g = Math.floor(start / PUD_PAGES); g * PUD_PAGES < end; g++) {
      const e = this.pud.get(g);
      if (e === undefined) continue;
      if (typeof e === 'number') {
        c.pud++;
        continue;
      }
      const lo = Math.max(start, g * PUD_PAGES);
      const hi = Math.min(end, (g + 1) * PUD_PAGES);
      for (let m = Math.floor(lo / PMD_PAGES); m * PMD_PAGES < hi; m++) {
        const p = e.pmd[m % 512];
        if (p === undefined) continue;
        if (typeof p === 'number') {
          c.pmd++;
          continue;
        }
        const a = Math.max(lo, m * PMD_PAGES) - m * PMD_PAGES;
        const b = Math.min(hi, (m + 1) * PMD_PAGES) - m * PMD_PAGES;
        if (p.present === 512 && a === 0 && b === 512) c.pte += 512;
        else for (let i = a; i < b; i++) if (p.pte[i] !== 0) c.pte++;
      }
    }
    return c;
  }

  /**
   * zap_page_range for [start, end): clear the entries there. A leaf that reaches outside
   * the range is cleared whole (the pfnmap split path: there is nothing to split into,
   * the rest refaults). Returns the leaves that had to be cleared partially.
   */
  zap(start: number, end: number): { pudSplit: number; pmdSplit: number } {
    this.cacheBlock = -1;
    let pudSplit = 0;
    let pmdSplit = 0;
    for (let g = Math.floor(start / PUD_PAGES); g * PUD_PAGES < end; g++) {
      const e = this.pud.get(g);
      if (e === undefined) continue;
      const gs = g * PUD_PAGES;
      if (typeof e === 'number') {
        if (start > gs || end < gs + PUD_PAGES) pudSplit++;
        this.pud.delete(g);
        continue;
      }
      const lo = Math.max(start, gs);
      const hi = Math.min(end, gs + PUD_PAGES);
      for (let m = Math.floor(lo / PMD_PAGES); m * PMD_PAGES < hi; m++) {
        const p = e.pmd[m % 512];
        if (p === undefined) continue;
        const ms = m * PMD_PAGES;
        if (typeof p === 'number') {
          if (lo > ms || hi < ms + PMD_PAGES) pmdSplit++;
          e.pmd[m % 512] = undefined;
          e.used--;
          continue;
        }
        const a = Math.max(lo, ms) - ms;
        const b = Math.min(hi, ms + PMD_PAGES) - ms;
        for (let i = a; i < b; i++) {
          if (p.pte[i] !== 0) {
            p.pte[i] = 0;
            p.present--;
          }
        }
      }
    }
    return { pudSplit, pmdSplit };
  }

  /**
   * free_pgtables() / free_pgd_range() after unmapping [start, end) with the neighbouring
   * VMAs ending at floor and starting at ceiling (0: none above): free the PTE tables of
   * 2 MiB blocks and the PMD tables of 1 GiB blocks that no neighbour can still use.
   */
  freePgtables(start: number, end: number, floor: number, ceiling: number): void {
    this.cacheBlock = -1;
    // PTE tables: whole 2 MiB blocks inside [round_up(floor), round_down(ceiling))
    let lo = Math.floor(start / PMD_PAGES) * PMD_PAGES;
    if (lo < floor) lo += PMD_PAGES;
    let hi = Math.ceil(end / PMD_PAGES) * PMD_PAGES;
    if (ceiling !== 0) {
      const c = Math.floor(ceiling / PMD_PAGES) * PMD_PAGES;
      if (hi > c) hi -= PMD_PAGES;
    }
    for (let m = lo / PMD_PAGES; m * PMD_PAGES < hi; m++) {
      const e = this.pud.get(Math.floor((m * PMD_PAGES) / PUD_PAGES));
      if (e === undefined || typeof e === 'number') continue;
      const p = e.pmd[m % 512];
      if (p !== undefined && typeof p !== 'number') {
        e.pmd[m % 512] = undefined;
        e.used--;
        this.tables--;
      }
    }
    // PMD tables (free_pmd_range): a 1 GiB block that starts at or above floor, where the
    // freed part ends at or below ceiling rounded down to 1 GiB
    const pudCeiling = ceiling === 0 ? 0 : Math.floor(ceiling / PUD_PAGES) * PUD_PAGES;
    for (let g = Math.floor(start / PUD_PAGES); g * PUD_PAGES < end; g++) {
      const gs = g * PUD_PAGES;
      if (gs < floor) continue;
      if (ceiling !== 0 && (pudCeiling === 0 || Math.min(end, gs + PUD_PAGES) > pudCeiling)) continue;
      const e = this.pud.get(g);
      if (e === undefined || typeof e === 'number') continue;
      // any PTE tables still hanging here belong to the range being freed
      for (const p of e.pmd) if (p !== undefined && typeof p !== 'number') this.tables--;
      this.pud.delete(g);
      this.tables--;
    }
  }
}
