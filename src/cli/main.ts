#!/usr/bin/env node
// pfnmap: the command line. Exit codes: 0 ok, 1 a finding (mismatch), 2 bad usage or input.

import { fileURLToPath } from 'node:url';
import { loadTraceFile } from '../trace/load.js';
import { replay, type ReplayReport } from '../trace/replay.js';
import { InputError } from '../trace/input-error.js';
import { bundledTraces } from './paths.js';
import { traceFilesOf, replayRow, replayTable, exitCodeOf, type ReplayRow } from './replay-cmd.js';
import { loadDevice } from '../devices/load.js';
import { importLspci, importLspciAll, normaliseBdf } from '../devices/lspci.js';
import { importSysfs, importSysfsAll } from '../devices/sysfs.js';
import { parseVariant, variantByName, variantHelp, VARIANT_NAMES, SHOWCASE_NAMES, SERIES_LIST, RECIPE_VARIANT_NAMES } from '../kernels/variants.js';
import { switchTable, SERIES, SWITCHES } from '../kernels/bases.js';
import { VfioProcess } from '../vfio/process.js';
import { runAlignTest, LOOPS } from '../vfio/align-test.js';
import { RepeatElider, elideRepeats, isElisionNote } from './elide.js';

/** how many lines of one kind in a row align-test shows before it counts the rest */
const ALIGN_TEST_KEEP = 5;
import { gpuTable, printGpuTable } from './gpu-table.js';
import { mapAndTouch, mapAreasAndTouch, recipe, recipeOnKernel, leafBytesOf, fmtLeaves, type MapResult } from './analyze.js';
import { x86_64 } from '../arch/x86_64.js';
import { ARCH_NAMES, archByName } from '../arch/index.js';
import type { Arch } from '../arch/arch.js';
import { sizeLabel, type Device, type Region } from '../devices/device.js';
import { DEFAULT_CONFIG, THP_MODES, type ThpMode } from '../mm/config.js';
import * as fs from 'node:fs';
import { sweepSummary } from './sweep-summary.js';
import { RECIPES } from '../vfio/recipes.js';
import { sweep, mergeResults, parseShard, parseSweepResult, defaultWorkers } from './sweep.js';
import { mappingSvg, coverageSvg, addressSpaceSvg } from './svg.js';
import { analyze, windowOf } from '../web/model.js';
import { preset } from '../devices/presets.js';
import { inspect, inspectText, readMapsArg, defaultKernels, machineThp } from './inspect.js';

import { parseArgs, UsageError, intOption, writeOutput, checkOutput } from './args.js';
import { readJsonFile, errText } from '../lib/json-file.js';
import { oneLine, countOf } from '../lib/text.js';

/** Each command's usage lines and what it does; `pfnmap CMD --help` prints its own entry. */
const COMMANDS: Record<string, { usage: string; what: string }> = {
  '': {
    usage: '[--device D] [--thp always|madvise|never] [--arch A] [--json] [--svg FILE]',
    what: `map every BAR of a device (default: the gpu-128g preset) the way
an unmodified program would, under every kernel variant; touch
it and print address alignment, leaves, faults and TLB entries`,
  },
  fidelity: { usage: '[--json]', what: 'replay the bundled Linux 6.18 kernel traces, print a fidelity table' },
  replay: {
    usage: 'TRACE|DIR… [--json]',
    what: `replay pfnmap-trace/1 files (.json or .json.gz); a directory
means the traces directly in it (not its subdirectories), sorted
by name. One file: one line (or one JSON object). Several, or a
directory: a table (trace, ops, ok/MISMATCH/error, model time)
and a total line; --json one JSON object per trace, per line.
Exit 0 all identical, 1 any mismatch, 2 any bad input (its row
says why; the other traces still run)`,
  },
  'align-test': {
    usage: '--device D [--bdf BDF] [--kernel K] [--loops N] [--group G] [--arch A] [--all-lines] [--json]',
    what: `run the checks of vfio-pci-device-map-alignment against a
device (preset, pfnmap-device/1 JSON, lspci -v text, a sysfs
device directory, or /sys/bus/pci/devices or a whole-machine
listing with --bdf) under a kernel variant (default v2); a run of
more than 5 lines of one kind is counted, --all-lines prints all`,
  },
  compare: {
    usage: '--device D [--bdf BDF] [--kernels K1,K2,…] [--bar N] [--offset X] [--len X] [--thp MODE] [--arch A] [--json] [--svg FILE]',
    what: `one BAR (default: the largest) under several variants, side by
side; --bdf picks the device of a whole-machine lspci listing or
of a /sys/bus/pci/devices directory`,
  },
  plan: {
    usage: '--device D | --lspci FILE | --sysfs DIR [--bdf BDF] [--kernel K1,K2] [--thp MODE] [--arch A] [--json]',
    what: `per BAR of every device (or the one at --bdf): what each kernel
gives, and the userspace recipe that gets the best leaves on
today's kernels, with what it yields on each; --sysfs takes a
/sys/bus/pci/devices/BDF directory or /sys/bus/pci/devices itself`,
  },
  inspect: {
    usage: '--maps FILE|PID [--device D | --lspci FILE | --sysfs DIR] [--bdf BDF] [--kernel K1,K2,…] [--thp MODE] [--arch A] [--json]',
    what: `read a process's /proc/PID/maps (PID: all digits) or a saved copy;
for each VFIO device mapping (anon_inode:[vfio-device] or
/dev/vfio/devices/vfioN): its region (offset >> 40), BAR offset,
size and VA alignment; with a device also its congruence with the
BAR's physical address, the leaves a full read installs where it
is under each kernel (default: this machine's for a PID, else
every released one), what a no-hint mmap of it would get under
each design, and where each BAR not mapped yet would land
(docs/inspect.md)`,
  },
  sweep: {
    usage: '[--count N] [--seed S] [--kernels …] [--thp MODE] [--arch A] [--shard I/N|auto] [--workers K] [--out FILE] [--svg FILE]',
    what: `random BARs, offsets and lengths under each variant: the share of
memory each backs with 1G/2M/4K leaves (JSON on stdout or --out)`,
  },
  merge: {
    usage: 'FILE… [--partial] [--svg FILE]',
    what: `add up sweep shards (each shard exactly once; all of a campaign's
shards unless --partial)`,
  },
  kernels: {
    usage: '[--json]',
    what: `the variants: released bases (with point releases), the series
that sit on them, the aliases, and the table of switches that
says which release has which behaviour (docs/model.md)`,
  },
  help: { usage: '', what: 'this text' },
};

