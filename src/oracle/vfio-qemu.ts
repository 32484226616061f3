// The real-kernel oracle for the VFIO device path: boots Debian kernels under QEMU
// (TCG, q35 + emulated Intel IOMMU with interrupt remapping) with ivshmem-plain PCI
// devices bound to vfio-pci, runs scenario op lists in oracle/vfio/probe.c inside the
// guest and writes pfnmap-trace/1 files with the device extension.
//
//   node dist/src/oracle/vfio-qemu.js [--kernels linux-6.12,linux-7.2] [--out fixtures/vfio-traces]
//        [--hazards] [--accel tcg|kvm] [--timeout SECONDS] [--jobs N] [--only SUBSTRING]
//   node dist/src/oracle/vfio-qemu.js --random N [--seed S] [--ops K] [--kernels …]
//   node dist/src/oracle/vfio-qemu.js --kernel-image PATH --kernel-name NAME [--kernel-label L] [--kernel-note TEXT] […]
//
// --kernel-image boots a locally built bzImage instead of a Debian kernel: NAME is the
// model variant its traces replay as (model.kernel, e.g. linux-7.2+thp-fops), L the prefix
// of the scenario and file names (default NAME). Such a kernel has everything built in
// (oracle/kconfig/vfio-oracle.config): the initramfs carries no modules and init loads
// none. TEXT goes into each device's `source` (how the kernel was built).
//
// --random runs, in one boot per kernel, N seeded random scenarios of K ops each
// (src/oracle/generate-vfio.ts; scenario n uses seed S*1000+n and alternates the 2 GiB and
// the 64 MiB device), replays each trace in the model right away and prints per kernel how
// many were identical; mismatching traces go to oracle/failures/, every random trace to
// oracle/build/vfio/random/. Exit status 1 when any trace differs or is missing.
// --avoid-known leaves out the constructs behind the discrepancies already known (PROT_EXEC
// on the device, touching PROT_NONE / exec-only device pages); its traces are named
// <kernel>-random-ak-<seed>-<n>.
//
// Everything generated or downloaded (kernel .debs, extracted kernels and modules, the
// probe, initramfs images, QEMU logs) lives under oracle/build/vfio/ and is reused.
// --maps [DIR] runs, instead of the recordings, one boot per kernel whose scenarios map BARs
// and leave them mapped; the probe's final /proc/self/maps snapshot of each is written raw to
// DIR (default fixtures/maps) as <kernel>-<name>.maps with the device as <kernel>-<name>.device.json,
// for `pfnmap inspect` (test/inspect.test.ts).
// --hazards runs, instead of the recordings, one boot per kernel and per hazard (munmap or
// mprotect of a single 4 KiB page inside a touched 1 GiB leaf) and reports what the
// kernel console shows; nothing of it goes into fixtures.

import { hexU64 } from '../lib/u64.js';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDevice } from '../devices/device.js';
import {
  type MmapFlagName,
  type Trace,
  type TraceEnv,
  type TraceOp,
  type TraceResult,
} from '../trace/format.js';
import { envFromRecorder, mapsLineToVma, protToNumber, flagsToNumber, hasCommand, repoRoot } from './record.js';
import { generateVfioOps } from './generate-vfio.js';
import { validateTrace } from '../trace/load.js';
import { replay } from '../trace/replay.js';
import { parseVariant } from '../kernels/variants.js';

// ---- configuration ------------------------------------------------------------

interface KernelSpec {
  /** model variant name, e.g. linux-6.12 */
  model: string;
  /** uname -r */
  release: string;
  /** Debian package version (file names) */
  debVersion: string;
  /** packages to fetch: alternatives in order of preference; each entry is one needed package */
  packages: string[][];
  /** path of the kernel image inside the packages */
  vmlinuz: string;
  /** the modules directory inside the packages */
  modulesDir: string;
  /** a locally built image (--kernel-image): no packages, no modules */
  local?: { image: string; note: string };
}

const KERNELS: Record<string, KernelSpec> = {
  'linux-6.12': {
    model: 'linux-6.12',
    release: '6.12.117+deb13-amd64',
    debVersion: '6.12.117-1',
    packages: [['linux-image-6.12.117+deb13-amd64-unsigned', 'linux-image-6.12.117+deb13-amd64']],
    vmlinuz: './boot/vmlinuz-6.12.117+deb13-amd64',
    modulesDir: './usr/lib/modules/6.12.117+deb13-amd64',
  },
  'linux-7.2': {
    model: 'linux-7.2',
    release: '7.2.13+deb14-amd64',
    debVersion: '7.2.13-1',
    packages: [
      ['linux-binary-unsigned-7.2.13+deb14-amd64', 'linux-binary-7.2.13+deb14-amd64'],
      ['linux-modules-7.2.13+deb14-amd64'],
    ],
    vmlinuz: './usr/lib/modules/7.2.13+deb14-amd64/vmlinuz',
    modulesDir: './usr/lib/modules/7.2.13+deb14-amd64',
  },
};

/** Modules to load (their dependencies are found from each module's modinfo). */
const WANTED_MODULES = ['vfio_iommu_type1', 'vfio_pci'];

interface DeviceSpec {
  tag: string; // 2g | 64m
  size: bigint;
  slot: number; // PCI slot on bus 0
  bdf: string;
  /** the largest leaf the BAR can take: 1 GiB for >= 1 GiB BARs, else 2 MiB */
  align: bigint;
}

const GiB = 1n << 30n;
const MiB = 1n << 20n;
const DEVICES: DeviceSpec[] = [
  { tag: '2g', size: 2n * GiB, slot: 0x10, bdf: '0000:00:10.0', align: GiB },
  { tag: '64m', size: 64n * MiB, slot: 0x11, bdf: '0000:00:11.0', align: 2n * MiB },
];

const IVSHMEM_VENDOR = '0x1af4';
const IVSHMEM_DEVICE = '0x1110';
const REGION_SHIFT = 40n;
const BAR2 = 2n << REGION_SHIFT;

// ---- small helpers ------------------------------------------------------------

const hex = hexU64;

export class OracleError extends Error {}

function fail(msg: string): never {
  throw new OracleError(`pfnmap vfio oracle: ${msg}`);
}

function log(msg: string): void {
  process.stdout.write(`[vfio-oracle ${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}
const T0 = Date.now();

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string; maxBuffer?: number } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, input: opts.input, maxBuffer: opts.maxBuffer ?? 1 << 28 });
  if (r.error) fail(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${(r.stderr ?? '').slice(-4000)}`);
  return r.stdout;
}

function sh(script: string, cwd?: string): string {
  return run('sh', ['-c', script], { cwd });
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function checkTools(): { busybox: string } {
  const need: [string, string][] = [
    ['qemu-system-x86_64', 'qemu-system-x86'], ['gcc', 'gcc'], ['xz', 'xz-utils'], ['cpio', 'cpio'],
    ['dpkg-deb', 'dpkg'], ['tar', 'tar'], ['apt-get', 'apt'],
  ];
  const missing = need.filter(([c]) => !hasCommand(c));
  let busybox = '';
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (fs.existsSync(p) && /statically linked|static-pie/.test(spawnSync('file', ['-L', p], { encoding: 'utf8' }).stdout ?? 'statically linked')) {
      busybox = p;
      break;
    }
  }
  if (!busybox) missing.push(['busybox (static)', 'busybox-static']);
  if (missing.length) {
    fail(`missing tools: ${missing.map(([c]) => c).join(', ')} — install them with: apt-get install ${[...new Set(missing.map(([, p]) => p))].join(' ')}`);
  }
  return { busybox };
}

// ---- kernel packages ------------------------------------------------------------

