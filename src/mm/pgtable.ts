// Page tables of one address space, seen from the PUD level down, in the arch's geometry
// (x86_64: 512 entries, 1 GiB PUD and 2 MiB PMD entries, 4 KiB pages; arm64 64K: 8192
// entries, 4 TiB and 512 MiB). A PUD slot is empty, a PUD leaf, or a PMD table; a PMD
// slot is empty, a PMD leaf, or a PTE table; a PTE table records which entries are present. Tables are
// shared by every VMA that overlaps their range, as real page tables are — which is why a
// neighbour's table in the same 1 GiB stops a later 1 GiB fault from being tried at all.
// Addresses are page numbers; leaves remember the pfn they map.

import type { ArchGeometry } from '../arch/arch.js';

/** What a 2 MiB slot of a PMD table holds. */
export const SLOT_NONE = 0;
export const SLOT_LEAF = 1;
export const SLOT_TABLE = 2;

/**
 * A PMD table: one slot per PMD entry (512 of 2 MiB on x86_64), each empty, a PMD leaf,
 * or a PTE table, kept as columns
 * (no object per PTE table). A PTE table filled by one linear run of faults (the common
 * case: a device mapping touched in order) is kept as that run: entries [lo, hi) present,
 * entry lo mapping `pfn`. Any other content switches that table to one entry per slot
 * (`ent`). Either way it answers exactly what a per-entry table would. Counters of the
 * whole table let a walk over a full 1 GiB answer without visiting its slots.
 */
export class PmdTable {
  /** SLOT_NONE, SLOT_LEAF or SLOT_TABLE, per slot */
  readonly kind: Uint8Array;
  /** a leaf: its pfn; a PTE table in run form: the pfn entry lo maps */
  readonly pfn: Float64Array;
  /** run bounds and present entries of each PTE table (at most 8192: 64K pages) */
  readonly lo: Uint16Array;
  readonly hi: Uint16Array;
  readonly present: Uint16Array;
  /**
   * a PTE table not in run form: pfn + 1 per entry, 0 when none (this array of them is made
   * when a first table needs it; most PMD tables never do)
   */
  ent: (Float64Array | null)[] | null = null;
  /** slots that are not empty */
  used = 0;
  /** PMD leaves, and present PTEs over all PTE tables */
  leafCount = 0;
  ptes = 0;

  /** n: entries per table (PTRS_PER_PMD = PTRS_PER_PTE) */
  constructor(readonly n: number) {
    // one buffer for the columns: a PMD table is made per 1 GiB touched
    const b = new ArrayBuffer(15 * n);
    this.pfn = new Float64Array(b, 0, n);
    this.lo = new Uint16Array(b, 8 * n, n);
    this.hi = new Uint16Array(b, 10 * n, n);
    this.present = new Uint16Array(b, 12 * n, n);
    this.kind = new Uint8Array(b, 14 * n, n);
  }

  /** Slot s's PTE table in entry form, or null (run form, or no table). */
  entries(s: number): Float64Array | null {
    const es = this.ent;
    return es === null ? null : es[s];
  }

  /** The pfn entry i of slot s's PTE table maps, or -1 when it is empty. */
  get(s: number, i: number): number {
    const e = this.entries(s);
    if (e !== null) return e[i] - 1;
    return i >= this.lo[s] && i < this.hi[s] ? this.pfn[s] + (i - this.lo[s]) : -1;
  }

  /** The first empty entry of slot s in [i, end), or end. */
  nextEmpty(s: number, i: number, end: number): number {
    const e = this.entries(s);
    if (e === null) {
      const hi = this.hi[s];
      return i >= this.lo[s] && i < hi ? (hi < end ? hi : end) : i;
    }
    while (i < end && e[i] !== 0) i++;
    return i;
  }

  /** The first present entry of slot s in [i, end), or end. */
  nextPresent(s: number, i: number, end: number): number {
    const e = this.entries(s);
    if (e === null) {
      if (i >= this.hi[s] || this.present[s] === 0) return end;
      const lo = this.lo[s];
      if (i >= lo) return i;
      return lo < end ? lo : end;
    }
    while (i < end && e[i] === 0) i++;
    return i;
  }

  /** Present entries of slot s in [a, b). */
  count(s: number, a: number, b: number): number {
    if (a === 0 && b === this.n) return this.present[s];
    const e = this.entries(s);
    if (e === null) {
      const x = a > this.lo[s] ? a : this.lo[s];
      const y = b < this.hi[s] ? b : this.hi[s];
      return y > x ? y - x : 0;
    }
    let n = 0;
    for (let i = a; i < b; i++) if (e[i] !== 0) n++;
    return n;
  }

