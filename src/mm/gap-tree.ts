// The VMA index of one mm, with the largest free gap per subtree: the job the maple tree does
// for mm->mm_mt (lib/maple_tree.c mas_empty_area / mas_empty_area_rev).
//
// The index, the VMA records and the paths that change them on every mmap and munmap
// (mmap_region, munmap, splits, merges) are the mm core: src/mm/wasm/, compiled ahead of time
// to WebAssembly, one instance per live mm (a released mm's goes to the next one made). This
// class owns that instance and is the JavaScript side's way in: it hands out a Vma handle per
// record, keeps the files, vm_ops and names the records refer to, and answers the core's calls
// back (page tables, ->mmap).

import { Vma, X_FILE, X_NAME, W_HANDLE } from './vma.js';
import type { KFile } from '../fs/file.js';
import { PAGES_2_64 } from '../lib/u64.js';
import { CORE_WASM_BASE64 } from './core-image.js';

/** The core's exports (src/mm/wasm/index.ts); records and nodes are byte addresses, 0 for none. */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  treeInit(end: number): void;
  mmInit(mmapMinAddr: number, stackGuardGap: number, taskSize: number, maxMapCount: number, overcommit: number, commitPages: number): void;
  newVma(start: number, end: number, flags: number, file: number, pgoff: number, anonVma: number, extra: number): number;
  insert(v: number): void;
  remove(v: number): void;
  adjust(v: number, start: number, end: number): void;
  findVma(addr: number): number;
  findVmaInGap(addr: number): number;
  startOfFound(v: number): number;
  endOfFound(v: number): number;
  endOfPrevFound(v: number): number;
  prevOfFound(addr: number): number;
  next(v: number): number;
  prevOf(key: number): number;
  first(): number;
  toArray(out: number): number;
  checkInvariants(): number;
  lowestGap(lo: number, hi: number, size: number): number;
  highestGap(lo: number, hi: number, size: number): number;
  mapCount(): number;
  levels(): number;
  lastGapA(): number;
  lastGapB(): number;
  lastGapNext(): number;
  scratch(bytes: number): number;
  newAnonVma(): number;
  enoughMemory(pages: number): number;
  vmStartGap(v: number): number;
  unmappedArea(length: number, low: number, high: number, alignMask: number, alignOffset: number, startGap: number): number;
  unmappedAreaTopdown(length: number, low: number, high: number, alignMask: number, alignOffset: number, startGap: number): number;
  canMergeAfter(prev: number, flags: number, file: number, anonVma: number, pgoff: number): number;
  canMergeBefore(next: number, flags: number, file: number, anonVma: number, pgoff: number, pages: number): number;
  anonVmaCompatible(a: number, b: number): number;
  removeVma(v: number): void;
  splitVma(v: number, addr: number): number;
  mmapRegion(addr: number, len: number, vmFlags: number, file: number, pgoff: number): number;
  munmap(startPg: number, startSub: number, lenPg: number, lenSub: number): number;
  populate(addr: number): void;
  reset(): void;
  heapTop(): number;
  [constant: string]: unknown;
}

/** What the core asks of the JavaScript side while it changes the VMA list. */
export interface CoreHooks {
  /** vma_adjust_trans_huge() at a split of a VMA with vm_ops */
  splitHuge(v: Vma, addr: number): void;
  /** unmap_region(): page tables of [start, end) after VMAs left it */
  unmapPageTables(start: number, end: number): void;
  /** a new file-backed or shared anonymous VMA: its file and ->mmap; 0 or -errno */
  mmapFile(v: Vma, len: number): number;
}

let compiled: WebAssembly.Module | null = null;

