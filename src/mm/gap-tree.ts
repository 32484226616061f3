// The VMA index with the largest free gap per subtree: the job the maple tree does for
// mm->mm_mt (lib/maple_tree.c mas_empty_area / mas_empty_area_rev).
//
// A treap keyed by vm_start. Each node summarises its subtree: the lowest start, the
// highest end and the largest gap between two consecutive VMAs inside it. The summary
// depends only on the subtree, so inserts, removals and resizes refresh one root path.
// Free space is the maximal intervals between VMAs, plus [0, first) and [last, 2^64),
// exactly the NULL ranges the maple tree joins.

import { Vma } from './vma.js';
import { PAGES_2_64 } from '../lib/u64.js';

function refresh(n: Vma): void {
  let minStart = n.start;
  let maxEnd = n.end;
  let g = 0;
  const l = n.l;
  const r = n.r;
  if (l !== null) {
    minStart = l.minStart;
    g = l.maxGap;
    const d = n.start - l.maxEnd;
    if (d > g) g = d;
  }
  if (r !== null) {
    maxEnd = r.maxEnd;
    if (r.maxGap > g) g = r.maxGap;
    const d = r.minStart - n.end;
    if (d > g) g = d;
  }
  n.minStart = minStart;
  n.maxEnd = maxEnd;
  n.maxGap = g;
}

function merge(a: Vma | null, b: Vma | null): Vma | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.prio > b.prio) {
    a.r = merge(a.r, b);
    refresh(a);
    return a;
  }
  b.l = merge(a, b.l);
  refresh(b);
  return b;
}

let splitL: Vma | null = null;
let splitR: Vma | null = null;
/** Split t into splitL (start < key) and splitR (start >= key). */
function split(t: Vma | null, key: number): void {
  if (t === null) {
    splitL = splitR = null;
    return;
  }
  if (t.start < key) {
    split(t.r, key);
    t.r = splitL;
    refresh(t);
    splitL = t;
  } else {
    split(t.l, key);
    t.l = splitR;
    refresh(t);
    splitR = t;
  }
}

export class GapTree {
  root: Vma | null = null;
  count = 0;
  private seed: number;
  /** The root-to-node path of the last update; reused (setting length 0 would free it). */
  private readonly path: Vma[] = new Array<Vma>(128);

  constructor(seed = 0x9e3779b9) {
    this.seed = seed >>> 0 || 1;
  }

  private nextPrio(): number {
    // xorshift32: deterministic priorities, so two runs build the same tree
    let x = this.seed;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.seed = x;
    return x | 0; // a small integer, so the field never needs a heap number
  }

  insert(v: Vma): void {
    v.prio = this.nextPrio();
    v.l = v.r = null;
    const path = this.path;
    let n = 0;
    let parent: Vma | null = null;
    let t = this.root;
    while (t !== null && t.prio > v.prio) {
      path[n++] = t;
      parent = t;
      t = v.start < t.start ? t.l : t.r;
    }
    split(t, v.start);
    v.l = splitL;
    v.r = splitR;
    splitL = splitR = null;
    refresh(v);
    if (parent === null) this.root = v;
    else if (v.start < parent.start) parent.l = v;
    else parent.r = v;
    while (n > 0) refresh(path[--n]);
    this.count++;
  }

  remove(v: Vma): void {
    const path = this.path;
    let n = 0;
    let parent: Vma | null = null;
    let t = this.root;
    while (t !== null && t !== v) {
      path[n++] = t;
      parent = t;
      t = v.start < t.start ? t.l : t.r;
    }
    if (t === null) throw new Error('gap-tree: removing a VMA that is not in the tree');
    const sub = merge(v.l, v.r);
    if (parent === null) this.root = sub;
    else if (parent.l === v) parent.l = sub;
    else parent.r = sub;
    while (n > 0) refresh(path[--n]);
    v.l = v.r = null;
    this.count--;
  }

  /** Change an in-tree VMA's bounds; the caller keeps the tree sorted and disjoint. */
  adjust(v: Vma, start: number, end: number): void {
    const path = this.path;
    let n = 0;
    let t = this.root;
    while (t !== null && t !== v) {
      path[n++] = t;
      t = v.start < t.start ? t.l : t.r;
    }
    if (t === null) throw new Error('gap-tree: adjusting a VMA that is not in the tree');
    v.start = start;
    v.end = end;
    refresh(v);
    while (n > 0) refresh(path[--n]);
  }

  /** find_vma(): the first VMA with end > addr. */
  findVma(addr: number): Vma | null {
    let cand: Vma | null = null;
    let t = this.root;
    while (t !== null) {
      if (t.end > addr) {
        cand = t;
        t = t.l;
      } else t = t.r;
    }
    return cand;
  }

  /** The VMA that follows v. */
  next(v: Vma): Vma | null {
    let cand: Vma | null = null;
    let t = this.root;
    const key = v.start;
    while (t !== null) {
      if (t.start > key) {
        cand = t;
        t = t.l;
      } else t = t.r;
    }
    return cand;
  }

