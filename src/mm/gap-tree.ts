// The VMA index with the largest free gap per subtree: the job the maple tree does for
// mm->mm_mt (lib/maple_tree.c mas_empty_area / mas_empty_area_rev), in our own shape.
//
// A B+tree keyed by vm_start with 16 slots per node, like a maple node. Nodes live in
// typed-array pools (ids, not objects), and each node is one record, as a maple node is one
// 256-byte block: a leaf's 16 starts then its 16 ends (256 bytes), an internal node's 16
// child minima, maxima and largest inner gaps, then its child ids and count (512 bytes).
// A descent through a million VMAs then touches one page and a few adjacent cache lines
// per node, not one per field array; and the tree makes no garbage.
// Free space is the maximal intervals between VMAs, plus [0, first) and [last, 2^64) —
// exactly the NULL ranges the maple tree joins.

import type { Vma } from './vma.js';
import { PAGES_2_64 } from '../lib/u64.js';

const BSHIFT = 4;
const B = 1 << BSHIFT; // slots per node: 16
const MIN_FILL = B >> 1; // below this a node is merged with, or evened out against, a neighbour

// A leaf record, in doubles: starts at [0, B), ends at [LE, LE + B).
const LS = 2 * B;
const LE = B;
// An internal record, in doubles: child minima at [0, B), maxima at [IMAX, IMAX + B),
// largest inner gaps at [IGAP, IGAP + B); then, read as int32s (2 per double), the child
// ids at [ICH, ICH + B) and the count at ICNT of the record's 2 * IS int32s.
const IS = 64;
const IMAX = B;
const IGAP = 2 * B;
const ICH = 6 * B;
const ICNT = ICH + B;
const IS2 = 2 * IS;

// Results of summarize*(): min start, max end, max gap. A typed array, because a double
// written to a module variable would be boxed on every write.
const S = new Float64Array(3);

export class GapTree {
  count = 0;
  /** Tree height: 0 when the root is a leaf. */
  private height = 0;
  private root: number;

  // leaf pool: leaf l's record at lf[l * LS], its count at lN[l]; the VMA of its slot j at
  // lV[l * B + j]. A leaf slot k (lastly found, the sides of a gap) is that lV index.
  private lCap = 0;
  private lN = new Int32Array(0);
  private lf = new Float64Array(0);
  private lV: (Vma | null)[] = [];
  private lFree: number[] = [];
  // internal-node pool: node x's record at nd[x * IS], its ints at ni[x * IS2] (one buffer)
  private iCap = 0;
  private nd = new Float64Array(0);
  private ni = new Int32Array(0);
  private iFree: number[] = [];

  // the root-to-leaf path of the last descent: internal node ids and child slots
  private readonly pathNode: number[] = new Array<number>(32).fill(0);
  private readonly pathIdx: number[] = new Array<number>(32).fill(0);
  private leafIdx = 0;
  /**
   * The leaf the recorded path leads to, -1 when the path is stale. A lookup that descends
   * (descend, findVma) records it; insert and remove keep it unless they split, merged or
   * freed a node; adjust keeps it (the nodes stay). locate() of a VMA in this leaf then needs
   * no descent.
   */
  private pathLeaf = -1;
  /** Bumped by every change (insert, remove, adjust): a search result is valid while it stands. */
  private version = 0;
  /** The version the last search's gap was found at, and the leaf slot of its gapNext (-1: unknown). */
  private gapVersion = -1;
  private gapSlot = -1;
  /** The leaf slot of the VMA just below the last search's gap (-1: unknown). */
  private gapPrevSlot = -1;
  /**
   * Where an insert into the last search's gap goes, as descend() would place it: a leaf
   * and a position in it (insLeaf -1: unknown). The search recorded the path to that leaf.
   */
  private insLeaf = -1;
  private insPos = 0;
  // the leaf slots of the last findVma() answer and of the VMA before it, -1 when unknown
  private foundSlot = -1;
  private foundPrev = -1;
  /**
   * A removal not yet closed up (-1: none): the leaf slot of a VMA removed from between two
   * neighbours in its leaf, now an empty interval at its predecessor's end with no VMA. Every
   * gap and bound reads as if the slot were gone, so the summaries were updated as for the
   * removal and lookups pass over it. An insert into the gap it left (munmap, then an mmap
   * placed where the old one was) takes the slot back without shifting the leaf; anything
   * else closes it first (closeHole), which leaves the tree as an immediate removal would.
   */
  private hole = -1;
  /**
   * What the removal that left the hole changed above its leaf, to undo when the same
   * bounds come back: the removed VMA's start and end (undoVal[0, 2)), then the old values
   * of the summary gaps it raised (undoVal[2 + i] was at nd[undoAt[i]]), undoN of them;
   * -1 when it restructured a node (then the refill recomputes).
   */
  private readonly undoVal = new Float64Array(2 + 32);
  private readonly undoAt = new Int32Array(32);
  private undoN = -1;

  /** Nodes on a root-to-leaf path: the number of nodes a descent reads. */
  get levels(): number {
    return this.height + 1;
  }