const EXIT_CODES = 'exit codes: 0 everything matches, 1 a mismatch, 2 bad usage or input (one line on stderr), 70 an internal error';

function usageLines(cmd: string): string {
  const c = COMMANDS[cmd];
  const head = `  pfnmap${cmd ? ` ${cmd}` : ''}${c.usage ? ` ${c.usage}` : ''}`;
  const what = c.what.split('\n').map((l) => `${' '.repeat(31)}${l}`).join('\n');
  return head.length <= 29 ? `${head.padEnd(31)}${what.trimStart()}` : `${head}\n${what}`;
}

/** `pfnmap CMD --help`: the command's own usage, its examples and the exit codes. */
function commandHelp(cmd: string): string {
  const ex = EXAMPLES.filter((e) => e.startsWith(`pfnmap ${cmd} `));
  return [`usage:\n${usageLines(cmd)}`, ...(cmd === 'align-test' || cmd === 'compare' || cmd === 'plan' || cmd === 'inspect' || cmd === 'sweep' || cmd === '' ? [`kernel variants: ${VARIANT_NAMES.join(', ')}\n  or BASE[+SERIES]: ${variantHelp()} (pfnmap kernels)`] : []),
    ...(ex.length ? [`examples:\n${ex.map((e) => `  ${e}`).join('\n')}`] : []), EXIT_CODES].join('\n\n');
}

const EXAMPLES = [
  'pfnmap replay fixtures/kernel-traces/mixed-1.json',
  'pfnmap replay fixtures/kernel-traces/churn-77.json.gz --json',
  'pfnmap replay fixtures/kernel-traces fixtures/vfio-traces',
  'pfnmap align-test --device gpu-128g --kernel linux-6.18',
  'pfnmap compare --device gpu-128g --kernels linux-6.12,linux-7.2,v2 --bar 2 --offset 0x200000 --len 0x40000000',
  'pfnmap plan --lspci lspci.txt --kernel linux-6.12,linux-7.2',
  'pfnmap plan --sysfs /sys/bus/pci/devices --bdf 0000:01:00.0',
  'pfnmap compare --device gpu-128g --kernels linux-6.18,v2 --svg compare.svg',
  'pfnmap inspect --maps fixtures/maps/linux-7.2-2g-nohint.maps --device fixtures/maps/linux-7.2-2g-nohint.device.json',
  'pfnmap inspect --maps 4242 --sysfs /sys/bus/pci/devices --bdf 0000:01:00.0',
  'pfnmap sweep --count 1000 --shard auto --out shard.json    (docs/sweep.md)',
];

