// The VMA index with the largest free gap per subtree: the job the maple tree does for
// mm->mm_mt (lib/maple_tree.c mas_empty_area / mas_empty_area_rev), in our own shape.
//
// A B+tree keyed by vm_start with 16 slots per node, like a maple node. Nodes live in
// typed-array pools (ids, not objects): a leaf keeps its VMAs' (start, end) pairs side by
// side, an internal node keeps per child (lowest start, highest end, largest gap inside),
// so one node is a few contiguous cache lines and the tree makes no garbage.
// Free space is the maximal intervals between VMAs, plus [0, first) and [last, 2^64) —
// exactly the NULL ranges the maple tree joins.

import type { Vma } from './vma.js';
import { PAGES_2_64 } from '../lib/u64.js';

const B = 16; // slots per node
const MIN_FILL = 4; // join a node with a neighbour below this fill, when both fit in one
const LS = 2; // leaf slot stride: start, end
const IS = 3; // internal slot stride: min start, max end, max gap

// Results of summarize*(): min start, max end, max gap. A typed array, because a double
// written to a module variable would be boxed on every write.
const S = new Float64Array(3);

export class GapTree {
  count = 0;
  /** Tree height: 0 when the root is a leaf. */
  private height = 0;
  private root: number;

  // leaf pool
  private lCap = 0;
  private lN = new Int32Array(0);
  private lD = new Float64Array(0);
  private lV: (Vma | null)[] = [];
  private lFree: number[] = [];
  // internal-node pool
  private iCap = 0;
  private iN = new Int32Array(0);
  private iD = new Float64Array(0);
  private iK = new Int32Array(0);
  private iFree: number[] = [];

  // the root-to-leaf path of the last descent: internal node ids and child slots
  private readonly pathNode: number[] = new Array<number>(32).fill(0);
  private readonly pathIdx: number[] = new Array<number>(32).fill(0);
  private leafIdx = 0;

  constructor() {
    this.growLeaves(64);
    this.growInner(16);
    this.root = this.newLeaf();
  }

  // ---- pools --------------------------------------------------------------------------

  private growLeaves(cap: number): void {
    const n = new Int32Array(cap);
    n.set(this.lN);
    const d = new Float64Array(cap * B * LS);
    d.set(this.lD);
    for (let i = cap - 1; i >= this.lCap; i--) this.lFree.push(i);
    for (let i = this.lCap * B; i < cap * B; i++) this.lV.push(null);
    this.lN = n;
    this.lD = d;
    this.lCap = cap;
  }

  private growInner(cap: number): void {
    const n = new Int32Array(cap);
    n.set(this.iN);
    const d = new Float64Array(cap * B * IS);
    d.set(this.iD);
    const k = new Int32Array(cap * B);
    k.set(this.iK);
    for (let i = cap - 1; i >= this.iCap; i--) this.iFree.push(i);
    this.iN = n;
    this.iD = d;
    this.iK = k;
    this.iCap = cap;
  }

  private newLeaf(): number {
    if (this.lFree.length === 0) this.growLeaves(this.lCap * 2);
    const id = this.lFree.pop()!;
    this.lN[id] = 0;
    return id;
  }

  private newInner(): number {
    if (this.iFree.length === 0) this.growInner(this.iCap * 2);
    const id = this.iFree.pop()!;
    this.iN[id] = 0;
    return id;
  }

  private freeNode(id: number, leaf: boolean): void {
    if (leaf) this.lFree.push(id);
    else this.iFree.push(id);
  }

  // ---- summaries ------------------------------------------------------------------------

  private summarizeLeaf(l: number): void {
    const d = this.lD;
    const n = this.lN[l];
    const o = l * B * LS;
    let g = 0;
    for (let j = 1; j < n; j++) {
      const gap = d[o + j * LS] - d[o + (j - 1) * LS + 1];
      if (gap > g) g = gap;
    }
    S[0] = d[o];
    S[1] = d[o + (n - 1) * LS + 1];
    S[2] = g;
  }

