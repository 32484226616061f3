// pfnmap sweep: many random devices, offsets and lengths under each variant, summarised as
// how much of the mapped memory each variant backs with 1 GiB, 2 MiB and 4 KiB leaves.
// Deterministic per seed; a campaign splits into shards (--shard I/N, or the index a
// Kubernetes Indexed Job or a Slurm job array gives) whose JSON results `pfnmap merge`
// adds up; within one machine the cases run on worker threads.

import { Worker } from 'node:worker_threads';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseDevice, sizeLabel, type Device } from '../devices/device.js';
import { mapAndTouch, leafBytesOf } from './analyze.js';
import { x86_64 } from '../arch/x86_64.js';
import { ARCH_NAMES, archByName } from '../arch/index.js';
import type { ArchGeometry } from '../arch/arch.js';
import type { MmConfig } from '../mm/config.js';
import { InputError, show, oneLine } from '../trace/input-error.js';
import { THP_MODES, type ThpMode } from '../mm/config.js';
import { VARIANT_NAMES, variantByName } from '../kernels/variants.js';

export const SWEEP_FORMAT = 'pfnmap-sweep/1';

export interface SweepCase {
  i: number;
  barSize: number;
  barStart: number;
  offset: number;
  len: number;
}

export interface VariantTotals {
  cases: number;
  failed: number;
  bytes: number;
  pudBytes: number;
  pmdBytes: number;
  pteBytes: number;
  faults: number;
  tlbEntries: number;
}

export interface SweepResult {
  format: typeof SWEEP_FORMAT;
  seed: number;
  count: number;
  /** shards this result covers, as "I/N" */
  shards: string[];
  thp: string;
  /** the arch the cases ran on; absent: x86_64 */
  arch?: string;
  variants: Record<string, VariantTotals>;
  /** set by merge --partial when shards are missing: the totals cover only those present */
  partial?: true;
}

/** mulberry32: a small seeded generator for case parameters */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Case i of a campaign: a BAR of 16 KiB–1 TiB, an offset and a length inside it, in pages
 * of the arch (offsets: half from 0, a quarter PMD aligned, a quarter any page). A BAR below
 * the page size is one page (vfio-pci maps it whole).
 */
export function sweepCase(seed: number, i: number, g: ArchGeometry = x86_64): SweepCase {
  const r = rng((seed * 2654435761 + i * 40503) >>> 0);
  const barSize = 2 ** (14 + Math.floor(r() * 27)); // 16 KiB .. 1 TiB
  const slots = Math.floor(2 ** 46 / barSize);
  const barStart = Math.floor(r() * slots) * barSize;
  const ps = g.pageSize;
  const pages = Math.max(1, barSize / ps);
  const pick = r();
  let offPg = 0;
  if (pick > 0.5) offPg = Math.floor(r() * pages);
  if (pick > 0.5 && pick <= 0.75) offPg -= offPg % g.pmdPages;
  const room = pages - offPg;
  const lenPg = r() < 0.5 ? room : 1 + Math.floor(r() * room);
  return { i, barSize, barStart, offset: offPg * ps, len: lenPg * ps };
}

function deviceOf(c: SweepCase): Device {
  return parseDevice({
    format: 'pfnmap-device/1', name: `sweep case ${c.i}`,
    regions: [{ index: 0, kind: 'bar', start: '0x' + c.barStart.toString(16), size: '0x' + c.barSize.toString(16), mem64: true, prefetchable: true, mmap: true }],
  });
}

export function emptyTotals(): VariantTotals {
  return { cases: 0, failed: 0, bytes: 0, pudBytes: 0, pmdBytes: 0, pteBytes: 0, faults: 0, tlbEntries: 0 };
}

/** Run cases and add them up per variant. */
export function runCases(seed: number, indices: number[], variants: readonly string[], config: Partial<MmConfig>, tick?: () => void, archName = 'x86_64'): Record<string, VariantTotals> {
  const out: Record<string, VariantTotals> = {};
  const arch = archByName(archName)!;
  for (const v of variants) out[v] = emptyTotals();
  for (const i of indices) {
    const c = sweepCase(seed, i, arch);
    const dev = deviceOf(c);
    for (const v of variants) {
      const r = mapAndTouch(v, dev, 0, c.offset, c.len, config, undefined, arch);
      const t = out[v];
      t.cases++;
      if (r.addr === null || r.error !== null) {
        t.failed++;
        continue;
      }
      t.bytes += c.len;
      t.pudBytes += r.leaves.pud * r.leafBytes.pud;
      t.pmdBytes += r.leaves.pmd * r.leafBytes.pmd;
      t.pteBytes += r.leaves.pte * r.leafBytes.pte;
      t.faults += r.faults;
      t.tlbEntries += r.tlbEntries;
    }
    tick?.();
  }
  return out;
}