const HELP = () => `pfnmap — an executable model of how Linux places mmap()s, checked against the live kernel

usage:
${Object.keys(COMMANDS).map(usageLines).join('\n')}

kernel variants: ${VARIANT_NAMES.join(', ')}
  or BASE[+SERIES], e.g. ${SHOWCASE_NAMES.join(', ')}: ${variantHelp()} (pfnmap kernels)

examples:
${EXAMPLES.map((e) => `  ${e}`).join('\n')}

${EXIT_CODES}`;

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
  if (positionals.length === 0) throw new UsageError('replay: give one or more TRACE files or directories of them');
  const single = positionals.length === 1 && !isDirectory(positionals[0]);
  if (single) {
    // one file: its line (or object), and bad input the usual one line on stderr
    const t = loadTraceFile(positionals[0]);
    const r = replay(t);
    const report: ReplayReport = {
      trace: r.trace, ops: r.ops, resultsMatched: r.resultsMatched, finalMatched: r.finalMatched,
      firstMismatch: r.firstMismatch, modelNs: r.modelNs,
      ...(r.mmapBase === undefined ? {} : { mmapBase: r.mmapBase }),
    };
    const ok = r.firstMismatch === null && r.finalMatched;
    if (values.json) console.log(JSON.stringify({ ...report, file: positionals[0], result: ok ? 'ok' : 'mismatch' }));
    else {
      console.log(`${r.trace}: ${r.resultsMatched}/${r.ops} results identical, final maps ${r.finalMatched ? 'identical' : 'DIFFER'} ` +
        `(model ${fmtNs(r.modelNs / Math.max(1, r.ops))}/op)`);
      if (r.mmapBase) {
        const b = r.mmapBase;
        console.log(b.source === 'env' ? `randomised: mmap_base ${b.value} from env.mmapBase`
          : `randomised: mmap_base inferred, not given: ${b.how}${b.value === null ? ' (no op depended on where in that range)' : ''}`);
      }
      if (r.firstMismatch) console.log(`first mismatch: ${JSON.stringify(r.firstMismatch)}`);
    }
    return ok ? 0 : 1;
  }
  const rows: ReplayRow[] = [];
  const inputs = positionals.map(traceFilesOf);
  // one directory that yields no trace at all: the usual one line, no table
  if (inputs.length === 1 && inputs[0].length === 1 && inputs[0][0].error !== undefined) throw new InputError('replay', inputs[0][0].error);
  for (const list of inputs) {
    for (const a of list) {
      const row = replayRow(a);
      rows.push(row);
      // JSON lines as each trace finishes, so a long run shows progress
      if (values.json) console.log(JSON.stringify(row));
    }
  }
  if (!values.json) for (const l of replayTable(rows)) console.log(l);
  const bad = rows.filter((r) => r.result === 'error').length;
  if (bad > 0) console.error(`pfnmap: ${bad} of ${rows.length} trace${rows.length === 1 ? '' : 's'} could not be replayed (bad input: see ${bad === 1 ? 'its row' : 'their rows'})`);
  return exitCodeOf(rows);
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function alignTestCmd(args: string[]): number {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { device: { type: 'string' }, bdf: { type: 'string' }, kernel: { type: 'string', default: 'v2' }, loops: { type: 'string' }, group: { type: 'string' }, arch: { type: 'string' }, json: { type: 'boolean' }, 'all-lines': { type: 'boolean' } },
  });
  const arch = archOption(values.arch);
  if (positionals.length > 0) throw new UsageError(`align-test: unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.device === undefined) throw new UsageError('align-test: --device is required (a preset name, a JSON, lspci or sysfs path)');
  const variant = parseVariant(values.kernel!);
  if ('error' in variant) throw new UsageError(`--kernel: ${variant.error}`);
  const int = (v: string | undefined, name: string, dflt: number, min: number) => (v === undefined ? dflt : intOption(v, name, min));
  const dev = loadDevice(values.device, values.bdf);
  const all = values['all-lines'] === true;
  const shown = all ? null : new RepeatElider(ALIGN_TEST_KEEP);
  // the program is the same on every arch: its 4096-byte steps meet the kernel's page there
  const r = runAlignTest(new VfioProcess(variant, {}, { arch }), dev, {
    loops: int(values.loops, 'loops', LOOPS, 1), group: int(values.group, 'group', 0, 0),
    out: values.json ? undefined : all ? (l) => console.log(l) : (l) => shown!.push(l, (x) => console.log(x)),
  });
  if (values.json) {
    const lines = all ? r.lines : elideRepeats(r.lines, ALIGN_TEST_KEEP);
    console.log(JSON.stringify({ device: dev.name, kernel: variant.name, ...(arch === x86_64 ? {} : { arch: arch.name }), lines, ...(all ? {} : { linesOmitted: r.lines.length - lines.length + lines.filter(isElisionNote).length }), exitCode: r.exitCode }));
  } else shown?.flush((x) => console.log(x));
  return r.exitCode;
}

function defaultJob(args: string[]): number {
  const { values } = parseArgs({ args, strict: true, options: { device: { type: 'string' }, thp: { type: 'string' }, arch: { type: 'string' }, json: { type: 'boolean' }, svg: { type: 'string' } } });
  const thp = thpOf(values.thp);
  const arch = archOption(values.arch);
  const dev = values.device === undefined ? preset('gpu-128g')! : loadDevice(values.device);
  const rows = gpuTable(dev, VARIANT_NAMES, { thpEnabled: thp }, arch);
  if (values.svg !== undefined) writeOutput(values.svg, mappingSvg(`${dev.name}: every BAR, THP "${thp}"`, rows.map((r) => ({ ...r, variant: `${r.variant} BAR${r.bar}` as typeof r.variant }))), 'svg');
  if (values.json) console.log(JSON.stringify({ device: dev.name, thp, ...(arch === x86_64 ? {} : { arch: arch.name }), rows }));
  else {
    printGpuTable(dev, rows, thp, arch);
    const note = archNote(arch);
    if (note !== null) console.log(`\n(${note})`);
  }
  return 0;
}

/** "a,b,c" of --kernel or --kernels: each an alias or BASE[+SERIES]; a bad one is one line naming it. */
function variantList(text: string, flag: string): string[] {
  return text.split(',').map((k) => {
    const v = parseVariant(k.trim());
    if ('error' in v) throw new UsageError(`--${flag}: ${v.error}`);
    return v.name;
  });
}

function thpOf(v: string | undefined): ThpMode {
  const t = v ?? 'always';
  if (!THP_MODES.includes(t as ThpMode)) throw new UsageError(`--thp: expected always, madvise or never, got ${JSON.stringify(t)}`);
  return t as ThpMode;
}


function largestBar(dev: Device): number {
  const bars = dev.regions.filter((r) => (r.kind === 'bar' || r.kind === 'mmio') && r.mmap);
  if (bars.length === 0) throw new UsageError('--device: the device has no mmap-able BAR');
  return bars.reduce((a, b) => (b.size > a.size ? b : a)).index;
}


/** --arch NAME: x86_64 (the default) or an arm64 granule. */
function archOption(v: string | undefined): Arch {
  if (v === undefined) return x86_64;
  const a = archByName(v);
  if (a === undefined) throw new UsageError(`--arch: expected one of ${ARCH_NAMES.join(', ')}, got ${JSON.stringify(v)}`);
  return a;
}

/** What an arm64 table does not show: the contiguous-bit sizes, proposed for pfnmaps in no kernel. */
function archNote(a: Arch): string | null {
  if (a === x86_64) return null;
  const b = leafBytesOf(a);
  const cont = [a.contPtes ? `CONT_PTE ${sizeLabel(b.pte * a.contPtes)}` : '', a.contPmds ? `CONT_PMD ${sizeLabel(b.pmd * a.contPmds)}` : ''].filter(Boolean).join(' and ');
  return `${a.name}: ${sizeLabel(b.pte)} pages, PMD leaves of ${sizeLabel(b.pmd)} are the largest a pfnmap gets (no PUD pfnmaps on arm64)` +
    (cont ? `; ${cont} ranges are proposed for pfnmaps, in no kernel` : '');
}

function compareCmd(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {
    device: { type: 'string' }, bdf: { type: 'string' }, kernels: { type: 'string', default: `linux-6.18,v1,v2,${RECIPE_VARIANT_NAMES.join(',')}` }, bar: { type: 'string' },
    offset: { type: 'string' }, len: { type: 'string' }, thp: { type: 'string' }, arch: { type: 'string' }, json: { type: 'boolean' }, svg: { type: 'string' } } });
  const arch = archOption(values.arch);
  if (positionals.length > 0) throw new UsageError(`compare: unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.device === undefined) throw new UsageError('compare: --device is required');
  const dev = loadDevice(values.device, values.bdf);
  const kernels = variantList(values.kernels!, 'kernels');
  const bar = values.bar === undefined ? largestBar(dev) : intOption(values.bar, 'bar', 0, 63);
  const region = dev.regions.find((r) => r.index === bar);
  const lower = dev.regions.find((r) => r.index === bar - 1);
  if (region === undefined && lower?.kind === 'bar' && lower.mem64 && lower.size > 0) {
    throw new UsageError(`--bar: BAR${bar} is the upper half of 64-bit BAR${bar - 1}: map BAR${bar - 1}`);
  }
  if (region === undefined || (region.kind !== 'bar' && region.kind !== 'mmio') || (region.size === 0 && region.status === undefined)) throw new UsageError(`--bar: the device has no ${dev.driver === 'vfio-platform' ? 'MMIO region ' : 'BAR'}${bar}`);
  if (!region.mmap) throw new UsageError(`--bar: BAR${bar} cannot be mmap()ed: ${notMappable(region)}`);
  // the page's checks, so both refuse the same windows with the same words; on the command
  // line a blank value is not "the default"
  for (const k of ['offset', 'len'] as const) if (values[k] !== undefined && values[k]!.trim() === '') throw new UsageError(`--${k}: expected a 0x hex number of bytes, got ${JSON.stringify(values[k])}`);
  const { offset, len } = windowOf(dev, bar, values.offset ?? '', values.len ?? '', { bar: '--bar', offset: '--offset', len: '--len' });
  const thp = thpOf(values.thp);
  let rows: MapResult[];
  if (values.svg !== undefined && arch !== x86_64) throw new UsageError('--svg: the drawing shows x86_64 page tables only; leave out --arch or --svg');
  // no window given and the region has sparse mmap areas: every variant maps each area, as VMMs do
  const byAreas = region.sparse !== undefined && values.offset === undefined && values.len === undefined;
  if (byAreas) {
    rows = kernels.map((k) => mapAreasAndTouch(k, dev, bar, { thpEnabled: thp }, undefined, arch));
    if (values.svg !== undefined) {
      // the drawing shows one window: the region's first sparse area
      const a = region.sparse![0];
      const an = kernels.map((k) => analyze({ variant: k, device: dev, bar, offset: a.offset, len: a.size, thp }));
      writeOutput(values.svg, addressSpaceSvg(`${dev.name}: BAR${bar}, its sparse area from 0x${a.offset.toString(16)}, 0x${a.size.toString(16)} bytes, THP "${thp}"`, an), 'svg');
    }
  } else if (values.svg !== undefined) {
    // the drawing needs the whole address space, so each variant runs once through analyze()
    const an = kernels.map((k) => analyze({ variant: k, device: dev, bar, offset, len, thp }));
    rows = an.map((a) => a.result);
    const title = `${dev.name}: BAR${bar} from 0x${offset.toString(16)}, 0x${len.toString(16)} bytes, THP "${thp}"`;
    writeOutput(values.svg, addressSpaceSvg(title, an), 'svg');
  } else rows = kernels.map((k) => mapAndTouch(k, dev, bar, offset, len, { thpEnabled: thp }, undefined, arch));
  if (values.json) {
    console.log(JSON.stringify({ device: dev.name, bar, offset, len, thp, ...(arch === x86_64 ? {} : { arch: arch.name }), rows }));
    return 0;
  }
  const what = region.kind === 'mmio' ? `region ${bar}` : `BAR${bar}`;
  const drv = dev.driver && !dev.name.includes(dev.driver) ? ` (${dev.driver})` : '';
  const onArch = arch === x86_64 ? '' : `, ${arch.name}`;
  if (byAreas) {
    const areas = region.sparse!.map((a) => `[0x${a.offset.toString(16)}, +0x${a.size.toString(16)})`).join(' ');
    console.log(`${dev.name}${drv}: ${what} of ${sizeLabel(region.size)}, its sparse mmap areas ${areas} each mapped, THP "${thp}"${onArch}\n`);
  } else console.log(`${dev.name}${drv}: ${what} [0x${offset.toString(16)}, +0x${len.toString(16)}) of ${sizeLabel(region.size)}, THP "${thp}"${onArch}\n`);
  const vw = Math.max(11, ...rows.map((r) => r.variant.length + 1));
  console.log(['variant'.padEnd(vw), 'address'.padStart(16), 'aligned'.padStart(8), 'faults'.padStart(12), 'fallbacks'.padStart(11), 'TLB'.padStart(12), '  leaves'].join(''));
  for (const r of rows) {
    const fb = r.fallback.pud + r.fallback.pmd;
    console.log([r.variant.padEnd(vw), (r.addr ?? r.error ?? '-').padStart(16), (r.addr ? sizeLabel(r.alignment) : '-').padStart(8),
      r.faults.toLocaleString('en-US').padStart(12), fb.toLocaleString('en-US').padStart(11), r.tlbEntries.toLocaleString('en-US').padStart(12),
      '  ' + fmtLeaves(r.leaves, r.leafBytes) + (r.areas?.length === 1 && r.areas[0].addr ? ` (VA ≡ offset mod ${sizeLabel(r.areas[0].congruence)})` : '')].join(''));
    if (r.areas !== undefined && r.areas.length > 1) {
      for (const a of r.areas) {
        console.log(['  +0x' + a.offset.toString(16).padEnd(vw - 5), (a.addr ?? a.error ?? '-').padStart(16), (a.addr ? sizeLabel(a.alignment) : '-').padStart(8),
          a.faults.toLocaleString('en-US').padStart(12), ''.padStart(11), ''.padStart(12), `  ${fmtLeaves(a.leaves, r.leafBytes)}${a.addr ? ` (VA ≡ offset mod ${sizeLabel(a.congruence)})` : ''}`].join(''));
      }
    }
  }
  if (byAreas) console.log('\n(each sparse area is its own mmap; with several, "+0x…" rows are the areas by offset in the region. "VA ≡ offset mod": the VA\'s congruence with the area\'s file offset, what huge faults need where the driver keeps pgoff ≡ phys)');
  const lb = leafBytesOf(arch);
  console.log(`\n(fallbacks: ->huge_fault calls that returned VM_FAULT_FALLBACK, ${arch.pfnmapPud ? `${sizeLabel(lb.pud)} and ` : ''}${sizeLabel(lb.pmd)} attempts together)`);
  if (offset % arch.pageSize !== 0 && rows.some((r) => r.error === 'EINVAL')) {
    console.log(`(EINVAL: the offset 0x${offset.toString(16)} is not a multiple of the ${sizeLabel(arch.pageSize)} page, and mmap() takes page-aligned offsets only)`);
  }
  const note = archNote(arch);
  if (note !== null) console.log(`(${note})`);
  return 0;
}