  private summarizeInner(x: number): void {
    const d = this.iD;
    const n = this.iN[x];
    const o = x * B * IS;
    let g = d[o + 2];
    for (let i = 1; i < n; i++) {
      const p = o + i * IS;
      if (d[p + 2] > g) g = d[p + 2];
      const gap = d[p] - d[p - IS + 1];
      if (gap > g) g = gap;
    }
    S[0] = d[o];
    S[1] = d[o + (n - 1) * IS + 1];
    S[2] = g;
  }

  private summarize(id: number, leaf: boolean): void {
    if (leaf) this.summarizeLeaf(id);
    else this.summarizeInner(id);
  }

  /**
   * Child slot i of internal node p now holds `child`; refresh its cached summary.
   * Returns false when nothing changed (the ancestors' summaries stay valid then).
   */
  private setSlot(p: number, i: number, child: number, childLeaf: boolean): boolean {
    const k = p * B + i;
    this.summarize(child, childLeaf);
    const o = k * IS;
    const d = this.iD;
    const mn = S[0];
    const mx = S[1];
    const g = S[2];
    if (this.iK[k] === child && d[o] === mn && d[o + 1] === mx && d[o + 2] === g) return false;
    this.iK[k] = child;
    d[o] = mn;
    d[o + 1] = mx;
    d[o + 2] = g;
    return true;
  }

  // ---- slot moves (same kind of node) ---------------------------------------------------

  /** Open slot pos of node x, shifting its tail right by one. */
  private openSlot(x: number, leaf: boolean, pos: number): void {
    if (leaf) {
      const n = this.lN[x];
      const d = this.lD;
      const v = this.lV;
      const base = x * B;
      for (let i = n; i > pos; i--) {
        d[(base + i) * LS] = d[(base + i - 1) * LS];
        d[(base + i) * LS + 1] = d[(base + i - 1) * LS + 1];
        v[base + i] = v[base + i - 1];
      }
      this.lN[x] = n + 1;
    } else {
      const n = this.iN[x];
      const d = this.iD;
      const k = this.iK;
      const base = x * B;
      for (let i = n; i > pos; i--) {
        const t = (base + i) * IS;
        d[t] = d[t - IS];
        d[t + 1] = d[t - IS + 1];
        d[t + 2] = d[t - IS + 2];
        k[base + i] = k[base + i - 1];
      }
      this.iN[x] = n + 1;
    }
  }

  /** Close slot pos of node x, shifting its tail left by one. */
  private closeSlot(x: number, leaf: boolean, pos: number): void {
    if (leaf) {
      const n = this.lN[x];
      const d = this.lD;
      const v = this.lV;
      const base = x * B;
      for (let i = pos; i < n - 1; i++) {
        d[(base + i) * LS] = d[(base + i + 1) * LS];
        d[(base + i) * LS + 1] = d[(base + i + 1) * LS + 1];
        v[base + i] = v[base + i + 1];
      }
      v[base + n - 1] = null;
      this.lN[x] = n - 1;
    } else {
      const n = this.iN[x];
      const d = this.iD;
      const k = this.iK;
      const base = x * B;
      for (let i = pos; i < n - 1; i++) {
        const t = (base + i) * IS;
        d[t] = d[t + IS];
        d[t + 1] = d[t + IS + 1];
        d[t + 2] = d[t + IS + 2];
        k[base + i] = k[base + i + 1];
      }
      this.iN[x] = n - 1;
    }
  }

