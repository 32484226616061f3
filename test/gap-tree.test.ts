// The gap index against a brute-force scan of the same VMAs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GapTree } from '../src/mm/gap-tree.js';
import { Vma } from '../src/mm/vma.js';
import { PAGES_2_64 } from '../src/lib/u64.js';

interface Gap { a: number; b: number; next: Vma | null }

function gapsOf(vmas: Vma[]): Gap[] {
  const out: Gap[] = [];
  let prevEnd = 0;
  for (const v of vmas) {
    out.push({ a: prevEnd, b: v.start, next: v });
    prevEnd = v.end;
  }
  out.push({ a: prevEnd, b: PAGES_2_64, next: null });
  return out;
}

const clipped = (g: Gap, lo: number, hi: number) => Math.min(g.b, hi) - Math.max(g.a, lo);

/**
 * A mapping of len pages at start, placed by the last search: what mmap_region asks in
 * between (answered from the search's leaf slots), checked against the sorted list `live`,
 * then the insert. The new VMA is pushed onto live (the caller re-sorts).
 */
function placeAfterSearch(t: GapTree, live: Vma[], start: number, len: number): void {
  const next = t.findVmaInGap(start);
  assert.equal(next, live.find((x) => x.end > start) ?? null);
  if (next !== null) assert.equal(t.startOfFound(next), next.start);
  const prev = t.prevOfFound(start);
  assert.equal(prev, [...live].reverse().find((x) => x.start < start) ?? null);
  if (prev !== null) assert.equal(t.endOfPrevFound(prev), prev.end);
  const v = t.newVma(start, start + len, 0, null, 0);
  t.insert(v);
  live.push(v);
}

// Address universes: small pages, and page numbers just below 2^52 (above 2^53 as bytes).
const base = fc.constantFrom(0, 2 ** 52 - 4096);

test('gap searches agree with a brute-force scan after random updates', () => {
  fc.assert(
    fc.property(
      base,
      fc.array(fc.tuple(fc.nat(3), fc.nat(255), fc.integer({ min: 1, max: 12 })), { maxLength: 400 }),
      fc.array(fc.tuple(fc.nat(300), fc.nat(300), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 20 }),
      (b, updates, queries) => {
        const t = new GapTree();
        let live: Vma[] = [];
        for (const [kind, at, len] of updates) {
          const start = b + at;
          const end = start + len;
          const overlaps = live.some((v) => v.start < end && start < v.end);
          if (kind <= 1 && !overlaps) {
            const v = t.newVma(start, end, 0, null, 0);
            t.insert(v);
            live.push(v);
          } else if (kind === 2 && live.length > 0) {
            const v = live[at % live.length];
            t.remove(v);
            live = live.filter((x) => x !== v);
          } else if (kind === 3 && live.length > 0) {
            // shrink or grow a VMA in place, as merges and splits do
            const v = live[at % live.length];
            const others = live.filter((x) => x !== v);
            const ns = v.start + (len % 3) - 1;
            const ne = v.end + (at % 3) - 1;
            if (ns < ne && ns >= 0 && !others.some((o) => o.start < ne && ns < o.end)) t.adjust(v, ns, ne);
          }
          live.sort((x, y) => x.start - y.start);
        }
        t.checkInvariants();
        assert.deepEqual(t.toArray(), live);
        const gaps = gapsOf(live);
        for (const [x, y, size] of queries) {
          const lo = b + Math.min(x, y);
          const hi = b + Math.max(x, y) + 1;
          const lowest = gaps.find((g) => clipped(g, lo, hi) >= size) ?? null;
          const highest = [...gaps].reverse().find((g) => clipped(g, lo, hi) >= size) ?? null;
          assert.equal(t.lowestGap(lo, hi, size), lowest !== null);
          if (lowest) assert.deepEqual([t.gapA, t.gapB, t.gapNext], [lowest.a, lowest.b, lowest.next]);
          assert.equal(t.highestGap(lo, hi, size), highest !== null);
          if (highest) assert.deepEqual([t.gapA, t.gapB, t.gapNext], [highest.a, highest.b, highest.next]);
          const probe = b + x;
          const found = t.findVma(probe);
          assert.equal(found, live.find((v) => v.end > probe) ?? null);
          // right after a findVma() that found nothing at probe, the VMA before probe
          if (found === null || found.start >= probe) assert.equal(t.prevOfFound(probe), [...live].reverse().find((v) => v.start < probe) ?? null);
        }
      },
    ),
    { numRuns: 300 },
  );
});

