#!/usr/bin/env node
// pfnmap: the command line. Exit codes: 0 ok, 1 a finding (mismatch), 2 bad usage or input.

import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadTraceFile } from '../trace/load.js';
import { replay, type ReplayReport } from '../trace/replay.js';
import { InputError } from '../trace/input-error.js';
import { bundledTraces } from './paths.js';
import { loadDevice } from '../devices/load.js';
import { importLspci } from '../devices/lspci.js';
import { importSysfsDir } from '../devices/sysfs.js';
import { variantByName, VARIANT_NAMES, type VariantName } from '../kernels/variants.js';
import { VfioProcess } from '../vfio/process.js';
import { runAlignTest, LOOPS } from '../vfio/align-test.js';
import { gpuTable, printGpuTable } from './gpu-table.js';
import { mapAndTouch, recipe, type MapResult } from './analyze.js';
import { sizeLabel, type Device } from '../devices/device.js';
import { DEFAULT_CONFIG, THP_MODES, type ThpMode } from '../mm/config.js';
import * as fs from 'node:fs';
import { sweep, mergeResults, parseShard, parseSweepResult, defaultWorkers } from './sweep.js';
import { mappingSvg, coverageSvg, addressSpaceSvg } from './svg.js';
import { analyze, parseBytes } from '../web/model.js';
import { preset } from '../devices/presets.js';

class UsageError extends Error {}

const HELP = () => `pfnmap — an executable model of how Linux places mmap()s, checked against the live kernel

usage:
  pfnmap [--device D] [--thp always|madvise|never] [--json] [--svg FILE]
                               map every BAR of a device (default: the gpu-128g preset) the way
                               an unmodified program would, under every kernel variant; touch
                               it and print address alignment, leaves, faults and TLB entries
  pfnmap fidelity [--json]     replay the bundled Linux 6.18 kernel traces, print a fidelity table
  pfnmap replay TRACE [--json] replay one pfnmap-trace/1 file (.json or .json.gz)
  pfnmap align-test --device D [--kernel K] [--loops N] [--group G] [--json]
                               run the checks of vfio-pci-device-map-alignment against a
                               device (preset, pfnmap-device/1 JSON, lspci -v text or a sysfs
                               device directory) under a kernel variant (default v2)
  pfnmap compare --device D [--kernels K1,K2,…] [--bar N] [--offset X] [--len X] [--thp MODE] [--json] [--svg FILE]
                               one BAR (default: the largest) under several variants, side by side
  pfnmap plan --device D | --lspci FILE | --sysfs DIR [--kernel K1,K2] [--thp MODE] [--json]
                               per BAR: what each kernel gives, and the userspace recipe that gets
                               the best leaves on today's kernels
  pfnmap sweep [--count N] [--seed S] [--kernels …] [--thp MODE] [--shard I/N|auto] [--workers K] [--out FILE] [--svg FILE]
                               random BARs, offsets and lengths under each variant: the share of
                               memory each backs with 1G/2M/4K leaves (JSON on stdout or --out)
  pfnmap merge FILE…           add up sweep shards (each shard exactly once) [--svg FILE]
  pfnmap help                  this text

kernel variants: ${VARIANT_NAMES.join(', ')}

examples:
  pfnmap replay fixtures/kernel-traces/mixed-1.json
  pfnmap replay fixtures/kernel-traces/churn-77.json.gz --json
  pfnmap align-test --device gpu-128g --kernel linux-6.18
  pfnmap compare --device gpu-128g --kernels linux-6.12,linux-7.2,v2 --bar 2 --offset 0x200000 --len 0x40000000
  pfnmap plan --lspci lspci.txt --kernel linux-6.12,linux-7.2
  pfnmap compare --device gpu-128g --kernels linux-6.18,v2 --svg compare.svg
  pfnmap sweep --count 1000 --shard auto --out shard.json    (docs/sweep.md)

exit codes: 0 everything matches, 1 a mismatch, 2 bad usage or input (one line on stderr)`;