  /** Append slots [from, n) of x to y, leaving x with `from` slots. */
  private moveTail(x: number, y: number, leaf: boolean, from: number): void {
    if (leaf) {
      const nx = this.lN[x];
      const ny = this.lN[y];
      const d = this.lD;
      const v = this.lV;
      for (let i = from; i < nx; i++) {
        const s = (x * B + i);
        const t = (y * B + ny + i - from);
        d[t * LS] = d[s * LS];
        d[t * LS + 1] = d[s * LS + 1];
        v[t] = v[s];
        v[s] = null;
      }
      this.lN[y] = ny + nx - from;
      this.lN[x] = from;
    } else {
      const nx = this.iN[x];
      const ny = this.iN[y];
      const d = this.iD;
      const k = this.iK;
      for (let i = from; i < nx; i++) {
        const s = x * B + i;
        const t = y * B + ny + i - from;
        d[t * IS] = d[s * IS];
        d[t * IS + 1] = d[s * IS + 1];
        d[t * IS + 2] = d[s * IS + 2];
        k[t] = k[s];
      }
      this.iN[y] = ny + nx - from;
      this.iN[x] = from;
    }
  }

  private nodeN(id: number, leaf: boolean): number {
    return leaf ? this.lN[id] : this.iN[id];
  }

  // ---- descent --------------------------------------------------------------------------

  /** Descend to the leaf where key belongs, recording the path. */
  private descend(key: number): number {
    let x = this.root;
    const d = this.iD;
    for (let lvl = 0; lvl < this.height; lvl++) {
      const o = x * B;
      let i = this.iN[x] - 1;
      while (i > 0 && d[(o + i) * IS] > key) i--;
      this.pathNode[lvl] = x;
      this.pathIdx[lvl] = i;
      x = this.iK[o + i];
    }
    return x;
  }

  /** Descend to the slot holding v (leafIdx); throws if v is not in the tree. */
  private locate(v: Vma): number {
    const l = this.descend(v.start);
    const n = this.lN[l];
    const base = l * B;
    for (let j = 0; j < n; j++) {
      if (this.lV[base + j] === v) {
        this.leafIdx = j;
        return l;
      }
    }
    throw new Error('gap-tree: VMA not in the tree');
  }

  /** Refresh cached summaries along the recorded path, bottom up. */
  private refreshPath(leaf: number): void {
    let child = leaf;
    let childLeaf = true;
    for (let lvl = this.height - 1; lvl >= 0; lvl--) {
      const p = this.pathNode[lvl];
      if (!this.setSlot(p, this.pathIdx[lvl], child, childLeaf)) return;
      child = p;
      childLeaf = false;
    }
  }

  // ---- updates --------------------------------------------------------------------------

  insert(v: Vma): void {
    const key = v.start;
    const leaf = this.descend(key);
    let n = this.lN[leaf];
    let j = 0;
    const d = this.lD;
    while (j < n && d[(leaf * B + j) * LS] < key) j++;
    let target = leaf;
    let sibling = -1;
    if (n === B) {
      sibling = this.newLeaf();
      this.moveTail(leaf, sibling, true, B >> 1);
      n = this.lN[leaf];
      if (j > n) {
        target = sibling;
        j -= n;
      }
    }
    this.openSlot(target, true, j);
    const s = target * B + j;
    this.lD[s * LS] = key;
    this.lD[s * LS + 1] = v.end;
    this.lV[s] = v;
    this.count++;
    // walk up: refresh the slot we came through, place any new sibling beside it
    let child = leaf;
    let childLeaf = true;
    for (let lvl = this.height - 1; lvl >= 0; lvl--) {
      const p = this.pathNode[lvl];
      const i = this.pathIdx[lvl];
      const changed = this.setSlot(p, i, child, childLeaf);
      if (sibling >= 0) sibling = this.insertChild(p, i + 1, sibling, childLeaf);
      else if (!changed) return; // nothing above changes
      child = p;
      childLeaf = false;
    }
    if (sibling >= 0) {
      const r = this.newInner();
      this.iN[r] = 2;
      this.setSlot(r, 0, this.root, this.height === 0);
      this.setSlot(r, 1, sibling, this.height === 0);
      this.root = r;
      this.height++;
    }
  }

  /** Put child at slot pos of p; if p was full, split it and return its new right half. */
  private insertChild(p: number, pos: number, child: number, childLeaf: boolean): number {
    if (this.iN[p] < B) {
      this.openSlot(p, false, pos);
      this.setSlot(p, pos, child, childLeaf);
      return -1;
    }
    const right = this.newInner();
    this.moveTail(p, right, false, B >> 1);
    const half = this.iN[p];
    if (pos <= half) {
      this.openSlot(p, false, pos);
      this.setSlot(p, pos, child, childLeaf);
    } else {
      this.openSlot(right, false, pos - half);
      this.setSlot(right, pos - half, child, childLeaf);
    }
    return right;
  }

