// Deterministic random op lists for the VFIO device oracle (src/oracle/vfio-qemu.ts --random):
// mmaps of BAR2 windows of file v0 (good and bad offsets and lengths, every placement: no
// hint, free absolute hints, relative hints, MAP_FIXED / MAP_FIXED_NOREPLACE, congruent
// reservations through the probe's `@K^0xA` syntax), of BAR0 and of bad regions, anonymous
// mappings between them, munmap / mprotect / madvise of sub-ranges, and touches of device
// ranges and of unmapped ones.
//
// The generator never sees an address, so it keeps, per "root" (a coordinate system anchored
// at the address some op returned), what it knows for sure about the layout: segments owned
// by a mapping, segments known to be empty, and everything else unknown. Every op it emits
// is safe for the guest and for the model:
//  - a range op (munmap, mprotect, madvise, MAP_FIXED mmap) covers only known segments, and
//    each of its ends is either a segment boundary or, inside a device mapping that could
//    hold a 1 GiB leaf (2 GiB BAR, mapping ≥ 1 GiB), a point whose BAR offset is a multiple
//    of 2 MiB: if the mapping is congruent to the BAR modulo 2 MiB that point is 2 MiB
//    aligned, otherwise the mapping has no huge leaves at all. So no VMA is ever split
//    inside a 1 GiB leaf off a 2 MiB boundary (which oopses 6.12 and 7.2);
//  - a touch reads device (or BAR0) pages only, and may run on into a range known to be
//    empty (SIGSEGV) — never into anonymous memory, which the model has no fault path for;
//  - touches that may take 4 KiB faults (mapping not known to be congruent with the BAR
//    modulo 2 MiB, or MADV_NOHUGEPAGE) are budgeted to TOUCH_BUDGET bytes per scenario
//    (TCG takes ~15 µs per fault).
// Known-empty ranges become unknown as soon as an mmap searches for a place.

import { hexU64 } from '../lib/u64.js';
import type { MmapFlagName, TraceOp } from '../trace/format.js';
import { RandomSource } from './random.js';

/** The device a scenario maps: BAR2 size and the largest leaf it can take. */
export interface VfioDeviceShape {
  size: bigint;
  align: bigint;
}

export interface VfioGenOptions {
  /**
   * Leave out PROT_EXEC on the device (refused on a no-exec anonymous-inode filesystem:
   * EPERM / EACCES) and touches of device pages whose VMA is PROT_NONE or exec-only
   * (SIGSEGV) — the two things this campaign first found the model lacked — to look past them.
   */
  avoidKnown?: boolean;
}

export interface VfioScenarioOps {
  /** ops as the probe takes them (addresses may use `@K^0xA` for reservations) */
  ops: TraceOp[];
  /** THP sysfs policy to run the scenario under (null: the kernel's default) */
  thp: 'always' | 'madvise' | 'never' | null;
}

const PAGE = 0x1000n;
const MiB = 0x100000n;
const PMD = 2n * MiB;
const GiB = 0x40000000n;
const REGION_SHIFT = 40n;
const BAR2 = 2n << REGION_SHIFT;
/** Free absolute hints go here: 16 GiB slots from 16 TiB up, far from mmap_base and the heap. */
const ZONE = 0x100000000000n;
const SLOT = 16n * GiB;
/** Bytes of possibly-4 KiB-leaf device memory a scenario may touch. */
const TOUCH_BUDGET = 64n * MiB;
/** The most a touch of a mapping congruent modulo 2 MiB costs in 4 KiB faults (both ends). */
const CONGRUENT_COST = 4n * MiB;

const hex = hexU64;
const pageUp = (v: bigint): bigint => (v + PAGE - 1n) & ~(PAGE - 1n);
const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

