// The live-kernel oracle: runs an op list in the real kernel (oracle/recorder.c,
// under `setarch -R`, or randomised under `setarch x86_64`) and turns its raw output into a
// pfnmap-trace/1 Trace.
// Deliberately free of model imports: only the trace format types.

import { hexU64 } from '../lib/u64.js';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MAP_FLAG_VALUES,
  type MmapFlagName,
  type Trace,
  type TraceEnv,
  type TraceFile,
  type TraceOp,
  type TraceResult,
  type TraceVma,
} from '../trace/format.js';


/** The repository root: the nearest ancestor holding oracle/recorder.c. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'oracle', 'recorder.c')) && fs.existsSync(path.join(dir, 'package.json'))) {
      return dir;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('pfnmap oracle: cannot find oracle/recorder.c above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export function hasCommand(cmd: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '';
}

/** The trace env from the `env` line the recorder and the VFIO probe print. */
export function envFromRecorder(e: Record<string, string>, rlimitStack: string, capSysRawio: boolean): TraceEnv {
  return {
    rlimitStack,
    randomize: false,
    pageSize: 4096,
    mmapMinAddr: hex(BigInt(e['mmap_min_addr'])),
    maxMapCount: Number(e['max_map_count']),
    overcommitMemory: Number(e['overcommit_memory']),
    commitPages: hex(BigInt(e['commit_pages'])),
    shmemEnabled: e['shmem_enabled'],
    la57: e['la57'] === '1',
    capSysRawio,
  };
}

/** Compiles oracle/recorder.c into oracle/build/recorder (only when stale); returns the binary path. */
export function compileRecorder(): string {
  // stale when the program or the header it shares with the VFIO probe changed
  return compileHelper('recorder', ['oplist.h']);
}