// The sequences mmap and munmap make: a search, then an insert into the gap it found (the
// insert takes the search's path); a find_vma, then the removal of what it found (the
// removal takes its slot); removals that only raise summaries. Checked after every step.
test('insert after a search and remove after find_vma keep the tree exact, step by step', () => {
  fc.assert(
    fc.property(
      base,
      fc.array(fc.tuple(fc.nat(4), fc.nat(400), fc.integer({ min: 1, max: 6 })), { minLength: 1, maxLength: 300 }),
      (b, steps) => {
        const t = new GapTree();
        let live: Vma[] = [];
        for (let i = 0; i < 40; i++) {
          const v = t.newVma(b + 2 * i * 5, b + 2 * i * 5 + 5, 0, null, 0);
          t.insert(v);
          live.push(v);
        }
        for (const [kind, at, len] of steps) {
          if (kind <= 1) {
            // top-down (kind 0) or bottom-up search for len pages below b + 600, then fill the gap's top or bottom
            const hi = b + 600;
            const ok = kind === 0 ? t.highestGap(b, hi, len) : t.lowestGap(b, hi, len);
            if (ok) {
              const a = Math.max(t.gapA, b);
              const e = Math.min(t.gapB, hi);
              placeAfterSearch(t, live, kind === 0 ? e - len : a, len);
            }
          } else if (kind === 2 && live.length > 0) {
            const probe = live[at % live.length].start + (len % 2);
            const v = t.findVma(probe);
            if (v !== null) {
              t.remove(v);
              live = live.filter((x) => x !== v);
            }
          } else if (kind === 3 && live.length > 0) {
            const v = live[at % live.length];
            t.remove(v);
            live = live.filter((x) => x !== v);
          } else if (kind === 4) {
            const start = b + at * 3;
            if (!live.some((v) => v.start < start + len && start < v.end)) {
              const v = t.newVma(start, start + len, 0, null, 0);
              t.insert(v);
              live.push(v);
            }
          }
          live.sort((x, y) => x.start - y.start);
          t.checkInvariants();
          assert.deepEqual(t.toArray(), live);
        }
      },
    ),
    { numRuns: 200 },
  );
});

// munmap then mmap of the same size, as a loop of mapping one BAR does: the removal of a VMA
// from between two neighbours leaves a hole that the next insert into its gap takes back.
// Between the two, and instead of the refill, come the other operations: lookups, a search
// that lands elsewhere, an adjust, a second removal. Each step is checked against the list.
test('a removal and a refill of the gap it left keep the tree exact, whatever comes between', () => {
  fc.assert(
    fc.property(
      base,
      fc.integer({ min: 3, max: 80 }),
      fc.array(fc.tuple(fc.nat(7), fc.nat(400), fc.nat(5)), { minLength: 30, maxLength: 200, size: 'medium' }),
      (b, nInit, steps) => {
        const t = new GapTree();
        let live: Vma[] = [];
        for (let i = 0; i < nInit; i++) {
          const v = t.newVma(b + 10 * i, b + 10 * i + 4 + (i % 5), 0, null, 0);
          t.insert(v);
          live.push(v);
        }
        const check = () => {
          t.checkInvariants();
          assert.deepEqual(t.toArray(), live);
        };
        const prevIn = (a: number) => [...live].reverse().find((x) => x.start < a) ?? null;
        const place = (start: number, len: number) => {
          placeAfterSearch(t, live, start, len);
          live.sort((x, y) => x.start - y.start);
        };
        let last: { start: number; len: number } | null = null; // the VMA removed last
        for (const [kind, at, x] of steps) {
          if (kind <= 2 && live.length > 0) {
            // munmap after find_vma: the removal may leave a hole
            const v = t.findVma(live[at % live.length].start);
            assert.ok(v !== null);
            last = { start: v.start, len: v.end - v.start };
            t.remove(v);
            live = live.filter((y) => y !== v);
          } else if (kind <= 4 && last !== null) {
            // the same mapping again: a search for exactly the gap it left (top-down or
            // bottom-up, with a window ending at its end or starting at its start)
            const { start, len } = last;
            const ok = kind === 3 ? t.highestGap(b, start + len, len) : t.lowestGap(start, b + 1000, len);
            assert.ok(ok);
            const s = kind === 3 ? Math.min(t.gapB, start + len) - len : Math.max(t.gapA, start);
            if (s === start) place(start, len);
            last = null;
          } else if (kind === 5) {
            // a search elsewhere, then its insert
            const len = 1 + x;
            if (t.highestGap(b, b + 10 * nInit + 50, len)) place(Math.min(t.gapB, b + 10 * nInit + 50) - len, len);
          } else if (kind === 6) {
            // lookups that pass over a hole: prevOf, next, findVma then prevOfFound
            const probe = b + (at % (10 * nInit + 20));
            assert.equal(t.prevOf(probe), prevIn(probe));
            const f = t.findVma(probe);
            assert.equal(f, live.find((y) => y.end > probe) ?? null);
            if (f !== null) {
              if (f.start >= probe) assert.equal(t.prevOfFound(probe), prevIn(probe));
              const i = live.indexOf(f);
              assert.equal(t.next(f), live[i + 1] ?? null);
            }
          } else if (kind === 7 && live.length > 0) {
            // grow or shrink a VMA in place by one page where it stays disjoint
            const i = at % live.length;
            const v = live[i];
            const ne = v.end + (x % 2 === 0 ? -1 : 1);
            const nextStart = live[i + 1]?.start ?? Infinity;
            if (ne > v.start && ne <= nextStart) t.adjust(v, v.start, ne);
          }
          check();
        }
      },
    ),
    { numRuns: 300 },
  );
});

