// sysfs as a device source: a /sys/bus/pci/devices/BDF directory, or /sys/bus/pci/devices
// itself (every device; --bdf picks one), built here as a real sysfs lays it out: device
// directories under /sys/devices/pci0000:00/ and BDF-named symlinks to them in
// bus/pci/devices, each with a `resource` file of "0x%016llx 0x%016llx 0x%016llx" lines.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importSysfs, importSysfsAll, importSysfsDir, sysfsDeviceDirs } from '../src/devices/sysfs.js';
import { importLspci } from '../src/devices/lspci.js';
import { loadDevice } from '../src/devices/load.js';
import { InputError } from '../src/trace/input-error.js';
import { packageRoot } from '../src/cli/paths.js';

const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });

const hex16 = (n: bigint) => `0x${n.toString(16).padStart(16, '0')}`;
/** a resource file: [start, size, flags] per line (size 0: an unused slot), padded to `lines` */
function resource(res: [bigint, bigint, bigint][], lines = 13): string {
  const out = res.map(([s, size, f]) => (size === 0n ? `${hex16(0n)} ${hex16(0n)} ${hex16(0n)}` : `${hex16(s)} ${hex16(s + size - 1n)} ${hex16(f)}`));
  while (out.length < lines) out.push(`${hex16(0n)} ${hex16(0n)} ${hex16(0n)}`);
  return out.join('\n') + '\n';
}

const MEM32 = 0x40200n;
const MEM64_PREF = 0x14220cn;
const IO = 0x40101n;
const ROM = 0x46200n;
const M = 2n ** 20n;
const G = 2n ** 30n;
const NONE: [bigint, bigint, bigint] = [0n, 0n, 0n];

// an H100-like GPU: BAR0 16M, BAR1 128G (64-bit, BAR2 its upper half), BAR3 32M, ROM 512K
const GPU = resource([[0xfa000000n, 16n * M, MEM32], [0x28000000000n, 128n * G, MEM64_PREF], NONE, [0x2a000000000n, 32n * M, MEM64_PREF], NONE, NONE, [0xfb000000n, 512n * 1024n, ROM]]);
const GPU_LSPCI = `01:00.0 3D controller: NVIDIA Corporation GH100 [H100 SXM5 80GB] (rev a1)
\tMemory at fa000000 (32-bit, non-prefetchable) [size=16M]
\tMemory at 28000000000 (64-bit, prefetchable) [size=128G]
\tMemory at 2a000000000 (64-bit, prefetchable) [size=32M]
\tExpansion ROM at fb000000 [disabled] [size=512K]
`;
// a NIC with an I/O BAR and a 32M BAR; a host bridge with none (17 lines: bridge windows)
const NIC = resource([[0xe000n, 0x80n, IO], [0x3fffe000000n, 32n * M, MEM64_PREF]]);
const BRIDGE = resource([], 17);

/** tmp/sys/devices/pci0000:00/BDF/… and tmp/sys/bus/pci/devices/BDF → ../../../devices/pci0000:00/BDF */
function fakeSysfs(extra: Record<string, string> = {}): { root: string; devices: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-sysfs-'));
  const bus = path.join(root, 'sys', 'bus', 'pci', 'devices');
  fs.mkdirSync(bus, { recursive: true });
  const devs: Record<string, { resource: string; vendor?: string; device?: string }> = {
    '0000:01:00.0': { resource: GPU, vendor: '0x10de', device: '0x2330' },
    '0000:00:00.0': { resource: BRIDGE, vendor: '0x8086', device: '0x1237' },
    '10000:e1:00.0': { resource: NIC, vendor: '0x15b3', device: '0x101d' },
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { resource: v }])),
  };
  for (const [bdf, d] of Object.entries(devs)) {
    const dir = path.join(root, 'sys', 'devices', 'pci0000:00', bdf);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'resource'), d.resource);
    if (d.vendor) fs.writeFileSync(path.join(dir, 'vendor'), `${d.vendor}\n`);
    if (d.device) fs.writeFileSync(path.join(dir, 'device'), `${d.device}\n`);
    fs.symlinkSync(path.join('..', '..', '..', 'devices', 'pci0000:00', bdf), path.join(bus, bdf));
  }
  return { root, devices: bus };
}