  /** one past the last page number of the address space: 2^64 bytes in pages */
  constructor(readonly end: number = PAGES_2_64) {
    this.growLeaves(64);
    this.growInner(16);
    this.root = this.newLeaf();
  }

  // ---- pools --------------------------------------------------------------------------

  private growLeaves(cap: number): void {
    this.lN = grown(this.lN, cap);
    this.lf = grown(this.lf, cap * LS);
    for (let i = cap - 1; i >= this.lCap; i--) this.lFree.push(i);
    for (let i = this.lCap * B; i < cap * B; i++) this.lV.push(null);
    this.lCap = cap;
  }

  private growInner(cap: number): void {
    this.nd = grown(this.nd, cap * IS);
    this.ni = new Int32Array(this.nd.buffer);
    for (let i = cap - 1; i >= this.iCap; i--) this.iFree.push(i);
    this.iCap = cap;
  }

  private newLeaf(): number {
    if (this.lFree.length === 0) this.growLeaves(this.lCap + (this.lCap >> 1));
    const id = this.lFree.pop()!;
    this.lN[id] = 0;
    return id;
  }

  private newInner(): number {
    if (this.iFree.length === 0) this.growInner(this.iCap + (this.iCap >> 1));
    const id = this.iFree.pop()!;
    this.ni[id * IS2 + ICNT] = 0;
    return id;
  }

  private freeNode(id: number, leaf: boolean): void {
    if (leaf) this.lFree.push(id);
    else this.iFree.push(id);
  }

  /** child i of internal node x */
  private child(x: number, i: number): number {
    return this.ni[x * IS2 + ICH + i];
  }

  // ---- summaries ------------------------------------------------------------------------

  private summarizeLeaf(l: number): void {
    const f = this.lf;
    const L = l * LS;
    const n = this.lN[l];
    let g = 0;
    for (let j = 1; j < n; j++) {
      const gap = f[L + j] - f[L + LE + j - 1];
      if (gap > g) g = gap;
    }
    S[0] = f[L];
    S[1] = f[L + LE + n - 1];
    S[2] = g;
  }

  private summarizeInner(x: number): void {
    const d = this.nd;
    const X = x * IS;
    const n = this.ni[x * IS2 + ICNT];
    let g = d[X + IGAP];
    for (let i = 1; i < n; i++) {
      const cg = d[X + IGAP + i];
      if (cg > g) g = cg;
      const gap = d[X + i] - d[X + IMAX + i - 1];
      if (gap > g) g = gap;
    }
    S[0] = d[X];
    S[1] = d[X + IMAX + n - 1];
    S[2] = g;
  }

  private summarize(id: number, leaf: boolean): void {
    if (leaf) this.summarizeLeaf(id);
    else this.summarizeInner(id);
  }

  /** The lowest start and highest end in the tree (S[0], S[1]); the tree is not empty. */
  private rootBounds(): void {
    const r = this.root;
    if (this.height === 0) {
      S[0] = this.lf[r * LS];
      S[1] = this.lf[r * LS + LE + this.lN[r] - 1];
    } else {
      S[0] = this.nd[r * IS];
      S[1] = this.nd[r * IS + IMAX + this.ni[r * IS2 + ICNT] - 1];
    }
  }

  /**
   * Child slot i of internal node p now holds `child`; refresh its cached summary.
   * Returns false when nothing changed (the ancestors' summaries stay valid then).
   */
  private setSlot(p: number, i: number, child: number, childLeaf: boolean): boolean {
    this.summarize(child, childLeaf);
    const mn = S[0];
    const mx = S[1];
    const g = S[2];
    const d = this.nd;
    const k = p * IS + i;
    const c = p * IS2 + ICH + i;
    if (this.ni[c] === child && d[k] === mn && d[k + IMAX] === mx && d[k + IGAP] === g) return false;
    this.ni[c] = child;
    d[k] = mn;
    d[k + IMAX] = mx;
    d[k + IGAP] = g;
    return true;
  }

  // ---- slot moves (same kind of node) ---------------------------------------------------

  /**
   * Move `count` slots from node s, position sp to node t, position tp (one kind of node),
   * as memmove does: overlapping ranges in one node are fine. One loop per record, no call
   * per slot.
   */
  private moveSlots(leaf: boolean, t: number, tp: number, s: number, sp: number, count: number): void {
    if (count <= 0 || (t === s && tp === sp)) return;
    const fwd = t !== s || tp < sp; // copy ascending when moving down, else descending
    if (leaf) {
      const f = this.lf;
      const vs = this.lV;
      const td = t * LS + tp;
      const sd = s * LS + sp;
      const tv = t * B + tp;
      const sv = s * B + sp;
      if (fwd) {
        for (let i = 0; i < count; i++) {
          f[td + i] = f[sd + i];
          f[td + LE + i] = f[sd + LE + i];
          vs[tv + i] = vs[sv + i];
        }
      } else {
        for (let i = count - 1; i >= 0; i--) {
          f[td + i] = f[sd + i];
          f[td + LE + i] = f[sd + LE + i];
          vs[tv + i] = vs[sv + i];
        }
      }
    } else {
      const d = this.nd;
      const ck = this.ni;
      const td = t * IS + tp;
      const sd = s * IS + sp;
      const tc = t * IS2 + ICH + tp;
      const sc = s * IS2 + ICH + sp;
      if (fwd) {
        for (let i = 0; i < count; i++) {
          d[td + i] = d[sd + i];
          d[td + IMAX + i] = d[sd + IMAX + i];
          d[td + IGAP + i] = d[sd + IGAP + i];
          ck[tc + i] = ck[sc + i];
        }
      } else {
        for (let i = count - 1; i >= 0; i--) {
          d[td + i] = d[sd + i];
          d[td + IMAX + i] = d[sd + IMAX + i];
          d[td + IGAP + i] = d[sd + IGAP + i];
          ck[tc + i] = ck[sc + i];
        }
      }
    }
  }