/** The core, compiled once per thread (synchronously: it is about 12 KiB). */
function coreModule(): WebAssembly.Module {
  if (compiled === null) {
    const s = atob(CORE_WASM_BASE64);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** What the core's error codes (its FAIL_* and BAD_* exports) say. */
const MESSAGES: Record<string, string> = {
  FAIL_NO_MEMORY: 'mm core: out of memory (its WebAssembly memory could not grow)',
  FAIL_NOT_IN_TREE: 'gap-tree: VMA not in the tree',
  BAD_EMPTY_LEAF: 'gap-tree invariant: empty leaf',
  BAD_HOLE_EDGE: 'gap-tree invariant: a hole at the edge of its leaf',
  BAD_HOLE: "gap-tree invariant: a hole not empty at its predecessor's end",
  BAD_STALE: 'gap-tree invariant: leaf copy of a VMA is stale',
  BAD_EMPTY_VMA: 'gap-tree invariant: empty VMA',
  BAD_LEAF_ORDER: 'gap-tree invariant: overlap or disorder in a leaf',
  BAD_EMPTY_INNER: 'gap-tree invariant: empty internal node',
  BAD_SUMMARY: 'gap-tree invariant: stale child summary',
  BAD_CHILD_ORDER: 'gap-tree invariant: overlap or disorder between children',
  BAD_COUNT: 'gap-tree invariant: count',
};

/** The message for code, one of the core's exported constants named in MESSAGES under prefix. */
function messageOf(x: CoreExports, prefix: string, code: number): string {
  for (const name in MESSAGES) if (name.startsWith(prefix) && (x[name] as WebAssembly.Global).value === code) return MESSAGES[name];
  return `mm core: error ${prefix}${code}`;
}

/** An mm core instance, and the tree its calls back go to. */
interface Core {
  x: CoreExports;
  link: { tree: GapTree };
}

/** Released instances, for the next mms made in this thread. */
const POOL: Core[] = [];
const POOL_MAX = 8;
const RELEASED = new Proxy({}, {
  get() {
    throw new Error('gap-tree: the mm was released');
  },
}) as CoreExports;
const NO_F64 = new Float64Array(0);
const NO_I32 = new Int32Array(0);

/** A new instance of the core whose calls back go to link.tree. */
function newCore(tree: GapTree): Core {
  const link = { tree };
  const env = {
    grew: () => link.tree.refreshViews(),
    fail: (code: number) => {
      throw new Error(messageOf(link.tree.x, 'FAIL_', code));
    },
    splitHuge: (v: number, addr: number) => link.tree.hooks!.splitHuge(link.tree.vmaOf(v), addr),
    copyExtras: (to: number, from: number) => link.tree.vmaOf(to).takeExtras(link.tree.vmaOf(from)),
    dropExtras: (v: number) => link.tree.vmaOf(v).dropExtras(),
    unmapPageTables: (start: number, end: number) => link.tree.hooks?.unmapPageTables(start, end),
    mmapFile: (v: number, len: number) => link.tree.hooks!.mmapFile(link.tree.vmaOf(v), len),
  };
  const x = new WebAssembly.Instance(coreModule(), { env }).exports as unknown as CoreExports;
  return { x, link };
}

export class GapTree {
  /** the core instance's exports */
  x: CoreExports;
  private readonly core: Core;
  /** views of the core's memory; replaced when it grows */
  f64!: Float64Array;
  i32!: Int32Array;
  u32!: Uint32Array;
  /** the core's calls back; an mm sets them (a bare tree never needs them) */
  hooks: CoreHooks | null = null;
  /** handle i of a record is handles[i] (0: none) */
  private readonly handles: Vma[] = [];
  /**
   * The key a file has in this mm's records (1, 2, …): is_mergeable_vma() compares files.
   * Weak: the shmem file of an unmapped shared anonymous mapping can go.
   */
  private readonly fileKeys = new WeakMap<KFile, number>();
  private lastFileKey = 0;

  /** one past the last page number of the address space: 2^64 bytes in pages */
  constructor(readonly end: number = PAGES_2_64) {
    let core = POOL.pop();
    if (core !== undefined) {
      core.x.reset();
      core.link.tree = this;
    } else {
      core = newCore(this);
    }
    this.core = core;
    this.x = core.x;
    this.refreshViews();
    this.handles.push(null as unknown as Vma); // handle 0 is "none"
    this.x.treeInit(end);
  }

  /** New views of the core's memory, for this tree and its handles (after it grew). */
  refreshViews(): void {
    const b = this.x.memory.buffer;
    this.f64 = new Float64Array(b);
    this.i32 = new Int32Array(b);
    this.u32 = new Uint32Array(b);
    // the handles read their records through the views of their own (growth is rare)
    for (let h = 1; h < this.handles.length; h++) {
      this.handles[h].f64 = this.f64;
      this.handles[h].i32 = this.i32;
    }
  }

  /**
   * The mm is done with: its instance goes to the next mm made (instantiating one costs about
   * 100 µs, more than a sweep case's whole mm). This tree and its Vmas must not be used again.
   */
  release(): void {
    if (this.x === RELEASED) return;
    for (let h = 1; h < this.handles.length; h++) {
      this.handles[h].f64 = NO_F64;
      this.handles[h].i32 = NO_I32;
    }
    this.x = RELEASED;
    if (POOL.length < POOL_MAX) POOL.push(this.core);
  }

  /** The handle of record r (made on first use; a reused record keeps its handle). */
  vmaOf(r: number): Vma {
    const h = this.i32[(r >>> 2) + W_HANDLE];
    return h !== 0 ? this.handles[h] : this.newHandle(r);
  }

  private newHandle(r: number): Vma {
    const v = new Vma(this, r);
    this.i32[(r >>> 2) + W_HANDLE] = this.handles.length;
    this.handles.push(v);
    return v;
  }

  /** vmaOf(r), or null for 0 */
  vmaOrNull(r: number): Vma | null {
    return r === 0 ? null : this.vmaOf(r);
  }

  /** The key of a file in this mm's records; 0 for none. */
  keyOf(f: KFile | null): number {
    if (f === null) return 0;
    let k = this.fileKeys.get(f);
    if (k === undefined) {
      k = ++this.lastFileKey;
      this.fileKeys.set(f, k);
    }
    return k;
  }

  /** vm_area_alloc(): a VMA record with these fields, not yet in the tree. */
  newVma(start: number, end: number, flags: number, file: KFile | null, pgoff: number, anonVma = 0, name: string | null = null): Vma {
    const extra = (file !== null ? X_FILE : 0) | (name !== null ? X_NAME : 0);
    const v = this.vmaOf(this.x.newVma(start, end, flags, this.keyOf(file), pgoff, anonVma, extra));
    v.setExtras(file, null, name);
    return v;
  }

  get count(): number {
    return this.x.mapCount();
  }

  /** Nodes on a root-to-leaf path: the number of nodes a descent reads. */
  get levels(): number {
    return this.x.levels();
  }

  insert(v: Vma): void {
    this.x.insert(v.rec);
  }

  remove(v: Vma): void {
    this.x.remove(v.rec);
  }

  /** Change an in-tree VMA's bounds; the caller keeps the tree sorted and disjoint. */
  adjust(v: Vma, start: number, end: number): void {
    this.x.adjust(v.rec, start, end);
  }

  /** find_vma(): the first VMA with end > addr. */
  findVma(addr: number): Vma | null {
    return this.vmaOrNull(this.x.findVma(addr));
  }

  /** findVma(addr) for an address inside the gap the last search found (no descent then). */
  findVmaInGap(addr: number): Vma | null {
    return this.vmaOrNull(this.x.findVmaInGap(addr));
  }

  /** The bounds of the VMA the last findVma / findVmaInGap returned, from the leaf. */
  startOfFound(v: Vma): number {
    return this.x.startOfFound(v.rec);
  }

  endOfFound(v: Vma): number {
    return this.x.endOfFound(v.rec);
  }

  /** p.end for p = the VMA before the last one found (prevOfFound's answer). */
  endOfPrevFound(p: Vma): number {
    return this.x.endOfPrevFound(p.rec);
  }

  /** prevOf(addr) right after findVma(addr), from the slot the lookup recorded. */
  prevOfFound(addr: number): Vma | null {
    return this.vmaOrNull(this.x.prevOfFound(addr));
  }

  /** The VMA that follows v. */
  next(v: Vma): Vma | null {
    return this.vmaOrNull(this.x.next(v.rec));
  }

  /** The last VMA starting below key. */
  prevOf(key: number): Vma | null {
    return this.vmaOrNull(this.x.prevOf(key));
  }

  first(): Vma | null {
    return this.vmaOrNull(this.x.first());
  }

  toArray(): Vma[] {
    const n = this.count;
    const out = this.x.scratch(4 * n + 4);
    const m = this.x.toArray(out);
    const u = this.u32; // (scratch may have grown the memory: read the views after it)
    const vmas = new Array<Vma>(m);
    for (let i = 0; i < m; i++) vmas[i] = this.vmaOf(u[(out >>> 2) + i]);
    return vmas;
  }

  /** Check every cached copy and summary against a recomputation (for tests). */
  checkInvariants(): void {
    const bad = this.x.checkInvariants();
    if (bad !== 0) throw new Error(messageOf(this.x, 'BAD_', bad));
  }

  /**
   * mas_empty_area(): find the lowest maximal free interval whose part inside [lo, hi) holds
   * at least `size` pages; it is then [gapA, gapB), below gapNext. False when none does.
   */
  lowestGap(lo: number, hi: number, size: number): boolean {
    return this.x.lowestGap(lo, hi, size) !== 0;
  }

  /** mas_empty_area_rev(): the highest such interval. */
  highestGap(lo: number, hi: number, size: number): boolean {
    return this.x.highestGap(lo, hi, size) !== 0;
  }

  get gapA(): number {
    return this.x.lastGapA();
  }

  get gapB(): number {
    return this.x.lastGapB();
  }

  /** the VMA starting at gapB (null at the top) */
  get gapNext(): Vma | null {
    return this.vmaOrNull(this.x.lastGapNext());
  }
}
