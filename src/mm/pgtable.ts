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

/**
 * A PTE table: which of its 512 entries are present and the pfn each maps. A table filled by
 * one linear run of faults (the common case: a device mapping touched in order) is kept as
 * that run, [lo, hi) mapping pfn0 + (i - lo); any other content switches to one entry per
 * slot. Either way the table answers exactly what the per-entry table would.
 */
export class PteTable {
  /** present entries */
  present = 0;
  /** while `ent` is null: the present entries are exactly [lo, hi) */
  lo = 0;
  hi = 0;
  /** the pfn entry lo maps */
  pfn0 = 0;
  /** pfn + 1 of each entry, 0 when none; null while the content is one run */
  ent: Float64Array | null = null;

  /** The pfn entry i maps, or -1 when it is empty. */
  get(i: number): number {
    if (this.ent !== null) return this.ent[i] - 1;
    return i >= this.lo && i < this.hi ? this.pfn0 + (i - this.lo) : -1;
  }

  /** The first empty entry in [i, end), or end. */
  nextEmpty(i: number, end: number): number {
    const e = this.ent;
    if (e === null) return i >= this.lo && i < this.hi ? (this.hi < end ? this.hi : end) : i;
    while (i < end && e[i] !== 0) i++;
    return i;
  }

  /** The first present entry in [i, end), or end. */
  nextPresent(i: number, end: number): number {
    const e = this.ent;
    if (e === null) {
      if (i >= this.hi || this.present === 0) return end;
      if (i >= this.lo) return i;
      return this.lo < end ? this.lo : end;
    }
    while (i < end && e[i] === 0) i++;
    return i;
  }

  /** Present entries in [a, b). */
  count(a: number, b: number): number {
    if (a === 0 && b === 512) return this.present;
    const e = this.ent;
    if (e === null) {
      const x = a > this.lo ? a : this.lo;
      const y = b < this.hi ? b : this.hi;
      return y > x ? y - x : 0;
    }
    let n = 0;
    for (let i = a; i < b; i++) if (e[i] !== 0) n++;
    return n;
  }

  /** Map the empty entries [a, b) to pfn, pfn + 1, …: a run of PTE installs. */
  fill(a: number, b: number, pfn: number): void {
    if (this.ent === null) {
      if (this.present === 0) {
        this.lo = a;
        this.hi = b;
        this.pfn0 = pfn;
        this.present = b - a;
        return;
      }
      if (a === this.hi && pfn === this.pfn0 + (this.hi - this.lo)) {
        this.hi = b;
        this.present += b - a;
        return;
      }
      if (b === this.lo && pfn + (b - a) === this.pfn0) {
        this.lo = a;
        this.pfn0 = pfn;
        this.present += b - a;
        return;
      }
      this.materialise();
    }
    const e = this.ent!;
    for (let i = a; i < b; i++) e[i] = pfn + (i - a) + 1;
    this.present += b - a;
  }

  /** Clear the entries [a, b); returns how many were present. */
  clear(a: number, b: number): number {
    if (this.ent === null) {
      const x = a > this.lo ? a : this.lo;
      const y = b < this.hi ? b : this.hi;
      if (y <= x) return 0;
      if (x === this.lo && y === this.hi) {
        this.lo = this.hi = this.pfn0 = this.present = 0;
      } else if (x === this.lo) {
        this.pfn0 += y - this.lo;
        this.lo = y;
        this.present -= y - x;
      } else if (y === this.hi) {
        this.hi = x;
        this.present -= y - x;
      } else {
        this.materialise();
        return this.clear(a, b);
      }
      return y - x;
    }
    const e = this.ent;
    let n = 0;
    for (let i = a; i < b; i++) {
      if (e[i] !== 0) {
        e[i] = 0;
        n++;
      }
    }
    this.present -= n;
    if (this.present === 0) {
      this.ent = null;
      this.lo = this.hi = this.pfn0 = 0;
    }
    return n;
  }

  private materialise(): void {
    const e = new Float64Array(512);
    for (let i = this.lo; i < this.hi; i++) e[i] = this.pfn0 + (i - this.lo) + 1;
    this.ent = e;
  }
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
      e = new PteTable();
      t.pmd[i] = e;
      t.used++;
      this.tables++;
    }
    if (typeof e === 'number') throw new Error('pteAlloc under a PMD leaf');
    return e;
  }

  /**
   * Map [start, end) with PTEs, page start to pfn, in order: what a run of PTE faults (or a
   * prefault of the whole VMA) installs. Entries already present are left as they are.
   */
  fillPtes(start: number, end: number, pfn: number): void {
    let p = start;
    while (p < end) {
      const base = Math.floor(p / PMD_PAGES) * PMD_PAGES;
      const stop = base + PMD_PAGES < end ? base + PMD_PAGES : end;
      const t = this.pteFor(p);
      let i = p - base;
      const j = stop - base;
      while (i < j) {
        const a = t.nextEmpty(i, j);
        if (a === j) break;
        const b = t.nextPresent(a, j);
        t.fill(a, b, pfn + (base + a - start));
        i = b;
      }
      p = stop;
    }
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
        c.pte += p.count(a, b);
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
        p.clear(a, b);
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
