// Malformed traces give one clear error naming the field; the CLI exits 2.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateTrace } from '../src/trace/load.js';
import { InputError } from '../src/trace/input-error.js';
import { bundledTraces, packageRoot } from '../src/cli/paths.js';

const sample = () => JSON.parse(fs.readFileSync(bundledTraces().find((f) => f.endsWith('mixed-1.json'))!, 'utf8'));

const cases: [string, (t: any) => void, RegExp][] = [
  ['unknown op', (t) => (t.ops[3].op = 'mremap'), /^ops\[3\]\.op: unknown op "mremap"/],
  ['unknown flag', (t) => (t.ops[1].flags = ['PRIVATE', 'HUGE']), /^ops\[1\]\.flags\[1\]: unknown flag "HUGE"/],
  ['non-hex length', (t) => (t.ops[2].len = '4096'), /^ops\[2\]\.len: expected a lowercase 0x hex/],
  ['upper-case hex', (t) => (t.ops[2].len = '0x1A000'), /^ops\[2\]\.len:/],
  ['65-bit number', (t) => (t.ops[2].addr = '0x10000000000000000'), /^ops\[2\]\.addr:/],
  ['missing field', (t) => delete t.ops[4].len, /^ops\[4\]\.len:/],
  ['missing fd', (t) => delete t.ops[0].fd, /^ops\[0\]\.fd: missing/],
  ['unknown file', (t) => (t.ops[0].fd = 'zz'), /^ops\[0\]\.fd: no file with id "zz"/],
  ['forward reference', (t) => (t.ops[5].addr = '@7+0x1000'), /^ops\[5\]\.addr: refers to op 7/],
  ['bad prot', (t) => (t.ops[1].prot = 'rwxs'), /^ops\[1\]\.prot: unknown prot/],
  ['bad errno', (t) => (t.results[16] = { errno: 'EWHAT' }), /^results\[16\]\.errno: unknown errno/],
  ['results count', (t) => t.results.pop(), /^results: has 299 entries for 300 ops/],
  ['bad perms', (t) => (t.final[2].perms = 'rw'), /^final\[2\]\.perms:/],
  ['wrong format', (t) => (t.format = 'pfnmap-trace/2'), /^format:/],
  ['randomize not a boolean', (t) => ((t.env as unknown as Record<string, unknown>).randomize = 'yes'), /^env\.randomize: expected true or false/],
  ['mmapBase without randomisation', (t) => (t.env.mmapBase = '0x7ffff7fff000'), /^env\.mmapBase: only a randomised trace/],
  ['mmapBase out of range', (t) => { t.env.randomize = true; t.env.mmapBase = '0x7ffff7fff000'; }, /^env\.mmapBase: 0x7ffff7fff000 is not an mmap_base this task can have/],
  ['mmapRndBits out of range', (t) => { t.env.randomize = true; t.env.mmapRndBits = 40; }, /^env\.mmapRndBits: expected an integer from 28 to 32/],
  ['unknown file kind', (t) => (t.files[0].kind = 'nfs'), /^files\[0\]\.kind: unknown kind "nfs"/],
  ['inherited name as prot', (t) => (t.ops[1].prot = 'constructor'), /^ops\[1\]\.prot: unknown prot "constructor"/],
  ['inherited name as flag', (t) => (t.ops[1].flags = ['PRIVATE', 'toString']), /^ops\[1\]\.flags\[1\]: unknown flag "toString"/],
  ['inherited name as kernel', (t) => (t.model = { kernel: 'toString' }), /^model\.kernel: unknown kernel variant "toString"/],
  ['config switch of the wrong type', (t) => (t.model = { kernel: 'linux-6.18', config: { hugePfnmap: null } }), /^model\.config\.hugePfnmap: expected an object/],
  ['config flag of the wrong type', (t) => (t.model = { kernel: 'linux-6.18', config: { compat: 'yes' } }), /^model\.config\.compat: expected true or false/],
  ['config THP mode', (t) => (t.model = { kernel: 'linux-6.18', config: { thpEnabled: 'sometimes' } }), /^model\.config\.thpEnabled: expected always, madvise, never/],
  ['initial VMA of no file', (t) => (t.initial[0].backing = 'f9'), /^initial\[0\]\.backing: no file with id "f9"/],
  ['unaligned initial VMA', (t) => (t.initial[0].start = '0x10001'), /^initial\[0\]\.start: expected a page-aligned value/],
  ['empty initial VMA', (t) => (t.initial[0].end = t.initial[0].start), /^initial\[0\]\.end: expected above start/],
  ['overlapping initial VMAs', (t) => (t.initial[1].start = '0x555555554000'), /^initial\[1\]\.start: 0x555555554000 is below the end of initial\[0\] \(0x555555555000\)/],
  ['duplicated initial VMA', (t) => t.initial.splice(1, 0, { ...t.initial[0] }), /^initial\[1\]\.start: .* VMAs are listed ascending, without overlap/],
  ['unsorted initial VMAs', (t) => t.initial.reverse(), /^initial\[1\]\.start: .* is below the end of initial\[0\]/],
  ['unsorted final VMAs', (t) => t.final.reverse(), /^final\[1\]\.start: .* is below the end of final\[0\]/],
  ['negative max_map_count', (t) => (t.env.maxMapCount = -1), /^env\.maxMapCount: expected an integer from 0 to 2147483647, got -1/],
  ['max_map_count beyond an int', (t) => (t.env.maxMapCount = 2 ** 31), /^env\.maxMapCount: expected an integer from 0 to 2147483647/],
  ['ns of another length', (t) => t.ns.pop(), /^ns: has 299 entries for 300 ops/],
  ['negative ns', (t) => (t.ns[4] = -3), /^ns\[4\]: expected a non-negative number/],
  ['deeply nested value', (t) => (t.ops[2].addr = JSON.parse('['.repeat(5000) + ']'.repeat(5000))), /^ops\[2\]\.addr: expected a string, got an array of 1$/],
];