// What mmap and munmap do right after a removal or an insert, when the tree still knows the
// path to the leaf it changed: remove the next VMA of a run (munmap over several), merge
// with the VMA before the one that left, split a VMA (adjust, then insert the upper part)
// and then change it again. Removals that empty or merge nodes come in between, so the
// path is kept only when no node was restructured. Checked after every step.
test('changes right after a removal or an insert find their VMA through the kept path, step by step', () => {
  fc.assert(
    fc.property(
      base,
      // up to 700 VMAs: three levels, so removals can merge internal nodes and shrink the tree
      fc.integer({ min: 2, max: 700 }),
      fc.array(fc.tuple(fc.nat(3), fc.nat(1000), fc.integer({ min: 1, max: 60 })), { minLength: 1, maxLength: 120 }),
      (b, nInit, steps) => {
        const t = new GapTree();
        let live: Vma[] = [];
        for (let i = 0; i < nInit; i++) {
          // runs of touching VMAs with a gap after every third
          const v = t.newVma(b + 10 * i, b + 10 * i + (i % 3 === 2 ? 6 : 10), 0, null, 0);
          t.insert(v);
          live.push(v);
        }
        const check = () => {
          t.checkInvariants();
          assert.deepEqual(t.toArray(), live);
        };
        const drop = (v: Vma) => {
          t.remove(v);
          live = live.filter((y) => y !== v);
          check();
        };
        for (const [kind, at, n] of steps) {
          if (live.length === 0) break;
          const i = at % live.length;
          if (kind === 0) {
            // munmap over n VMAs: find_vma, the run gathered with next(), then each removed in order
            const run = [t.findVma(live[i].start)!];
            assert.equal(run[0], live[i]);
            while (run.length < n && live[i + run.length] !== undefined) {
              const nx = t.next(run[run.length - 1]);
              assert.equal(nx, live[i + run.length]);
              run.push(nx!);
            }
            for (const v of run) drop(v);
          } else if (kind === 1 && i > 0) {
            // a mapping that replaces a VMA merges with the one before: the VMA leaves, then
            // the one before grows over its range
            const f = t.findVma(live[i].start)!;
            const prev = t.prevOfFound(live[i].start);
            assert.equal(prev, live[i - 1]);
            const end = f.end;
            drop(f);
            t.adjust(prev!, prev!.start, end);
            check();
          } else if (kind === 2) {
            // __split_vma: the lower part shrinks, the upper part goes in after it; then the
            // upper part is changed (split again or removed) and so is the lower
            const v = t.findVma(live[i].start)!;
            if (v.end - v.start < 2) continue;
            const mid = v.start + 1 + (n % (v.end - v.start - 1));
            const end = v.end;
            t.adjust(v, v.start, mid);
            const upper = t.newVma(mid, end, 0, null, 0);
            t.insert(upper);
            live.push(upper);
            live.sort((x, y) => x.start - y.start);
            check();
            if (n % 2 === 0) drop(upper);
            else if (end - mid > 1) {
              t.adjust(upper, mid, end - 1);
              check();
            }
            t.adjust(v, v.start, mid);
            check();
          } else {
            // a removal anywhere (it may empty or merge nodes), then one of its neighbours
            const v = live[i];
            const nb = live[i + 1] ?? live[i - 1];
            drop(v);
            if (nb !== undefined) drop(nb);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('a remembered slot that a shift left past the count of its leaf matches nothing', () => {
  // find_vma() of a leaf's last VMA remembers its slot; removing the leaf's first VMA shifts
  // the rest down, so that slot is past the count: removing or walking from the last VMA
  // must find it where it is now
  for (const second of ['remove', 'next', 'adjust'] as const) {
    const t = new GapTree();
    const vmas = Array.from({ length: 10 }, (_, i) => t.newVma(100 + 10 * i, 105 + 10 * i, 0, null, 0));
    for (const v of vmas) t.insert(v);
    const last = vmas[9];
    assert.equal(t.findVma(last.start), last);
    t.remove(vmas[0]);
    if (second === 'remove') t.remove(last);
    else if (second === 'next') assert.equal(t.next(last), null);
    else t.adjust(last, last.start, last.end + 1);
    t.checkInvariants();
    const live = second === 'remove' ? vmas.slice(1, 9) : vmas.slice(1);
    assert.deepEqual(t.toArray(), live, second);
    assert.deepEqual(t.toArray().map((v) => [v.start, v.end]), live.map((v) => [v.start, v.end]), second);
  }
});
