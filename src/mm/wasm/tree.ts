// The VMA index with the largest free gap per subtree: the job the maple tree does for
// mm->mm_mt (lib/maple_tree.c mas_empty_area / mas_empty_area_rev), in our own shape.
//
// A B+tree keyed by vm_start with 16 slots per node, like a maple node. Each node is one
// block of the mm's memory, its address its id:
//   leaf (384 bytes): 16 starts, 16 ends (f64), 16 record addresses (u32), the count (i32)
//   internal (512 bytes): 16 child minima, maxima and largest inner gaps (f64), 16 child
//   addresses (u32), the count (i32)
// A leaf slot is the leaf's address plus the slot's index (leaves are 64-byte aligned).
// Free space is the maximal intervals between VMAs, plus [0, first) and [last, end) —
// exactly the NULL ranges the maple tree joins. One tree per instance: its state is
// module globals.

import { bump, fail, FAIL_NOT_IN_TREE } from './slab';
import { rStart, rEnd, setStart, setEnd } from './vma';

const B: i32 = 16;
const MIN_FILL: i32 = B >> 1; // below this a node is merged with, or evened out against, a neighbour

const L_END: usize = 128;
const L_REC: usize = 256;
const L_N: usize = 320;
const LEAF_SIZE: usize = 384;
const I_MAX: usize = 128;
const I_GAP: usize = 256;
const I_CH: usize = 384;
const I_N: usize = 448;
const INNER_SIZE: usize = 512;

// ---- node fields -------------------------------------------------------------------------

@inline function sAt(l: usize, j: i32): f64 { return load<f64>(l + (<usize>j << 3)); }
@inline function eAt(l: usize, j: i32): f64 { return load<f64>(l + (<usize>j << 3), L_END); }
@inline function rAt(l: usize, j: i32): usize { return load<u32>(l + (<usize>j << 2), L_REC); }
@inline function setS(l: usize, j: i32, v: f64): void { store<f64>(l + (<usize>j << 3), v); }
@inline function setE(l: usize, j: i32, v: f64): void { store<f64>(l + (<usize>j << 3), v, L_END); }
@inline function setR(l: usize, j: i32, r: usize): void { store<u32>(l + (<usize>j << 2), <u32>r, L_REC); }
@inline function lN(l: usize): i32 { return load<i32>(l, L_N); }
@inline function setLN(l: usize, n: i32): void { store<i32>(l, n, L_N); }

@inline function mnAt(x: usize, i: i32): f64 { return load<f64>(x + (<usize>i << 3)); }
@inline function mxAt(x: usize, i: i32): f64 { return load<f64>(x + (<usize>i << 3), I_MAX); }
@inline function gpAt(x: usize, i: i32): f64 { return load<f64>(x + (<usize>i << 3), I_GAP); }
@inline function gpAddr(x: usize, i: i32): usize { return x + I_GAP + (<usize>i << 3); }
@inline function child(x: usize, i: i32): usize { return load<u32>(x + (<usize>i << 2), I_CH); }
@inline function iN(x: usize): i32 { return load<i32>(x, I_N); }
@inline function setIN(x: usize, n: i32): void { store<i32>(x, n, I_N); }

@inline function leafOf(k: usize): usize { return k & ~(<usize>63); }
@inline function idxOf(k: usize): i32 { return <i32>(k & 15); }
/** the record in leaf slot k */
@inline function recAt(k: usize): usize { return load<u32>(leafOf(k) + (<usize>idxOf(k) << 2), L_REC); }
@inline function startAtSlot(k: usize): f64 { return sAt(leafOf(k), idxOf(k)); }
@inline function endAtSlot(k: usize): f64 { return eAt(leafOf(k), idxOf(k)); }

@inline function nodeN(x: usize, leaf: bool): i32 { return leaf ? lN(x) : iN(x); }
@inline function setN(x: usize, leaf: bool, n: i32): void { if (leaf) setLN(x, n); else setIN(x, n); }

// ---- state -------------------------------------------------------------------------------

/** one past the last page number of the address space */
export let spaceEnd: f64 = 0;
export let count: i32 = 0;
/** tree height: 0 when the root is a leaf */
export let height: i32 = 0;
let root: usize = 0;

let freeLeaves: usize = 0;
let freeInners: usize = 0;

// the root-to-leaf path of the last descent: internal node addresses and child slots
const pathNode: usize = memory.data(32 * 4);
const pathIdx: usize = memory.data(32 * 4);
@inline function pNode(l: i32): usize { return load<u32>(pathNode + (<usize>l << 2)); }
@inline function pIdx(l: i32): i32 { return load<i32>(pathIdx + (<usize>l << 2)); }
@inline function setPath(l: i32, x: usize, i: i32): void {
  store<u32>(pathNode + (<usize>l << 2), <u32>x);
  store<i32>(pathIdx + (<usize>l << 2), i);
}
let leafIdx: i32 = 0;
/**
 * The leaf the recorded path leads to, 0 when the path is stale. A lookup that descends
 * records it; insert and remove keep it unless they split, merged or freed a node; adjust
 * keeps it. locate() of a VMA in this leaf then needs no descent.
 */
