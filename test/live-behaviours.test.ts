// The behaviours docs/model.md says the live kernel showed, each run in the live kernel
// (oracle/recorder.c) and in the model: the kernel must show the behaviour and the model
// must replay the recording exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { liveKernelStatus, recordTrace } from '../src/oracle/record.js';
import { validateTrace } from '../src/trace/load.js';
import { replay } from '../src/trace/replay.js';
import type { Trace, TraceOp, TraceFile, TraceVma } from '../src/trace/format.js';

const status = liveKernelStatus();
const FILES: TraceFile[] = [{ id: 'm0', kind: 'memfd', size: '0x2000000' }];

/** MemTotal + SwapTotal in bytes: one charge above it fails the overcommit heuristic. */
function commitBytes(): bigint {
  const m = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => BigInt(/^(\S+):\s+(\d+)/m.test(m) ? (new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(m)?.[1] ?? '0') : '0');
  return (kb('MemTotal') + kb('SwapTotal')) * 1024n;
}

const hex = (v: bigint) => '0x' + v.toString(16);
const mmap = (addr: string, len: string, prot: string, flags: TraceOp extends never ? never : string[], fd: string | null = null, offset = '0x0'): TraceOp =>
  ({ op: 'mmap', addr, len, prot, flags, fd, offset }) as TraceOp;
/** The final VMA containing the address op k returned plus off. */
const at = (t: Trace, k: number, off: bigint): TraceVma | undefined => {
  const a = BigInt((t.results[k] as { ret: string }).ret) + off;
  return t.final.find((v) => BigInt(v.start) <= a && a < BigInt(v.end));
};
const rel = (t: Trace, k: number, off: bigint) => hex(BigInt((t.results[k] as { ret: string }).ret) + off);
const ret = (t: Trace, k: number) => ('ret' in t.results[k] ? (t.results[k] as { ret: string }).ret : (t.results[k] as { errno: string }).errno);

interface Scenario {
  name: string;
  ops: () => TraceOp[];
  check: (t: Trace) => void;
}