  /** Map the empty entries [a, b) of slot s to pfn, pfn + 1, …: a run of PTE installs. */
  fill(s: number, a: number, b: number, pfn: number): void {
    this.ptes += b - a;
    if (this.entries(s) === null) {
      const n = this.present[s];
      const lo = this.lo[s];
      const hi = this.hi[s];
      if (n === 0) {
        this.lo[s] = a;
        this.hi[s] = b;
        this.pfn[s] = pfn;
        this.present[s] = b - a;
        return;
      }
      if (a === hi && pfn === this.pfn[s] + (hi - lo)) {
        this.hi[s] = b;
        this.present[s] = n + (b - a);
        return;
      }
      if (b === lo && pfn + (b - a) === this.pfn[s]) {
        this.lo[s] = a;
        this.pfn[s] = pfn;
        this.present[s] = n + (b - a);
        return;
      }
      this.toEntries(s);
    }
    const e = this.entries(s)!;
    for (let i = a; i < b; i++) e[i] = pfn + (i - a) + 1;
    this.present[s] += b - a;
  }

  /**
   * PTE tables in the empty slots s, s + 1, … (at most k, up to the first slot that is not
   * empty), each with all its entries present: slot s + i maps pfn + i·n on. Returns how many.
   */
  fillNewTables(s: number, k: number, pfn: number): number {
    let i = 0;
    for (; i < k && this.kind[s + i] === SLOT_NONE; i++) {
      this.newTable(s + i);
      this.fill(s + i, 0, this.n, pfn + i * this.n);
    }
    return i;
  }

  /** PMD leaves in the empty slots s … s + k − 1: slot s + i maps pfn + i·n on. */
  setLeaves(s: number, k: number, pfn: number): void {
    for (let i = 0; i < k; i++) this.setLeaf(s + i, pfn + i * this.n);
  }

  /** Clear the entries [a, b) of slot s; returns how many were present. */
  clear(s: number, a: number, b: number): number {
    const e = this.entries(s);
    if (e === null) {
      const lo = this.lo[s];
      const hi = this.hi[s];
      const x = a > lo ? a : lo;
      const y = b < hi ? b : hi;
      if (y <= x || this.present[s] === 0) return 0;
      if (x === lo && y === hi) {
        this.resetRun(s);
      } else if (x === lo) {
        this.pfn[s] += y - lo;
        this.lo[s] = y;
        this.present[s] -= y - x;
      } else if (y === hi) {
        this.hi[s] = x;
        this.present[s] -= y - x;
      } else {
        this.toEntries(s);
        return this.clear(s, a, b);
      }
      this.ptes -= y - x;
      return y - x;
    }
    let n = 0;
    for (let i = a; i < b; i++) {
      if (e[i] !== 0) {
        e[i] = 0;
        n++;
      }
    }
    this.present[s] -= n;
    this.ptes -= n;
    if (this.present[s] === 0) {
      this.ent![s] = null; // empty again: back to run form
      this.resetRun(s);
    }
    return n;
  }

  /** Make slot s a PTE table with no entries. */
  newTable(s: number): void {
    this.kind[s] = SLOT_TABLE;
    this.resetRun(s);
    if (this.ent !== null) this.ent[s] = null;
    this.used++;
  }

  /** Make slot s a PMD leaf of pfn, replacing nothing. */
  setLeaf(s: number, pfn: number): void {
    if (this.kind[s] === SLOT_NONE) this.used++;
    if (this.kind[s] !== SLOT_LEAF) this.leafCount++;
    this.kind[s] = SLOT_LEAF;
    this.pfn[s] = pfn;
  }

  /** Empty slot s, whatever it holds. */
  clearSlot(s: number): void {
    if (this.kind[s] === SLOT_NONE) return;
    if (this.kind[s] === SLOT_LEAF) this.leafCount--;
    else {
      this.ptes -= this.present[s];
      this.resetRun(s);
      if (this.ent !== null) this.ent[s] = null;
    }
    this.kind[s] = SLOT_NONE;
    this.used--;
  }

  private resetRun(s: number): void {
    this.lo[s] = this.hi[s] = this.present[s] = 0;
    this.pfn[s] = 0;
  }

  private toEntries(s: number): void {
    const e = new Float64Array(this.n);
    const lo = this.lo[s];
    const pfn = this.pfn[s];
    for (let i = lo; i < this.hi[s]; i++) e[i] = pfn + (i - lo) + 1;
    (this.ent ??= new Array<Float64Array | null>(this.n).fill(null))[s] = e;
  }
}

/** What a range of the page tables holds, by leaf size. */
export interface LeafCount {
  pud: number;
  pmd: number;
  pte: number;
}