  /** The VMA that precedes v (or precedes address key when v is a number). */
  prevOf(key: number): Vma | null {
    let cand: Vma | null = null;
    let t = this.root;
    while (t !== null) {
      if (t.start < key) {
        cand = t;
        t = t.r;
      } else t = t.l;
    }
    return cand;
  }

  first(): Vma | null {
    let t = this.root;
    if (t === null) return null;
    while (t.l !== null) t = t.l;
    return t;
  }

  toArray(): Vma[] {
    const out: Vma[] = [];
    const stack: Vma[] = [];
    let t = this.root;
    while (t !== null || stack.length > 0) {
      while (t !== null) {
        stack.push(t);
        t = t.l;
      }
      const n = stack.pop()!;
      out.push(n);
      t = n.r;
    }
    return out;
  }

  // ---- free-area searches -------------------------------------------------------------
  // Results land in gapA/gapB/gapNext (no allocation on the hot path).

  /** The last search's interval [gapA, gapB) and the VMA starting at gapB (null at the top). */
  gapA = 0;
  gapB = 0;
  gapNext: Vma | null = null;

  /**
   * mas_empty_area(): find the lowest maximal free interval whose part inside [lo, hi)
   * holds at least `size` pages. False when none does.
   */
  lowestGap(lo: number, hi: number, size: number): boolean {
    const root = this.root;
    if (root === null) return this.found(fits(0, PAGES_2_64, lo, hi, size), 0, PAGES_2_64, null);
    if (fits(0, root.minStart, lo, hi, size)) return this.found(true, 0, root.minStart, this.first());
    res = this;
    const r = lowestIn(root, lo, hi, size);
    if (r !== NONE) return r === FOUND;
    return this.found(fits(root.maxEnd, PAGES_2_64, lo, hi, size), root.maxEnd, PAGES_2_64, null);
  }

  /** mas_empty_area_rev(): the highest such interval. */
  highestGap(lo: number, hi: number, size: number): boolean {
    const root = this.root;
    if (root === null) return this.found(fits(0, PAGES_2_64, lo, hi, size), 0, PAGES_2_64, null);
    if (fits(root.maxEnd, PAGES_2_64, lo, hi, size)) return this.found(true, root.maxEnd, PAGES_2_64, null);
    res = this;
    const r = highestIn(root, lo, hi, size);
    if (r !== NONE) return r === FOUND;
    return this.found(fits(0, root.minStart, lo, hi, size), 0, root.minStart, this.first());
  }

  private found(ok: boolean, a: number, b: number, next: Vma | null): boolean {
    if (ok) {
      this.gapA = a;
      this.gapB = b;
      this.gapNext = next;
    }
    return ok;
  }
}

/** |[a, b) ∩ [lo, hi)| >= size */
function fits(a: number, b: number, lo: number, hi: number, size: number): boolean {
  const s = a > lo ? a : lo;
  const e = b < hi ? b : hi;
  return e - s >= size;
}

function leftmost(t: Vma): Vma {
  while (t.l !== null) t = t.l;
  return t;
}

// Walk outcomes: nothing in this subtree, found (in res), or stop — a gap beyond the
// window's far edge was reached, so no later gap can fit either.
const NONE = 0;
const FOUND = 1;
const STOP = 2;
let res: GapTree | null = null;

function hit(a: number, b: number, next: Vma): number {
  const r = res!;
  r.gapA = a;
  r.gapB = b;
  r.gapNext = next;
  return FOUND;
}

// In-order walk over the gaps inside subtree t, pruned by the summaries. Gaps that the
// window clips can only sit at its two edges, so the walk follows O(log n) paths.
function lowestIn(t: Vma | null, lo: number, hi: number, size: number): number {
  if (t === null || t.maxGap < size || t.maxEnd - lo < size) return NONE;
  if (hi - t.minStart < size) return STOP;
  const l = t.l;
  if (l !== null) {
    const g = lowestIn(l, lo, hi, size);
    if (g !== NONE) return g;
    if (fits(l.maxEnd, t.start, lo, hi, size)) return hit(l.maxEnd, t.start, t);
    if (hi - l.maxEnd < size) return STOP;
  }
  const r = t.r;
  if (r !== null) {
    if (fits(t.end, r.minStart, lo, hi, size)) return hit(t.end, r.minStart, leftmost(r));
    if (hi - t.end < size) return STOP;
    return lowestIn(r, lo, hi, size);
  }
  return NONE;
}

function highestIn(t: Vma | null, lo: number, hi: number, size: number): number {
  if (t === null || t.maxGap < size || hi - t.minStart < size) return NONE;
  if (t.maxEnd - lo < size) return STOP;
  const r = t.r;
  if (r !== null) {
    const g = highestIn(r, lo, hi, size);
    if (g !== NONE) return g;
    if (fits(t.end, r.minStart, lo, hi, size)) return hit(t.end, r.minStart, leftmost(r));
    if (r.minStart - lo < size) return STOP;
  }
  const l = t.l;
  if (l !== null) {
    if (fits(l.maxEnd, t.start, lo, hi, size)) return hit(l.maxEnd, t.start, t);
    if (t.start - lo < size) return STOP;
    return highestIn(l, lo, hi, size);
  }
  return NONE;
}