export function addTotals(into: Record<string, VariantTotals>, from: Record<string, VariantTotals>): void {
  for (const [v, t] of Object.entries(from)) {
    const d = Object.hasOwn(into, v) ? into[v] : (into[v] = emptyTotals());
    for (const k of Object.keys(d) as (keyof VariantTotals)[]) d[k] += t[k];
  }
}

/** --shard I/N, or auto from JOB_COMPLETION_INDEX (Kubernetes) / SLURM_ARRAY_TASK_ID (Slurm). */
export function parseShard(spec: string | undefined, env: NodeJS.ProcessEnv): { index: number; count: number } {
  if (spec === undefined) return { index: 0, count: 1 };
  let m = /^(\d+)\/(\d+)$/.exec(spec);
  if (spec === 'auto') {
    const k8s = env.JOB_COMPLETION_INDEX;
    const slurm = env.SLURM_ARRAY_TASK_ID;
    const count = env.PFNMAP_SHARDS ?? env.SLURM_ARRAY_TASK_COUNT;
    const index = k8s ?? (slurm !== undefined && env.SLURM_ARRAY_TASK_MIN !== undefined ? String(Number(slurm) - Number(env.SLURM_ARRAY_TASK_MIN)) : slurm);
    if (index === undefined) throw new Error('--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm job array) is set');
    if (count === undefined) throw new Error('--shard auto: the shard count is unknown: set PFNMAP_SHARDS (or SLURM_ARRAY_TASK_COUNT)');
    m = /^(\d+)\/(\d+)$/.exec(`${index}/${count}`);
  }
  if (!m) throw new Error(`--shard: expected I/N (e.g. 3/16) or auto, got ${JSON.stringify(spec)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new Error(`--shard: index ${index} is not below the count ${count}`);
  return { index, count };
}

/** Run this shard's cases on `workers` threads. */
export async function sweep(opts: { seed: number; count: number; shard: { index: number; count: number }; variants: readonly string[]; thp: MmConfig['thpEnabled']; workers: number; arch?: string; progress?: (done: number, total: number) => void }): Promise<SweepResult> {
  const archName = opts.arch ?? 'x86_64';
  const mine: number[] = [];
  for (let i = opts.shard.index; i < opts.count; i += opts.shard.count) mine.push(i);
  const totals: Record<string, VariantTotals> = {};
  for (const v of opts.variants) totals[v] = emptyTotals();
  const n = Math.max(1, Math.min(opts.workers, mine.length));
  let done = 0;
  if (n === 1) {
    addTotals(totals, runCases(opts.seed, mine, opts.variants, { thpEnabled: opts.thp }, () => opts.progress?.(++done, mine.length), archName));
  } else {
    const script = fileURLToPath(new URL('./sweep-worker.js', import.meta.url));
    await Promise.all(Array.from({ length: n }, (_, w) => new Promise<void>((resolve, reject) => {
      const part = mine.filter((_, k) => k % n === w);
      const worker = new Worker(script, { workerData: { seed: opts.seed, indices: part, variants: opts.variants, thp: opts.thp, arch: archName } });
      worker.on('message', (m: { tick?: true; totals?: Record<string, VariantTotals> }) => {
        if (m.tick) opts.progress?.(++done, mine.length);
        if (m.totals) addTotals(totals, m.totals);
      });
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sweep worker exited with ${code}`))));
    })));
  }
  return { format: SWEEP_FORMAT, seed: opts.seed, count: opts.count, shards: [`${opts.shard.index}/${opts.shard.count}`], thp: opts.thp, ...(archName === 'x86_64' ? {} : { arch: archName }), variants: totals };
}

const TOTAL_KEYS: (keyof VariantTotals)[] = ['cases', 'failed', 'bytes', 'pudBytes', 'pmdBytes', 'pteBytes', 'faults', 'tlbEntries'];

