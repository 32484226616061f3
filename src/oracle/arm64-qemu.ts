// The real-kernel oracle for arm64: boots Debian sid's arm64 kernels (7.2.13, 4K pages and
// 16K pages) under qemu-system-aarch64 (TCG, virt with GICv3 and an SMMUv3, -cpu max, which
// has LPA2) with ivshmem-plain devices bound to vfio-pci, and records inside the guest
//   - the allocator: static aarch64 builds of oracle/recorder.c run op lists (a hand-made
//     arm64 list, the op lists of fixtures/kernel-traces/, seeded random lists from
//     src/oracle/generate.ts) over memfd, ext4 (a virtio-blk disk) and tmpfs files;
//   - the device: oracle/vfio/probe.c maps and touches the BARs through vfio-pci;
// and writes pfnmap-trace/1 files with `arch: "arm64"` (docs/arm64.md, docs/trace-format.md)
// plus the kernel configs (fixtures/arm64/config-*.json). The model cannot replay them yet.
//
//   node dist/src/oracle/arm64-qemu.js [--kernels arm64-4k,arm64-16k] [--out fixtures/arm64]
//        [--random N] [--ops K] [--seed S] [--timeout SECONDS] [--jobs N] [--config-only]
//        [--image PATH --granule 4k|16k|64k [--kconfig PATH]]
//
// --image boots a locally built Image instead of Debian's packages (Debian ships no 64K arm64
// kernel: oracle/arm64/build-64k.sh builds one from linux-source-7.2, docs/arm64.md); its
// drivers are built in, so the initramfs carries no modules. --kconfig is its .config
// (default: the .config of the tree the Image was built in, PATH/../../../../.config).
//
// Everything downloaded or built (the .debs, a private apt state for sid arm64, extracted
// kernels and modules, the cross-compiled programs, initramfs and disk images, QEMU logs)
// lives under oracle/build/arm64/ and is reused.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { hexU64 } from '../lib/u64.js';
import type { MmapFlagName, Trace, TraceEnv, TraceFile, TraceOp, TraceResult } from '../trace/format.js';
import { dropSkipped, encodeOps, envFromRecorder, hasCommand, mapsLineToVma, parseOutput, repoRoot } from './record.js';
import { generateOps } from './generate.js';
import {
  OracleError, checkComplete, debianMirror, decompressModule, deviceObject, describeResult, encodeProbeOps, formatTrace,
  modName, moduleDepends, parseProbe, recordedOps, splitScenarios,
} from './vfio-qemu.js';

const hex = hexU64;
const KiB = 1024n;
const MiB = 1n << 20n;
const GiB = 1n << 30n;
const REGION_SHIFT = 40n;
const BAR2 = 2n << REGION_SHIFT;

// ---- configuration ------------------------------------------------------------

interface KernelSpec {
  /** our name (the --arch name the model will use) */
  name: 'arm64-4k' | 'arm64-16k' | 'arm64-64k';
  /** uname -r */
  release: string;
  debVersion: string;
  /** linux-binary-*, linux-modules-*, linux-base-* */
  packages: string[];
  pageSize: bigint;
  /** PMD_SIZE of the granule */
  pmd: bigint;
  /** a locally built kernel (--image): its Image and .config, no packages, no modules */
  local?: { image: string; config: string };
}

const GRANULE_SIZES: Record<string, { pageSize: bigint; pmd: bigint }> = {
  '4k': { pageSize: 4096n, pmd: 2n * MiB },
  '16k': { pageSize: 16384n, pmd: 32n * MiB },
  '64k': { pageSize: 65536n, pmd: 512n * MiB },
};

