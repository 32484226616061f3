// lspci text of whole machines and hostile lspci text: every device, BARs reported as lspci
// describes them, every malformed BAR line an error naming its line, in linear time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { importLspci, importLspciAll } from '../src/devices/lspci.js';
import { InputError } from '../src/trace/input-error.js';
import { packageRoot } from '../src/cli/paths.js';

const root = packageRoot();
const A100 = fs.readFileSync(path.join(root, 'fixtures', 'lspci', 'a100-8gpu-vm.txt'), 'utf8');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const refusedAt = (text: string, line: number, re: RegExp) =>
  assert.throws(() => importLspci(text), (e: unknown) => e instanceof InputError && e.message.startsWith(`lspci line ${line}: `) && re.test(e.message), `line ${line} ${re}`);

const GPU = (bar1: string) => `02:00.0 3D controller: NVIDIA Corporation GH100 [H100 SXM5 80GB] (rev a1)
\tMemory at 38c002000000 (64-bit, prefetchable) [size=16M]
${bar1}
\tMemory at 38c000000000 (64-bit, prefetchable) [size=32M]
`;

test('a whole machine: every device, ignored and disabled BARs reported, nothing renumbered', () => {
  const all = importLspciAll(A100);
  assert.equal(all.length, 11);
  assert.deepEqual(all.slice(0, 3).map((d) => d.bdf), ['0000:00:00.0', '0000:00:01.0', '0000:00:04.0']);
  const gpus = all.filter((d) => d.name.includes('A100'));
  assert.equal(gpus.length, 8);
  for (const g of gpus) assert.deepEqual(g.regions.filter((r) => r.kind === 'bar').map((r) => r.index), [0, 1, 3]);
  // the GPU whose 64-bit BARs the kernel left <ignored>: BAR0 still maps, BAR1/BAR3 are reported as ignored
  const ign = gpus.find((g) => g.bdf === '0004:00:00.0')!;
  assert.deepEqual(ign.regions.filter((r) => r.kind === 'bar').map((r) => [r.index, r.mmap, r.status ?? '']), [[0, true, ''], [1, false, 'ignored'], [3, false, 'ignored']]);
  // [disabled]: memory decoding off, which vfio-pci turns on at open: mmap-able
  const dis = gpus.find((g) => g.bdf === '0006:00:00.0')!;
  assert.deepEqual(dis.regions.filter((r) => r.kind === 'bar').map((r) => [r.index, r.mmap, r.status]), [[0, true, 'disabled'], [1, true, 'disabled'], [3, true, 'disabled']]);
  const nic = all[2];
  assert.deepEqual(nic.regions.map((r) => [r.index, r.kind, r.io, r.mmap]), [[0, 'bar', true, false], [1, 'bar', false, true], [2, 'bar', false, true], [6, 'rom', false, false], [7, 'config', false, false]]);
  assert.equal(importLspci(A100, undefined, '0003:00:00.0').bdf, '0003:00:00.0');
  assert.throws(() => importLspci(A100), /the listing holds 11 devices \(0000:00:00\.0, .*\): choose one with --bdf/);
  assert.throws(() => importLspci(A100, undefined, '0009:00:00.0'), /^InputError: --bdf: no device "0009:00:00.0" in the listing/);
});