function fmtNs(ns: number): string {
  return ns >= 1e4 ? `${(ns / 1e3).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** The default job: every bundled trace, one table. */
function fidelityTable(json: boolean): number {
  const rows: (ReplayReport & { kernelNs: number | null })[] = [];
  for (const file of bundledTraces()) {
    const t = loadTraceFile(file);
    const r = replay(t);
    const ns = t.raw.ns;
    rows.push({
      trace: r.trace, ops: r.ops, resultsMatched: r.resultsMatched, finalMatched: r.finalMatched,
      firstMismatch: r.firstMismatch, modelNs: r.modelNs,
      kernelNs: ns && ns.length > 0 ? ns.reduce((a, b) => a + b, 0) : null,
    });
  }
  const ok = rows.every((r) => r.firstMismatch === null && r.finalMatched);
  if (json) {
    console.log(JSON.stringify({ traces: rows, allMatched: ok }));
    return ok ? 0 : 1;
  }
  console.log('Linux 6.18 x86_64 kernel traces replayed in the pfnmap model\n');
  const head = ['trace', 'ops', 'results identical', 'final maps', 'model/op', 'kernel/op', 'model:kernel'];
  const w = [12, 7, 18, 11, 10, 10, 12];
  console.log(head.map((h, i) => pad(h, w[i], i > 0)).join('  '));
  for (const r of rows) {
    const m = r.modelNs / r.ops;
    const k = r.kernelNs === null ? null : r.kernelNs / r.ops;
    console.log([
      pad(r.trace, w[0]),
      pad(String(r.ops), w[1], true),
      pad(`${r.resultsMatched}/${r.ops}`, w[2], true),
      pad(r.finalMatched ? 'identical' : 'DIFFER', w[3], true),
      pad(fmtNs(m), w[4], true),
      pad(k === null ? '-' : fmtNs(k), w[5], true),
      pad(k === null ? '-' : (m / k).toFixed(2), w[6], true),
    ].join('  '));
  }
  console.log(`\n${ok ? 'Every result and every final VMA list is identical to the kernel\'s.' : 'MISMATCH: see pfnmap replay TRACE --json'}`);
  console.log('(kernel/op: what the recording kernel took per syscall; small traces include the model\'s JIT warm-up)');
  return ok ? 0 : 1;
}

function replayCmd(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('replay: expected exactly one TRACE file');
  const t = loadTraceFile(positionals[0]);
  const r = replay(t);
  const report: ReplayReport = {
    trace: r.trace, ops: r.ops, resultsMatched: r.resultsMatched, finalMatched: r.finalMatched,
    firstMismatch: r.firstMismatch, modelNs: r.modelNs,
  };
  const ok = r.firstMismatch === null && r.finalMatched;
  if (values.json) console.log(JSON.stringify(report));
  else {
    console.log(`${r.trace}: ${r.resultsMatched}/${r.ops} results identical, final maps ${r.finalMatched ? 'identical' : 'DIFFER'} ` +
      `(model ${fmtNs(r.modelNs / Math.max(1, r.ops))}/op)`);
    if (r.firstMismatch) console.log(`first mismatch: ${JSON.stringify(r.firstMismatch)}`);
  }
  return ok ? 0 : 1;
}

function alignTestCmd(args: string[]): number {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { device: { type: 'string' }, kernel: { type: 'string', default: 'v2' }, loops: { type: 'string' }, group: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length > 0) throw new UsageError(`align-test: unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.device === undefined) throw new UsageError('align-test: --device is required (a preset name, a JSON, lspci or sysfs path)');
  const variant = variantByName(values.kernel!);
  if (!variant) throw new UsageError(`--kernel: unknown variant ${JSON.stringify(values.kernel)} (${VARIANT_NAMES.join(', ')})`);
  const int = (v: string | undefined, name: string, dflt: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name}: expected a non-negative integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const dev = loadDevice(values.device);
  const r = runAlignTest(new VfioProcess(variant), dev, {
    loops: int(values.loops, 'loops', LOOPS), group: int(values.group, 'group', 0), out: values.json ? undefined : (l) => console.log(l),
  });
  if (values.json) console.log(JSON.stringify({ device: dev.name, kernel: variant.name, lines: r.lines, exitCode: r.exitCode }));
  return r.exitCode;
}

