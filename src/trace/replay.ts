// Replay a trace in the model and compare every result and the final VMA list.

import type { Trace, TraceVma } from './format.js';
import type { ValidatedTrace, CompiledOp, Expected } from './load.js';
import { MmStruct } from '../mm/mm.js';
import { sysMmap, sysMunmap } from '../mm/mmap.js';
import { sysMprotect } from '../mm/mprotect.js';
import { sysMadvise } from '../mm/madvise.js';
import { InputError } from './input-error.js';
import { touchRange, UnmodelledFault } from '../mm/memory.js';
import { openVfioDevice } from '../vfio/process.js';
import { permsOf, type Vma } from '../mm/vma.js';
import { newMm, makeFile, addInitialVmas, shmemZeroSetup } from '../kernels/linux-6.18.js';
import type { KFile, FileKind } from '../fs/file.js';
import { addSplitInto, subSplitInto, formatPages, formattedPages, pageAlignUp, parseSplit, type Split } from '../lib/u64.js';
import { errnoName } from '../mm/uapi.js';
import { Undecidable } from '../mm/undecidable.js';
import { x86MmapBaseRange } from '../arch/x86_64.js';

export interface Mismatch {
  op: number | 'final';
  index?: number;
  expected: unknown;
  got: unknown;
}

/** Where a randomised trace's mmap_base came from. */
export interface MmapBaseReport {
  source: 'env' | 'inferred';
  /** the base replayed with; null when only a range was inferred and no op depended on more */
  value: string | null;
  /** the inferred candidates [lowest, highest] */
  range?: [string, string];
  how: string;
}

export interface ReplayReport {
  trace: string;
  ops: number;
  resultsMatched: number;
  finalMatched: boolean;
  firstMismatch: Mismatch | null;
  modelNs: number;
  /** randomised traces only */
  mmapBase?: MmapBaseReport;
}

/** The process a trace starts in: mm with the initial VMAs, and the trace's files by id. */
export function setUpProcess(t: ValidatedTrace): { mm: MmStruct; files: Map<string, KFile> } {
  const mm = newMm(t.config, t.arch);
  const files = new Map<string, KFile>();
  for (const f of t.raw.files) {
    const dev = t.devices.get(f.id);
    // device files are opened through the trace's kernel variant (its vfio hooks)
    if (dev !== undefined) files.set(f.id, openVfioDevice(t.variant, mm.config, dev, f.id, mm.arch));
    else {
      const size = parseSplit(f.size);
      files.set(f.id, makeFile(f.id, f.kind as FileKind, Math.ceil((size.pg * 4096 + size.sub) / mm.arch.pageSize), mm.config));
    }
  }
  addInitialVmas(mm, t.raw.initial, (id) => files.get(id));
  return { mm, files };
}

/** What the ops returned: raw results, and for touches the fault counts and signals. */
export interface RunOutput {
  /** a page number (≥ 0) or -errno; 0 for a successful munmap/mprotect/madvise/touch */
  ret: Float64Array;
  /** touch: faults taken; -1 for other ops */
  faults: Float64Array;
  /** touch: the signal that stopped it */
  signal: (string | null)[];
  /** the op at which a kernel hazard stopped the replay, and its name */
  hazardAt: number;
  hazard: string | null;
}

export function newRunOutput(n: number): RunOutput {
  return { ret: new Float64Array(n), faults: new Float64Array(n).fill(-1), signal: new Array<string | null>(n).fill(null), hazardAt: -1, hazard: null };
}

/** The second process of a replay that does not know mmap_base: the same ops, the other end of the range. */
export interface Twin {
  mm: MmStruct;
  files: Map<string, KFile>;
  out: RunOutput;
  /** says which bases the two runs have and how they were inferred, for the refusal */
  describe: string;
}

/** A 4 KiB-unit value of a trace in pages of 4096·f bytes (exact: both are integers below 2^53). */
function rescale(s: Split, f: number): Split {
  return f === 1 ? s : { pg: Math.floor(s.pg / f), sub: (s.pg % f) * 4096 + s.sub };
}