let pathLeaf: usize = 0;
/** bumped by every change (insert, remove, adjust): a search result is valid while it stands */
let version: i32 = 0;
/** the version the last search's gap was found at (-1: none), and the slot of its gapNext (0: unknown) */
let gapVersion: i32 = -1;
let gapSlot: usize = 0;
/** the slot of the VMA just below the last search's gap (0: unknown) */
let gapPrevSlot: usize = 0;
/** where an insert into the last search's gap goes, as descend() would place it (insLeaf 0: unknown) */
let insLeaf: usize = 0;
let insPos: i32 = 0;
// the slots of the last findVma() answer and of the VMA before it (0: unknown)
let foundSlot: usize = 0;
let foundPrev: usize = 0;
/**
 * A removal not yet closed up (0: none): the slot of a VMA removed from between two
 * neighbours in its leaf, now an empty interval at its predecessor's end with no record.
 * Every gap and bound reads as if the slot were gone. An insert into the gap it left (munmap,
 * then an mmap placed where the old one was) takes the slot back without shifting the leaf;
 * anything else closes it first (closeHole), which leaves the tree as an immediate removal
 * would.
 */
let hole: usize = 0;
/**
 * What the removal that left the hole changed above its leaf, to undo when the same bounds
 * come back: the removed VMA's start and end, then the old values of the summary gaps it
 * raised (undoVal[2 + i] was at undoAt[i]), undoN of them; -1 when it restructured a node.
 */
const undoVal: usize = memory.data(34 * 8);
const undoAt: usize = memory.data(32 * 4);
let undoN: i32 = -1;

// the last search's interval [gapA, gapB) and the record starting at gapB (0 at the top)
export let gapA: f64 = 0;
export let gapB: f64 = 0;
export let gapNext: usize = 0;
// the window and size of the running search
let winLo: f64 = 0;
let winHi: f64 = 0;
let winSize: f64 = 0;
// results of summarize(): min start, max end, max gap
let s0: f64 = 0;
let s1: f64 = 0;
let s2: f64 = 0;

/** Every global above back to its first value (a new mm in a used instance; then treeInit). */
export function treeReset(): void {
  spaceEnd = 0;
  count = 0;
  height = 0;
  root = 0;
  freeLeaves = 0;
  freeInners = 0;
  leafIdx = 0;
  pathLeaf = 0;
  version = 0;
  gapVersion = -1;
  gapSlot = 0;
  gapPrevSlot = 0;
  insLeaf = 0;
  insPos = 0;
  foundSlot = 0;
  foundPrev = 0;
  hole = 0;
  undoN = -1;
  gapA = 0;
  gapB = 0;
  gapNext = 0;
  winLo = 0;
  winHi = 0;
  winSize = 0;
  s0 = 0;
  s1 = 0;
  s2 = 0;
  checked = 0;
}

export function treeInit(end: f64): void {
  spaceEnd = end;
  root = newLeaf();
}

// ---- pools -------------------------------------------------------------------------------

function newLeaf(): usize {
  let l = freeLeaves;
  if (l != 0) freeLeaves = load<u32>(l, L_REC);
  else l = bump(LEAF_SIZE);
  setLN(l, 0);
  return l;
}

function newInner(): usize {
  let x = freeInners;
  if (x != 0) freeInners = load<u32>(x, I_CH);
  else x = bump(INNER_SIZE);
  setIN(x, 0);
  return x;
}

function freeNode(x: usize, leaf: bool): void {
  if (leaf) {
    store<u32>(x, <u32>freeLeaves, L_REC);
    freeLeaves = x;
  } else {
    store<u32>(x, <u32>freeInners, I_CH);
    freeInners = x;
  }
}

// ---- summaries ---------------------------------------------------------------------------

function summarizeLeaf(l: usize): void {
  const n = lN(l);
  let g: f64 = 0;
  for (let j = 1; j < n; j++) {
    const gap = sAt(l, j) - eAt(l, j - 1);
    if (gap > g) g = gap;
  }
  s0 = sAt(l, 0);
  s1 = eAt(l, n - 1);
  s2 = g;
}

function summarizeInner(x: usize): void {
  const n = iN(x);
  let g = gpAt(x, 0);
  for (let i = 1; i < n; i++) {
    const cg = gpAt(x, i);
    if (cg > g) g = cg;
    const gap = mnAt(x, i) - mxAt(x, i - 1);
    if (gap > g) g = gap;
  }
  s0 = mnAt(x, 0);
  s1 = mxAt(x, n - 1);
  s2 = g;
}

@inline function summarize(x: usize, leaf: bool): void {
  if (leaf) summarizeLeaf(x);
  else summarizeInner(x);
}

/** The lowest start and highest end in the tree (s0, s1); the tree is not empty. */
function rootBounds(): void {
  if (height == 0) {
    s0 = sAt(root, 0);
    s1 = eAt(root, lN(root) - 1);
  } else {
    s0 = mnAt(root, 0);
    s1 = mxAt(root, iN(root) - 1);
  }
}

/**
 * Child slot i of internal node p now holds c; refresh its cached summary. False when
 * nothing changed (the ancestors' summaries stay valid then).
 */