  remove(v: Vma): void {
    const leaf = this.locate(v);
    this.closeSlot(leaf, true, this.leafIdx);
    this.count--;
    let child = leaf;
    let childLeaf = true;
    for (let lvl = this.height - 1; lvl >= 0; lvl--) {
      const p = this.pathNode[lvl];
      const i = this.pathIdx[lvl];
      const cn = this.nodeN(child, childLeaf);
      if (cn === 0) {
        this.closeSlot(p, false, i);
        this.freeNode(child, childLeaf);
      } else if (cn < MIN_FILL && this.iN[p] > 1) {
        const li = i > 0 ? i - 1 : i;
        const left = this.iK[p * B + li];
        const right = this.iK[p * B + li + 1];
        if (this.nodeN(left, childLeaf) + this.nodeN(right, childLeaf) <= B) {
          this.moveTail(right, left, childLeaf, 0);
          this.closeSlot(p, false, li + 1);
          this.freeNode(right, childLeaf);
          this.setSlot(p, li, left, childLeaf);
        } else this.setSlot(p, i, child, childLeaf);
      } else if (!this.setSlot(p, i, child, childLeaf)) {
        break; // no structural change here and the summary held: nothing above changes
      }
      child = p;
      childLeaf = false;
    }
    while (this.height > 0 && this.iN[this.root] === 1) {
      const old = this.root;
      this.root = this.iK[old * B];
      this.freeNode(old, false);
      this.height--;
    }
  }

  /** Change an in-tree VMA's bounds; the caller keeps the tree sorted and disjoint. */
  adjust(v: Vma, start: number, end: number): void {
    const leaf = this.locate(v);
    v.start = start;
    v.end = end;
    const s = leaf * B + this.leafIdx;
    this.lD[s * LS] = start;
    this.lD[s * LS + 1] = end;
    this.refreshPath(leaf);
  }

  // ---- lookups --------------------------------------------------------------------------

  /** find_vma(): the first VMA with end > addr. */
  findVma(addr: number): Vma | null {
    let x = this.root;
    const d = this.iD;
    for (let lvl = 0; lvl < this.height; lvl++) {
      const o = x * B;
      const n = this.iN[x];
      let i = 0;
      while (i < n && d[(o + i) * IS + 1] <= addr) i++;
      if (i === n) return null;
      x = this.iK[o + i];
    }
    const n = this.lN[x];
    const ld = this.lD;
    const o = x * B;
    for (let j = 0; j < n; j++) if (ld[(o + j) * LS + 1] > addr) return this.lV[o + j];
    return null;
  }

  private leftmostVma(id: number, lvl: number): Vma {
    for (; lvl < this.height; lvl++) id = this.iK[id * B];
    return this.lV[id * B]!;
  }

  /** The VMA that follows v. */
  next(v: Vma): Vma | null {
    const leaf = this.locate(v);
    if (this.leafIdx + 1 < this.lN[leaf]) return this.lV[leaf * B + this.leafIdx + 1];
    for (let lvl = this.height - 1; lvl >= 0; lvl--) {
      const p = this.pathNode[lvl];
      const i = this.pathIdx[lvl];
      if (i + 1 < this.iN[p]) return this.leftmostVma(this.iK[p * B + i + 1], lvl + 1);
    }
    return null;
  }

  /** The last VMA starting below key. */
  prevOf(key: number): Vma | null {
    let x = this.root;
    const d = this.iD;
    for (let lvl = 0; lvl < this.height; lvl++) {
      const o = x * B;
      let i = this.iN[x] - 1;
      while (i >= 0 && d[(o + i) * IS] >= key) i--;
      if (i < 0) return null;
      x = this.iK[o + i];
    }
    const ld = this.lD;
    const o = x * B;
    for (let j = this.lN[x] - 1; j >= 0; j--) if (ld[(o + j) * LS] < key) return this.lV[o + j];
    return null;
  }

