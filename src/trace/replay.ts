// Replay a trace in the model and compare every result and the final VMA list.

import type { Trace, TraceVma } from './format.js';
import type { ValidatedTrace, CompiledOp, Expected } from './load.js';
import { MmStruct } from '../mm/mm.js';
import { sysMmap, sysMunmap } from '../mm/mmap.js';
import { sysMprotect } from '../mm/mprotect.js';
import { permsOf } from '../mm/vma.js';
import { newMm, makeFile, addInitialVma, shmemZeroSetup } from '../kernels/linux-6.18.js';
import type { KFile, FileKind } from '../fs/file.js';
import { addSplitInto, subSplitInto, formatPages, parsePages, parseSplit, type Split } from '../lib/u64.js';
import { errnoName } from '../mm/uapi.js';

export interface Mismatch {
  op: number | 'final';
  index?: number;
  expected: unknown;
  got: unknown;
}

export interface ReplayReport {
  trace: string;
  ops: number;
  resultsMatched: number;
  finalMatched: boolean;
  firstMismatch: Mismatch | null;
  modelNs: number;
}

/** The process a trace starts in: mm with the initial VMAs, and the trace's files by id. */
export function setUpProcess(t: ValidatedTrace): { mm: MmStruct; files: Map<string, KFile> } {
  const mm = newMm(t.config);
  const files = new Map<string, KFile>();
  for (const f of t.raw.files) files.set(f.id, makeFile(f.id, f.kind as FileKind, parseSplit(f.size).pg, mm.config));
  const procFiles = new Map<string, KFile>();
  for (const v of t.raw.initial) {
    let file: KFile | null = null;
    let name: string | null = null;
    const b = v.backing;
    if (b === '[stack]' || b === '[heap]') name = b;
    else if (b === 'shared-anon') file = shmemZeroSetup(mm, 0);
    else if (b.startsWith('process:')) {
      file = procFiles.get(b) ?? makeFile(b, 'process', 0, mm.config);
      procFiles.set(b, file);
    } else if (b !== 'anon') {
      const f = files.get(b);
      if (!f) throw new Error(`initial VMA backed by unknown file ${b}`);
      file = f;
    }
    addInitialVma(mm, { start: parsePages(v.start), end: parsePages(v.end), perms: v.perms, pgoff: parsePages(v.offset), file, name });
  }
  return { mm, files };
}

/**
 * Execute the ops. Returns each op's raw result: a page number (≥ 0) or -errno.
 * For munmap/mprotect success is 0.
 */
export function runOps(mm: MmStruct, files: Map<string, KFile>, ops: CompiledOp[], out: Float64Array): void {
  const fileList = ops.map((o) => (o.op === 'mmap' && o.fd !== null ? files.get(o.fd)! : null));
  const base: Split = { pg: 0, sub: 0 };
  const rel: Split = { pg: 0, sub: 0 };
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    let addr: Split;
    const ref = o.addr;
    if (ref.k < 0) addr = ref.off;
    else {
      const r = out[ref.k];
      base.pg = r > 0 ? r : 0;
      addr = ref.neg ? subSplitInto(rel, base, ref.off) : addSplitInto(rel, base, ref.off);
    }
    let r: number;
    switch (o.op) {
      case 'mmap':
        r = sysMmap(mm, addr, o.len, o.prot, o.flags, fileList[i], o.offset, shmemZeroSetup);
        break;
      case 'munmap':
        r = sysMunmap(mm, addr, o.len);
        break;
      case 'mprotect':
        r = sysMprotect(mm, addr, o.len, o.prot);
        break;
    }
    out[i] = r;
  }
}

export function formatResult(r: number): Expected {
  return r < 0 ? { errno: errnoName(-r) } : { ret: formatPages(r) };
}

/** /proc/pid/maps of the model, in the trace's VMA form. */
export function mapsOf(mm: MmStruct): TraceVma[] {
  return [...mm.tree.toArray(), ...mm.gateVmas].map((v) => ({
    start: formatPages(v.start),
    end: formatPages(v.end),
    perms: permsOf(v.flags),
    offset: v.file === null ? '0x0' : formatPages(v.pgoff),
    backing: v.file === null ? (v.name ?? 'anon') : v.file.kind === 'shmem-anon' ? 'shared-anon' : v.file.id,
  }));
}

function sameResult(a: Expected, b: Expected): boolean {
  return 'ret' in a ? 'ret' in b && a.ret === b.ret : 'errno' in b && a.errno === b.errno;
}

function sameVma(a: TraceVma, b: TraceVma): boolean {
  return a.start === b.start && a.end === b.end && a.perms === b.perms && a.offset === b.offset && a.backing === b.backing;
}

export function replay(t: ValidatedTrace): ReplayReport & { got: Expected[]; final: TraceVma[] } {
  const { mm, files } = setUpProcess(t);
  const out = new Float64Array(t.ops.length);
  const t0 = process.hrtime.bigint();
  runOps(mm, files, t.ops, out);
  const modelNs = Number(process.hrtime.bigint() - t0);
  const got = Array.from(out, formatResult);
  let matched = 0;
  let first: Mismatch | null = null;
  got.forEach((g, i) => {
    if (sameResult(t.expected[i], g)) matched++;
    else if (first === null) first = { op: i, expected: t.expected[i], got: g };
  });
  const final = mapsOf(mm);
  const want = (t.raw as Trace).final;
  let finalMatched = final.length === want.length;
  const n = Math.max(final.length, want.length);
  for (let i = 0; i < n; i++) {
    if (!final[i] || !want[i] || !sameVma(final[i], want[i])) {
      finalMatched = false;
      if (first === null) first = { op: 'final', index: i, expected: want[i] ?? null, got: final[i] ?? null };
      break;
    }
  }
  return { trace: t.raw.name, ops: t.ops.length, resultsMatched: matched, finalMatched, firstMismatch: first, modelNs, got, final };
}