  /** Drop the VMA references of leaf slots [k, k + count) (free slots hold null). */
  private clearRefs(k: number, count: number): void {
    const vs = this.lV;
    for (let i = 0; i < count; i++) vs[k + i] = null;
  }

  /** Open slot pos of node x, shifting its tail right by one. */
  private openSlot(x: number, leaf: boolean, pos: number): void {
    const n = this.nodeN(x, leaf);
    this.moveSlots(leaf, x, pos + 1, x, pos, n - pos);
    this.setN(x, leaf, n + 1);
  }

  /** Close slot pos of node x, shifting its tail left by one. */
  private closeSlot(x: number, leaf: boolean, pos: number): void {
    const n = this.nodeN(x, leaf);
    this.moveSlots(leaf, x, pos, x, pos + 1, n - 1 - pos);
    if (leaf) this.lV[x * B + n - 1] = null;
    this.setN(x, leaf, n - 1);
  }

  /** Append slots [from, n) of x to y, leaving x with `from` slots. */
  private moveTail(x: number, y: number, leaf: boolean, from: number): void {
    const nx = this.nodeN(x, leaf);
    const ny = this.nodeN(y, leaf);
    this.moveSlots(leaf, y, ny, x, from, nx - from);
    if (leaf) this.clearRefs(x * B + from, nx - from);
    this.setN(y, leaf, ny + nx - from);
    this.setN(x, leaf, from);
  }

  /**
   * Even out two neighbouring nodes of one kind (left precedes right), or merge them into
   * left when they fit in one (returns true then; right is freed by the caller).
   */
  private balance(left: number, right: number, leaf: boolean): boolean {
    const nl = this.nodeN(left, leaf);
    const nr = this.nodeN(right, leaf);
    if (nl + nr <= B) {
      this.moveTail(right, left, leaf, 0);
      return true;
    }
    const target = (nl + nr + 1) >> 1;
    if (nl > target) {
      const m = nl - target; // left's tail moves to right's front
      this.moveSlots(leaf, right, m, right, 0, nr);
      this.moveSlots(leaf, right, 0, left, target, m);
      if (leaf) this.clearRefs(left * B + target, m);
      this.setN(left, leaf, target);
      this.setN(right, leaf, nr + m);
    } else if (nl < target) {
      const m = target - nl; // right's head moves to left's tail
      this.moveSlots(leaf, left, nl, right, 0, m);
      this.moveSlots(leaf, right, 0, right, m, nr - m);
      if (leaf) this.clearRefs(right * B + nr - m, m);
      this.setN(left, leaf, target);
      this.setN(right, leaf, nr - m);
    }
    return false;
  }

  private setN(id: number, leaf: boolean, n: number): void {
    if (leaf) this.lN[id] = n;
    else this.ni[id * IS2 + ICNT] = n;
  }

  private nodeN(id: number, leaf: boolean): number {
    return leaf ? this.lN[id] : this.ni[id * IS2 + ICNT];
  }

  // ---- descent --------------------------------------------------------------------------

  /** Descend to the leaf where key belongs, recording the path. */
  private descend(key: number): number {
    let x = this.root;
    const d = this.nd;
    const ni = this.ni;
    for (let lvl = 0; lvl < this.height; lvl++) {
      const X = x * IS;
      let i = ni[x * IS2 + ICNT] - 1;
      while (i > 0 && d[X + i] > key) i--;
      this.pathNode[lvl] = x;
      this.pathIdx[lvl] = i;
      x = ni[x * IS2 + ICH + i];
    }
    this.pathLeaf = x;
    return x;
  }

