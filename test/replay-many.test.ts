// pfnmap replay with several traces and directories: one process, one table (or JSON
// lines), one exit code; a bad file is its own row and never stops the others.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundledTraces, packageRoot } from '../src/cli/paths.js';
import { traceFilesOf, exitCodeOf, replayRow } from '../src/cli/replay-cmd.js';

const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
const mixed1 = bundledTraces().find((f) => f.endsWith('mixed-1.json'))!;
const anon = bundledTraces().find((f) => f.endsWith('anon-vma-reuse.json'))!;

/** a temp dir: b-good.json, a-wrong.json (a mismatch), c-good.json.gz, notes.txt, sub/d.json */
function fixtureDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-replay-'));
  const text = fs.readFileSync(mixed1, 'utf8');
  fs.writeFileSync(path.join(dir, 'b-good.json'), text);
  const wrong = JSON.parse(text);
  wrong.name = 'wrong';
  wrong.results[1] = { ret: '0x7ffff7400000' };
  fs.writeFileSync(path.join(dir, 'a-wrong.json'), JSON.stringify(wrong));
  fs.writeFileSync(path.join(dir, 'c-good.json.gz'), gzipSync(fs.readFileSync(anon)));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a trace');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'd.json'), text);
  fs.mkdirSync(path.join(dir, 'e-dir.json')); // a directory with a trace's name is not a trace
  return dir;
}