/** The Debian mirror this machine uses (from /etc/apt/sources.list{,.d}). */
export function debianMirror(): string {
  const texts: string[] = [];
  try { texts.push(fs.readFileSync('/etc/apt/sources.list', 'utf8')); } catch { /* absent */ }
  try {
    for (const f of fs.readdirSync('/etc/apt/sources.list.d').sort()) {
      if (f.endsWith('.list') || f.endsWith('.sources')) texts.push(fs.readFileSync(path.join('/etc/apt/sources.list.d', f), 'utf8'));
    }
  } catch { /* absent */ }
  for (const t of texts) {
    for (const line of t.split('\n')) {
      const l = line.trim();
      let m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(l);
      if (m && !/security/.test(m[1] as string) && /debian/.test(m[1] as string)) return (m[1] as string).replace(/\/$/, '');
      m = /^URIs:\s*(\S+)/i.exec(l);
      if (m && !/security/.test(m[1] as string) && /debian/.test(m[1] as string)) return (m[1] as string).replace(/\/$/, '');
    }
  }
  fail('cannot find the Debian mirror this machine uses in /etc/apt/sources.list{,.d}');
}

/** A private apt configuration for trixie + sid (lists fetched once). */
function aptConfig(buildDir: string): string[] {
  const dir = path.join(buildDir, 'apt');
  const opts = [
    '-o', `Dir::Etc::SourceList=${dir}/sources.list`, '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${dir}/lists`, '-o', `Dir::Cache=${dir}/cache`,
  ];
  if (!fs.existsSync(path.join(dir, 'lists'))) {
    const mirror = debianMirror();
    fs.mkdirSync(path.join(dir, 'lists', 'partial'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'cache', 'archives', 'partial'), { recursive: true });
    const kr = '/usr/share/keyrings/debian-archive-keyring.gpg';
    fs.writeFileSync(path.join(dir, 'sources.list'),
      ['trixie', 'sid'].map((s) => `deb [signed-by=${kr}] ${mirror} ${s} main`).join('\n') + '\n');
    log(`apt: fetching package lists for trixie and sid from ${mirror}`);
    try {
      run('apt-get', [...opts, 'update']);
    } catch (e) {
      fs.rmSync(path.join(dir, 'lists'), { recursive: true, force: true });
      throw e;
    }
  }
  return opts;
}

function findDeb(dir: string, name: string, version: string): string | undefined {
  const p = path.join(dir, `${name}_${version}_amd64.deb`);
  return fs.existsSync(p) && fs.statSync(p).size > 0 ? p : undefined;
}

function ensureDebs(spec: KernelSpec, buildDir: string): string[] {
  const debDir = path.join(buildDir, 'debs');
  fs.mkdirSync(debDir, { recursive: true });
  const out: string[] = [];
  let apt: string[] | null = null;
  for (const alts of spec.packages) {
    let found: string | undefined;
    for (const name of alts) {
      found = findDeb(debDir, name, spec.debVersion);
      if (found) break;
    }
    if (!found) {
      apt ??= aptConfig(buildDir);
      const name = alts[0] as string;
      log(`apt: downloading ${name}=${spec.debVersion}`);
      run('apt-get', [...apt, 'download', `${name}=${spec.debVersion}`], { cwd: debDir });
      found = findDeb(debDir, name, spec.debVersion.replace(/^\d+:/, ''));
      if (!found) fail(`apt-get download ${name} left no ${name}_${spec.debVersion}_amd64.deb in ${debDir}`);
    }
    out.push(found);
  }
  return out;
}

interface KernelFiles {
  vmlinuz: string;
  /** decompressed modules in load order */
  modules: string[];
}

/** Name of a module as the kernel sees it (dashes become underscores). */
export const modName = (file: string): string => path.basename(file).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');

/** The `depends=` entry of a module's .modinfo section. */
export function moduleDepends(ko: Buffer): string[] {
  const key = Buffer.from('\0depends=');
  const at = ko.indexOf(key);
  if (at < 0) return [];
  const end = ko.indexOf(0, at + key.length);
  const v = ko.subarray(at + key.length, end).toString('latin1');
  return v === '' ? [] : v.split(',').map((s) => s.replace(/-/g, '_'));
}

export function decompressModule(file: string, dest: string): void {
  if (file.endsWith('.xz')) sh(`xz -dc ${q(file)} > ${q(dest)}`);
  else if (file.endsWith('.zst')) sh(`zstd -qdc ${q(file)} > ${q(dest)}`);
  else if (file.endsWith('.gz')) sh(`gzip -dc ${q(file)} > ${q(dest)}`);
  else fs.copyFileSync(file, dest);
}

/** Extracts the kernel image and the vfio modules (with dependencies); cached. */
function ensureKernel(spec: KernelSpec, buildDir: string): KernelFiles {
  if (spec.local) {
    if (!fs.existsSync(spec.local.image)) fail(`--kernel-image ${spec.local.image} does not exist`);
    return { vmlinuz: spec.local.image, modules: [] };
  }
  const kdir = path.join(buildDir, spec.model);
  const stamp = path.join(kdir, 'ready.json');
  if (fs.existsSync(stamp)) {
    const k = JSON.parse(fs.readFileSync(stamp, 'utf8')) as KernelFiles;
    if (fs.existsSync(k.vmlinuz) && k.modules.every((m) => fs.existsSync(m))) return k;
  }
  const debs = ensureDebs(spec, buildDir);
  log(`${spec.model}: extracting the kernel and the vfio modules from ${debs.map((d) => path.basename(d)).join(', ')}`);
  fs.rmSync(kdir, { recursive: true, force: true });
  const xdir = path.join(kdir, 'x');
  const mdir = path.join(kdir, 'modules');
  fs.mkdirSync(xdir, { recursive: true });
  fs.mkdirSync(mdir, { recursive: true });

  // Which deb holds which path.
  const where = new Map<string, string>(); // path inside the deb -> deb
  const modulePath = new Map<string, string>(); // module name -> path inside the deb
  for (const deb of debs) {
    for (const line of run('dpkg-deb', ['-c', deb], { maxBuffer: 1 << 30 }).split('\n')) {
      const m = / (\.\/\S+?)(?: -> \S+)?$/.exec(line);
      if (!m) continue;
      const p = m[1] as string;
      where.set(p, deb);
      if (p.startsWith(spec.modulesDir + '/kernel/') && /\.ko(\.(xz|zst|gz))?$/.test(p)) modulePath.set(modName(p), p);
    }
  }
  const extract = (paths: string[]): void => {
    const byDeb = new Map<string, string[]>();
    for (const p of paths) {
      const deb = where.get(p);
      if (!deb) fail(`${p} is in none of ${debs.join(', ')}`);
      byDeb.set(deb, [...(byDeb.get(deb) ?? []), p]);
    }
    for (const [deb, ps] of byDeb) sh(`dpkg-deb --fsys-tarfile ${q(deb)} | tar -x -C ${q(xdir)} ${ps.map(q).join(' ')}`);
  };

  // the unsigned binary package names the image vmlinuz.unsigned
  const image = where.has(spec.vmlinuz) ? spec.vmlinuz : `${spec.vmlinuz}.unsigned`;
  extract([image]);
  const vmlinuz = path.join(kdir, 'vmlinuz');
  fs.renameSync(path.join(xdir, image), vmlinuz);

  // Resolve module dependencies, extracting as we go; load order = post-order.
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') fail(`module dependency cycle at ${name}`);
    state.set(name, 'visiting');
    const p = modulePath.get(name);
    if (!p) fail(`module ${name} is not in the ${spec.model} packages (built in? check the config)`);
    extract([p]);
    const ko = path.join(mdir, `${name}.ko`);
    decompressModule(path.join(xdir, p), ko);
    for (const dep of moduleDepends(fs.readFileSync(ko))) visit(dep);
    state.set(name, 'done');
    order.push(ko);
  };
  for (const m of WANTED_MODULES) visit(m);
  fs.rmSync(xdir, { recursive: true, force: true });
  const k: KernelFiles = { vmlinuz, modules: order };
  fs.writeFileSync(stamp, JSON.stringify(k, null, 2));
  return k;
}

