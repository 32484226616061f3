// Kernels as base + series: the names (aliases, BASE[+SERIES], point releases, bad names),
// the switch table, and the promises of the designs still on the table (thp-fops, v3-rule).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { VARIANTS, VARIANT_NAMES, SHOWCASE_NAMES, parseVariant, variantByName, requireVariant, type KernelVariant } from '../src/kernels/variants.js';
import { parseBase, SWITCHES, SERIES } from '../src/kernels/bases.js';
import { DEFAULT_CONFIG, type MmConfig } from '../src/mm/config.js';
import { FAULT_RULES, VfioPciDevice, vfioPciCoreGetNaturalOrder, regionPgoffPages } from '../src/vfio/pci.js';
import { archBestMappingOrder } from '../src/mm/mapping-order.js';
import { x86_64 } from '../src/arch/x86_64.js';
import { VfioProcess, mapBar } from '../src/vfio/process.js';
import { mapAndTouch } from '../src/cli/analyze.js';
import { runCases } from '../src/cli/sweep.js';
import { preset } from '../src/devices/presets.js';
import { validateTrace } from '../src/trace/load.js';
import { replay } from '../src/trace/replay.js';
import { InputError } from '../src/trace/input-error.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const gpu = preset('gpu-128g')!;
const GIB = 2 ** 30;
const MIB2 = 2 ** 21;
const v = (n: string): KernelVariant => requireVariant(n);
const cfg = (n: string): MmConfig => ({ ...DEFAULT_CONFIG, ...v(n).config });

test('aliases: each old name is its base + series, behaviour for behaviour', () => {
  const pairs: [string, string][] = [
    ['v1', 'linux-6.18+v1'], ['order-arg', 'linux-6.18+order-arg'], ['v2', 'linux-6.18+v2'],
    ['linux-6.18', 'linux-6.18.44'], ['linux-7.2', 'linux-7.2.13'], ['linux-6.12', 'linux-6.12.117'],
  ];
  for (const [alias, full] of pairs) {
    const a = v(alias);
    const b = v(full);
    assert.equal(a.name, alias);
    assert.equal(b.name, full);
    assert.deepEqual({ ...DEFAULT_CONFIG, ...a.config }, { ...DEFAULT_CONFIG, ...b.config }, alias);
    assert.equal(a.faultRules, b.faultRules, alias);
    assert.equal(a.pciOps, b.pciOps, alias);
    assert.equal(a.fops(DEFAULT_CONFIG), b.fops(DEFAULT_CONFIG), alias);
    for (const [bar, off, len] of [[2, 0x201000, GIB], [2, 0, 2 ** 37], [0, 0, 2 ** 24]] as const) {
      const ra = mapAndTouch(alias, gpu, bar, off, len, { thpEnabled: 'always' });
      const rb = mapAndTouch(full, gpu, bar, off, len, { thpEnabled: 'always' });
      assert.deepEqual({ ...rb, variant: alias }, ra, `${alias} = ${full} on BAR${bar}+${off}`);
    }
  }
  // the old table, kept: names, order, and that the aliases resolve to themselves
  assert.deepEqual(VARIANT_NAMES, ['linux-6.12', 'linux-6.18', 'linux-7.2', 'v1', 'order-arg', 'v2', 'userspace']);
  for (const n of VARIANT_NAMES) assert.equal(variantByName(n), VARIANTS[n]);
  assert.equal(v('userspace').userspaceRecipe, true);
  assert.equal(v('userspace').base.name, 'linux-6.18');
  for (const n of SHOWCASE_NAMES) assert.equal(v(n).name, n);
});