/** "64-bit, prefetchable", "32-bit, non-prefetchable", "I/O ports", and lspci's status. */
function barLabel(r: Region): string {
  const where = r.io ? 'I/O ports' : r.status === 'ignored' || r.status === 'unassigned' || r.status === 'broken' ? `<${r.status === 'broken' ? 'broken-64-bit-slot' : r.status}>` : `at 0x${r.start.toString(16)}`;
  const kind = r.io ? '' : r.kind === 'mmio' ? ', MMIO (vfio-platform)' : `, ${r.mem64 ? '64-bit' : '32-bit'}, ${r.prefetchable ? 'prefetchable' : 'non-prefetchable'}`;
  return `${r.size > 0 ? sizeLabel(r.size) : 'size unknown'} ${where}${kind}`;
}

/** Why a BAR is not mapped, in the words a person can act on. */
function notMappable(r: Region): string {
  if (r.io) return 'I/O ports: vfio-pci gives no mmap for them (read and write the region instead)';
  if (r.status === 'ignored') return 'the kernel ignored this BAR (<ignored>: no address assigned), so vfio-pci cannot map it';
  if (r.status === 'unassigned') return 'no address assigned (<unassigned>): vfio-pci cannot map it until the kernel assigns one (pci=realloc, or a BIOS setting)';
  if (r.status === 'broken') return 'a broken 64-bit slot: lspci could not read an address';
  if (r.size === 0) return 'lspci printed no size: not mappable as described';
  if (r.size < 4096) return 'smaller than a page: not mmap-able on this device as described';
  return 'not mmap-able through VFIO (as described)';
}