/** sfc32, seeded through splitmix32: small, fast, deterministic everywhere. */
class Prng extends RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    super();
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** bigint in [lo, hi] */
  big(lo: bigint, hi: bigint): bigint {
    if (hi <= lo) return lo;
    const span = hi - lo + 1n;
    const r = (BigInt(this.u32()) << 64n) | (BigInt(this.u32()) << 32n) | BigInt(this.u32());
    return lo + (r % span);
  }
}

// ---- what the generator knows about the layout ------------------------------------------

type Kind = 'dev' | 'bar0' | 'anon';

interface Mapping {
  kind: Kind;
  /** BAR offset of the mapping's first page (dev) */
  fileOff: bigint;
  /** root coordinate of the mapping's first page (dev; unknown for some anon) */
  start: bigint;
  /** could hold a 1 GiB leaf: splits inside it only where the BAR offset is 2 MiB aligned */
  hazardous: boolean;
}

/** 'hole': known to be empty; a number: the op index of the mmap that owns it. */
type Owner = number | 'hole';
/** prot: as mapped/mprotected; '?' when an op with an uncertain outcome may have changed it */
interface Seg { s: bigint; e: bigint; o: Owner; prot: string; nohuge: boolean }

class Root {
  /** sorted, disjoint; gaps are unknown */
  segs: Seg[] = [];

  /**
   * @param anchor op whose return value is this root's reference point
   * @param pos    the anchor's coordinate
   * @param va2m   the virtual address of coordinate 0 modulo 2 MiB, if known
   */
  constructor(readonly anchor: number, readonly pos: bigint, readonly va2m: bigint | null) {}

  addr(x: bigint): string {
    const d = x - this.pos;
    if (d === 0n) return `@${this.anchor}`;
    return d > 0n ? `@${this.anchor}+${hex(d)}` : `@${this.anchor}-${hex(-d)}`;
  }

  private splitAt(x: bigint): void {
    const i = this.segs.findIndex((g) => g.s < x && x < g.e);
    if (i < 0) return;
    const g = this.segs[i] as Seg;
    this.segs.splice(i, 1, { ...g, e: x }, { ...g, s: x });
  }

  /** The segments exactly covering [a, b), or null if part of it is unknown. */
  covering(a: bigint, b: bigint): Seg[] | null {
    const out = this.segs.filter((g) => g.e > a && g.s < b);
    let at = a;
    for (const g of out) {
      if (g.s > at) return null;
      at = g.e;
    }
    return at >= b ? out : null;
  }

  /** Replaces whatever is known of [a, b) by seg (or forgets it, with null). */
  set(a: bigint, b: bigint, seg: Omit<Seg, 's' | 'e'> | null): void {
    this.splitAt(a);
    this.splitAt(b);
    this.segs = this.segs.filter((g) => g.e <= a || g.s >= b);
    if (seg) {
      this.segs.push({ ...seg, s: a, e: b });
      this.segs.sort((x, y) => (x.s < y.s ? -1 : x.s > y.s ? 1 : 0));
    }
  }

  /** Applies f to the known segments in [a, b) (split at a and b first). */
  update(a: bigint, b: bigint, f: (g: Seg) => void): void {
    this.splitAt(a);
    this.splitAt(b);
    for (const g of this.segs) if (g.s >= a && g.e <= b) f(g);
  }

  /** The maximal run of contiguous known segments that holds segment i. */
  runEnd(i: number): number {
    let j = i;
    while (j + 1 < this.segs.length && (this.segs[j + 1] as Seg).s === (this.segs[j] as Seg).e) j++;
    return j;
  }
}

interface Window {
  region: 'bar2' | 'bar0' | 'bad';
  offset: bigint; // full file offset
  barOff: bigint; // offset inside the region
  len: bigint;
  flags: MmapFlagName[]; // SHARED / PRIVATE / SHARED_VALIDATE
  prot: string;
}

class VfioGenerator {
  private ops: TraceOp[] = [];
  private maps = new Map<number, Mapping>();
  private roots: Root[] = [];
  private budget = TOUCH_BUDGET;
  private nextSlot = 0;
  private readonly S: bigint;
  private readonly A: bigint;