function setSlot(p: usize, i: i32, c: usize, childLeaf: bool): bool {
  summarize(c, childLeaf);
  const o = p + (<usize>i << 3);
  const co = p + (<usize>i << 2) + I_CH;
  if (load<u32>(co) == <u32>c && load<f64>(o) == s0 && load<f64>(o, I_MAX) == s1 && load<f64>(o, I_GAP) == s2) return false;
  store<u32>(co, <u32>c);
  store<f64>(o, s0);
  store<f64>(o, s1, I_MAX);
  store<f64>(o, s2, I_GAP);
  return true;
}

// ---- slot moves (same kind of node) ------------------------------------------------------

/** Move count slots from node s, position sp to node t, position tp, as memmove does. */
function moveSlots(leaf: bool, t: usize, tp: i32, s: usize, sp: i32, n: i32): void {
  if (n <= 0 || (t == s && tp == sp)) return;
  const c8 = <usize>n << 3;
  const c4 = <usize>n << 2;
  const t8 = <usize>tp << 3;
  const s8 = <usize>sp << 3;
  const t4 = <usize>tp << 2;
  const s4 = <usize>sp << 2;
  if (leaf) {
    memory.copy(t + t8, s + s8, c8);
    memory.copy(t + L_END + t8, s + L_END + s8, c8);
    memory.copy(t + L_REC + t4, s + L_REC + s4, c4);
  } else {
    memory.copy(t + t8, s + s8, c8);
    memory.copy(t + I_MAX + t8, s + I_MAX + s8, c8);
    memory.copy(t + I_GAP + t8, s + I_GAP + s8, c8);
    memory.copy(t + I_CH + t4, s + I_CH + s4, c4);
  }
}

/**
 * Clear the record addresses of leaf slots [j, j + n): a slot past a live leaf's count holds 0,
 * so a lookup that checks a remembered slot never matches a record that moved away.
 */
function clearRecs(l: usize, j: i32, n: i32): void {
  memory.fill(l + L_REC + (<usize>j << 2), 0, <usize>n << 2);
}

/** Open slot pos of node x, shifting its tail right by one. */
function openSlot(x: usize, leaf: bool, pos: i32): void {
  const n = nodeN(x, leaf);
  moveSlots(leaf, x, pos + 1, x, pos, n - pos);
  setN(x, leaf, n + 1);
}

/** Close slot pos of node x, shifting its tail left by one. */
function closeSlot(x: usize, leaf: bool, pos: i32): void {
  const n = nodeN(x, leaf);
  moveSlots(leaf, x, pos, x, pos + 1, n - 1 - pos);
  if (leaf) setR(x, n - 1, 0);
  setN(x, leaf, n - 1);
}

/** Append slots [from, n) of x to y, leaving x with `from` slots. */
function moveTail(x: usize, y: usize, leaf: bool, from: i32): void {
  const nx = nodeN(x, leaf);
  const ny = nodeN(y, leaf);
  moveSlots(leaf, y, ny, x, from, nx - from);
  if (leaf) clearRecs(x, from, nx - from);
  setN(y, leaf, ny + nx - from);
  setN(x, leaf, from);
}

/**
 * Even out two neighbouring nodes of one kind (left precedes right), or merge them into
 * left when they fit in one (true then; right is freed by the caller).
 */
function balance(left: usize, right: usize, leaf: bool): bool {
  const nl = nodeN(left, leaf);
  const nr = nodeN(right, leaf);
  if (nl + nr <= B) {
    moveTail(right, left, leaf, 0);
    return true;
  }
  const target = (nl + nr + 1) >> 1;
  if (nl > target) {
    const m = nl - target; // left's tail moves to right's front
    moveSlots(leaf, right, m, right, 0, nr);
    moveSlots(leaf, right, 0, left, target, m);
    if (leaf) clearRecs(left, target, m);
    setN(left, leaf, target);
    setN(right, leaf, nr + m);
  } else if (nl < target) {
    const m = target - nl; // right's head moves to left's tail
    moveSlots(leaf, left, nl, right, 0, m);
    moveSlots(leaf, right, 0, right, m, nr - m);
    if (leaf) clearRecs(right, nr - m, m);
    setN(left, leaf, target);
    setN(right, leaf, nr - m);
  }
  return false;
}

// ---- descent -----------------------------------------------------------------------------

/** Descend to the leaf where key belongs, recording the path. */
function descend(key: f64): usize {
  let x = root;
  for (let lvl = 0; lvl < height; lvl++) {
    let i = iN(x) - 1;
    while (i > 0 && mnAt(x, i) > key) i--;
    setPath(lvl, x, i);
    x = child(x, i);
  }
  pathLeaf = x;
  return x;
}

/** Descend to the slot holding record v (leafIdx); traps if v is not in the tree. */
function locate(v: usize): usize {
  const pl = pathLeaf;
  // the slot the last lookup returned, when v is still there (munmap right after find_vma)
  const fk = foundSlot;
  if (fk != 0 && pl != 0 && leafOf(fk) == pl && recAt(fk) == v) {
    leafIdx = idxOf(fk);
    return pl;
  }
  // or the VMA before it (a merge with the previous VMA, after the next one left)
  const fp = foundPrev;
  if (fp != 0 && pl != 0 && leafOf(fp) == pl && recAt(fp) == v) {
    leafIdx = idxOf(fp);
    return pl;
  }
  if (pl != 0) {
    // v is often in the leaf the last lookup reached (munmap after find_vma)
    const n = lN(pl);
    for (let j = 0; j < n; j++) {
      if (rAt(pl, j) == v) {
        leafIdx = j;
        return pl;
      }
    }
  }
  const l = descend(rStart(v));
  const n = lN(l);
  for (let j = 0; j < n; j++) {
    if (rAt(l, j) == v) {
      leafIdx = j;
      return l;
    }
  }
  fail(FAIL_NOT_IN_TREE);
  unreachable();
  return 0;
}