/** The ops with their values in the arch's pages (the trace's hex fields are 4 KiB units). */
export function opsInPages(ops: CompiledOp[], pageSize: number): CompiledOp[] {
  const f = pageSize / 4096;
  if (f === 1) return ops;
  return ops.map((o): CompiledOp => {
    const addr = { ...o.addr, off: rescale(o.addr.off, f) } as CompiledOp['addr'];
    if (o.op === 'mmap') return { ...o, addr, len: rescale(o.len, f), offset: rescale(o.offset, f) };
    return { ...o, addr, len: rescale(o.len, f) };
  });
}

const KIND = { mmap: 0, munmap: 1, mprotect: 2, madvise: 3, touch: 4 } as const;

/**
 * The ops as columns of typed arrays, one row per op, in the arch's pages: the replay loop
 * reads a few numbers per op from arrays it walks in order, instead of chasing each op's
 * objects (op, address reference, length, offset) across the heap.
 */
export interface PackedOps {
  n: number;
  kind: Uint8Array;
  /** the op whose result the address is relative to, or -1 (absolute) */
  addrK: Int32Array;
  addrNeg: Uint8Array;
  /** pg and sub of the address (its offset when relative), the length and the file offset */
  addr: Float64Array;
  len: Float64Array;
  offset: Float64Array;
  prot: Int32Array;
  flags: Int32Array;
  advice: Int32Array;
  /** mmap: the file behind fd (null for none) */
  file: (KFile | null)[];
}

/** mmap's file behind fd per op (null for none and for other ops), from a process's files. */
export function fileColumn(ops: CompiledOp[], files: Map<string, KFile>): (KFile | null)[] {
  return ops.map((o) => (o.op === 'mmap' && o.fd !== null ? files.get(o.fd)! : null));
}

export function packOps(ops: CompiledOp[], files: Map<string, KFile>): PackedOps {
  const n = ops.length;
  const p: PackedOps = {
    n, kind: new Uint8Array(n), addrK: new Int32Array(n), addrNeg: new Uint8Array(n), addr: new Float64Array(2 * n),
    len: new Float64Array(2 * n), offset: new Float64Array(2 * n), prot: new Int32Array(n), flags: new Int32Array(n),
    advice: new Int32Array(n), file: fileColumn(ops, files),
  };
  for (let i = 0; i < n; i++) {
    const o = ops[i];
    p.kind[i] = KIND[o.op];
    p.addrK[i] = o.addr.k;
    p.addrNeg[i] = o.addr.neg ? 1 : 0;
    p.addr[2 * i] = o.addr.off.pg;
    p.addr[2 * i + 1] = o.addr.off.sub;
    p.len[2 * i] = o.len.pg;
    p.len[2 * i + 1] = o.len.sub;
    if (o.op === 'mmap') {
      p.offset[2 * i] = o.offset.pg;
      p.offset[2 * i + 1] = o.offset.sub;
      p.flags[i] = o.flags;
    }
    if (o.op === 'mmap' || o.op === 'mprotect') p.prot[i] = o.prot;
    if (o.op === 'madvise') p.advice[i] = o.advice;
  }
  return p;
}