/** Compiles oracle/<name>.c into oracle/build/<name> (only when it or a header is newer); returns the binary path. */
export function compileHelper(name: string, headers: string[] = []): string {
  const root = repoRoot();
  const src = path.join(root, 'oracle', `${name}.c`);
  const outDir = path.join(root, 'oracle', 'build');
  const bin = path.join(outDir, name);
  const newest = Math.max(fs.statSync(src).mtimeMs, ...headers.map((h) => fs.statSync(path.join(root, 'oracle', h)).mtimeMs));
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= newest) return bin;
  if (!hasCommand('gcc')) {
    throw new Error(`pfnmap oracle: gcc not found on PATH — it is needed to build oracle/${name}.c (apt-get install gcc)`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('gcc', ['-O2', '-Wall', '-Wl,-z,now', '-o', tmp, src], { encoding: 'utf8' });
  if (r.error) throw new Error(`pfnmap oracle: cannot run gcc: ${r.error.message}`);
  if (r.status !== 0) {
    try { fs.unlinkSync(tmp); } catch { /* nothing to remove */ }
    throw new Error(`pfnmap oracle: gcc failed to compile ${src} (exit ${r.status}):\n${r.stderr}`);
  }
  fs.renameSync(tmp, bin);
  return bin;
}

/** The filesystem type of a directory as stat -f names it ("ext2/ext3" for ext4). */
function tmpFsType(dir = os.tmpdir()): string {
  return execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
}

/** Whether this machine can serve as the live-kernel oracle for the linux-6.18 model. */
export function liveKernelStatus(): { usable: boolean; reason: string; kernel: string } {
  const kernel = os.release();
  if (process.platform !== 'linux') return { usable: false, reason: `not Linux (${process.platform})`, kernel };
  if (process.arch !== 'x64') return { usable: false, reason: `not x86_64 (${process.arch})`, kernel };
  if (!hasCommand('setarch')) return { usable: false, reason: 'setarch not found (util-linux)', kernel };
  if (!kernel.startsWith('6.18.')) return { usable: false, reason: `kernel ${kernel} is not 6.18.x`, kernel };
  // the random traces map an ext4 file, made in the temporary directory
  const tmpFs = tmpFsType();
  if (tmpFs !== 'ext2/ext3') return { usable: false, reason: `${os.tmpdir()} is on '${tmpFs}', not ext4 (set TMPDIR to a directory on ext4)`, kernel };
  try {
    compileRecorder();
  } catch (e) {
    return { usable: false, reason: (e as Error).message, kernel };
  }
  return { usable: true, reason: 'Linux 6.18 x86_64 with setarch and gcc', kernel };
}

// ---- op list encoding -------------------------------------------------------

const PROT_BITS: Record<string, number> = { r: 1, w: 2, x: 4 };

export function protToNumber(prot: string): number {
  if (prot === 'none') return 0;
  let v = 0;
  for (const c of prot) {
    const bit = PROT_BITS[c];
    if (bit === undefined) throw new Error(`pfnmap oracle: bad prot '${prot}'`);
    v |= bit;
  }
  return v;
}

export function flagsToNumber(flags: MmapFlagName[]): number {
  let v = 0;
  for (const f of flags) {
    const bit = MAP_FLAG_VALUES[f];
    if (bit === undefined) throw new Error(`pfnmap oracle: unknown mmap flag '${f}'`);
    v |= bit;
  }
  return v;
}

const REL_RE = /^@(\d+)(?:([+-])(0x[0-9a-fA-F]+))?$/;
const HEX_RE = /^0x[0-9a-fA-F]+$/;

function checkHex(v: string, what: string): string {
  if (!HEX_RE.test(v)) throw new Error(`pfnmap oracle: ${what} '${v}' is not 0x hex`);
  return v.toLowerCase();
}

function checkAddr(a: string, index: number): string {
  const m = REL_RE.exec(a);
  if (m) {
    if (Number(m[1]) >= index) throw new Error(`pfnmap oracle: op ${index} refers to op ${m[1]}, which is not earlier`);
    return a;
  }
  return checkHex(a, 'address');
}

export function encodeOps(files: TraceFile[], ops: TraceOp[]): string {
  const lines: string[] = [];
  const fileIndex = new Map<string, number>();
  files.forEach((f, i) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(f.id)) throw new Error(`pfnmap oracle: bad file id '${f.id}'`);
    if (!['memfd', 'ext4', 'tmpfs'].includes(f.kind)) throw new Error(`pfnmap oracle: file kind '${f.kind}' cannot be recorded`);
    fileIndex.set(f.id, i);
    lines.push(`file ${f.id} ${f.kind} ${checkHex(f.size ?? '', 'file size')}`);
  });
  ops.forEach((op, i) => {
    const addr = checkAddr(op.addr, i);
    const len = checkHex(op.len, 'length');
    switch (op.op) {
      case 'mmap': {
        let fi = -1;
        if (op.fd !== null) {
          const k = fileIndex.get(op.fd);
          if (k === undefined) throw new Error(`pfnmap oracle: op ${i} uses unknown file '${op.fd}'`);
          fi = k;
        }
        lines.push(`op mmap ${addr} ${len} ${protToNumber(op.prot)} ${flagsToNumber(op.flags)} ${fi} ${checkHex(op.offset, 'offset')}`);
        break;
      }
      case 'munmap':
        lines.push(`op munmap ${addr} ${len}`);
        break;
      case 'mprotect':
        lines.push(`op mprotect ${addr} ${len} ${protToNumber(op.prot)}`);
        break;
      case 'madvise':
        lines.push(`op madvise ${addr} ${len} ${op.advice}`);
        break;
      default:
        throw new Error(`pfnmap oracle: op ${i} has unknown kind '${(op as { op: string }).op}'`);
    }
  });
  return lines.join('\n') + '\n';
}

// ---- output parsing ---------------------------------------------------------

const hex = hexU64;

const MAPS_RE = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)(?: +(.*))?$/;

/** Converts one /proc/self/maps line into a trace VMA. `ours` maps a path (as maps shows it, without " (deleted)") to a file id. */
export function mapsLineToVma(line: string, ours: Map<string, string>): TraceVma {
  const m = MAPS_RE.exec(line);
  if (!m) throw new Error(`pfnmap oracle: cannot parse maps line '${line}'`);
  const name = (m[7] ?? '').trim() === '' ? '' : (m[7] as string).replace(/^ +/, '');
  let backing: string;
  const stripped = name.endsWith(' (deleted)') ? name.slice(0, -' (deleted)'.length) : name;
  if (name === '') backing = 'anon';
  else if (stripped === '/dev/zero') backing = 'shared-anon';
  else if (ours.has(stripped)) backing = ours.get(stripped) as string;
  else if (name === '[stack]') backing = '[stack]';
  else if (name === '[heap]') backing = '[heap]';
  else backing = 'process:' + (name.startsWith('[') ? name : path.posix.basename(name));
  return {
    start: hex(BigInt('0x' + m[1])),
    end: hex(BigInt('0x' + m[2])),
    perms: m[3] as string,
    offset: hex(BigInt('0x' + m[4])),
    backing,
  };
}

