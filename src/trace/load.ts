// Read and validate a pfnmap-trace/1 file into the model's exact representation.
// Every malformed field gives an InputError naming it (e.g. "ops[12].flags[1]").

import { InputError, hexField, show } from './input-error.js';
import { readJsonFile } from '../lib/json-file.js';
import { MAP_FLAG_VALUES, type Trace, type TraceVma, type MmapFlagName } from './format.js';
import { parseSplit, parseSplitOrNull, hexMessage, formatSplit, type Split } from '../lib/u64.js';
import { DEFAULT_CONFIG, THP_MODES, type MmConfig, type ShmemHuge, type ThpMode } from '../mm/config.js';
import { errnoFromName } from '../mm/uapi.js';
import { parseDevice, type Device } from '../devices/device.js';
import { preset, PRESET_NAMES } from '../devices/presets.js';
import { parseVariant, variantByName, type KernelVariant } from '../kernels/variants.js';
import { x86MmapBaseRange, x86_64 } from '../arch/x86_64.js';
import { arm64, arm64PgtableLevels, type Granule } from '../arch/arm64.js';
import { archDefaults } from '../arch/index.js';
import type { Arch } from '../arch/arch.js';

/** An op address: absolute, or relative to what op k returned. */
export type AddrRef = { k: -1; off: Split; neg: false } | { k: number; off: Split; neg: boolean };

export type CompiledOp =
  | { op: 'mmap'; addr: AddrRef; len: Split; prot: number; flags: number; fd: string | null; offset: Split }
  | { op: 'munmap'; addr: AddrRef; len: Split }
  | { op: 'mprotect'; addr: AddrRef; len: Split; prot: number }
  | { op: 'touch'; addr: AddrRef; len: Split }
  | { op: 'madvise'; addr: AddrRef; len: Split; advice: number };

/** An expected result, normalised: a return (with a touch's fault count), an errno or a signal. */
export type Expected = ({ ret: string; faults?: number } | { errno: string } | { signal: string } | { crashed: true }) & { hazard?: string };

export interface LoadedTrace {
  raw: Trace;
  config: MmConfig;
  ops: CompiledOp[];
  /** the kernel variant the trace is replayed under */
  variant: KernelVariant;
  /** vfio-pci files' devices by file id */
  devices: Map<string, Device>;
  /**
   * A randomised trace (env.randomize): mmap_rnd_bits, and mmap_base in pages when env.mmapBase
   * gives it (config.mmapRnd is then set); null base means replay must infer it. null when
   * the trace was recorded without randomisation.
   */
  aslr: { rndBits: number; base: number | null } | null;
  /**
   * The recording kernel's architecture. Traces keep 4 KiB units in their hex fields; on a
   * kernel with larger pages replay converts them to the arch's pages (exact: the values
   * are integers of 4 KiB).
   */
  arch: Arch;
}

const PROTS: Record<string, number> = { none: 0, r: 1, w: 2, rw: 3, x: 4, rx: 5, wx: 6, rwx: 7 };

const hex = hexField;

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(field, 'expected an object');
  return v as Record<string, unknown>;
}

function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new InputError(field, 'expected an array');
  return v;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new InputError(field, `expected a string, got ${show(v)}`);
  return v;
}

// A trace has a field name for each of its hundreds of thousands of values; the names of
// list members ("ops[12].len") are built only when an error reports one.

/** The name of element i of a list, with a member path m (".len", ".flags[1]"). */
function at(list: string, i: number, m = ''): string {
  return `${list}[${i}]${m}`;
}

/**
 * The Splits of small page-aligned values (lengths, zero offsets), one object each: a trace
 * has hundreds of thousands of them, all read only, and one copy of each keeps the loaded
 * trace small.
 */
const SMALL: Split[] = Array.from({ length: 1024 }, (_, pg) => ({ pg, sub: 0 }));

/** An op's "0x…" member m, shared when it is a small page-aligned value. */
function opHex(v: unknown, i: number, m: string): Split {
  const s = hexAt(v, 'ops', i, m);
  return s.sub === 0 && s.pg < SMALL.length ? SMALL[s.pg] : s;
}

