// Named behaviours of Linux 6.18 x86_64 placement, each one a rule the live-kernel
// oracle also checks at random. Layout: no randomisation, 8 MiB stack rlimit, so
// mmap_base = 0x7ffff7fff000 and mmap_legacy_base = 0x2aaaaaaab000.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newMm, shmemZeroSetup, makeFile, addInitialVma } from '../src/kernels/linux-6.18.js';
import { sysMmap, sysMunmap } from '../src/mm/mmap.js';
import { sysMprotect } from '../src/mm/mprotect.js';
import { parseSplit, formatPages } from '../src/lib/u64.js';
import { errnoName } from '../src/mm/uapi.js';
import { mapsOf } from '../src/trace/replay.js';
import type { MmStruct } from '../src/mm/mm.js';

const PRIV_ANON = 0x22;
const RW = 3;

function world() {
  const mm = newMm();
  addInitialVma(mm, { start: 0x7ffffffde, end: 0x7ffffffff, perms: 'rw-p', pgoff: 0, file: null, name: '[stack]' });
  return mm;
}

function mmap(mm: MmStruct, addr: string, len: string, flags = PRIV_ANON, prot = RW, file: any = null, off = '0x0'): string {
  const r = sysMmap(mm, parseSplit(addr), parseSplit(len), prot, flags, file, parseSplit(off), shmemZeroSetup);
  return r < 0 ? errnoName(-r) : formatPages(r);
}

test('layout bases follow RLIMIT_STACK without randomisation', () => {
  const mm = world();
  assert.equal(formatPages(mm.mmapBase), '0x7ffff7fff000');
  assert.equal(formatPages(mm.mmapLegacyBase), '0x2aaaaaaab000');
  const unlimited = newMm({ rlimitStack: (1n << 64n) - 1n });
  // gap clamped to (DMW/6)*5: mmap_base drops to about a sixth of the window
  assert.equal(formatPages(unlimited.mmapBase), '0x155555556000');
});

test('top-down search fills from mmap_base down', () => {
  const mm = world();
  assert.equal(mmap(mm, '0x0', '0x3000'), '0x7ffff7ffc000');
  assert.equal(mmap(mm, '0x0', '0x1000'), '0x7ffff7ffb000');
});

test('anonymous 2 MiB multiples are THP aligned, and an aligned top is pushed one PMD up', () => {
  const mm = world();
  // the padded (6 MiB) search returns 0x7ffff79ff000; the top of the free area (mmap_base)
  // is not PMD aligned, so the result is the highest aligned start below it
  assert.equal(mmap(mm, '0x0', '0x400000'), '0x7ffff7a00000');
  // the next one's padded search lands already aligned: ret + 2 MiB is returned
  assert.equal(mmap(mm, '0x0', '0x200000'), '0x7ffff7800000');
  // 2 MiB + 4 KiB is not a multiple: no alignment in 6.18
  assert.equal(mmap(mm, '0x0', '0x201000'), '0x7ffff75ff000');
});

test('a hint disables anonymous THP alignment and is honoured when free', () => {
  const mm = world();
  assert.equal(mmap(mm, '0x100000123', '0x200000'), '0x100000000');
  // below mmap_min_addr (64 KiB with the LSM default) a hint is raised, not dropped
  assert.equal(mmap(mm, '0x2000', '0x1000'), '0x10000');
  // a hint under one page is no hint: top-down from mmap_base
  assert.equal(mmap(mm, '0x800', '0x1000'), '0x7ffff7ffe000');
});

test('the stack guard gap keeps hints 1 MiB below [stack]', () => {
  // [stack] starts at 0x7ffffffde000, so vm_start_gap() is 0x7fffffede000
  assert.equal(mmap(world(), '0x7fffffedd000', '0x1000'), '0x7fffffedd000'); // ends at the guard: granted
  assert.equal(mmap(world(), '0x7fffffede000', '0x1000'), '0x7ffff7ffe000'); // inside it: searched instead
});

