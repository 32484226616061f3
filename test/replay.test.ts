import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadTraceFile } from '../src/trace/load.js';
import { replay } from '../src/trace/replay.js';
import { bundledTraces } from '../src/cli/paths.js';

test('the bundled kernel traces are all there', () => {
  const names = bundledTraces().map((f) => path.basename(f));
  assert.deepEqual(names, ['anon-vma-reuse.json', 'churn-77.json.gz', 'mixed-1.json', 'mixed-2.json', 'mixed-3.json', 'mixed-4.json', 'mixed-5.json', 'mixed-6.json']);
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