/** A "0x…" member m of element i of a list, or an InputError naming it. */
function hexAt(v: unknown, list: string, i: number, m: string): Split {
  const s = parseSplitOrNull(v);
  if (s === null) throw new InputError(at(list, i, m), hexMessage(v));
  return s;
}

function addrRef(v: unknown, index: number): AddrRef {
  if (typeof v !== 'string') throw new InputError(at('ops', index, '.addr'), `expected a string, got ${show(v)}`);
  if (v.charCodeAt(0) !== 0x40) return { k: -1, off: opHex(v, index, '.addr'), neg: false }; // not "@…"
  // "@K", "@K+0x…" or "@K-0x…": K decimal digits, then an optional sign and lowercase hex
  let j = 1;
  while (j < v.length && v.charCodeAt(j) >= 0x30 && v.charCodeAt(j) <= 0x39) j++;
  const sign = v.charCodeAt(j);
  if (j === 1 || (j < v.length && !((sign === 0x2b || sign === 0x2d) && /^0x[0-9a-f]+$/.test(v.slice(j + 1))))) {
    throw new InputError(at('ops', index, '.addr'), `expected "0x…" or "@K", "@K+0x…", "@K-0x…", got ${show(v)}`);
  }
  const k = Number(v.slice(1, j));
  if (k >= index) throw new InputError(at('ops', index, '.addr'), `refers to op ${k}, which does not come before op ${index}`);
  return { k, off: j < v.length ? opHex(v.slice(j + 1), index, '.addr') : SMALL[0], neg: sign === 0x2d };
}

function prot(v: unknown, index: number): number {
  if (typeof v !== 'string') throw new InputError(at('ops', index, '.prot'), `expected a string, got ${show(v)}`);
  const p = Object.hasOwn(PROTS, v) ? PROTS[v] : undefined;
  if (p === undefined) throw new InputError(at('ops', index, '.prot'), `unknown prot ${show(v)} (use r, w, x combinations or none)`);
  return p;
}

/**
 * Every compiled op has the same fields in the same order, whatever its kind (the ones it
 * does not use are 0 or null): the replay loop then reads one object shape, and a trace
 * that changes op kind midway does not throw away the code optimized for the ops before.
 */
function makeOp(op: CompiledOp['op'], addr: AddrRef, len: Split, prot: number, flags: number, fd: string | null, offset: Split, advice: number): CompiledOp {
  return { op, addr, len, prot, flags, fd, offset, advice } as CompiledOp;
}

function compileOp(v: unknown, i: number, fileIds: Set<string>): CompiledOp {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(at('ops', i), 'expected an object');
  const o = v as Record<string, unknown>;
  const kind = o.op;
  switch (kind) {
    case 'mmap': {
      const names = o.flags;
      if (!Array.isArray(names)) throw new InputError(at('ops', i, '.flags'), 'expected an array');
      let flags = 0;
      for (let j = 0; j < names.length; j++) {
        const n: unknown = names[j];
        if (typeof n !== 'string' || !Object.hasOwn(MAP_FLAG_VALUES, n)) throw new InputError(at('ops', i, `.flags[${j}]`), `unknown flag ${show(n)}`);
        flags |= MAP_FLAG_VALUES[n as MmapFlagName];
      }
      if (!('fd' in o)) throw new InputError(at('ops', i, '.fd'), 'missing (null or a file id)');
      const fd = o.fd;
      if (fd !== null) {
        if (typeof fd !== 'string') throw new InputError(at('ops', i, '.fd'), `expected a string, got ${show(fd)}`);
        if (!fileIds.has(fd)) throw new InputError(at('ops', i, '.fd'), `no file with id ${show(fd)} in "files"`);
      }
      const addr = addrRef(o.addr, i);
      const len = opHex(o.len, i, '.len');
      const p = prot(o.prot, i);
      return makeOp('mmap', addr, len, p, flags, fd, opHex(o.offset, i, '.offset'), 0);
    }
    case 'munmap':
    case 'touch':
      return makeOp(kind, addrRef(o.addr, i), opHex(o.len, i, '.len'), 0, 0, null, SMALL[0], 0);
    case 'mprotect': {
      const addr = addrRef(o.addr, i);
      const len = opHex(o.len, i, '.len');
      return makeOp('mprotect', addr, len, prot(o.prot, i), 0, null, SMALL[0], 0);
    }
    case 'madvise': {
      const a = o.advice;
      if (a !== 'HUGEPAGE' && a !== 'NOHUGEPAGE') throw new InputError(at('ops', i, '.advice'), `expected "HUGEPAGE" or "NOHUGEPAGE", got ${show(a)}`);
      return makeOp('madvise', addrRef(o.addr, i), opHex(o.len, i, '.len'), 0, 0, null, SMALL[0], a === 'HUGEPAGE' ? 14 : 15);
    }
    default:
      throw new InputError(at('ops', i, '.op'), `unknown op ${show(kind)} (mmap, munmap, mprotect, touch, madvise)`);
  }
}

