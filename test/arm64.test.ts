import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arm64Leaves, arm64BestLeaf, MiB, GiB, KiB } from '../src/arch/arm64.js';

test('arm64 leaf sizes per granule, with what huge pfnmaps can use', () => {
  const show = (g: '4K' | '16K' | '64K') => arm64Leaves(g).map((l) => `${l.kind}:${l.bytes}:${l.pfnmap}`);
  assert.deepEqual(show('4K'), [`PTE:${4 * KiB}:supported`, `CONT_PTE:${64 * KiB}:proposed`, `PMD:${2 * MiB}:supported`, `CONT_PMD:${32 * MiB}:proposed`, `PUD:${GiB}:not supported`]);
  assert.deepEqual(show('16K'), [`PTE:${16 * KiB}:supported`, `CONT_PTE:${2 * MiB}:proposed`, `PMD:${32 * MiB}:supported`, `CONT_PMD:${GiB}:proposed`]);
  assert.deepEqual(show('64K'), [`PTE:${64 * KiB}:supported`, `CONT_PTE:${2 * MiB}:proposed`, `PMD:${512 * MiB}:supported`, `CONT_PMD:${16 * GiB}:proposed`]);
});

test('a 128 GiB BAR on arm64: PMD leaves today, contiguous PMDs only as proposed', () => {
  assert.equal(arm64BestLeaf('4K', 128 * GiB).today.kind, 'PMD');
  assert.equal(arm64BestLeaf('4K', 128 * GiB).proposed.kind, 'CONT_PMD');
  assert.equal(arm64BestLeaf('16K', 128 * GiB).proposed.bytes, GiB);
  assert.equal(arm64BestLeaf('64K', 16 * KiB).today.kind, 'PTE');
});

// ---- arm64 as an architecture of the model ----------------------------------------------

import { arm64, arm64PgtableLevels, arm64VaBitsMin } from '../src/arch/arm64.js';
import { ARCHES, archByName } from '../src/arch/index.js';
import { x86_64 } from '../src/arch/x86_64.js';
import { VARIANTS } from '../src/kernels/variants.js';
import { VfioProcess, mapBar } from '../src/vfio/process.js';
import { touchRange } from '../src/mm/memory.js';
import { sysMmap } from '../src/mm/mmap.js';
import { shmemZeroSetup } from '../src/kernels/linux-6.18.js';
import { MAP_PRIVATE, MAP_ANONYMOUS, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_32BIT, EOPNOTSUPP } from '../src/mm/uapi.js';
import { parseDevice, type Device } from '../src/devices/device.js';

test('arm64 geometry per granule: table levels from VA_BITS (Kconfig PGTABLE_LEVELS), PMD sizes, PMD pfnmaps only', () => {
  assert.deepEqual([arm64PgtableLevels('4K', 39), arm64PgtableLevels('4K', 48), arm64PgtableLevels('4K', 52)], [3, 4, 5]);
  assert.deepEqual([arm64PgtableLevels('16K', 47), arm64PgtableLevels('16K', 48), arm64PgtableLevels('16K', 52)], [3, 4, 4]);
  assert.deepEqual([arm64PgtableLevels('64K', 48), arm64PgtableLevels('64K', 52)], [3, 3]);
  assert.deepEqual([arm64VaBitsMin('4K', 52), arm64VaBitsMin('16K', 52), arm64VaBitsMin('64K', 52), arm64VaBitsMin('4K', 39)], [48, 47, 48, 39]);
  for (const [name, page, pmd, entries] of [['arm64-4k', 4 * KiB, 2 * MiB, 512], ['arm64-16k', 16 * KiB, 32 * MiB, 2048], ['arm64-64k', 64 * KiB, 512 * MiB, 8192]] as const) {
    const a = ARCHES[name];
    assert.equal(a.pageSize, page, name);
    assert.equal(a.pmdPages * a.pageSize, pmd, name);
    assert.equal(a.ptrsPerTable, entries, name);
    assert.equal(a.pfnmapPmd, true, name);
    assert.equal(a.pfnmapPud, false, `${name}: no HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD, so no PUD pfnmaps`);
    assert.equal(a.pages2_64, 2 ** 64 / page);
  }
  assert.equal(x86_64.pmdPages * x86_64.pageSize, 2 * MiB);
  assert.equal(x86_64.pudPages * x86_64.pageSize, GiB);
  assert.equal(archByName('toString'), undefined);
  assert.throws(() => arm64({ granule: '64K', vaBits: 39, cpu52: false }), /no ARM64_VA_BITS_39/);
});