test('the switch table: which point release has which behaviour', () => {
  const sw = (n: string) => cfg(n);
  // the THP-tunables bypass: 6.18.y from about .54, 7.2.y from .8, mainline 7.3
  assert.equal(sw('linux-6.18').thpPfnmapBypass, false);
  assert.equal(sw('linux-6.18.44').thpPfnmapBypass, false);
  assert.equal(sw('linux-6.18.53').thpPfnmapBypass, false);
  assert.equal(sw('linux-6.18.54').thpPfnmapBypass, true);
  assert.equal(sw('linux-6.18.54+v2').thpPfnmapBypass, true);
  assert.equal(sw('linux-7.2.7').thpPfnmapBypass, false);
  assert.equal(sw('linux-7.2.8').thpPfnmapBypass, true);
  assert.equal(sw('linux-7.3').thpPfnmapBypass, true);
  assert.equal(sw('linux-6.12').thpPfnmapBypass, true);
  // THP alignment of hook-less files: up to 6.12 (34d7cf637c43 ended it in 6.13)
  for (const n of ['linux-6.11', 'linux-6.12', 'linux-6.12+v1']) assert.equal(sw(n).thpAlignFilesWithoutHook, true, n);
  for (const n of ['linux-6.18', 'linux-7.2', 'linux-7.3+thp-fops']) assert.equal(sw(n).thpAlignFilesWithoutHook, false, n);
  // anon-inode noexec: 6.16 on, not in 6.12.y
  for (const n of ['linux-6.11', 'linux-6.12']) assert.equal(sw(n).anonInodeNoexec, false, n);
  for (const n of ['linux-6.18.0', 'linux-7.2', 'linux-7.3']) assert.equal(sw(n).anonInodeNoexec, true, n);
  // the fault handler: no huge_fault before 6.12
  assert.equal(v('linux-6.11').faultRules, FAULT_RULES['prefault-6.10']);
  for (const n of ['linux-6.12', 'linux-6.18.1', 'linux-7.2', 'linux-7.3']) assert.equal(v(n).faultRules, FAULT_RULES['align-6.15'], n);
  // every switch says something for every series, with a source
  for (const s of SWITCHES) for (const r of SERIES) assert.ok(s.in[r.series]?.source, `${s.name} in ${r.series}`);
  // what the bypass does: on 6.18.44 with THP "madvise" a congruent BAR gets 4 KiB leaves, on 6.18.54 1 GiB ones
  const old = mapAndTouch('linux-6.18.44+v2', gpu, 2, 0, 2 * GIB, { thpEnabled: 'madvise' });
  const neu = mapAndTouch('linux-6.18.54+v2', gpu, 2, 0, 2 * GIB, { thpEnabled: 'madvise' });
  assert.deepEqual(old.leaves, { pud: 0, pmd: 0, pte: 524288 });
  assert.deepEqual(neu.leaves, { pud: 2, pmd: 0, pte: 0 });
  assert.equal(neu.faults, 2);
});

test('bad names: an unknown base, an unknown series, a series that cannot sit on its base — one line naming it', () => {
  const bad: [string, RegExp][] = [
    ['linux-6.15', /unknown base "linux-6\.15"/],
    ['linux-9', /unknown base "linux-9"/],
    ['linux-6.15+v2', /unknown base "linux-6\.15"/],
    ['linux-7.2+v4', /unknown series "v4"/],
    ['linux-7.2+', /unknown series ""/],
    ['linux-7.2+userspace', /userspace is a recipe/],
    ['linux-6.11+v2', /^series v2 cannot sit on linux-6\.11: .*huge_fault/],
    ['linux-6.11+v3-rule', /^series v3-rule cannot sit on linux-6\.11/],
    ['linux-6.12.100', /linux-6\.12\.100 is not modelled/],
    ['v3-rule', /a series needs a base: linux-7\.2\+v3-rule/],
    ['toString', /unknown kernel variant "toString"/],
    ['__proto__', /unknown kernel variant "__proto__"/],
  ];
  for (const [name, re] of bad) {
    const r = parseVariant(name);
    assert.ok('error' in r, name);
    assert.match(r.error, re, name);
    assert.ok(!r.error.includes('\n'), name);
  }
  // thp-fops asks no driver anything: it sits on any base
  assert.ok(!('error' in parseVariant('linux-6.11+thp-fops')));
  for (const args of [['compare', '--device', 'gpu-128g', '--kernels', 'v2,linux-7.2+v4'], ['align-test', '--device', 'gpu-128g', '--kernel', 'linux-6.11+v1'],
    ['plan', '--device', 'gpu-128g', '--kernel', 'linux-6.15'], ['sweep', '--count', '1', '--kernels', 'linux-7.2+nope']]) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^pfnmap: --kernels?: (unknown kernel variant|series )/, r.stderr);
  }
  const t = JSON.parse(fs.readFileSync(path.join(root, 'fixtures', 'vfio-traces', 'linux-7.2-bar2-2g-thp-never.json'), 'utf8'));
  for (const [k, re] of [['linux-7.2+v9', /^model\.kernel: .*unknown series "v9"/], ['linux-6.11+v2', /^model\.kernel: series v2 cannot sit on linux-6\.11/]] as const) {
    assert.throws(() => validateTrace({ ...t, model: { kernel: k } }), (e: unknown) => e instanceof InputError && re.test(e.message), k);
  }
});