/** Execute the ops in order; a kernel hazard stops the run after that op. */
export function runOps(mm: MmStruct, ops: PackedOps, out: RunOutput, twin?: Twin, twinFiles?: (KFile | null)[]): void {
  const res = out.ret;
  const base: Split = { pg: 0, sub: 0 };
  const off: Split = { pg: 0, sub: 0 };
  // the op's arguments, rewritten for each op (no callee keeps them)
  const addr: Split = { pg: 0, sub: 0 };
  const len: Split = { pg: 0, sub: 0 };
  const offset: Split = { pg: 0, sub: 0 };
  const ps = mm.arch.pageSize;
  const pages = mm.arch.pages2_64;
  const { addrK, addrNeg } = ops;
  const A = ops.addr;
  const L = ops.len;
  const O = ops.offset;
  for (let i = 0; i < ops.n; i++) {
    const k = addrK[i];
    if (k < 0) {
      addr.pg = A[2 * i];
      addr.sub = A[2 * i + 1];
    } else {
      const r = res[k];
      base.pg = r > 0 ? r : 0;
      off.pg = A[2 * i];
      off.sub = A[2 * i + 1];
      if (addrNeg[i] !== 0) subSplitInto(addr, base, off, ps, pages);
      else addSplitInto(addr, base, off, ps, pages);
    }
    len.pg = L[2 * i];
    len.sub = L[2 * i + 1];
    offset.pg = O[2 * i];
    offset.sub = O[2 * i + 1];
    try {
      runOp(mm, ops, ops.file[i], i, addr, len, offset, out);
      if (twin !== undefined) {
        const fallbacks = mm.bottomUpFallbacks;
        const twinFallbacks = twin.mm.bottomUpFallbacks;
        runOp(twin.mm, ops, twinFiles![i], i, addr, len, offset, twin.out);
        // Equal answers at both ends mean equal answers between them while every placement
        // is a top-down search (monotone in mmap_base); a fall-back to bottom-up starts
        // from mmap_legacy_base, which moves the other way, so it is refused too.
        const differs = out.ret[i] !== twin.out.ret[i] || out.faults[i] !== twin.out.faults[i] || out.signal[i] !== twin.out.signal[i];
        const fellBack = mm.bottomUpFallbacks !== fallbacks || twin.mm.bottomUpFallbacks !== twinFallbacks;
        if (differs || fellBack) {
          const a = JSON.stringify(formatResult(out, i));
          const b = JSON.stringify(formatResult(twin.out, i));
          throw new InputError(`ops[${i}]`, `its result depends on mmap_base, which the trace does not give (env.mmapBase) and which could not be inferred exactly: ${twin.describe}; ` +
            (differs ? `the lowest base gives ${a}, the highest ${b}` : 'its search fell back to bottom-up from mmap_legacy_base, which moves against mmap_base'));
        }
      }
    } catch (e) {
      if (e instanceof Undecidable) throw new InputError(`ops[${i}]`, `cannot be replayed: ${e.message}`);
      throw e;
    }
    if (out.hazardAt >= 0) return;
  }
}

/** Op i at its resolved address; records its result (and a hazard) in out. */
function runOp(mm: MmStruct, ops: PackedOps, file: KFile | null, i: number, addr: Split, len: Split, offset: Split, out: RunOutput): void {
  let r = 0;
  switch (ops.kind[i]) {
    case KIND.mmap:
      r = sysMmap(mm, addr, len, ops.prot[i], ops.flags[i], file, offset, shmemZeroSetup);
      break;
    case KIND.munmap:
      r = sysMunmap(mm, addr, len);
      break;
    case KIND.mprotect:
      r = sysMprotect(mm, addr, len, ops.prot[i]);
      break;
    case KIND.madvise:
      r = sysMadvise(mm, addr, len, ops.advice[i]);
      break;
    case KIND.touch: {
      let t;
      try {
        t = touchRange(mm, addr.pg, addr.pg + pageAlignUp(len));
      } catch (e) {
        if (!(e instanceof UnmodelledFault)) throw e;
        const what = e.vma.file === null ? 'anonymous memory' : `file ${e.vma.file.id}`;
        throw new InputError(`ops[${i}]`, `touch reaches ${what} at ${formatPages(e.page * (mm.arch.pageSize / 4096))}; the model has the fault path of device (VM_PFNMAP) mappings only, so a trace may touch only those (docs/model.md)`);
      }
      out.faults[i] = t.faults;
      out.signal[i] = t.signal;
      break;
    }
  }
  out.ret[i] = r;
  if (mm.hazard !== null) {
    out.hazardAt = i;
    out.hazard = mm.hazard;
  }
}

/** The dynamic loader's image as /proc/pid/maps names it (glibc's ld-linux-*.so.N, musl's ld-musl-*.so.1). */
const LOADER = /^process:ld[-.][^/]*\.so(\.[0-9]+)*$/;

/**
 * The mmap_base candidates of a randomised trace that does not give env.mmapBase, from its
 * initial VMAs: every base the random factor allows (rnd below 2^mmap_rnd_bits pages), no
 * lower than the end of the highest VMA below [stack] (the process placed nothing above
 * mmap_base: what it mapped without MAP_FIXED or a hint lies below it). When that VMA is the
 * dynamic loader's image (or the anonymous rest of its bss right after it), the base is
 * exactly its end: at exec the ELF loader maps the interpreter before anything else, with
 * no hint, so the top-down search puts it directly below mmap_base.
 */