  constructor(private r: Prng, dev: VfioDeviceShape, private readonly avoid = false) {
    this.S = dev.size;
    this.A = dev.align;
  }

  run(count: number): TraceOp[] {
    let guard = 0;
    while (this.ops.length < count && guard++ < count * 50) {
      const r = this.r;
      const kind = this.roots.length === 0
        ? 'map'
        : r.weighted([
          [22, 'map'], [11, 'fixed'], [13, 'munmap'], [11, 'mprotect'], [9, 'madvise'], [27, 'touch'],
          [3, 'unmapped'], [3, 'bad'], [4, 'anon'],
        ] as const);
      switch (kind) {
        case 'map': this.newMapping(); break;
        case 'anon': this.anonNoHint(); break;
        case 'fixed': this.fixedInRoot(); break;
        case 'munmap': this.rangeOp('munmap'); break;
        case 'mprotect': this.rangeOp('mprotect'); break;
        case 'madvise': this.rangeOp('madvise'); break;
        case 'touch': this.touch(); break;
        case 'unmapped': this.unmappedTouch(); break;
        case 'bad': this.badOp(); break;
      }
    }
    return this.ops;
  }

  // ---- helpers ------------------------------------------------------------------------

  private emit(op: TraceOp): number {
    this.ops.push(op);
    return this.ops.length - 1;
  }

  private pages(lo: number, hi: number): bigint {
    return BigInt(this.r.int(lo, hi)) * PAGE;
  }

  /** An mmap searched for a place: it may have landed in any range we knew to be empty. */
  private forgetHoles(): void {
    for (const root of this.roots) root.segs = root.segs.filter((g) => g.o !== 'hole');
  }

  private slot(): bigint {
    return ZONE + BigInt(this.nextSlot++) * SLOT;
  }

  private mapping(o: Owner): Mapping | null {
    return typeof o === 'number' ? (this.maps.get(o) ?? null) : null;
  }

  /** BAR offset at root coordinate x of the device mapping m. */
  private static fileAt(m: Mapping, x: bigint): bigint {
    return m.fileOff + (x - m.start);
  }

  /** Can a VMA be split at x (a point strictly inside g)? */
  private splittable(g: Seg, x: bigint): boolean {
    if (x <= g.s || x >= g.e) return true;
    const m = this.mapping(g.o);
    return !(m && m.hazardous && mod(VfioGenerator.fileAt(m, x), PMD) !== 0n);
  }

  /** A point in [g.s, g.e] where a range op may begin or end. */
  private pointIn(g: Seg): bigint {
    const r = this.r;
    const m = this.mapping(g.o);
    // 2 MiB-aligned points of the BAR offset inside the segment
    let first = -1n;
    let n = 0n;
    if (m && m.kind === 'dev') {
      first = g.s + mod(-VfioGenerator.fileAt(m, g.s), PMD);
      if (first <= g.e) n = (g.e - first) / PMD + 1n;
    }
    const len = g.e - g.s;
    const pages = len / PAGE;
    const choice = r.weighted([
      [3, 'start'], [3, 'end'], [m && m.kind === 'dev' ? 5 : 0, 'aligned'], [4, 'random'], [2, 'nearStart'], [2, 'nearEnd'],
    ] as const);
    let x: bigint;
    switch (choice) {
      case 'start': x = g.s; break;
      case 'end': x = g.e; break;
      case 'aligned': x = n > 0n ? first + r.big(0n, n - 1n) * PMD : g.s; break;
      case 'random': x = g.s + r.big(0n, pages) * PAGE; break;
      case 'nearStart': x = g.s + this.pages(1, 16); break;
      case 'nearEnd': x = g.e - this.pages(1, 16); break;
    }
    if (x < g.s || x > g.e) x = r.chance(0.5) ? g.s : g.e;
    if (!this.splittable(g, x)) x = n > 0n ? first + r.big(0n, n - 1n) * PMD : g.s;
    if (!this.splittable(g, x)) x = g.s;
    return x;
  }

