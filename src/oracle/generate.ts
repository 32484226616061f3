// Deterministic random op lists for the live-kernel oracle, in the style of the
// mixed-* sample traces: ~58% mmap, 24% munmap, 12% mprotect (and 6% madvise
// MADV_HUGEPAGE/NOHUGEPAGE, which the samples lack), over the same four
// files, reaching every flag and every error path the model has to get right.

import { hexU64 } from '../lib/u64.js';
import type { MmapFlagName, MmapOp, TraceFile, TraceOp } from '../trace/format.js';
import { RandomSource } from './random.js';

const PAGE = 0x1000n;
const MiB = 0x100000n;
const GiB = 0x40000000n;
const THP = 2n * MiB;
const TASK_SIZE = 0x7ffffffff000n;
const STACK_TOP_VMA = 0x7ffffffde000n; // where [stack] starts in the samples
const STACK_TOUCHED = 0x7ffffffbe000n; // about where it starts once the recorder pre-touched 256 KiB
const U64 = 1n << 64n;
const MAX_PRIVATE_WRITABLE = 16n * GiB;

/** xoshiro128** over four 32-bit words, seeded by splitmix32. Deterministic across platforms. */
class Rng extends RandomSource {
  private s = new Uint32Array(4);

  constructor(seed: number) {
    super();
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  u32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** Uniform bigint in [lo, hi) (hi > lo). */
  big(lo: bigint, hi: bigint): bigint {
    const span = hi - lo;
    const r = (this.u64() << 64n) | this.u64();
    return lo + (r % span);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const hex = hexU64;
const pageAlign = (v: bigint): bigint => ((v + PAGE - 1n) & ~(PAGE - 1n)) % U64;

const FILES: readonly TraceFile[] = [
  { id: 'm0', kind: 'memfd', size: '0x2000000' },
  { id: 'm1', kind: 'memfd', size: '0x40000000' },
  { id: 'f2', kind: 'ext4', size: '0x2000000' },
  { id: 'f3', kind: 'tmpfs', size: '0x800000' },
];

/** Lengths that overflow something: > TASK_SIZE, or PAGE_ALIGN wraps to 0. */
const HUGE_LENGTHS: readonly bigint[] = [
  0x800000000000n, // 2^47 = beyond TASK_SIZE
  0x7ffffffff000n, // exactly TASK_SIZE
  0x1000000000000n,
  1n << 63n,
  U64 - 1n, // PAGE_ALIGN wraps to 0
  U64 - 0x800n, // wraps
  U64 - 0xfffn, // wraps
  U64 - PAGE, // aligned, no wrap, still > TASK_SIZE
];

interface Mapping {
  index: number; // op index of the mmap
  len: bigint; // requested length
}

class Generator {
  private ops: TraceOp[] = [];
  private mmaps: Mapping[] = [];

  constructor(private rng: Rng) {}

  run(count: number): TraceOp[] {
    for (let i = 0; i < count; i++) {
      const kind = this.mmaps.length === 0
        ? 'mmap'
        : this.rng.weighted([[58, 'mmap'], [24, 'munmap'], [12, 'mprotect'], [6, 'madvise']] as const);
      if (kind === 'mmap') {
        this.mmaps.push({ index: i, len: 0n });
        const op = this.mmap();
        this.mmaps[this.mmaps.length - 1]!.len = BigInt(op.len);
        this.ops.push(op);
      } else if (kind === 'munmap') {
        const { addr, len } = this.range();
        this.ops.push({ op: 'munmap', addr, len: hex(len) });
      } else if (kind === 'mprotect') {
        const { addr, len } = this.range();
        this.ops.push({ op: 'mprotect', addr, len: hex(len), prot: this.prot() });
      } else {
        const { addr, len } = this.range();
        this.ops.push({ op: 'madvise', addr, len: hex(len), advice: this.rng.chance(0.7) ? 'HUGEPAGE' : 'NOHUGEPAGE' });
      }
    }
    return this.ops;
  }

  // ---- pieces ---------------------------------------------------------------

  private prot(): string {
    return this.rng.weighted([
      [12, 'none'], [30, 'r'], [35, 'rw'], [12, 'rx'], [6, 'rwx'], [2, 'w'], [3, 'x'],
    ] as const);
  }

  /** An earlier mmap, biased toward recent ones; excludes the op being generated. */
  private earlier(): Mapping | null {
    const n = this.mmaps.length - (this.mmaps.length > 0 && this.mmaps[this.mmaps.length - 1]!.index === this.ops.length ? 1 : 0);
    if (n <= 0) return null;
    const r = this.rng;
    const i = r.chance(0.55) ? Math.max(0, n - 1 - r.int(0, 9)) : r.int(0, n - 1);
    return this.mmaps[i]!;
  }

  /** A usable span of an earlier mapping's length (its page-aligned size, bounded). */
  private static span(m: Mapping): bigint {
    let s = pageAlign(m.len);
    if (s === 0n || s > 64n * MiB) s = s === 0n ? PAGE : 64n * MiB;
    return s;
  }

  private pages(lo: number, hi: number): bigint {
    return BigInt(this.rng.int(lo, hi)) * PAGE;
  }

  private rel(m: Mapping, off: bigint): string {
    if (off === 0n) return this.rng.chance(0.5) ? `@${m.index}` : `@${m.index}+0x0`;
    return off > 0n ? `@${m.index}+${hex(off)}` : `@${m.index}-${hex(-off)}`;
  }

  private len(): bigint {
    const r = this.rng;
    switch (r.weighted([
      [30, 'small'], [20, 'pages'], [12, 'thp'], [10, 'unaligned'], [8, 'large'],
      [3, 'giant'], [3, 'huge'], [2, 'zero'],
    ] as const)) {
      case 'small': return this.pages(1, 16);
      case 'pages': return this.pages(1, 2048);
      case 'thp': {
        const l = BigInt(r.int(1, 8)) * THP;
        return r.weighted([[8, l], [2, l + PAGE], [2, l - PAGE]] as const);
      }
      case 'unaligned': {
        if (r.chance(0.1)) return 1n;
        let v = BigInt(r.int(1, 0x400000));
        if (v % PAGE === 0n) v += 0x123n;
        return v;
      }
      case 'large': return r.big(64n * MiB / PAGE, 4n * GiB / PAGE) * PAGE;
      case 'giant': return r.big(4n * GiB / THP, 64n * GiB / THP) * THP;
      case 'huge': return r.pick(HUGE_LENGTHS);
      case 'zero': return 0n;
    }
  }

  /** A non-MAP_FIXED hint. */
  private hint(len: bigint): string {
    const r = this.rng;
    const alen = pageAlign(len);
    switch (r.weighted([
      [62, 'zero'], [14, 'rel'], [8, 'abs'], [4, 'low'], [3, 'stack'], [3, 'high'], [3, 'thp'], [3, 'top'],
    ] as const)) {
      case 'zero': return '0x0';
      case 'rel': {
        const m = this.earlier();
        if (!m) return '0x0';
        const s = Generator.span(m);
        let off = r.weighted([
          [5, r.big(0n, s / PAGE) * PAGE],
          [3, s],
          [2, s + this.pages(1, 512)],
          [2, -(alen > 0n && alen < GiB ? alen : PAGE)],
        ] as const);
        if (r.chance(0.15)) off += 0x123n;
        return this.rel(m, off);
      }
      case 'abs': {
        const a = r.big(0x10000n / PAGE, TASK_SIZE / PAGE) * PAGE;
        return hex(r.chance(0.3) ? a + 0x123n : a);
      }
      case 'low': return hex(r.chance(0.5) ? r.big(0n, 0x20000n) : r.big(0n, 0x20n) * PAGE);
      case 'stack': {
        const base = r.pick([STACK_TOP_VMA, STACK_TOUCHED]);
        return hex(r.pick([base, base - PAGE, base - MiB, base - MiB - PAGE, base - (alen < GiB ? alen : 0n), base + 0x3000n]));
      }
      case 'high': return hex(r.pick([TASK_SIZE, 0x800000000000n, r.big(1n << 47n, 1n << 56n) & ~(PAGE - 1n), 0xffffffffff600000n, TASK_SIZE - PAGE]));
      case 'thp': return hex(r.big(0x40000000n / THP, TASK_SIZE / THP) * THP);
      case 'top': return hex(alen > 0n && alen <= TASK_SIZE ? TASK_SIZE - alen : TASK_SIZE);
    }
  }

  /** A MAP_FIXED / MAP_FIXED_NOREPLACE address. */
  private fixedAddr(len: bigint): string {
    const r = this.rng;
    const alen = pageAlign(len);
    const m = this.earlier();
    if (m && r.chance(0.82)) {
      const s = Generator.span(m);
      let off = r.weighted([
        [10, r.big(0n, s / PAGE) * PAGE], // inside / over
        [4, 0n], // exactly over the start
        [4, s], // adjacent after
        [4, -(alen > 0n && alen < GiB ? alen : PAGE)], // adjacent before
        [3, -this.pages(1, 16)], // overlapping the start from below
        [2, s + this.pages(1, 64)], // a little beyond
      ] as const);
      if (r.chance(0.08)) off += BigInt(r.int(1, 0xfff));
      return this.rel(m, off);
    }
    switch (r.weighted([
      [3, 'zero'], [4, 'low'], [6, 'abs'], [3, 'thp'], [2, 'top'], [1, 'above'], [1, 'unaligned'],
    ] as const)) {
      case 'zero': return '0x0';
      case 'low': return hex(r.pick([0x1000n, 0x2000n, 0x8000n, 0xf000n, 0x10000n, r.big(0n, 0x10n) * PAGE]));
      case 'abs': return hex(r.big(0x10000n / PAGE, TASK_SIZE / PAGE) * PAGE);
      case 'thp': return hex(r.big(0x40000000n / THP, TASK_SIZE / THP) * THP);
      case 'top': return hex(alen > 0n && alen <= TASK_SIZE ? TASK_SIZE - alen : TASK_SIZE - PAGE);
      case 'above': return hex(r.pick([TASK_SIZE, 0x800000000000n, 1n << 52n]));
      case 'unaligned': return hex(r.big(0x10000n, TASK_SIZE) | 0x10n);
    }
  }

  private fileOffset(file: TraceFile, alen: bigint): bigint {
    const r = this.rng;
    const size = BigInt(file.size!);
    switch (r.weighted([
      [35, 'zero'], [30, 'aligned'], [15, 'thp'], [5, 'beyond'], [5, 'unaligned'], [5, 'huge'],
    ] as const)) {
      case 'zero': return 0n;
      case 'aligned': return r.big(0n, size / PAGE) * PAGE;
      case 'thp': return r.big(0n, size / THP) * THP;
      case 'beyond': return size + this.pages(0, 256);
      case 'unaligned': return r.chance(0.5) ? 0x123n : r.big(0n, size / PAGE) * PAGE + BigInt(r.int(1, 0xfff));
      case 'huge': {
        const fit = alen > 0n && alen < (1n << 62n) ? (1n << 63n) - alen : 1n << 62n;
        return r.pick([
          0x7ffffffffffff000n, 1n << 63n, U64 - PAGE, 0x7fffffffff000000n, fit, fit + PAGE,
          r.big(1n << 50n, 1n << 52n) * PAGE,
        ]);
      }
    }
  }

  private mmap(): MmapOp {
    const r = this.rng;
    const kind = r.weighted([
      [50, 'anon'], [6, 'sharedAnon'], [26, 'file'], [2, 'validateAnon'], [2, 'noType'],
      [4, 'growsdown'], [1.5, 'growsdownWrong'], [2, 'stack'], [4, '32bit'],
    ] as const);
    let flags: MmapFlagName[];
    let fd: string | null = null;
    let offset = 0n;
    let len = this.len();
    let file: TraceFile | null = null;

    switch (kind) {
      case 'anon': flags = ['PRIVATE', 'ANONYMOUS']; break;
      case 'sharedAnon': flags = ['SHARED', 'ANONYMOUS']; break;
      case 'validateAnon': flags = ['SHARED_VALIDATE', 'ANONYMOUS']; break;
      case 'noType':
        if (r.chance(0.6)) flags = ['ANONYMOUS'];
        else { flags = []; file = r.pick(FILES); }
        break;
      case 'growsdown': flags = ['PRIVATE', 'ANONYMOUS', 'GROWSDOWN']; break;
      case 'growsdownWrong':
        if (r.chance(0.5)) flags = ['SHARED', 'ANONYMOUS', 'GROWSDOWN'];
        else { file = r.pick(FILES); flags = [r.pick(['PRIVATE', 'SHARED'] as const), 'GROWSDOWN']; }
        break;
      case 'stack': flags = ['PRIVATE', 'ANONYMOUS', 'STACK']; break;
      case '32bit': flags = ['PRIVATE', 'ANONYMOUS', '32BIT']; break;
      case 'file':
        file = r.pick(FILES);
        flags = [r.weighted([[45, 'SHARED'], [45, 'PRIVATE'], [10, 'SHARED_VALIDATE']] as const)];
        break;
    }

    if (file) {
      fd = file.id;
      const size = BigInt(file.size!);
      if (r.chance(0.55)) {
        // Something that fits in the file (from a random aligned offset).
        len = r.chance(0.85) ? this.pages(1, Number(size / PAGE / 4n)) : BigInt(r.int(1, Number(size / 4n)));
        if (r.chance(0.15)) len = (BigInt(r.int(1, Math.max(1, Number(size / THP)))) * THP);
      }
      offset = this.fileOffset(file, pageAlign(len));
    } else if (r.chance(0.05)) {
      offset = r.chance(0.5) ? this.pages(1, 1024) : BigInt(r.int(1, 0xfff)); // ignored / EINVAL
    }

    // Placement.
    let addr: string;
    const placement = r.weighted([[74, 'hint'], [13, 'fixed'], [13, 'noreplace']] as const);
    if (placement === 'hint') {
      addr = this.hint(len);
    } else {
      addr = this.fixedAddr(len);
      flags.push(placement === 'fixed' ? 'FIXED' : 'FIXED_NOREPLACE');
    }

    // Modifiers.
    if (kind !== '32bit' && r.chance(0.015)) flags.push('32BIT');
    if (r.chance(0.05)) flags.push('NORESERVE');
    if (kind !== 'stack' && r.chance(0.02)) flags.push('STACK');
    const alen = pageAlign(len);
    if (len > 0n && alen > 0n && alen <= 0x10000n && r.chance(0.12)) flags.push('POPULATE');

    let prot = this.prot();
    // The overcommit heuristic refuses single private writable mappings near RAM size;
    // keep those rare so that runs are not dominated by that one ENOMEM.
    const privateLike = !flags.includes('SHARED') && !flags.includes('SHARED_VALIDATE');
    if (privateLike && prot.includes('w') && len > MAX_PRIVATE_WRITABLE && len <= TASK_SIZE && !r.chance(0.15)) {
      if (r.chance(0.3)) flags.push('NORESERVE');
      else prot = r.pick(['none', 'r', 'rx']);
    }

    return { op: 'mmap', addr, len: hex(len), prot, flags, fd, offset: hex(offset) };
  }

  /** Address and length of a munmap or mprotect. */
  private range(): { addr: string; len: bigint } {
    const r = this.rng;
    const m = this.earlier();
    if (m && r.chance(0.8)) {
      const s = Generator.span(m);
      switch (r.weighted([
        [35, 'sub'], [10, 'whole'], [12, 'span'], [8, 'before'], [6, 'unalignedStart'],
        [8, 'unalignedLen'], [4, 'zero'], [4, 'huge'],
      ] as const)) {
        case 'sub': {
          const off = r.big(0n, s / PAGE) * PAGE;
          return { addr: this.rel(m, off), len: r.big(1n, (s - off) / PAGE + 1n) * PAGE };
        }
        case 'whole': return { addr: this.rel(m, 0n), len: m.len };
        case 'span': {
          const off = r.big(0n, s / PAGE) * PAGE;
          return { addr: this.rel(m, off), len: s * BigInt(r.int(2, 4)) + this.pages(0, 8192) };
        }
        case 'before': {
          const back = this.pages(1, 64);
          return { addr: this.rel(m, -back), len: back + r.big(1n, s / PAGE + 1n) * PAGE };
        }
        case 'unalignedStart': {
          const off = r.big(0n, s / PAGE) * PAGE + BigInt(r.int(1, 0xfff));
          return { addr: this.rel(m, off), len: this.pages(1, 16) };
        }
        case 'unalignedLen': {
          const off = r.big(0n, s / PAGE) * PAGE;
          let l = BigInt(r.int(1, Number(s - off)));
          if (l % PAGE === 0n) l -= 1n;
          return { addr: this.rel(m, off), len: l === 0n ? 1n : l };
        }
        case 'zero': return { addr: this.rel(m, r.big(0n, s / PAGE) * PAGE), len: 0n };
        case 'huge': return { addr: this.rel(m, r.big(0n, s / PAGE) * PAGE), len: r.pick(HUGE_LENGTHS) };
      }
    }
    switch (r.weighted([
      [8, 'abs'], [3, 'above'], [3, 'low'], [2, 'unaligned'], [1, 'stack'], [1, 'everything'],
    ] as const)) {
      case 'abs': return { addr: hex(r.big(0x10000n / PAGE, TASK_SIZE / PAGE) * PAGE), len: this.pages(1, 4096) };
      case 'above': return { addr: hex(r.pick([TASK_SIZE, 0x800000000000n, U64 - PAGE])), len: this.pages(1, 16) };
      case 'low': return { addr: hex(r.pick([0n, 0x1000n, 0x8000n])), len: this.pages(1, 32) };
      case 'unaligned': return { addr: hex(r.big(0x10000n, TASK_SIZE) | 0x8n), len: this.pages(1, 16) };
      case 'stack': return { addr: hex(r.pick([STACK_TOP_VMA, STACK_TOUCHED]) - this.pages(1, 300)), len: this.pages(1, 4) };
      case 'everything': return { addr: hex(0x10000n), len: TASK_SIZE - 0x10000n };
    }
  }
}

/** A deterministic op list (and the four sample files) from a seed. */
export function generateOps(seed: number, count: number): { files: TraceFile[]; ops: TraceOp[] } {
  const gen = new Generator(new Rng(seed));
  return { files: FILES.map((f) => ({ ...f })), ops: gen.run(count) };
}
