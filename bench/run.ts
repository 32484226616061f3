// npm run bench: the model's speed next to the live kernel's on the same operations, how
// the cost per op grows with the number of VMAs, and the address representation.

import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadTraceFile, validateTrace } from '../src/trace/load.js';
import { replay, type ReplayReport } from '../src/trace/replay.js';
import { recordTrace, liveKernelStatus, compileHelper } from '../src/oracle/record.js';
import { bundledTraces } from '../src/cli/paths.js';
import { newMm, shmemZeroSetup } from '../src/kernels/linux-6.18.js';
import { sysMmap, sysMunmap } from '../src/mm/mmap.js';
import { modPow2, type Split } from '../src/lib/u64.js';
import { preset } from '../src/devices/presets.js';
import { VARIANTS } from '../src/kernels/variants.js';
import { VfioProcess, mapBar } from '../src/vfio/process.js';
import { touchRange } from '../src/mm/memory.js';
import { runAlignTest, LOOPS } from '../src/vfio/align-test.js';
import { ARCHES } from '../src/arch/index.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ns: number) => `${ns.toFixed(0).padStart(6)} ns/op`;

function churnVsKernel(): number {
  const file = bundledTraces().find((f) => path.basename(f).startsWith('churn'))!;
  const sample = loadTraceFile(file);
  console.log(`churn workload: ${sample.ops.length} ops (${path.basename(file)}: grow to ~65,000 VMAs, then mixed mmap/munmap)`);
  const st = liveKernelStatus();
  let trace = sample;
  let kernelNs: number;
  let source: string;
  if (st.usable) {
    // the same ops, run by the live kernel now, in this process tree
    const runs = [0, 1, 2].map(() => recordTrace({ name: 'churn-live', files: sample.raw.files, ops: sample.raw.ops }));
    const perRun = runs.map((t) => t.ns!.reduce((a, b) => a + b, 0) / t.ops.length);
    kernelNs = median(perRun);
    trace = validateTrace(runs[0]);
    source = `live ${st.kernel}, median of 3 recordings`;
  } else {
    kernelNs = sample.raw.ns!.reduce((a, b) => a + b, 0) / sample.ops.length;
    source = `recorded in the fixture (live kernel unusable: ${st.reason})`;
  }
  // seven replays in this process: the first two still compile (the second re-optimizes what
  // the first's munmap phase changed); the median of the last five is the warm figure
  const modelRuns: number[] = [];
  let identical = true;
  for (let i = 0; i < 7; i++) {
    const r = replay(trace);
    identical &&= r.firstMismatch === null && r.finalMatched;
    modelRuns.push(r.modelNs / r.ops);
  }
  const model = median(modelRuns.slice(2));
  console.log(`  kernel  ${fmt(kernelNs)}   (${source})`);
  console.log(`  model   ${fmt(model)}   (median of replays 3 to 7 in one process; the first, cold: ${modelRuns[0].toFixed(0)} ns/op, the second ${modelRuns[1].toFixed(0)})`);
  console.log(`  ratio model/kernel: ${(model / kernelNs).toFixed(2)}   results identical to the kernel's: ${identical}`);
  return kernelNs;
}

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

/**
 * What a user sees: `pfnmap replay churn.json.gz --json` in a fresh process, its modelNs
 * (JIT warm-up included) against the live kernel's ns on the same ops in this run.
 */
function coldReplay(kernelNs: number, runs = 5): void {
  const file = bundledTraces().find((f) => path.basename(f).startsWith('churn'))!;
  const per: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, [CLI, 'replay', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`pfnmap replay ${file}: exit ${r.status}`);
    const j = JSON.parse(r.stdout) as ReplayReport | ReplayReport[];
    const rep = Array.isArray(j) ? j[0] : j;
    if (rep.firstMismatch !== null || !rep.finalMatched) throw new Error('cold replay: results differ from the kernel');
    per.push(rep.modelNs / rep.ops);
  }
  const best = Math.min(...per);
  console.log(`  cold: pfnmap replay ${path.basename(file)} --json, a fresh process each (best of ${runs}, median ${median(per).toFixed(0)}): ` +
    `modelNs ${best.toFixed(0)} ns/op   ratio cold model/kernel: ${(best / kernelNs).toFixed(2)}`);
}

