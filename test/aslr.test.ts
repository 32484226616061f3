// Traces recorded with address-space randomisation (env.randomize true): mmap_base from
// env.mmapBase or inferred from the initial VMAs, and the ops a trace cannot decide refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadTraceFile, validateTrace } from '../src/trace/load.js';
import { replay, inferMmapBase } from '../src/trace/replay.js';
import { bundledTraces } from '../src/cli/paths.js';
import { x86MmapBases, x86MmapBaseRange } from '../src/arch/x86_64.js';
import { liveKernelStatus, recordTrace } from '../src/oracle/record.js';
import { runAslrSeed, withoutMmapBase } from '../src/oracle/campaign.js';
import type { Trace, TraceOp, TraceResult, TraceVma } from '../src/trace/format.js';

const fixture = path.join(path.dirname(bundledTraces()[0]), 'aslr-1.json');
const raw = (): Trace => structuredClone(loadTraceFile(fixture).raw);
const hexPg = (pg: number) => '0x' + (BigInt(pg) << 12n).toString(16);

test('mmap_base with PF_RANDOMIZE: stack_maxrandom_size in the pad, rnd below it, the legacy base above by as much', () => {
  const gap = 256n * 4096n;
  assert.equal(hexPg(x86MmapBases(0x800000n, gap).base), '0x7ffff7fff000'); // setarch -R
  // 47-bit TASK_SIZE - (8 MiB + 1 MiB guard + (2^22 - 1) pages) = 0x7ffbff700000 at rnd 0
  assert.equal(hexPg(x86MmapBases(0x800000n, gap, 0).base), '0x7ffbff700000');
  const r = x86MmapBases(0x800000n, gap, 0x123456);
  assert.equal(hexPg(r.base), '0x7ffadc2aa000');
  assert.equal(r.legacyBase - x86MmapBases(0x800000n, gap, 0).legacyBase, 0x123456);
  const range = x86MmapBaseRange(0x800000n, gap, 28);
  assert.equal(range.hi - range.lo, 2 ** 28 - 1);
  // an unlimited stack clamps the gap to 5/6 of TASK_SIZE, as without randomisation
  assert.equal(hexPg(x86MmapBases((1n << 64n) - 1n, gap, 0).base), hexPg(x86MmapBases((1n << 64n) - 1n, gap).base));
});