  /** Descend to the slot holding v (leafIdx); throws if v is not in the tree. */
  private locate(v: Vma): number {
    const pl = this.pathLeaf;
    const fk = this.foundSlot;
    // the slot the last lookup returned, when v is still there (munmap right after find_vma)
    if (fk >= 0 && pl >= 0 && this.lV[fk] === v && fk >> BSHIFT === pl) {
      this.leafIdx = fk - pl * B;
      return pl;
    }
    // or the VMA before it (a merge with the previous VMA, after the next one left)
    const fp = this.foundPrev;
    if (fp >= 0 && pl >= 0 && this.lV[fp] === v && fp >> BSHIFT === pl) {
      this.leafIdx = fp - pl * B;
      return pl;
    }
    if (pl >= 0) {
      // v is often in the leaf the last lookup reached (munmap after find_vma)
      const base = pl * B;
      const n = this.lN[pl];
      for (let j = 0; j < n; j++) {
        if (this.lV[base + j] === v) {
          this.leafIdx = j;
          return pl;
        }
      }
    }
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
    const searched = this.gapVersion === this.version; // no change since the last search
    this.version++;
    const key = v.start;
    let leaf: number;
    let j = 0;
    const il = this.insLeaf;
    // v fills part of the gap the last search found, with the tree unchanged since
    const inGap = searched && il >= 0 && this.pathLeaf === il && this.gap[0] <= key && v.end <= this.gap[1];
    if (this.hole >= 0) {
      // the gap left by a removal (the hole is the VMA just below it): v takes the slot back
      if (inGap && this.hole === il * B + this.insPos - 1) return this.refill(v);
      this.closeHole();
    }
    if (inGap) {
      // the search recorded the path to the leaf and the position descend() would pick
      leaf = il;
      j = this.insPos;
    } else {
      leaf = this.descend(key);
      const f = this.lf;
      const L = leaf * LS;
      const n0 = this.lN[leaf];
      while (j < n0 && f[L + j] < key) j++;
    }
    this.pathLeaf = -1; // what follows may restructure the path
    let n = this.lN[leaf];
    let target = leaf;
    let sibling = -1;
    if (n === B && this.height > 0) {
      // Before splitting, even out with a neighbour that has room (keeps leaves fuller).
      const p = this.pathNode[this.height - 1];
      const i = this.pathIdx[this.height - 1];
      const pn = this.nodeN(p, false);
      let li = -1;
      if (i + 1 < pn && this.lN[this.child(p, i + 1)] < B - 1) li = i;
      else if (i > 0 && this.lN[this.child(p, i - 1)] < B - 1) li = i - 1;
      if (li >= 0) {
        const left = this.child(p, li);
        const right = this.child(p, li + 1);
        this.balance(left, right, true);
        // the pair holds the same VMAs, so only p's two slots change
        this.setSlot(p, li, left, true);
        this.setSlot(p, li + 1, right, true);
        this.insert(v);
        return;
      }
    }
    if (n === B) {
      sibling = this.newLeaf();
      // Mappings are mostly placed in address order (top-down: each below the last), so a
      // leaf split at its front or back edge keeps the other side full instead of halving it
      // (the maple tree's split bias): sequentially built trees have full leaves, not half.
      this.moveTail(leaf, sibling, true, splitPoint(j));
      n = this.lN[leaf];
      if (j > n) {
        target = sibling;
        j -= n;
      }
    }
    this.openSlot(target, true, j);
    // without a split the path still leads to the leaf (what follows only updates summaries)
    if (sibling < 0) this.pathLeaf = leaf;
    const f = this.lf;
    const L = target * LS;
    f[L + j] = key;
    f[L + LE + j] = v.end;
    this.lV[target * B + j] = v;
    this.count++;
    let lvl = this.height - 1;
    let child = leaf;
    let childLeaf = true;
    if (sibling < 0 && lvl >= 0) {
      const d = this.nd;
      const ps = this.pathNode[lvl] * IS + this.pathIdx[lvl];
      const n1 = this.lN[leaf];
      if (j > 0 && j + 1 < n1) {
        // v went between two VMAs of its leaf, into a gap smaller than the leaf's largest:
        // its bounds and that largest gap stand, so no summary above changes
        if (f[L + j + 1] - f[L + LE + j - 1] < d[ps + IGAP]) return;
      } else if (n1 > 1) {
        // v is the leaf's new first or last VMA: that bound moves out to v's and one gap
        // appears beside v; the leaf's other gaps stay as they were (no rescan)
        let g: number;
        if (j === 0) {
          d[ps] = key;
          g = f[L + 1] - v.end;
        } else {
          d[ps + IMAX] = v.end;
          g = key - f[L + LE + j - 1];
        }
        if (g > d[ps + IGAP]) d[ps + IGAP] = g;
        child = this.pathNode[lvl];
        childLeaf = false;
        lvl--;
      }
    }
    // walk up: refresh the slot we came through, place any new sibling beside it
    for (; lvl >= 0; lvl--) {
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
      this.setN(r, false, 2);
      this.setSlot(r, 0, this.root, this.height === 0);
      this.setSlot(r, 1, sibling, this.height === 0);
      this.root = r;
      this.height++;
    }
  }