const PERMS = /^[r-][w-][x-][ps]$/;

/** VMA i of a maps list: well formed (start, end and offset "0x…", perms, backing). */
function checkVma(v: unknown, list: string, i: number): TraceVma {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(at(list, i), 'expected an object');
  const o = v as Record<string, unknown>;
  hexAt(o.start, list, i, '.start');
  hexAt(o.end, list, i, '.end');
  hexAt(o.offset, list, i, '.offset');
  const perms = o.perms;
  if (typeof perms !== 'string') throw new InputError(at(list, i, '.perms'), `expected a string, got ${show(perms)}`);
  if (!PERMS.test(perms)) throw new InputError(at(list, i, '.perms'), `expected e.g. "rw-p", got ${show(perms)}`);
  if (typeof o.backing !== 'string') throw new InputError(at(list, i, '.backing'), `expected a string, got ${show(o.backing)}`);
  return o as unknown as TraceVma;
}

/** A /proc/self/maps list: each VMA well formed, ascending and without overlap. */
function checkVmaList(list: unknown[], field: string): TraceVma[] {
  let prevEnd: Split | null = null;
  const out: TraceVma[] = new Array<TraceVma>(list.length);
  for (let i = 0; i < list.length; i++) {
    const vma = checkVma(list[i], field, i);
    const start = parseSplit(vma.start);
    if (prevEnd !== null && (start.pg < prevEnd.pg || (start.pg === prevEnd.pg && start.sub < prevEnd.sub))) {
      throw new InputError(at(field, i, '.start'), `${vma.start} is below the end of ${field}[${i - 1}] (${formatSplit(prevEnd.pg, prevEnd.sub)}): VMAs are listed ascending, without overlap`);
    }
    const end = parseSplit(vma.end);
    if (end.pg < start.pg || (end.pg === start.pg && end.sub <= start.sub)) throw new InputError(at(field, i, '.end'), `expected above start ${vma.start}, got ${vma.end}`);
    prevEnd = end;
    out[i] = vma;
  }
  return out;
}

function checkResult(v: unknown, i: number): Expected {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(at('results', i), 'expected an object');
  const o = v as Record<string, unknown>;
  let r: Expected;
  if ('ret' in o) {
    hexAt(o.ret, 'results', i, '.ret');
    r = { ret: o.ret as string };
    if (o.faults !== undefined) {
      if (!Number.isSafeInteger(o.faults) || (o.faults as number) < 0) throw new InputError(at('results', i, '.faults'), 'expected a non-negative integer');
      r.faults = o.faults as number;
    }
  } else if ('errno' in o) {
    const e = str(o.errno, at('results', i, '.errno'));
    if (errnoFromName(e) === undefined) throw new InputError(at('results', i, '.errno'), `unknown errno ${show(e)}`);
    r = { errno: e };
  } else if ('signal' in o) {
    if (o.signal !== 'SIGSEGV' && o.signal !== 'SIGBUS') throw new InputError(at('results', i, '.signal'), 'expected "SIGSEGV" or "SIGBUS"');
    r = { signal: o.signal };
  } else if ('hazard' in o) {
    // the recording kernel crashed in this op: there is no return value, only the hazard
    r = { crashed: true };
  } else throw new InputError(at('results', i), 'expected {"ret": "0x…"}, {"errno": "E…"}, {"signal": "SIG…"} or {"hazard": "…"}');
  if (o.hazard !== undefined) r.hazard = str(o.hazard, at('results', i, '.hazard'));
  return r;
}