/** The spec of a locally built Image: uname -r from its "Linux version" banner. */
function localSpec(image: string, granule: string, config: string): KernelSpec {
  const g = GRANULE_SIZES[granule];
  if (!g) fail(`--granule must be one of ${Object.keys(GRANULE_SIZES).join(', ')}, got ${granule}`);
  if (!fs.existsSync(image)) fail(`--image ${image}: no such file`);
  if (!fs.existsSync(config)) fail(`--kconfig ${config}: no such file (give the .config the Image was built with)`);
  const banner = /Linux version (\S+) \(/.exec(fs.readFileSync(image).toString('latin1'));
  if (!banner) fail(`${image}: no "Linux version" banner (an uncompressed arm64 Image is expected: make Image)`);
  const shift = /^CONFIG_PAGE_SHIFT=(\d+)$/m.exec(fs.readFileSync(config, 'utf8'))?.[1];
  if (shift === undefined || 1n << BigInt(shift) !== g.pageSize) fail(`${config}: CONFIG_PAGE_SHIFT=${shift}, not the page size of --granule ${granule}`);
  return { name: `arm64-${granule}` as KernelSpec['name'], release: banner[1] as string, debVersion: '', packages: [], ...g, local: { image, config } };
}

const KERNELS: Record<string, KernelSpec> = {
  'arm64-4k': {
    name: 'arm64-4k', release: '7.2.13+deb14-arm64', debVersion: '7.2.13-1',
    packages: ['linux-binary-7.2.13+deb14-arm64', 'linux-modules-7.2.13+deb14-arm64', 'linux-base-7.2.13+deb14-arm64'],
    pageSize: 4096n, pmd: 2n * MiB,
  },
  'arm64-16k': {
    name: 'arm64-16k', release: '7.2.13+deb14-arm64-16k', debVersion: '7.2.13-1',
    packages: ['linux-binary-7.2.13+deb14-arm64-16k', 'linux-modules-7.2.13+deb14-arm64-16k', 'linux-base-7.2.13+deb14-arm64-16k'],
    pageSize: 16384n, pmd: 32n * MiB,
  },
};

const WANTED_MODULES = ['vfio_iommu_type1', 'vfio_pci', 'virtio_blk', 'ext4'];

interface DeviceSpec { tag: string; size: bigint; slot: number; bdf: string }
const DEVICES: DeviceSpec[] = [
  { tag: '2g', size: 2n * GiB, slot: 0x10, bdf: '0000:00:10.0' },
  { tag: '64m', size: 64n * MiB, slot: 0x11, bdf: '0000:00:11.0' },
  { tag: '2m', size: 2n * MiB, slot: 0x12, bdf: '0000:00:12.0' },
];

/** The config lines the fixtures keep (prefix match on the option name). */
const CONFIG_KEYS = [
  'ARM64_VA_BITS', 'ARM64_PA_BITS', 'ARM64_LPA2', 'PGTABLE_LEVELS', 'ARM64_4K_PAGES', 'ARM64_16K_PAGES', 'ARM64_64K_PAGES',
  'PAGE_SHIFT', 'ARM64_CONT_PTE_SHIFT', 'ARM64_CONT_PMD_SHIFT', 'ARM64_CONTPTE', 'ARCH_FORCE_MAX_ORDER',
  'ARCH_SUPPORTS_HUGE_PFNMAP', 'ARCH_SUPPORTS_PMD_PFNMAP', 'ARCH_SUPPORTS_PUD_PFNMAP', 'HAVE_ARCH_TRANSPARENT_HUGEPAGE',
  'HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD', 'TRANSPARENT_HUGEPAGE', 'READ_ONLY_THP_FOR_FS', 'HUGETLB_PAGE', 'HUGETLBFS',
  'ARCH_MMAP_RND_BITS', 'ARCH_MMAP_RND_COMPAT_BITS', 'DEFAULT_MMAP_MIN_ADDR', 'LSM_MMAP_MIN_ADDR', 'COMPAT',
  'VFIO', 'ARM_SMMU_V3', 'IOMMU_DEFAULT', 'PCI_P2PDMA', 'ZONE_DEVICE', 'SHMEM', 'MEMFD_CREATE', 'EXT4_FS',
];

// ---- helpers ------------------------------------------------------------------

function fail(msg: string): never {
  throw new OracleError(`pfnmap arm64 oracle: ${msg}`);
}
const T0 = Date.now();
function log(msg: string): void {
  process.stdout.write(`[arm64-oracle ${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}
function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, maxBuffer: 1 << 30 });
  if (r.error) fail(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${(r.stderr ?? '').slice(-4000)}`);
  return r.stdout;
}
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const sh = (script: string, cwd?: string): string => run('sh', ['-c', script], { cwd });

function checkTools(): void {
  const need: [string, string][] = [
    ['qemu-system-aarch64', 'qemu-system-arm'], ['aarch64-linux-gnu-gcc', 'gcc-aarch64-linux-gnu'], ['xz', 'xz-utils'],
    ['cpio', 'cpio'], ['dpkg-deb', 'dpkg'], ['apt-get', 'apt'], ['mkfs.ext4', 'e2fsprogs'],
  ];
  const missing = need.filter(([c]) => !hasCommand(c));
  if (missing.length) fail(`missing tools: ${missing.map(([c]) => c).join(', ')} — apt-get install ${[...new Set(missing.map(([, p]) => p))].join(' ')}`);
}

// ---- packages -------------------------------------------------------------------

/** A private apt state for sid arm64 (the machine's own apt configuration is not touched). */
function aptOptions(buildDir: string): string[] {
  const dir = path.join(buildDir, 'apt');
  const opts = [
    '-o', `Dir::Etc::SourceList=${dir}/sources.list`, '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State=${dir}/state`, '-o', `Dir::State::Lists=${dir}/lists`, '-o', `Dir::State::status=${dir}/state/status`,
    '-o', `Dir::Cache=${dir}/cache`, '-o', 'APT::Architectures::=arm64', '-o', 'APT::Architecture=arm64',
  ];
  if (!fs.existsSync(path.join(dir, 'lists', 'ready'))) {
    const mirror = debianMirror();
    for (const d of ['lists/partial', 'cache/archives/partial', 'state']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.writeFileSync(path.join(dir, 'state', 'status'), '');
    fs.writeFileSync(path.join(dir, 'sources.list'),
      `deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} sid main\n`);
    log(`apt: fetching the sid arm64 package list from ${mirror} (private state in ${dir})`);
    run('apt-get', [...opts, 'update']);
    fs.writeFileSync(path.join(dir, 'lists', 'ready'), '');
  }
  return opts;
}

/** Downloads (once) `name` into debs/ and returns its path and version. */
function ensureDeb(buildDir: string, name: string, version: string | null): { file: string; version: string } {
  const debDir = path.join(buildDir, 'debs');
  fs.mkdirSync(debDir, { recursive: true });
  const find = (): string | undefined => fs.readdirSync(debDir).find((f) => f.startsWith(`${name}_`) && f.endsWith('_arm64.deb') &&
    (version === null || f === `${name}_${version}_arm64.deb`));
  let f = find();
  if (!f) {
    const apt = aptOptions(buildDir);
    log(`apt: downloading ${name}${version ? `=${version}` : ''} (arm64)`);
    run('apt-get', [...apt, 'download', version ? `${name}=${version}` : name], { cwd: debDir });
    f = find();
    if (!f) fail(`apt-get download ${name} left no ${name}_*_arm64.deb in ${debDir}`);
  }
  const v = decodeURIComponent(f.slice(name.length + 1, -'_arm64.deb'.length));
  return { file: path.join(debDir, f), version: v };
}

interface KernelFiles { vmlinuz: string; modules: string[]; config: string; debs: { name: string; version: string; file: string }[] }

function ensureKernel(spec: KernelSpec, buildDir: string): KernelFiles {
  if (spec.local) return { vmlinuz: spec.local.image, config: spec.local.config, modules: [], debs: [] };
  const kdir = path.join(buildDir, spec.name);
  const stamp = path.join(kdir, 'ready.json');
  if (fs.existsSync(stamp)) {
    const k = JSON.parse(fs.readFileSync(stamp, 'utf8')) as KernelFiles;
    if ([k.vmlinuz, k.config, ...k.modules].every((m) => fs.existsSync(m))) return k;
  }
  const debs = spec.packages.map((n) => ({ name: n, ...ensureDeb(buildDir, n, spec.debVersion) }));
  log(`${spec.name}: extracting the kernel, its config and modules from ${debs.map((d) => path.basename(d.file)).join(', ')}`);
  fs.rmSync(kdir, { recursive: true, force: true });
  const xdir = path.join(kdir, 'x');
  const mdir = path.join(kdir, 'modules');
  fs.mkdirSync(xdir, { recursive: true });
  fs.mkdirSync(mdir, { recursive: true });
  const modulesDir = `./usr/lib/modules/${spec.release}`;
  const where = new Map<string, string>();
  const modulePath = new Map<string, string>();
  for (const d of debs) {
    for (const line of run('dpkg-deb', ['-c', d.file]).split('\n')) {
      const m = / (\.\/\S+?)(?: -> \S+)?$/.exec(line);
      if (!m) continue;
      const p = m[1] as string;
      where.set(p, d.file);
      if (p.startsWith(modulesDir + '/kernel/') && /\.ko(\.(xz|zst|gz))?$/.test(p)) modulePath.set(modName(p), p);
    }
  }
  const extract = (paths: string[]): void => {
    for (const p of paths) {
      const deb = where.get(p);
      if (!deb) fail(`${p} is in none of ${debs.map((d) => d.file).join(', ')}`);
      sh(`dpkg-deb --fsys-tarfile ${q(deb)} | tar -x -C ${q(xdir)} ${q(p)}`);
    }
  };
  extract([`${modulesDir}/vmlinuz`, `${modulesDir}/config`]);
  const vmlinuz = path.join(kdir, 'vmlinuz');
  const config = path.join(kdir, 'config');
  fs.renameSync(path.join(xdir, modulesDir, 'vmlinuz'), vmlinuz);
  fs.renameSync(path.join(xdir, modulesDir, 'config'), config);
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const builtin = new Set<string>();
  const visit = (name: string): void => {
    if (state.get(name) === 'done' || builtin.has(name)) return;
    if (state.get(name) === 'visiting') fail(`module dependency cycle at ${name}`);
    state.set(name, 'visiting');
    const p = modulePath.get(name);
    if (!p) { builtin.add(name); state.delete(name); return; } // built in
    extract([p]);
    const ko = path.join(mdir, `${name}.ko`);
    decompressModule(path.join(xdir, p), ko);
    for (const dep of moduleDepends(fs.readFileSync(ko))) visit(dep);
    state.set(name, 'done');
    order.push(ko);
  };
  for (const m of WANTED_MODULES) visit(m);
  fs.rmSync(xdir, { recursive: true, force: true });
  const k: KernelFiles = { vmlinuz, config, modules: order, debs };
  fs.writeFileSync(stamp, JSON.stringify(k, null, 2));
  return k;
}

function ensureBusybox(buildDir: string): { file: string; version: string } {
  const bin = path.join(buildDir, 'busybox');
  const deb = ensureDeb(buildDir, 'busybox-static', null);
  if (!fs.existsSync(bin)) {
    const x = path.join(buildDir, 'bb-x');
    fs.mkdirSync(x, { recursive: true });
    sh(`dpkg-deb --fsys-tarfile ${q(deb.file)} | tar -x -C ${q(x)} ./usr/bin/busybox`);
    fs.renameSync(path.join(x, 'usr', 'bin', 'busybox'), bin);
    fs.rmSync(x, { recursive: true, force: true });
  }
  return { file: bin, version: deb.version };
}

/** Static aarch64 builds of the recorder and the probe (only when stale). */
function crossCompile(root: string, buildDir: string): { recorder: string; probe: string } {
  const out: Record<string, string> = {};
  for (const [name, src] of [['recorder', 'oracle/recorder.c'], ['probe', 'oracle/vfio/probe.c']] as const) {
    const s = path.join(root, src);
    const bin = path.join(buildDir, name);
    const newest = Math.max(fs.statSync(s).mtimeMs, fs.statSync(path.join(root, 'oracle', 'oplist.h')).mtimeMs);
    if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < newest) {
      log(`cross-compiling ${src} (aarch64, static)`);
      run('aarch64-linux-gnu-gcc', ['-O2', '-Wall', '-static', '-o', bin, s]);
    }
    out[name] = bin;
  }
  return out as { recorder: string; probe: string };
}

// ---- the kernel configs -------------------------------------------------------------

function configFixture(spec: KernelSpec, k: KernelFiles): Record<string, unknown> {
  const lines = fs.readFileSync(k.config, 'utf8').split('\n');
  const keep = lines.filter((l) => {
    const m = /^(?:# )?CONFIG_([A-Z0-9_]+)[= ]/.exec(l);
    return m !== null && CONFIG_KEYS.some((key) => (m[1] as string) === key || (m[1] as string).startsWith(key + '_'));
  });
  const value = (opt: string): string | null => {
    for (const l of lines) {
      if (l === `# CONFIG_${opt} is not set`) return 'n';
      if (l.startsWith(`CONFIG_${opt}=`)) return l.slice(`CONFIG_${opt}=`.length);
    }
    return null;
  };
  const yes = (opt: string): boolean => value(opt) === 'y';
  const thp = ['ALWAYS', 'MADVISE', 'NEVER'].find((w) => yes(`TRANSPARENT_HUGEPAGE_${w}`))?.toLowerCase() ?? null;
  return {
    format: 'pfnmap-kernel-config/1',
    kernel: spec.release,
    arch: 'arm64',
    name: spec.name,
    source: spec.local
      ? `the .config of a kernel built locally (${path.basename(spec.local.image)}, uname -r ${spec.release}) from Debian's linux-source-7.2 by oracle/arm64/build-64k.sh (defconfig + oracle/arm64/kconfig-64k.config), read by src/oracle/arm64-qemu.ts`
      : `the config file of Debian sid's ${k.debs.find((d) => d.name.startsWith('linux-base-'))?.name}_${spec.debVersion}_arm64.deb (./usr/lib/modules/${spec.release}/config), read by src/oracle/arm64-qemu.ts`,
    packages: spec.local
      ? [{ name: 'linux-source-7.2', version: 'source 7.2.13 (Debian-patched), built locally', arch: 'all' }]
      : k.debs.map((d) => ({ name: d.name, version: d.version, arch: 'arm64' })),
    summary: {
      pageSize: 1 << Number(value('PAGE_SHIFT')),
      pageShift: Number(value('PAGE_SHIFT')),
      vaBits: Number(value('ARM64_VA_BITS')),
      paBits: Number(value('ARM64_PA_BITS')),
      lpa2: yes('ARM64_LPA2'),
      pgtableLevels: Number(value('PGTABLE_LEVELS')),
      archSupportsHugePfnmap: yes('ARCH_SUPPORTS_HUGE_PFNMAP'),
      archSupportsPmdPfnmap: yes('ARCH_SUPPORTS_PMD_PFNMAP'),
      archSupportsPudPfnmap: yes('ARCH_SUPPORTS_PUD_PFNMAP'),
      haveArchTransparentHugepage: yes('HAVE_ARCH_TRANSPARENT_HUGEPAGE'),
      haveArchTransparentHugepagePud: yes('HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD'),
      transparentHugepage: yes('TRANSPARENT_HUGEPAGE'),
      thpDefault: thp,
      shmemHugeDefault: ['NEVER', 'ALWAYS', 'WITHIN_SIZE', 'ADVISE'].find((w) => yes(`TRANSPARENT_HUGEPAGE_SHMEM_HUGE_${w}`))?.toLowerCase() ?? null,
      contPteShift: Number(value('ARM64_CONT_PTE_SHIFT')),
      contPmdShift: Number(value('ARM64_CONT_PMD_SHIFT')),
      mmapRndBits: [Number(value('ARCH_MMAP_RND_BITS_MIN')), Number(value('ARCH_MMAP_RND_BITS_MAX'))],
      defaultMmapMinAddr: value('DEFAULT_MMAP_MIN_ADDR'),
      vfio: value('VFIO'), vfioPci: value('VFIO_PCI'), vfioIommuType1: value('VFIO_IOMMU_TYPE1'), vfioContainer: value('VFIO_CONTAINER'),
      armSmmuV3: value('ARM_SMMU_V3'),
    },
    /** asked-for options with no line at all in the config (def_bool options that are off are omitted, not "is not set") */
    absent: CONFIG_KEYS.filter((key) => value(key) === null && !lines.some((l) => l.startsWith(`CONFIG_${key}_`) || l.startsWith(`# CONFIG_${key}_`))),
    config: keep,
  };
}

// ---- scenarios --------------------------------------------------------------------------

interface RecScenario { kind: 'rec'; name: string; files: TraceFile[]; ops: TraceOp[] }
interface ProbeScenario { kind: 'probe'; name: string; device: DeviceSpec; ops: TraceOp[]; thp?: 'always' | 'madvise' | 'never' }
type Scenario = RecScenario | ProbeScenario;

const mm = (addr: string, len: bigint, prot: string, flags: MmapFlagName[], fd: string | null = null, offset = 0n): TraceOp =>
  ({ op: 'mmap', addr, len: hex(len), prot, flags, fd, offset: hex(offset) });
const anon = (addr: string, len: bigint, flags: MmapFlagName[] = [], prot = 'rw'): TraceOp => mm(addr, len, prot, ['PRIVATE', 'ANONYMOUS', ...flags]);
const munmap = (addr: string, len: bigint): TraceOp => ({ op: 'munmap', addr, len: hex(len) });
const mprotect = (addr: string, len: bigint, prot: string): TraceOp => ({ op: 'mprotect', addr, len: hex(len), prot });
const at = (k: number, off = 0n): string => (off === 0n ? `@${k}` : off > 0n ? `@${k}+${hex(off)}` : `@${k}-${hex(-off)}`);

/** The hand-made arm64 list: sizes, THP alignment, hints across the 47/48/52-bit lines, flags, errnos. */
function layoutScenario(spec: KernelSpec): RecScenario {
  const P = spec.pageSize;
  const PMD = spec.pmd;
  const files: TraceFile[] = [
    { id: 'm0', kind: 'memfd', size: hex(4n * PMD) },
    { id: 'f2', kind: 'ext4', size: hex(4n * PMD) },
    { id: 'f3', kind: 'tmpfs', size: hex(4n * PMD) },
  ];
  const ops: TraceOp[] = [];
  const push = (...o: TraceOp[]): number => { ops.push(...o); return ops.length - 1; };
  // no-hint anonymous mmaps of many sizes (THP alignment shows at PMD-sized lengths)
  for (const len of [0x1000n, P, 2n * P, 3n * P, 64n * KiB, MiB, PMD - P, PMD, PMD + P, 2n * PMD, 3n * PMD, 4n * MiB, 64n * MiB, 512n * MiB + P, GiB]) push(anon('0x0', len));
  push(anon('0x0', 64n * GiB, ['NORESERVE'], 'none'));
  // file mappings at PMD-sized lengths (memfd and tmpfs are huge=never), each after a
  // PMD + 3 pages anonymous mapping (too big for the gaps above), so that the top-down
  // cursor is not PMD-aligned
  for (const fd of ['m0', 'f2', 'f3']) {
    push(anon('0x0', PMD + 3n * P, [], 'r'), mm('0x0', PMD, 'rw', ['SHARED'], fd));
    push(anon('0x0', PMD + 3n * P, [], 'r'), mm('0x0', 2n * PMD, 'r', ['PRIVATE'], fd));
    push(mm('0x0', P, 'rw', ['SHARED'], fd, PMD));
  }
  push(anon('0x0', PMD + 3n * P, [], 'r'), anon('0x0', 2n * PMD, [], 'rw')); // anonymous, same test
  // hints: low, ordinary, at and above 2^47, 2^48 (the default window), 2^52 (TASK_SIZE), 2^56
  for (const h of [0x1000n, 0x8000n, 0x10000n, 0x100000000n, 0x7ffff0000000n, 0x800000000000n, 0xfffff0000000n, 0xffffffffe000n,
    0x1000000000000n, 0x1000000001000n, 0x4000000000000n, 0xfffffff000000n, 0xffffffffff000n & ~(P - 1n), 0x10000000000000n, 0x100000000000000n,
    0x123457n, 0x7ffff0001000n + 0x800n]) {
    push(anon(hex(h), P));
  }
  push(anon('0xfffffffe0000', 4n * MiB)); // straddles 2^48
  push(anon('0x0', PMD, [], 'rw'), anon(hex(0x2000000000000n), PMD)); // a PMD-sized hint above 2^48
  // MAP_FIXED / FIXED_NOREPLACE
  const f0 = push(anon('0x200000000', 4n * PMD, ['FIXED']));
  push(anon(at(f0, PMD), P, ['FIXED_NOREPLACE'])); // EEXIST
  push(anon(at(f0, 0x1000n), P, ['FIXED'])); // unaligned on 16K: EINVAL
  push(anon(hex(0x1000000000000n), P, ['FIXED']), anon(hex(0x8000000000000n), 2n * P, ['FIXED']));
  push(anon(hex((1n << 52n) - P), P, ['FIXED']), anon(hex(1n << 52n), P, ['FIXED']), anon(hex((1n << 52n) - P), 2n * P, ['FIXED']));
  push(anon(hex(1n << 56n), P, ['FIXED_NOREPLACE']), anon('0x1000', P, ['FIXED']), anon('0x8000', P, ['FIXED_NOREPLACE']));
  // x86-only flags and other flags
  push(anon('0x0', P, ['32BIT']), anon('0x0', 2n * PMD, ['32BIT']), anon('0x40000000', P, ['32BIT']));
  push(mm('0x0', P, 'rw', ['SHARED_VALIDATE', '32BIT'], 'm0'), mm('0x0', P, 'rw', ['SHARED_VALIDATE'], 'm0'));
  push(anon('0x0', 4n * P, ['GROWSDOWN']), anon('0x0', 4n * P, ['STACK']), anon('0x0', 4n * P, ['POPULATE']), anon('0x0', PMD, ['STACK']));
  // bad arguments
  push(anon('0x0', 0n)); // EINVAL
  push(anon('0x0', (1n << 64n) - P)); // ENOMEM
  push(anon('0x0', 1n << 52n, ['NORESERVE'], 'none'), anon('0x0', (1n << 48n) - (1n << 40n), ['NORESERVE'], 'none')); // bigger than the window
  push(mm('0x0', P, 'rw', ['ANONYMOUS'])); // neither shared nor private: EINVAL
  push(mm('0x0', P, 'r', ['PRIVATE'], null)); // fd -1 without MAP_ANONYMOUS: EBADF
  push(mm('0x0', P, 'r', ['SHARED'], 'm0', 0x1000n)); // offset not page-aligned on 16K: EINVAL
  push(mm('0x0', P, 'r', ['SHARED'], 'm0', 1n << 63n)); // EOVERFLOW?
  push(mm('0x0', P, 'rwx', ['SHARED'], 'f3'));
  // munmap / mprotect
  const a = push(anon('0x0', 8n * P));
  push(mprotect(at(a, 2n * P), P, 'r'), mprotect(at(a, 4n * P), 2n * P, 'none'), munmap(at(a, 3n * P), P));
  push(mprotect(at(a, 0x1000n), P, 'r'), munmap(at(a, 0x1000n), P)); // unaligned on 16K
  push(munmap(at(a, 7n * P), 0x1000n)); // a sub-page length rounds up
  push(mprotect(at(a, 0n), 8n * P, 'rwx'), mprotect(at(a, 0n), 8n * P, 'rw'));
  push(munmap(hex(0x1000000000000n), P), munmap(hex(1n << 52n), P), munmap(hex((1n << 52n) - P), 2n * P));
  push(mprotect(hex(1n << 52n), P, 'r'));
  const t = push(anon('0x0', 4n * PMD)); // a THP-aligned region, split by munmap of one page and mprotect
  push(munmap(at(t, PMD), P), mprotect(at(t, 2n * PMD), PMD, 'r'));
  return { kind: 'rec', name: `${spec.name}-layout`, files, ops };
}

function fixtureScenarios(root: string, spec: KernelSpec): RecScenario[] {
  const dir = path.join(root, 'fixtures', 'kernel-traces');
  const out: RecScenario[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue; // churn-*.json.gz (115,000 ops) is left out: too long for TCG and for a fixture
    const t = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Trace;
    out.push({ kind: 'rec', name: `${spec.name}-x86ops-${f.replace(/\.json$/, '')}`, files: t.files, ops: t.ops });
  }
  return out;
}

function randomScenarios(spec: KernelSpec, n: number, seed: number, k: number): RecScenario[] {
  return Array.from({ length: n }, (_, i) => {
    const g = generateOps(seed * 1000 + i, k);
    return { kind: 'rec' as const, name: `${spec.name}-random-${seed}-${i}`, files: g.files, ops: g.ops };
  });
}

const reserve = (len: bigint): TraceOp => mm('0x0', len, 'none', ['PRIVATE', 'ANONYMOUS', 'NORESERVE']);
const touch = (addr: string, len: bigint): TraceOp => ({ op: 'touch', addr, len: hex(len) });

function deviceScenarios(spec: KernelSpec): ProbeScenario[] {
  const P = spec.pageSize;
  const PMD = spec.pmd;
  const out: ProbeScenario[] = [];
  for (const d of DEVICES) {
    const S = d.size;
    const A = S >= GiB ? GiB : S >= PMD ? PMD : P; // the largest useful alignment (1 GiB: to see whether any PUD leaf appears)
    const pre = `${spec.name}-bar2-${d.tag}`;
    const bar = (addr: string, len: bigint = S, flags: MmapFlagName[] = ['SHARED'], off = BAR2): TraceOp => mm(addr, len, 'rw', flags, 'v0', off);
    out.push({ kind: 'probe', name: `${pre}-nohint`, device: d, ops: [bar('0x0'), touch('@0', S)] });
    out.push({ kind: 'probe', name: `${pre}-madvise`, device: d, ops: [bar('0x0'), { op: 'madvise', addr: '@0', len: hex(S), advice: 'HUGEPAGE' }, touch('@0', S)] });
    out.push({ kind: 'probe', name: `${pre}-fixed-congruent`, device: d, ops: [reserve(S + A), bar(`@0^${hex(A)}`, S, ['SHARED', 'FIXED']), touch('@1', S)] });
    out.push({ kind: 'probe', name: `${pre}-fixed-misaligned`, device: d, ops: [reserve(S + A), bar(`@0^${hex(A)}+${hex(P)}`, S, ['SHARED', 'FIXED']), touch('@1', S)] });
    out.push({ kind: 'probe', name: `${pre}-thp-never`, device: d, thp: 'never', ops: [reserve(S + A), bar(`@0^${hex(A)}`, S, ['SHARED', 'FIXED']), touch('@1', S)] });
    out.push({ kind: 'probe', name: `${pre}-hint`, device: d, ops: [bar('0x600000000000'), bar(hex(0x2000000000000n + P)), bar(hex(0x4000000000000n)), touch('@0', S), touch('@1', S), touch('@2', S)] });
    out.push({
      kind: 'probe', name: `${pre}-bad`, device: d, ops: [
        bar('0x0', PMD < S ? PMD : S, ['PRIVATE']), // vfio needs MAP_SHARED
        bar('0x0', P, ['SHARED'], BAR2 + S), // offset beyond the BAR
        bar('0x0', S + P), // length beyond the BAR
        bar('0x0', P, ['SHARED'], 7n << REGION_SHIFT), // config space
        bar('0x0', P, ['SHARED'], 0n), // BAR0: 256 bytes of registers
        bar('0x0', P, ['SHARED'], BAR2 + 0x1000n), // 4 KiB offset: unaligned on 16K
        bar('0x0', 0x1000n, ['SHARED'], BAR2), // a 4 KiB length
        touch('@4', P), touch('@6', P),
      ],
    });
    if (S >= 4n * PMD) {
      const M = S >= 64n * PMD ? 64n * PMD : S; // 128 MiB (4K) or 2 GiB (16K) or the whole BAR
      out.push({
        kind: 'probe', name: `${pre}-munmap-middle`, device: d, ops: [
          reserve(M + PMD), bar(`@0^${hex(PMD)}`, M, ['SHARED', 'FIXED']), touch('@1', M),
          munmap(at(1, 2n * PMD), PMD), touch('@1', 2n * PMD), touch(at(1, 3n * PMD), M - 3n * PMD), touch(at(1, 2n * PMD), P),
          munmap(at(1, PMD + P), P), touch(at(1, PMD), P), touch(at(1, PMD + 2n * P), PMD - 2n * P),
          { op: 'mprotect', addr: at(1, 0n), len: hex(P), prot: 'r' }, touch(at(1, 0n), PMD),
        ],
      });
    }
  }
  return out;
}

// ---- initramfs, disk and QEMU ---------------------------------------------------------

function encodeScenario(s: Scenario): string {
  if (s.kind === 'rec') return encodeOps(s.files, s.ops);
  return encodeProbeOps({ name: s.name, ops: s.ops, device: s.device });
}

function buildInitramfs(o: { root: string; workDir: string; busybox: string; bins: { recorder: string; probe: string }; kernel: KernelFiles; scenarios: Scenario[] }): string {
  const stage = path.join(o.workDir, 'initramfs');
  fs.rmSync(stage, { recursive: true, force: true });
  for (const d of ['bin', 'pfnmap/modules', 'pfnmap/scen', 'dev', 'proc', 'sys', 'tmp', 'mnt/ext4']) fs.mkdirSync(path.join(stage, d), { recursive: true });
  const put = (src: string, dst: string, mode = 0o755): void => { fs.copyFileSync(src, path.join(stage, dst)); fs.chmodSync(path.join(stage, dst), mode); };
  put(o.busybox, 'bin/busybox');
  put(path.join(o.root, 'oracle', 'arm64', 'init.sh'), 'init');
  put(o.bins.recorder, 'pfnmap/recorder');
  put(o.bins.probe, 'pfnmap/probe');
  for (const m of o.kernel.modules) put(m, `pfnmap/modules/${path.basename(m)}`, 0o644);
  fs.writeFileSync(path.join(stage, 'pfnmap', 'modules.order'), o.kernel.modules.map((m) => path.basename(m)).join('\n') + '\n');
  fs.writeFileSync(path.join(stage, 'pfnmap', 'devices'), DEVICES.map((d) => d.bdf).join('\n') + '\n');
  fs.writeFileSync(path.join(stage, 'pfnmap', 'scenarios'), o.scenarios.map((s) => `${s.kind} ${s.name}`).join('\n') + '\n');
  for (const s of o.scenarios) {
    fs.writeFileSync(path.join(stage, 'pfnmap', 'scen', `${s.name}.ops`), encodeScenario(s));
    if (s.kind === 'probe' && s.thp) fs.writeFileSync(path.join(stage, 'pfnmap', 'scen', `${s.name}.thp`), s.thp + '\n');
  }
  const img = path.join(o.workDir, 'initramfs.cpio');
  sh(`find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 > ${q(img)}`, stage);
  return img;
}

function qemuVersion(): string {
  const r = spawnSync('qemu-system-aarch64', ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(r.stdout ?? '')?.[1] ?? 'unknown';
}

interface BootResult { data: string; console: string; exitCode: number | null; timedOut: boolean; seconds: number }

async function boot(o: { label: string; workDir: string; kernel: KernelFiles; initramfs: string; timeoutS: number }): Promise<BootResult> {
  const consoleLog = path.join(o.workDir, 'console.log');
  const dataLog = path.join(o.workDir, 'data.log');
  for (const f of [consoleLog, dataLog]) fs.rmSync(f, { force: true });
  const disk = path.join(o.workDir, 'ext4.img');
  fs.rmSync(disk, { force: true });
  run('truncate', ['-s', '512M', disk]);
  run('mkfs.ext4', ['-q', '-F', '-b', '4096', disk]);
  const shm = DEVICES.map((_, i) => `/dev/shm/pfnmap-a64-ivshmem-${process.pid}-${path.basename(o.workDir)}-${i}`);
  const args = [
    '-accel', 'tcg', '-machine', 'virt,gic-version=3,iommu=smmuv3', '-cpu', 'max', '-m', '4G', '-smp', '1',
    '-nodefaults', '-display', 'none', '-monitor', 'none', '-no-reboot',
  ];
  DEVICES.forEach((d, i) => {
    args.push('-object', `memory-backend-file,id=hmem${i},share=on,mem-path=${shm[i]},size=${d.size}`);
    args.push('-device', `ivshmem-plain,memdev=hmem${i},addr=${hex(BigInt(d.slot))}`);
  });
  args.push('-drive', `file=${disk},if=none,format=raw,id=disk0`, '-device', 'virtio-blk-pci,drive=disk0,addr=0x2');
  args.push('-device', 'virtio-serial-pci,addr=0x3', '-chardev', `file,id=data,path=${dataLog}`, '-device', 'virtconsole,chardev=data');
  args.push('-chardev', `file,id=con,path=${consoleLog}`, '-serial', 'chardev:con');
  args.push('-kernel', o.kernel.vmlinuz, '-initrd', o.initramfs, '-append', 'console=ttyAMA0 norandmaps panic=-1 loglevel=5');
  fs.writeFileSync(path.join(o.workDir, 'qemu-args.txt'), ['qemu-system-aarch64', ...args].map(q).join(' ') + '\n');
  const t0 = Date.now();
  const child = spawn('qemu-system-aarch64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => { stderr += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  let timedOut = false;
  let seen = 0;
  const readData = (): string => { try { return fs.readFileSync(dataLog, 'latin1').replace(/\r/g, ''); } catch { return ''; } };
  const progress = setInterval(() => {
    const lines = readData().split('\n').filter((l) => /^@@PFNMAP-(BOOT|END|ERROR|DONE|DEVICE)/.test(l));
    for (; seen < lines.length; seen++) log(`${o.label}: ${(lines[seen] as string).slice(2)}`);
  }, 2000);
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, o.timeoutS * 1000);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', (e) => { stderr += String(e); resolve(-1); });
  });
  clearTimeout(timer);
  clearInterval(progress);
  for (const f of [...shm, disk]) fs.rmSync(f, { force: true });
  let consoleText = '';
  try { consoleText = fs.readFileSync(consoleLog, 'latin1').replace(/\r/g, ''); } catch { /* none */ }
  if (stderr.trim()) fs.writeFileSync(path.join(o.workDir, 'qemu-stderr.txt'), stderr);
  const data = readData();
  if (!data.includes('@@PFNMAP-BOOT')) {
    fail(`${o.label}: the guest did not come up (QEMU exit ${exitCode}${timedOut ? ', timed out' : ''}).\nQEMU stderr: ${stderr.trim().slice(-2000) || '(none)'}\n` +
      `last console lines:\n${consoleText.split('\n').slice(-30).join('\n')}\n(logs in ${o.workDir})`);
  }
  return { data, console: consoleText, exitCode, timedOut, seconds: (Date.now() - t0) / 1000 };
}

// ---- traces ---------------------------------------------------------------------------

interface GuestFacts { info: Record<string, string>; dmesg: string[] }

function guestFacts(data: string): GuestFacts {
  const info: Record<string, string> = {};
  const dmesg: string[] = [];
  for (const l of data.split('\n')) {
    const m = /^@@PFNMAP-INFO (\S+) ?(.*)$/.exec(l);
    if (!m) continue;
    if (m[1] === 'dmesg') dmesg.push(m[2] as string);
    else info[m[1] as string] = m[2] as string;
  }
  return { info, dmesg };
}

/** env of an arm64 trace: the recorder's fields plus the arch description (docs/trace-format.md). */
function arm64Env(base: TraceEnv, spec: KernelSpec, cfg: Record<string, unknown>, facts: GuestFacts): TraceEnv & Record<string, unknown> {
  const summary = cfg['summary'] as Record<string, unknown>;
  const env: TraceEnv & Record<string, unknown> = { ...base, pageSize: Number(spec.pageSize) };
  delete env.la57;
  env['vaBits'] = summary['vaBits'];
  // LPA2 on 4K/16K, LVA on 64K
  env['vaBitsActual'] = facts.dmesg.some((l) => /52-bit Virtual Addressing \((LPA2|LVA)\)$/.test(l)) ? 52 : 48;
  env['pgtableLevels'] = summary['pgtableLevels'];
  const thp = /\[(\w+)\]/.exec(facts.info['thp_enabled'] ?? '')?.[1];
  if (thp) env.thpEnabled = thp;
  return env;
}

function recTrace(s: RecScenario, out: string[], spec: KernelSpec, cfg: Record<string, unknown>, facts: GuestFacts, source: string): Trace {
  const raw = parseOutput(out.join('\n') + '\n', s.ops.length);
  const ours = new Map<string, string>();
  for (const f of s.files) {
    const p = raw.filePaths.get(f.id);
    if (p === undefined) fail(`${s.name}: the recorder did not report a path for file ${f.id}`);
    ours.set(p, f.id);
  }
  if (raw.aslr['randomize'] !== '0') fail(`${s.name}: the recorder ran randomised (norandmaps not in effect?)`);
  if (BigInt(raw.env['page_size'] ?? '0') !== spec.pageSize) fail(`${s.name}: page size ${raw.env['page_size']}, expected ${spec.pageSize}`);
  const kb = facts.info['rlimit_stack'];
  const rl = kb === undefined || kb === 'unlimited' ? '0xffffffffffffffff' : hex(BigInt(kb) * 1024n);
  const kept = dropSkipped(s.ops, raw.results);
  const trace: Trace = {
    format: 'pfnmap-trace/1', name: s.name, kernel: spec.release, arch: 'arm64' as Trace['arch'],
    model: { kernel: 'linux-7.2' },
    env: arm64Env(envFromRecorder(raw.env, rl, true), spec, cfg, facts),
    files: s.files.map((f) => ({ ...f })),
    initial: raw.initial.map((l) => mapsLineToVma(l, ours)),
    ops: kept.ops, results: kept.results,
    final: raw.final.map((l) => mapsLineToVma(l, ours)),
    ns: kept.keptIndex.map((i) => raw.ns[i] as number),
  };
  (trace as unknown as Record<string, unknown>)['source'] = source;
  return trace;
}


function deviceTrace(s: ProbeScenario, lines: string[], spec: KernelSpec, cfg: Record<string, unknown>, facts: GuestFacts, source: string): Trace {
  const p = parseProbe(lines, s.ops.length, s.name);
  checkComplete(p, s.ops.length, s.name);
  const bar2 = p.regions.find((r) => r.index === 2);
  if (!bar2 || bar2.size !== s.device.size) fail(`${s.name}: BAR2 of ${s.device.bdf} is ${bar2 ? hex(bar2.size) : 'missing'}, expected ${hex(s.device.size)}`);
  const ours = new Map<string, string>([[p.mapsPath.replace(/ \(deleted\)$/, ''), 'v0']]);
  const base = envFromRecorder(p.env, hex(BigInt(p.env['rlimit_stack'] as string)), true);
  const env = arm64Env(base, spec, cfg, facts);
  env.thpEnabled = p.env['thp_enabled'] as string;
  const { ops, results, ns } = recordedOps(s.ops, p);
  return {
    format: 'pfnmap-trace/1', name: s.name, kernel: p.env['uname'] as string, arch: 'arm64' as Trace['arch'],
    model: { kernel: 'linux-7.2' }, env,
    files: [{ id: 'v0', kind: 'vfio-pci', size: hex(s.device.size), device: deviceObject(p, s.device, source) }],
    initial: p.initial.map((l) => mapsLineToVma(l, ours)), ops, results,
    final: p.final.map((l) => mapsLineToVma(l, ours)), ns,
  };
}

// ---- main ---------------------------------------------------------------------------

interface Args { kernels: string[]; out: string; random: number; ops: number; seed: number; timeoutS: number; jobs: number; configOnly: boolean; only: string | null; image: string | null; granule: string | null; kconfig: string | null }

function parseArgs(argv: string[]): Args {
  const a: Args = { kernels: ['arm64-4k', 'arm64-16k'], out: 'fixtures/arm64', random: 12, ops: 200, seed: 1, timeoutS: 1800, jobs: Math.max(1, Math.min(2, os.cpus().length)), configOnly: false, only: null, image: null, granule: null, kconfig: null };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i] as string;
    const next = (): string => { const n = argv[++i]; if (n === undefined) fail(`${v} needs a value`); return n; };
    const int = (name: string, min: number): number => { const s = next(); const n = Number(s); if (!Number.isSafeInteger(n) || n < min) fail(`${name} must be an integer >= ${min}, got ${s}`); return n; };
    if (v === '--kernels') a.kernels = next().split(',').filter(Boolean);
    else if (v === '--out') a.out = next();
    else if (v === '--random') a.random = int(v, 0);
    else if (v === '--ops') a.ops = int(v, 1);
    else if (v === '--seed') a.seed = int(v, 0);
    else if (v === '--timeout') a.timeoutS = int(v, 1);
    else if (v === '--jobs') a.jobs = int(v, 1);
    else if (v === '--only') a.only = next();
    else if (v === '--config-only') a.configOnly = true;
    else if (v === '--image') a.image = path.resolve(next());
    else if (v === '--granule') a.granule = next().toLowerCase();
    else if (v === '--kconfig') a.kconfig = path.resolve(next());
    else if (v === '-h' || v === '--help') {
      process.stdout.write('usage: arm64-qemu [--kernels arm64-4k,arm64-16k] [--out DIR] [--random N] [--ops K] [--seed S] [--only SUBSTRING] [--timeout S] [--jobs N] [--config-only] [--image PATH --granule 4k|16k|64k [--kconfig PATH]]\n');
      process.exit(0);
    } else fail(`unknown argument ${v}`);
  }
  if (a.image !== null) {
    if (a.granule === null) fail('--image needs --granule (4k, 16k or 64k)');
    const spec = localSpec(a.image, a.granule, a.kconfig ?? path.resolve(path.dirname(a.image), '..', '..', '..', '.config'));
    KERNELS[spec.name] = spec; // the local kernel takes the granule's name (arm64-64k)
    a.kernels = [spec.name];
  } else if (a.granule !== null || a.kconfig !== null) fail('--granule and --kconfig go with --image');
  for (const k of a.kernels) if (!Object.hasOwn(KERNELS, k)) fail(`unknown kernel ${k} (known: ${Object.keys(KERNELS).join(', ')})`);
  return a;
}