const bars = (d: { regions: { kind: string; index: number; size: number; start: number; mem64: boolean; prefetchable: boolean; mmap: boolean; io: boolean }[] }) =>
  d.regions.filter((r) => r.kind === 'bar' && r.size > 0).map((r) => [r.index, r.size, r.io ? 'io' : r.start, r.mem64, r.prefetchable, r.mmap]);

test('/sys/bus/pci/devices: every device through its symlink, sorted by BDF, with vendor and device', () => {
  const { root, devices } = fakeSysfs();
  try {
    assert.equal(fs.lstatSync(path.join(devices, '0000:01:00.0')).isSymbolicLink(), true);
    assert.deepEqual(sysfsDeviceDirs(devices)!.map((d) => d.bdf), ['0000:00:00.0', '0000:01:00.0', '10000:e1:00.0']);
    const all = importSysfsAll(devices);
    assert.deepEqual(all.map((d) => [d.bdf, d.name, d.vendor, d.device]), [
      ['0000:00:00.0', 'PCI device 0000:00:00.0', '0x8086', '0x1237'],
      ['0000:01:00.0', 'PCI device 0000:01:00.0', '0x10de', '0x2330'],
      ['10000:e1:00.0', 'PCI device 10000:e1:00.0', '0x15b3', '0x101d'],
    ]);
    assert.deepEqual(bars(all[0]), []);
    assert.deepEqual(bars(all[2]), [[0, 0x80, 'io', false, false, false], [1, 32 * 2 ** 20, 0x3fffe000000, true, true, true]]);
    // the same GPU through lspci: the same BARs
    assert.deepEqual(bars(all[1]), bars(importLspci(GPU_LSPCI)));
    // a device directory on its own (the symlink or its target) is that one device
    assert.equal(importSysfsDir(path.join(devices, '0000:01:00.0')).bdf, '0000:01:00.0');
    assert.deepEqual(importSysfsAll(path.join(root, 'sys', 'devices', 'pci0000:00', '0000:01:00.0')).map((d) => d.bdf), ['0000:01:00.0']);
    assert.equal(sysfsDeviceDirs(path.join(devices, '0000:01:00.0')), null);
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('--bdf picks one device of /sys/bus/pci/devices, as of a whole-machine lspci listing', () => {
  const { root, devices } = fakeSysfs();
  const err = (re: RegExp) => (e: unknown) => e instanceof InputError && re.test(e.message);
  try {
    assert.equal(importSysfs(devices, '01:00.0').bdf, '0000:01:00.0');
    assert.equal(importSysfs(devices, '10000:E1:00.0').bdf, '10000:e1:00.0');
    assert.equal(loadDevice(devices, '0000:01:00.0').vendor, '0x10de');
    assert.throws(() => importSysfs(devices), err(/holds 3 devices \(0000:00:00\.0, 0000:01:00\.0, 10000:e1:00\.0\): choose one with --bdf$/));
    assert.throws(() => loadDevice(devices), err(/holds 3 devices/));
    assert.throws(() => importSysfs(devices, '02:00.0'), err(/^--bdf: no device "02:00.0" in .*devices \(0000:00:00\.0, /));
    assert.throws(() => importSysfs(devices, 'zz'), err(/^--bdf: expected \[dddd:\]bb:dd\.f/));
    assert.throws(() => importSysfs(path.join(devices, '0000:01:00.0'), '02:00.0'), err(/^--bdf: the device is 0000:01:00\.0, not "02:00.0"/));
    // a directory that is neither
    assert.throws(() => importSysfsAll(path.join(root, 'sys')), err(/no readable "resource" file \(expected \/sys\/bus\/pci\/devices or/));
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('a malformed resource file of one device names that file and line; a dangling symlink names the entry', () => {
  const { root, devices } = fakeSysfs({ '0000:03:00.0': GPU.replace(/\n0x0000028000000000 \S+/, '\n0x0000028000000000 zz') });
  try {
    assert.throws(() => importSysfsAll(devices), (e: unknown) => e instanceof InputError && /0000:03:00\.0\/resource line 2: expected "0x<start> 0x<end> 0x<flags>"/.test(e.message));
    // the others are still usable one at a time
    assert.equal(importSysfs(devices, '01:00.0').bdf, '0000:01:00.0');
    fs.rmSync(path.join(root, 'sys', 'devices', 'pci0000:00', '0000:03:00.0'), { recursive: true });
    assert.throws(() => importSysfsAll(devices), (e: unknown) => e instanceof InputError && /0000:03:00\.0: no readable "resource" file/.test(e.message));
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

test('CLI: plan --sysfs /sys/bus/pci/devices plans every device, --bdf one; compare and align-test take it with --bdf', () => {
  const { root, devices } = fakeSysfs();
  try {
    const all = run(['plan', '--sysfs', devices, '--kernel', 'v2', '--json']);
    assert.equal(all.status, 0, all.stderr);
    const objs = all.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(objs.map((o) => o.bdf), ['0000:00:00.0', '0000:01:00.0', '10000:e1:00.0']);
    assert.deepEqual(objs[1].plan.map((b: { bar: number }) => b.bar), [0, 1, 3]);
    const text = run(['plan', '--sysfs', devices, '--kernel', 'v2']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^PCI device 0000:00:00\.0, THP "always"\n  no BARs\n/);
    assert.match(text.stdout, /\nPCI device 0000:01:00\.0, THP "always"\n\nBAR0: 16M at 0xfa000000, 32-bit, non-prefetchable\n/);
    assert.match(text.stdout, /\nBAR1: 128G at 0x28000000000, 64-bit, prefetchable \(with BAR2, its upper half\)\n  v2 +128×1G +128 faults\n/);
    assert.match(text.stdout, /\nPCI device 10000:e1:00\.0, THP "always"\n\nBAR0: 128 I\/O ports\n  I\/O ports: vfio-pci gives no mmap for them/);

    // --bdf: the one device; the same plan as --lspci of the same GPU
    const one = run(['plan', '--sysfs', devices, '--bdf', '01:00.0', '--kernel', 'linux-6.12,v2', '--json']);
    assert.equal(one.status, 0, one.stderr);
    assert.equal(one.stdout.trimEnd().split('\n').length, 1);
    const fromSysfs = JSON.parse(one.stdout);
    const lspci = path.join(root, 'lspci.txt');
    fs.writeFileSync(lspci, GPU_LSPCI);
    const fromLspci = JSON.parse(run(['plan', '--lspci', lspci, '--kernel', 'linux-6.12,v2', '--json']).stdout);
    const leaves = (p: any) => p.plan.map((b: any) => [b.bar, b.kernels.map((k: any) => [k.variant, k.leaves, k.faults]), b.recipe]);
    assert.deepEqual(leaves(fromSysfs), leaves(fromLspci));
    assert.equal(run(['plan', '--sysfs', devices, '--bdf', '05:00.0']).status, 2);

    // compare and align-test: --device /sys/bus/pci/devices needs --bdf, like a listing of several
    const cmp = run(['compare', '--device', devices, '--bdf', '0000:01:00.0', '--kernels', 'v2', '--json']);
    assert.equal(cmp.status, 0, cmp.stderr);
    const c = JSON.parse(cmp.stdout);
    assert.equal(c.bar, 1);
    assert.deepEqual(c.rows[0].leaves, { pud: 128, pmd: 0, pte: 0 });
    const no = run(['compare', '--device', devices, '--kernels', 'v2']);
    assert.equal(no.status, 2);
    assert.match(no.stderr, /^pfnmap: .*devices: holds 3 devices \(0000:00:00\.0, 0000:01:00\.0, 10000:e1:00\.0\): choose one with --bdf\n$/);
    const at = run(['align-test', '--device', devices, '--bdf', '10000:e1:00.0', '--kernel', 'v2', '--loops', '50']);
    assert.equal(at.status, 0, at.stdout + at.stderr);
    assert.match(at.stdout, /\[BAR1\]: size 0x2000000, order 25/);
    assert.equal(run(['align-test', '--device', devices, '--kernel', 'v2']).status, 2);
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});