  /** A range [a, b) of known segments in a random root, whose ends are safe split points. */
  private pickRange(root: Root): [bigint, bigint] | null {
    if (root.segs.length === 0) return null;
    const r = this.r;
    for (let tries = 0; tries < 8; tries++) {
      const i = r.int(0, root.segs.length - 1);
      const j = r.chance(0.6) ? i : r.int(i, root.runEnd(i));
      const a = this.pointIn(root.segs[i] as Seg);
      const b = this.pointIn(root.segs[j] as Seg);
      if (b > a && root.covering(a, b)) return [a, b];
    }
    return null;
  }

  private pickRoot(pred: (g: Seg) => boolean = () => true): Root | null {
    const ok = this.roots.filter((x) => x.segs.some(pred));
    if (ok.length === 0) return null;
    // bias toward recent roots
    return this.r.chance(0.5) ? (ok[ok.length - 1] as Root) : this.r.pick(ok);
  }

  // ---- device windows ---------------------------------------------------------------

  private window(): Window {
    const r = this.r;
    const S = this.S;
    const av = this.avoid ? 0 : 1;
    const prot = r.weighted([[70, 'rw'], [18, 'r'], [4 * av, 'none'], [4 * av, 'rx'], [2, 'w'], [2 * av, 'x']] as const);
    const flags: MmapFlagName[] = [r.weighted([[80, 'SHARED'], [12, 'SHARED_VALIDATE'], [8, 'PRIVATE']] as const)];
    const region = r.weighted([[88, 'bar2'], [6, 'bar0'], [6, 'bad']] as const);
    if (region === 'bar0') {
      const len = r.weighted([[6, PAGE], [2, 0x100n], [2, 2n * PAGE]] as const);
      return { region, offset: 0n, barOff: 0n, len, flags, prot };
    }
    if (region === 'bad') {
      const idx = r.pick([7n, 1n, 6n, 9n]);
      return { region, offset: idx << REGION_SHIFT, barOff: 0n, len: PAGE, flags, prot };
    }
    const off = r.weighted([
      [30, 0n], [25, r.big(0n, S / PMD - 1n) * PMD], [25, r.big(0n, S / PAGE - 1n) * PAGE],
      [this.A === GiB ? 5 : 0, GiB], [5, S + r.pick([0n, PMD, PAGE])], [3, r.big(0n, S / PAGE - 1n) * PAGE + 0x800n],
    ] as const);
    const rem = S > off ? S - off : PAGE;
    const len = r.weighted([
      [25, rem],
      [25, rem >= PMD ? r.big(1n, rem / PMD) * PMD : PAGE],
      [25, r.big(1n, (rem < 64n * MiB ? rem : 64n * MiB) / PAGE) * PAGE],
      [10, this.pages(1, 16)],
      [7, rem + r.pick([PAGE, PMD])],
      [3, r.pick([0n, 0x123n])],
    ] as const);
    return { region, offset: BAR2 + off, barOff: off, len, flags, prot };
  }

  /** Will the mmap of w certainly succeed (true), certainly fail (false), or nobody knows (null)? */
  private static outcome(w: Window, S: bigint, extra: MmapFlagName[] = []): boolean | null {
    if (!w.flags.includes('SHARED') && !w.flags.includes('SHARED_VALIDATE')) return false;
    // MAP_FIXED_NOREPLACE is not in LEGACY_MAP_MASK: MAP_SHARED_VALIDATE refuses it (EOPNOTSUPP)
    if (w.flags.includes('SHARED_VALIDATE') && extra.includes('FIXED_NOREPLACE')) return false;
    if (w.len === 0n || w.offset % PAGE !== 0n) return false;
    if (w.region === 'bad') return false;
    const size = w.region === 'bar0' ? PAGE : S;
    if (w.barOff + pageUp(w.len) > size) return false;
    if (w.prot.includes('x')) return null; // PROT_EXEC on the anon-inode device file: kernel-dependent
    return true;
  }