  first(): Vma | null {
    return this.count === 0 ? null : this.leftmostVma(this.root, 0);
  }

  toArray(): Vma[] {
    const out: Vma[] = [];
    const walk = (x: number, lvl: number): void => {
      if (lvl === this.height) for (let j = 0; j < this.lN[x]; j++) out.push(this.lV[x * B + j]!);
      else for (let i = 0; i < this.iN[x]; i++) walk(this.iK[x * B + i], lvl + 1);
    };
    walk(this.root, 0);
    return out;
  }

  /** Check every cached copy and summary against a recomputation (for tests). */
  checkInvariants(): void {
    const fail = (m: string) => {
      throw new Error(`gap-tree invariant: ${m}`);
    };
    const walk = (x: number, lvl: number): void => {
      if (lvl === this.height) {
        const n = this.lN[x];
        if (x !== this.root && n === 0) fail('empty leaf');
        for (let j = 0; j < n; j++) {
          const v = this.lV[x * B + j]!;
          const s = (x * B + j) * LS;
          if (v.start !== this.lD[s] || v.end !== this.lD[s + 1]) fail('leaf copy of a VMA is stale');
          if (!(v.start < v.end)) fail('empty VMA');
          if (j > 0 && this.lD[s - LS + 1] > this.lD[s]) fail('overlap or disorder in a leaf');
        }
        return;
      }
      const n = this.iN[x];
      if (n === 0 || (x !== this.root && n === 0)) fail('empty internal node');
      for (let i = 0; i < n; i++) {
        const k = this.iK[x * B + i];
        walk(k, lvl + 1);
        this.summarize(k, lvl + 1 === this.height);
        const o = (x * B + i) * IS;
        if (this.iD[o] !== S[0] || this.iD[o + 1] !== S[1] || this.iD[o + 2] !== S[2]) fail('stale child summary');
        if (i > 0 && this.iD[o - IS + 1] > this.iD[o]) fail('overlap or disorder between children');
      }
    };
    walk(this.root, 0);
    if (this.toArray().length !== this.count) fail('count');
  }

  // ---- free-area searches -------------------------------------------------------------
  // Results land in gapA/gapB/gapNext (no allocation on the hot path).

  /** The last search's interval [gapA, gapB) and the VMA starting at gapB (null at the top). */
  private readonly gap = new Float64Array(2);
  /** The window [lo, hi) and size of the running search (not passed down, to avoid boxing). */
  private readonly win = new Float64Array(3);
  gapNext: Vma | null = null;
  get gapA(): number {
    return this.gap[0];
  }
  get gapB(): number {
    return this.gap[1];
  }

  /**
   * mas_empty_area(): find the lowest maximal free interval whose part inside [lo, hi)
   * holds at least `size` pages. False when none does.
   */
  lowestGap(lo: number, hi: number, size: number): boolean {
    if (this.count === 0) return this.found(fits(0, PAGES_2_64, lo, hi, size), 0, PAGES_2_64, null);
    this.summarize(this.root, this.height === 0);
    const min = S[0];
    const max = S[1];
    if (fits(0, min, lo, hi, size)) return this.found(true, 0, min, this.first());
    this.win[0] = lo;
    this.win[1] = hi;
    this.win[2] = size;
    const r = this.lowestIn(this.root, 0);
    if (r !== NONE) return r === FOUND;
    return this.found(fits(max, PAGES_2_64, lo, hi, size), max, PAGES_2_64, null);
  }

