import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { loadTraceFile } from '../src/trace/load.js';
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