/** Refresh cached summaries along the recorded path, bottom up. */
function refreshPath(leaf: usize): void {
  let c = leaf;
  let childLeaf = true;
  for (let lvl = height - 1; lvl >= 0; lvl--) {
    const p = pNode(lvl);
    if (!setSlot(p, pIdx(lvl), c, childLeaf)) return;
    c = p;
    childLeaf = false;
  }
}

// ---- updates -----------------------------------------------------------------------------

/**
 * Where a full node is split for an insertion at slot j: at j, so the slots on the far side
 * of the insertion point stay together (clamped so neither side is empty). Mappings are
 * mostly placed next to the previous one (top-down, each just below the last), so a tree
 * built that way keeps full nodes behind its insertion point instead of halved ones.
 */
@inline function splitPoint(j: i32): i32 {
  return j < 1 ? 1 : j > B - 1 ? B - 1 : j;
}

export function insert(v: usize): void {
  const searched = gapVersion == version; // no change since the last search
  version++;
  const key = rStart(v);
  let leaf: usize;
  let j = 0;
  const il = insLeaf;
  // v fills part of the gap the last search found, with the tree unchanged since
  const inGap = searched && il != 0 && pathLeaf == il && gapA <= key && rEnd(v) <= gapB;
  if (hole != 0) {
    // the gap left by a removal (the hole is the VMA just below it): v takes the slot back
    if (inGap && hole == il + <usize>insPos - 1) {
      refill(v);
      return;
    }
    closeHole();
  }
  if (inGap) {
    // the search recorded the path to the leaf and the position descend() would pick
    leaf = il;
    j = insPos;
  } else {
    leaf = descend(key);
    const n0 = lN(leaf);
    while (j < n0 && sAt(leaf, j) < key) j++;
  }
  pathLeaf = 0; // what follows may restructure the path
  let n = lN(leaf);
  let target = leaf;
  let sibling: usize = 0;
  if (n == B && height > 0) {
    // Before splitting, even out with a neighbour that has room (keeps leaves fuller).
    const p = pNode(height - 1);
    const i = pIdx(height - 1);
    const pn = iN(p);
    let li = -1;
    if (i + 1 < pn && lN(child(p, i + 1)) < B - 1) li = i;
    else if (i > 0 && lN(child(p, i - 1)) < B - 1) li = i - 1;
    if (li >= 0) {
      const left = child(p, li);
      const right = child(p, li + 1);
      balance(left, right, true);
      // the pair holds the same VMAs, so only p's two slots change
      setSlot(p, li, left, true);
      setSlot(p, li + 1, right, true);
      insert(v);
      return;
    }
  }
  if (n == B) {
    sibling = newLeaf();
    // Mappings are mostly placed in address order (top-down: each below the last), so a
    // leaf split at its front or back edge keeps the other side full instead of halving it
    // (the maple tree's split bias): sequentially built trees have full leaves, not half.
    moveTail(leaf, sibling, true, splitPoint(j));
    n = lN(leaf);
    if (j > n) {
      target = sibling;
      j -= n;
    }
  }
  openSlot(target, true, j);
  // without a split the path still leads to the leaf (what follows only updates summaries)
  if (sibling == 0) pathLeaf = leaf;
  const vEnd = rEnd(v);
  setS(target, j, key);
  setE(target, j, vEnd);
  setR(target, j, v);
  count++;
  let lvl = height - 1;
  let c = leaf;
  let childLeaf = true;
  if (sibling == 0 && lvl >= 0) {
    const p = pNode(lvl);
    const pi = pIdx(lvl);
    const n1 = lN(leaf);
    if (j > 0 && j + 1 < n1) {
      // v went between two VMAs of its leaf, into a gap smaller than the leaf's largest:
      // its bounds and that largest gap stand, so no summary above changes
      if (sAt(target, j + 1) - eAt(target, j - 1) < gpAt(p, pi)) return;
    } else if (n1 > 1) {
      // v is the leaf's new first or last VMA: that bound moves out to v's and one gap
      // appears beside v; the leaf's other gaps stay as they were (no rescan)
      let g: f64;
      const o = p + (<usize>pi << 3);
      if (j == 0) {
        store<f64>(o, key);
        g = sAt(target, 1) - vEnd;
      } else {
        store<f64>(o, vEnd, I_MAX);
        g = key - eAt(target, j - 1);
      }
      if (g > load<f64>(o, I_GAP)) store<f64>(o, g, I_GAP);
      c = p;
      childLeaf = false;
      lvl--;
    }
  }
  // walk up: refresh the slot we came through, place any new sibling beside it
  for (; lvl >= 0; lvl--) {
    const p = pNode(lvl);
    const i = pIdx(lvl);
    const changed = setSlot(p, i, c, childLeaf);
    if (sibling != 0) sibling = insertChild(p, i + 1, sibling, childLeaf);
    else if (!changed) return; // nothing above changes
    c = p;
    childLeaf = false;
  }
  if (sibling != 0) {
    const r = newInner();
    setIN(r, 2);
    setSlot(r, 0, root, height == 0);
    setSlot(r, 1, sibling, height == 0);
    root = r;
    height++;
  }
}