export function inferMmapBase(t: ValidatedTrace): { lo: number; hi: number; how: string } {
  const rndBits = t.aslr?.rndBits ?? 28;
  const range = x86MmapBaseRange(t.config.rlimitStack, t.config.stackGuardGap, rndBits);
  const hexOf = (pg: number) => formatPages(pg);
  const all = `any base the random factor allows (${hexOf(range.lo)}..${hexOf(range.hi)}, ${rndBits} bits)`;
  const rows = t.raw.initial.map((v) => ({ start: parseSplit(v.start).pg, end: parseSplit(v.end).pg, backing: v.backing }));
  const stack = rows.find((v) => v.backing === '[stack]');
  if (stack === undefined) return { lo: range.lo, hi: range.hi, how: `no [stack] in initial: ${all}` };
  let top = -1;
  for (let k = 0; k < rows.length; k++) if (rows[k].end <= stack.start) top = k;
  if (top < 0) return { lo: range.lo, hi: range.hi, how: `nothing below [stack] in initial: ${all}` };
  const end = rows[top].end;
  if (end > range.hi) {
    throw new InputError(`initial[${top}].end`, `${hexOf(end)} is above the highest mmap_base this task can have (${hexOf(range.hi)}): the initial VMAs do not fit a randomised layout; give env.mmapBase`);
  }
  let k = top;
  if (rows[k].backing === 'anon' && k > 0 && rows[k - 1].end === rows[k].start) k--;
  if (LOADER.test(rows[k].backing)) {
    if (end < range.lo) throw new InputError(`initial[${top}].end`, `the dynamic loader ends at ${hexOf(end)}, below the lowest mmap_base this task can have (${hexOf(range.lo)}); give env.mmapBase`);
    return { lo: end, hi: end, how: `mmap_base ${hexOf(end)}, where the dynamic loader (${rows[k].backing.slice('process:'.length)}, initial[${top}]) ends: the ELF loader maps it first, top-down from mmap_base` };
  }
  const lo = Math.max(range.lo, end);
  return { lo, hi: range.hi, how: `mmap_base between ${hexOf(lo)} (the end of initial[${top}], the highest VMA below [stack]) and ${hexOf(range.hi)} (random factor 0)` };
}

export function formatResult(out: RunOutput, i: number, pageSize = 4096): Expected {
  let e: Expected;
  const sig = out.signal[i];
  const r = out.ret[i];
  const f = pageSize / 4096;
  if (sig !== null) e = { signal: sig };
  else if (r < 0) e = { errno: errnoName(-r) };
  else e = out.faults[i] >= 0 ? { ret: formatPages(r * f), faults: out.faults[i] } : { ret: formatPages(r * f) };
  if (out.hazardAt === i) e.hazard = out.hazard!;
  return e;
}

/** The VMAs /proc/pid/maps lists, in order. */
function mapsVmas(mm: MmStruct): Vma[] {
  return [...mm.tree.toArray(), ...mm.gateVmas];
}

/** The maps backing column of v, as traces name it. */
function backingOf(v: Vma): string {
  return v.file === null ? (v.name ?? 'anon') : v.file.kind === 'shmem-anon' ? 'shared-anon' : v.file.id;
}

/** v in the trace's VMA form; f is the arch's page in 4 KiB units (the trace's hex unit). */
function traceVmaOf(v: Vma, f: number): TraceVma {
  return {
    start: formatPages(v.start * f),
    end: formatPages(v.end * f),
    perms: permsOf(v.flags),
    offset: v.file === null ? '0x0' : formatPages(v.pgoff * f),
    backing: backingOf(v),
  };
}

/** /proc/pid/maps of the model, in the trace's VMA form. */
export function mapsOf(mm: MmStruct): TraceVma[] {
  const f = mm.arch.pageSize / 4096; // the trace's hex is in 4 KiB units
  return mapsVmas(mm).map((v) => traceVmaOf(v, f));
}

/** Whether op i's outcome, as formatResult(out, i) would give it, is the expected e. */
function sameResult(e: Expected, out: RunOutput, i: number, f: number): boolean {
  if (e.hazard !== (out.hazardAt === i ? out.hazard! : undefined)) return false;
  if ('crashed' in e) return true; // the kernel never returned: the hazard is all there is
  const sig = out.signal[i];
  const r = out.ret[i];
  if ('ret' in e) return sig === null && r >= 0 && formattedPages(e.ret) === r * f && e.faults === (out.faults[i] >= 0 ? out.faults[i] : undefined);
  if ('errno' in e) return sig === null && r < 0 && e.errno === errnoName(-r);
  return sig !== null && e.signal === sig;
}