/** Compiles oracle/vfio/probe.c statically into oracle/build/vfio/probe (only when stale). */
function ensureProbe(root: string, buildDir: string): string {
  const src = path.join(root, 'oracle', 'vfio', 'probe.c');
  const bin = path.join(buildDir, 'probe');
  // stale when the probe or the header it shares with the host recorder changed
  const newest = Math.max(fs.statSync(src).mtimeMs, fs.statSync(path.join(root, 'oracle', 'oplist.h')).mtimeMs);
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= newest) return bin;
  log('compiling oracle/vfio/probe.c (static)');
  const tmp = `${bin}.${process.pid}.tmp`;
  run('gcc', ['-static', '-O2', '-Wall', '-o', tmp, src]);
  fs.renameSync(tmp, bin);
  return bin;
}

/** The version string a bzImage carries (boot protocol: kernel_version at 0x20e, 2.00+). */
function bzImageRelease(image: string): string {
  if (!fs.existsSync(image)) fail(`--kernel-image ${image} does not exist`);
  const b = fs.readFileSync(image);
  if (b.length < 0x210 || b.toString('latin1', 0x202, 0x206) !== 'HdrS') fail(`${image} is not a bzImage (no HdrS header)`);
  const at = b.readUInt16LE(0x20e) + 0x200;
  const end = b.indexOf(0, at);
  const v = b.toString('latin1', at, end > at ? end : at);
  return v.split(' ')[0] || fail(`${image}: empty kernel_version string`);
}

// ---- scenarios -------------------------------------------------------------------

/** An op as the probe takes it: like a TraceOp, but `addr` may be `@K^0xALIGN[+-0xOFF]`. */
type ProbeOp = TraceOp;

interface Scenario {
  name: string; // file name without .json
  device: DeviceSpec;
  ops: ProbeOp[];
  /** /sys/kernel/mm/transparent_hugepage/enabled for this scenario (default: the kernel's) */
  thp?: 'always' | 'madvise' | 'never';
}

const RW = 'rw';
const mmapOp = (addr: string, len: bigint, prot: string, flags: MmapFlagName[], fd: string | null, offset: bigint): ProbeOp =>
  ({ op: 'mmap', addr, len: hex(len), prot, flags, fd, offset: hex(offset) });
const touchOp = (addr: string, len: bigint): ProbeOp => ({ op: 'touch', addr, len: hex(len) });
const munmapOp = (addr: string, len: bigint): ProbeOp => ({ op: 'munmap', addr, len: hex(len) });
const reserveOp = (len: bigint): ProbeOp => mmapOp('0x0', len, 'none', ['PRIVATE', 'ANONYMOUS', 'NORESERVE'], null, 0n);
const rel = (k: number, off: bigint): string => (off === 0n ? `@${k}` : `@${k}+${hex(off)}`);

function scenarios(kernel: string): Scenario[] {
  const out: Scenario[] = [];
  for (const d of DEVICES) {
    const S = d.size;
    const A = d.align;
    const pre = `${kernel}-bar2-${d.tag}`;
    const bar = (addr: string, len: bigint = S, flags: MmapFlagName[] = ['SHARED'], off = BAR2) => mmapOp(addr, len, RW, flags, 'v0', off);
    out.push({ name: `${pre}-madvise`, device: d, ops: [bar('0x0'), { op: 'madvise', addr: '@0', len: hex(S), advice: 'HUGEPAGE' }, touchOp('@0', S)] });
    out.push({ name: `${pre}-nohint`, device: d, ops: [bar('0x0'), touchOp('@0', S)] });
    out.push({ name: `${pre}-fixed-congruent`, device: d, ops: [reserveOp(S + A), bar(`@0^${hex(A)}`, S, ['SHARED', 'FIXED']), touchOp('@1', S)] });
    // do huge pfnmap faults follow the THP sysfs policy? (madvise without MADV_HUGEPAGE, never)
    for (const thp of ['madvise', 'never'] as const) {
      out.push({ name: `${pre}-thp-${thp}`, device: d, thp, ops: [reserveOp(S + A), bar(`@0^${hex(A)}`, S, ['SHARED', 'FIXED']), touchOp('@1', S)] });
    }
    const L = S - 2n * MiB < 64n * MiB ? S - 2n * MiB : 64n * MiB;
    out.push({
      name: `${pre}-subrange`, device: d,
      ops: [bar('0x0', 2n * MiB + 0x1000n, ['SHARED'], BAR2 + 0x1000n), bar('0x0', L, ['SHARED'], BAR2 + 2n * MiB), touchOp('@0', 2n * MiB + 0x1000n), touchOp('@1', L)],
    });
    out.push({
      name: `${pre}-hint`, device: d,
      ops: [bar('0x600000000000'), bar('0x500000001000'), touchOp('@0', S), touchOp('@1', S)],
    });
    out.push({ name: `${pre}-fixed-misaligned`, device: d, ops: [reserveOp(S + A), bar(`@0^${hex(A)}+0x1000`, S, ['SHARED', 'FIXED']), touchOp('@1', S)] });
    out.push({
      name: `${pre}-bad`, device: d,
      ops: [
        bar('0x0', S, ['PRIVATE']), // vfio needs MAP_SHARED (a big private writable mapping fails the commit charge first)
        bar('0x0', 2n * MiB, ['PRIVATE']), // EINVAL: vfio needs MAP_SHARED
        bar('0x0', 0x1000n, ['SHARED'], BAR2 + S), // offset beyond the BAR
        bar('0x0', S + 0x1000n), // length beyond the BAR
        bar('0x0', 0x1000n, ['SHARED'], 7n << REGION_SHIFT), // config space
        bar('0x0', 0x1000n, ['SHARED'], 0n), // BAR0: 256 bytes of registers
        bar('0x0', 0x1000n, ['SHARED'], BAR2 + 0x800n), // unaligned offset
        touchOp('@5', 0x1000n), // the sub-page BAR0 mapping, if it succeeded
      ],
    });
    const M = 64n * MiB; // PMD leaves only: no 1 GiB leaf fits
    out.push({
      name: `${pre}-munmap-middle`, device: d,
      ops: [
        reserveOp(M + 2n * MiB), bar('@0^0x200000', M, ['SHARED', 'FIXED']), touchOp('@1', M),
        munmapOp(rel(1, 32n * MiB), 2n * MiB), // a whole 2 MiB leaf in the middle
        touchOp('@1', 32n * MiB), touchOp(rel(1, 34n * MiB), M - 34n * MiB), touchOp(rel(1, 32n * MiB), 0x1000n),
        munmapOp(rel(1, 16n * MiB + 0x1000n), 0x1000n), // one page inside a 2 MiB leaf
        touchOp(rel(1, 16n * MiB), 0x1000n), touchOp(rel(1, 16n * MiB + 0x2000n), 2n * MiB - 0x2000n),
      ],
    });
  }
  return out;
}

/** One boot each: split a touched 1 GiB leaf at a 4 KiB page (known to be dangerous). */
function hazardScenarios(kernel: string): Scenario[] {
  const d = DEVICES[0] as DeviceSpec;
  const S = d.size;
  const setup = (): ProbeOp[] => [reserveOp(S + GiB), mmapOp(`@0^${hex(GiB)}`, S, RW, ['SHARED', 'FIXED'], 'v0', BAR2), touchOp('@1', S)];
  const page = 512n * MiB + 0x1000n;
  return [
    {
      name: `${kernel}-hazard-munmap4k`, device: d,
      ops: [...setup(), munmapOp(rel(1, page), 0x1000n), touchOp('@1', 512n * MiB), touchOp(rel(1, page + 0x1000n), 0x1000n)],
    },
    {
      name: `${kernel}-hazard-mprotect4k`, device: d,
      ops: [...setup(), { op: 'mprotect', addr: rel(1, page), len: '0x1000', prot: 'r' }, touchOp('@1', GiB)],
    },
  ];
}