test('model.kernel: a 7.2.13 kernel with v1 or v2 applied replays as linux-7.2+v1 / +v2 without model.config', () => {
  const dir = path.join(root, 'fixtures', 'vfio-traces');
  // MAP_FIXED mappings: no placement hook is consulted, so what decides is the base — 7.2's
  // bypass of the THP tunables (recorded with THP "never" and "madvise")
  const files = fs.readdirSync(dir).filter((f) => /^linux-7\.2-bar2-.*-(thp-never|thp-madvise|fixed-congruent|fixed-misaligned)\.json$/.test(f));
  assert.equal(files.length, 8);
  for (const f of files) {
    const t = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    assert.equal(t.model.config, undefined, f);
    for (const k of ['linux-7.2+v1', 'linux-7.2+v2', 'linux-7.2.13+v2', 'linux-7.2+thp-fops', 'linux-7.2+v3-rule']) {
      const lt = validateTrace({ ...t, model: { kernel: k } });
      assert.equal(lt.variant.name, k);
      assert.equal(lt.config.thpPfnmapBypass, true, k);
      assert.equal(lt.config.anonInodeNoexec, true, k);
      const r = replay(lt);
      assert.equal(r.firstMismatch, null, `${f} as ${k}: ${JSON.stringify(r.firstMismatch)}`);
    }
  }
  // the same THP "never" trace as the 6.18-based alias v2: no bypass, so 4 KiB faults — a mismatch
  const t = JSON.parse(fs.readFileSync(path.join(dir, 'linux-7.2-bar2-2g-thp-never.json'), 'utf8'));
  assert.notEqual(replay(validateTrace({ ...t, model: { kernel: 'v2' } })).firstMismatch, null);
  assert.equal(replay(validateTrace({ ...t, model: { kernel: 'linux-6.18.54+v2' } })).firstMismatch, null);
  // no model: the recording kernel's point release is the base
  const { model: _m, ...bare } = t;
  void _m;
  assert.equal(validateTrace({ ...bare, kernel: '7.2.13+deb14-amd64' }).variant.name, 'linux-7.2.13');
  assert.equal(validateTrace({ ...bare, kernel: '6.18.60-foo' }).variant.config.thpPfnmapBypass, true);
  assert.equal(validateTrace({ ...bare, kernel: '6.18.44-fc-v782' }).variant.config.thpPfnmapBypass, false);
});

/** map [off, off + len) of `bar` under `name` and return the address (bytes) and what a full read got */
function mapped(name: string, bar: number, off: number, len: number, extra: Partial<MmConfig> = {}) {
  const r = mapAndTouch(name, gpu, bar, off, len, { thpEnabled: 'always', ...extra });
  assert.equal(r.error, null, name);
  return { ...r, va: Number(BigInt(r.addr!)) };
}

test('thp-fops: VA ≡ pgoff modulo 2 MiB when the window holds a whole 2 MiB block; never 1 GiB', () => {
  for (const base of ['linux-6.18', 'linux-7.2', 'linux-7.3', 'linux-6.12']) {
    const n = `${base}+thp-fops`;
    // the whole 128 GiB BAR: 2 MiB leaves only, one fault per 2 MiB
    const full = mapped(n, 2, 0, 2 ** 37);
    assert.equal(full.va % MIB2, 0, n);
    assert.deepEqual(full.leaves, { pud: 0, pmd: 65536, pte: 0 }, n);
    assert.equal(full.faults, 65536, n);
    // windows at odd offsets: congruent with the offset modulo 2 MiB, not more
    for (const [off, len] of [[0x201000, GIB], [0x1000, 0x3ff000], [0x40000000, 0x40000000]]) {
      const w = mapped(n, 2, off, len);
      assert.equal((w.va - off) % MIB2, 0, `${n} ${off.toString(16)}`);
      assert.equal(w.leaves.pud, 0, n);
    }
    // a window with no whole 2 MiB block: thp_get_unmapped_area gives the plain search
    const small = mapped(n, 2, 0x1000, 0x200000);
    assert.equal(small.leaves.pmd, 0);
  }
  // without CONFIG_TRANSPARENT_HUGEPAGE there is no thp_get_unmapped_area: page-aligned, as 7.2
  const p = new VfioProcess(v('linux-7.2+thp-fops'), { thp: false });
  const f = p.openDevice(gpu);
  const q = new VfioProcess(v('linux-7.2'), { thp: false });
  assert.equal(mapBar(p, f, 2, 0, 2 ** 31), mapBar(q, q.openDevice(gpu), 2, 0, 2 ** 31));
  assert.equal(v('linux-7.2+thp-fops').fops({ ...DEFAULT_CONFIG, thp: false }).getUnmappedArea, undefined);
});