function defaultJob(args: string[]): number {
  const { values } = parseArgs({ args, strict: true, options: { device: { type: 'string' }, thp: { type: 'string' }, json: { type: 'boolean' }, svg: { type: 'string' } } });
  const thp = thpOf(values.thp);
  const dev = values.device === undefined ? preset('gpu-128g')! : loadDevice(values.device);
  const rows = gpuTable(dev, VARIANT_NAMES, { thpEnabled: thp });
  if (values.svg) fs.writeFileSync(values.svg, mappingSvg(`${dev.name}: every BAR, THP "${thp}"`, rows.map((r) => ({ ...r, variant: `${r.variant} BAR${r.bar}` as typeof r.variant }))));
  if (values.json) console.log(JSON.stringify({ device: dev.name, thp, rows }));
  else printGpuTable(dev, rows, thp);
  return 0;
}

/** "a,b,c" of --kernel or --kernels: each a known variant. */
function variantList(text: string, flag: string): VariantName[] {
  return text.split(',').map((k) => {
    const v = variantByName(k.trim());
    if (!v) throw new UsageError(`--${flag}: unknown variant ${JSON.stringify(k)} (${VARIANT_NAMES.join(', ')})`);
    return v.name;
  });
}

function thpOf(v: string | undefined): ThpMode {
  const t = v ?? 'always';
  if (!THP_MODES.includes(t as ThpMode)) throw new UsageError(`--thp: expected always, madvise or never, got ${JSON.stringify(t)}`);
  return t as ThpMode;
}

function bytesArg(v: string | undefined, name: string): number | undefined {
  return v === undefined ? undefined : parseBytes(v, `--${name}`);
}

function largestBar(dev: Device): number {
  const bars = dev.regions.filter((r) => r.kind === 'bar' && r.mmap);
  if (bars.length === 0) throw new UsageError('--device: the device has no mmap-able BAR');
  return bars.reduce((a, b) => (b.size > a.size ? b : a)).index;
}

const fmtLeaves = (l: { pud: number; pmd: number; pte: number }) =>
  [l.pud ? `${l.pud.toLocaleString('en-US')}×1G` : '', l.pmd ? `${l.pmd.toLocaleString('en-US')}×2M` : '', l.pte ? `${l.pte.toLocaleString('en-US')}×4K` : ''].filter(Boolean).join(' + ') || '-';