/** Cost per op against the number of VMAs: N VMAs, then 100,000 mixed munmap/mmap ops. */
function scaling(): void {
  console.log('\nscaling: N VMAs (no merges), then 100,000 ops: munmap a random mapping / mmap a new one (best of 3 rounds)');
  const Z: Split = { pg: 0, sub: 0 };
  const LEN: Split = { pg: 2, sub: 0 };
  const rows: [number, number][] = [];
  const kernelRows: (number | string)[] = [];
  for (const n of [1_000, 10_000, 100_000, 1_000_000]) {
    const mm = newMm({ maxMapCount: 1 << 30 });
    const live: number[] = [];
    // alternate the protection so neighbours never merge
    for (let i = 0; i < n; i++) live.push(sysMmap(mm, Z, LEN, i & 1 ? 1 : 3, 0x22, null, Z, shmemZeroSetup));
    let x = 0x2545f491;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const ops = 100_000;
    const a: Split = { pg: 0, sub: 0 };
    // best of 3 rounds (the machine may be shared: the least disturbed round is the figure)
    let ns = Infinity;
    for (let round = 0; round < 3; round++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < ops; i += 2) {
        const j = (rnd() * live.length) | 0;
        a.pg = live[j];
        sysMunmap(mm, a, LEN);
        live[j] = sysMmap(mm, Z, LEN, j & 1 ? 1 : 3, 0x22, null, Z, shmemZeroSetup);
      }
      ns = Math.min(ns, Number(process.hrtime.bigint() - t0) / ops);
    }
    rows.push([n, ns]);
    const k = kernelScaling(n, ops);
    kernelRows.push(k);
    const kTxt = typeof k === 'number' ? `kernel ${fmt(k)}   model/kernel ${(ns / k).toFixed(2)}` : `kernel: ${k}`;
    console.log(`  ${String(n).padStart(9)} VMAs  ${fmt(ns)}   ${kTxt}   (map_count ${mm.mapCount}, ${mm.tree.levels} tree levels)`);
  }
  const [n0, c0] = rows[0];
  const [n1, c1] = rows[rows.length - 1];
  const k0 = kernelRows[0];
  const k1 = kernelRows[kernelRows.length - 1];
  const kRatio = typeof k0 === 'number' && typeof k1 === 'number' ? `; the live kernel: ${(k1 / k0).toFixed(2)}x` : '';
  console.log(`  ${n1 / n0}x the VMAs: ${(c1 / c0).toFixed(2)}x the time per op${kRatio}; the nodes a search reads grow with the ` +
    `tree levels (logarithmic), the rest is cache and TLB misses of a larger working set`);
  const kAdd = typeof k0 === 'number' && typeof k1 === 'number' ? `, the live kernel +${(k1 - k0).toFixed(0)} ns` : '';
  console.log(`  what ${n1 / n0}x the VMAs add per op: the model +${(c1 - c0).toFixed(0)} ns${kAdd} (docs/speed.md, "A million VMAs")`);
}

/**
 * The same workload run by the live kernel (oracle/scaling.c): ns per op, or why not. It
 * needs vm.max_map_count above n; the bench does not raise it.
 */