export type RawResult = { kind: 'ret'; value: bigint } | { kind: 'errno'; name: string } | { kind: 'skipped' };

export interface RawOutput {
  filePaths: Map<string, string>; // id -> path
  initial: string[];
  final: string[];
  results: RawResult[];
  ns: number[];
  env: Record<string, string>;
  /** the `aslr` line: randomize, mmap_rnd_bits, mmap_base (the recorder's probe) */
  aslr: Record<string, string>;
}

export function parseOutput(out: string, nOps: number): RawOutput {
  const lines = out.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const raw: RawOutput = { filePaths: new Map(), initial: [], final: [], results: new Array(nOps), ns: new Array(nOps), env: {}, aslr: {} };
  let section: 'initial' | 'final' | null = null;
  for (const line of lines) {
    if (section) {
      if (line === 'end') section = null;
      else raw[section].push(line);
      continue;
    }
    if (line === 'initial-maps') { section = 'initial'; continue; }
    if (line === 'final-maps') { section = 'final'; continue; }
    const sp = line.indexOf(' ');
    const head = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    if (head === 'file') {
      const sp2 = rest.indexOf(' ');
      raw.filePaths.set(rest.slice(0, sp2), rest.slice(sp2 + 1));
    } else if (head === 'result') {
      const [idx, kind, val] = rest.split(' ');
      const i = Number(idx);
      if (!(i >= 0 && i < nOps)) throw new Error(`pfnmap oracle: result for unknown op: ${line}`);
      if (kind === 'ret') raw.results[i] = { kind: 'ret', value: BigInt(val as string) };
      else if (kind === 'errno') raw.results[i] = { kind: 'errno', name: val as string };
      else if (kind === 'skipped') raw.results[i] = { kind: 'skipped' };
      else throw new Error(`pfnmap oracle: bad result line: ${line}`);
    } else if (head === 'ns') {
      const [idx, n] = rest.split(' ');
      raw.ns[Number(idx)] = Number(n);
    } else if (head === 'env' || head === 'aslr') {
      const t = rest.split(' ');
      for (let k = 0; k + 1 < t.length; k += 2) raw[head][t[k] as string] = t[k + 1] as string;
    } else {
      throw new Error(`pfnmap oracle: unexpected recorder output line: ${line}`);
    }
  }
  if (section) throw new Error('pfnmap oracle: recorder output ends inside a maps section');
  for (let i = 0; i < nOps; i++) {
    if (!raw.results[i]) throw new Error(`pfnmap oracle: recorder printed no result for op ${i}`);
    if (raw.ns[i] === undefined) throw new Error(`pfnmap oracle: recorder printed no ns for op ${i}`);
  }
  if (raw.initial.length === 0 || raw.final.length === 0) throw new Error('pfnmap oracle: recorder printed no maps');
  if (!('mmap_min_addr' in raw.env)) throw new Error('pfnmap oracle: recorder printed no env line');
  if (!('randomize' in raw.aslr)) throw new Error('pfnmap oracle: recorder printed no aslr line');
  return raw;
}

function rlimitStackHex(): string {
  const r = spawnSync('sh', ['-c', 'ulimit -S -s'], { encoding: 'utf8' });
  const v = (r.stdout ?? '').trim();
  if (r.status !== 0 || v === '') throw new Error('pfnmap oracle: cannot read the stack rlimit (ulimit -s)');
  if (v === 'unlimited') return '0xffffffffffffffff';
  return hex(BigInt(v) * 1024n);
}