/**
 * --maps: BARs mapped and left mapped, so the final /proc/self/maps shows them as a program
 * that uses the device would have them: BAR2 with no hint (and BAR0 for the 2 GiB device,
 * BAR2 only for the 64 MiB one, so BAR0 is the BAR not mapped yet), and BAR2 at the
 * congruent MAP_FIXED address inside a PROT_NONE reservation, touched.
 */
function mapsScenarios(kernel: string): Scenario[] {
  const [big, small] = DEVICES as [DeviceSpec, DeviceSpec];
  const bar = (_d: DeviceSpec, addr: string, len: bigint, flags: MmapFlagName[], off: bigint) => mmapOp(addr, len, RW, flags, 'v0', off);
  return [
    { name: `${kernel}-maps-2g-nohint`, device: big, ops: [bar(big, '0x0', big.size, ['SHARED'], BAR2), bar(big, '0x0', 0x1000n, ['SHARED'], 0n), touchOp('@0', 4n * MiB)] },
    { name: `${kernel}-maps-2g-fixed`, device: big, ops: [reserveOp(big.size + GiB), bar(big, `@0^${hex(GiB)}`, big.size, ['SHARED', 'FIXED'], BAR2), touchOp('@1', big.size)] },
    { name: `${kernel}-maps-64m-nohint`, device: small, ops: [bar(small, '0x0', small.size, ['SHARED'], BAR2)] },
  ];
}

/** Seed of random scenario n of a campaign seeded with `seed`. */
const randomSeed = (seed: number, n: number): number => seed * 1000 + n;

/** --random: n scenarios of k generated ops; even seeds map the 2 GiB BAR, odd ones the 64 MiB BAR. */
function randomScenarios(kernel: string, count: number, seed: number, k: number, avoidKnown: boolean): Scenario[] {
  const out: Scenario[] = [];
  for (let n = 0; n < count; n++) {
    const s = randomSeed(seed, n);
    const d = DEVICES[s % 2] as DeviceSpec;
    const g = generateVfioOps(s, k, d, { avoidKnown });
    out.push({ name: `${kernel}-random-${avoidKnown ? 'ak-' : ''}${seed}-${n}`, device: d, ops: g.ops, ...(g.thp ? { thp: g.thp } : {}) });
  }
  return out;
}

const REL_RE = /^@(\d+)(\^0x[0-9a-f]+)?(?:([+-])(0x[0-9a-f]+))?$/;

export function encodeProbeOps(s: Pick<Scenario, 'name' | 'ops'> & { device: Pick<DeviceSpec, 'bdf'> }): string {
  const lines = [`file v0 vfio-pci ${s.device.bdf}`];
  s.ops.forEach((op, i) => {
    const m = REL_RE.exec(op.addr);
    if (m ? Number(m[1]) >= i : !/^0x[0-9a-f]+$/.test(op.addr)) fail(`scenario ${s.name} op ${i}: bad address ${op.addr}`);
    switch (op.op) {
      case 'mmap': {
        lines.push(`op mmap ${op.addr} ${op.len} ${protToNumber(op.prot)} ${flagsToNumber(op.flags)} ${op.fd === null ? -1 : 0} ${op.offset}`);
        break;
      }
      case 'munmap': lines.push(`op munmap ${op.addr} ${op.len}`); break;
      case 'mprotect': lines.push(`op mprotect ${op.addr} ${op.len} ${protToNumber(op.prot)}`); break;
      case 'madvise': lines.push(`op madvise ${op.addr} ${op.len} ${op.advice}`); break;
      case 'touch': lines.push(`op touch ${op.addr} ${op.len}`); break;
    }
  });
  return lines.join('\n') + '\n';
}

// ---- initramfs and QEMU ------------------------------------------------------------

function buildInitramfs(opts: {
  root: string; workDir: string; busybox: string; probe: string; kernel: KernelFiles; scenarios: Scenario[]; verbose: boolean;
}): string {
  const stage = path.join(opts.workDir, 'initramfs');
  fs.rmSync(stage, { recursive: true, force: true });
  for (const d of ['bin', 'pfnmap/modules', 'pfnmap/scen', 'dev', 'proc', 'sys', 'tmp']) fs.mkdirSync(path.join(stage, d), { recursive: true });
  fs.copyFileSync(opts.busybox, path.join(stage, 'bin', 'busybox'));
  fs.chmodSync(path.join(stage, 'bin', 'busybox'), 0o755);
  fs.copyFileSync(path.join(opts.root, 'oracle', 'vfio', 'init.sh'), path.join(stage, 'init'));
  fs.chmodSync(path.join(stage, 'init'), 0o755);
  fs.copyFileSync(opts.probe, path.join(stage, 'pfnmap', 'probe'));
  fs.chmodSync(path.join(stage, 'pfnmap', 'probe'), 0o755);
  const order: string[] = [];
  for (const m of opts.kernel.modules) {
    fs.copyFileSync(m, path.join(stage, 'pfnmap', 'modules', path.basename(m)));
    order.push(path.basename(m));
  }
  fs.writeFileSync(path.join(stage, 'pfnmap', 'modules.order'), order.join('\n') + '\n');
  fs.writeFileSync(path.join(stage, 'pfnmap', 'devices'), DEVICES.map((d) => d.bdf).join('\n') + '\n');
  fs.writeFileSync(path.join(stage, 'pfnmap', 'scenarios'), opts.scenarios.map((s) => s.name).join('\n') + '\n');
  fs.writeFileSync(path.join(stage, 'pfnmap', 'mode'), opts.verbose ? 'verbose\n' : 'record\n');
  for (const s of opts.scenarios) {
    fs.writeFileSync(path.join(stage, 'pfnmap', 'scen', `${s.name}.ops`), encodeProbeOps(s));
    if (s.thp) fs.writeFileSync(path.join(stage, 'pfnmap', 'scen', `${s.name}.thp`), s.thp + '\n');
  }
  const img = path.join(opts.workDir, 'initramfs.cpio');
  sh(`find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 > ${q(img)}`, stage);
  return img;
}

interface BootResult {
  killedAfterOops: boolean;
  data: string;
  console: string;
  exitCode: number | null;
  timedOut: boolean;
  seconds: number;
}

function qemuVersion(): string {
  const r = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(r.stdout ?? '')?.[1] ?? 'unknown';
}