function kernelScaling(n: number, ops: number): number | string {
  if (process.platform !== 'linux') return 'not Linux';
  let max: number;
  try {
    max = Number(fs.readFileSync('/proc/sys/vm/max_map_count', 'utf8'));
  } catch {
    return 'no /proc/sys/vm/max_map_count';
  }
  if (max < n + 100) return `vm.max_map_count ${max} is below ${n + 100} (sysctl vm.max_map_count=${2 * n})`;
  let bin: string;
  try {
    bin = compileHelper('scaling');
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
  const r = spawnSync(bin, [String(n), String(ops)], { encoding: 'utf8' });
  if (r.status !== 0) return `oracle/scaling exit ${r.status}: ${r.stderr.trim()}`;
  return Number(r.stdout);
}

/** Page numbers in doubles against BigInt byte addresses, on the search's arithmetic. */
function representation(): void {
  console.log('\nrepresentation: the top-down fit-and-align step (unmapped_area_topdown), 2,000,000 iterations');
  const N = 2_000_000;
  const M = 1024;
  const pg = new Float64Array(M);
  const big: bigint[] = [];
  let x = 7;
  for (let i = 0; i < M; i++) {
    x = (Math.imul(x, 48271) + 11) >>> 0;
    pg[i] = 0x7ff000000 + (x % 0xfffff); // page numbers near the top of the 47-bit window
    big.push(BigInt(pg[i]) << 12n);
  }
  const numberStep = (): number => {
    let acc = 0;
    for (let i = 0; i < N; i++) {
      const a = pg[i & (M - 1)];
      const b = pg[(i + 1) & (M - 1)];
      const end = a < b ? b : a;
      const gap = end - 7; // length
      const aligned = gap - modPow2(gap - 3, 512); // round down to align_offset mod 2 MiB
      if (aligned > a) acc++;
    }
    return acc;
  };
  const bigStep = (): number => {
    let acc = 0;
    for (let i = 0; i < N; i++) {
      const a = big[i & (M - 1)];
      const b = big[(i + 1) & (M - 1)];
      const end = a < b ? b : a;
      const gap = end - 0x7000n;
      const aligned = gap - ((gap - 0x3000n) & 0x1fffffn);
      if (aligned > a) acc++;
    }
    return acc;
  };
  const time = (f: () => number): [number, number] => {
    let best = Infinity;
    let r = 0;
    for (let k = 0; k < 3; k++) {
      const t0 = process.hrtime.bigint();
      r = f();
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / N);
    }
    return [best, r];
  };
  const [tNum, rNum] = time(numberStep);
  const [tBig, rBig] = time(bigStep);
  console.log(`  page numbers (float64): ${tNum.toFixed(1)} ns/step   BigInt bytes: ${tBig.toFixed(1)} ns/step   ` +
    `BigInt costs ${(tBig / tNum).toFixed(1)}x   (same answers: ${rNum === rBig})`);
  // the unit on every granule: the same step on page numbers of 16 KiB and 64 KiB pages near
  // the top of a 52-bit space, aligning to the granule's PMD (32 MiB, 512 MiB), against BigInt
  for (const [name, shift, pmdPages] of [['arm64 16K', 14, 2048], ['arm64 64K', 16, 8192]] as const) {
    const gp = new Float64Array(M);
    const gb: bigint[] = [];
    for (let i = 0; i < M; i++) {
      gp[i] = 2 ** (52 - shift) - 1 - (pg[i] % 2 ** 20);
      gb.push(BigInt(gp[i]) << BigInt(shift));
    }
    const mask = BigInt(pmdPages) * (1n << BigInt(shift)) - 1n;
    const unit = 1n << BigInt(shift);
    const num = (): number => {
      let acc = 0;
      for (let i = 0; i < N; i++) {
        const a = gp[i & (M - 1)];
        const b = gp[(i + 1) & (M - 1)];
        const end = a < b ? b : a;
        const gap = end - 7;
        if (gap - modPow2(gap - 3, pmdPages) > a) acc++;
      }
      return acc;
    };
    const big = (): number => {
      let acc = 0;
      for (let i = 0; i < N; i++) {
        const a = gb[i & (M - 1)];
        const b = gb[(i + 1) & (M - 1)];
        const end = a < b ? b : a;
        const gap = end - 7n * unit;
        if (gap - ((gap - 3n * unit) & mask) > a) acc++;
      }
      return acc;
    };
    const [tn, rn] = time(num);
    const [tb, rb] = time(big);
    console.log(`  ${name}: page numbers ${tn.toFixed(1)} ns/step   BigInt bytes ${tb.toFixed(1)} ns/step   ` +
      `BigInt costs ${(tb / tn).toFixed(1)}x   (same answers: ${rn === rb})`);
  }
}