test('plan --lspci plans every device once; --bdf one', () => {
  const f = path.join(root, 'fixtures', 'lspci', 'a100-8gpu-vm.txt');
  const r = spawnSync(process.execPath, [cli, 'plan', '--lspci', f, '--kernel', 'v2'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.match(/^Host bridge: .*\(0000:00:00\.0\)/gm)?.length, 1);
  assert.equal(r.stdout.match(/^3D controller: NVIDIA Corporation GA100 \[A100 SXM4 80GB\] \(000[1-8]:00:00\.0\)/gm)?.length, 8);
  assert.match(r.stdout, /BAR1: size unknown <ignored>, 64-bit, prefetchable .*\n  the kernel ignored this BAR/);
  assert.match(r.stdout, /\[disabled: memory decoding is off; vfio-pci turns it on when the device is opened\]/);
  const one = spawnSync(process.execPath, [cli, 'plan', '--lspci', f, '--kernel', 'v2', '--bdf', '0002:00:00.0', '--json'], { encoding: 'utf8' });
  assert.equal(one.status, 0, one.stderr);
  const j = JSON.parse(one.stdout);
  assert.equal(j.bdf, '0002:00:00.0');
  assert.deepEqual(j.plan.map((b: { bar: number }) => b.bar), [0, 1, 3]);
});

test('valid variants of the format: -D with a five-digit domain, -nn, indented headers, upper-case hex, CRLF', () => {
  const d = importLspci('  10000:E1:00.0 Non-Volatile memory controller [0108]: Samsung Electronics Co Ltd NVMe SSD Controller PM9A1/PM9A3/980PRO [144d:a80a]\r\n\tRegion 0: Memory at 6C000000 (64-bit, non-prefetchable) [size=16K]\r\n');
  assert.equal(d.bdf, '10000:e1:00.0');
  assert.equal(d.vendor, '0x144d');
  assert.equal(d.regions[0].start, 0x6c000000);
  assert.equal(d.regions[0].prefetchable, false);
  const v = importLspci('3b:00.2 Ethernet controller: Intel Corporation Ethernet Adaptive Virtual Function (rev 11)\n\tRegion 0: Memory at 20fffe000000 (64-bit, prefetchable) [virtual] [size=128K]\n');
  assert.deepEqual([v.regions[0].status, v.regions[0].mmap], ['virtual', true]);
});

test('hostile BAR lines: an error naming the line and the problem, never dropped or renumbered', () => {
  refusedAt(GPU('\tMemory at 0x38a000000000 (64-bit, prefetchable) [size=128G]'), 3, /cannot read address "0x38a000000000"/);
  refusedAt(GPU('\tMemory at -38a000000000 (64-bit, prefetchable) [size=128G]'), 3, /cannot read address "-38a000000000"/);
  refusedAt(GPU('\tMemory at 38g000000000 (64-bit, prefetchable) [size=128G]'), 3, /cannot read address/);
  refusedAt(GPU('\tMemory at 38a000000000 (64-bit, \r prefetchable) [size=128G]'), 3, /a carriage return inside a BAR line/);
  refusedAt(GPU('\tMemory at 38a000000000 (64-bit, prefetchable) [size=128Q]'), 3, /cannot read size "128Q"/);
  refusedAt(GPU('\tMemory at 38a000000000 (64-bit, prefetchable) [size=96G]'), 3, /a memory BAR's size is a power of two/);
  refusedAt(GPU('\tMemory at 38a000000000 (64-bit) [size=128G]'), 3, /expected "\(WIDTH, \[non-\]prefetchable\)"/);
  refusedAt(GPU('\tMemory at 38a000000000 (64-bit, prefetchable) [size=128G] [weird]'), 3, /unexpected "\[weird\]"/);
  refusedAt(GPU('\tRegion 9: Memory at 38a000000000 (64-bit, prefetchable) [size=128G]'), 3, /BAR number 9 is beyond BAR5/);
  refusedAt(GPU('\tRegion 0: Memory at 38a000000000 (64-bit, prefetchable) [size=128G]'), 3, /BAR0 appears twice/);
  refusedAt('\tMemory at f0000000 (32-bit, prefetchable) [size=16M]\n', 1, /before any device header/);
  // the same listing without the mutation is fine, BARs 0, 2, 4
  assert.deepEqual(importLspci(GPU('\tMemory at 38a000000000 (64-bit, prefetchable) [size=128G]')).regions.filter((r) => r.kind === 'bar').map((r) => r.index), [0, 2, 4]);
});

test('a carriage return or a long run of spaces cannot make the parser slow', () => {
  const long = GPU(`\tMemory at 38a000000000 (64-bit, ${' '.repeat(100_000)}\r prefetchable) [size=128G]`);
  const t0 = Date.now();
  refusedAt(long, 3, /a BAR line of \d+ characters/);
  const huge = `00:02.0 X: Y\n${'\tFlags: '.padEnd(1_000_000, ' \r')}\n`;
  assert.equal(importLspci(huge).bdf, '0000:00:02.0');
  assert.ok(Date.now() - t0 < 20_000, 'each parse is one pass over the text');
});

test('property: any mutation of a BAR line is read or refused with an InputError naming a line', () => {
  const base = GPU('\tMemory at 38a000000000 (64-bit, prefetchable) [size=128G]').split('\n');
  const chars = fc.constantFrom(' ', '\t', '\r', '(', ')', '[', ']', ',', '-', 'x', '0', 'f', 'F', 'G', '<', '>', '=', ':', 'size', 'Region 1:', '64-bit', 'prefetchable', 'ignored');
  fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.nat(80), fc.nat(6), fc.array(chars, { maxLength: 6 }), (line, at, del, ins) => {
    const lines = base.slice();
    const l = lines[line];
    const k = Math.min(at, l.length);
    lines[line] = l.slice(0, k) + ins.join('') + l.slice(k + del);
    try {
      const d = importLspci(lines.join('\n'));
      assert.equal(d.bdf, '0000:02:00.0');
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      assert.match(e.message, /^(lspci line \d+|lspci): [^\n]+$/);
    }
  }), { numRuns: 3000, seed: 11 });
});
