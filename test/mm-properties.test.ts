// Invariants of the address space under random system calls.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { newMm, shmemZeroSetup, makeFile, addInitialVma } from '../src/kernels/linux-6.18.js';
import { sysMmap, sysMunmap } from '../src/mm/mmap.js';
import { sysMprotect } from '../src/mm/mprotect.js';
import { bigIntToSplit } from '../src/lib/u64.js';
import { MAP_FLAG_VALUES, type MmapFlagName } from '../src/trace/format.js';

const FLAGS = Object.keys(MAP_FLAG_VALUES) as MmapFlagName[];
const STACK_TOP = 0x7ffffffffn; // pages

const len = fc.oneof(
  fc.integer({ min: 1, max: 64 }).map((p) => BigInt(p) * 4096n),
  fc.integer({ min: 1, max: 8 }).map((p) => BigInt(p) * 0x200000n),
  fc.bigInt({ min: 0n, max: 1n << 40n }),
  fc.constantFrom(0n, 1n << 47n, (1n << 64n) - 4096n),
);
const addr = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 0n, max: (1n << 47n) - 1n }),
  fc.bigInt({ min: 0x7ffff0000000n, max: 0x7ffff8000000n }).map((a) => a & ~0xfffn),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);
const op = fc.oneof(
  fc.record({ k: fc.constant('mmap' as const), addr, len, prot: fc.nat(7), flags: fc.subarray(FLAGS), fd: fc.option(fc.constantFrom(0, 1, 2), { nil: null }), off: fc.constantFrom(0n, 0x200000n, 0x1000n, 0x123n) }),
  fc.record({ k: fc.constant('munmap' as const), addr, len }),
  fc.record({ k: fc.constant('mprotect' as const), addr, len, prot: fc.nat(7) }),
);

test('VMAs stay sorted, disjoint, page aligned and inside TASK_SIZE under random calls', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const mm = newMm();
      const files = [makeFile('m0', 'memfd', 0x2000, mm.config), makeFile('f2', 'ext4', 0x2000, mm.config), makeFile('f3', 'tmpfs', 0x800, mm.config)];
      addInitialVma(mm, { start: Number(STACK_TOP) - 0x21, end: Number(STACK_TOP), perms: 'rw-p', pgoff: 0, file: null, name: '[stack]' });
      for (const o of ops) {
        let r: number;
        if (o.k === 'mmap') {
          const flags = o.flags.reduce((f, n) => f | MAP_FLAG_VALUES[n], 0);
          r = sysMmap(mm, bigIntToSplit(o.addr), bigIntToSplit(o.len), o.prot, flags, o.fd === null ? null : files[o.fd], bigIntToSplit(o.off), shmemZeroSetup);
          if (r >= 0) {
            // a successful mmap covers exactly [ret, ret + PAGE_ALIGN(len))
            const pages = Number((o.len + 4095n) >> 12n);
            const v = mm.tree.findVma(r);
            assert.ok(v !== null && v.start <= r && r + pages <= mm.taskSize);
            for (let p = r; p < r + pages; ) {
              const w = mm.tree.findVma(p);
              assert.ok(w !== null && w.start <= p, 'mapped range has a hole');
              p = w.end;
            }
          }
        } else if (o.k === 'munmap') {
          r = sysMunmap(mm, bigIntToSplit(o.addr), bigIntToSplit(o.len));
          if (r === 0 && o.addr % 4096n === 0n && o.len > 0n) {
            const s = Number(o.addr >> 12n);
            const v = mm.tree.findVma(s);
            const e = s + Number((o.len + 4095n) >> 12n);
            assert.ok(v === null || v.start >= e, 'munmap left something mapped');
          }
        } else {
          r = sysMprotect(mm, bigIntToSplit(o.addr), bigIntToSplit(o.len), o.prot);
        }
        assert.ok(Number.isInteger(r), `result ${r}`);
        const vmas = mm.tree.toArray();
        assert.equal(vmas.length, mm.mapCount);
        for (let i = 0; i < vmas.length; i++) {
          const v = vmas[i];
          assert.ok(Number.isInteger(v.start) && Number.isInteger(v.end) && v.start < v.end, 'page aligned, non-empty');
          assert.ok(v.end <= mm.taskSize, 'inside TASK_SIZE');
          if (i > 0) assert.ok(vmas[i - 1].end <= v.start, 'sorted and disjoint');
        }
      }
    }),
    { numRuns: 300 },
  );
});