test('aslr-1.json (recorded with ASLR on) replays exactly with env.mmapBase and with the base inferred', () => {
  const given = replay(loadTraceFile(fixture));
  assert.equal(given.firstMismatch, null, JSON.stringify(given.firstMismatch));
  assert.equal(given.finalMatched, true);
  assert.deepEqual(given.mmapBase, { source: 'env', value: raw().env.mmapBase, how: 'env.mmapBase' });
  const t = withoutMmapBase(raw());
  assert.equal(t.env.mmapBase, undefined);
  const inferred = replay(validateTrace(t));
  assert.equal(inferred.firstMismatch, null, JSON.stringify(inferred.firstMismatch));
  assert.equal(inferred.finalMatched, true);
  assert.equal(inferred.mmapBase?.source, 'inferred');
  assert.equal(inferred.mmapBase?.value, raw().env.mmapBase);
  assert.match(inferred.mmapBase!.how, /dynamic loader \(ld-linux-x86-64\.so\.2/);
});

test('the no-randomisation fixtures: the loader rule gives their mmap_base too', () => {
  for (const file of bundledTraces().filter((f) => !f.includes('aslr'))) {
    const t = loadTraceFile(file);
    const top = t.raw.initial.filter((v) => v.backing.startsWith('process:ld-')).at(-1)!;
    assert.equal(top.end, '0x7ffff7fff000', file);
  }
});

/** The fixture's process with other ops: the expected results are what the model must say. */
function withOps(ops: TraceOp[], initial?: (v: TraceVma[]) => TraceVma[]): Trace {
  const t = withoutMmapBase(raw());
  if (initial) t.initial = initial(t.initial);
  t.ops = ops;
  t.results = ops.map((): TraceResult => ({ ret: '0x0' }));
  t.final = t.initial;
  delete t.ns;
  return t;
}
const anon = (addr: string, len: string, flags: string[] = []): TraceOp =>
  ({ op: 'mmap', addr, len, prot: 'rw', flags: ['PRIVATE', 'ANONYMOUS', ...flags], fd: null, offset: '0x0' }) as TraceOp;
const noLoader = (v: TraceVma[]) => v.filter((x) => !x.backing.startsWith('process:ld-'));

test('without the loader, the base is a range: fixed, hinted and failing ops replay, a no-hint mmap is refused naming its op', () => {
  const ops = [
    anon('0x200000000000', '0x10000', ['FIXED']),
    anon('0x300000000000', '0x4000'), // hint, free: honoured
    anon('0x0', '0x0'), // EINVAL
    { op: 'munmap', addr: '@0+0x1000', len: '0x1000' } as TraceOp,
    anon('0x0', '0x3000'), // depends on mmap_base
  ];
  const t = validateTrace(withOps(ops.slice(0, 4), noLoader));
  const inf = inferMmapBase(t);
  assert.ok(inf.lo < inf.hi);
  assert.match(inf.how, /^mmap_base between 0x[0-9a-f]+ \(the end of initial\[\d+\], the highest VMA below \[stack\]\) and 0x7ffbff700000/);
  const r = replay(t);
  assert.deepEqual(r.got.map((g) => ('ret' in g ? g.ret : 'errno' in g ? g.errno : g)), ['0x200000000000', '0x300000000000', 'EINVAL', '0x0']);
  assert.equal(r.mmapBase?.value, null);
  assert.throws(() => replay(validateTrace(withOps(ops, noLoader))), (e: Error) => {
    assert.match(e.message, /^ops\[4\]: its result depends on mmap_base, which the trace does not give \(env\.mmapBase\)/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  // with the base given, the same op replays
  const given = withOps(ops, noLoader);
  given.env.mmapBase = raw().env.mmapBase;
  assert.equal(replay(validateTrace(given)).got.length, 5);
});

test('MAP_32BIT under randomisation: a random start is refused, an honoured hint or a full 32 MiB start window is not', () => {
  assert.throws(() => replay(validateTrace(withOps([anon('0x0', '0x1000', ['32BIT'])]))),
    /: ops\[0\]: cannot be replayed: MAP_32BIT with randomisation starts its search at a random page of \[0x40000000, 0x42000000\)/);
  // even with mmap_base given: it is not the base that is unknown
  const given = withOps([anon('0x0', '0x1000', ['32BIT'])]);
  given.env.mmapBase = raw().env.mmapBase;
  assert.throws(() => replay(validateTrace(given)), /: ops\[0\]: cannot be replayed: MAP_32BIT/);
  const hinted = replay(validateTrace(withOps([anon('0x50000000', '0x1000', ['32BIT'])])));
  assert.deepEqual(hinted.got[0], { ret: '0x50000000' });
  // [1 GiB, 1 GiB + 48 MiB) taken: every random start finds the same first fit
  const full = replay(validateTrace(withOps([anon('0x40000000', '0x3000000', ['FIXED']), anon('0x0', '0x1000', ['32BIT'])])));
  assert.deepEqual(full.got[1], { ret: '0x43000000' });
});

test('initial VMAs above every possible mmap_base: inference refuses, naming the VMA', () => {
  const t = raw();
  const m = structuredClone(loadTraceFile(path.join(path.dirname(fixture), 'mixed-1.json')).raw);
  t.initial = m.initial;
  t.ops = [];
  t.results = [];
  t.final = m.initial;
  delete t.ns;
  assert.throws(() => replay(validateTrace(withoutMmapBase(t))), /: initial\[\d+\]\.end: 0x7ffff7fff000 is above the highest mmap_base this task can have \(0x7ffbff700000\)/);
});

const status = liveKernelStatus();
if (!status.usable) {
  test('live ASLR traces', { skip: `LIVE KERNEL ORACLE NOT RUN: ${status.reason}` }, () => {});
} else {
  const TRACES = 40;
  const base = Math.floor(Date.now() / 86_400_000) * 1000 + 500;
  test(`${TRACES} live traces recorded with ASLR on (${status.kernel}), seeds ${base}..${base + TRACES - 1}, replay exactly with env.mmapBase and inferred`, () => {
    const bases = new Set<string>();
    for (let s = base; s < base + TRACES; s++) {
      const r = runAslrSeed(s, 330);
      assert.equal(r.trace.env.randomize, true);
      bases.add(r.trace.env.mmapBase!);
      assert.ok(r.ops >= 300, `seed ${s}: only ${r.ops} ops`);
      assert.equal(r.given.firstMismatch, null, `seed ${s} (env.mmapBase): ${JSON.stringify(r.given.firstMismatch)} (npm run oracle -- --aslr --seed ${s} --count 1)`);
      assert.equal(r.given.finalMatched, true);
      assert.equal(r.inferred.firstMismatch, null, `seed ${s} (inferred): ${JSON.stringify(r.inferred.firstMismatch)}`);
      assert.equal(r.inferred.finalMatched, true);
      assert.equal(r.inferred.mmapBase?.value, r.trace.env.mmapBase, `seed ${s}: inferred ${JSON.stringify(r.inferred.mmapBase)}`);
    }
    assert.ok(bases.size >= TRACES - 1, `only ${bases.size} distinct layouts in ${TRACES} runs`);
  });

  test('live: a no-hint MAP_32BIT under ASLR lands at different places per run, and replay refuses it', () => {
    const files: Trace['files'] = [];
    const ops = [anon('0x0', '0x1000', ['32BIT'])];
    const got = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const t = recordTrace({ name: 'aslr-32bit', files, ops, randomize: true });
      const r0 = t.results[0];
      assert.ok('ret' in r0);
      got.add(r0.ret);
      assert.throws(() => replay(validateTrace(t)), /: ops\[0\]: cannot be replayed: MAP_32BIT/);
    }
    assert.ok(got.size > 1, `the kernel gave ${[...got].join(', ')} each time`);
  });
}