function compareCmd(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {
    device: { type: 'string' }, kernels: { type: 'string', default: 'linux-6.18,v1,v2' }, bar: { type: 'string' },
    offset: { type: 'string' }, len: { type: 'string' }, thp: { type: 'string' }, json: { type: 'boolean' }, svg: { type: 'string' } } });
  if (positionals.length > 0) throw new UsageError(`compare: unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.device === undefined) throw new UsageError('compare: --device is required');
  const dev = loadDevice(values.device);
  const kernels = variantList(values.kernels!, 'kernels');
  const bar = values.bar === undefined ? largestBar(dev) : Number(values.bar);
  const region = dev.regions.find((r) => r.index === bar);
  if (!Number.isInteger(bar) || region === undefined || region.kind !== 'bar') throw new UsageError(`--bar: the device has no BAR ${JSON.stringify(values.bar)}`);
  // a window the BAR cannot hold is still mapped: the row shows the errno vfio-pci gives
  const offset = bytesArg(values.offset, 'offset') ?? 0;
  if (values.len === undefined && offset >= region.size) throw new UsageError(`--offset: 0x${offset.toString(16)} is past the end of BAR${bar}; give --len to map there anyway`);
  const len = bytesArg(values.len, 'len') ?? region.size - offset;
  const thp = thpOf(values.thp);
  let rows: MapResult[];
  if (values.svg) {
    // the drawing needs the whole address space, so each variant runs once through analyze()
    const an = kernels.map((k) => analyze({ variant: k, device: dev, bar, offset, len, thp }));
    rows = an.map((a) => a.result);
    const title = `${dev.name}: BAR${bar} from 0x${offset.toString(16)}, 0x${len.toString(16)} bytes, THP "${thp}"`;
    fs.writeFileSync(values.svg, addressSpaceSvg(title, an));
  } else rows = kernels.map((k) => mapAndTouch(k, dev, bar, offset, len, { thpEnabled: thp }));
  if (values.json) {
    console.log(JSON.stringify({ device: dev.name, bar, offset, len, thp, rows }));
    return 0;
  }
  console.log(`${dev.name}: BAR${bar} [0x${offset.toString(16)}, +0x${len.toString(16)}) of ${sizeLabel(region.size)}, THP "${thp}"\n`);
  console.log(['variant'.padEnd(11), 'address'.padStart(16), 'aligned'.padStart(8), 'faults'.padStart(12), 'fallbacks'.padStart(11), 'TLB'.padStart(12), '  leaves'].join(''));
  for (const r of rows) {
    const fb = r.fallback.pud + r.fallback.pmd;
    console.log([r.variant.padEnd(11), (r.addr ?? r.error ?? '-').padStart(16), (r.addr ? sizeLabel(r.alignment) : '-').padStart(8),
      r.faults.toLocaleString('en-US').padStart(12), fb.toLocaleString('en-US').padStart(11), r.tlbEntries.toLocaleString('en-US').padStart(12), '  ' + fmtLeaves(r.leaves)].join(''));
  }
  console.log('\n(fallbacks: ->huge_fault calls that returned VM_FAULT_FALLBACK, 1 GiB and 2 MiB attempts together)');
  return 0;
}

function planCmd(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {
    device: { type: 'string' }, lspci: { type: 'string' }, sysfs: { type: 'string' }, kernel: { type: 'string' }, thp: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length > 0) throw new UsageError(`plan: unexpected argument ${JSON.stringify(positionals[0])}`);
  const given = [values.device, values.lspci, values.sysfs].filter((x) => x !== undefined);
  if (given.length !== 1) throw new UsageError('plan: give exactly one of --device D, --lspci FILE, --sysfs DIR');
  let dev: Device;
  if (values.lspci !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(values.lspci, 'utf8');
    } catch (e) {
      throw new InputError('--lspci', `cannot read ${values.lspci}: ${(e as Error).message}`);
    }
    dev = importLspci(text);
  } else if (values.sysfs !== undefined) dev = importSysfsDir(values.sysfs);
  else dev = loadDevice(values.device!);
  const thp = thpOf(values.thp);
  let released = VARIANT_NAMES.filter((n) => variantByName(n)!.kind !== 'userspace');
  if (values.kernel !== undefined) {
    released = variantList(values.kernel, 'kernel');
  }
  const bars = dev.regions.filter((r) => r.kind === 'bar' && r.size > 0);
  const plan = bars.map((r) => {
    if (!r.mmap) return { bar: r.index, size: r.size, mmap: false, kernels: [], recipe: null };
    const kernels = released.map((k) => mapAndTouch(k, dev, r.index, 0, r.size, { thpEnabled: thp }));
    return { bar: r.index, size: r.size, mmap: true, kernels, recipe: recipe(DEFAULT_CONFIG, r.index, 0, r.size) };
  });
  if (values.json) {
    console.log(JSON.stringify({ device: dev.name, thp, plan }));
    return 0;
  }
  console.log(`${dev.name}${dev.bdf ? ` (${dev.bdf})` : ''}, THP "${thp}"`);
  for (const b of plan) {
    const r = bars.find((x) => x.index === b.bar)!;
    console.log(`\nBAR${b.bar}: ${sizeLabel(b.size)}${r.io ? ' I/O ports' : ` at 0x${r.start.toString(16)}`}${r.mem64 ? ', 64-bit' : ''}${r.prefetchable ? ', prefetchable' : ''}`);
    if (!b.mmap) {
      console.log('  not mmap-able through VFIO');
      continue;
    }
    for (const k of b.kernels) console.log(`  ${k.variant.padEnd(10)} ${fmtLeaves(k.leaves).padEnd(22)} ${k.faults.toLocaleString('en-US')} faults`);
    const rc = b.recipe!;
    if (rc.align <= 4096) {
      console.log('  recipe: plain mmap(NULL, …) — the BAR is too small for a huge leaf');
      continue;
    }
    console.log(`  recipe for a kernel without a placement hook (${sizeLabel(rc.align)} leaves):`);
    console.log(`    base = mmap(NULL, 0x${rc.reserve.toString(16)}, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0)`);
    console.log(`    va   = the first address >= base with va % 0x${rc.align.toString(16)} == 0x${rc.residue.toString(16)}; munmap [base, va) and [va + 0x${b.size.toString(16)}, base + 0x${rc.reserve.toString(16)})`);
    console.log(`    mmap(va, 0x${b.size.toString(16)}, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, fd, 0x${rc.fileOffset.toString(16)})`);
    console.log('    madvise(va, len, MADV_HUGEPAGE) where THP is "madvise" and the kernel lacks the pfnmap bypass');
  }
  return 0;
}

async function sweepCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {
    count: { type: 'string', default: '200' }, seed: { type: 'string', default: '1' }, kernels: { type: 'string' }, thp: { type: 'string' },
    shard: { type: 'string' }, workers: { type: 'string' }, out: { type: 'string' }, svg: { type: 'string' } } });
  if (positionals.length > 0) throw new UsageError(`sweep: unexpected argument ${JSON.stringify(positionals[0])}`);
  const int = (v: string, name: string, min: number) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const variants = values.kernels === undefined ? VARIANT_NAMES : variantList(values.kernels, 'kernels');
  let shard;
  try {
    shard = parseShard(values.shard, process.env);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const count = int(values.count!, 'count', 1);
  const tty = process.stderr.isTTY === true;
  const res = await sweep({
    seed: int(values.seed!, 'seed', 0), count, shard, variants, thp: thpOf(values.thp),
    workers: values.workers === undefined ? defaultWorkers() : int(values.workers, 'workers', 1),
    progress: tty ? (done, total) => {
      const w = 30;
      const f = Math.round((done / total) * w);
      process.stderr.write(`\r[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total} cases`);
      if (done === total) process.stderr.write('\n');
    } : undefined,
  });
  const json = JSON.stringify(res, null, 1);
  if (values.out) fs.writeFileSync(values.out, json + '\n');
  else console.log(json);
  if (values.svg) fs.writeFileSync(values.svg, coverageSvg(res));
  return 0;
}

function mergeCmd(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { svg: { type: 'string' } } });
  if (positionals.length === 0) throw new UsageError('merge: give the sweep result files to add up');
  const parts = positionals.map((f) => {
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(f, 'utf8'));
    } catch (e) {
      throw new InputError(f, `cannot read a sweep result: ${(e as Error).message.split('\n')[0]}`);
    }
    return parseSweepResult(data, f);
  });
  let merged;
  try {
    merged = mergeResults(parts);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  console.log(JSON.stringify(merged, null, 1));
  if (values.svg) fs.writeFileSync(values.svg, coverageSvg(merged));
  return 0;
}

export function main(argv: string[]): number | Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === '--help' || cmd === '-h') {
      console.log(HELP());
      return 0;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(HELP());
      return 0;
    }
    if (cmd === undefined || cmd.startsWith('--')) return defaultJob(argv);
    switch (cmd) {
      case 'fidelity':
        return fidelityTable(parseArgs({ args: rest, strict: true, options: { json: { type: 'boolean' } } }).values.json === true);
      case 'replay':
        return replayCmd(rest);
      case 'align-test':
        return alignTestCmd(rest);
      case 'compare':
        return compareCmd(rest);
      case 'plan':
        return planCmd(rest);
      case 'sweep':
        return sweepCmd(rest).catch(handleError);
      case 'merge':
        return mergeCmd(rest);
      case 'help':
        console.log(HELP());
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)} (try pfnmap --help)`);
    }
  } catch (e) {
    return handleError(e);
  }
}

/** Bad usage or input: one line on stderr, exit 2; anything else is a bug and propagates. */
function handleError(e: unknown): number {
  if (e instanceof InputError || e instanceof UsageError) {
    console.error(`pfnmap: ${e.message}`);
    return 2;
  }
  if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`pfnmap: ${e.message.split('\n')[0]}`);
    return 2;
  }
  throw e;
}

// run when executed (directly, or through the npm bin link), not when imported
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  Promise.resolve(main(process.argv.slice(2))).then((code) => {
    process.exitCode = code;
  });
}