const scenarios: Scenario[] = [
  {
    name: 'a hint below CONFIG_LSM_MMAP_MIN_ADDR is raised to 64 KiB, though /proc says 4 KiB',
    ops: () => [mmap('0x2000', '0x1000', 'r', ['PRIVATE', 'ANONYMOUS'])],
    check: (t) => assert.equal(ret(t, 0), '0x10000'),
  },
  {
    name: 'MAP_FIXED into the last 4095 bytes returns errno 1614',
    ops: () => [mmap('0xfffffffffffff9b2', '0x1000', 'r', ['PRIVATE', 'ANONYMOUS', 'FIXED'])],
    check: (t) => assert.equal(ret(t, 0), 'E1614'),
  },
  {
    name: 'MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE on a file is EOPNOTSUPP',
    ops: () => [mmap('0x0', '0x1000', 'r', ['SHARED_VALIDATE', 'FIXED_NOREPLACE'], 'm0')],
    check: (t) => assert.equal(ret(t, 0), 'EOPNOTSUPP'),
  },
  {
    name: 'a first fault takes the anon_vma of a neighbour that differs only in protection',
    ops: () => [
      mmap('0x0', '0x10000', 'none', ['PRIVATE', 'ANONYMOUS']),
      mmap('@0+0x4000', '0x1000', 'rwx', ['PRIVATE', 'ANONYMOUS', 'FIXED', 'POPULATE']),
      mmap('@0+0x3000', '0x1000', 'rw', ['PRIVATE', 'ANONYMOUS', 'FIXED', 'POPULATE']),
      { op: 'mprotect', addr: '@0+0x4000', len: '0x1000', prot: 'rw' },
    ],
    // with separate anon_vmas the two pages would stay two VMAs
    check: (t) => {
      const v = at(t, 0, 0x3000n)!;
      assert.deepEqual([v.start, v.end, v.perms], [rel(t, 0, 0x3000n), rel(t, 0, 0x5000n), 'rw-p']);
    },
  },
  {
    name: 'mprotect changes the VMAs before a hole, then fails with ENOMEM',
    ops: () => [
      mmap('0x0', '0x4000', 'rw', ['PRIVATE', 'ANONYMOUS']),
      { op: 'munmap', addr: '@0+0x2000', len: '0x1000' },
      { op: 'mprotect', addr: '@0', len: '0x4000', prot: 'r' },
    ],
    check: (t) => {
      assert.equal(ret(t, 2), 'ENOMEM');
      assert.equal(at(t, 0, 0n)!.perms, 'r--p');
      assert.equal(at(t, 0, 0x1000n)!.end, rel(t, 0, 0x2000n));
      assert.equal(at(t, 0, 0x2000n), undefined);
      assert.equal(at(t, 0, 0x3000n)!.perms, 'rw-p');
    },
  },
  {
    name: 'one private writable charge above RAM + swap is ENOMEM; with MAP_NORESERVE it is not',
    ops: () => {
      const big = hex(((commitBytes() * 2n) + 0xfffn) & ~0xfffn);
      return [mmap('0x0', big, 'rw', ['PRIVATE', 'ANONYMOUS']), mmap('0x0', big, 'rw', ['PRIVATE', 'ANONYMOUS', 'NORESERVE'])];
    },
    check: (t) => {
      assert.equal(ret(t, 0), 'ENOMEM');
      assert.match(ret(t, 1), /^0x/);
    },
  },
  {
    name: 'a MAP_FIXED refused by overcommit leaves the old mapping split at its edges',
    ops: () => {
      const big = ((commitBytes() * 2n) + 0xfffn) & ~0xfffn;
      return [
        mmap('0x0', hex(big + 0x10000n), 'none', ['PRIVATE', 'ANONYMOUS', 'NORESERVE']),
        mmap('@0+0x1000', hex(big), 'rw', ['PRIVATE', 'ANONYMOUS', 'FIXED']),
      ];
    },
    check: (t) => {
      assert.equal(ret(t, 1), 'ENOMEM');
      const big = ((commitBytes() * 2n) + 0xfffn) & ~0xfffn;
      const pieces = [at(t, 0, 0n)!, at(t, 0, 0x1000n)!, at(t, 0, 0x1000n + big)!];
      assert.deepEqual(pieces.map((v) => [v.start, v.perms]), [
        [rel(t, 0, 0n), '---p'], [rel(t, 0, 0x1000n), '---p'], [rel(t, 0, 0x1000n + big), '---p'],
      ]);
    },
  },
  {
    name: 'MAP_STACK (VM_NOHUGEPAGE) stops a merge with an ordinary neighbour',
    ops: () => [
      mmap('0x0', '0x10000', 'none', ['PRIVATE', 'ANONYMOUS']),
      mmap('@0+0x4000', '0x2000', 'rw', ['PRIVATE', 'ANONYMOUS', 'FIXED']),
      mmap('@0+0x6000', '0x1000', 'rw', ['PRIVATE', 'ANONYMOUS', 'FIXED', 'STACK']),
      mmap('@0+0x3000', '0x1000', 'rw', ['PRIVATE', 'ANONYMOUS', 'FIXED']),
    ],
    check: (t) => {
      // the plain page below merges; the MAP_STACK page above does not
      const plain = at(t, 0, 0x3000n)!;
      const stack = at(t, 0, 0x6000n)!;
      assert.deepEqual([plain.start, plain.end], [rel(t, 0, 0x3000n), rel(t, 0, 0x6000n)]);
      assert.deepEqual([stack.start, stack.end], [rel(t, 0, 0x6000n), rel(t, 0, 0x7000n)]);
    },
  },
];

if (!status.usable) {
  const msg = `LIVE KERNEL NOT USABLE: ${status.reason} — the documented kernel behaviours were not re-checked`;
  console.warn(`\n*** ${msg} ***\n`);
  test('live kernel behaviours', { skip: msg }, () => {});
} else {
  for (const s of scenarios) {
    test(`live ${status.kernel}: ${s.name}`, () => {
      const t = recordTrace({ name: s.name, files: FILES, ops: s.ops() });
      assert.equal(t.ops.length, s.ops().length, 'the recorder skipped an op');
      s.check(t);
      const r = replay(validateTrace(t));
      assert.equal(r.firstMismatch, null, JSON.stringify(r.firstMismatch));
      assert.equal(r.finalMatched, true);
    });
  }
}
