// The commands people run, end to end through the built CLI.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { packageRoot } from '../src/cli/paths.js';

const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('default job: the GPU preset under every variant, as JSON', () => {
  const r = run(['--json', '--device', 'nic-32m']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const by = Object.fromEntries(out.rows.map((x: any) => [x.variant, x]));
  assert.deepEqual(Object.keys(by), ['linux-6.12', 'linux-6.18', 'linux-7.2', 'v1', 'order-arg', 'v2', 'userspace']);
  assert.deepEqual(by['linux-6.12'].leaves, { pud: 0, pmd: 16, pte: 0 });
  assert.deepEqual(by['linux-7.2'].leaves, { pud: 0, pmd: 0, pte: 8192 });
  assert.equal(by.v2.faults, 16);
});

test('compare: one BAR side by side; the single attempt of v2 shows', () => {
  const r = run(['compare', '--device', 'gpu-128g', '--kernels', 'v1,v2', '--bar', '2', '--offset', '0x201000', '--len', '0x40000000', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const [v1, v2] = JSON.parse(r.stdout).rows;
  assert.equal(v1.leaves.pmd, 511);
  assert.equal(v2.leaves.pmd, 0);
});

test('plan: the recipe reserves len + align and keeps the offset residue', () => {
  // the recipe depends on the device only; one variant keeps the run short
  const r = run(['plan', '--device', 'gpu-128g', '--kernel', 'v2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const bar2 = JSON.parse(r.stdout).plan.find((b: any) => b.bar === 2);
  assert.deepEqual(bar2.recipe, { align: 2 ** 30, reserve: 2 ** 37 + 2 ** 30, residue: 0, fileOffset: 2 * 2 ** 40 });
});

test('align-test prints the program\'s lines and exits as it would', () => {
  const ok = run(['align-test', '--device', 'nvme-16k', '--kernel', 'v2', '--loops', '100']);
  assert.equal(ok.status, 0);
  assert.deepEqual(ok.stdout.trim().split('\n'), [
    'Using device 0000:00:00.0 in IOMMU group 0',
    'Device 0000:00:00.0 supports 9 regions, 5 irqs',
    '[BAR0]: size 0x4000, order 14, offset 0x0, flags 0x7',
    'Testing BAR0, require at least 12 bit alignment',
    '[PASS] Minimum alignment 14',
    '[PASS] Random offset',
    '[PASS] Random size',
  ]);
  const bad = run(['align-test', '--device', 'gpu-128g', '--kernel', 'linux-7.2', '--loops', '10']);
  assert.equal(bad.status, 255);
  assert.match(bad.stdout, /Failed minimum alignment, got order \d+ want 21 \(0x7f[0-9a-f]+\)/);
});

test('usage errors: one line on stderr, exit 2', () => {
  for (const args of [['compare'], ['compare', '--device', 'gpu-128g', '--kernels', 'v7'], ['compare', '--device', 'gpu-128g', '--bar', '9'],
    ['compare', '--device', 'gpu-128g', '--len', '12'], ['plan'], ['--thp', 'sometimes'], ['align-test', '--device', 'nvme-16k', '--loops', '-1'],
    ['fidelity', '--jsn'], ['compare', '--device', 'toString'], ['compare', '--device', 'nic-32m', '--offset', '0xffffffffffffffff'],
    ['compare', '--device', 'nic-32m', '--offset', '0x2000000']]) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, args.join(' '));
    assert.match(r.stderr, /^pfnmap: /);
  }
});

test('--svg files: the address space of compare, the BARs of the default job', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-svg-'));
  const a = path.join(dir, 'a.svg');
  const r = run(['compare', '--device', 'nic-32m', '--kernels', 'linux-7.2,v2', '--svg', a]);
  assert.equal(r.status, 0, r.stderr);
  const svg = fs.readFileSync(a, 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /linux-7\.2: 0x[0-9a-f]+ · 8,192 faults/);
  assert.match(svg, /v2: 0x[0-9a-f]+ · 16 faults/);
  assert.match(svg, /BAR0/);
  const b = path.join(dir, 'b.svg');
  assert.equal(run(['--device', 'nvme-16k', '--svg', b, '--json']).status, 0);
  assert.match(fs.readFileSync(b, 'utf8'), /linux-6\.12 BAR0/);
  fs.rmSync(dir, { recursive: true });
});

test('plan --lspci reads pasted lspci text; --kernel narrows the variants', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-plan-'));
  const f = path.join(dir, 'lspci.txt');
  fs.writeFileSync(f, '41:00.0 Ethernet controller: Mellanox Technologies MT2892 Family [ConnectX-6 Dx]\n\tMemory at 3fffe000000 (64-bit, prefetchable) [size=32M]\n');
  const r = run(['plan', '--lspci', f, '--kernel', 'linux-6.12,v2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const p = JSON.parse(r.stdout).plan[0];
  assert.deepEqual(p.kernels.map((k: any) => [k.variant, k.leaves.pmd]), [['linux-6.12', 16], ['v2', 16]]);
  assert.equal(run(['plan', '--lspci', path.join(dir, 'none.txt')]).status, 2);
  fs.rmSync(dir, { recursive: true });
});