test('arm64 layout: mmap_base under 2^VA_BITS_MIN, hints above it open the 52-bit space, an unlimited stack is bottom-up', () => {
  for (const [name, windowBits] of [['arm64-4k', 48], ['arm64-16k', 47], ['arm64-64k', 48]] as const) {
    const a = ARCHES[name];
    const p = new VfioProcess(VARIANTS['linux-7.2'], {}, { arch: a, initial: [] });
    const ps = a.pageSize;
    // an 8 MiB stack plus the guard gap is below MIN_GAP: mmap_base = STACK_TOP - 128 MiB
    assert.equal(p.mm.mmapBase * ps, 2 ** windowBits - 128 * MiB, name);
    assert.equal(p.mm.taskSize * ps, 2 ** 52, `${name}: TASK_SIZE = 2^vabits_actual`);
    const z = { pg: 0, sub: 0 };
    const one = { pg: 1, sub: 0 };
    const anon = (addr: number) => sysMmap(p.mm, { pg: addr, sub: 0 }, one, 3, MAP_PRIVATE | MAP_ANONYMOUS, null, z, shmemZeroSetup);
    assert.equal(anon(0) * ps, 2 ** windowBits - 128 * MiB - ps, `${name}: the first no-hint page sits under mmap_base`);
    // a hint above the default window is honoured where it is free
    const high = 2 ** 50 / ps;
    assert.equal(anon(high), high, name);
    // MAP_32BIT is x86's: ignored here (no low window), refused by MAP_SHARED_VALIDATE
    const r32 = sysMmap(p.mm, z, one, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, null, z, shmemZeroSetup);
    assert.ok(r32 * ps > 2 ** 32, `${name}: MAP_32BIT does not pull the mapping under 4 GiB`);
    const memfd = shmemZeroSetup(p.mm, 1);
    assert.equal(sysMmap(p.mm, z, one, 3, MAP_SHARED_VALIDATE | MAP_32BIT, memfd, z, shmemZeroSetup), -EOPNOTSUPP, name);
    assert.ok(sysMmap(p.mm, z, one, 3, MAP_SHARED | MAP_32BIT, memfd, z, shmemZeroSetup) > 0, `${name}: MAP_SHARED drops unknown flags`);
    // RLIMIT_STACK unlimited: mmap_is_legacy() — bottom-up from TASK_UNMAPPED_BASE
    const q = new VfioProcess(VARIANTS['linux-7.2'], { rlimitStack: (1n << 64n) - 1n }, { arch: a, initial: [] });
    assert.equal(q.mm.topdown, false, name);
    assert.equal(q.mm.mmapBase * ps, 2 ** windowBits / 4, name);
  }
  // x86_64 keeps its top-down layout with an unlimited stack
  const x = new VfioProcess(VARIANTS['linux-7.2'], { rlimitStack: (1n << 64n) - 1n }, { initial: [] });
  assert.equal(x.mm.topdown, true);
});