test('v3-rule: the driver reports its BAR\'s order, core mm caps it to the arch\'s leaves, and falls back leaf by leaf', () => {
  const pdev = new VfioPciDevice(gpu, FAULT_RULES['align-6.15'], true, x86_64);
  // the driver: the order of the BAR's size, whatever the window — it knows no leaf sizes
  assert.equal(vfioPciCoreGetNaturalOrder(pdev, 2 * regionPgoffPages(x86_64)), 25); // 128 GiB
  assert.equal(vfioPciCoreGetNaturalOrder(pdev, 2 * regionPgoffPages(x86_64) + 0x201), 25);
  assert.equal(vfioPciCoreGetNaturalOrder(pdev, 0), 12); // 16 MiB
  assert.equal(vfioPciCoreGetNaturalOrder(pdev, 6 * regionPgoffPages(x86_64)), 0); // ROM: no BAR
  assert.equal(vfioPciCoreGetNaturalOrder(pdev, 2 * regionPgoffPages(x86_64) + 2 ** 25), 0); // past the BAR
  // core mm: the largest arch leaf at or below the order
  assert.equal(archBestMappingOrder(DEFAULT_CONFIG, x86_64, 25), 18);
  assert.equal(archBestMappingOrder(DEFAULT_CONFIG, x86_64, 17), 9);
  assert.equal(archBestMappingOrder(DEFAULT_CONFIG, x86_64, 8), 0);
  assert.equal(archBestMappingOrder({ ...DEFAULT_CONFIG, hugePfnmap: { arch: true, pmd: true, pud: false } }, x86_64, 25), 9);
  assert.equal(archBestMappingOrder({ ...DEFAULT_CONFIG, hugePfnmap: { arch: false, pmd: false, pud: false } }, x86_64, 25), 0);
  for (const base of ['linux-6.18', 'linux-7.2', 'linux-6.12']) {
    const n = `${base}+v3-rule`;
    // the whole BAR: 1 GiB aligned, 128 PUD faults
    const full = mapped(n, 2, 0, 2 ** 37);
    assert.equal(full.va % GIB, 0, n);
    assert.deepEqual(full.leaves, { pud: 128, pmd: 0, pte: 0 }, n);
    assert.equal(full.faults, 128, n);
    // a 1 GiB window with no whole aligned 1 GiB block: the cap does not fit, 2 MiB does
    const w = mapped(n, 2, 0x201000, GIB);
    assert.equal((w.va - 0x201000) % MIB2, 0, n);
    assert.deepEqual(w.leaves, { pud: 0, pmd: 511, pte: 512 }, n);
    assert.equal(w.faults, 1023, n);
    const w2 = mapped(n, 2, MIB2, GIB);
    assert.deepEqual(w2.leaves, { pud: 0, pmd: 512, pte: 0 }, n);
    // a BAR below 1 GiB: capped to 2 MiB by its size, 8 PMD faults
    const b0 = mapped(n, 0, 0, 2 ** 24);
    assert.equal(b0.va % MIB2, 0, n);
    assert.deepEqual(b0.leaves, { pud: 0, pmd: 8, pte: 0 }, n);
    // a window shorter than 2 MiB: the length caps the order to a page, no padding
    const tiny = mapped(n, 2, 0, 0x100000);
    assert.equal(tiny.leaves.pmd + tiny.leaves.pud, 0);
    // no PUD pfnmaps on this arch: core mm caps to PMD, the driver still says 25
    const nopud = mapped(n, 2, 0, 2 ** 31, { hugePfnmap: { arch: true, pmd: true, pud: false } });
    assert.deepEqual(nopud.leaves, { pud: 0, pmd: 1024, pte: 0 }, n);
  }
  // where v2 has no retry, v3-rule does: the same window under v2 is 4 KiB leaves
  assert.equal(mapped('linux-7.2+v2', 2, 0x201000, GIB).leaves.pte, 262144);
});

test('v3-rule falls back to 2 MiB when no gap holds len + 1 GiB, and to the plain search when none holds len + 2 MiB', () => {
  // fill the address space below the mmap base but for one hole; a BAR window lands in it
  const hole = (holePages: number) => {
    const p = new VfioProcess(v('linux-7.2+v3-rule'), { thpEnabled: 'always' });
    const top = 0x7ffff7dd2; // the lowest page of the typical process's libs (0x7ffff7dd2000)
    const start = top - holePages;
    // everything from 0x10000000 (pages) up to the hole's start is taken by one anonymous reservation
    const lowPg = 0x10000;
    const res = p.mmap({ pg: lowPg, sub: 0 }, { pg: start - lowPg, sub: 0 }, 0, 0x02 | 0x20 | 0x10 | 0x4000, null, { pg: 0, sub: 0 });
    assert.equal(res, lowPg);
    return { p, f: p.openDevice(gpu), start };
  };
  const len = 2 ** 18; // 1 GiB in pages
  // a hole of 1 GiB + 4 MiB: no room for len + 1 GiB, room for len + 2 MiB
  const a = hole(len + 1024);
  const va = mapBar(a.p, a.f, 2, 0, GIB);
  assert.ok(va >= a.start, `in the hole: ${va.toString(16)}`);
  assert.equal(va % 512, 0, '2 MiB aligned');
  // a hole of exactly 1 GiB: only the plain, unpadded search fits
  const b = hole(len);
  assert.equal(mapBar(b.p, b.f, 2, 0, GIB), b.start);
});