// An op's address is "0x…" or a reference "@K", "@K+0x…", "@K-0x…" to an earlier op's result:
// whatever string it is, the loader takes it as this pattern reads it, or names ops[5].addr.
test('an op address is read as /^@(\\d+)(?:([+-])(0x[0-9a-f]+))?$/ or hex, or refused naming it', () => {
  const base = sample();
  const near = fc.tuple(
    fc.constantFrom('@', '@0', '@4', '@5', '@007', '0x', '', '@1x', '@+'),
    fc.array(fc.constantFrom(...'0123456789+-xabfAG@ '), { maxLength: 24 }),
  ).map(([p, d]) => p + d.join(''));
  fc.assert(fc.property(fc.oneof(near, fc.string()), (addr) => {
    const t = structuredClone(base);
    t.ops[5].addr = addr;
    let want: { k: number; off: bigint; neg: boolean } | null = null;
    const m = /^@(\d+)(?:([+-])(0x[0-9a-f]+))?$/.exec(addr);
    if (m !== null) {
      const off = m[3] === undefined ? 0n : /^0x[0-9a-f]{1,16}$/.test(m[3]) ? BigInt(m[3]) : null;
      if (Number(m[1]) < 5 && off !== null) want = { k: Number(m[1]), off, neg: m[2] === '-' };
    } else if (/^0x[0-9a-f]{1,16}$/.test(addr)) want = { k: -1, off: BigInt(addr), neg: false };
    if (want === null) {
      assert.throws(() => validateTrace(t), (e: unknown) => e instanceof InputError && e.message.startsWith('ops[5].addr: '), JSON.stringify(addr));
    } else {
      const a = validateTrace(t).ops[5].addr;
      assert.deepEqual({ k: a.k, off: BigInt(a.off.pg) * 4096n + BigInt(a.off.sub), neg: a.neg }, want, JSON.stringify(addr));
    }
  }), { numRuns: 400 });
});

for (const [name, mutate, re] of cases) {
  test(`bad input: ${name}`, () => {
    const t = sample();
    mutate(t);
    assert.throws(() => validateTrace(t), (e: unknown) => e instanceof InputError && re.test(e.message));
  });
}

const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

function run(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

test('CLI: a malformed trace exits 2 with one line naming the field, no stack trace', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-'));
  const t = sample();
  t.ops[9].op = 'madvise2';
  const f = path.join(dir, 'bad.json');
  fs.writeFileSync(f, JSON.stringify(t));
  const r = run(['replay', f]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /ops\[9\]\.op: unknown op "madvise2"/);
  fs.writeFileSync(f, '{"format": ');
  const r2 = run(['replay', f]);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /not valid JSON/);
  fs.rmSync(dir, { recursive: true });
});

test('CLI: a mismatching trace exits 1 and says where', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-'));
  const t = sample();
  t.results[1] = { ret: '0x7ffff7400000' };
  const f = path.join(dir, 'wrong.json');
  fs.writeFileSync(f, JSON.stringify(t));
  const r = run(['replay', f, '--json']);
  assert.equal(r.status, 1);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.firstMismatch, { op: 1, expected: { ret: '0x7ffff7400000' }, got: { ret: '0x7ffff7600000' } });
  assert.equal(out.resultsMatched, 299);
  fs.rmSync(dir, { recursive: true });
});

test('CLI: unknown commands and flags exit 2', () => {
  assert.equal(run(['frobnicate']).status, 2);
  assert.equal(run(['replay']).status, 2);
  assert.equal(run(['replay', '--bogus', 'x']).status, 2);
  const h = run(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /pfnmap replay TRACE/);
});