async function boot(opts: {
  label: string; workDir: string; kernel: KernelFiles; initramfs: string; accel: string; timeoutS: number; verbose: boolean;
}): Promise<BootResult> {
  const consoleLog = path.join(opts.workDir, 'console.log');
  const dataLog = path.join(opts.workDir, 'data.log');
  for (const f of [consoleLog, dataLog]) fs.rmSync(f, { force: true });
  const shm = DEVICES.map((_, i) => `/dev/shm/pfnmap-ivshmem-${process.pid}-${path.basename(opts.workDir)}-${i}`);
  const args = [
    '-accel', opts.accel, '-machine', 'q35,kernel-irqchip=split', '-cpu', 'max,la57=off', '-m', '1G', '-smp', '1',
    '-nodefaults', '-display', 'none', '-monitor', 'none', '-no-reboot',
    '-device', 'intel-iommu,intremap=on',
  ];
  DEVICES.forEach((d, i) => {
    args.push('-object', `memory-backend-file,id=hmem${i},share=on,mem-path=${shm[i]},size=${d.size}`);
    args.push('-device', `ivshmem-plain,memdev=hmem${i},addr=${hex(BigInt(d.slot))}`);
  });
  const cmdline = ['console=ttyS0,115200', 'norandmaps', 'intel_iommu=on', 'panic=-1', opts.verbose ? 'loglevel=8' : 'loglevel=5'];
  args.push('-kernel', opts.kernel.vmlinuz, '-initrd', opts.initramfs, '-append', cmdline.join(' '));
  args.push('-chardev', `file,id=con,path=${consoleLog}`, '-serial', 'chardev:con');
  args.push('-chardev', `file,id=data,path=${dataLog}`, '-serial', 'chardev:data');
  fs.writeFileSync(path.join(opts.workDir, 'qemu-args.txt'), ['qemu-system-x86_64', ...args].map(q).join(' ') + '\n');

  const t0 = Date.now();
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => { stderr += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  let timedOut = false;
  let seen = 0;
  const readData = (): string => { try { return fs.readFileSync(dataLog, 'latin1').replace(/\r/g, ''); } catch { return ''; } };
  const showProgress = (): void => {
    const lines = readData().split('\n').filter((l) => l.startsWith('@@PFNMAP-'));
    for (; seen < lines.length; seen++) {
      const l = lines[seen] as string;
      if (/^@@PFNMAP-(BOOT|END|ERROR|DONE|DEVICE|IRQREMAP)/.test(l)) log(`${opts.label}: ${l.slice(2)}`);
    }
  };
  const progress = setInterval(showProgress, 1000);
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutS * 1000);
  // Hazard boots: once the console shows an oops, give the guest 20 s more, then stop it
  // (the crashed task usually holds locks, and init waits for it forever).
  let oopsAt = 0;
  let killedAfterOops = false;
  const oopsWatch = opts.verbose ? setInterval(() => {
    let c = '';
    try { c = fs.readFileSync(consoleLog, 'latin1'); } catch { /* not yet */ }
    if (!oopsAt && /(BUG:|Oops|Kernel panic)/.test(c)) oopsAt = Date.now();
    if (oopsAt && Date.now() - oopsAt > 20000 && !readData().includes('@@PFNMAP-DONE')) {
      killedAfterOops = true;
      child.kill('SIGKILL');
    }
  }, 1000) : null;
  const exitCode = await new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', (e) => { stderr += String(e); resolve(-1); });
  });
  clearTimeout(timer);
  if (oopsWatch) clearInterval(oopsWatch);
  clearInterval(progress);
  showProgress();
  for (const f of shm) fs.rmSync(f, { force: true });
  let consoleText = '';
  try { consoleText = fs.readFileSync(consoleLog, 'latin1').replace(/\r/g, ''); } catch { /* none */ }
  if (stderr.trim()) fs.writeFileSync(path.join(opts.workDir, 'qemu-stderr.txt'), stderr);
  const res = { killedAfterOops, data: readData(), console: consoleText, exitCode, timedOut, seconds: (Date.now() - t0) / 1000 };
  if (!res.data.includes('@@PFNMAP-BOOT') && !opts.verbose) {
    fail(`${opts.label}: the guest did not come up (QEMU exit ${exitCode}${timedOut ? ', timed out' : ''}).\n` +
      `QEMU stderr: ${stderr.trim().slice(-2000) || '(none)'}\nlast console lines:\n${consoleText.split('\n').slice(-30).join('\n')}\n` +
      `(logs in ${opts.workDir})`);
  }
  return res;
}

// ---- parsing the probe output --------------------------------------------------------

interface ProbeRegion { index: number; size: bigint; flags: number; offset: bigint }
export interface ProbeOutput {
  mapsPath: string;
  group: number;
  regions: ProbeRegion[];
  phys: { start: bigint; end: bigint; flags: bigint }[];
  initial: string[];
  final: string[];
  addr: bigint[];
  results: ({ kind: 'ret'; value: bigint; faults?: number; majfaults?: number } | { kind: 'errno'; name: string } | { kind: 'signal'; name: string; at: bigint } | { kind: 'skipped' })[];
  ns: number[];
  env: Record<string, string>;
  stderr: string[];
}

export function splitScenarios(data: string): Map<string, { lines: string[]; rc: number | null }> {
  const out = new Map<string, { lines: string[]; rc: number | null }>();
  let cur: { lines: string[]; rc: number | null } | null = null;
  for (const line of data.split('\n')) {
    const b = /^@@PFNMAP-BEGIN (\S+)$/.exec(line);
    if (b) { cur = { lines: [], rc: null }; out.set(b[1] as string, cur); continue; }
    const e = /^@@PFNMAP-END (\S+) rc=(\d+)$/.exec(line);
    if (e) { if (cur) cur.rc = Number(e[2]); cur = null; continue; }
    if (cur) cur.lines.push(line);
  }
  return out;
}

export function parseProbe(lines: string[], nOps: number, what: string): ProbeOutput {
  const p: ProbeOutput = { mapsPath: '', group: -1, regions: [], phys: [], initial: [], final: [], addr: [], results: new Array(nOps), ns: [], env: {}, stderr: [] };
  let section: 'initial' | 'final' | null = null;
  for (const line of lines) {
    if (section) {
      if (line === 'end') section = null;
      else p[section].push(line);
      continue;
    }
    if (line === '') continue;
    if (line === 'initial-maps') { section = 'initial'; continue; }
    if (line === 'final-maps') { section = 'final'; continue; }
    const t = line.split(' ');
    switch (t[0]) {
      case 'file': p.mapsPath = t.slice(2).join(' '); break;
      case 'group': p.group = Number(t[1]); break;
      case 'region':
        if (t[2] === 'size') p.regions.push({ index: Number(t[1]), size: BigInt(t[3] as string), flags: Number(t[5]), offset: BigInt(t[7] as string) });
        break;
      case 'phys': p.phys[Number(t[1])] = { start: BigInt(t[2] as string), end: BigInt(t[3] as string), flags: BigInt(t[4] as string) }; break;
      case 'addr': p.addr[Number(t[1])] = BigInt(t[2] as string); break;
      case 'result': {
        const i = Number(t[1]);
        if (!(i >= 0 && i < nOps)) fail(`${what}: result for unknown op: ${line}`);
        if (t[2] === 'ret') {
          p.results[i] = t[4] === 'faults'
            ? { kind: 'ret', value: BigInt(t[3] as string), faults: Number(t[5]), majfaults: Number(t[7]) }
            : { kind: 'ret', value: BigInt(t[3] as string) };
        } else if (t[2] === 'errno') p.results[i] = { kind: 'errno', name: t[3] as string };
        else if (t[2] === 'signal') p.results[i] = { kind: 'signal', name: t[3] as string, at: BigInt(t[5] ?? '0') };
        else if (t[2] === 'skipped') p.results[i] = { kind: 'skipped' };
        else fail(`${what}: bad result line: ${line}`);
        break;
      }
      case 'ns': p.ns[Number(t[1])] = Number(t[2]); break;
      case 'env': for (let k = 1; k + 1 < t.length; k += 2) p.env[t[k] as string] = t[k + 1] as string; break;
      case 'stderr': p.stderr.push(t.slice(1).join(' ')); break;
      default: fail(`${what}: unexpected probe output line: ${line}`);
    }
  }
  return p;
}

export function checkComplete(p: ProbeOutput, nOps: number, what: string): void {
  if (p.initial.length === 0 || p.final.length === 0) fail(`${what}: the probe printed no maps${p.stderr.length ? ` (stderr: ${p.stderr.join(' | ')})` : ''}`);
  for (let i = 0; i < nOps; i++) {
    if (!p.results[i]) fail(`${what}: no result for op ${i}`);
    if (p.ns[i] === undefined) fail(`${what}: no ns for op ${i}`);
    if (p.addr[i] === undefined) fail(`${what}: no addr for op ${i}`);
  }
  if (!('mmap_min_addr' in p.env)) fail(`${what}: the probe printed no env line`);
}