const HUGE: ShmemHuge[] = ['never', 'always', 'within_size', 'advise', 'deny', 'force'];

/** The model's configuration from the trace's env (defaults: the recording machine). */
/** The config env describes, over `base` (the kernel's defaults for the trace's arch). */
function configOf(env: Record<string, unknown>, base: MmConfig): MmConfig {
  const c: MmConfig = { ...base };
  const big = (v: unknown, f: string) => {
    const s = hex(v, `env.${f}`);
    return (BigInt(s.pg) << 12n) | BigInt(s.sub);
  };
  c.rlimitStack = big(env.rlimitStack, 'rlimitStack');
  if (typeof env.randomize !== 'boolean') throw new InputError('env.randomize', `expected true or false, got ${show(env.randomize)}`);
  c.randomize = env.randomize;
  if (!env.randomize) {
    for (const k of ['mmapRndBits', 'mmapBase'] as const) {
      if (env[k] !== undefined) throw new InputError(`env.${k}`, 'only a randomised trace (env.randomize true) has one');
    }
  }
  // env.pageSize is checked against the arch by archOf()
  if (env.mmapMinAddr !== undefined) c.dacMmapMinAddr = big(env.mmapMinAddr, 'mmapMinAddr');
  if (env.stackGuardGap !== undefined) c.stackGuardGap = big(env.stackGuardGap, 'stackGuardGap');
  if (env.maxMapCount !== undefined) {
    // vm.max_map_count is an int the sysctl keeps at or above 0 (proc_dointvec_minmax, extra1 = 0)
    if (!Number.isSafeInteger(env.maxMapCount) || (env.maxMapCount as number) < 0 || (env.maxMapCount as number) > 0x7fffffff) {
      throw new InputError('env.maxMapCount', `expected an integer from 0 to 2147483647, got ${show(env.maxMapCount)}`);
    }
    c.maxMapCount = env.maxMapCount as number;
  }
  if (env.overcommitMemory !== undefined) {
    if (![0, 1, 2].includes(env.overcommitMemory as number)) throw new InputError('env.overcommitMemory', 'expected 0, 1 or 2');
    c.overcommitMemory = env.overcommitMemory as number;
  }
  if (env.commitPages !== undefined) c.commitPages = Number(big(env.commitPages, 'commitPages'));
  if (env.shmemEnabled !== undefined) {
    if (!HUGE.includes(env.shmemEnabled as ShmemHuge)) throw new InputError('env.shmemEnabled', `expected one of ${HUGE.join(', ')}`);
    c.shmemEnabled = env.shmemEnabled as ShmemHuge;
  }
  if (env.la57 !== undefined) {
    if (typeof env.la57 !== 'boolean') throw new InputError('env.la57', 'expected true or false');
    c.la57 = env.la57;
  }
  if (env.capSysRawio !== undefined) {
    if (typeof env.capSysRawio !== 'boolean') throw new InputError('env.capSysRawio', 'expected true or false');
    c.capSysRawio = env.capSysRawio;
  }
  if (env.thpEnabled !== undefined) {
    if (!THP_MODES.includes(env.thpEnabled as ThpMode)) throw new InputError('env.thpEnabled', 'expected always, madvise or never');
    c.thpEnabled = env.thpEnabled as MmConfig['thpEnabled'];
  }
  return c;
}