  private devOp(addr: string, w: Window, extra: MmapFlagName[]): TraceOp {
    return { op: 'mmap', addr, len: hex(w.len), prot: w.prot, flags: [...w.flags, ...extra], fd: 'v0', offset: hex(w.offset) };
  }

  private devMapping(w: Window, start: bigint): Mapping {
    return {
      kind: w.region === 'bar0' ? 'bar0' : 'dev', fileOff: w.barOff, start,
      hazardous: w.region === 'bar2' && this.A === GiB && pageUp(w.len) >= GiB,
    };
  }

  // ---- new mappings (new roots) ---------------------------------------------------------

  private newMapping(): void {
    const how = this.r.weighted([[22, 'nohint'], [22, 'zone'], [12, 'relhint'], [28, 'reserve'], [6, 'noreplace']] as const);
    if (how === 'reserve') return this.reserve();
    const w = this.window();
    const L = pageUp(w.len);
    let va2m: bigint | null = null;
    let addr = '0x0';
    const extra: MmapFlagName[] = [];
    let searches = how === 'nohint' || how === 'relhint';
    if (how === 'zone' || how === 'noreplace') {
      const base = this.slot();
      const cong = mod(w.barOff, this.A);
      const inSlot = this.r.weighted([
        [4, cong], [3, mod(w.barOff, PMD) + this.r.big(1n, 255n) * PMD], [3, mod(w.barOff, PMD) + this.pages(1, 511)],
      ] as const);
      addr = hex(base + inSlot);
      va2m = mod(inSlot, PMD);
      if (how === 'noreplace') extra.push('FIXED_NOREPLACE');
      searches = false; // the hint is free
    } else if (how === 'relhint') {
      const root = this.pickRoot();
      if (!root) return;
      const g = this.r.pick(root.segs);
      addr = root.addr(this.r.chance(0.5) ? g.e : this.pointIn(g));
    }
    const ok = VfioGenerator.outcome(w, this.S, extra);
    if (ok !== false && searches) this.forgetHoles();
    const idx = this.emit(this.devOp(addr, w, extra));
    if (ok !== true) return;
    const root = new Root(idx, 0n, va2m);
    root.segs.push({ s: 0n, e: L, o: idx, prot: w.prot, nohuge: false });
    if (how === 'zone' || how === 'noreplace') {
      // the rest of the slot is empty (until some mmap searches)
      root.segs.unshift({ s: -64n * MiB, e: 0n, o: 'hole', prot: 'none', nohuge: false });
      root.segs.push({ s: L, e: L + 64n * MiB, o: 'hole', prot: 'none', nohuge: false });
    }
    this.maps.set(idx, this.devMapping(w, 0n));
    this.roots.push(root);
  }

  /** Reserve PROT_NONE memory, then MAP_FIXED the window at `@R^A+delta` inside it. */
  private reserve(): void {
    const r = this.r;
    const w = this.window();
    const A = this.A;
    const L = pageUp(w.len) > 0n ? pageUp(w.len) : PAGE;
    const cong = mod(w.barOff, A);
    let delta = r.weighted([
      [6, cong],
      [2, mod(w.barOff, PMD) + (A > PMD ? r.big(0n, A / PMD - 1n) * PMD : 0n)],
      [2, mod(cong + this.pages(1, 511), A)],
    ] as const);
    delta = mod(delta, A);
    const extra = r.pick([0n, PMD, 16n * MiB, 64n * MiB]);
    const rlen = L + delta + A + extra;
    if (rlen > 8n * GiB) return;
    this.forgetHoles();
    const rIdx = this.emit({ op: 'mmap', addr: '0x0', len: hex(rlen), prot: 'none', flags: ['PRIVATE', 'ANONYMOUS', 'NORESERVE'], fd: null, offset: '0x0' });
    this.maps.set(rIdx, { kind: 'anon', fileOff: 0n, start: 0n, hazardous: false });
    const spec = `@${rIdx}^${hex(A)}${delta ? `+${hex(delta)}` : ''}`;
    const dIdx = this.emit(this.devOp(spec, w, ['FIXED']));
    const ok = VfioGenerator.outcome(w, this.S);
    if (ok !== true) return; // the failed MAP_FIXED left an unknown hole somewhere in R
    const root = new Root(dIdx, delta, 0n);
    const none = { prot: 'none', nohuge: false };
    if (delta > 0n) root.segs.push({ s: 0n, e: delta, o: rIdx, ...none });
    root.segs.push({ s: delta, e: delta + L, o: dIdx, prot: w.prot, nohuge: false });
    if (extra > 0n) root.segs.push({ s: delta + L, e: delta + L + extra, o: rIdx, ...none });
    this.maps.set(dIdx, this.devMapping(w, delta));
    this.roots.push(root);
  }