test('a directory stands for its own *.json and *.json.gz files, sorted, subdirectories not searched', () => {
  const dir = fixtureDir();
  try {
    assert.deepEqual(traceFilesOf(dir).map((a) => path.basename(a.file)), ['a-wrong.json', 'b-good.json', 'c-good.json.gz']);
    assert.ok(traceFilesOf(dir).every((a) => a.error === undefined));
    const empty = path.join(dir, 'sub', 'none');
    fs.mkdirSync(empty);
    const [e] = traceFilesOf(empty);
    assert.match(e.error!, /no \*\.json or \*\.json\.gz trace in this directory/);
    assert.match(traceFilesOf(path.join(dir, 'missing.json'))[0].error!, /missing\.json: cannot read: ENOENT/);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('exit codes: 2 over 1 over 0', () => {
  const ok = { file: 'a', result: 'ok' as const, trace: 'a', ops: 1, resultsMatched: 1, finalMatched: true, firstMismatch: null, modelNs: 1 };
  const mm = { ...ok, result: 'mismatch' as const };
  const err = { file: 'c', result: 'error' as const, error: 'c: bad' };
  assert.equal(exitCodeOf([ok, ok]), 0);
  assert.equal(exitCodeOf([ok, mm]), 1);
  assert.equal(exitCodeOf([mm, err, ok]), 2);
  assert.equal(replayRow({ file: 'x', error: 'x: cannot read' }).result, 'error');
});

test('replay DIR FILE: a table with a row per trace and a total line; a mismatch exits 1', () => {
  const dir = fixtureDir();
  try {
    const r = run(['replay', dir, anon]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^trace +ops +result +model +detail$/);
    const rows = lines.slice(1, 5);
    assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]), [path.join(dir, 'a-wrong.json'), path.join(dir, 'b-good.json'), path.join(dir, 'c-good.json.gz'), anon]);
    assert.match(rows[0], / 300 +MISMATCH +[0-9.]+ (ns|µs|ms|s) +299\/300 results identical, final maps identical; first mismatch op 1: expected \{"ret":"0x7ffff7400000"\}, got \{"ret":"0x7ffff7600000"\}$/);
    assert.match(rows[1], / 300 +ok +[0-9.]+ (ns|µs|ms|s)$/);
    assert.match(rows[2], / 287 +ok /);
    assert.match(rows[3], / 287 +ok /);
    assert.equal(lines[5], '');
    assert.match(lines[6], /^total: 4 traces, 1,174 ops: 3 ok, 1 MISMATCH, 0 error; model [0-9.]+ (ns|µs|ms|s)$/);
    assert.equal(lines.length, 7);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('a bad file is its row with a one-line error, the others still run, exit 2', () => {
  const dir = fixtureDir();
  try {
    const t = JSON.parse(fs.readFileSync(mixed1, 'utf8'));
    t.ops[9].op = 'madvise2';
    fs.writeFileSync(path.join(dir, '0-bad.json'), JSON.stringify(t));
    fs.writeFileSync(path.join(dir, '1-garbage.json'), '{"format": ');
    const missing = path.join(dir, 'missing.json');
    const r = run(['replay', dir, missing]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^pfnmap: 3 of 6 traces could not be replayed \(bad input: see their rows\)\n$/);
    const rows = r.stdout.split('\n').slice(1, 7);
    assert.match(rows[0], /0-bad\.json +- +error +- +ops\[9\]\.op: unknown op "madvise2"/);
    assert.match(rows[1], /1-garbage\.json +- +error +- +not valid JSON/);
    assert.match(rows[2], /a-wrong\.json +300 +MISMATCH /);
    assert.match(rows[3], /b-good\.json +300 +ok /);
    assert.match(rows[4], /c-good\.json\.gz +287 +ok /);
    assert.match(rows[5], /missing\.json +- +error +- +cannot read: ENOENT/);
    assert.match(r.stdout, /\ntotal: 6 traces, 887 ops: 2 ok, 1 MISMATCH, 3 error; /);
    // an empty directory is bad input too: alone, the one line and no table
    const empty = path.join(dir, 'sub', 'empty');
    fs.mkdirSync(empty);
    const e = run(['replay', empty]);
    assert.equal(e.status, 2);
    assert.equal(e.stdout, '');
    assert.match(e.stderr, /^pfnmap: replay: .*empty: no \*\.json or \*\.json\.gz trace in this directory[^\n]*\n$/);
    // beside another input, its row
    const both = run(['replay', empty, path.join(dir, 'b-good.json')]);
    assert.equal(both.status, 2);
    assert.match(both.stdout, /empty +- +error +- +no \*\.json or \*\.json\.gz trace in this directory/);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('--json: one object per trace per line, each the single-trace object with file and result', () => {
  const dir = fixtureDir();
  try {
    fs.writeFileSync(path.join(dir, 'z-bad.json'), '[]');
    const r = run(['replay', dir, '--json']);
    assert.equal(r.status, 2);
    const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(objs.map((o) => [path.basename(o.file), o.result]), [['a-wrong.json', 'mismatch'], ['b-good.json', 'ok'], ['c-good.json.gz', 'ok'], ['z-bad.json', 'error']]);
    assert.deepEqual(objs[0].firstMismatch, { op: 1, expected: { ret: '0x7ffff7400000' }, got: { ret: '0x7ffff7600000' } });
    assert.equal(objs[0].resultsMatched, 299);
    assert.equal(objs[0].trace, 'wrong');
    assert.match(objs[3].error, /z-bad\.json: trace: expected an object/);
    // the payload is exactly what replay of that one file prints
    const one = JSON.parse(run(['replay', path.join(dir, 'b-good.json'), '--json']).stdout);
    const keys = ['trace', 'ops', 'resultsMatched', 'finalMatched', 'firstMismatch', 'modelNs', 'file', 'result'];
    assert.deepEqual(Object.keys(one), keys);
    assert.deepEqual(Object.keys(objs[1]), keys);
    for (const k of ['trace', 'ops', 'resultsMatched', 'finalMatched', 'firstMismatch', 'file', 'result']) assert.deepEqual(objs[1][k], one[k], k);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('every bundled and recorded trace in one process: exit 0', () => {
  const root = packageRoot();
  const r = run(['replay', path.join(root, 'fixtures', 'kernel-traces'), path.join(root, 'fixtures', 'vfio-traces'), '--json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.ok(objs.length >= 8 + 34, `${objs.length} traces`);
  assert.ok(objs.every((o) => o.result === 'ok'));
});