/** --device D | --lspci FILE | --sysfs DIR [--bdf BDF]: one device, or none given. */

/** The devices --device, --lspci or --sysfs name (exactly one given), --bdf picking one. */
function devicesOf(values: { device?: string; lspci?: string; sysfs?: string; bdf?: string }): Device[] {
  if (values.lspci !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(values.lspci, 'utf8');
    } catch (e) {
      throw new InputError('--lspci', `cannot read ${oneLine(values.lspci)}: ${errText(e)}`);
    }
    return values.bdf !== undefined ? [importLspci(text, undefined, values.bdf)] : importLspciAll(text);
  }
  if (values.sysfs !== undefined) return values.bdf !== undefined ? [importSysfs(values.sysfs, values.bdf)] : importSysfsAll(values.sysfs);
  return [loadDevice(values.device!, values.bdf)];
}

function oneDevice(values: { device?: string; lspci?: string; sysfs?: string; bdf?: string }, cmd: string): Device | undefined {
  const given = [values.device, values.lspci, values.sysfs].filter((x) => x !== undefined);
  if (given.length > 1) throw new UsageError(`${cmd}: give at most one of --device D, --lspci FILE, --sysfs DIR`);
  if (given.length === 0) {
    if (values.bdf !== undefined) throw new UsageError(`${cmd}: --bdf picks a device of --device, --lspci or --sysfs: give one`);
    return undefined;
  }
  const devs = devicesOf(values);
  if (devs.length !== 1) throw new UsageError(`${cmd}: ${values.lspci !== undefined ? '--lspci' : '--sysfs'} holds ${devs.length} devices: pick one with --bdf`);
  return devs[0];
}