/** The fault path: a 128 GiB BAR touched page by page, worst case and best case. */
function faultPath(): void {
  console.log('\nfault path: every 4 KiB page of the 128 GiB BAR of gpu-128g read once');
  const dev = preset('gpu-128g')!;
  const bar = dev.regions.find((r) => r.index === 2)!;
  const pages = bar.size / 4096;
  for (const [v, what] of [['linux-6.18', 'worst case, 4 KiB leaves only'], ['v2', 'best case, 1 GiB leaves'], ['v2', 'the same again (warm)']] as const) {
    const p = new VfioProcess(VARIANTS[v], { thpEnabled: 'always' });
    const f = p.openDevice(dev);
    const a = mapBar(p, f, 2, 0, bar.size);
    const rss0 = process.memoryUsage().rss;
    const t0 = process.hrtime.bigint();
    const t = touchRange(p.mm, a, a + pages);
    const ns = Number(process.hrtime.bigint() - t0);
    const rss = (process.memoryUsage().rss - rss0) / 2 ** 20;
    const time = ns >= 1e8 ? `${(ns / 1e9).toFixed(2)} s` : `${(ns / 1e3).toFixed(1)} µs`;
    console.log(`  ${v.padEnd(10)} ${what.padEnd(30)} ${t.faults.toLocaleString('en-US').padStart(11)} faults in ${time.padStart(9)}  ` +
      `(${(ns / t.faults).toFixed(ns / t.faults < 10 ? 3 : 0)} ns/fault, +${rss.toFixed(0)} MiB RSS)`);
  }
}