/**
 * Insert v into the hole, which is the slot an immediate removal would have closed and this
 * insert reopened: the leaf ends as that pair of shifts leaves it, with no shift. The last
 * search recorded the path to the leaf.
 */
function refill(v: usize): void {
  const k = hole;
  hole = 0;
  const leaf = leafOf(k);
  const j = idxOf(k);
  pathLeaf = leaf; // the search's path, and the refill restructures nothing
  const vs = rStart(v);
  const ve = rEnd(v);
  setS(leaf, j, vs);
  setE(leaf, j, ve);
  setR(leaf, j, v);
  count++;
  let u = undoN;
  if (u >= 0 && vs == load<f64>(undoVal) && ve == load<f64>(undoVal, 8)) {
    // the removed VMA's bounds again: the tree is as it was before that removal
    while (u > 0) {
      u--;
      store<f64>(load<u32>(undoAt + (<usize>u << 2)), load<f64>(undoVal + (<usize>(2 + u) << 3)));
    }
    return;
  }
  const lvl = height - 1;
  // v went between two VMAs of its leaf: when that gap was below the leaf's largest, no
  // summary above changes (as in insert)
  if (lvl < 0 || sAt(leaf, j + 1) - eAt(leaf, j - 1) < gpAt(pNode(lvl), pIdx(lvl))) return;
  refreshPath(leaf);
}

/** Slot s once the hole at slot k is closed: one lower above it in its leaf, gone at it. */
function slotAfterClose(s: usize, k: usize): usize {
  if (s == k) return 0;
  return s > k && leafOf(s) == leafOf(k) ? s - 1 : s;
}

/**
 * Close the hole: shift its leaf's tail over it, as the removal would have. No bound or
 * gap changes; the slots remembered by lookups and searches above it move down one.
 */
function closeHole(): void {
  const k = hole;
  hole = 0;
  const leaf = leafOf(k);
  const j = idxOf(k);
  closeSlot(leaf, true, j);
  foundSlot = slotAfterClose(foundSlot, k);
  foundPrev = slotAfterClose(foundPrev, k);
  gapSlot = slotAfterClose(gapSlot, k);
  gapPrevSlot = slotAfterClose(gapPrevSlot, k);
  if (insLeaf == leaf && insPos > j) insPos--;
}

/** Put c at slot pos of p; if p was full, split it and return its new right half (else 0). */
function insertChild(p: usize, pos: i32, c: usize, childLeaf: bool): usize {
  if (iN(p) < B) {
    openSlot(p, false, pos);
    setSlot(p, pos, c, childLeaf);
    return 0;
  }
  const right = newInner();
  moveTail(p, right, false, splitPoint(pos));
  const half = iN(p);
  if (pos <= half) {
    openSlot(p, false, pos);
    setSlot(p, pos, c, childLeaf);
  } else {
    openSlot(right, false, pos - half);
    setSlot(right, pos - half, c, childLeaf);
  }
  return right;
}