  /**
   * Insert v into the hole, which is the slot an immediate removal would have closed and
   * this insert reopened: the leaf ends as that pair of shifts leaves it, with no shift. The
   * last search recorded the path to the leaf.
   */
  private refill(v: Vma): void {
    const k = this.hole;
    this.hole = -1;
    const leaf = k >> BSHIFT;
    this.pathLeaf = leaf; // the search's path, and the refill restructures nothing
    const f = this.lf;
    const L = startIndex(k);
    f[L] = v.start;
    f[L + LE] = v.end;
    this.lV[k] = v;
    this.count++;
    let u = this.undoN;
    if (u >= 0 && v.start === this.undoVal[0] && v.end === this.undoVal[1]) {
      // the removed VMA's bounds again: the tree is as it was before that removal
      const d = this.nd;
      while (u > 0) {
        u--;
        d[this.undoAt[u]] = this.undoVal[2 + u];
      }
      return;
    }
    const lvl = this.height - 1;
    // v went between two VMAs of its leaf: when that gap was below the leaf's largest, no
    // summary above changes (as in insert)
    if (lvl < 0 || f[L + 1] - f[L + LE - 1] < this.nd[this.pathNode[lvl] * IS + IGAP + this.pathIdx[lvl]]) return;
    this.refreshPath(leaf);
  }

  /**
   * Close the hole: shift its leaf's tail over it, as the removal would have. No bound or
   * gap changes; the leaf slots remembered by lookups and searches above it move down one.
   */
  private closeHole(): void {
    const k = this.hole;
    this.hole = -1;
    const leaf = k >> BSHIFT;
    const j = k - leaf * B;
    this.closeSlot(leaf, true, j);
    this.foundSlot = slotAfterClose(this.foundSlot, k);
    this.foundPrev = slotAfterClose(this.foundPrev, k);
    this.gapSlot = slotAfterClose(this.gapSlot, k);
    this.gapPrevSlot = slotAfterClose(this.gapPrevSlot, k);
    if (this.insLeaf === leaf && this.insPos > j) this.insPos--;
  }

  /** Put child at slot pos of p; if p was full, split it and return its new right half. */
  private insertChild(p: number, pos: number, child: number, childLeaf: boolean): number {
    if (this.nodeN(p, false) < B) {
      this.openSlot(p, false, pos);
      this.setSlot(p, pos, child, childLeaf);
      return -1;
    }
    const right = this.newInner();
    this.moveTail(p, right, false, splitPoint(pos));
    const half = this.nodeN(p, false);
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
    this.version++;
    if (this.hole >= 0) this.closeHole();
    const leaf = this.locate(v);
    this.pathLeaf = -1; // what follows may restructure the path (kept below if it did not)
    let restructured = false;
    const j = this.leafIdx;
    const n = this.lN[leaf];
    const f = this.lf;
    const L = leaf * LS;
    // Removing a VMA with neighbours on both sides in its leaf joins the gaps around it into
    // one and changes no bounds: while no node is restructured, each summary on the path is
    // its old one raised by that interval (cand), no rescans. (Removing a leaf's first or
    // last VMA can turn an inner gap into outer space, so its summaries are recomputed.)
    let known = j > 0 && j < n - 1;
    const cand = known ? f[L + j + 1] - f[L + LE + j - 1] : 0;
    // Removing a leaf's first (edge 1) or last (edge 2) VMA moves that bound in and drops
    // the gap beside it; while that gap was below the leaf's largest, the largest stands.
    const edge = known || n < 2 ? 0 : j === 0 ? 1 : 2;
    const edgeGap = edge === 1 ? f[L + 1] - f[L + LE] : edge === 2 ? f[L + j] - f[L + LE + j - 1] : 0;
    if (known && (this.height === 0 || n - 1 >= MIN_FILL)) {
      // the leaf keeps enough VMAs that no node is restructured: leave a hole (see `hole`)
      // instead of shifting the tail; the loop below sees the leaf's count as n, which like
      // n - 1 is at least MIN_FILL, and takes the same branches
      const e = f[L + LE + j - 1];
      this.undoVal[0] = f[L + j];
      this.undoVal[1] = f[L + LE + j];
      this.undoN = 0;
      f[L + j] = e;
      f[L + LE + j] = e;
      this.lV[leaf * B + j] = null;
      this.hole = leaf * B + j;
    } else {
      this.closeSlot(leaf, true, j);
    }
    this.count--;
    let child = leaf;
    let childLeaf = true;
    const d = this.nd;
    for (let lvl = this.height - 1; lvl >= 0; lvl--) {
      const p = this.pathNode[lvl];
      const i = this.pathIdx[lvl];
      const cn = this.nodeN(child, childLeaf);
      if (cn === 0) {
        known = false;
        restructured = true;
        this.undoN = -1;
        this.closeSlot(p, false, i);
        this.freeNode(child, childLeaf);
      } else if (cn < MIN_FILL && this.nodeN(p, false) > 1) {
        known = false;
        restructured = true;
        this.undoN = -1;
        const li = i > 0 ? i - 1 : i;
        const left = this.child(p, li);
        const right = this.child(p, li + 1);
        if (this.balance(left, right, childLeaf)) {
          this.closeSlot(p, false, li + 1);
          this.freeNode(right, childLeaf);
          this.setSlot(p, li, left, childLeaf);
        } else {
          this.setSlot(p, li, left, childLeaf);
          this.setSlot(p, li + 1, right, childLeaf);
        }
      } else if (known) {
        const k = p * IS + IGAP + i;
        if (cand <= d[k]) break; // the child's largest gap stands: nothing above changes
        if (this.hole >= 0 && this.undoN >= 0) {
          this.undoAt[this.undoN] = k;
          this.undoVal[2 + this.undoN++] = d[k];
        }
        d[k] = cand;
      } else if (edge !== 0 && childLeaf && edgeGap < d[p * IS + IGAP + i]) {
        if (edge === 1) d[p * IS + i] = f[L];
        else d[p * IS + IMAX + i] = f[L + LE + n - 2];
      } else if (!this.setSlot(p, i, child, childLeaf)) {
        break; // no structural change here and the summary held: nothing above changes
      }
      child = p;
      childLeaf = false;
    }
    while (this.height > 0 && this.nodeN(this.root, false) === 1) {
      const old = this.root;
      this.root = this.child(old, 0);
      this.freeNode(old, false);
      this.height--;
      restructured = true;
    }
    // no node split, merged or freed: the recorded path still leads to the leaf (a merge
    // with the VMA before, or the next VMA of a munmap, is then found there)
    if (!restructured && this.lN[leaf] > 0) this.pathLeaf = leaf;
  }