/** env.mmapRndBits and env.mmapBase of a randomised trace; sets config.mmapRnd when the base is given. */
function aslrOf(env: Record<string, unknown>, c: MmConfig): LoadedTrace['aslr'] {
  if (!c.randomize) return null;
  let rndBits = 28;
  if (env.mmapRndBits !== undefined) {
    // CONFIG_ARCH_MMAP_RND_BITS_MIN..MAX of x86_64 (4-level paging)
    if (!Number.isSafeInteger(env.mmapRndBits) || (env.mmapRndBits as number) < 28 || (env.mmapRndBits as number) > 32) {
      throw new InputError('env.mmapRndBits', `expected an integer from 28 to 32 (x86_64's mmap_rnd_bits range), got ${show(env.mmapRndBits)}`);
    }
    rndBits = env.mmapRndBits as number;
  }
  if (c.legacyLayout || c.la57) throw new InputError('env.randomize', 'randomised traces are modelled for the 4-level top-down layout only');
  if (env.mmapBase === undefined) return { rndBits, base: null };
  const b = hex(env.mmapBase, 'env.mmapBase');
  const { lo, hi } = x86MmapBaseRange(c.rlimitStack, c.stackGuardGap, rndBits);
  if (b.sub !== 0 || b.pg < lo || b.pg > hi) {
    throw new InputError('env.mmapBase', `${env.mmapBase as string} is not an mmap_base this task can have: a page from ${formatSplit(lo, 0)} to ${formatSplit(hi, 0)} (rlimitStack ${env.rlimitStack as string}, ${rndBits} random bits)`);
  }
  c.mmapRnd = hi - b.pg;
  return { rndBits, base: b.pg };
}

/** The variant a trace replays under: model.kernel, else from the recording kernel's version. */
function variantOf(t: Record<string, unknown>, hasDevices: boolean): KernelVariant {
  if (t.model !== undefined) {
    const m = obj(t.model, 'model');
    const name = str(m.kernel, 'model.kernel');
    // an alias (v2, linux-7.2, …) or BASE[+SERIES]: linux-7.2+v2 replays a 7.2.13 kernel with v2 applied
    const v = parseVariant(name);
    if ('error' in v) throw new InputError('model.kernel', v.error);
    return v;
  }
  const k = typeof t.kernel === 'string' ? t.kernel : '';
  // the recording kernel's point release where the model knows it (6.18.60 has the pfnmap bypass)
  const point = /^(\d+\.\d+\.\d+)(?![\d.])/.exec(k);
  const exact = point ? variantByName(`linux-${point[1]}`) : undefined;
  if (exact) return exact;
  const byVersion: [RegExp, string][] = [[/^6\.12\./, 'linux-6.12'], [/^6\.18\./, 'linux-6.18'], [/^7\.2\./, 'linux-7.2']];
  for (const [re, name] of byVersion) if (re.test(k)) return variantByName(name)!;
  if (hasDevices) throw new InputError('model.kernel', `cannot tell the kernel variant of ${show(k)}; name it in "model": {"kernel": …}`);
  return variantByName('linux-6.18')!;
}

/** A boolean-valued object with exactly the given keys (model.config.hugePfnmap, .hazards). */
function flagSet<K extends string>(v: unknown, field: string, keys: readonly K[]): Record<K, boolean> {
  const o = obj(v, field);
  for (const k of Object.keys(o)) if (!(keys as readonly string[]).includes(k)) throw new InputError(`${field}.${k}`, `unknown key (${keys.join(', ')})`);
  for (const k of keys) if (typeof o[k] !== 'boolean') throw new InputError(`${field}.${k}`, `expected true or false, got ${show(o[k])}`);
  return o as Record<K, boolean>;
}

/** model.config: switches that override the variant's, each checked for its type. */
function modelConfig(mc: Record<string, unknown>): Partial<MmConfig> {
  const out: Partial<MmConfig> = {};
  for (const [k, v] of Object.entries(mc)) {
    const f = `model.config.${k}`;
    const bool = (): boolean => {
      if (typeof v !== 'boolean') throw new InputError(f, `expected true or false, got ${show(v)}`);
      return v;
    };
    switch (k) {
      case 'thpEnabled':
        if (typeof v !== 'string' || !THP_MODES.includes(v as ThpMode)) throw new InputError(f, `expected ${THP_MODES.join(', ')}; got ${show(v)}`);
        out.thpEnabled = v as MmConfig['thpEnabled'];
        break;
      case 'hugePfnmap': out.hugePfnmap = flagSet(v, f, ['arch', 'pmd', 'pud']); break;
      case 'hazards': out.hazards = flagSet(v, f, ['pudSplit']); break;
      case 'compat': out.compat = bool(); break;
      case 'thpPfnmapBypass': out.thpPfnmapBypass = bool(); break;
      case 'thpAlignFilesWithoutHook': out.thpAlignFilesWithoutHook = bool(); break;
      case 'anonInodeNoexec': out.anonInodeNoexec = bool(); break;
      default:
        throw new InputError(f, 'unknown switch (thpEnabled, hugePfnmap, hazards, compat, thpPfnmapBypass, thpAlignFilesWithoutHook, anonInodeNoexec)');
    }
  }
  return out;
}