export function remove(v: usize): void {
  version++;
  if (hole != 0) closeHole();
  const leaf = locate(v);
  pathLeaf = 0; // what follows may restructure the path (kept below if it did not)
  let restructured = false;
  const j = leafIdx;
  const n = lN(leaf);
  // Removing a VMA with neighbours on both sides in its leaf joins the gaps around it into
  // one and changes no bounds: while no node is restructured, each summary on the path is
  // its old one raised by that interval (cand), no rescans. (Removing a leaf's first or
  // last VMA can turn an inner gap into outer space, so its summaries are recomputed.)
  let known = j > 0 && j < n - 1;
  const cand = known ? sAt(leaf, j + 1) - eAt(leaf, j - 1) : 0;
  // Removing a leaf's first (edge 1) or last (edge 2) VMA moves that bound in and drops the
  // gap beside it; while that gap was below the leaf's largest, the largest stands.
  const edge = known || n < 2 ? 0 : j == 0 ? 1 : 2;
  const edgeGap = edge == 1 ? sAt(leaf, 1) - eAt(leaf, 0) : edge == 2 ? sAt(leaf, j) - eAt(leaf, j - 1) : 0;
  if (known && (height == 0 || n - 1 >= MIN_FILL)) {
    // the leaf keeps enough VMAs that no node is restructured: leave a hole instead of
    // shifting the tail; the loop below sees the leaf's count as n, which like n - 1 is at
    // least MIN_FILL, and takes the same branches
    const e = eAt(leaf, j - 1);
    store<f64>(undoVal, sAt(leaf, j));
    store<f64>(undoVal, eAt(leaf, j), 8);
    undoN = 0;
    setS(leaf, j, e);
    setE(leaf, j, e);
    setR(leaf, j, 0);
    hole = leaf + <usize>j;
  } else {
    closeSlot(leaf, true, j);
  }
  count--;
  let c = leaf;
  let childLeaf = true;
  for (let lvl = height - 1; lvl >= 0; lvl--) {
    const p = pNode(lvl);
    const i = pIdx(lvl);
    const cn = nodeN(c, childLeaf);
    if (cn == 0) {
      known = false;
      restructured = true;
      undoN = -1;
      closeSlot(p, false, i);
      freeNode(c, childLeaf);
    } else if (cn < MIN_FILL && iN(p) > 1) {
      known = false;
      restructured = true;
      undoN = -1;
      const li = i > 0 ? i - 1 : i;
      const left = child(p, li);
      const right = child(p, li + 1);
      if (balance(left, right, childLeaf)) {
        closeSlot(p, false, li + 1);
        freeNode(right, childLeaf);
        setSlot(p, li, left, childLeaf);
      } else {
        setSlot(p, li, left, childLeaf);
        setSlot(p, li + 1, right, childLeaf);
      }
    } else if (known) {
      const k = gpAddr(p, i);
      if (cand <= load<f64>(k)) break; // the child's largest gap stands: nothing above changes
      if (hole != 0 && undoN >= 0) {
        store<u32>(undoAt + (<usize>undoN << 2), <u32>k);
        store<f64>(undoVal + (<usize>(2 + undoN) << 3), load<f64>(k));
        undoN++;
      }
      store<f64>(k, cand);
    } else if (edge != 0 && childLeaf && edgeGap < gpAt(p, i)) {
      if (edge == 1) store<f64>(p + (<usize>i << 3), sAt(leaf, 0));
      else store<f64>(p + (<usize>i << 3), eAt(leaf, n - 2), I_MAX);
    } else if (!setSlot(p, i, c, childLeaf)) {
      break; // no structural change here and the summary held: nothing above changes
    }
    c = p;
    childLeaf = false;
  }
  while (height > 0 && iN(root) == 1) {
    const old = root;
    root = child(old, 0);
    freeNode(old, false);
    height--;
    restructured = true;
  }
  // no node split, merged or freed: the recorded path still leads to the leaf (a merge
  // with the VMA before, or the next VMA of a munmap, is then found there)
  if (!restructured && lN(leaf) > 0) pathLeaf = leaf;
}

/** Change an in-tree VMA's bounds; the caller keeps the tree sorted and disjoint. */
export function adjust(v: usize, start: f64, end: f64): void {
  version++;
  if (hole != 0) closeHole();
  const leaf = locate(v);
  setStart(v, start);
  setEnd(v, end);
  setS(leaf, leafIdx, start);
  setE(leaf, leafIdx, end);
  refreshPath(leaf);
}

// ---- lookups -----------------------------------------------------------------------------

/** find_vma(): the first VMA with end > addr (its record, or 0). */
export function findVma(addr: f64): usize {
  let x = root;
  for (let lvl = 0; lvl < height; lvl++) {
    const n = iN(x);
    let i = 0;
    while (i < n && mxAt(x, i) <= addr) i++;
    if (i == n) {
      foundSlot = 0;
      foundPrev = 0;
      pathLeaf = 0;
      return 0;
    }
    setPath(lvl, x, i);
    x = child(x, i);
  }
  pathLeaf = x;
  const n = lN(x);
  for (let j = 0; j < n; j++) {
    if (eAt(x, j) > addr) {
      const k = x + <usize>j;
      foundSlot = k;
      foundPrev = j > 0 ? (k - 1 == hole ? k - 2 : k - 1) : 0;
      return rAt(x, j);
    }
  }
  foundSlot = 0;
  foundPrev = 0;
  return 0;
}

/**
 * The bounds of the VMA the last findVma / findVmaInGap returned (v), with the tree
 * unchanged since: from the leaf, which the lookup just read, when its slot is known — at a
 * million VMAs the record is a cache miss.
 */
export function startOfFound(v: usize): f64 {
  const k = foundSlot;
  return k != 0 ? startAtSlot(k) : rStart(v);
}

export function endOfFound(v: usize): f64 {
  const k = foundSlot;
  return k != 0 ? endAtSlot(k) : rEnd(v);
}

/** p.end for p = the VMA before the last one found (prevOfFound's answer), likewise. */
export function endOfPrevFound(p: usize): f64 {
  const k = foundPrev;
  return k != 0 ? endAtSlot(k) : rEnd(p);
}

/**
 * prevOf(addr) right after findVma(addr) found a VMA starting at or above addr, with the
 * tree unchanged since: from the slot the lookup recorded when it has one (no descent).
 */
export function prevOfFound(addr: f64): usize {
  const k = foundPrev;
  return k != 0 ? recAt(k) : prevOf(addr);
}

function leftmost(x: usize, lvl: i32): usize {
  for (; lvl < height; lvl++) x = child(x, 0);
  return rAt(x, 0);
}

/** The VMA that follows v (0: none). */
export function next(v: usize): usize {
  if (hole != 0) closeHole();
  const leaf = locate(v);
  if (leafIdx + 1 < lN(leaf)) return rAt(leaf, leafIdx + 1);
  for (let lvl = height - 1; lvl >= 0; lvl--) {
    const p = pNode(lvl);
    const i = pIdx(lvl);
    if (i + 1 < iN(p)) return leftmost(child(p, i + 1), lvl + 1);
  }
  return 0;
}