// ---- building the trace ---------------------------------------------------------------

const IORESOURCE_IO = 0x100n;
const IORESOURCE_PREFETCH = 0x2000n;
const IORESOURCE_MEM_64 = 0x100000n;
const VFIO_REGION_INFO_FLAG_MMAP = 4;

function sizeLabel(n: bigint): string {
  if (n >= GiB && n % GiB === 0n) return `${n / GiB}G`;
  if (n >= MiB && n % MiB === 0n) return `${n / MiB}M`;
  return `${n / 1024n}K`;
}

export function deviceObject(p: ProbeOutput, d: Pick<DeviceSpec, 'size' | 'bdf'>, source: string): Record<string, unknown> {
  const regions: Record<string, unknown>[] = [];
  for (const r of [...p.regions].sort((a, b) => a.index - b.index)) {
    const mmap = (r.flags & VFIO_REGION_INFO_FLAG_MMAP) !== 0;
    if (r.index <= 5) {
      const ph = p.phys[r.index];
      if (r.size === 0n || !ph) { regions.push({ index: r.index, kind: 'bar', size: '0x0' }); continue; }
      const io = (ph.flags & IORESOURCE_IO) !== 0n;
      regions.push({
        index: r.index, kind: 'bar', ...(io ? {} : { start: hex(ph.start) }), size: hex(r.size),
        ...(io ? { io: true } : {}), mem64: (ph.flags & IORESOURCE_MEM_64) !== 0n, prefetchable: (ph.flags & IORESOURCE_PREFETCH) !== 0n, mmap,
      });
    } else if (r.index === 6) {
      const ph = p.phys[6];
      regions.push({ index: 6, kind: 'rom', ...(r.size > 0n && ph ? { start: hex(ph.start) } : {}), size: hex(r.size), mmap });
    } else if (r.index === 7) {
      regions.push({ index: 7, kind: 'config', size: hex(r.size), mmap });
    } else if (r.index === 8) {
      regions.push({ index: 8, kind: 'vga', size: hex(r.size), mmap });
    }
  }
  const dev = {
    format: 'pfnmap-device/1', name: `QEMU ivshmem-plain ${sizeLabel(d.size)}`, bdf: d.bdf, vendor: IVSHMEM_VENDOR, device: IVSHMEM_DEVICE,
    source, regions,
  };
  parseDevice(dev, 'recorded device'); // throws if the recording is not a valid pfnmap-device/1
  return dev;
}

/**
 * The ops a probe ran, as a trace holds them: skipped ops dropped (renumbering @K), `^` specs
 * resolved to the absolute addresses the probe used, with each result and its time.
 */
export function recordedOps(specOps: readonly { addr: string }[], p: ProbeOutput): { ops: TraceOp[]; results: TraceResult[]; ns: number[] } {
  const newIndex: number[] = [];
  const ops: TraceOp[] = [];
  const results: TraceResult[] = [];
  const ns: number[] = [];
  specOps.forEach((op, i) => {
    const r = p.results[i];
    if (!r || r.kind === 'skipped') { newIndex[i] = -1; return; }
    let addr = op.addr;
    const m = REL_RE.exec(addr);
    if (m) {
      const k = Number(m[1]);
      if (m[2] || (newIndex[k] as number) < 0) addr = hex(p.addr[i] as bigint);
      else addr = `@${newIndex[k]}${m[3] ? `${m[3]}${m[4]}` : ''}`;
    }
    newIndex[i] = ops.length;
    ops.push({ ...op, addr } as TraceOp);
    if (r.kind === 'ret') results.push(r.faults !== undefined ? { ret: hex(r.value), faults: r.faults } : { ret: hex(r.value) });
    else if (r.kind === 'errno') results.push({ errno: r.name });
    else results.push({ signal: r.name as 'SIGSEGV' | 'SIGBUS' });
    ns.push(p.ns[i] as number);
  });
  return { ops, results, ns };
}

function toTrace(s: Scenario, p: ProbeOutput, spec: KernelSpec, source: string): Trace {
  const ours = new Map<string, string>([[p.mapsPath.replace(/ \(deleted\)$/, ''), 'v0']]);
  const bar2 = p.regions.find((r) => r.index === 2);
  if (!bar2) fail(`${s.name}: the probe reported no region 2`);
  if (bar2.size !== s.device.size) fail(`${s.name}: BAR2 of ${s.device.bdf} is ${hex(bar2.size)}, expected ${hex(s.device.size)}`);
  const env: TraceEnv = {
    ...envFromRecorder(p.env as Record<string, string>, hex(BigInt(p.env['rlimit_stack'] as string)), true),
    thpEnabled: p.env['thp_enabled'] as string,
  };
  const { ops, results, ns } = recordedOps(s.ops, p);
  return {
    format: 'pfnmap-trace/1',
    name: s.name,
    kernel: p.env['uname'] as string,
    arch: 'x86_64',
    model: { kernel: spec.model },
    env,
    files: [{ id: 'v0', kind: 'vfio-pci', size: hex(s.device.size), device: deviceObject(p, s.device, source) }],
    initial: p.initial.map((l) => mapsLineToVma(l, ours)),
    ops,
    results,
    final: p.final.map((l) => mapsLineToVma(l, ours)),
    ns,
  };
}

/** Compact JSON: one VMA / op / result per line. */
export function formatTrace(t: Trace): string {
  const lines: string[] = ['{'];
  const entries = Object.entries(t);
  entries.forEach(([k, v], i) => {
    const comma = i < entries.length - 1 ? ',' : '';
    if (Array.isArray(v) && ['initial', 'ops', 'results', 'final', 'files'].includes(k)) {
      lines.push(`  ${JSON.stringify(k)}: [`);
      v.forEach((e, j) => lines.push(`    ${JSON.stringify(e)}${j < v.length - 1 ? ',' : ''}`));
      lines.push(`  ]${comma}`);
    } else {
      lines.push(`  ${JSON.stringify(k)}: ${JSON.stringify(v)}${comma}`);
    }
  });
  lines.push('}');
  return lines.join('\n') + '\n';
}

export function describeResult(op: TraceOp, r: TraceResult): string {
  const rr = r as Record<string, unknown>;
  if ('errno' in rr) return `${op.op} ${rr['errno']}`;
  if ('signal' in rr) return `${op.op} ${rr['signal']}`;
  if (op.op === 'touch') return `touch faults=${rr['faults']}`;
  if (op.op === 'mmap') return `mmap ${rr['ret']}`;
  return `${op.op} ok`;
}

// ---- main ---------------------------------------------------------------------------