export interface ValidatedTrace extends LoadedTrace {
  expected: Expected[];
  /** the file it was read from, for messages */
  source?: string;
}

const GRANULES: Record<number, Granule> = { 4096: '4K', 16384: '16K', 65536: '64K' };

/**
 * The recording kernel's arch from `arch` and env: x86_64 (4 KiB pages), or arm64 with
 * env.pageSize, env.vaBits (CONFIG_ARM64_VA_BITS), env.vaBitsActual (vabits_actual) and
 * env.pgtableLevels (CONFIG_PGTABLE_LEVELS), which must agree with one another.
 */
function archOf(t: Record<string, unknown>, env: Record<string, unknown>): Arch {
  if (t.arch === 'x86_64') {
    if (env.pageSize !== 4096) throw new InputError('env.pageSize', `x86_64 has 4096-byte pages, got ${show(env.pageSize)}`);
    for (const k of ['vaBits', 'vaBitsActual', 'pgtableLevels'] as const) if (env[k] !== undefined) throw new InputError(`env.${k}`, 'an arm64 field: not for an x86_64 trace');
    return x86_64;
  }
  if (t.arch !== 'arm64') throw new InputError('arch', `expected "x86_64" or "arm64", got ${show(t.arch)}`);
  const g = typeof env.pageSize === 'number' ? GRANULES[env.pageSize] : undefined;
  if (g === undefined) throw new InputError('env.pageSize', `expected 4096, 16384 or 65536 on arm64, got ${show(env.pageSize)}`);
  if (env.la57 !== undefined) throw new InputError('env.la57', 'x86-only: not for an arm64 trace');
  const va = env.vaBits;
  if (typeof va !== 'number' || ![36, 39, 42, 47, 48, 52].includes(va)) throw new InputError('env.vaBits', `expected CONFIG_ARM64_VA_BITS (39, 42, 47, 48 or 52), got ${show(va)}`);
  const actual = env.vaBitsActual;
  let a: Arch;
  try {
    a = arm64({ granule: g, vaBits: va, cpu52: actual === 52 });
  } catch (e) {
    throw new InputError('env.vaBits', (e as Error).message);
  }
  const want = va === 52 ? [52, va === 52 && g === '16K' ? 47 : 48] : [va];
  if (typeof actual !== 'number' || !want.includes(actual)) throw new InputError('env.vaBitsActual', `expected ${want.join(' or ')} for VA_BITS ${va} with ${g} pages, got ${show(actual)}`);
  if (env.pgtableLevels !== undefined && env.pgtableLevels !== arm64PgtableLevels(g, va)) {
    throw new InputError('env.pgtableLevels', `${g} pages with VA_BITS ${va} have ${arm64PgtableLevels(g, va)} levels, got ${show(env.pgtableLevels)}`);
  }
  return a;
}