function writeTrace(file: string, t: Trace): void {
  const text = formatTrace(t);
  if (file.endsWith('.gz')) fs.writeFileSync(file, zlib.gzipSync(text, { level: 9 }));
  else fs.writeFileSync(file, text);
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = repoRoot();
  const buildDir = path.join(root, 'oracle', 'build', 'arm64');
  fs.mkdirSync(buildDir, { recursive: true });
  checkTools();
  const outDir = path.resolve(root, args.out);
  fs.mkdirSync(outDir, { recursive: true });

  const kfiles = new Map<string, KernelFiles>();
  const configs = new Map<string, Record<string, unknown>>();
  for (const k of args.kernels) {
    const spec = KERNELS[k] as KernelSpec;
    const kf = ensureKernel(spec, buildDir);
    kfiles.set(k, kf);
    const cfg = configFixture(spec, kf);
    configs.set(k, cfg);
    const file = path.join(outDir, `config-7.2.13-${k.replace('arm64-', '')}.json`);
    fs.writeFileSync(file, JSON.stringify(cfg, null, 1) + '\n');
    log(`${k}: config → ${path.relative(process.cwd(), file)}: ${JSON.stringify(cfg['summary'])}`);
  }
  if (args.configOnly) return 0;
  const busybox = ensureBusybox(buildDir);
  const bins = crossCompile(root, buildDir);
  const qver = qemuVersion();
  let failures = 0;
  const summary: string[] = [];

  const runKernel = async (k: string): Promise<void> => {
    const spec = KERNELS[k] as KernelSpec;
    const cfg = configs.get(k) as Record<string, unknown>;
    const scenarios: Scenario[] = [layoutScenario(spec), ...deviceScenarios(spec), ...fixtureScenarios(root, spec), ...randomScenarios(spec, args.random, args.seed, args.ops)]
      .filter((s) => !args.only || s.name.includes(args.only));
    const workDir = path.join(buildDir, 'runs', k);
    fs.rmSync(workDir, { recursive: true, force: true });
    fs.mkdirSync(workDir, { recursive: true });
    const kernel = kfiles.get(k) as KernelFiles;
    const initramfs = buildInitramfs({ root, workDir, busybox: busybox.file, bins, kernel, scenarios });
    log(`${k}: booting ${spec.release} under QEMU ${qver} (TCG, virt gic-version=3 iommu=smmuv3, -cpu max), ${scenarios.length} scenario(s)`);
    const res = await boot({ label: k, workDir, kernel, initramfs, timeoutS: args.timeoutS });
    log(`${k}: QEMU exited (${res.timedOut ? 'timed out' : `code ${res.exitCode}`}) after ${res.seconds.toFixed(1)}s`);
    for (const l of res.data.split('\n').filter((x) => x.startsWith('@@PFNMAP-ERROR'))) log(`${k}: guest error: ${l.slice(15)}`);
    const splats = res.console.split('\n').filter((l) => /(BUG:|Oops|WARNING:|Kernel panic|Call trace)/.test(l));
    if (splats.length) log(`${k}: WARNING: the kernel console shows:\n  ${splats.slice(0, 10).join('\n  ')}`);
    const facts = guestFacts(res.data);
    fs.writeFileSync(path.join(outDir, `guest-${k}.json`), JSON.stringify({
      kernel: spec.release, qemu: qver, machine: 'virt,gic-version=3,iommu=smmuv3', cpu: 'max', cmdline: /@@PFNMAP-CMDLINE (.*)/.exec(res.data)?.[1] ?? null,
      busybox: `busybox-static ${busybox.version} (arm64)`, info: facts.info, dmesg: facts.dmesg,
      devices: res.data.split('\n').filter((l) => l.startsWith('@@PFNMAP-DEVICE')).map((l) => l.slice(16)),
    }, null, 1) + '\n');
    const byName = splitScenarios(res.data);
    const source = `recorded under QEMU ${qver} (TCG, virt gic-version=3 iommu=smmuv3, -cpu max, ivshmem-plain) by pfnmap's arm64 oracle (src/oracle/arm64-qemu.ts), guest ${spec.release}`;
    for (const s of scenarios) {
      const got = byName.get(s.name);
      try {
        if (!got) fail(`${s.name}: no output (see ${path.join(workDir, 'console.log')})`);
        const stderr = got.lines.filter((l) => l.startsWith('stderr ')).map((l) => l.slice(7));
        if (got.rc !== 0) fail(`${s.name}: exit ${got.rc}: ${stderr.join(' | ')}`);
        if (s.kind === 'rec') {
          const t = recTrace(s, got.lines.filter((l) => !l.startsWith('stderr ')), spec, cfg, facts, source);
          writeTrace(path.join(outDir, `${s.name}.json.gz`), t);
          const errs = t.results.filter((r) => 'errno' in r).length;
          summary.push(`${s.name}: ${t.ops.length} ops (${s.ops.length - t.ops.length} skipped), ${errs} errno`);
        } else {
          const t = deviceTrace(s, got.lines, spec, cfg, facts, source);
          writeTrace(path.join(outDir, `${s.name}.json`), t);
          summary.push(`${s.name}: ${t.ops.map((op, i) => describeResult(op, t.results[i] as TraceResult)).join('; ')}`);
        }
      } catch (e) {
        if (!(e instanceof OracleError)) throw e;
        failures++;
        log(`FAILED ${e.message}`);
      }
    }
  };

  const queue = [...args.kernels];
  await Promise.all(Array.from({ length: Math.min(args.jobs, queue.length) }, async () => {
    for (let k = queue.shift(); k; k = queue.shift()) {
      try { await runKernel(k); } catch (e) {
        if (!(e instanceof OracleError)) throw e;
        failures++;
        log(`FAILED ${e.message}`);
      }
    }
  }));
  process.stdout.write('\n' + summary.join('\n') + '\n');
  log(`traces written to ${path.relative(process.cwd(), outDir) || '.'}${failures ? `; ${failures} failure(s)` : ''}`);
  return failures ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof OracleError ? e.message : (e as Error).stack ?? String(e)}\n`);
    process.exit(2);
  },
);