  private anonNoHint(): void {
    const r = this.r;
    const len = r.weighted([[5, this.pages(1, 16)], [3, this.pages(1, 2048)], [2, BigInt(r.int(1, 8)) * PMD]] as const);
    const prot = r.weighted([[6, 'rw'], [2, 'none'], [2, 'r']] as const);
    const flags: MmapFlagName[] = ['PRIVATE', 'ANONYMOUS'];
    if (prot === 'rw' && len <= 16n * PAGE && r.chance(0.3)) flags.push('POPULATE');
    this.forgetHoles();
    const idx = this.emit({ op: 'mmap', addr: '0x0', len: hex(len), prot, flags, fd: null, offset: '0x0' });
    this.maps.set(idx, { kind: 'anon', fileOff: 0n, start: 0n, hazardous: false });
    const root = new Root(idx, 0n, null);
    root.segs.push({ s: 0n, e: len, o: idx, prot, nohuge: false });
    this.roots.push(root);
  }

  /** MAP_FIXED (or MAP_FIXED_NOREPLACE) of a device window or anonymous memory over a known range. */
  private fixedInRoot(): void {
    const r = this.r;
    const root = this.pickRoot();
    if (!root) return;
    const range = this.pickRange(root);
    if (!range) return;
    const [a, b] = range;
    const segs = root.covering(a, b) as Seg[];
    const noreplace = r.chance(0.25);
    const onlyHoles = segs.every((g) => g.o === 'hole');
    const fixedFlag: MmapFlagName = noreplace ? 'FIXED_NOREPLACE' : 'FIXED';
    if (r.chance(0.35)) {
      // anonymous neighbour
      const len = b - a;
      if (len > 512n * MiB) return;
      const prot = r.weighted([[6, 'rw'], [3, 'none'], [1, 'r']] as const);
      const flags: MmapFlagName[] = ['PRIVATE', 'ANONYMOUS', fixedFlag];
      if (prot === 'rw' && len <= 16n * PAGE && r.chance(0.35)) flags.push('POPULATE');
      const idx = this.emit({ op: 'mmap', addr: root.addr(a), len: hex(len), prot, flags, fd: null, offset: '0x0' });
      if (noreplace && !onlyHoles) return; // EEXIST
      this.maps.set(idx, { kind: 'anon', fileOff: 0n, start: a, hazardous: false });
      root.set(a, b, { o: idx, prot, nohuge: false });
      return;
    }
    // a device window of exactly b - a bytes: a MAP_FIXED that fails in vfio's ->mmap has
    // cleared [a, b) first, so the length must never reach past b
    const w = this.window();
    const L = b - a;
    w.len = r.chance(0.1) ? L - 0x123n : L;
    if (w.region === 'bar2') {
      const how = r.weighted([[8, 'fits'], [1, 'beyond'], [1, 'asIs']] as const);
      if (how === 'fits' && L <= this.S) {
        // prefer offsets congruent with the address when the root's alignment is known
        const maxOff = (this.S - L) / PAGE;
        let off = r.big(0n, maxOff) * PAGE;
        if (root.va2m !== null && r.chance(0.6)) {
          const want = mod(root.va2m + a, PMD);
          const base = r.big(0n, (maxOff * PAGE) / PMD) * PMD + want;
          if (base + L <= this.S) off = base;
        }
        w.barOff = off;
        w.offset = BAR2 + off;
      } else if (how === 'beyond') {
        w.barOff = L >= this.S ? 0n : this.S - L + this.pages(1, 16);
        w.offset = BAR2 + w.barOff;
      }
    }
    const idx = this.emit(this.devOp(root.addr(a), w, [fixedFlag]));
    if (noreplace && !onlyHoles) return; // EEXIST, nothing changed
    const ok = VfioGenerator.outcome(w, this.S, [fixedFlag]);
    if (ok === true) {
      this.maps.set(idx, this.devMapping(w, a));
      root.set(a, b, { o: idx, prot: w.prot, nohuge: false });
    } else {
      // failed (or may have) after the old range was cleared — or restored: forget it
      root.set(a, b, null);
    }
  }