function inspectCmd(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {
    maps: { type: 'string' }, device: { type: 'string' }, lspci: { type: 'string' }, sysfs: { type: 'string' }, bdf: { type: 'string' },
    kernel: { type: 'string' }, thp: { type: 'string' }, arch: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length > 0) throw new UsageError(`inspect: unexpected argument ${JSON.stringify(positionals[0])}`);
  const arch = archOption(values.arch);
  if (values.maps === undefined || values.maps === '') throw new UsageError('inspect: --maps FILE|PID is required');
  const dev = oneDevice(values, 'inspect');
  const { text, source, pid } = readMapsArg(values.maps);
  const kernels = values.kernel === undefined ? defaultKernels(pid) : variantList(values.kernel, 'kernel');
  const thp = values.thp === undefined && pid !== null ? machineThp() : thpOf(values.thp);
  const r = inspect(text, source, { device: dev, kernels, thp, arch });
  if (values.json) console.log(JSON.stringify(r));
  else for (const l of inspectText(r)) console.log(l);
  return 0;
}

function planCmd(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {
    device: { type: 'string' }, lspci: { type: 'string' }, sysfs: { type: 'string' }, bdf: { type: 'string' }, kernel: { type: 'string' }, thp: { type: 'string' },
    arch: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length > 0) throw new UsageError(`plan: unexpected argument ${JSON.stringify(positionals[0])}`);
  const arch = archOption(values.arch);
  const given = [values.device, values.lspci, values.sysfs].filter((x) => x !== undefined);
  if (given.length !== 1) throw new UsageError('plan: give exactly one of --device D, --lspci FILE, --sysfs DIR');
  // a malformed --bdf is refused before anything is read, whichever source it goes with
  if (values.bdf !== undefined) normaliseBdf(values.bdf);
  const devs = devicesOf(values);
  if (values.bdf !== undefined && values.lspci === undefined && values.sysfs === undefined && devs[0].bdf !== undefined && devs[0].bdf !== normaliseBdf(values.bdf)) {
    throw new InputError('--bdf', `the device is ${devs[0].bdf}, not ${oneLine(values.bdf)}`);
  }
  const thp = thpOf(values.thp);
  let released: readonly string[] = VARIANT_NAMES.filter((n) => variantByName(n)!.kind !== 'userspace');
  if (values.kernel !== undefined) {
    released = variantList(values.kernel, 'kernel');
  }
  const plans = devs.map((dev) => ({ dev, plan: planDevice(dev, released, thp, arch) }));
  if (values.json) {
    // one device: the object as before; several: one per line
    for (const { dev, plan } of plans) console.log(JSON.stringify({ device: dev.name, ...(dev.bdf ? { bdf: dev.bdf } : {}), thp, ...(arch === x86_64 ? {} : { arch: arch.name }), plan }));
    return 0;
  }
  plans.forEach(({ dev, plan }, k) => {
    if (k > 0) console.log('');
    printPlan(dev, plan, thp, arch);
  });
  const note = archNote(arch);
  if (note !== null) console.log(`\n(${note})`);
  return 0;
}