test('arm64: a 128 GiB BAR gets PMD leaves at best, v1 and v2 never try a PUD, CONT ranges are never installed', () => {
  const dev: Device = { format: 'pfnmap-device/1', name: 'gpu', regions: [
    { index: 0, kind: 'bar', start: 0x44000000000, size: 128 * GiB, mem64: true, prefetchable: true, io: false, mmap: true },
    { index: 2, kind: 'bar', start: 0x84000000, size: 64 * MiB, mem64: false, prefetchable: false, io: false, mmap: true },
  ] };
  for (const name of ['arm64-4k', 'arm64-16k', 'arm64-64k'] as const) {
    const a = ARCHES[name];
    for (const v of ['v1', 'v2', 'order-arg'] as const) {
      const p = new VfioProcess(VARIANTS[v], { thpEnabled: 'always' }, { arch: a });
      const f = p.openDevice(dev);
      // something below mmap_base first, so that the BAR is not aligned by luck
      sysMmap(p.mm, { pg: 0, sub: 0 }, { pg: 3, sub: 0 }, 3, MAP_PRIVATE | MAP_ANONYMOUS, null, { pg: 0, sub: 0 }, shmemZeroSetup);
      const va = mapBar(p, f, 0, 0, 128 * GiB);
      assert.ok(va > 0, `${name} ${v}`);
      assert.equal(va % a.pmdPages, (0x44000000000 / a.pageSize) % a.pmdPages, `${name} ${v}: VA ≡ phys mod the PMD size`);
      const pages = (128 * GiB) / a.pageSize;
      const t = touchRange(p.mm, va, va + pages);
      assert.deepEqual(p.mm.pgtables.leaves(va, va + pages), { pud: 0, pmd: pages / a.pmdPages, pte: 0 }, `${name} ${v}`);
      assert.equal(t.fallback.pud, 0, `${name} ${v}: no PUD ->huge_fault is tried where PUD pfnmaps do not exist`);
      assert.equal(t.installed.pud, 0);
    }
    // the released kernel: no placement hook, so congruence is luck; whatever it gets, the
    // leaves cover the BAR once, in the granule's sizes
    const p = new VfioProcess(VARIANTS['linux-7.2'], { thpEnabled: 'always' }, { arch: a });
    const f = p.openDevice(dev);
    const ps = a.pageSize;
    const va = mapBar(p, f, 2, 0, 64 * MiB);
    assert.ok(va > 0, name);
    const pages = (64 * MiB) / ps;
    touchRange(p.mm, va, va + pages);
    const l = p.mm.pgtables.leaves(va, va + pages);
    assert.equal(l.pud, 0, name);
    assert.equal(l.pte + l.pmd * a.pmdPages, pages, name);
  }
});

test('arm64: THP alignment of anonymous memory follows the granule PMD (2M / 32M / 512M)', () => {
  for (const name of ['arm64-4k', 'arm64-16k', 'arm64-64k'] as const) {
    const a = ARCHES[name];
    const p = new VfioProcess(VARIANTS['linux-7.2'], {}, { arch: a, initial: [] });
    const z = { pg: 0, sub: 0 };
    // a page first, so that mmap_base - len is not aligned by itself
    sysMmap(p.mm, z, { pg: 1, sub: 0 }, 3, MAP_PRIVATE | MAP_ANONYMOUS, null, z, shmemZeroSetup);
    const va = sysMmap(p.mm, z, { pg: 2 * a.pmdPages, sub: 0 }, 3, MAP_PRIVATE | MAP_ANONYMOUS, null, z, shmemZeroSetup);
    assert.equal(va % a.pmdPages, 0, `${name}: a length of two PMDs is PMD aligned`);
    const odd = sysMmap(p.mm, z, { pg: 2 * a.pmdPages + 1, sub: 0 }, 3, MAP_PRIVATE | MAP_ANONYMOUS, null, z, shmemZeroSetup);
    assert.notEqual(odd % a.pmdPages, 0, `${name}: a length that is no PMD multiple is not aligned`);
  }
});

test('arm64 traces that contradict themselves get one line naming the field; 4 KiB values on 16K are valid input', async () => {
  const { validateTrace } = await import('../src/trace/load.js');
  const { replay } = await import('../src/trace/replay.js');
  const fs = await import('node:fs');
  const zlib = await import('node:zlib');
  const path = await import('node:path');
  const { packageRoot } = await import('../src/cli/paths.js');
  const base = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(packageRoot(), 'fixtures', 'arm64', 'arm64-16k-layout.json.gz'))).toString('utf8'));
  const bad = (mut: (t: any) => void, field: RegExp) => {
    const t = structuredClone(base);
    mut(t);
    assert.throws(() => validateTrace(t), (e: Error) => field.test(e.message) && !e.message.includes('\n'), field.source);
  };
  bad((t) => (t.env.pageSize = 4096), /^env\.vaBitsActual|^env\.pgtableLevels/); // a 4K kernel has 5 levels, 48 bits of window
  bad((t) => (t.env.pageSize = 8192), /^env\.pageSize: expected 4096, 16384 or 65536/);
  bad((t) => (t.env.pgtableLevels = 3), /^env\.pgtableLevels: 16K pages with VA_BITS 52 have 4 levels/);
  bad((t) => (t.env.vaBitsActual = 48), /^env\.vaBitsActual: expected 52 or 47/);
  bad((t) => (t.env.la57 = false), /^env\.la57/);
  bad((t) => (t.arch = 'x86_64'), /^env\.pageSize: x86_64 has 4096-byte pages/);
  bad((t) => (t.arch = 'aarch64'), /^arch: expected "x86_64" or "arm64"/);
  bad((t) => (t.initial[0].end = '0x481000'), /^initial\[0\]\.end: expected a page-aligned value \(a multiple of the 16384-byte page of arm64-16k\)/);
  bad((t) => (t.env.randomize = true), /^env\.randomize/);
  // the layout list holds 4 KiB-aligned lengths and offsets on purpose: the kernel's EINVAL
  // and round-ups are the answers, and the model gives the same
  const v = validateTrace(base);
  const r = replay(v);
  assert.equal(r.firstMismatch, null);
  assert.ok(base.results.some((x: { errno?: string }) => x.errno === 'EINVAL'));
});

