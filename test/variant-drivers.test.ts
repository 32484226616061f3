// The vfio_device layer beyond vfio-pci (nvgrace-gpu, vfio-platform), the userspace recipes
// as VMMs ship them (qemu, cloud-hypervisor, congruent) and sparse mmap areas: each
// promise checked from the page-table state the model leaves behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseVariant, requireVariant, VARIANTS } from '../src/kernels/variants.js';
import { parseBase } from '../src/kernels/bases.js';
import { parseDevice, deviceToJson, type Device } from '../src/devices/device.js';
import { preset } from '../src/devices/presets.js';
import { VfioProcess, mapBar } from '../src/vfio/process.js';
import { regionPgoffPages } from '../src/vfio/pci.js';
import { x86_64 } from '../src/arch/x86_64.js';

const REGION_PGOFF_PAGES = regionPgoffPages(x86_64);
import { mapAndTouch, mapAreasAndTouch } from '../src/cli/analyze.js';
import { recipeAlignPages } from '../src/vfio/recipes.js';
import { touchRange } from '../src/mm/memory.js';
import type { MmStruct } from '../src/mm/mm.js';
import { MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../src/mm/uapi.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const GIB = 2 ** 30;
const MIB = 2 ** 20;
const PUD_PAGES = 2 ** 18;
const PMD_PAGES = 512;
/** what `pfnmap compare` assumes by default; the 6.18.44 aliases follow the THP sysfs mode */
const ALWAYS = { thpEnabled: 'always' as const };
const gh200 = preset('gh200-96g')!;
const sparseBar = parseDevice(JSON.parse(fs.readFileSync(path.join(root, 'fixtures', 'devices', 'sparse-msix-bar.json'), 'utf8')));
const platform = parseDevice(JSON.parse(fs.readFileSync(path.join(root, 'fixtures', 'devices', 'platform-mmio.json'), 'utf8')));

/** The pfn page `pg` maps, read from the page tables (-1: not mapped). */
function pfnOf(mm: MmStruct, pg: number): number {
  const g = mm.pgtables.pudSlot(pg);
  if (g === undefined) return -1;
  if (typeof g === 'number') return g + (pg % PUD_PAGES);
  const s = Math.floor(pg / PMD_PAGES) % 512;
  if (g.kind[s] === 1) return g.pfn[s] + (pg % PMD_PAGES); // SLOT_LEAF
  return g.get(s, pg % PMD_PAGES);
}

const nvgrace = (start: number, size: number, migHwBug: boolean): Device => parseDevice({
  format: 'pfnmap-device/1', name: 'test nvgrace', driver: 'nvgrace-gpu',
  devmem: { start: '0x' + start.toString(16), size: '0x' + size.toString(16), migHwBug },
  regions: [{ index: 0, kind: 'bar', start: '0x44000000000', size: '0x1000000', mem64: true, prefetchable: true }],
});

test('nvgrace-gpu: the regions it reports (usemem/resmem split, power-of-two fake BARs, one sparse area each)', () => {
  const r4 = gh200.regions.find((r) => r.index === 4)!;
  const r2 = gh200.regions.find((r) => r.index === 2)!;
  // Grace Hopper: 1 GiB of resmem from the end, usemem the rest rounded down to 512 MiB
  assert.equal(r4.memlength, 95 * GIB);
  assert.equal(r4.size, 128 * GIB);
  assert.equal(r4.start, 0x400000000000);
  assert.deepEqual(r4.sparse, [{ offset: 0, size: 95 * GIB }]);
  assert.equal(r2.start, 0x400000000000 + 95 * GIB);
  assert.equal(r2.memlength, GIB);
  assert.equal(r2.size, GIB);
  // 96.25 GiB with the bug: usemem rounds down to 95 GiB, resmem takes the remaining 1.25 GiB (bar 2 GiB)
  const odd = nvgrace(0x400000000000, 96 * GIB + 256 * MIB, true);
  assert.equal(odd.regions.find((r) => r.index === 4)!.memlength, 95 * GIB);
  assert.equal(odd.regions.find((r) => r.index === 2)!.memlength, GIB + 256 * MIB);
  assert.equal(odd.regions.find((r) => r.index === 2)!.size, 2 * GIB);
  // Grace Blackwell (no MIG bug): the whole memory is usemem, no resmem region
  const gb = nvgrace(0x400000000000, 186 * GIB, false);
  assert.equal(gb.regions.find((r) => r.index === 4)!.memlength, 186 * GIB);
  assert.equal(gb.regions.find((r) => r.index === 4)!.size, 256 * GIB);
  assert.equal(gb.regions.find((r) => r.index === 2), undefined);
  // the file keeps devmem, not the derived regions, and reads back the same
  for (const d of [gh200, odd, gb]) assert.deepEqual(parseDevice(deviceToJson(d)), d);
  assert.equal((deviceToJson(gh200) as { regions: { index: number }[] }).regions.some((r) => r.index === 4), false);
});

test('nvgrace-gpu on 7.2: huge_fault maps pfn = memphys + the page offset, counted from the page tables', () => {
  const p = new VfioProcess(requireVariant('congruent@linux-7.2'));
  const f = p.openDevice(gh200);
  const a = mapBar(p, f, 4, 0, 95 * GIB);
  assert.ok(a > 0 && a % PUD_PAGES === 0, 'congruent with pgoff 4 << 40: 1 GiB aligned');
  const t = touchRange(p.mm, a, a + 95 * PUD_PAGES);
  assert.equal(t.faults, 95);
  assert.deepEqual(p.mm.pgtables.leaves(a, a + 95 * PUD_PAGES), { pud: 95, pmd: 0, pte: 0 });
  assert.equal(pfnOf(p.mm, a), 0x400000000000 / 4096);
  assert.equal(pfnOf(p.mm, a + 3 * PUD_PAGES + 77), 0x400000000000 / 4096 + 3 * PUD_PAGES + 77);
  // a window 2 MiB + 4 KiB into usemem: pfn = memphys + that offset, 4 KiB pages where not aligned
  const q = new VfioProcess(requireVariant('linux-7.2'));
  const g = q.openDevice(gh200);
  const b = mapBar(q, g, 4, 2 * MIB + 4096, 4 * MIB);
  assert.ok(b > 0);
  touchRange(q.mm, b, b + 1024);
  assert.equal(pfnOf(q.mm, b), 0x400000000000 / 4096 + 513);
  // resmem (BAR2) is the device memory after usemem
  const c = mapBar(q, g, 2, 0, GIB);
  touchRange(q.mm, c, c + 1);
  assert.equal(pfnOf(q.mm, c), (0x400000000000 + 95 * GIB) / 4096);
});

test('nvgrace-gpu mmap: up to memlength (not bar_size), MAP_PRIVATE allowed, other regions go to vfio_pci_core_mmap', () => {
  const p = new VfioProcess(requireVariant('linux-7.2'));
  const f = p.openDevice(gh200);
  const len = (b: number) => ({ pg: b / 4096, sub: 0 });
  const off = (i: number, b = 0) => ({ pg: i * REGION_PGOFF_PAGES + b / 4096, sub: 0 });
  // past memlength (95 GiB) but inside the reported 128 GiB BAR: EINVAL
  assert.equal(p.mmap(len(0), len(96 * GIB), PROT_READ | PROT_WRITE, MAP_SHARED, f, off(4)), -22);
  assert.equal(p.mmap(len(0), len(2 * MIB), PROT_READ | PROT_WRITE, MAP_SHARED, f, off(4, 95 * GIB)), -22);
  // nvgrace_gpu_mmap() does not check VM_SHARED; vfio_pci_core_mmap() (BAR0) does
  assert.ok(p.mmap(len(0), len(2 * MIB), PROT_READ, MAP_PRIVATE, f, off(4)) > 0);
  assert.equal(p.mmap(len(0), len(2 * MIB), PROT_READ, MAP_PRIVATE, f, off(0)), -22);
  assert.ok(p.mmap(len(0), len(2 * MIB), PROT_READ | PROT_WRITE, MAP_SHARED, f, off(0)) > 0);
});

test('nvgrace-gpu before 6.19: remap_pfn_range() at mmap, 4 KiB PTEs and no fault, whatever the placement', () => {
  assert.equal((parseBase('linux-6.18') as { nvgraceHugeFault: boolean }).nvgraceHugeFault, false);
  assert.equal((parseBase('linux-7.2') as { nvgraceHugeFault: boolean }).nvgraceHugeFault, true);
  for (const k of ['linux-6.18', 'congruent@linux-6.18', 'linux-6.12+v2']) {
    const r = mapAreasAndTouch(k, gh200, 4);
    assert.equal(r.faults, 0, k);
    assert.deepEqual(r.leaves, { pud: 0, pmd: 0, pte: 95 * PUD_PAGES }, k);
  }
});

test('nvgrace-gpu under each design: the posted hooks are in vfio_pci_ops only, so it takes the fallback', () => {
  const plain = mapAreasAndTouch('linux-7.2', gh200, 4);
  for (const k of ['linux-7.2+v1', 'linux-7.2+v2', 'linux-7.2+order-arg', 'linux-7.2+v3-rule']) {
    const r = mapAreasAndTouch(k, gh200, 4);
    assert.equal(r.addr, plain.addr, `${k}: placed as with no hook`);
    assert.equal(r.leaves.pte, 95 * PUD_PAGES, k);
    assert.equal(r.faults, 95 * PUD_PAGES, k);
  }
  // thp-fops asks no driver: 2 MiB congruence for every device fd
  const thp = mapAreasAndTouch('linux-7.2+thp-fops', gh200, 4);
  assert.deepEqual(thp.leaves, { pud: 0, pmd: 95 * 512, pte: 0 });
  // the what-ifs: the exported helpers in nvgrace_gpu_pci_ops
  for (const k of ['linux-7.2+v1-export', 'linux-7.2+v2-export']) {
    const r = mapAreasAndTouch(k, gh200, 4);
    assert.deepEqual(r.leaves, { pud: 95, pmd: 0, pte: 0 }, k);
    assert.equal(r.faults, 95, k);
  }
  // vfio-pci devices are unchanged by the what-ifs
  const gpu = preset('gpu-128g')!;
  assert.deepEqual(mapAndTouch('linux-7.2+v2-export', gpu, 2, 0, 128 * GIB).leaves, mapAndTouch('linux-7.2+v2', gpu, 2, 0, 128 * GIB).leaves);
});

test('nvgrace-gpu with memphys not 1 GiB aligned: VA ≡ pgoff (v2-export, congruent) is not VA ≡ phys; v1-export keeps PUD leaves', () => {
  const d = nvgrace(0x400000000000 + 512 * MIB, 8 * GIB, false); // memphys 512 MiB aligned
  const v1 = mapAreasAndTouch('linux-7.2+v1-export', d, 4);
  const v2 = mapAreasAndTouch('linux-7.2+v2-export', d, 4);
  const cong = mapAreasAndTouch('congruent@linux-7.2', d, 4);
  const qemu = mapAreasAndTouch('qemu@linux-7.2', d, 4);
  assert.equal(v1.leaves.pud, 7, 'congruent with memphys: every whole 1 GiB block of phys');
  assert.equal(v2.leaves.pud, 0);
  assert.equal(v2.leaves.pmd, 8 * 512);
  assert.ok(v2.fallback.pud > 0, 'the 1 GiB attempts fall back on the pfn check');
  assert.deepEqual(cong.leaves, v2.leaves);
  assert.deepEqual(qemu.leaves, v2.leaves, 'QEMU aligns the VA absolutely: same as congruence with pgoff here');
});

test('vfio-platform: no hook in any design; remap_pfn_range at mmap, so no faults and 4 KiB leaves under every one', () => {
  const base = mapAndTouch('linux-7.2', platform, 0, 0, 64 * MIB);
  assert.equal(base.faults, 0);
  assert.deepEqual(base.leaves, { pud: 0, pmd: 0, pte: 16384 });
  for (const k of ['linux-7.2+v1', 'linux-7.2+v2', 'linux-7.2+order-arg', 'linux-7.2+v3-rule', 'linux-7.2+v2-export', 'linux-6.12', 'v2']) {
    const r = mapAndTouch(k, platform, 0, 0, 64 * MIB);
    assert.deepEqual(r.leaves, base.leaves, k);
    assert.equal(r.faults, 0, k);
    if (k.startsWith('linux-7.2')) assert.equal(r.addr, base.addr, `${k}: the fallback places it as no hook`);
  }
  // thp-fops and 6.12's hook-less THP branch align it; the leaves stay 4 KiB
  for (const k of ['linux-7.2+thp-fops', 'linux-6.12']) {
    const r = mapAndTouch(k, platform, 0, 0, 64 * MIB);
    assert.equal(BigInt(r.addr!) % BigInt(2 * MIB), 0n, k);
  }
  // the pfn is the region's: vfio_platform_mmap_mmio sets vm_pgoff = region pfn + offset
  const p = new VfioProcess(requireVariant('linux-7.2'));
  const f = p.openDevice(platform);
  const a = mapBar(p, f, 0, 8192, 4096);
  assert.equal(pfnOf(p.mm, a), 0x40000000 / 4096 + 2);
  assert.equal(p.mm.tree.findVma(a)!.pgoff, 0x40000000 / 4096 + 2);
  // the 256-byte region 2 is not page aligned: no VFIO_REGION_INFO_FLAG_MMAP, EINVAL
  assert.equal(platform.regions.find((r) => r.index === 2)!.mmap, false);
  assert.equal(mapBar(p, f, 2, 0, 4096), -22);
  assert.equal(mapBar(p, f, 1, 0, 8192), -22, 'past the 4 KiB region');
});

test('recipes: the alignment each VMM asks for', () => {
  const best = 2 ** 18;
  // QEMU: MIN(1 << ctz64(size), 1 GiB)
  assert.equal(recipeAlignPages('qemu', 128 * PUD_PAGES, best), PUD_PAGES);
  assert.equal(recipeAlignPages('qemu', 16 * 256, best), 16 * 256);
  assert.equal(recipeAlignPages('qemu', (4 * GIB - 64 * 1024) / 4096, best), 16);
  // Cloud Hypervisor: 2 MiB when the length is a multiple of 2 MiB, else none
  assert.equal(recipeAlignPages('cloud-hypervisor', 128 * PUD_PAGES, best), 512);
  assert.equal(recipeAlignPages('cloud-hypervisor', 513, best), 1);
  assert.equal(recipeAlignPages('congruent', 5, 1), 1);
});

test('recipes on a whole BAR: QEMU gets 1 GiB, Cloud Hypervisor 2 MiB, congruent 1 GiB; userspace is congruent@linux-6.18', () => {
  const gpu = preset('gpu-128g')!;
  const q = mapAndTouch('qemu', gpu, 2, 0, 128 * GIB, ALWAYS);
  assert.deepEqual(q.leaves, { pud: 128, pmd: 0, pte: 0 });
  assert.equal(q.faults, 128);
  const ch = mapAndTouch('cloud-hypervisor@linux-7.2', gpu, 2, 0, 128 * GIB, ALWAYS);
  assert.deepEqual(ch.leaves, { pud: 0, pmd: 65536, pte: 0 });
  assert.equal(BigInt(ch.addr!) % BigInt(2 * MIB), 0n);
  const c = mapAndTouch('congruent', gpu, 2, 0, 128 * GIB, ALWAYS);
  const u = mapAndTouch('userspace', gpu, 2, 0, 128 * GIB, ALWAYS);
  assert.deepEqual({ ...c, variant: '' }, { ...u, variant: '' });
  // a window 2 MiB + 4 KiB into the BAR: absolute alignment loses every huge leaf, congruence keeps 511
  const w = (k: string) => mapAndTouch(k, gpu, 2, 2 * MIB + 4096, GIB, ALWAYS);
  assert.deepEqual(w('qemu').leaves, { pud: 0, pmd: 0, pte: 262144 });
  assert.equal(w('congruent').leaves.pmd, 511);
  assert.equal(w('cloud-hypervisor').leaves.pmd, 0);
});

test('sparse mmap: each recipe maps each area; QEMU\'s absolute alignment loses the leaves congruence keeps', () => {
  const area = sparseBar.regions[0].sparse![0];
  assert.deepEqual(area, { offset: 0x10000, size: 4 * GIB - 0x10000 });
  const qemu = mapAreasAndTouch('qemu', sparseBar, 0, ALWAYS);
  const cong = mapAreasAndTouch('congruent', sparseBar, 0, ALWAYS);
  const v2 = mapAreasAndTouch('v2', sparseBar, 0, ALWAYS);
  assert.equal(qemu.areas!.length, 1);
  assert.equal(qemu.leaves.pud + qemu.leaves.pmd, 0);
  assert.equal(qemu.faults, (4 * GIB - 0x10000) / 4096);
  assert.equal(qemu.areas![0].congruence, 65536, 'an aligned VA for an area at 0x10000: congruent only modulo 64 KiB');
  // congruent: VA ≡ 0x10000 mod 1 GiB, so the 3 whole 1 GiB blocks and 511 2 MiB blocks map huge
  assert.deepEqual(cong.leaves, { pud: 3, pmd: 511, pte: 496 });
  assert.equal(cong.faults, 3 + 511 + 496);
  assert.equal(cong.areas![0].congruence, GIB);
  assert.deepEqual(v2.leaves, cong.leaves, 'v2 places the area congruent with its pgoff too');
  // two areas (a page carved out in the middle): each its own mmap, summed
  const two = parseDevice({ ...(deviceToJson(sparseBar) as object), regions: [{ index: 0, kind: 'bar', start: '0x3c0000000000', size: '0x100000000', mem64: true, mmap: true,
    sparse: [{ offset: '0x0', size: '0x80000000' }, { offset: '0x80001000', size: '0x7ffff000' }] }] });
  const r = mapAreasAndTouch('congruent', two, 0, ALWAYS);
  assert.equal(r.areas!.length, 2);
  assert.equal(r.leaves.pud, 2 + 1);
  const q2 = mapAreasAndTouch('qemu', two, 0, ALWAYS);
  assert.equal(q2.areas![0].alignment, GIB);
  assert.equal(q2.areas![1].leaves.pud + q2.areas![1].leaves.pmd, 0, 'second area: 4 KiB aligned size, absolute VA');
});

test('recipe names: RECIPE@KERNEL, aliases, and one line naming what is wrong', () => {
  assert.equal(requireVariant('qemu').base.name, 'linux-6.18');
  assert.equal(requireVariant('qemu@linux-7.2+v2').series, 'v2');
  assert.equal(requireVariant('qemu@linux-7.2+v2').recipe, 'qemu');
  assert.equal(VARIANTS.userspace.userspaceRecipe, true);
  const bad = (n: string, re: RegExp) => {
    const r = parseVariant(n);
    assert.ok('error' in r, n);
    assert.match((r as { error: string }).error, re);
  };
  bad('firecracker@linux-7.2', /unknown recipe "firecracker"/);
  bad('qemu@linux-9.9', /unknown base "linux-9.9"/);
  bad('qemu@userspace', /already maps with a recipe/);
  bad('qemu@linux-7.2+v9', /unknown series "v9"/);
  bad('linux-6.11+v2-export', /cannot sit on linux-6.11/);
});

test('CLI: compare lists the recipes beside the designs, nvgrace-gpu and a sparse BAR area by area', () => {
  const r = run(['compare', '--device', 'gh200-96g', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout).rows as { variant: string; leaves: { pud: number }; areas: unknown[] }[];
  assert.deepEqual(rows.map((x) => x.variant), ['linux-6.18', 'v1', 'v2', 'qemu', 'cloud-hypervisor', 'congruent']);
  assert.equal(JSON.parse(r.stdout).bar, 4);
  assert.ok(rows.every((x) => x.areas.length === 1));
  const text = run(['compare', '--device', path.join(root, 'fixtures', 'devices', 'sparse-msix-bar.json'), '--kernels', 'qemu,congruent']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /sparse mmap areas \[0x10000, \+0xffff0000\)/);
  assert.match(text.stdout, /congruent .*3×1G \+ 511×2M \+ 496×4K/);
  assert.match(text.stdout, /VA ≡ offset mod 1G/);
  const svg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-svg-')), 'sparse.svg');
  const drawn = run(['compare', '--device', path.join(root, 'fixtures', 'devices', 'sparse-msix-bar.json'), '--kernels', 'qemu,congruent', '--svg', svg]);
  assert.equal(drawn.status, 0, drawn.stderr);
  assert.match(fs.readFileSync(svg, 'utf8'), /^<svg[^>]*>[\s\S]*its sparse area from 0x10000/);
  const kernels = run(['kernels']);
  assert.match(kernels.stdout, /huge_fault in nvgrace-gpu\s+no\s+no\s+no\s+yes\s+yes/);
  assert.match(kernels.stdout, /v2-export\s+what-if/);
  const planned = run(['plan', '--device', path.join(root, 'fixtures', 'devices', 'platform-mmio.json'), '--kernel', 'linux-7.2']);
  assert.equal(planned.status, 0, planned.stderr);
  assert.match(planned.stdout, /region 0: 64M at 0x40000000, MMIO \(vfio-platform\)\n  linux-7\.2 +16,384×4K +0 faults/);
  const nvplan = run(['plan', '--device', 'gh200-96g', '--kernel', 'linux-7.2']);
  assert.match(nvplan.stdout, /its sparse mmap area \[0x0, \+0x17c0000000\)/);
  assert.match(nvplan.stdout, /the recipe yields:\n  linux-7\.2 +95×1G +95 faults/);
  const plat = run(['compare', '--device', path.join(root, 'fixtures', 'devices', 'platform-mmio.json'), '--bar', '2']);
  assert.equal(plat.status, 2);
  assert.match(plat.stderr, /cannot be mmap\(\)ed/);
});

test('bad input: a region a driver cannot have is one line naming it, exit 2', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-drv-'));
  const refused = (name: string, d: unknown, re: RegExp) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, JSON.stringify(d));
    const r = run(['compare', '--device', f]);
    assert.equal(r.status, 2, `${name}: ${r.stdout}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  };
  const gh = deviceToJson(gh200) as Record<string, unknown> & { regions: unknown[] };
  refused('nv-bar4.json', { ...gh, regions: [...gh.regions, { index: 4, kind: 'bar', start: '0x0', size: '0x1000' }] },
    /nv-bar4\.json\.regions\[\d\]\.index: region 4 is one of nvgrace-gpu's fake BARs/);
  refused('nv-nodevmem.json', { ...gh, devmem: undefined }, /nv-nodevmem\.json\.devmem: required for nvgrace-gpu/);
  refused('nv-zero.json', { ...gh, devmem: { start: '0x400000000000', size: '0x0' } }, /devmem\.size: nvgrace-gpu refuses a device whose memory size is 0/);
  refused('nv-tiny.json', { ...gh, devmem: { start: '0x400000000000', size: '0x40000000', migHwBug: true } }, /devmem\.size: nvgrace-gpu carves 1 GiB of resmem/);
  refused('pci-devmem.json', { ...(deviceToJson(preset('nic-32m')!) as object), devmem: { start: '0x0', size: '0x1000' } }, /\.devmem: only nvgrace-gpu exposes device memory regions/);
  refused('driver.json', { ...(deviceToJson(preset('nic-32m')!) as object), driver: 'mlx5-vfio' }, /driver\.json\.driver: expected one of vfio-pci, nvgrace-gpu, vfio-platform, got "mlx5-vfio"/);
  const pl = deviceToJson(platform) as Record<string, unknown> & { regions: Record<string, unknown>[] };
  refused('plat-bar.json', { ...pl, regions: [{ index: 0, kind: 'bar', start: '0x40000000', size: '0x1000' }] }, /plat-bar\.json\.regions\[0\]\.kind: region 0 is a mmio region in vfio-platform, not "bar"/);
  refused('plat-mmap.json', { ...pl, regions: [{ index: 0, start: '0x40000800', size: '0x1000', mmap: true }] }, /regions\[0\]\.mmap: vfio-platform offers mmap only for a region whose start and size are page aligned/);
  const sp = deviceToJson(sparseBar) as Record<string, unknown> & { regions: Record<string, unknown>[] };
  const withSparse = (sparse: unknown, extra: Record<string, unknown> = {}) => ({ ...sp, regions: [{ ...sp.regions[0], sparse, ...extra }, ...sp.regions.slice(1)] });
  refused('sp-past.json', withSparse([{ offset: '0x10000', size: '0x100000000' }]), /regions\[0\]\.sparse\[0\]\.size: the area ends at 0x100010000, past the region's 0x100000000/);
  refused('sp-order.json', withSparse([{ offset: '0x20000', size: '0x1000' }, { offset: '0x10000', size: '0x1000' }]), /sparse\[1\]\.offset: areas are ascending and do not overlap/);
  refused('sp-page.json', withSparse([{ offset: '0x10800', size: '0x1000' }]), /sparse\[0\]\.offset: a sparse mmap area starts on a page boundary/);
  refused('sp-nommap.json', withSparse([{ offset: '0x0', size: '0x1000' }], { mmap: false }), /regions\[0\]\.sparse: sparse mmap areas belong to a region VFIO lets you mmap/);
  refused('sp-memlength.json', { ...sp, regions: [{ ...sp.regions[0], memlength: '0x1000' }] }, /regions\[0\]\.memlength: set by nvgrace-gpu from devmem, never given/);
  fs.rmSync(dir, { recursive: true, force: true });
});