/** Seconds a whole CLI run takes, best of `runs` (startup and warm-up count: a user pays them). */
function wholeProcess(args: string[], runs = 5): number {
  const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`pfnmap ${args.join(' ')}: exit ${r.status}`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

/** The same touches as whole processes, as a user runs them, and the page's "Compare all". */
function wholeProcesses(): void {
  console.log('\nwhole processes (best of 5): pfnmap compare --device gpu-128g --bar 2 (all 128 GiB touched)');
  const small = wholeProcess(['compare', '--device', 'gpu-128g', '--bar', '2', '--kernels', 'v2']);
  const big = wholeProcess(['compare', '--device', 'gpu-128g', '--bar', '2', '--kernels', 'linux-6.18']);
  console.log(`  1 GiB leaves (v2) ${small.toFixed(3)} s   4 KiB leaves (linux-6.18) ${big.toFixed(3)} s   ` +
    `ratio 4K/1G: ${(big / small).toFixed(2)}`);
  const tib = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-bench-')), 'tib.json');
  fs.writeFileSync(tib, JSON.stringify({ format: 'pfnmap-device/1', name: '1 TiB BAR', regions: [
    { index: 0, kind: 'bar', start: '0x10000000000', size: '0x10000000000', mem64: true, prefetchable: true, io: false, mmap: true }] }));
  console.log(`  pfnmap plan of a device with a 1 TiB BAR (268,435,456 4 KiB faults under linux-6.18 and linux-7.2): ${wholeProcess(['plan', '--device', tib], 3).toFixed(2)} s`);
  fs.rmSync(path.dirname(tib), { recursive: true });
  const dev = preset('gpu-128g')!;
  const bar = dev.regions.find((r) => r.index === 2)!;
  const t0 = process.hrtime.bigint();
  for (const v of Object.keys(VARIANTS) as (keyof typeof VARIANTS)[]) {
    const p = new VfioProcess(VARIANTS[v], { thpEnabled: 'always' });
    const a = mapBar(p, p.openDevice(dev), 2, 0, bar.size);
    touchRange(p.mm, a, a + bar.size / 4096);
  }
  console.log(`  the page's "Compare all" (every variant maps and touches BAR2), model part: ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`);
}

/** Issue target: every page of a 480 GiB device-memory region on arm64 64K pages under 1 s. */
function arm64Touch(): void {
  const a = ARCHES['arm64-64k'];
  const size = 480 * 2 ** 30;
  const dev = { format: 'pfnmap-device/1' as const, name: '480 GiB', regions: [
    { index: 0, kind: 'bar' as const, start: 2 ** 42, size, mem64: true, prefetchable: true, io: false, mmap: true }] };
  console.log('\narm64 64K pages: every page of a 480 GiB region read once');
  for (const v of ['linux-7.2', 'v2'] as const) {
    const p = new VfioProcess(VARIANTS[v], { thpEnabled: 'always' }, { arch: a });
    const f = p.openDevice(dev);
    const va = mapBar(p, f, 0, 0, size);
    const t0 = process.hrtime.bigint();
    const t = touchRange(p.mm, va, va + size / a.pageSize);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const l = p.mm.pgtables.leaves(va, va + size / a.pageSize);
    console.log(`  ${v.padEnd(10)} ${t.faults.toLocaleString('en-US').padStart(10)} faults (${l.pmd.toLocaleString('en-US')}×512M + ${l.pte.toLocaleString('en-US')}×64K) in ${ms.toFixed(1)} ms`);
  }
}

/** The alignment test's loops over BAR2 of gpu-128g; prints JSON {s, last}. Run by alignTestLoops() as a child. */
function alignChild(): void {
  const d = preset('gpu-128g')!;
  const one = { ...d, regions: d.regions.filter((r) => r.index === 2 || r.kind !== 'bar') };
  const t0 = process.hrtime.bigint();
  const r = runAlignTest(new VfioProcess(VARIANTS.v2), one, {});
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ s, last: r.lines[r.lines.length - 1] }));
}

/** The alignment test in a fresh process, as `pfnmap align-test` runs (best of 3, and the median). */
function alignTestLoops(): void {
  const runs: { s: number; last: string }[] = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--align-child'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench --align-child: exit ${r.status}: ${r.stderr}`);
    runs.push(JSON.parse(r.stdout) as { s: number; last: string });
  }
  const s = Math.min(...runs.map((r) => r.s));
  console.log(`\nalign-test, BAR2 (128 GiB) under v2, a fresh process each (best of 3, median ${median(runs.map((r) => r.s)).toFixed(2)} s): ` +
    `3 × ${LOOPS.toLocaleString('en-US')} mmap/munmap in ${s.toFixed(2)} s (${((s * 1e9) / (3 * LOOPS)).toFixed(0)} ns per pair; ${runs[0].last})`);
}

/**
 * Peak RSS of a fresh process that builds `n` VMAs (no merges) or touches the 1 TiB BAR with
 * 4 KiB leaves; prints JSON {base, peak} in bytes. Run by memory() as a child.
 */