  // ---- munmap / mprotect / madvise ---------------------------------------------------

  private rangeOp(kind: 'munmap' | 'mprotect' | 'madvise'): void {
    const root = this.pickRoot((g) => g.o !== 'hole');
    if (!root) return;
    const range = this.pickRange(root);
    if (!range) return;
    const [a, b] = range;
    const addr = root.addr(a);
    const len = hex(b - a);
    if (kind === 'munmap') {
      this.emit({ op: 'munmap', addr, len });
      root.set(a, b, { o: 'hole', prot: 'none', nohuge: false });
    } else if (kind === 'mprotect') {
      const segs = root.covering(a, b) as Seg[];
      const dev = segs.some((g) => this.mapping(g.o)?.kind === 'dev' || this.mapping(g.o)?.kind === 'bar0');
      const av = this.avoid && dev ? 0 : 1;
      const prot = this.r.weighted([[25, 'r'], [35, 'rw'], [12 * av, 'none'], [8 * av, 'rx'], [5 * av, 'x'], [5, 'w'], [10 * av, 'rwx']] as const);
      this.emit({ op: 'mprotect', addr, len, prot });
      // applied VMA by VMA up to the first hole; PROT_EXEC on the device may be refused
      let end = a;
      for (const g of segs) {
        if (g.o === 'hole') break;
        end = g.e;
      }
      const unsure = prot.includes('x') && segs.some((g) => this.mapping(g.o)?.kind !== 'anon' && g.o !== 'hole');
      if (end > a) root.update(a, end, (g) => { g.prot = unsure ? '?' : prot; });
    } else {
      const advice = this.r.chance(0.55) ? 'HUGEPAGE' : 'NOHUGEPAGE';
      this.emit({ op: 'madvise', addr, len, advice });
      if (advice === 'NOHUGEPAGE') root.update(a, b, (g) => { g.nohuge = true; });
    }
  }

  // ---- touches --------------------------------------------------------------------------

  private touchable(g: Seg): boolean {
    const m = this.mapping(g.o);
    if (m === null || m.kind === 'anon') return false;
    return !this.avoid || !(g.prot === 'none' || g.prot === 'x' || g.prot === '?');
  }

  /** 4 KiB-fault cost (in bytes) of touching [x, y) of segment g. */
  private cost(root: Root, g: Seg, x: bigint, y: bigint): bigint {
    const m = this.mapping(g.o);
    if (!m) return 0n;
    if (m.kind === 'bar0') return PAGE;
    const len = y - x;
    const congruent = root.va2m !== null && !g.nohuge && mod(root.va2m + m.start - m.fileOff, PMD) === 0n;
    return congruent && len > CONGRUENT_COST ? CONGRUENT_COST : len;
  }

