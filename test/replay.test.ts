import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { loadTraceFile, validateTrace } from '../src/trace/load.js';
import { replay } from '../src/trace/replay.js';
import { bundledTraces } from '../src/cli/paths.js';

test('the bundled kernel traces are all there', () => {
  const names = bundledTraces().map((f) => path.basename(f));
  assert.deepEqual(names, ['anon-vma-reuse.json', 'aslr-1.json', 'churn-77.json.gz', 'mixed-1.json', 'mixed-2.json', 'mixed-3.json', 'mixed-4.json', 'mixed-5.json', 'mixed-6.json']);
});

for (const file of bundledTraces()) {
  test(`replays ${path.basename(file)} exactly as Linux 6.18 ran it`, () => {
    const t = loadTraceFile(file);
    const r = replay(t);
    assert.equal(r.firstMismatch, null, JSON.stringify(r.firstMismatch));
    assert.equal(r.resultsMatched, t.ops.length);
    assert.equal(r.finalMatched, true);
    assert.equal(r.final.length, t.raw.final.length);
  });
}

// Recorded by oracle/vfio (npm run oracle:vfio): Debian's 6.12 and 7.2 kernels under QEMU
// with a real vfio-pci device; the hazard traces end in the op that oopsed the guest.
const vfioDir = path.join(path.dirname(bundledTraces()[0]), '..', 'vfio-traces');
const vfioTraces = fs.readdirSync(vfioDir).filter((f) => f.endsWith('.json')).sort();

test('the VFIO recordings cover both kernels and the oopses', () => {
  assert.ok(vfioTraces.length >= 34, `${vfioTraces.length} traces`);
  for (const k of ['linux-6.12', 'linux-7.2']) {
    assert.ok(vfioTraces.includes(`${k}-bar2-2g-hazard-munmap4k.json`));
    assert.ok(vfioTraces.filter((f) => f.startsWith(k)).length >= 17);
  }
});

for (const f of vfioTraces) {
  test(`replays ${f} exactly as the kernel under QEMU ran it`, () => {
    const t = loadTraceFile(path.join(vfioDir, f));
    const r = replay(t);
    assert.equal(r.firstMismatch, null, JSON.stringify(r.firstMismatch));
    assert.equal(r.resultsMatched, t.ops.length);
    assert.equal(r.finalMatched, true);
  });
}

// A kernel no distribution ships: 7.2.13 built locally with the thp-fops series
// (oracle/patches/thp-fops-7.2.patch, oracle/kconfig/vfio-oracle.config), booted by
// `vfio-qemu --kernel-image … --kernel-name linux-7.2+thp-fops`.
test('the thp-fops kernel recordings: a hint-less BAR mmap is 2 MiB congruent, never 1 GiB', () => {
  const k = 'linux-7.2+thp-fops';
  const mine = vfioTraces.filter((f) => f.startsWith(`${k}-`));
  assert.ok(mine.length >= 20, `${mine.length} ${k} traces`);
  for (const f of mine) assert.equal(loadTraceFile(path.join(vfioDir, f)).raw.model?.kernel, k, f);
  for (const [dev, size, faults] of [['2g', 2n << 30n, 1024], ['64m', 64n << 20n, 32]] as const) {
    const t = loadTraceFile(path.join(vfioDir, `${k}-bar2-${dev}-nohint.json`));
    const r = t.raw.results as { ret?: string; faults?: number }[];
    const va = BigInt(r[0]!.ret!);
    const pgoff = BigInt((t.raw.ops[0] as { offset: string }).offset);
    assert.equal((va - pgoff) % (2n << 20n), 0n, `${dev}: VA ≡ pgoff mod 2 MiB`);
    assert.notEqual(va % (1n << 30n), 0n, `${dev}: not 1 GiB aligned`);
    assert.equal(r[1]!.faults, faults, `${dev}: ${size / (2n << 20n)} PMD faults`);
    // the same trace read as plain 7.2.13 (page-aligned placement) must not match
    const raw = JSON.parse(fs.readFileSync(path.join(vfioDir, `${k}-bar2-${dev}-nohint.json`), 'utf8'));
    const plain = replay(validateTrace({ ...raw, model: { kernel: 'linux-7.2' } }));
    assert.notEqual(plain.firstMismatch, null, `${dev}: linux-7.2 should not reproduce the thp-fops placement`);
  }
});
