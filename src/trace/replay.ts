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
import { permsOf } from '../mm/vma.js';
import { newMm, makeFile, addInitialVmas, shmemZeroSetup } from '../kernels/linux-6.18.js';
import type { KFile, FileKind } from '../fs/file.js';
import { addSplitInto, subSplitInto, formatPages, pageAlignUp, parseSplit, type Split } from '../lib/u64.js';
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
  for (const f of t.raw.files) {
    const dev = t.devices.get(f.id);
    // device files are opened through the trace's kernel variant (its vfio hooks)
    if (dev !== undefined) files.set(f.id, openVfioDevice(t.variant, mm.config, dev, f.id));
    else files.set(f.id, makeFile(f.id, f.kind as FileKind, parseSplit(f.size).pg, mm.config));
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

/** Execute the ops in order; a kernel hazard stops the run after that op. */
export function runOps(mm: MmStruct, files: Map<string, KFile>, ops: CompiledOp[], out: RunOutput): void {
  const res = out.ret;
  const fileList = ops.map((o) => (o.op === 'mmap' && o.fd !== null ? files.get(o.fd)! : null));
  const base: Split = { pg: 0, sub: 0 };
  const rel: Split = { pg: 0, sub: 0 };
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    let addr: Split;
    const ref = o.addr;
    if (ref.k < 0) addr = ref.off;
    else {
      const r = res[ref.k];
      base.pg = r > 0 ? r : 0;
      addr = ref.neg ? subSplitInto(rel, base, ref.off) : addSplitInto(rel, base, ref.off);
    }
    let r = 0;
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
      case 'madvise':
        r = sysMadvise(mm, addr, o.len, o.advice);
        break;
      case 'touch': {
        let t;
        try {
          t = touchRange(mm, addr.pg, addr.pg + pageAlignUp(o.len));
        } catch (e) {
          if (!(e instanceof UnmodelledFault)) throw e;
          const what = e.vma.file === null ? 'anonymous memory' : `file ${e.vma.file.id}`;
          throw new InputError(`ops[${i}]`, `touch reaches ${what} at ${formatPages(e.page)}; the model has the fault path of device (VM_PFNMAP) mappings only, so a trace may touch only those (docs/model.md)`);
        }
        out.faults[i] = t.faults;
        out.signal[i] = t.signal;
        break;
      }
    }
    res[i] = r;
    if (mm.hazard !== null) {
      out.hazardAt = i;
      out.hazard = mm.hazard;
      return;
    }
  }
}

export function formatResult(out: RunOutput, i: number): Expected {
  let e: Expected;
  const sig = out.signal[i];
  const r = out.ret[i];
  if (sig !== null) e = { signal: sig };
  else if (r < 0) e = { errno: errnoName(-r) };
  else e = out.faults[i] >= 0 ? { ret: formatPages(r), faults: out.faults[i] } : { ret: formatPages(r) };
  if (out.hazardAt === i) e.hazard = out.hazard!;
  return e;
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
  if (a.hazard !== b.hazard) return false;
  if ('crashed' in a) return true; // the kernel never returned: the hazard is all there is
  if ('ret' in a) return 'ret' in b && a.ret === b.ret && a.faults === b.faults;
  if ('errno' in a) return 'errno' in b && a.errno === b.errno;
  return 'signal' in b && a.signal === b.signal;
}

function sameVma(a: TraceVma, b: TraceVma): boolean {
  return a.start === b.start && a.end === b.end && a.perms === b.perms && a.offset === b.offset && a.backing === b.backing;
}

export function replay(t: ValidatedTrace): ReplayReport & { got: Expected[]; final: TraceVma[] } {
  const { mm, files } = setUpProcess(t);
  const out = newRunOutput(t.ops.length);
  const t0 = process.hrtime.bigint();
  try {
    runOps(mm, files, t.ops, out);
  } catch (e) {
    if (e instanceof InputError && t.source !== undefined) throw new InputError(t.source, e.message);
    throw e;
  }
  const modelNs = Number(process.hrtime.bigint() - t0);
  // after a hazard the model stops, as the recording kernel did (or would have)
  const ran = out.hazardAt >= 0 ? out.hazardAt + 1 : t.ops.length;
  const got = Array.from({ length: ran }, (_, i) => formatResult(out, i));
  let matched = 0;
  let first: Mismatch | null = null;
  got.forEach((g, i) => {
    if (sameResult(t.expected[i], g)) matched++;
    else if (first === null) first = { op: i, expected: t.expected[i], got: g };
  });
  if (ran < t.ops.length && first === null) first = { op: ran, expected: t.expected[ran], got: null };
  const final = mapsOf(mm);
  // after a hazard the recording kernel was not in a state to compare with
  const want = out.hazardAt >= 0 ? final : (t.raw as Trace).final;
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
