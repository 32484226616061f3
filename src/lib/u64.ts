// Exact 64-bit addresses without BigInt on the hot path.
//
// Every address the model keeps is a page number: a 64-bit address shifted right by
// PAGE_SHIFT (12) is below 2^52, and every integer below 2^53 is exact in a float64.
// Page-aligned arithmetic (sums of two page numbers, differences, power-of-two
// remainders) therefore stays exact as plain numbers. The few places that see sub-page
// bits — the raw syscall arguments — carry them separately as a `Split`.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** 2^64 bytes expressed in pages: one past the last page number. */
export const PAGES_2_64 = 2 ** 52;

/** A 64-bit value split at the page boundary: value = pg * 4096 + sub. */
export interface Split {
  pg: number; // 0 .. 2^52-1
  sub: number; // 0 .. 4095
}

import { show } from './text.js';

// V8 treats a field that no code has written since the object was made as constant, and
// optimized code may rely on that. Splits are written in place (addSplitInto into a scratch
// value), and the first such write, which a replay makes only at its first address taken
// from an earlier result, would discard every optimized function that reads a Split. One
// write here, before any of them runs, marks the fields as changing from the start.
{
  const first: Split = { pg: 0, sub: 0 };
  first.pg = 0;
  first.sub = 0;
}

const HEX_RE = /^0x[0-9a-f]{1,16}$/;

export class HexError extends Error {}

/** Parse a lowercase "0x…" hex string of at most 64 bits; throws HexError otherwise. */
export function parseSplit(hex: unknown): Split {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) {
    throw new HexError(`expected a lowercase 0x hex string of at most 64 bits, got ${show(hex)}`);
  }
  const digits = hex.slice(2);
  if (digits.length <= 3) return { pg: 0, sub: parseInt(digits, 16) };
  return { pg: parseInt(digits.slice(0, -3), 16), sub: parseInt(digits.slice(-3), 16) };
}

/** Parse a hex string that must be page aligned; returns the page number. */
export function parsePages(hex: unknown): number {
  const s = parseSplit(hex);
  if (s.sub !== 0) throw new HexError(`expected a page-aligned address, got ${show(hex)}`);
  return s.pg;
}

/** Format page number + sub-page bits as "0x…" (lowercase, no padding). */
export function formatSplit(pg: number, sub = 0): string {
  if (pg === 0) return '0x' + sub.toString(16);
  const low = sub.toString(16);
  return '0x' + pg.toString(16) + '000'.slice(low.length) + low;
}

export function formatPages(pg: number): string {
  return pg === 0 ? '0x0' : '0x' + pg.toString(16) + '000';
}

/** A BigInt as the 64-bit value it wraps to, "0x…" (lowercase, no padding); -1n is 0xffffffffffffffff. */
export function hexU64(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

/** (a + b) mod 2^64 */
export function addSplit(a: Split, b: Split): Split {
  let sub = a.sub + b.sub;
  let pg = a.pg + b.pg;
  if (sub >= PAGE_SIZE) { sub -= PAGE_SIZE; pg += 1; }
  if (pg >= PAGES_2_64) pg -= PAGES_2_64;
  return { pg, sub };
}

/** dst = (a + b) mod 2^64, without allocating; `size` and `pages` are the page size and 2^64 in pages. */
export function addSplitInto(dst: Split, a: Split, b: Split, size = PAGE_SIZE, pages = PAGES_2_64): Split {
  let sub = a.sub + b.sub;
  let pg = a.pg + b.pg;
  if (sub >= size) { sub -= size; pg += 1; }
  if (pg >= pages) pg -= pages;
  dst.pg = pg;
  dst.sub = sub;
  return dst;
}

/** dst = (a - b) mod 2^64, without allocating. */
export function subSplitInto(dst: Split, a: Split, b: Split, size = PAGE_SIZE, pages = PAGES_2_64): Split {
  let sub = a.sub - b.sub;
  let pg = a.pg - b.pg;
  if (sub < 0) { sub += size; pg -= 1; }
  if (pg < 0) pg += pages;
  dst.pg = pg;
  dst.sub = sub;
  return dst;
}

/** (a - b) mod 2^64 */
export function subSplit(a: Split, b: Split): Split {
  let sub = a.sub - b.sub;
  let pg = a.pg - b.pg;
  if (sub < 0) { sub += PAGE_SIZE; pg -= 1; }
  if (pg < 0) pg += PAGES_2_64;
  return { pg, sub };
}

/** PAGE_ALIGN(v) in pages; PAGES_2_64 means the alignment wrapped to 0. */
export function pageAlignUp(v: Split): number {
  return v.sub === 0 ? v.pg : v.pg + 1;
}

/**
 * Non-negative remainder of x modulo a power of two m, for integers below 2^53: dividing
 * by a power of two, flooring and multiplying back are all exact in a float64.
 */
export function modPow2(x: number, m: number): number {
  return x - Math.floor(x / m) * m;
}

/** 2^0 .. 2^64 (exponentiation is a slow call in V8; a table read is not) */
const POW2 = Float64Array.from({ length: 65 }, (_, i) => 2 ** i);

/** 2^n: from the table for an integer 0 ≤ n ≤ 64 (any other n is not in it and is computed). */
export function pow2(n: number): number {
  return POW2[n] ?? 2 ** n;
}

/** Split ↔ BigInt (for tests, tools and one-time set-up, never per op). */
export function bigIntToSplit(v: bigint): Split {
  const m = v & 0xffff_ffff_ffff_ffffn;
  return { pg: Number(m >> 12n), sub: Number(m & 0xfffn) };
}

export function splitToBigInt(s: Split): bigint {
  return (BigInt(s.pg) << 12n) | BigInt(s.sub);
}