  private touch(): void {
    const r = this.r;
    const root = this.pickRoot((g) => g.o === 'hole' || this.touchable(g));
    if (!root) return;
    const starts = root.segs.map((g, i) => [g, i] as const).filter(([g]) => g.o === 'hole' || this.touchable(g));
    const [g0, i0] = r.pick(starts);
    const a = r.weighted([[4, g0.s], [4, g0.s + r.big(0n, (g0.e - g0.s) / PAGE - 1n) * PAGE], [2, g0.e - PAGE]] as const);
    const want = r.weighted([
      [3, PAGE], [3, this.pages(2, 64)], [3, g0.e - a], [3, BigInt(r.int(1, 32)) * PMD], [3, 1n << 62n], [1, g0.e - a + PAGE],
    ] as const);
    // walk from a: device pages cost, an empty range stops the touch (SIGSEGV), anything else ends it before
    let b = a;
    let cost = 0n;
    for (let i = i0; i < root.segs.length; i++) {
      const g = root.segs[i] as Seg;
      if (g.s > b) break; // unknown gap
      const y = g.e < a + want ? g.e : a + want;
      if (g.o === 'hole') { b = y > b ? y : b; break; }
      if (!this.touchable(g)) break;
      const c = this.cost(root, g, b, y);
      if (cost + c > this.budget) {
        // shorten to what the budget allows (4 KiB-leaf pages)
        const left = (this.budget - cost) / PAGE * PAGE;
        if (c === y - b && left > 0n) { b += left; cost += left; }
        break;
      }
      cost += c;
      b = y;
      if (b >= a + want) break;
    }
    if (b <= a) return;
    this.budget -= cost;
    this.emit({ op: 'touch', addr: root.addr(a), len: hex(b - a) });
  }

  private unmappedTouch(): void {
    const r = this.r;
    const addr = r.chance(0.5) ? this.slot() + r.big(0n, 1024n) * PMD : 0x100000n + this.pages(0, 64);
    this.emit({ op: 'touch', addr: hex(addr), len: hex(this.pages(1, 16)) });
  }

  /** Calls that fail before they look at the layout: unaligned starts, empty or huge lengths. */
  private badOp(): void {
    const r = this.r;
    const root = this.pickRoot();
    if (!root) return;
    const g = r.pick(root.segs);
    const x = g.s + r.big(0n, (g.e - g.s) / PAGE) * PAGE;
    switch (r.weighted([[3, 'munmapUnaligned'], [2, 'munmapZero'], [2, 'mprotectZero'], [2, 'madviseUnaligned'], [1, 'mprotectHuge']] as const)) {
      case 'munmapUnaligned': this.emit({ op: 'munmap', addr: root.addr(x + 0x123n), len: hex(PAGE) }); break;
      case 'munmapZero': this.emit({ op: 'munmap', addr: root.addr(x), len: '0x0' }); break;
      case 'mprotectZero': this.emit({ op: 'mprotect', addr: root.addr(x), len: '0x0', prot: 'r' }); break;
      case 'madviseUnaligned': this.emit({ op: 'madvise', addr: root.addr(x + 0x800n), len: hex(PAGE), advice: 'HUGEPAGE' }); break;
      case 'mprotectHuge': this.emit({ op: 'mprotect', addr: root.addr(x), len: '0xfffffffffffff000', prot: 'r' }); break;
    }
  }
}

/**
 * A deterministic op list for one random scenario on a device with the given BAR2.
 * File v0 is the device; anonymous mappings have fd null.
 */
export function generateVfioOps(seed: number, count: number, device: VfioDeviceShape, opts: VfioGenOptions = {}): VfioScenarioOps {
  const r = new Prng(seed);
  const thp = r.weighted([[75, null], [15, 'madvise'], [10, 'never']] as const);
  const ops = new VfioGenerator(r, device, opts.avoidKnown ?? false).run(count);
  return { ops, thp };
}
