// VFIO device mappings under each kernel variant: placement congruence, fallbacks, faults
// and page-table sharing, errors and hazards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VARIANTS, VARIANT_NAMES, type VariantName } from '../src/kernels/variants.js';
import { VfioProcess, mapBar } from '../src/vfio/process.js';
import { preset } from '../src/devices/presets.js';
import { touchRange } from '../src/mm/memory.js';
import { sysMunmap } from '../src/mm/mmap.js';
import { sysMprotect } from '../src/mm/mprotect.js';
import { errnoName, MAP_PRIVATE, MAP_SHARED, MAP_FIXED, MAP_ANONYMOUS, MAP_NORESERVE } from '../src/mm/uapi.js';
import type { Device } from '../src/devices/device.js';

const GIB = 2 ** 18; // pages
const MIB2 = 2 ** 9;
const gpu = preset('gpu-128g')!;
const pg = (pgNum: number) => ({ pg: pgNum, sub: 0 });

function proc(v: VariantName, extra = {}) {
  const p = new VfioProcess(VARIANTS[v], { thpEnabled: 'always', ...extra });
  return { p, f: p.openDevice(gpu) };
}

/** the alignment each design promises for a full-BAR mapping of `pages` */
function promised(v: VariantName, pages: number): number {
  if (['v1', 'order-arg', 'v2', 'userspace'].includes(v)) return pages >= GIB ? GIB : pages >= MIB2 ? MIB2 : 1;
  if (v === 'linux-6.12') return pages % MIB2 === 0 ? MIB2 : 1;
  return 1;
}

test('each variant places every BAR of every preset with the congruence it promises', () => {
  for (const name of ['gpu-128g', 'gpu-a100-80g', 'gpu-l40s', 'nic-32m', 'nvme-16k']) {
    const dev = preset(name)!;
    for (const v of VARIANT_NAMES) {
      const p = new VfioProcess(VARIANTS[v]);
      const f = p.openDevice(dev);
      for (const r of dev.regions.filter((x) => x.kind === 'bar' && x.mmap)) {
        const a = mapBar(p, f, r.index, 0, r.size);
        assert.ok(a > 0, `${name} BAR${r.index} ${v}: ${errnoName(-a)}`);
        const pages = r.size / 4096;
        const align = promised(v, pages);
        // pgoff and the physical address are congruent for a size-aligned BAR
        assert.equal(a % align, (r.start / 4096) % align, `${name} BAR${r.index} under ${v}: VA ${(a * 4096).toString(16)} not ≡ phys mod ${align} pages`);
      }
    }
  }
});

test('released 6.13+ kernels place a BAR where the plain allocator would', () => {
  for (const v of ['linux-6.18', 'linux-7.2'] as const) {
    const { p, f } = proc(v);
    const plain = p.mm.getUnmappedArea(f, 0, 2 ** 25, 2 * 2 ** 28, 0x01);
    assert.equal(mapBar(p, f, 2, 0, gpu.regions[2].size), plain);
  }
});

test('a partial mapping keeps the residue of its offset; v2 makes one attempt only (no 2 MiB retry after 1 GiB)', () => {
  const residue = 0x201000 / 4096 % MIB2;
  for (const v of ['v1', 'v2', 'order-arg'] as const) {
    // 64 MiB of BAR2 from offset 2 MiB + 4 KiB: every design asks for 2 MiB, congruent to the offset
    const { p, f } = proc(v);
    assert.equal(mapBar(p, f, 2, 0x201000, 0x4000000) % MIB2, residue, v);
    // 1 GiB from the same offset holds no aligned 1 GiB block: v1 retries at 2 MiB, the
    // order designs return PUD_ORDER, the padded search is refused, and they fall back unaligned
    const { p: q, f: g } = proc(v);
    const a = mapBar(q, g, 2, 0x201000, 0x40000000);
    if (v === 'v1') assert.equal(a % MIB2, residue);
    else assert.notEqual(a % MIB2, residue, `${v} has no smaller-order retry`);
  }
});

test('a hint turns alignment off in v2; the padded search failing falls back to an unaligned address', () => {
  const { p, f } = proc('v2');
  const hint = 0x100000 + 3; // pages: an unaligned free address
  const r = p.mmap(pg(hint), pg(GIB), 3, MAP_SHARED, f, pg(2 * 2 ** 28));
  assert.equal(r, hint);
  // leave exactly one hole of 1 GiB + 8 KiB below mmap_base: len + 1 GiB cannot fit anywhere
  const { p: q, f: g } = proc('v2');
  const top = q.mm.mmapBase - 8000; // below the libraries
  const holeEnd = top;
  const holeStart = holeEnd - GIB - 2;
  assert.ok(q.mmap(pg(0x10), pg(holeStart - 0x10), 0, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, null, pg(0)) > 0);
  const got = q.mmap(pg(0), pg(GIB), 3, MAP_SHARED, g, pg(2 * 2 ** 28));
  assert.ok(got > 0);
  assert.notEqual(got % MIB2, 0, 'no alignment was possible');
});