/** The last VMA starting below key (0: none). */
export function prevOf(key: f64): usize {
  let x = root;
  for (let lvl = 0; lvl < height; lvl++) {
    let i = iN(x) - 1;
    while (i >= 0 && mnAt(x, i) >= key) i--;
    if (i < 0) return 0;
    x = child(x, i);
  }
  // (a hole starts where its predecessor ends: that one qualifies too, and is returned next)
  for (let j = lN(x) - 1; j >= 0; j--) if (sAt(x, j) < key && x + <usize>j != hole) return rAt(x, j);
  return 0;
}

export function first(): usize {
  return count == 0 ? 0 : leftmost(root, 0);
}

/** The records in address order, written from out on (count of them; the caller makes room). */
export function toArray(out: usize): i32 {
  return walkOut(root, 0, out, 0);
}

function walkOut(x: usize, lvl: i32, out: usize, at: i32): i32 {
  if (lvl == height) {
    const n = lN(x);
    for (let j = 0; j < n; j++) {
      if (x + <usize>j == hole) continue;
      store<u32>(out + (<usize>at << 2), <u32>rAt(x, j));
      at++;
    }
    return at;
  }
  const n = iN(x);
  for (let i = 0; i < n; i++) at = walkOut(child(x, i), lvl + 1, out, at);
  return at;
}

// ---- invariants (tests) ------------------------------------------------------------------

export const BAD_EMPTY_LEAF = 1;
export const BAD_HOLE_EDGE = 2;
export const BAD_HOLE = 3;
export const BAD_STALE = 4;
export const BAD_EMPTY_VMA = 5;
export const BAD_LEAF_ORDER = 6;
export const BAD_EMPTY_INNER = 7;
export const BAD_SUMMARY = 8;
export const BAD_CHILD_ORDER = 9;
export const BAD_COUNT = 10;

/** Check every cached copy and summary against a recomputation: 0, or what is wrong. */
export function checkInvariants(): i32 {
  checked = 0;
  const bad = checkNode(root, 0);
  if (bad != 0) return bad;
  return checked == count ? 0 : BAD_COUNT;
}

let checked: i32 = 0;

function checkNode(x: usize, lvl: i32): i32 {
  if (lvl == height) {
    const n = lN(x);
    if (x != root && n == 0) return BAD_EMPTY_LEAF;
    for (let j = 0; j < n; j++) {
      if (x + <usize>j == hole) {
        if (!(j > 0 && j < n - 1)) return BAD_HOLE_EDGE;
        if (rAt(x, j) != 0 || sAt(x, j) != eAt(x, j) || sAt(x, j) != eAt(x, j - 1)) return BAD_HOLE;
        continue;
      }
      const v = rAt(x, j);
      if (rStart(v) != sAt(x, j) || rEnd(v) != eAt(x, j)) return BAD_STALE;
      if (!(rStart(v) < rEnd(v))) return BAD_EMPTY_VMA;
      if (j > 0 && eAt(x, j - 1) > sAt(x, j)) return BAD_LEAF_ORDER;
      checked++;
    }
    return 0;
  }
  const n = iN(x);
  if (n == 0) return BAD_EMPTY_INNER;
  for (let i = 0; i < n; i++) {
    const k = child(x, i);
    const bad = checkNode(k, lvl + 1);
    if (bad != 0) return bad;
    summarize(k, lvl + 1 == height);
    if (mnAt(x, i) != s0 || mxAt(x, i) != s1 || gpAt(x, i) != s2) return BAD_SUMMARY;
    if (i > 0 && mxAt(x, i - 1) > mnAt(x, i)) return BAD_CHILD_ORDER;
  }
  return 0;
}

// ---- free-area searches ------------------------------------------------------------------
// Results land in gapA / gapB / gapNext.

/** |[a, b) ∩ [lo, hi)| >= size */
@inline function fits(a: f64, b: f64, lo: f64, hi: f64, size: f64): bool {
  const s = a > lo ? a : lo;
  const e = b < hi ? b : hi;
  return e - s >= size;
}

// Walk outcomes: nothing in this subtree, found, or stop — a gap beyond the window's far
// edge was reached, so no later gap can fit either.
const NONE = 0;
const FOUND = 1;
const STOP = 2;

/**
 * mas_empty_area(): find the lowest maximal free interval whose part inside [lo, hi) holds
 * at least size pages. False when none does.
 */
export function lowestGap(lo: f64, hi: f64, size: f64): bool {
  if (count == 0) return found(fits(0, spaceEnd, lo, hi, size), 0, spaceEnd, 0);
  rootBounds();
  const min = s0;
  const max = s1;
  if (fits(0, min, lo, hi, size)) return found(true, 0, min, first());
  winLo = lo;
  winHi = hi;
  winSize = size;
  pathLeaf = 0; // the walk rewrites the path; a hit sets it again
  const r = lowestIn(root, 0);
  if (r != NONE) return r == FOUND;
  return found(fits(max, spaceEnd, lo, hi, size), max, spaceEnd, 0);
}