/** "I/N" as numbers; null unless I < N, both plain decimal. */
function shardOf(s: unknown): { index: number; count: number } | null {
  const m = typeof s === 'string' ? /^(0|[1-9][0-9]{0,8})\/([1-9][0-9]{0,8})$/.exec(s) : null;
  if (!m || Number(m[1]) >= Number(m[2])) return null;
  return { index: Number(m[1]), count: Number(m[2]) };
}

/** How many of the cases 0..count-1 the shards I/N hold (case i belongs to shard i mod N). */
function casesIn(count: number, n: number, indices: Iterable<number>): number {
  let c = 0;
  for (const i of indices) if (i < count) c += Math.floor((count - 1 - i) / n) + 1;
  return c;
}

/**
 * Check a parsed sweep result file (the input of pfnmap merge); errors name the field. Beyond
 * the types, the totals must be ones a sweep can produce: whole numbers, known variants,
 * exactly the cases its shards hold, failures within them and leaves within the bytes mapped.
 */
export function parseSweepResult(data: unknown, file: string): SweepResult {
  const f = (field: string) => `${file}: ${field}`;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InputError(file, 'expected a sweep result object');
  const d = data as Record<string, unknown>;
  if (d.format !== SWEEP_FORMAT) throw new InputError(f('format'), `expected ${show(SWEEP_FORMAT)}, got ${show(d.format)}`);
  for (const k of ['seed', 'count'] as const) {
    if (!Number.isSafeInteger(d[k]) || (d[k] as number) < (k === 'count' ? 1 : 0)) throw new InputError(f(k), `expected a whole number ≥ ${k === 'count' ? 1 : 0}, got ${show(d[k])}`);
  }
  const count = d.count as number;
  if (typeof d.thp !== 'string' || !THP_MODES.includes(d.thp as ThpMode)) throw new InputError(f('thp'), `expected ${THP_MODES.join(', ')}, got ${show(d.thp)}`);
  if (d.arch !== undefined && (typeof d.arch !== 'string' || archByName(d.arch) === undefined || d.arch === 'x86_64')) {
    throw new InputError(f('arch'), `expected one of ${ARCH_NAMES.filter((a) => a !== 'x86_64').join(', ')} (absent for x86_64), got ${show(d.arch)}`);
  }
  const arch = archByName((d.arch as string | undefined) ?? 'x86_64')!;
  const lb = leafBytesOf(arch);
  if (!Array.isArray(d.shards) || d.shards.length === 0) throw new InputError(f('shards'), 'expected a non-empty array of "I/N"');
  const indices = new Set<number>();
  let n = 0;
  d.shards.forEach((s, i) => {
    const sh = shardOf(s);
    if (!sh) throw new InputError(f(`shards[${i}]`), `expected "I/N" with I < N, got ${show(s)}`);
    if (n !== 0 && sh.count !== n) throw new InputError(f(`shards[${i}]`), `${s} is a shard of ${sh.count}, the others of ${n}`);
    if (indices.has(sh.index)) throw new InputError(f(`shards[${i}]`), `shard ${s} is listed twice`);
    n = sh.count;
    indices.add(sh.index);
  });
  const cases = casesIn(count, n, indices);
  const v = d.variants;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(f('variants'), 'expected an object of per-variant totals');
  if (Object.keys(v).length === 0) throw new InputError(f('variants'), 'expected totals of at least one variant');
  const variants: Record<string, VariantTotals> = {};
  for (const [name, t] of Object.entries(v)) {
    const g = (k: string) => f(`variants.${oneLine(name, 40)}${k}`);
    if (name === '__proto__' || variantByName(name) === undefined) throw new InputError(g(''), `unknown variant (${VARIANT_NAMES.join(', ')}, or BASE[+SERIES])`);
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new InputError(g(''), 'expected an object of totals');
    for (const k of Object.keys(t)) if (!(TOTAL_KEYS as string[]).includes(k)) throw new InputError(g(`.${k}`), `unknown total (${TOTAL_KEYS.join(', ')})`);
    const tt = emptyTotals();
    for (const k of TOTAL_KEYS) {
      const x = (t as Record<string, unknown>)[k];
      if (!Number.isSafeInteger(x) || (x as number) < 0) throw new InputError(g(`.${k}`), `expected a non-negative whole number, got ${show(x)}`);
      tt[k] = x as number;
    }
    if (tt.cases !== cases) throw new InputError(g('.cases'), `${tt.cases} cases, but shards ${(d.shards as string[]).join(', ')} of a ${count}-case sweep hold ${cases}`);
    if (tt.failed > tt.cases) throw new InputError(g('.failed'), `${tt.failed} failed of ${tt.cases} cases`);
    if (tt.bytes % lb.pte !== 0) throw new InputError(g('.bytes'), `${tt.bytes} is not a whole number of pages`);
    if (tt.pudBytes % lb.pud !== 0 || tt.pmdBytes % lb.pmd !== 0 || tt.pteBytes % lb.pte !== 0) throw new InputError(g(''), `leaf bytes are not whole leaves (${sizeLabel(lb.pud)}, ${sizeLabel(lb.pmd)}, ${sizeLabel(lb.pte)})`);
    if (tt.pudBytes + tt.pmdBytes + tt.pteBytes > tt.bytes) throw new InputError(g(''), `leaves cover ${tt.pudBytes + tt.pmdBytes + tt.pteBytes} bytes of the ${tt.bytes} mapped`);
    variants[name] = tt;
  }
  return { format: SWEEP_FORMAT, seed: d.seed as number, count, shards: (d.shards as string[]).slice(), thp: d.thp, ...(d.arch === undefined ? {} : { arch: d.arch as string }), variants };
}