test('MAP_FIXED_NOREPLACE gives EEXIST on overlap; MAP_FIXED replaces and splits', () => {
  const mm = world();
  const a = mmap(mm, '0x0', '0x10000');
  assert.equal(mmap(mm, a, '0x1000', PRIV_ANON | 0x100000), 'EEXIST');
  const mid = '0x' + (BigInt(a) + 0x4000n).toString(16);
  assert.equal(mmap(mm, mid, '0x1000', PRIV_ANON | 0x10, 1), mid);
  assert.deepEqual(mapsOf(mm).slice(0, 3).map((v) => `${v.start}-${v.end} ${v.perms}`), [
    `${a}-${mid} rw-p`,
    `${mid}-0x${(BigInt(mid) + 0x1000n).toString(16)} r--p`,
    `0x${(BigInt(mid) + 0x1000n).toString(16)}-0x${(BigInt(a) + 0x10000n).toString(16)} rw-p`,
  ]);
});

test('errno order: misaligned offset, len 0, MAP_FIXED range before alignment, anon SHARED_VALIDATE after the search', () => {
  const mm = world();
  assert.equal(mmap(mm, '0x0', '0x0', PRIV_ANON, RW, null, '0x1'), 'EINVAL');
  assert.equal(mmap(mm, '0x0', '0x0'), 'EINVAL');
  assert.equal(mmap(mm, '0x0', '0xfffffffffffff001'), 'ENOMEM'); // PAGE_ALIGN wraps
  assert.equal(mmap(mm, '0x7ffffffff001', '0x1000', PRIV_ANON | 0x10), 'ENOMEM');
  assert.equal(mmap(mm, '0x10001', '0x1000', PRIV_ANON | 0x10), 'EINVAL');
  assert.equal(mmap(mm, '0x0', '0x1000', 0x23), 'EINVAL');
  assert.equal(mmap(mm, '0x0', '0x800000000000', 0x23), 'ENOMEM');
  assert.equal(mmap(mm, '0x0', '0x1000', 0x20), 'EINVAL'); // no MAP_PRIVATE/SHARED
  assert.equal(mmap(mm, '0x0', '0x1000', 0x02), 'EBADF'); // a file mapping without a file
  // the last 4095 bytes of the address space read as an error number
  assert.equal(mmap(mm, '0xfffffffffffff9b2', '0x1000', PRIV_ANON | 0x10), 'E1614');
});

test('MAP_32BIT searches bottom-up in [1 GiB, 2 GiB)', () => {
  const mm = world();
  assert.equal(mmap(mm, '0x0', '0x2000', PRIV_ANON | 0x40), '0x40000000');
  assert.equal(mmap(mm, '0x0', '0x2000', PRIV_ANON | 0x40), '0x40002000');
  assert.equal(mmap(mm, '0x0', '0x80000001', PRIV_ANON | 0x40), 'ENOMEM');
});

test('ext4 mappings are placed congruent to their offset modulo 2 MiB', () => {
  const mm = world();
  const f = makeFile('f2', 'ext4', 0x10000, mm.config);
  const r = BigInt(mmap(mm, '0x0', '0x400000', 0x01, RW, f, '0x300000'));
  assert.equal(r % 0x200000n, 0x100000n);
  // The padded top-down search left a hole above it (below mmap_base); a mapping too short
  // to cover an aligned 2 MiB block of the file is not aligned and goes into that hole.
  assert.equal(r, 0x7ffff7b00000n);
  assert.equal(mmap(mm, '0x0', '0x3000', 0x01, RW, f, '0x1000'), '0x7ffff7ffc000');
});

test('private writable memory beyond RAM+swap fails the overcommit heuristic; NORESERVE skips it', () => {
  const mm = world();
  assert.equal(mmap(mm, '0x0', '0x800000000'), 'ENOMEM'); // 32 GiB > 24 GiB
  assert.notEqual(mmap(mm, '0x0', '0x800000000', PRIV_ANON | 0x4000), 'ENOMEM');
  assert.notEqual(mmap(mm, '0x0', '0x800000000', PRIV_ANON, 1), 'ENOMEM'); // read-only is not charged
});

test('mprotect applies up to a hole, then fails with ENOMEM', () => {
  const mm = world();
  const a = BigInt(mmap(mm, '0x0', '0x4000'));
  assert.equal(sysMunmap(mm, parseSplit('0x' + (a + 0x2000n).toString(16)), parseSplit('0x1000')), 0);
  assert.equal(errnoName(-sysMprotect(mm, parseSplit('0x' + a.toString(16)), parseSplit('0x4000'), 1)), 'ENOMEM');
  const perms = mapsOf(mm).filter((v) => BigInt(v.start) >= a && BigInt(v.start) < a + 0x4000n).map((v) => v.perms);
  assert.deepEqual(perms, ['r--p', 'rw-p']);
});