test('compare shows where the designs differ: a window with no whole 1 GiB block, a BAR below 1 GiB', () => {
  const names = ['linux-7.2', 'linux-7.2+thp-fops', 'linux-7.2+v1', 'linux-7.2+v2', 'linux-7.2+v3-rule'];
  const r = run(['compare', '--device', 'gpu-128g', '--kernels', names.join(','), '--bar', '2', '--offset', '0x201000', '--len', '0x40000000', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout).rows as { variant: string; faults: number; leaves: { pud: number; pmd: number; pte: number } }[];
  assert.deepEqual(rows.map((x) => x.variant), names);
  assert.deepEqual(rows.map((x) => x.faults), [262144, 1023, 1023, 262144, 1023]);
  const full = JSON.parse(run(['compare', '--device', 'gpu-128g', '--kernels', names.join(','), '--bar', '2', '--json']).stdout).rows as typeof rows;
  assert.deepEqual(full.map((x) => x.leaves.pud), [0, 0, 128, 128, 128]);
  assert.deepEqual(full.map((x) => x.leaves.pmd), [0, 65536, 0, 0, 0]);
  const bar0 = JSON.parse(run(['compare', '--device', 'gpu-128g', '--kernels', names.join(','), '--bar', '0', '--json']).stdout).rows as typeof rows;
  assert.deepEqual(bar0.map((x) => x.faults), [4096, 8, 8, 8, 8]);
  // the text table widens its first column for long names
  const text = run(['compare', '--device', 'gpu-128g', '--kernels', 'linux-6.18.54+v3-rule,v2', '--bar', '0']).stdout;
  assert.match(text, /^linux-6\.18\.54\+v3-rule +0x/m);
  assert.match(text, /^v2 {20,}0x/m);
});

test('a posted series backported to 6.12 consults the file\'s order before 6.12\'s hook-less THP branch', () => {
  assert.deepEqual(mapped('linux-6.12', 2, 0, 2 ** 37).leaves, { pud: 0, pmd: 65536, pte: 0 });
  assert.deepEqual(mapped('linux-6.12+v2', 2, 0, 2 ** 37).leaves, { pud: 128, pmd: 0, pte: 0 });
  assert.deepEqual(mapped('linux-6.12+v1', 2, 0, 2 ** 37).leaves, { pud: 128, pmd: 0, pte: 0 });
  // 6.12's PROT_EXEC rule comes with the base
  assert.equal(v('linux-6.12+v2').config.anonInodeNoexec, false);
  // 6.11: no huge_fault; the first fault maps the whole VMA with PTEs, whatever is placed
  const p11 = mapped('linux-6.11+thp-fops', 2, 0, 2 ** 31);
  assert.equal(p11.faults, 1);
  assert.deepEqual(p11.leaves, { pud: 0, pmd: 0, pte: 524288 });
});

test('sweep, kernels and --help list and accept the new names', () => {
  const totals = runCases(1, [0, 1, 2], ['linux-7.2+v3-rule', 'linux-7.2+thp-fops', 'v2'], { thpEnabled: 'always' });
  assert.deepEqual(Object.keys(totals), ['linux-7.2+v3-rule', 'linux-7.2+thp-fops', 'v2']);
  assert.equal(totals['linux-7.2+v3-rule'].cases, 3);
  const k = run(['kernels']);
  assert.equal(k.status, 0);
  assert.match(k.stdout, /bypass THP tuneables for huge pfnmaps +no +from \.115 +from \.54 +from \.8 +yes/);
  assert.match(k.stdout, /v2 += linux-6\.18\.44\+v2/);
  const kj = JSON.parse(run(['kernels', '--json']).stdout);
  assert.ok(kj.switches.every((s: { in: Record<string, { source: string }> }) => Object.values(s.in).every((x) => x.source.length > 0)));
  assert.match(run(['compare', '--help']).stdout, /BASE\[\+SERIES\]/);
  assert.deepEqual(parseBase('linux-7.2.13'), parseBase('linux-7.2.13'));
});