/** Whether w is traceVmaOf(v, f), compared without formatting v. */
function sameVma(w: TraceVma, v: Vma, f: number): boolean {
  return formattedPages(w.start) === v.start * f && formattedPages(w.end) === v.end * f && w.perms === permsOf(v.flags) &&
    formattedPages(w.offset) === (v.file === null ? 0 : v.pgoff * f) && w.backing === backingOf(v);
}

export function replay(t: ValidatedTrace): ReplayReport & { got: Expected[]; final: TraceVma[] } {
  let run = t;
  let twin: Twin | undefined;
  let baseReport: MmapBaseReport | undefined;
  if (t.aslr !== null) {
    const hi = x86MmapBaseRange(t.config.rlimitStack, t.config.stackGuardGap, t.aslr.rndBits).hi;
    const at = (pg: number): ValidatedTrace => ({ ...t, config: { ...t.config, mmapRnd: hi - pg } });
    if (t.aslr.base !== null) {
      baseReport = { source: 'env', value: formatPages(t.aslr.base), how: 'env.mmapBase' };
    } else {
      let inf;
      try {
        inf = inferMmapBase(t);
      } catch (e) {
        if (e instanceof InputError && t.source !== undefined) throw new InputError(t.source, e.message);
        throw e;
      }
      run = at(inf.lo);
      baseReport = { source: 'inferred', value: inf.lo === inf.hi ? formatPages(inf.lo) : null, range: [formatPages(inf.lo), formatPages(inf.hi)], how: inf.how };
      if (inf.lo !== inf.hi) {
        const p = setUpProcess(at(inf.hi));
        twin = { mm: p.mm, files: p.files, out: newRunOutput(t.ops.length), describe: inf.how };
      }
    }
  }
  const { mm, files } = setUpProcess(run);
  const out = newRunOutput(t.ops.length);
  const inPages = opsInPages(t.ops, t.arch.pageSize);
  const t0 = process.hrtime.bigint(); // packing the ops is part of the model's time
  try {
    runOps(mm, packOps(inPages, files), out, twin, twin === undefined ? undefined : fileColumn(inPages, twin.files));
  } catch (e) {
    if (e instanceof InputError && t.source !== undefined) throw new InputError(t.source, e.message);
    throw e;
  }
  const modelNs = Number(process.hrtime.bigint() - t0);
  // after a hazard the model stops, as the recording kernel did (or would have)
  const ran = out.hazardAt >= 0 ? out.hazardAt + 1 : t.ops.length;
  const ps = t.arch.pageSize;
  const f = ps / 4096;
  let matched = 0;
  let first: Mismatch | null = null;
  for (let i = 0; i < ran; i++) {
    if (sameResult(t.expected[i], out, i, f)) matched++;
    else if (first === null) first = { op: i, expected: t.expected[i], got: formatResult(out, i, ps) };
  }
  if (ran < t.ops.length && first === null) first = { op: ran, expected: t.expected[ran], got: null };
  const vmas = mapsVmas(mm);
  let finalMatched = true;
  // after a hazard the recording kernel was not in a state to compare with
  if (out.hazardAt < 0) {
    const want = (t.raw as Trace).final;
    finalMatched = vmas.length === want.length;
    const n = Math.max(vmas.length, want.length);
    for (let i = 0; i < n; i++) {
      if (!vmas[i] || !want[i] || !sameVma(want[i], vmas[i], f)) {
        finalMatched = false;
        if (first === null) first = { op: 'final', index: i, expected: want[i] ?? null, got: vmas[i] ? traceVmaOf(vmas[i], f) : null };
        break;
      }
    }
  }
  // what the model gave, in the trace's form: made only when asked for
  let got: Expected[] | undefined;
  let final: TraceVma[] | undefined;
  const report = {
    trace: t.raw.name, ops: t.ops.length, resultsMatched: matched, finalMatched, firstMismatch: first, modelNs,
    get got(): Expected[] {
      return (got ??= Array.from({ length: ran }, (_, i) => formatResult(out, i, ps)));
    },
    get final(): TraceVma[] {
      return (final ??= vmas.map((v) => traceVmaOf(v, f)));
    },
  };
  return baseReport === undefined ? report : Object.assign(report, { mmapBase: baseReport });
}