/**
 * pfnmap merge: add up shard results of one campaign; every shard exactly once, all of them
 * unless `partial` (then the result says `"partial": true` and counts only what it holds).
 */
export function mergeResults(parts: SweepResult[], partial = false, files?: string[]): SweepResult {
  if (parts.length === 0) throw new InputError('merge', 'no results given');
  const [first] = parts;
  const name = (k: number) => (files ? oneLine(files[k]) : `input ${k + 1}`);
  const owner = new Map<number, number>();
  const totals: Record<string, VariantTotals> = {};
  const variantKey = (p: SweepResult) => Object.keys(p.variants).sort().join(',');
  let n = 0;
  for (const [k, p] of parts.entries()) {
    if (p.format !== SWEEP_FORMAT) throw new InputError('merge', `${name(k)} is not a ${SWEEP_FORMAT} result`);
    if (p.seed !== first.seed || p.count !== first.count || p.thp !== first.thp || (p.arch ?? 'x86_64') !== (first.arch ?? 'x86_64')) throw new InputError('merge', `${name(k)} is from another campaign (seed, count, thp or arch differ)`);
    if (variantKey(p) !== variantKey(first)) throw new InputError('merge', `${name(k)} has other variants (${variantKey(p)}) than ${name(0)} (${variantKey(first)})`);
    for (const s of p.shards) {
      const sh = shardOf(s);
      if (!sh) throw new InputError('merge', `${name(k)}: bad shard ${show(s)}`);
      if (n !== 0 && sh.count !== n) throw new InputError('merge', `${name(k)} holds shard ${s} of ${sh.count}, the others are of ${n}`);
      n = sh.count;
      const o = owner.get(sh.index);
      if (o !== undefined) throw new InputError('merge', `shard ${sh.index}/${n} appears twice${o === k ? '' : ` (${name(o)} and ${name(k)})`}`);
      owner.set(sh.index, k);
    }
    addTotals(totals, p.variants);
  }
  // each total is a whole number below 2^53, and so must their sum be: beyond it the
  // merged JSON would hold rounded numbers that no sweep produced (and merge would refuse)
  for (const [v, t] of Object.entries(totals)) {
    for (const k of TOTAL_KEYS) if (!Number.isSafeInteger(t[k])) throw new InputError('merge', `the shards' ${oneLine(v, 40)}.${k} add up to more than 2^53 - 1, beyond what the JSON result holds exactly`);
  }
  const missing: string[] = [];
  for (let i = 0; i < n; i++) if (!owner.has(i)) missing.push(`${i}/${n}`);
  if (missing.length > 0 && !partial) {
    const list = missing.length > 8 ? `${missing.slice(0, 8).join(', ')} and ${missing.length - 8} more` : missing.join(', ');
    throw new InputError('merge', `shard${missing.length > 1 ? 's' : ''} ${list} missing (give --partial to add up what is here)`);
  }
  const shards = [...owner.keys()].sort((a, b) => a - b).map((i) => `${i}/${n}`);
  const out: SweepResult = { format: SWEEP_FORMAT, seed: first.seed, count: first.count, shards, thp: first.thp, ...(first.arch === undefined ? {} : { arch: first.arch }), variants: totals };
  if (missing.length > 0) out.partial = true;
  return out;
}

export const defaultWorkers = () => Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