/** Rewrites the kept ops: drops skipped ones, renumbers `@K` references. */
export function dropSkipped(ops: TraceOp[], raw: RawResult[]): { ops: TraceOp[]; results: TraceResult[]; keptIndex: number[] } {
  const newIndex: number[] = new Array(ops.length).fill(-1);
  const keptIndex: number[] = [];
  const outOps: TraceOp[] = [];
  const outResults: TraceResult[] = [];
  ops.forEach((op, i) => {
    const r = raw[i] as RawResult;
    if (r.kind === 'skipped') return;
    let addr = op.addr;
    const m = REL_RE.exec(addr);
    if (m) {
      const k = Number(m[1]);
      if (newIndex[k] !== undefined && newIndex[k] >= 0) {
        addr = m[2] ? `@${newIndex[k]}${m[2]}${(m[3] as string).toLowerCase()}` : `@${newIndex[k]}`;
      } else {
        // K was skipped: the recorder used 0 as its base.
        const off = m[3] ? BigInt(m[3]) : 0n;
        addr = hex(m[2] === '-' ? -off : off);
      }
    }
    newIndex[i] = outOps.length;
    keptIndex.push(i);
    outOps.push({ ...op, addr } as TraceOp);
    outResults.push(r.kind === 'ret' ? { ret: hex(r.value) } : { errno: (r as { name: string }).name });
  });
  return { ops: outOps, results: outResults, keptIndex };
}

/**
 * Runs `ops` in the live kernel and returns the recorded trace. Skipped ops are left out.
 * By default under `setarch -R`; with `randomize` under `setarch x86_64` (which clears
 * ADDR_NO_RANDOMIZE), so the layout is randomised: env.randomize is then true and env gives
 * mmap_rnd_bits and the mmap_base the recorder measured (drop env.mmapBase to make a replay
 * infer it).
 */
export function recordTrace(opts: { name: string; files: TraceFile[]; ops: TraceOp[]; randomize?: boolean }): Trace {
  const randomize = opts.randomize === true;
  const bin = compileRecorder();
  const opsText = encodeOps(opts.files, opts.ops);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-rec-'));
  try {
    const ext4Dir = path.join(work, 'ext4');
    fs.mkdirSync(ext4Dir);
    if (opts.files.some((f) => f.kind === 'ext4')) {
      const fsType = tmpFsType(ext4Dir);
      if (fsType !== 'ext2/ext3') {
        throw new Error(`pfnmap oracle: ${ext4Dir} is on '${fsType}', not ext4 (set TMPDIR to a directory on ext4)`);
      }
    }
    const opsFile = path.join(work, 'ops.txt');
    fs.writeFileSync(opsFile, opsText);
    const r = spawnSync('setarch', randomize ? ['x86_64', bin, opsFile, ext4Dir] : ['-R', bin, opsFile, ext4Dir], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    if (r.error) throw new Error(`pfnmap oracle: cannot run the recorder: ${r.error.message}`);
    if (r.status !== 0 || r.signal) {
      const how = r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
      throw new Error(`pfnmap oracle: recorder failed (${how}):\n${r.stderr}`);
    }
    const raw = parseOutput(r.stdout, opts.ops.length);

    const ours = new Map<string, string>();
    for (const f of opts.files) {
      const p = raw.filePaths.get(f.id);
      if (p === undefined) throw new Error(`pfnmap oracle: recorder did not report a path for file ${f.id}`);
      ours.set(p, f.id);
    }
    // root holds CAP_SYS_RAWIO: MAP_FIXED below mmap_min_addr succeeds
    const env = envFromRecorder(raw.env, rlimitStackHex(), typeof process.getuid === 'function' && process.getuid() === 0);
    const randomized = raw.aslr['randomize'] === '1';
    if (randomized !== randomize) {
      throw new Error(randomize
        ? 'pfnmap oracle: the recorder ran without randomisation although it was asked for (is kernel.randomize_va_space 0?)'
        : 'pfnmap oracle: the recorder ran randomised under setarch -R');
    }
    if (randomize) {
      env.randomize = true;
      const bits = Number(raw.aslr['mmap_rnd_bits']);
      if (bits >= 0) env.mmapRndBits = bits;
      const base = BigInt(raw.aslr['mmap_base'] ?? '0');
      if (base !== 0n) env.mmapBase = hex(base);
    }
    const kept = dropSkipped(opts.ops, raw.results);
    return {
      format: 'pfnmap-trace/1',
      name: opts.name,
      kernel: os.release(),
      arch: 'x86_64',
      env,
      files: opts.files.map((f) => ({ ...f })),
      initial: raw.initial.map((l) => mapsLineToVma(l, ours)),
      ops: kept.ops,
      results: kept.results,
      final: raw.final.map((l) => mapsLineToVma(l, ours)),
      ns: kept.keptIndex.map((i) => raw.ns[i] as number),
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
