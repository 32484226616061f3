// Faults by leaf runs: the model installs a run of missing PTEs in one step (VmOps.faultRun,
// PteTable's run form). The kernel faults page by page; so does touchRange(…, false). A
// random history of mmap, munmap, mprotect, decoding switches and touches must leave both
// paths with the same results and the same page tables, entry for entry, under every rule
// set of the vfio-pci fault handler and under nvgrace-gpu's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VARIANTS, requireVariant } from '../src/kernels/variants.js';
import { FAULT_RULES, type VfioPciDevice } from '../src/vfio/pci.js';
import { VfioProcess, mapBar } from '../src/vfio/process.js';
import type { VfioDeviceFile } from '../src/vfio/main.js';
import { touchRange, UnmodelledFault, blocksAlike } from '../src/mm/memory.js';
import type { MmStruct } from '../src/mm/mm.js';
import { sysMunmap } from '../src/mm/mmap.js';
import { sysMprotect } from '../src/mm/mprotect.js';
import { PageTables, PmdTable, SLOT_NONE, SLOT_LEAF } from '../src/mm/pgtable.js';
import { parseDevice, type Device } from '../src/devices/device.js';
import type { KFile } from '../src/fs/file.js';

const GIB = 2 ** 30;
const dev: Device = {
  format: 'pfnmap-device/1', name: 'runs', regions: [
    { index: 0, kind: 'bar', start: 0x4000000000, size: 4 * GIB, mem64: true, prefetchable: true, io: false, mmap: true },
    // a BAR whose physical address is 4 KiB past a 2 MiB boundary: congruence is out of reach
    { index: 2, kind: 'bar', start: 0x80201000, size: 64 * 2 ** 20, mem64: false, prefetchable: false, io: false, mmap: true },
  ],
};

/** Every entry of the page tables, in a form two tables can be compared by. */
function dump(pt: PageTables): unknown[] {
  const out: unknown[] = [pt.tables];
  for (const g of [...pt.pud.keys()].sort((a, b) => a - b)) {
    const e = pt.pud.get(g)!;
    if (typeof e === 'number') {
      out.push(['pud', g, e]);
      continue;
    }
    out.push(['pmd-table', g, e.used, e.leafCount, e.ptes]);
    for (let m = 0; m < 512; m++) {
      if (e.kind[m] === SLOT_NONE) continue;
      if (e.kind[m] === SLOT_LEAF) {
        out.push(['pmd', g, m, e.pfn[m]]);
        continue;
      }
      const ents: number[] = [];
      for (let i = 0; i < 512; i++) ents.push(e.get(m, i));
      out.push(['pte-table', g, m, e.present[m], ents.join(',')]);
    }
  }
  return out;
}

/** leaves() the slow way: every slot, every entry. */
function bruteLeaves(pt: PageTables, start: number, end: number): { pud: number; pmd: number; pte: number } {
  const c = { pud: 0, pmd: 0, pte: 0 };
  for (const [g, e] of pt.pud) {
    const gs = g * 2 ** 18;
    if (gs + 2 ** 18 <= start || gs >= end) continue;
    if (typeof e === 'number') {
      c.pud++;
      continue;
    }
    for (let m = 0; m < 512; m++) {
      const ms = gs + m * 512;
      if (ms + 512 <= start || ms >= end || e.kind[m] === SLOT_NONE) continue;
      if (e.kind[m] === SLOT_LEAF) c.pmd++;
      else for (let i = 0; i < 512; i++) if (ms + i >= start && ms + i < end && e.get(m, i) >= 0) c.pte++;
    }
  }
  return c;
}

/** nvgrace-gpu on Grace Hopper: usemem 4 GiB (fake BAR4), resmem 1 GiB after it (fake BAR2) */
const nvgrace: Device = parseDevice({
  format: 'pfnmap-device/1', name: 'runs nvgrace', driver: 'nvgrace-gpu',
  devmem: { start: '0x400000000000', size: '0x140000000', migHwBug: true },
  regions: [{ index: 0, kind: 'bar', start: '0x44000000000', size: '0x1000000', mem64: true, prefetchable: true }],
});

type Op =
  | { k: 'map'; bar: 0 | 1; off: number; len: number }
  | { k: 'unmap' | 'protnone' | 'touch'; which: number; from: number; len: number }
  | { k: 'decode'; on: boolean };

/** a fraction in [lo, hi] in steps of 1/4096 (fc.double favours its edge values) */
const frac = (lo: number, hi: number) => fc.integer({ min: Math.round(lo * 4096), max: Math.round(hi * 4096) }).map((n) => n / 4096);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('map' as const), bar: fc.constantFrom(0 as const, 1 as const), off: frac(0, 1), len: frac(0, 1) }),
  { arbitrary: fc.record({ k: fc.constant('touch' as const), which: fc.nat(7), from: frac(-0.05, 1), len: frac(0, 1.1) }), weight: 3 },
  fc.record({ k: fc.constantFrom('unmap' as const, 'protnone' as const), which: fc.nat(7), from: frac(0, 1), len: frac(0, 1) }),
  fc.record({ k: fc.constant('decode' as const), on: fc.boolean() }),
);