test('--arch names an arch or is refused in one line, on every command that takes it', async () => {
  const { spawnSync } = await import('node:child_process');
  const path = await import('node:path');
  const { packageRoot } = await import('../src/cli/paths.js');
  const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  for (const args of [['--arch', 'arm64'], ['compare', '--device', 'nvme-16k', '--arch', 'ARM64-4K'], ['plan', '--device', 'nvme-16k', '--arch', '']]) {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^pfnmap: --arch: expected one of x86_64, arm64-4k, arm64-16k, arm64-64k, got "[^"]*"\n$/);
  }
  const ok = spawnSync(process.execPath, [cli, 'compare', '--device', 'gpu-128g', '--bar', '2', '--kernels', 'linux-7.2,v2', '--arch', 'arm64-64k', '--json'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  const j = JSON.parse(ok.stdout);
  assert.equal(j.arch, 'arm64-64k');
  assert.deepEqual(j.rows[1].leafBytes, { pud: 2 ** 42, pmd: 512 * MiB, pte: 64 * KiB });
  assert.deepEqual(j.rows[1].leaves, { pud: 0, pmd: 256, pte: 0 });
});

test('inspect --arch arm64-16k on the maps the real 7.2.13 16K kernel left: the no-hint BAR mmap lands where the kernel put it', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { packageRoot } = await import('../src/cli/paths.js');
  const { inspect } = await import('../src/cli/inspect.js');
  const t = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'fixtures', 'arm64', 'arm64-16k-bar2-2g-nohint.json'), 'utf8'));
  const dev = t.files.find((f: { kind: string }) => f.kind === 'vfio-pci');
  // /proc/PID/maps text of the recorded final layout (the probe's VMAs and its BAR2 mapping)
  const hex = (v: string) => BigInt(v).toString(16).padStart(8, '0');
  const text = t.final.map((v: { start: string; end: string; perms: string; offset: string; backing: string }) =>
    `${hex(v.start)}-${hex(v.end)} ${v.perms} ${hex(v.offset)} 00:00 0 ${v.backing === dev.id ? 'anon_inode:[vfio-device]' : v.backing === 'anon' ? '' : v.backing.replace(/^process:/, '')}`).join('\n') + '\n';
  const mmapOp = t.ops.findIndex((o: { op: string; fd: string | null }) => o.op === 'mmap' && o.fd === dev.id);
  const kernelVa = t.results[mmapOp].ret as string;
  const r = inspect(text, 'arm64-16k.maps', { device: parseDevice(dev.device, 'device'), kernels: ['linux-7.2'], thp: 'always', arch: ARCHES['arm64-16k'] });
  assert.equal(r.arch, 'arm64-16k');
  assert.equal(r.mmapBase, '0x7ffff8000000');
  const m = r.vfio[0];
  assert.equal(m.start, kernelVa);
  // the model's no-hint mmap in that address space (the BAR unmapped first) is the kernel's
  assert.equal(m.noHint![0].addr, kernelVa);
  assert.deepEqual(m.today![0].leafBytes, { pud: 2 ** 36, pmd: 32 * MiB, pte: 16 * KiB });
  assert.equal(m.today![0].faults, (2 * GiB) / (16 * KiB));
  // v2 places it PMD-congruent: 64 leaves of 32 MiB
  assert.deepEqual(m.noHint!.find((x) => x.variant === 'v2')!.leaves, { pud: 0, pmd: 64, pte: 0 });
  // and the same text is no 64K process
  assert.throws(() => inspect(text, 'arm64-16k.maps', { kernels: ['linux-7.2'], thp: 'always', arch: ARCHES['arm64-64k'] }), /arm64-16k\.maps:1: .* is not made of 65536-byte pages/);
});