interface Args {
  kernels: string[]; out: string; hazards: boolean; accel: string; timeoutS: number; jobs: number; only: string | null;
  random: number | null; seed: number; ops: number; avoidKnown: boolean; maps: string | null;
  kernelImage: string | null; kernelName: string | null; kernelLabel: string | null; kernelNote: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { kernels: ['linux-6.12', 'linux-7.2'], out: 'fixtures/vfio-traces', hazards: false, accel: 'tcg', timeoutS: 1200, jobs: Math.max(1, Math.min(2, os.cpus().length)), only: null, random: null, seed: 1, ops: 40, avoidKnown: false, maps: null, kernelImage: null, kernelName: null, kernelLabel: null, kernelNote: null };
  const posInt = (v: string, name: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0 || (name !== '--seed' && n < 1)) fail(`${name} must be a ${name === '--seed' ? 'non-negative' : 'positive'} integer, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i] as string;
    const next = (): string => { const n = argv[++i]; if (n === undefined) fail(`${v} needs a value`); return n; };
    if (v === '--kernels') a.kernels = next().split(',').filter(Boolean);
    else if (v === '--out') a.out = next();
    else if (v === '--hazards') a.hazards = true;
    else if (v === '--accel') a.accel = next();
    else if (v === '--timeout') a.timeoutS = Number(next());
    else if (v === '--jobs') a.jobs = Math.max(1, Number(next()));
    else if (v === '--only') a.only = next();
    else if (v === '--random') a.random = posInt(next(), '--random');
    else if (v === '--seed') a.seed = posInt(next(), '--seed');
    else if (v === '--ops') a.ops = posInt(next(), '--ops');
    else if (v === '--avoid-known') a.avoidKnown = true;
    else if (v === '--kernel-image') a.kernelImage = path.resolve(next());
    else if (v === '--kernel-name') a.kernelName = next();
    else if (v === '--kernel-label') a.kernelLabel = next();
    else if (v === '--kernel-note') a.kernelNote = next();
    else if (v === '--maps') a.maps = argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--') ? next() : 'fixtures/maps';
    else if (v === '-h' || v === '--help') {
      process.stdout.write('usage: vfio-qemu [--kernels linux-6.12,linux-7.2] [--out DIR] [--hazards] [--accel tcg|kvm] [--timeout S] [--jobs N] [--only SUBSTRING]\n' +
        '       vfio-qemu --maps [DIR] [--kernels …] [--accel …]   (raw /proc/self/maps with BARs mapped, for pfnmap inspect)\n' +
        '       vfio-qemu --random N [--seed S] [--ops K] [--avoid-known] [--kernels …] [--accel …] [--timeout S] [--jobs N]\n' +
        '       vfio-qemu --kernel-image BZIMAGE --kernel-name VARIANT [--kernel-label PREFIX] [--kernel-note TEXT] [any of the modes above]\n');
      process.exit(0);
    } else fail(`unknown argument ${v}`);
  }
  if (a.kernelImage !== null || a.kernelName !== null) {
    if (a.kernelImage === null || a.kernelName === null) fail('--kernel-image and --kernel-name go together');
    const label = a.kernelLabel ?? a.kernelName;
    if (!/^[A-Za-z0-9.+_-]+$/.test(label)) fail(`--kernel-label ${label}: only letters, digits and . + _ - (it prefixes file names)`);
    if (Object.hasOwn(KERNELS, label)) fail(`--kernel-label ${label} is a Debian kernel's name; choose another`);
    const v = parseVariant(a.kernelName);
    if ('error' in v) fail(`--kernel-name ${a.kernelName}: ${v.error}`);
    const release = bzImageRelease(a.kernelImage);
    KERNELS[label] = {
      model: a.kernelName, release, debVersion: '', packages: [], vmlinuz: a.kernelImage, modulesDir: '',
      local: { image: a.kernelImage, note: a.kernelNote ?? `locally built kernel image ${path.basename(a.kernelImage)}` },
    };
    a.kernels = [label];
  }
  for (const k of a.kernels) if (!Object.hasOwn(KERNELS, k)) fail(`unknown kernel ${k} (known: ${Object.keys(KERNELS).join(', ')})`);
  return a;
}

