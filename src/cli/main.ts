#!/usr/bin/env node
// pfnmap: the command line. Exit codes: 0 ok, 1 a finding (mismatch), 2 bad usage or input.

import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { loadTraceFile } from '../trace/load.js';
import { replay, type ReplayReport } from '../trace/replay.js';
import { InputError } from '../trace/input-error.js';
import { bundledTraces } from './paths.js';
import { loadDevice } from '../devices/load.js';
import { variantByName, VARIANT_NAMES } from '../kernels/variants.js';
import { VfioProcess } from '../vfio/process.js';
import { runAlignTest, LOOPS } from '../vfio/align-test.js';
import { gpuTable, printGpuTable } from './gpu-table.js';
import { preset } from '../devices/presets.js';

class UsageError extends Error {}

const HELP = () => `pfnmap — an executable model of how Linux places mmap()s, checked against the live kernel

usage:
  pfnmap [--device D] [--thp always|madvise|never] [--json]
                               map every BAR of a device (default: the gpu-128g preset) the way
                               an unmodified program would, under every kernel variant; touch
                               it and print address alignment, leaves, faults and TLB entries
  pfnmap fidelity [--json]     replay the bundled Linux 6.18 kernel traces, print a fidelity table
  pfnmap replay TRACE [--json] replay one pfnmap-trace/1 file (.json or .json.gz)
  pfnmap align-test --device D [--kernel K] [--loops N] [--group G]
                               run the checks of vfio-pci-device-map-alignment against a
                               device (preset, pfnmap-device/1 JSON, lspci -v text or a sysfs
                               device directory) under a kernel variant (default v2)
  pfnmap help                  this text

kernel variants: ${VARIANT_NAMES.join(', ')}

examples:
  pfnmap replay fixtures/kernel-traces/mixed-1.json
  pfnmap replay fixtures/kernel-traces/churn-77.json.gz --json
  pfnmap align-test --device gpu-128g --kernel linux-6.18

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
    options: { device: { type: 'string' }, kernel: { type: 'string', default: 'v2' }, loops: { type: 'string' }, group: { type: 'string' } },
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
    loops: int(values.loops, 'loops', LOOPS), group: int(values.group, 'group', 0), out: (l) => console.log(l),
  });
  return r.exitCode;
}

function defaultJob(args: string[]): number {
  const { values } = parseArgs({ args, strict: true, options: { device: { type: 'string' }, thp: { type: 'string', default: 'always' }, json: { type: 'boolean' } } });
  const thp = values.thp!;
  if (thp !== 'always' && thp !== 'madvise' && thp !== 'never') throw new UsageError(`--thp: expected always, madvise or never, got ${JSON.stringify(thp)}`);
  const dev = values.device === undefined ? preset('gpu-128g')! : loadDevice(values.device);
  const rows = gpuTable(dev, VARIANT_NAMES, { thpEnabled: thp });
  if (values.json) console.log(JSON.stringify({ device: dev.name, thp, rows }));
  else printGpuTable(dev, rows, thp);
  return 0;
}

export function main(argv: string[]): number {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === '--help' || cmd === '-h') {
      console.log(HELP());
      return 0;
    }
    if (cmd === undefined || cmd.startsWith('--')) return defaultJob(argv);
    switch (cmd) {
      case 'fidelity':
        return fidelityTable(rest.includes('--json'));
      case 'replay':
        return replayCmd(rest);
      case 'align-test':
        return alignTestCmd(rest);
      case 'help':
      case '--help':
      case '-h':
        console.log(HELP());
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)} (try pfnmap --help)`);
    }
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError) {
      console.error(`pfnmap: ${e.message}`);
      return 2;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`pfnmap: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1] && path.basename(process.argv[1]).replace(/\.js$/, '') !== 'main' ? false : true) {
  process.exitCode = main(process.argv.slice(2));
}