class Side {
  readonly p: VfioProcess;
  readonly f: KFile;
  readonly maps: [number, number][] = [];
  /** v2 with the vfio-pci fault rules named, on `dev`; or nvgrace-gpu under a variant named after it (`nvgrace-gpu under linux-7.2`) */
  constructor(rules: string, readonly d: Device = dev, readonly bars: readonly number[] = [0, 2]) {
    const v = rules.startsWith('nvgrace-gpu under ') ? requireVariant(rules.slice('nvgrace-gpu under '.length)) : { ...VARIANTS.v2, faultRules: FAULT_RULES[rules] };
    this.p = new VfioProcess(v, { thpEnabled: 'always' });
    this.f = this.p.openDevice(d);
  }
  get pdev(): VfioPciDevice {
    return (this.f.privateData as VfioDeviceFile).device as VfioPciDevice;
  }
  run(op: Op, byRuns: boolean): unknown {
    const pick = (w: number) => this.maps[w % this.maps.length];
    switch (op.k) {
      case 'map': {
        const r = this.d.regions.find((x) => x.index === this.bars[op.bar])!;
        const pages = (r.memlength ?? r.size) / 4096;
        const off = Math.floor(op.off * (pages - 1));
        const len = 1 + Math.floor(op.len * (pages - off - 1));
        const a = mapBar(this.p, this.f, r.index, off * 4096, len * 4096);
        if (a > 0) this.maps.push([a, len]);
        return a;
      }
      case 'decode':
        this.pdev.memoryEnabled = op.on;
        return null;
      default: {
        if (this.maps.length === 0) return null;
        const [a, n] = pick(op.which);
        const s = a + Math.floor(op.from * n);
        const len = Math.max(1, Math.floor(op.len * n));
        if (op.k === 'touch') {
          try {
            return touchRange(this.p.mm, s, s + len, byRuns);
          } catch (e) {
            if (e instanceof UnmodelledFault) return `unmodelled fault at ${e.page}`; // walked into anonymous memory
            throw e;
          }
        }
        if (op.k === 'unmap') return sysMunmap(this.p.mm, { pg: s, sub: 0 }, { pg: len, sub: 0 });
        return sysMprotect(this.p.mm, { pg: s, sub: 0 }, { pg: len, sub: 0 }, 0);
      }
    }
  }
}

// nvgrace-gpu where linux-7.2 places its BARs (page aligned: mostly 4 KiB pages) and where
// the congruent recipe does (2 MiB and 1 GiB leaves)
const SIDES: [string, Device, number[]][] = [
  ...Object.keys(FAULT_RULES).map((r): [string, Device, number[]] => [r, dev, [0, 2]]),
  ['nvgrace-gpu under linux-7.2', nvgrace, [4, 2]],
  ['nvgrace-gpu under congruent@linux-7.2', nvgrace, [4, 2]],
];

for (const [rules, d, bars] of SIDES) {
  test(`faults by runs install exactly what faults page by page install (${rules})`, () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 12 }), (ops) => {
        const runs = new Side(rules, d, bars);
        const pages = new Side(rules, d, bars);
        ops.forEach((op, i) => {
          assert.deepEqual(runs.run(op, true), pages.run(op, false), `op ${i} ${JSON.stringify(op)}`);
        });
        assert.deepEqual(dump(runs.p.mm.pgtables), dump(pages.p.mm.pgtables));
        // the counters leaves() reads agree with the entries, over every mapping and all
        const pt = runs.p.mm.pgtables;
        for (const [a, n] of [...runs.maps, [0, 2 ** 36]]) assert.deepEqual(pt.leaves(a, a + n), bruteLeaves(pt, a, a + n), `leaves of [${a}, +${n})`);
      }),
      { numRuns: 100, seed: 0x5eed },
    );
  });
}