  /** Change an in-tree VMA's bounds; the caller keeps the tree sorted and disjoint. */
  adjust(v: Vma, start: number, end: number): void {
    this.version++;
    if (this.hole >= 0) this.closeHole();
    const leaf = this.locate(v);
    v.start = start;
    v.end = end;
    const L = leaf * LS + this.leafIdx;
    this.lf[L] = start;
    this.lf[L + LE] = end;
    this.refreshPath(leaf);
  }

  // ---- lookups --------------------------------------------------------------------------

  /** find_vma(): the first VMA with end > addr. */
  findVma(addr: number): Vma | null {
    let x = this.root;
    const d = this.nd;
    const ni = this.ni;
    for (let lvl = 0; lvl < this.height; lvl++) {
      const X = x * IS + IMAX;
      const n = ni[x * IS2 + ICNT];
      let i = 0;
      while (i < n && d[X + i] <= addr) i++;
      if (i === n) {
        this.foundSlot = -1;
        this.foundPrev = -1;
        this.pathLeaf = -1;
        return null;
      }
      this.pathNode[lvl] = x;
      this.pathIdx[lvl] = i;
      x = ni[x * IS2 + ICH + i];
    }
    this.pathLeaf = x;
    const f = this.lf;
    const L = x * LS + LE;
    const n = this.lN[x];
    for (let j = 0; j < n; j++) {
      if (f[L + j] > addr) {
        const k = x * B + j;
        this.foundSlot = k;
        this.foundPrev = j > 0 ? (k - 1 === this.hole ? k - 2 : k - 1) : -1;
        return this.lV[k];
      }
    }
    this.foundSlot = -1;
    this.foundPrev = -1;
    return null;
  }

  /**
   * The bounds of the VMA the last findVma / findVmaInGap returned (v), with the tree
   * unchanged since: from the leaf, which the lookup just read, when its slot is known —
   * at a million VMAs the VMA and its slot in the VMA store are cache misses.
   */
  startOfFound(v: Vma): number {
    const k = this.foundSlot;
    return k >= 0 ? this.lf[startIndex(k)] : v.start;
  }

  endOfFound(v: Vma): number {
    const k = this.foundSlot;
    return k >= 0 ? this.lf[startIndex(k) + LE] : v.end;
  }

  /** p.end for p = the VMA before the last one found (prevOfFound's answer), likewise. */
  endOfPrevFound(p: Vma): number {
    const k = this.foundPrev;
    return k >= 0 ? this.lf[startIndex(k) + LE] : p.end;
  }

  /**
   * prevOf(addr) right after findVma(addr) found a VMA starting at or above addr, with the
   * tree unchanged since: from the leaf slot the lookup recorded when it has one (no descent).
   */
  prevOfFound(addr: number): Vma | null {
    const k = this.foundPrev;
    return k >= 0 ? this.lV[k] : this.prevOf(addr);
  }

  private leftmostVma(id: number, lvl: number): Vma {
    for (; lvl < this.height; lvl++) id = this.child(id, 0);
    return this.lV[id * B]!;
  }

  /** The VMA that follows v. */
  next(v: Vma): Vma | null {
    if (this.hole >= 0) this.closeHole();
    const leaf = this.locate(v);
    if (this.leafIdx + 1 < this.lN[leaf]) return this.lV[leaf * B + this.leafIdx + 1];
    for (let lvl = this.height - 1; lvl >= 0; lvl--) {
      const p = this.pathNode[lvl];
      const i = this.pathIdx[lvl];
      if (i + 1 < this.nodeN(p, false)) return this.leftmostVma(this.child(p, i + 1), lvl + 1);
    }
    return null;
  }