interface Job { key: string; spec: KernelSpec; scenarios: Scenario[]; label: string; verbose: boolean; random?: boolean; maps?: boolean }

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = repoRoot();
  const buildDir = path.join(root, 'oracle', 'build', 'vfio');
  fs.mkdirSync(buildDir, { recursive: true });
  const { busybox } = checkTools();
  if (process.getuid?.() !== 0) log('warning: not root — apt-get download and QEMU should still work, but /dev/shm must be writable');
  const probe = ensureProbe(root, buildDir);
  const qver = qemuVersion();

  const jobs: Job[] = [];
  for (const k of args.kernels) {
    const spec = KERNELS[k] as KernelSpec;
    if (args.maps !== null) {
      jobs.push({ key: k, spec, scenarios: mapsScenarios(k), label: `${k}-maps`, verbose: false, maps: true });
    } else if (args.random !== null) {
      jobs.push({ key: k, spec, scenarios: randomScenarios(k, args.random, args.seed, args.ops, args.avoidKnown), label: `${k}-random`, verbose: false, random: true });
    } else if (args.hazards) {
      for (const s of hazardScenarios(k)) jobs.push({ key: k, spec, scenarios: [s], label: s.name, verbose: true });
    } else {
      const sc = scenarios(k).filter((s) => !args.only || s.name.includes(args.only));
      jobs.push({ key: k, spec, scenarios: sc, label: k, verbose: false });
    }
  }
  // Kernels are prepared sequentially (apt, dpkg-deb), boots run args.jobs at a time.
  const kfiles = new Map<string, KernelFiles>();
  for (const k of args.kernels) kfiles.set(k, ensureKernel(KERNELS[k] as KernelSpec, buildDir));
  const guest = (spec: KernelSpec): string => `guest ${spec.release}${spec.local ? ` (${spec.local.note})` : ''}`;

  const outDir = path.resolve(root, args.out);
  if (!args.hazards && args.random === null && args.maps === null) fs.mkdirSync(outDir, { recursive: true });
  const randomDir = path.join(buildDir, 'random');
  const failDir = path.join(root, 'oracle', 'failures');
  const randomSummary: string[] = [];
  let failures = 0;
  const summary: string[] = [];

  const runJob = async (job: Job): Promise<void> => {
    const workDir = path.join(buildDir, 'runs', job.label);
    fs.rmSync(workDir, { recursive: true, force: true });
    fs.mkdirSync(workDir, { recursive: true });
    const kernel = kfiles.get(job.key) as KernelFiles;
    const initramfs = buildInitramfs({ root, workDir, busybox, probe, kernel, scenarios: job.scenarios, verbose: job.verbose });
    log(`${job.label}: booting ${job.spec.release} under QEMU ${qver} (${args.accel}), ${job.scenarios.length} scenario(s)`);
    const res = await boot({ label: job.label, workDir, kernel, initramfs, accel: args.accel, timeoutS: args.timeoutS, verbose: job.verbose });
    log(`${job.label}: QEMU exited (${res.timedOut ? 'timed out' : `code ${res.exitCode}`}) after ${res.seconds.toFixed(1)}s`);
    const splats = res.console.split('\n').filter((l) => /(BUG:|Oops|WARNING:|general protection|Kernel panic|Call Trace)/.test(l));
    for (const l of res.data.split('\n').filter((x) => x.startsWith('@@PFNMAP-ERROR'))) log(`${job.label}: guest error: ${l.slice(15)}`);
    const byName = splitScenarios(res.data);

    if (job.verbose) {
      // Hazard boot: report, write nothing to fixtures.
      const s = job.scenarios[0] as Scenario;
      const got = byName.get(s.name);
      const how = res.killedAfterOops ? 'stopped 20 s after the oops' : res.timedOut ? 'timed out' : `exit ${res.exitCode}`;
      const report: string[] = [`== ${s.name}: QEMU ${how}, probe ${got?.rc === null || !got ? 'did not finish' : `rc=${got.rc}`}`];
      report.push(...s.ops.map((op, i) => `   op ${i}: ${JSON.stringify(op)}`));
      if (got) {
        const lines = got.lines.filter((l) => /^(result|eager|stderr)/.test(l)).map((l) => {
          const m = /^eager (0x[0-9a-f]+) (\S+) (0x[0-9a-f]+) (0x[0-9a-f]+)$/.exec(l);
          if (!m) return l;
          const i = Number(m[1]);
          const op = s.ops[i] as TraceOp;
          return `op ${i} ${op.op}: ${m[2]} ${m[2] === 'errno' || m[2] === 'signal' ? Number(m[3]) : m[3]}${op.op === 'touch' && m[2] === 'ret' ? ` faults=${Number(m[4])}` : ''}`;
        });
        report.push(...lines.map((l) => `   probe: ${l}`));
      }
      const first = res.console.split('\n').findIndex((l) => /(BUG:|Oops|WARNING:|general protection|Kernel panic|kernel BUG)/.test(l));
      if (first < 0) report.push('   console: no oops, BUG or WARNING');
      else report.push('   console (first lines of the splat):', ...res.console.split('\n').slice(Math.max(0, first - 1), first + 40).map((l) => `   | ${l}`));
      const file = path.join(buildDir, 'runs', `${s.name}.report.txt`);
      fs.writeFileSync(file, report.join('\n') + '\n');
      summary.push(...report, `   (console log: ${path.join(workDir, 'console.log')})`);
      return;
    }

    if (splats.length) {
      log(`${job.label}: WARNING: the kernel console shows:\n  ${splats.slice(0, 10).join('\n  ')}`);
    }
    if (job.random) {
      runRandom(job, byName, workDir, `recorded under QEMU ${qver} (${args.accel.toUpperCase()}, q35, intel-iommu intremap=on, ivshmem-plain) by pfnmap's vfio oracle (src/oracle/vfio-qemu.ts --random), ${guest(job.spec)}`);
      return;
    }
    if (job.maps) {
      const mapsDir = path.resolve(root, args.maps as string);
      fs.mkdirSync(mapsDir, { recursive: true });
      const source = `recorded under QEMU ${qver} (${args.accel.toUpperCase()}, q35, intel-iommu intremap=on, ivshmem-plain) by pfnmap's vfio oracle (src/oracle/vfio-qemu.ts --maps), ${guest(job.spec)}`;
      for (const s of job.scenarios) {
        const got = byName.get(s.name);
        try {
          if (!got) fail(`${s.name}: no output (the guest did not run it; see ${path.join(workDir, 'console.log')})`);
          const p = parseProbe(got.lines, s.ops.length, s.name);
          if (got.rc !== 0) fail(`${s.name}: the probe exited with ${got.rc}: ${p.stderr.join(' | ')}`);
          checkComplete(p, s.ops.length, s.name);
          const name = s.name.replace('-maps-', '-');
          fs.writeFileSync(path.join(mapsDir, `${name}.maps`), p.final.join('\n') + '\n');
          fs.writeFileSync(path.join(mapsDir, `${name}.device.json`), JSON.stringify(deviceObject(p, s.device, source), null, 1) + '\n');
          summary.push(`${name}: device fd ${p.mapsPath}; ${s.ops.map((op, i) => { const r = p.results[i]!; return `${op.op} ${r.kind === 'ret' ? hex(r.value) + (r.faults !== undefined ? ` faults=${r.faults}` : '') : r.kind === 'errno' ? r.name : r.kind}`; }).join('; ')}`);
        } catch (e) {
          if (!(e instanceof OracleError)) throw e;
          failures++;
          log(`FAILED ${e.message}`);
        }
      }
      return;
    }
    const source = `recorded under QEMU ${qver} (${args.accel.toUpperCase()}, q35, intel-iommu intremap=on, ivshmem-plain) by pfnmap's vfio oracle (src/oracle/vfio-qemu.ts), ${guest(job.spec)}`;
    for (const s of job.scenarios) {
      const got = byName.get(s.name);
      try {
        if (!got) fail(`${s.name}: no output (the guest did not run it; see ${path.join(workDir, 'console.log')})`);
        const p = parseProbe(got.lines, s.ops.length, s.name);
        if (got.rc !== 0) fail(`${s.name}: the probe exited with ${got.rc}: ${p.stderr.join(' | ')}`);
        checkComplete(p, s.ops.length, s.name);
        for (const r of p.results) if (r.kind === 'ret' && r.majfaults) log(`${s.name}: note: ${r.majfaults} major faults during a touch (not counted in faults)`);
        const trace = toTrace(s, p, job.spec, source);
        fs.writeFileSync(path.join(outDir, `${s.name}.json`), formatTrace(trace));
        summary.push(`${s.name}: ${trace.ops.map((op, i) => describeResult(op, trace.results[i] as TraceResult)).join('; ')}`);
      } catch (e) {
        if (!(e instanceof OracleError)) throw e;
        failures++;
        log(`FAILED ${e.message}`);
      }
    }
  };

  /** Random mode: every scenario becomes a trace, replayed in the model right away. */
  const runRandom = (job: Job, byName: Map<string, { lines: string[]; rc: number | null }>, workDir: string, source: string): void => {
    fs.mkdirSync(randomDir, { recursive: true });
    let same = 0;
    let differ = 0;
    let missing = 0;
    for (const s of job.scenarios) {
      const got = byName.get(s.name);
      let trace: Trace;
      try {
        if (!got) fail(`${s.name}: no output (the guest did not run it; see ${path.join(workDir, 'console.log')})`);
        const p = parseProbe(got.lines, s.ops.length, s.name);
        if (got.rc !== 0) fail(`${s.name}: the probe exited with ${got.rc}: ${p.stderr.join(' | ')}`);
        checkComplete(p, s.ops.length, s.name);
        trace = toTrace(s, p, job.spec, source);
      } catch (e) {
        if (!(e instanceof OracleError)) throw e;
        missing++;
        log(`FAILED ${e.message}`);
        continue;
      }
      const text = formatTrace(trace);
      fs.writeFileSync(path.join(randomDir, `${s.name}.json`), text);
      let verdict: string | null;
      try {
        const r = replay(validateTrace(JSON.parse(text)));
        verdict = r.firstMismatch === null && r.finalMatched ? null
          : `firstMismatch ${JSON.stringify(r.firstMismatch)}, finalMatched ${r.finalMatched}`;
      } catch (e) {
        verdict = `the model threw: ${(e as Error).message}`;
      }
      if (verdict === null) { same++; continue; }
      differ++;
      fs.mkdirSync(failDir, { recursive: true });
      const file = path.join(failDir, `${s.name}.json`);
      fs.writeFileSync(file, text);
      log(`${s.name}: DIFFERS: ${verdict} → ${path.relative(process.cwd(), file)}`);
    }
    const line = `${job.spec.model}: ${job.scenarios.length} random traces, ${same} identical, ${differ} differ${missing ? `, ${missing} missing` : ''}`;
    randomSummary.push(line);
    failures += differ + missing;
  };

  const queue = [...jobs];
  const workers = Array.from({ length: Math.min(args.jobs, queue.length) }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      try {
        await runJob(job);
      } catch (e) {
        if (!(e instanceof OracleError)) throw e;
        failures++;
        log(`FAILED ${e.message}`);
      }
    }
  });
  await Promise.all(workers);

  if (args.random !== null) {
    process.stdout.write('\n' + randomSummary.join('\n') + '\n');
    log(`random traces in ${path.relative(process.cwd(), randomDir)}; mismatches in ${path.relative(process.cwd(), failDir)}`);
    return failures ? 1 : 0;
  }
  process.stdout.write('\n' + summary.join('\n') + '\n');
  if (args.maps !== null) log(`maps written to ${args.maps}`);
  else if (!args.hazards) log(`traces written to ${path.relative(process.cwd(), outDir) || '.'}`);
  if (failures) {
    log(`${failures} failure(s)`);
    return 1;
  }
  return 0;
}

// Run only as a program: src/oracle/arm64-qemu.ts imports the helpers above.
const isMain = (() => {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try { return fs.realpathSync(arg) === fs.realpathSync(fileURLToPath(import.meta.url)); } catch { return false; }
})();
if (isMain) main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof OracleError ? e.message : (e as Error).stack ?? String(e)}\n`);
    process.exit(2);
  },
);