function planDevice(dev: Device, released: readonly string[], thp: ThpMode, arch: Arch = x86_64) {
  const bars = dev.regions.filter((r) => (r.kind === 'bar' || r.kind === 'mmio') && (r.size > 0 || r.status !== undefined));
  return bars.map((r) => {
    const head = { bar: r.index, size: r.size, ...(r.status ? { status: r.status } : {}) };
    if (!r.mmap) return { ...head, mmap: false, kernels: [], recipe: null, recipeYields: [] };
    // a region with sparse mmap areas (nvgrace-gpu's fake BARs): the plan is for its first area
    const area = r.sparse?.[0] ?? { offset: 0, size: r.size };
    const kernels = released.map((k) => mapAndTouch(k, dev, r.index, area.offset, area.size, { thpEnabled: thp }, undefined, arch));
    const rc = recipe(DEFAULT_CONFIG, r.index, area.offset, area.size, arch);
    const recipeYields = rc.align > arch.pageSize ? released.map((k) => recipeOnKernel(k, dev, r.index, { thpEnabled: thp }, arch, area)) : [];
    return { ...head, mmap: true, kernels, recipe: rc, recipeYields };
  });
}

function printPlan(dev: Device, plan: ReturnType<typeof planDevice>, thp: ThpMode, arch: Arch = x86_64): void {
  // the name already says what it is when lspci gave no better one than the address
  console.log(`${dev.name}${dev.bdf && !dev.name.includes(dev.bdf) ? ` (${dev.bdf})` : ''}, THP "${thp}"${arch === x86_64 ? '' : `, ${arch.name}`}`);
  if (plan.length === 0) console.log(dev.driver === 'vfio-platform' ? '  no MMIO regions' : '  no BARs');
  for (const b of plan) {
    const r = dev.regions.find((x) => x.index === b.bar)!;
    const upper = r.mem64 ? ` (with BAR${b.bar + 1}, its upper half)` : '';
    console.log(`\n${r.kind === 'mmio' ? 'region ' : 'BAR'}${b.bar}: ${barLabel(r)}${upper}${r.status === 'disabled' ? ' [disabled: memory decoding is off; vfio-pci turns it on when the device is opened]' : r.status === 'virtual' ? ' [virtual: an SR-IOV VF BAR]' : ''}`);
    if (!b.mmap) {
      console.log(`  ${notMappable(r)}`);
      continue;
    }
    for (const k of b.kernels) console.log(`  ${k.variant.padEnd(10)} ${fmtLeaves(k.leaves, k.leafBytes).padEnd(22)} ${countOf(k.faults, 'fault')}`);
    const rc = b.recipe!;
    if (rc.align <= arch.pageSize) {
      console.log('  recipe: plain mmap(NULL, …) — the BAR is too small for a huge leaf');
      continue;
    }
    if (r.kind === 'mmio') console.log('  (vfio-platform remap_pfn_range()s the region at mmap: 4 KiB PTEs whatever the address, so the recipe buys nothing)');
    const mapLen = r.sparse?.[0]?.size ?? b.size;
    if (r.sparse) console.log(`  (mapped: its sparse mmap area [0x${r.sparse[0].offset.toString(16)}, +0x${mapLen.toString(16)}), all the driver lets mmap() cover)`);
    console.log(`  recipe for a kernel without a placement hook (${sizeLabel(rc.align)} leaves):`);
    console.log(`    base = mmap(NULL, 0x${rc.reserve.toString(16)}, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0)`);
    console.log(`    va   = the first address >= base with va % 0x${rc.align.toString(16)} == 0x${rc.residue.toString(16)}; munmap [base, va) and [va + 0x${mapLen.toString(16)}, base + 0x${rc.reserve.toString(16)})`);
    console.log(`    mmap(va, 0x${mapLen.toString(16)}, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, fd, 0x${rc.fileOffset.toString(16)})`);
    console.log('    madvise(va, len, MADV_HUGEPAGE) where THP is "madvise" and the kernel lacks the pfnmap bypass');
    console.log('  the recipe yields:');
    for (const y of b.recipeYields) console.log(`  ${y.variant.padEnd(10)} ${fmtLeaves(y.leaves, y.leafBytes).padEnd(22)} ${countOf(y.faults, 'fault')}${y.madvise ? ' (with the madvise)' : ''}`);
  }
}

async function sweepCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {
    count: { type: 'string', default: '200' }, seed: { type: 'string', default: '1' }, kernels: { type: 'string' }, thp: { type: 'string' }, arch: { type: 'string' },
    shard: { type: 'string' }, workers: { type: 'string' }, out: { type: 'string' }, svg: { type: 'string' } } });
  if (positionals.length > 0) throw new UsageError(`sweep: unexpected argument ${JSON.stringify(positionals[0])}`);
  const int = intOption;
  const variants = values.kernels === undefined ? VARIANT_NAMES : variantList(values.kernels, 'kernels');
  let shard;
  try {
    shard = parseShard(values.shard, process.env);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  checkOutput(values.out, 'out');
  checkOutput(values.svg, 'svg');
  const count = int(values.count!, 'count', 1);
  const tty = process.stderr.isTTY === true;
  const res = await sweep({
    seed: int(values.seed!, 'seed', 0), count, shard, variants, thp: thpOf(values.thp), arch: archOption(values.arch).name,
    workers: values.workers === undefined ? defaultWorkers() : int(values.workers, 'workers', 1),
    progress: tty ? (done, total) => {
      const w = 30;
      const f = Math.round((done / total) * w);
      process.stderr.write(`\r[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total} cases`);
      if (done === total) process.stderr.write('\n');
    } : undefined,
  });
  const json = JSON.stringify(res, null, 1);
  if (values.out !== undefined) writeOutput(values.out, json + '\n', 'out');
  // a person at a terminal gets the table; a pipe gets the JSON
  if (values.out !== undefined || process.stdout.isTTY === true) {
    console.log(sweepSummary(res));
    if (values.out === undefined) console.log('\n(the JSON result: --out FILE, or pipe the output)');
  } else console.log(json);
  if (values.svg !== undefined) writeOutput(values.svg, coverageSvg(res), 'svg');
  return 0;
}