test('compat callers get no alignment; without ARCH_SUPPORTS_PUD_PFNMAP v2 asks for 2 MiB', () => {
  for (const v of ['v1', 'v2', 'order-arg', 'linux-6.12'] as const) {
    const { p: c, f: cf } = proc(v, { compat: true });
    const plain = c.mm.getUnmappedArea(cf, 0, gpu.regions[2].size / 4096, 2 * 2 ** 28, 0x01);
    assert.equal(mapBar(c, cf, 2, 0, gpu.regions[2].size), plain, v);
  }
  const { p, f } = proc('v2', { hugePfnmap: { arch: true, pmd: true, pud: false } });
  const a = mapBar(p, f, 2, 0, gpu.regions[2].size);
  assert.equal(a % MIB2, 0);
  const t = touchRange(p.mm, a, a + 4 * GIB);
  assert.deepEqual(t.installed, { pte: 0, pmd: 4 * 512, pud: 0 });
});

test('faults follow the page tables: a table of a neighbour in the same 1 GiB stops the 1 GiB fault', () => {
  const { p, f } = proc('v2');
  const a = mapBar(p, f, 2, 0, gpu.regions[2].size);
  assert.equal(a % GIB, 0);
  const t1 = touchRange(p.mm, a, a + 2 * GIB);
  assert.equal(t1.faults, 2);
  assert.deepEqual(t1.installed, { pte: 0, pmd: 0, pud: 2 });
  // a small mapping of BAR0 placed by hand in the 1 GiB below; touching it makes a PMD table there
  const { p: q, f: g } = proc('v2');
  const b = mapBar(q, g, 2, 0, gpu.regions[2].size);
  const small = q.mmap(pg(b + 3 * GIB - 8), pg(8), 3, MAP_SHARED | MAP_FIXED, g, pg(0));
  assert.equal(small, b + 3 * GIB - 8);
  touchRange(q.mm, small, small + 8);
  const t2 = touchRange(q.mm, b, b + 3 * GIB - 8);
  // two whole GiB as PUD leaves; the third GiB's slot holds a table → 511 PMD leaves, then PTEs
  assert.deepEqual(t2.installed, { pte: 512 - 8, pmd: 511, pud: 2 });
});

test('huge faults need THP: the sysfs policy without the pfnmap bypass, MADV_HUGEPAGE aside', () => {
  for (const [v, mode, pud] of [['linux-6.18', 'madvise', 0], ['linux-6.18', 'always', 1], ['linux-7.2', 'never', 1], ['v2', 'never', 0]] as const) {
    const p = new VfioProcess(VARIANTS[v], { thpEnabled: mode });
    const f = p.openDevice(gpu);
    const a = p.mmap(pg(0x100000 * 4), pg(GIB), 3, MAP_SHARED | MAP_FIXED, f, pg(2 * 2 ** 28));
    const t = touchRange(p.mm, a, a + GIB);
    assert.equal(t.installed.pud, pud, `${v} with ${mode}`);
  }
});

test('vfio_pci_core_mmap refuses what the kernel refuses, after the address search', () => {
  const { p, f } = proc('linux-6.18');
  const e = (r: number) => errnoName(-r);
  assert.equal(e(p.mmap(pg(0), pg(1), 3, MAP_PRIVATE, f, pg(0))), 'EINVAL'); // not shared
  assert.equal(e(p.mmap(pg(0), pg(1), 3, MAP_SHARED, f, pg(7 * 2 ** 28))), 'EINVAL'); // config space
  assert.equal(e(p.mmap(pg(0), pg(4097), 3, MAP_SHARED, f, pg(0))), 'EINVAL'); // past the 16 MiB BAR0
  assert.equal(e(p.mmap(pg(0), pg(1), 3, MAP_SHARED, f, pg(1 * 2 ** 28))), 'EINVAL'); // BAR1: upper half of BAR0
  const nvme = preset('nvme-16k')!;
  const g = p.openDevice(nvme as Device);
  assert.ok(p.mmap(pg(0), pg(4), 3, MAP_SHARED, g, pg(0)) > 0);
  // a failing MAP_FIXED over an existing mapping leaves the range empty
  const anon = p.mmap(pg(0), pg(4), 3, MAP_PRIVATE | MAP_ANONYMOUS, null, pg(0));
  assert.equal(e(p.mmap(pg(anon), pg(4), 3, MAP_PRIVATE | MAP_FIXED, f, pg(0))), 'EINVAL');
  assert.equal(p.mm.findVmaIntersection(anon, anon + 4), null);
});

test('munmap of a page inside a 1 GiB leaf is a kernel hazard; at a 2 MiB boundary it zaps the leaf', () => {
  const { p, f } = proc('linux-7.2');
  const a = p.mmap(pg(0x100000 * 4), pg(2 * GIB), 3, MAP_SHARED | MAP_FIXED, f, pg(2 * 2 ** 28));
  touchRange(p.mm, a, a + 2 * GIB);
  assert.equal(sysMunmap(p.mm, pg(a + MIB2), pg(MIB2)), 0);
  assert.equal(p.mm.hazard, null);
  assert.deepEqual(p.mm.pgtables.leaves(a, a + 2 * GIB), { pud: 1, pmd: 0, pte: 0 });
  assert.equal(sysMprotect(p.mm, pg(a + GIB + 1), pg(1), 1), 0);
  assert.equal(p.mm.hazard, 'pmd-split-in-pud-leaf');
});
