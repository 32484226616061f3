// Hostile input at the command line: every bad file or argument gets exactly one line
// `pfnmap: …` on stderr and exit 2; nothing reaches the top level as a stack trace.

import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundledTraces, packageRoot } from '../src/cli/paths.js';
import { handleError, EX_SOFTWARE } from '../src/cli/main.js';
import { deviceToJson } from '../src/devices/device.js';
import { preset } from '../src/devices/presets.js';
import { parseJson, tooDeep } from '../src/lib/json.js';

const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-hostile-'));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const sampleText = () => fs.readFileSync(bundledTraces().find((f) => f.endsWith('mixed-1.json'))!, 'utf8');

/** exit 2, nothing on stdout, one line on stderr that matches re */
function refused(args: string[], re: RegExp) {
  const r = run(args);
  assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^pfnmap: [^\n]*\n$/, `one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, re);
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

test('values nested thousands of levels deep: one line naming where, in traces, devices and shards', () => {
  const tr = JSON.parse(sampleText());
  tr.ops[3].addr = 'DEEP';
  const t = JSON.stringify(tr).replace('"DEEP"', deep(4000));
  refused(['replay', file('deep-trace.json', t)], /deep-trace\.json: ops\[\d+\]\.addr(\[0\])+: nested deeper than 32 levels\n/);
  const d = JSON.stringify(deviceToJson(preset('gpu-128g')!)).replace('"name":', `"x": ${deep(4000)}, "name":`);
  refused(['compare', '--device', file('deep-dev.json', d)], /deep-dev\.json: x(\[0\])+: nested deeper than 32 levels/);
  refused(['merge', file('deep-shard.json', deep(100000))], /deep-shard\.json: \(?[^:]*: nested deeper than 32 levels/);
});

test('JSON with a byte-order mark is read; NaN or garbage is one line naming the file', () => {
  const bom = file('bom.json', '\ufeff' + sampleText());
  const r = run(['replay', bom]);
  assert.equal(r.status, 0, r.stderr);
  refused(['replay', file('nan.json', sampleText().replace('"ops":[', '"ops":[NaN,\n'))], /nan\.json: not valid JSON: /);
  refused(['replay', file('garbage.json', '{\n\n  garbage\n')], /garbage\.json: not valid JSON/);
});

test('a file name with a newline or an escape stays on one line', () => {
  const weird = path.join(dir, 'a\nb\u001b[31m.json');
  refused(['replay', weird], /a\\nb\\u001b\[31m\.json: cannot read: ENOENT/);
});

test('unwritable --svg and --out: a directory, a missing folder, a full disk', () => {
  refused(['compare', '--device', 'gpu-128g', '--svg', dir], /^pfnmap: --svg: cannot write "[^"]*": EISDIR/);
  refused(['compare', '--device', 'gpu-128g', '--svg', path.join(dir, 'no', 'such.svg')], /^pfnmap: --svg: cannot write .*: ENOENT/);
  if (fs.existsSync('/dev/full')) refused(['compare', '--device', 'gpu-128g', '--svg', '/dev/full'], /^pfnmap: --svg: cannot write "\/dev\/full": ENOSPC/);
  // a long sweep checks its output path before it runs
  refused(['sweep', '--count', '100000000', '--out', path.join(dir, 'missing', 'x.json')], /^pfnmap: --out: cannot write .*: ENOENT/);
  refused(['sweep', '--svg', ''], /^pfnmap: --svg: expected a file path/);
});

test('numbers: blank, signed or written after a space with a minus are refused by their own check', () => {
  refused(['align-test', '--device', 'gpu-128g', '--loops', ''], /^pfnmap: --loops: expected a whole number ≥ 1, got ""/);
  refused(['align-test', '--device', 'gpu-128g', '--loops', '0'], /^pfnmap: --loops: expected a whole number ≥ 1, got "0"/);
  refused(['compare', '--device', 'gpu-128g', '--bar', ''], /^pfnmap: --bar: expected a whole number from 0 to 63, got ""/);
  refused(['compare', '--device', 'gpu-128g', '--bar', '-1'], /^pfnmap: --bar: expected a whole number from 0 to 63, got "-1"/);
  refused(['compare', '--device', 'gpu-128g', '--offset', '-0x1000'], /^pfnmap: --offset: expected a 0x hex number of bytes, got "-0x1000"/);
  refused(['sweep', '--seed', ' '], /^pfnmap: --seed: expected a whole number ≥ 0, got " "/);
  refused(['sweep', '--count', '1e3'], /^pfnmap: --count: expected a whole number ≥ 1, got "1e3"/);
  refused(['compare', '--device'], /^pfnmap: --device: needs a value\n/);
  refused(['compare', '--device', 'gpu-128g', '--bogus'], /^pfnmap: unknown option --bogus/);
});

test('a trace that touches anonymous memory is refused with the op named, not a crash', () => {
  const t = JSON.parse(sampleText());
  const k = t.ops.findIndex((o: { op: string; fd: string | null; flags: string[] }, i: number) => o.op === 'mmap' && o.fd === null && 'ret' in t.results[i]);
  assert.ok(k >= 0);
  t.ops.splice(k + 1, 0, { op: 'touch', addr: `@${k}`, len: '0x1000' });
  t.results.splice(k + 1, 0, { ret: '0x0', faults: 1 });
  t.ns.splice(k + 1, 0, 0);
  // later @K references shift by one
  for (const o of t.ops.slice(k + 2)) {
    o.addr = o.addr.replace(/^@(\d+)/, (_: string, n: string) => `@${Number(n) > k ? Number(n) + 1 : n}`);
  }
  refused(['replay', file('anon-touch.json', JSON.stringify(t))], new RegExp(`anon-touch\\.json: ops\\[${k + 1}\\]: touch reaches anonymous memory at 0x[0-9a-f]+; the model has the fault path of device`));
});

test('device files: an I/O-port BAR that claims to be mmap-able is refused', () => {
  const d = { format: 'pfnmap-device/1', name: 'io', regions: [
    { index: 0, kind: 'bar', start: '0xf0000000', size: '0x1000000', mmap: true },
    { index: 1, kind: 'bar', size: '0x80', io: true, mmap: true }] };
  refused(['compare', '--device', file('io.json', JSON.stringify(d))], /io\.json\.regions\[\d+\]\.mmap: an I\/O-port BAR cannot be mmap\(\)ed/);
});

test('CMD --help prints that command\'s usage, not the general help', () => {
  for (const cmd of ['replay', 'compare', 'plan', 'sweep', 'merge', 'align-test', 'fidelity']) {
    const r = run([cmd, '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, new RegExp(`^usage:\\n  pfnmap ${cmd}`));
    assert.doesNotMatch(r.stdout, /pfnmap — an executable model/);
  }
  assert.match(run(['--help']).stdout, /^pfnmap — an executable model/);
});

test('an internal error is one line, exit 70 (EX_SOFTWARE), a stack only with PFNMAP_DEBUG=1', () => {
  const lines: string[] = [];
  const orig = console.error;
  const debug = process.env.PFNMAP_DEBUG;
  console.error = (s: string) => lines.push(String(s));
  try {
    delete process.env.PFNMAP_DEBUG;
    assert.equal(handleError(new RangeError('Maximum call stack size exceeded')), EX_SOFTWARE);
    assert.equal(EX_SOFTWARE, 70);
    assert.deepEqual(lines.length, 1);
    assert.match(lines[0], /^pfnmap: internal error: RangeError: Maximum call stack size exceeded \(a bug: please report it/);
    process.env.PFNMAP_DEBUG = '1';
    handleError(new Error('boom'));
    assert.equal(lines.length, 3);
    assert.match(lines[2], /^Error: boom\n\s+at /);
  } finally {
    console.error = orig;
    if (debug === undefined) delete process.env.PFNMAP_DEBUG;
    else process.env.PFNMAP_DEBUG = debug;
  }
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('compare refuses a window the BAR cannot hold, with the page\'s words; a blank --offset is no default', () => {
  refused(['compare', '--device', 'gpu-128g', '--bar', '0', '--offset', '0x1000000'], /^pfnmap: --offset: 0x1000000 is past the end of BAR0 \(16 MiB\); vfio-pci refuses such a mapping with EINVAL under every variant\n/);
  refused(['compare', '--device', 'gpu-128g', '--bar', '0', '--offset', '0x1000', '--len', '0x1000000'], /^pfnmap: --len: offset \+ length = 0x1001000 runs past the end of BAR0/);
  refused(['compare', '--device', 'gpu-128g', '--offset', ' '], /^pfnmap: --offset: expected a 0x hex number of bytes, got " "/);
});

test('align-test counts a long run of one kind of line instead of printing it; --all-lines prints every one', () => {
  const args = ['align-test', '--device', 'gpu-128g', '--kernel', 'linux-6.12', '--loops', '2000'];
  const short = run(args);
  const all = spawnSync(process.execPath, [cli, ...args, '--all-lines'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(short.status, 255);
  assert.equal(all.status, 255);
  const allLines = all.stdout.trimEnd().split('\n');
  const failed = allLines.filter((l) => l.startsWith('Failed random size,'));
  assert.ok(failed.length > 5, `${failed.length} failures`);
  const lines = short.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.filter((l) => l.startsWith('Failed random size,')), failed.slice(0, 5));
  assert.ok(lines.includes(`… and ${(failed.length - 5).toLocaleString('en-US')} more "Failed random size" lines (--all-lines prints every one)`));
  // every other line is the real program's, in its order
  assert.deepEqual(lines.filter((l) => !l.startsWith('Failed random size,') && !l.startsWith('… and ')), allLines.filter((l) => !l.startsWith('Failed random size,')));
  const j = JSON.parse(run([...args, '--json']).stdout);
  assert.equal(j.linesOmitted, failed.length - 5);
});

// Found by the fuzz suite (src/fuzz, npm run fuzz): each class of defect it found, once.

test('fuzz: a PCI vendor or device ID that is not "0x" and four hex digits is refused, in device files and sysfs', () => {
  const d = deviceToJson(preset('nvme-16k')!) as Record<string, unknown>;
  for (const bad of ['10de', '0x10DE', 'nvidia', '0x123456', '0x10de\r']) {
    refused(['compare', '--device', file('vendor.json', JSON.stringify({ ...d, vendor: bad }))], /vendor\.json\.vendor: expected a PCI ID like "0x10de", got /);
  }
  refused(['compare', '--device', file('devid.json', JSON.stringify({ ...d, device: 'x' }))], /devid\.json\.device: expected a PCI ID/);
  const sys = path.join(dir, 'sysfs-ids');
  fs.mkdirSync(sys);
  fs.writeFileSync(path.join(sys, 'resource'), ['0x00000000f0000000 0x00000000f0ffffff 0x0000000000040200', ...Array(6).fill('0x0000000000000000 0x0000000000000000 0x0000000000000000')].join('\n') + '\n');
  fs.writeFileSync(path.join(sys, 'vendor'), '0x10de\n');
  fs.writeFileSync(path.join(sys, 'device'), 'garbage\n');
  refused(['plan', '--sysfs', sys], /sysfs-ids\/device: expected a PCI ID like "0x10de", got "garbage"/);
  fs.writeFileSync(path.join(sys, 'device'), '0x2330\n');
  assert.equal(run(['plan', '--sysfs', sys, '--json']).status, 0);
});

test('fuzz: --bdf is checked whatever the device source (it was ignored for presets, device files and sysfs)', () => {
  refused(['compare', '--device', 'nvme-16k', '--bdf', 'zz'], /^pfnmap: --bdf: expected \[dddd:\]bb:dd\.f, got "zz"\n/);
  refused(['align-test', '--device', 'nvme-16k', '--loops', '1', '--bdf', '0000:02:00.8'], /^pfnmap: --bdf: expected/);
  refused(['plan', '--device', 'nvme-16k', '--bdf', '0000:02:00.8'], /^pfnmap: --bdf: expected/);
  const d = { ...(deviceToJson(preset('nvme-16k')!) as object), bdf: '0000:03:00.0' };
  const f = file('bdf.json', JSON.stringify(d));
  refused(['compare', '--device', f, '--bdf', '04:00.0'], /^pfnmap: --bdf: the device is 0000:03:00\.0, not "04:00\.0"\n/);
  assert.equal(run(['compare', '--device', f, '--bdf', '03:00.0', '--json']).status, 0);
});

test('fuzz: merge refuses shards whose totals add up past 2^53 (the merged JSON would hold rounded numbers)', () => {
  const shard = (i: number) => ({ format: 'pfnmap-sweep/1', seed: 1, count: 3, shards: [`${i}/3`], thp: 'always',
    variants: { v2: { cases: 1, failed: 0, bytes: 2 ** 52, pudBytes: 2 ** 52, pmdBytes: 0, pteBytes: 0, faults: 1, tlbEntries: 1 } } });
  const files = [0, 1, 2].map((i) => file(`big-${i}.json`, JSON.stringify(shard(i))));
  refused(['merge', ...files], /^pfnmap: merge: the shards' v2\.bytes add up to more than 2\^53 - 1/);
  assert.equal(run(['merge', ...files.slice(0, 1), '--partial']).status, 0);
});

// The depth bound, at its edge: objects and arrays at depth 31 (32 levels) pass, one more
// level is refused, wherever it hides in the value.
test('JSON nested exactly 32 levels deep is read, 33 is refused with the path to the deep value', () => {
  const nest = (n: number, inner: string) => '['.repeat(n) + inner + ']'.repeat(n);
  assert.doesNotThrow(() => parseJson(nest(32, ''), 'f'));
  assert.throws(() => parseJson(nest(33, ''), 'f'), / f: (\[0\]){32}: nested deeper than 32 levels$/);
  assert.doesNotThrow(() => parseJson(`{"a":1,"b":${nest(30, '{"c":2}')}}`, 'f'));
  assert.throws(() => parseJson(`{"a":1,"b":${nest(31, '{"c":2}')},"z":3}`, 'f'), / f: b(\[0\]){31}: nested deeper than 32 levels$/);
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 40 }), (v) => {
    const depth = (x: unknown): number => (typeof x !== 'object' || x === null ? 0 : 1 + Math.max(0, ...Object.values(x).map(depth)));
    assert.equal(tooDeep(v) !== null, depth(v) > 32);
  }), { numRuns: 300 });
});