/** Validate a parsed trace object. */
export function validateTrace(data: unknown): ValidatedTrace {
  const t = obj(data, 'trace');
  if (t.format !== 'pfnmap-trace/1') throw new InputError('format', `expected "pfnmap-trace/1", got ${show(t.format)}`);
  str(t.name, 'name');
  const env = obj(t.env, 'env');
  const arch = archOf(t, env);
  // on arm64, what follows from the arch (stack_guard_gap in its pages, no PUD pfnmaps) and
  // the LSM mmap_min_addr of Debian's arm64 kernels (32768), under what env says
  let config = configOf(env, arch === x86_64 ? DEFAULT_CONFIG : { ...DEFAULT_CONFIG, ...archDefaults(arch), lsmMmapMinAddr: 0x8000n });
  if (arch !== x86_64 && config.randomize) throw new InputError('env.randomize', 'randomised traces are modelled on x86_64 only');
  const aslr = aslrOf(env, config);
  const fileIds = new Set<string>();
  const devices = new Map<string, Device>();
  arr(t.files, 'files').forEach((fv, i) => {
    const f = obj(fv, `files[${i}]`);
    const id = str(f.id, `files[${i}].id`);
    if (fileIds.has(id)) throw new InputError(`files[${i}].id`, `duplicate id ${show(id)}`);
    const kind = str(f.kind, `files[${i}].kind`);
    if (!['memfd', 'ext4', 'tmpfs', 'vfio-pci'].includes(kind)) throw new InputError(`files[${i}].kind`, `unknown kind ${show(kind)} (memfd, ext4, tmpfs, vfio-pci)`);
    if (kind === 'vfio-pci') {
      if (typeof f.device === 'string') {
        const d = preset(f.device);
        if (!d) throw new InputError(`files[${i}].device`, `unknown preset ${show(f.device)} (${PRESET_NAMES.join(', ')})`);
        devices.set(id, d);
      } else devices.set(id, parseDevice(f.device, `files[${i}].device`));
      if (f.size !== undefined) hex(f.size, `files[${i}].size`);
    } else hex(f.size, `files[${i}].size`);
    fileIds.add(id);
  });
  const variant = variantOf(t, devices.size > 0);
  config = { ...config, ...variant.config };
  if (t.model !== undefined && (t.model as Record<string, unknown>).config !== undefined) {
    const mc = obj((t.model as Record<string, unknown>).config, 'model.config');
    config = { ...config, ...modelConfig(mc) };
  }
  checkVmaList(arr(t.initial, 'initial'), 'initial').forEach((vma, i) => {
    const f = `initial[${i}]`;
    // setUpProcess builds these: page-aligned, non-empty, backed by something it knows
    const per = arch.pageSize / 4096; // 4 KiB units per page of the arch
    for (const k of ['start', 'end', 'offset'] as const) {
      const v = hex(vma[k], `${f}.${k}`);
      if (v.sub !== 0 || v.pg % per !== 0) throw new InputError(`${f}.${k}`, `expected a page-aligned value (a multiple of the ${arch.pageSize}-byte page of ${arch.name}), got ${vma[k]}`);
    }
    const b = vma.backing;
    if (!['anon', 'shared-anon', '[stack]', '[heap]'].includes(b) && !b.startsWith('process:') && !fileIds.has(b)) {
      throw new InputError(`${f}.backing`, `no file with id ${show(b)} in "files" (nor anon, shared-anon, [stack], [heap], process:…)`);
    }
  });
  const ops = arr(t.ops, 'ops').map((o, i) => compileOp(o, i, fileIds));
  const results = arr(t.results, 'results');
  if (results.length !== ops.length) throw new InputError('results', `has ${results.length} entries for ${ops.length} ops`);
  const expected = results.map((r, i) => checkResult(r, i));
  const final = checkVmaList(arr(t.final, 'final'), 'final');
  const per = arch.pageSize / 4096;
  if (per !== 1) {
    final.forEach((vma, i) => {
      for (const k of ['start', 'end'] as const) if (hexAt(vma[k], 'final', i, `.${k}`).pg % per !== 0) throw new InputError(at('final', i, `.${k}`), `expected a page-aligned value (a multiple of the ${arch.pageSize}-byte page of ${arch.name}), got ${vma[k]}`);
    });
  }
  if (t.ns !== undefined) {
    const ns = arr(t.ns, 'ns');
    if (ns.length !== ops.length) throw new InputError('ns', `has ${ns.length} entries for ${ops.length} ops`);
    for (let i = 0; i < ns.length; i++) {
      const n: unknown = ns[i];
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new InputError(at('ns', i), `expected a non-negative number of nanoseconds, got ${show(n)}`);
    }
  }
  return { raw: t as unknown as Trace, config, ops, expected, variant, devices, aslr, arch };
}

/** Read a trace file (plain JSON or gzip). */
export function loadTraceFile(path: string): ValidatedTrace {
  const data = readJsonFile(path);
  try {
    return { ...validateTrace(data), source: path };
  } catch (e) {
    // name the file too: a replay of many traces must say which one is malformed
    if (e instanceof InputError) throw new InputError(path, e.message);
    throw e;
  }
}