/** pfnmap kernels: bases, series, aliases and the switch table. */
function kernelsCmd(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' } } });
  if (positionals.length > 0) throw new UsageError(`kernels: unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.json) {
    console.log(JSON.stringify({ bases: SERIES.map((s) => ({ name: `linux-${s.series}`, means: `linux-${s.series}.${s.defaultPoint}`, lowestPoint: s.lowestKnownPoint, checked: s.checked })),
      series: SERIES_LIST.map((s) => ({ name: s.name, status: s.status, title: s.title })), aliases: Object.fromEntries(VARIANT_NAMES.map((n) => [n, aliasMeaning(n)])),
      recipes: RECIPES.map((r) => ({ name: r.name, absolute: r.absolute, title: r.title })), switches: SWITCHES }));
    return 0;
  }
  console.log('bases (BASE or BASE.N, a point release; the bare name means the release in brackets):');
  for (const s of SERIES) console.log(`  linux-${s.series.padEnd(6)} [${s.series}.${s.defaultPoint}]${s.lowestKnownPoint > 0 ? ` from ${s.series}.${s.lowestKnownPoint}` : ''}  ${s.checked}`);
  console.log('\nseries (BASE+SERIES):');
  for (const s of SERIES_LIST) console.log(`  ${s.name.padEnd(10)} ${s.status.padEnd(9)} ${s.title}`);
  console.log('\naliases (the names of before):');
  for (const n of VARIANT_NAMES) console.log(`  ${n.padEnd(10)} = ${aliasMeaning(n)}`);
  console.log('\nuserspace recipes (RECIPE = RECIPE@linux-6.18, or RECIPE@KERNEL):');
  for (const r of RECIPES) console.log(`  ${r.name.padEnd(17)} ${r.title}`);
  console.log(`\nswitches, per stable series:\n${switchTable().split('\n').map((l) => `  ${l}`).join('\n')}`);
  console.log('\n(sources of each cell: pfnmap kernels --json, docs/model.md)');
  return 0;
}

function aliasMeaning(n: string): string {
  const v = variantByName(n)!;
  const b = `linux-${v.base.series.series}.${v.base.point}`;
  return v.userspaceRecipe ? `congruent@${b} (the reserve-and-MAP_FIXED recipe congruent with the offset)` : v.series ? `${b}+${v.series}` : b;
}

function mergeCmd(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { svg: { type: 'string' }, partial: { type: 'boolean' } } });
  if (positionals.length === 0) throw new UsageError('merge: give the sweep result files to add up');
  checkOutput(values.svg, 'svg');
  const parts = positionals.map((f) => ({ file: f, result: parseSweepResult(readJsonFile(f), f) }));
  const merged = mergeResults(parts.map((p) => p.result), values.partial === true, parts.map((p) => p.file));
  console.log(JSON.stringify(merged, null, 1));
  if (values.svg !== undefined) writeOutput(values.svg, coverageSvg(merged), 'svg');
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
      const known = cmd !== undefined && !cmd.startsWith('-') && Object.hasOwn(COMMANDS, cmd);
      console.log(known ? commandHelp(cmd) : cmd === undefined || cmd.startsWith('-') ? commandHelp('') : HELP());
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
      case 'inspect':
        return inspectCmd(rest);
      case 'sweep':
        return sweepCmd(rest).catch(handleError);
      case 'merge':
        return mergeCmd(rest);
      case 'kernels':
        return kernelsCmd(rest);
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

/** Bad usage or input: one line on stderr, exit 2. Anything else is a bug: one line, exit 70. */
export function handleError(e: unknown): number {
  if (e instanceof InputError || e instanceof UsageError) {
    console.error(`pfnmap: ${oneLine(e.message, 2000)}`);
    return 2;
  }
  return internalError(e);
}

/** EX_SOFTWARE (sysexits.h): an internal error, never mistaken for a mismatch (1) or bad input (2). */
export const EX_SOFTWARE = 70;

function internalError(e: unknown): number {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  console.error(`pfnmap: internal error: ${oneLine(msg, 500)} (a bug: please report it with the command line; PFNMAP_DEBUG=1 shows where)`);
  if (process.env.PFNMAP_DEBUG === '1' && e instanceof Error && e.stack) console.error(e.stack);
  return EX_SOFTWARE;
}

// run when executed (directly, or through the npm bin link), not when imported
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // a reader that went away (pfnmap … | head) ends the output, not the program with a trace
  process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : internalError(e)));
  process.on('uncaughtException', (e) => process.exit(internalError(e)));
  Promise.resolve(main(process.argv.slice(2))).then((code) => {
    process.exitCode = code;
  }, (e) => {
    process.exitCode = internalError(e);
  });
}