  /** mas_empty_area_rev(): the highest such interval. */
  highestGap(lo: number, hi: number, size: number): boolean {
    if (this.count === 0) return this.found(fits(0, PAGES_2_64, lo, hi, size), 0, PAGES_2_64, null);
    this.summarize(this.root, this.height === 0);
    const min = S[0];
    const max = S[1];
    if (fits(max, PAGES_2_64, lo, hi, size)) return this.found(true, max, PAGES_2_64, null);
    this.win[0] = lo;
    this.win[1] = hi;
    this.win[2] = size;
    const r = this.highestIn(this.root, 0);
    if (r !== NONE) return r === FOUND;
    return this.found(fits(0, min, lo, hi, size), 0, min, this.first());
  }

  private found(ok: boolean, a: number, b: number, next: Vma | null): boolean {
    if (ok) {
      this.gap[0] = a;
      this.gap[1] = b;
      this.gapNext = next;
    }
    return ok;
  }

  private hit(a: number, b: number, next: Vma): number {
    this.gap[0] = a;
    this.gap[1] = b;
    this.gapNext = next;
    return FOUND;
  }

  // In-order walk over the gaps inside a subtree, pruned by the child summaries. Gaps the
  // window clips can only sit at its two edges, so the walk follows O(log n) paths.
  private lowestIn(x: number, lvl: number): number {
    const lo = this.win[0];
    const hi = this.win[1];
    const size = this.win[2];
    if (lvl === this.height) {
      const d = this.lD;
      const o = x * B * LS;
      const n = this.lN[x];
      for (let j = 1; j < n; j++) {
        const a = d[o + (j - 1) * LS + 1];
        const b = d[o + j * LS];
        if (b - a < size) continue; // too small even unclipped (most neighbours touch)
        if (hi - a < size) return STOP;
        if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return this.hit(a, b, this.lV[x * B + j]!);
      }
      return NONE;
    }
    const d = this.iD;
    const o = x * B * IS;
    const n = this.iN[x];
    for (let i = 0; i < n; i++) {
      const p = o + i * IS;
      if (hi - d[p] < size) return STOP;
      if (d[p + 2] >= size && d[p + 1] - lo >= size) {
        const r = this.lowestIn(this.iK[x * B + i], lvl + 1);
        if (r !== NONE) return r;
      }
      if (i + 1 < n) {
        const a = d[p + 1];
        const b = d[p + IS];
        if (b - a < size) continue;
        if (hi - a < size) return STOP;
        if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return this.hit(a, b, this.leftmostVma(this.iK[x * B + i + 1], lvl + 1));
      }
    }
    return NONE;
  }

  private highestIn(x: number, lvl: number): number {
    const lo = this.win[0];
    const hi = this.win[1];
    const size = this.win[2];
    if (lvl === this.height) {
      const d = this.lD;
      const o = x * B * LS;
      for (let j = this.lN[x] - 1; j >= 1; j--) {
        const b = d[o + j * LS];
        const a = d[o + (j - 1) * LS + 1];
        if (b - a < size) continue;
        if (b - lo < size) return STOP;
        if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return this.hit(a, b, this.lV[x * B + j]!);
      }
      return NONE;
    }
    const d = this.iD;
    const o = x * B * IS;
    for (let i = this.iN[x] - 1; i >= 0; i--) {
      const p = o + i * IS;
      if (d[p + 1] - lo < size) return STOP;
      if (d[p + 2] >= size && hi - d[p] >= size) {
        const r = this.highestIn(this.iK[x * B + i], lvl + 1);
        if (r !== NONE) return r;
      }
      if (i > 0) {
        const b = d[p];
        const a = d[p - IS + 1];
        if (b - a < size) continue;
        if (b - lo < size) return STOP;
        if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return this.hit(a, b, this.leftmostVma(this.iK[x * B + i], lvl + 1));
      }
    }
    return NONE;
  }
}

/** |[a, b) ∩ [lo, hi)| >= size */
function fits(a: number, b: number, lo: number, hi: number, size: number): boolean {
  const s = a > lo ? a : lo;
  const e = b < hi ? b : hi;
  return e - s >= size;
}

// Walk outcomes: nothing in this subtree, found, or stop — a gap beyond the window's far
// edge was reached, so no later gap can fit either.
const NONE = 0;
const FOUND = 1;
const STOP = 2;