export class PageTables {
  /** entries per table, and the pages one PMD and one PUD entry map */
  readonly n: number;
  readonly pmdPages: number;
  readonly pudPages: number;
  /** per PUD slot (page >> pudOrder): a PMD table or a PUD leaf pfn */
  readonly pud = new Map<number, PmdTable | number>();
  /** page-table pages in use below the PUD level (PMD tables + PTE tables) */
  tables = 0;
  // the PMD table of the last 2 MiB block whose PTE table was looked up (faults come in runs)
  private cacheBlock = -1;
  private cachePmd: PmdTable | null = null;

  constructor(geo: ArchGeometry) {
    this.n = geo.ptrsPerTable;
    this.pmdPages = geo.pmdPages;
    this.pudPages = geo.pudPages;
  }

  /** The PMD table whose slot for pg holds a PTE table, allocating both as needed. */
  pteFor(pg: number): PmdTable {
    const b = Math.floor(pg / this.pmdPages);
    if (b === this.cacheBlock) return this.cachePmd!;
    const t = this.pmdAlloc(pg);
    this.pteAlloc(t, pg);
    this.cacheBlock = b;
    this.cachePmd = t;
    return t;
  }

  pudSlot(pg: number): PmdTable | number | undefined {
    return this.pud.get(Math.floor(pg / this.pudPages));
  }

  /** pmd_alloc(): the PMD table for pg's 1 GiB slot, allocated when the slot is empty. */
  pmdAlloc(pg: number): PmdTable {
    const k = Math.floor(pg / this.pudPages);
    let e = this.pud.get(k);
    if (e === undefined) {
      e = new PmdTable(this.n);
      this.pud.set(k, e);
      this.tables++;
    }
    if (typeof e === 'number') throw new Error('pmdAlloc under a PUD leaf');
    return e;
  }

  /** pte_alloc(): a PTE table in pg's 2 MiB slot of t. */
  pteAlloc(t: PmdTable, pg: number): void {
    const s = Math.floor(pg / this.pmdPages) % this.n;
    const k = t.kind[s];
    if (k === SLOT_NONE) {
      t.newTable(s);
      this.tables++;
    } else if (k === SLOT_LEAF) throw new Error('pteAlloc under a PMD leaf');
  }

  /**
   * Map [start, end) with PTEs, page start to pfn, in order: what a run of PTE faults (or a
   * prefault of the whole VMA) installs. Entries already present are left as they are. A
   * whole block whose PMD slot is empty gets a new PTE table holding one run.
   */
  fillPtes(start: number, end: number, pfn: number): void {
    const P = this.pmdPages;
    let p = start;
    while (p < end) {
      const t = this.pmdAlloc(p);
      const g = Math.floor(p / this.pudPages);
      const gEnd = (g + 1) * this.pudPages < end ? (g + 1) * this.pudPages : end;
      while (p < gEnd) {
        const m = Math.floor(p / P);
        const base = m * P;
        const s = m % this.n;
        const stop = base + P < gEnd ? base + P : gEnd;
        if (p === base && stop === base + P && t.kind[s] === SLOT_NONE) {
          // whole blocks with empty slots: pte_alloc() and every entry, a run per table
          const k = t.fillNewTables(s, Math.floor((gEnd - p) / P), pfn + (p - start));
          this.tables += k;
          p += k * P;
          continue;
        }
        this.pteAlloc(t, p);
        let i = p - base;
        const j = stop - base;
        while (i < j) {
          const a = t.nextEmpty(s, i, j);
          if (a === j) break;
          const b = t.nextPresent(s, a, j);
          t.fill(s, a, b, pfn + (base + a - start));
          i = b;
        }
        p = stop;
      }
    }
  }

  setPudLeaf(pg: number, pfn: number): void {
    this.cacheBlock = -1;
    this.pud.set(Math.floor(pg / this.pudPages), pfn);
  }

  setPmdLeaf(t: PmdTable, pg: number, pfn: number): void {
    t.setLeaf(Math.floor(pg / this.pmdPages) % this.n, pfn);
  }