  /** The last VMA starting below key. */
  prevOf(key: number): Vma | null {
    let x = this.root;
    const d = this.nd;
    for (let lvl = 0; lvl < this.height; lvl++) {
      const X = x * IS;
      let i = this.nodeN(x, false) - 1;
      while (i >= 0 && d[X + i] >= key) i--;
      if (i < 0) return null;
      x = this.child(x, i);
    }
    const f = this.lf;
    const L = x * LS;
    // (a hole starts where its predecessor ends: that one qualifies too, and is returned next)
    for (let j = this.lN[x] - 1; j >= 0; j--) if (f[L + j] < key && x * B + j !== this.hole) return this.lV[x * B + j];
    return null;
  }

  first(): Vma | null {
    return this.count === 0 ? null : this.leftmostVma(this.root, 0);
  }

  toArray(): Vma[] {
    const out: Vma[] = [];
    const walk = (x: number, lvl: number): void => {
      if (lvl === this.height) {
        for (let j = 0; j < this.lN[x]; j++) if (x * B + j !== this.hole) out.push(this.lV[x * B + j]!);
      } else for (let i = 0; i < this.nodeN(x, false); i++) walk(this.child(x, i), lvl + 1);
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
          const L = x * LS + j;
          if (x * B + j === this.hole) {
            if (!(j > 0 && j < n - 1)) fail('a hole at the edge of its leaf');
            if (this.lV[x * B + j] !== null || this.lf[L] !== this.lf[L + LE] || this.lf[L] !== this.lf[L + LE - 1]) fail('a hole not empty at its predecessor\'s end');
            continue;
          }
          const v = this.lV[x * B + j]!;
          if (v.start !== this.lf[L] || v.end !== this.lf[L + LE]) fail('leaf copy of a VMA is stale');
          if (!(v.start < v.end)) fail('empty VMA');
          if (j > 0 && this.lf[L + LE - 1] > this.lf[L]) fail('overlap or disorder in a leaf');
        }
        return;
      }
      const n = this.nodeN(x, false);
      if (n === 0) fail('empty internal node');
      for (let i = 0; i < n; i++) {
        const k = this.child(x, i);
        walk(k, lvl + 1);
        this.summarize(k, lvl + 1 === this.height);
        const o = x * IS + i;
        const d = this.nd;
        if (d[o] !== S[0] || d[o + IMAX] !== S[1] || d[o + IGAP] !== S[2]) fail('stale child summary');
        if (i > 0 && d[o + IMAX - 1] > d[o]) fail('overlap or disorder between children');
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
    if (this.count === 0) return this.found(fits(0, this.end, lo, hi, size), 0, this.end, null);
    this.rootBounds();
    const min = S[0];
    const max = S[1];
    if (fits(0, min, lo, hi, size)) return this.found(true, 0, min, this.first());
    this.win[0] = lo;
    this.win[1] = hi;
    this.win[2] = size;
    this.pathLeaf = -1; // the walk rewrites the path; a hit sets it again
    const r = this.lowestIn(this.root, 0);
    if (r !== NONE) return r === FOUND;
    return this.found(fits(max, this.end, lo, hi, size), max, this.end, null);
  }

  /** mas_empty_area_rev(): the highest such interval. */
  highestGap(lo: number, hi: number, size: number): boolean {
    if (this.count === 0) return this.found(fits(0, this.end, lo, hi, size), 0, this.end, null);
    this.rootBounds();
    const min = S[0];
    const max = S[1];
    if (fits(max, this.end, lo, hi, size)) return this.found(true, max, this.end, null);
    this.win[0] = lo;
    this.win[1] = hi;
    this.win[2] = size;
    this.pathLeaf = -1; // the walk rewrites the path; a hit sets it again
    const r = this.highestIn(this.root, 0);
    if (r !== NONE) return r === FOUND;
    return this.found(fits(0, min, lo, hi, size), 0, min, this.first());
  }

  private found(ok: boolean, a: number, b: number, next: Vma | null): boolean {
    if (ok) {
      this.gap[0] = a;
      this.gap[1] = b;
      this.gapNext = next;
      this.gapVersion = this.version;
      this.gapSlot = -1;
      this.gapPrevSlot = -1;
      this.insLeaf = -1;
    }
    return ok;
  }

  /** A gap between slots k - 1 and k of one leaf; the walk's path leads to that leaf. */
  private hit(a: number, b: number, k: number): number {
    const leaf = k >> BSHIFT;
    this.pathLeaf = leaf;
    this.gap[0] = a;
    this.gap[1] = b;
    this.gapNext = this.lV[k];
    this.gapVersion = this.version;
    this.gapSlot = k;
    this.gapPrevSlot = k - 1 === this.hole ? k - 2 : k - 1; // (a hole is never a leaf's first)
    this.insLeaf = leaf;
    this.insPos = k - leaf * B;
    return FOUND;
  }