function memChild(what: string): void {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const live = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = process.memoryUsage().rss;
  const liveBase = live();
  let keep: unknown;
  // the mm core's linear memory (VMA records and tree nodes) is neither JS heap nor an ArrayBuffer
  let core = 0;
  if (what === 'touch') {
    const dev = { ...preset('gpu-128g')!, name: '1 TiB BAR' };
    dev.regions = [{ ...dev.regions.find((r) => r.index === 2)!, size: 2 ** 40, start: 2 ** 40 }];
    const p = new VfioProcess(VARIANTS['linux-6.18'], { thpEnabled: 'always' });
    const a = mapBar(p, p.openDevice(dev), 2, 0, 2 ** 40);
    const t = touchRange(p.mm, a, a + 2 ** 28);
    if (t.faults !== 2 ** 28) throw new Error(`1 TiB touch: ${t.faults} faults`);
    keep = p;
    core = p.mm.tree.x.memory.buffer.byteLength;
  } else {
    const n = Number(what);
    const mm = newMm({ maxMapCount: 1 << 30 });
    const Z: Split = { pg: 0, sub: 0 };
    const LEN: Split = { pg: 2, sub: 0 };
    for (let i = 0; i < n; i++) sysMmap(mm, Z, LEN, i & 1 ? 1 : 3, 0x22, null, Z, shmemZeroSetup);
    if (mm.mapCount !== n) throw new Error('mem child: map_count');
    keep = mm;
    core = mm.tree.x.memory.buffer.byteLength;
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  gc();
  console.log(JSON.stringify({ base, peak, live: live() - liveBase + core, kept: keep !== undefined }));
}

/** Peak RSS for 1M VMAs and for the largest touch, each in a fresh process. */
function memory(): void {
  const run = (what: string): { base: number; peak: number; live: number } => {
    const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--mem-child', what], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench --mem-child ${what}: exit ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout) as { base: number; peak: number; live: number };
  };
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const n = 1_000_000;
  const m = run(String(n));
  const per = (m.peak - m.base) / n;
  // what each further VMA costs: the slope between half a million and a million, without the
  // fixed part a first VMA pays (the young generation, the heap's first pages)
  const h = run(String(n / 2));
  const slope = (m.peak - h.peak) / (n / 2);
  // The kernel's: slab object sizes of this machine (/proc/slabinfo: vm_area_struct 192 bytes,
  // 21 per 4 KiB slab; maple_node 256 bytes), and the maple nodes 60,000 such VMAs added
  // (about 7,700: 33 bytes per VMA).
  const kernel = 192 + 33;
  console.log(`\nmemory, a fresh process: ${n.toLocaleString('en-US')} VMAs, peak RSS ${mib(m.peak)} (${mib(m.base)} before): ` +
    `${per.toFixed(0)} bytes per VMA, ${slope.toFixed(0)} per VMA from 500,000 to 1,000,000; live after a GC (JS heap, typed arrays and the mm core's memory) ${(m.live / n).toFixed(0)} bytes per VMA; ` +
    `the kernel's ${kernel} (slab objects: vm_area_struct 192 + maple-tree share 33)`);
  const t = run('touch');
  console.log(`  the largest touch (1 TiB BAR, 268,435,456 4 KiB faults under linux-6.18): peak RSS ${mib(t.peak)} (${mib(t.base)} before), ` +
    `${((t.peak - t.base) / 2 ** 20).toFixed(0)} MiB for it (live after a GC: ${(t.live / 2 ** 20).toFixed(1)} MiB)`);
}

const child = process.argv.indexOf('--mem-child');
if (child >= 0) {
  memChild(process.argv[child + 1]);
} else if (process.argv.includes('--align-child')) {
  alignChild();
} else {
  // `npm run bench -- scaling align-test`: only those sections (all without arguments)
  const sections: Record<string, () => void> = {
    churn: () => coldReplay(churnVsKernel()),
    scaling,
    memory,
    representation,
    'fault-path': faultPath,
    'arm64-touch': arm64Touch,
    'whole-processes': wholeProcesses,
    'align-test': alignTestLoops,
  };
  const want = process.argv.slice(2);
  const unknown = want.filter((w) => !Object.hasOwn(sections, w));
  if (unknown.length > 0) {
    console.error(`bench: unknown section ${unknown.join(', ')}; the sections are ${Object.keys(sections).join(', ')}`);
    process.exit(2);
  }
  for (const [name, run] of Object.entries(sections)) if (want.length === 0 || want.includes(name)) run();
}