  /** The leaves that cover [start, end) (page numbers): one TLB entry each. */
  leaves(start: number, end: number): LeafCount {
    const c: LeafCount = { pud: 0, pmd: 0, pte: 0 };
    for (let g = Math.floor(start / this.pudPages); g * this.pudPages < end; g++) {
      const e = this.pud.get(g);
      if (e === undefined) continue;
      if (typeof e === 'number') {
        c.pud++;
        continue;
      }
      const gs = g * this.pudPages;
      if (start <= gs && end >= gs + this.pudPages) {
        c.pmd += e.leafCount;
        c.pte += e.ptes;
        continue;
      }
      const lo = Math.max(start, gs);
      const hi = Math.min(end, gs + this.pudPages);
      for (let m = Math.floor(lo / this.pmdPages); m * this.pmdPages < hi; m++) {
        const s = m % this.n;
        const k = e.kind[s];
        if (k === SLOT_NONE) continue;
        if (k === SLOT_LEAF) {
          c.pmd++;
          continue;
        }
        const a = Math.max(lo, m * this.pmdPages) - m * this.pmdPages;
        const b = Math.min(hi, (m + 1) * this.pmdPages) - m * this.pmdPages;
        c.pte += e.count(s, a, b);
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
    for (let g = Math.floor(start / this.pudPages); g * this.pudPages < end; g++) {
      const e = this.pud.get(g);
      if (e === undefined) continue;
      const gs = g * this.pudPages;
      if (typeof e === 'number') {
        if (start > gs || end < gs + this.pudPages) pudSplit++;
        this.pud.delete(g);
        continue;
      }
      if (e.leafCount === 0 && e.ptes === 0) continue;
      const lo = Math.max(start, gs);
      const hi = Math.min(end, gs + this.pudPages);
      for (let m = Math.floor(lo / this.pmdPages); m * this.pmdPages < hi; m++) {
        const s = m % this.n;
        const k = e.kind[s];
        if (k === SLOT_NONE) continue;
        const ms = m * this.pmdPages;
        if (k === SLOT_LEAF) {
          if (lo > ms || hi < ms + this.pmdPages) pmdSplit++;
          e.clearSlot(s);
          continue;
        }
        e.clear(s, Math.max(lo, ms) - ms, Math.min(hi, ms + this.pmdPages) - ms);
      }
    }
    return { pudSplit, pmdSplit };
  }

  /**
   * change_protection() over [start, end) (mm/mprotect.c change_pud_range /
   * change_pmd_range): a huge leaf the range covers only in part is split, which for a
   * pfnmap clears it whole (__split_huge_pud_locked / __split_huge_pmd_locked); the leaves
   * it covers whole keep their mapping (change_huge_pud / change_huge_pmd), PTEs too.
   */
  splitPartialLeaves(start: number, end: number): void {
    this.cacheBlock = -1;
    for (let g = Math.floor(start / this.pudPages); g * this.pudPages < end; g++) {
      const e = this.pud.get(g);
      if (e === undefined) continue;
      const gs = g * this.pudPages;
      if (typeof e === 'number') {
        if (start > gs || end < gs + this.pudPages) this.pud.delete(g);
        continue;
      }
      if (e.leafCount === 0) continue;
      for (const ms of [Math.floor(Math.max(start, gs) / this.pmdPages) * this.pmdPages, Math.floor((Math.min(end, gs + this.pudPages) - 1) / this.pmdPages) * this.pmdPages]) {
        const s = (ms / this.pmdPages) % this.n;
        if (e.kind[s] === SLOT_LEAF && (start > ms || end < ms + this.pmdPages)) e.clearSlot(s);
      }
    }
  }

  /**
   * free_pgtables() / free_pgd_range() after unmapping [start, end) with the neighbouring
   * VMAs ending at floor and starting at ceiling (0: none above): free the PTE tables of
   * 2 MiB blocks and the PMD tables of 1 GiB blocks that no neighbour can still use.
   */
  freePgtables(start: number, end: number, floor: number, ceiling: number): void {
    this.cacheBlock = -1;
    // PTE tables: whole 2 MiB blocks inside [round_up(floor), round_down(ceiling))
    let lo = Math.floor(start / this.pmdPages) * this.pmdPages;
    if (lo < floor) lo += this.pmdPages;
    let hi = Math.ceil(end / this.pmdPages) * this.pmdPages;
    if (ceiling !== 0) {
      const c = Math.floor(ceiling / this.pmdPages) * this.pmdPages;
      if (hi > c) hi -= this.pmdPages;
    }
    for (let m = lo / this.pmdPages; m * this.pmdPages < hi; m++) {
      const e = this.pud.get(Math.floor((m * this.pmdPages) / this.pudPages));
      if (e === undefined || typeof e === 'number') continue;
      if (e.kind[m % this.n] === SLOT_TABLE) {
        e.clearSlot(m % this.n);
        this.tables--;
      }
    }
    // PMD tables (free_pmd_range): a 1 GiB block that starts at or above floor, where the
    // freed part ends at or below ceiling rounded down to 1 GiB
    const pudCeiling = ceiling === 0 ? 0 : Math.floor(ceiling / this.pudPages) * this.pudPages;
    for (let g = Math.floor(start / this.pudPages); g * this.pudPages < end; g++) {
      const gs = g * this.pudPages;
      if (gs < floor) continue;
      if (ceiling !== 0 && (pudCeiling === 0 || Math.min(end, gs + this.pudPages) > pudCeiling)) continue;
      const e = this.pud.get(g);
      if (e === undefined || typeof e === 'number') continue;
      // any PTE tables still hanging here belong to the range being freed
      for (let s = 0; s < this.n; s++) if (e.kind[s] === SLOT_TABLE) this.tables--;
      this.pud.delete(g);
      this.tables--;
    }
  }
}