  /**
   * A gap between child slots k and k + 1 of internal node x at level lvl. The VMAs on its
   * two sides are the last of child k's rightmost leaf and the first of child k + 1's
   * leftmost; an insert goes after the former, where descend() puts it, so the path is
   * recorded to that leaf.
   */
  private hitBetween(x: number, lvl: number, k: number, a: number, b: number): number {
    this.pathNode[lvl] = x;
    this.pathIdx[lvl] = k;
    let left = this.child(x, k);
    let right = this.child(x, k + 1);
    for (let l = lvl + 1; l < this.height; l++) {
      const i = this.nodeN(left, false) - 1;
      this.pathNode[l] = left;
      this.pathIdx[l] = i;
      left = this.child(left, i);
      right = this.child(right, 0);
    }
    const n = this.lN[left];
    this.pathLeaf = left;
    this.gap[0] = a;
    this.gap[1] = b;
    this.gapNext = this.lV[right * B];
    this.gapVersion = this.version;
    this.gapSlot = right * B;
    this.gapPrevSlot = left * B + n - 1;
    this.insLeaf = left;
    this.insPos = n;
    return FOUND;
  }

  /**
   * findVma(addr) for an address inside the free interval the last search found, with the
   * tree unchanged since: the VMA above that interval, without a descent (prevOfFound works
   * after it as after findVma). Otherwise a plain findVma.
   */
  findVmaInGap(addr: number): Vma | null {
    if (this.gapVersion === this.version && this.gap[0] <= addr && addr < this.gap[1]) {
      // every VMA below the interval ends at or below gap[0] <= addr; the next one starts above addr
      this.foundSlot = this.gapSlot;
      this.foundPrev = this.gapPrevSlot;
      return this.gapNext;
    }
    return this.findVma(addr);
  }

  // In-order walk over the gaps inside a subtree, pruned by the child summaries. Gaps the
  // window clips can only sit at its two edges, so the walk follows O(log n) paths.
  private lowestIn(x: number, lvl: number): number {
    const lo = this.win[0];
    const hi = this.win[1];
    const size = this.win[2];
    if (lvl === this.height) {
      const f = this.lf;
      const L = x * LS;
      const n = this.lN[x];
      for (let j = 1; j < n; j++) {
        const a = f[L + LE + j - 1];
        const b = f[L + j];
        if (b - a < size) continue; // too small even unclipped (most neighbours touch)
        if (hi - a < size) return STOP;
        if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return this.hit(a, b, x * B + j);
      }
      return NONE;
    }
    const d = this.nd;
    const X = x * IS;
    const n = this.ni[x * IS2 + ICNT];
    for (let i = 0; i < n; i++) {
      if (hi - d[X + i] < size) return STOP;
      if (d[X + IGAP + i] >= size && d[X + IMAX + i] - lo >= size) {
        this.pathNode[lvl] = x;
        this.pathIdx[lvl] = i;
        const r = this.lowestIn(this.ni[x * IS2 + ICH + i], lvl + 1);
        if (r !== NONE) return r;
      }
      if (i + 1 < n) {
        const a = d[X + IMAX + i];
        const b = d[X + i + 1];
        if (b - a < size) continue;
        if (hi - a < size) return STOP;
        if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return this.hitBetween(x, lvl, i, a, b);
      }
    }
    return NONE;
  }

  private highestIn(x: number, lvl: number): number {
    const lo = this.win[0];
    const hi = this.win[1];
    const size = this.win[2];
    if (lvl === this.height) {
      const f = this.lf;
      const L = x * LS;
      for (let j = this.lN[x] - 1; j > 0; j--) {
        const b = f[L + j];
        const a = f[L + LE + j - 1];
        if (b - a < size) continue;
        if (b - lo < size) return STOP;
        if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return this.hit(a, b, x * B + j);
      }
      return NONE;
    }
    const d = this.nd;
    const X = x * IS;
    for (let i = this.ni[x * IS2 + ICNT] - 1; i >= 0; i--) {
      if (d[X + IMAX + i] - lo < size) return STOP;
      if (d[X + IGAP + i] >= size && hi - d[X + i] >= size) {
        this.pathNode[lvl] = x;
        this.pathIdx[lvl] = i;
        const r = this.highestIn(this.ni[x * IS2 + ICH + i], lvl + 1);
        if (r !== NONE) return r;
      }
      if (i > 0) {
        const b = d[X + i];
        const a = d[X + IMAX + i - 1];
        if (b - a < size) continue;
        if (b - lo < size) return STOP;
        if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return this.hitBetween(x, lvl, i - 1, a, b);
      }
    }
    return NONE;
  }
}

/**
 * Where a full node is split for an insertion at slot j: at j, so the slots on the far side
 * of the insertion point stay together (clamped so neither side is empty). Mappings are
 * mostly placed next to the previous one (top-down, each just below the last), so a tree
 * built that way keeps full nodes behind its insertion point instead of halved ones.
 */
function splitPoint(j: number): number {
  return j < 1 ? 1 : j > B - 1 ? B - 1 : j;
}

/** Leaf slot s once the hole at slot k of a leaf is closed: one lower above it, gone at it. */
function slotAfterClose(s: number, k: number): number {
  if (s === k) return -1;
  return s > k && s >> BSHIFT === k >> BSHIFT ? s - 1 : s;
}

/** Where leaf slot k (leaf * B + j, the lV index) keeps its start in lf: leaf * LS + j. */
function startIndex(k: number): number {
  return k + (k & ~(B - 1));
}

/** A copy of a typed array, grown to n elements. */
function grown<T extends Float64Array | Int32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
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