/** mas_empty_area_rev(): the highest such interval. */
export function highestGap(lo: f64, hi: f64, size: f64): bool {
  if (count == 0) return found(fits(0, spaceEnd, lo, hi, size), 0, spaceEnd, 0);
  rootBounds();
  const min = s0;
  const max = s1;
  if (fits(max, spaceEnd, lo, hi, size)) return found(true, max, spaceEnd, 0);
  winLo = lo;
  winHi = hi;
  winSize = size;
  pathLeaf = 0; // the walk rewrites the path; a hit sets it again
  const r = highestIn(root, 0);
  if (r != NONE) return r == FOUND;
  return found(fits(0, min, lo, hi, size), 0, min, first());
}

function found(ok: bool, a: f64, b: f64, nxt: usize): bool {
  if (ok) {
    gapA = a;
    gapB = b;
    gapNext = nxt;
    gapVersion = version;
    gapSlot = 0;
    gapPrevSlot = 0;
    insLeaf = 0;
  }
  return ok;
}

/** A gap between slots k - 1 and k of one leaf; the walk's path leads to that leaf. */
function hit(a: f64, b: f64, k: usize): i32 {
  const leaf = leafOf(k);
  pathLeaf = leaf;
  gapA = a;
  gapB = b;
  gapNext = recAt(k);
  gapVersion = version;
  gapSlot = k;
  gapPrevSlot = k - 1 == hole ? k - 2 : k - 1; // (a hole is never a leaf's first)
  insLeaf = leaf;
  insPos = idxOf(k);
  return FOUND;
}

/**
 * A gap between child slots k and k + 1 of internal node x at level lvl. The VMAs on its two
 * sides are the last of child k's rightmost leaf and the first of child k + 1's leftmost; an
 * insert goes after the former, where descend() puts it, so the path is recorded to that
 * leaf.
 */
function hitBetween(x: usize, lvl: i32, k: i32, a: f64, b: f64): i32 {
  setPath(lvl, x, k);
  let left = child(x, k);
  let right = child(x, k + 1);
  for (let l = lvl + 1; l < height; l++) {
    const i = iN(left) - 1;
    setPath(l, left, i);
    left = child(left, i);
    right = child(right, 0);
  }
  const n = lN(left);
  pathLeaf = left;
  gapA = a;
  gapB = b;
  gapNext = rAt(right, 0);
  gapVersion = version;
  gapSlot = right;
  gapPrevSlot = left + <usize>(n - 1);
  insLeaf = left;
  insPos = n;
  return FOUND;
}

/**
 * findVma(addr) for an address inside the free interval the last search found, with the
 * tree unchanged since: the VMA above that interval, without a descent (prevOfFound works
 * after it as after findVma). Otherwise a plain findVma.
 */
export function findVmaInGap(addr: f64): usize {
  if (gapVersion == version && gapA <= addr && addr < gapB) {
    // every VMA below the interval ends at or below gapA <= addr; the next one starts above addr
    foundSlot = gapSlot;
    foundPrev = gapPrevSlot;
    return gapNext;
  }
  return findVma(addr);
}

// In-order walk over the gaps inside a subtree, pruned by the child summaries. Gaps the
// window clips can only sit at its two edges, so the walk follows O(log n) paths.
function lowestIn(x: usize, lvl: i32): i32 {
  const lo = winLo;
  const hi = winHi;
  const size = winSize;
  if (lvl == height) {
    const n = lN(x);
    for (let j = 1; j < n; j++) {
      const a = eAt(x, j - 1);
      const b = sAt(x, j);
      if (b - a < size) continue; // too small even unclipped (most neighbours touch)
      if (hi - a < size) return STOP;
      if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return hit(a, b, x + <usize>j);
    }
    return NONE;
  }
  const n = iN(x);
  for (let i = 0; i < n; i++) {
    if (hi - mnAt(x, i) < size) return STOP;
    if (gpAt(x, i) >= size && mxAt(x, i) - lo >= size) {
      setPath(lvl, x, i);
      const r = lowestIn(child(x, i), lvl + 1);
      if (r != NONE) return r;
    }
    if (i + 1 < n) {
      const a = mxAt(x, i);
      const b = mnAt(x, i + 1);
      if (b - a < size) continue;
      if (hi - a < size) return STOP;
      if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return hitBetween(x, lvl, i, a, b);
    }
  }
  return NONE;
}

function highestIn(x: usize, lvl: i32): i32 {
  const lo = winLo;
  const hi = winHi;
  const size = winSize;
  if (lvl == height) {
    for (let j = lN(x) - 1; j > 0; j--) {
      const b = sAt(x, j);
      const a = eAt(x, j - 1);
      if (b - a < size) continue;
      if (b - lo < size) return STOP;
      if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return hit(a, b, x + <usize>j);
    }
    return NONE;
  }
  for (let i = iN(x) - 1; i >= 0; i--) {
    if (mxAt(x, i) - lo < size) return STOP;
    if (gpAt(x, i) >= size && hi - mnAt(x, i) >= size) {
      setPath(lvl, x, i);
      const r = highestIn(child(x, i), lvl + 1);
      if (r != NONE) return r;
    }
    if (i > 0) {
      const b = mnAt(x, i);
      const a = mxAt(x, i - 1);
      if (b - a < size) continue;
      if (b - lo < size) return STOP;
      if ((b < hi ? b : hi) - (a > lo ? a : lo) >= size) return hitBetween(x, lvl, i - 1, a, b);
    }
  }
  return NONE;
}