test('a PTE table keeps a linear run compact and answers like an entry array', () => {
  const S = 3; // any slot of a PMD table
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(511), fc.nat(511), fc.nat(1000)), { maxLength: 30 }), (steps) => {
      const t = new PmdTable(512);
      t.newTable(S);
      const ref = new Float64Array(512);
      for (const [fill, x, y, pfn] of steps) {
        const a = Math.min(x, y);
        const b = Math.max(x, y) + 1;
        if (fill) {
          // fill the empty stretches of [a, b) the way fillPtes does
          for (let i = a; i < b; ) {
            const s = t.nextEmpty(S, i, b);
            if (s === b) break;
            const e = t.nextPresent(S, s, b);
            t.fill(S, s, e, pfn + (s - a));
            for (let j = s; j < e; j++) ref[j] = pfn + (j - a) + 1;
            i = e;
          }
        } else {
          let n = 0;
          for (let j = a; j < b; j++) if (ref[j] !== 0) (n++, (ref[j] = 0));
          assert.equal(t.clear(S, a, b), n);
        }
        for (let i = 0; i < 512; i++) assert.equal(t.get(S, i), ref[i] - 1, `entry ${i}`);
        const present = ref.filter((v) => v !== 0).length;
        assert.equal(t.present[S], present);
        assert.equal(t.ptes, present);
        assert.equal(t.count(S, a, b), ref.subarray(a, b).filter((v) => v !== 0).length);
      }
    }),
    { numRuns: 300, seed: 7 },
  );
  // one run stays one run: no per-entry array
  const t = new PmdTable(512);
  t.newTable(S);
  t.fill(S, 0, 100, 5000);
  t.fill(S, 100, 512, 5100);
  t.clear(S, 0, 10);
  t.clear(S, 500, 512);
  assert.equal(t.entries(S), null);
  assert.deepEqual([t.lo[S], t.hi[S], t.pfn[S], t.present[S], t.ptes], [10, 500, 5010, 490, 490]);
});

test('whole blocks at once (VmOps.faultBlocks): decoding off stops at the first page, as page by page does', () => {
  for (const rules of ['align-6.15', 'huge-6.12']) {
    const runs = new Side(rules);
    const pages = new Side(rules);
    // BAR2 is 4 KiB past a 2 MiB boundary: every 2 MiB fault falls back (pfn-6.13 on) or is
    // never aligned; 16 MiB from its start holds whole blocks
    const opMap: Op = { k: 'map', bar: 1, off: 0, len: 0.5 };
    assert.deepEqual(runs.run(opMap, true), pages.run(opMap, false));
    const [a, n] = runs.maps[0];
    const whole = Math.ceil(a / 512) * 512; // the first whole block of the mapping
    // its last page first, decoding on: the PMD table of that 1 GiB is there for the rest
    assert.equal(Math.floor(whole / 2 ** 18), Math.floor((a + n - 1) / 2 ** 18));
    assert.deepEqual(touchRange(runs.p.mm, a + n - 1, a + n, true), touchRange(pages.p.mm, a + n - 1, a + n, false));
    runs.pdev.memoryEnabled = false;
    pages.pdev.memoryEnabled = false;
    const r = touchRange(runs.p.mm, whole, whole + 8 * 512, true);
    assert.deepEqual(r, touchRange(pages.p.mm, whole, whole + 8 * 512, false));
    assert.equal(r.signal, 'SIGBUS');
    assert.equal(r.signalAt, whole);
    assert.equal(r.faults, 1);
    assert.deepEqual(dump(runs.p.mm.pgtables), dump(pages.p.mm.pgtables));
    // decoding on again: 8 blocks of 4 KiB pages in one go, counted as 4,096 faults (6.12
    // mapped 2 MiB leaves whatever the pfn: 8 faults)
    runs.pdev.memoryEnabled = true;
    pages.pdev.memoryEnabled = true;
    const t = touchRange(runs.p.mm, whole, whole + 8 * 512, true);
    assert.deepEqual(t, touchRange(pages.p.mm, whole, whole + 8 * 512, false));
    assert.equal(t.faults, rules === 'huge-6.12' ? 8 : 8 * 512);
    assert.equal(t.installed.pte, rules === 'huge-6.12' ? 0 : 8 * 512);
    assert.deepEqual(dump(runs.p.mm.pgtables), dump(pages.p.mm.pgtables));
  }
});

test('blocksAlike: the first and the last block answer for all, else each is asked', () => {
  const mm = { pgtables: { pmdPages: 512 }, arch: { pmdOrder: 9 } } as unknown as MmStruct;
  const start = 512 * 1000;
  const end = start + 10 * 512;
  const asked: number[] = [];
  const at = (leaves: number[]) => (addr: number, order: number) => {
    assert.equal(order, 9);
    asked.push((addr - start) / 512);
    return leaves.includes((addr - start) / 512) ? addr : -1;
  };
  // all fall back, or all map leaves: the first and the last are asked
  assert.equal(blocksAlike(mm, start, end, at([])), end);
  assert.deepEqual(asked.splice(0), [0, 9]);
  assert.equal(blocksAlike(mm, start, end, at([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])), end);
  assert.deepEqual(asked.splice(0), [0, 9]);
  // the last block answers otherwise: every block is asked, up to the first that does
  assert.equal(blocksAlike(mm, start, end, at([4, 9])), start + 4 * 512);
  assert.deepEqual(asked.splice(0), [0, 9, 1, 2, 3, 4]);
  assert.equal(blocksAlike(mm, start, end, at([0, 1, 2])), start + 3 * 512);
  assert.deepEqual(asked.splice(0), [0, 9, 1, 2, 3]);
  assert.equal(blocksAlike(mm, start, end, at([9])), end - 512);
  assert.equal(blocksAlike(mm, start, start + 512, at([])), start + 512);
});
