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

export class HexError extends Error {}

/** Why v is not a "0x…" field: the message parseSplit throws. */
export function hexMessage(v: unknown): string {
  return `expected a lowercase 0x hex string of at most 64 bits, got ${show(v)}`;
}

/** The value of a lowercase hex digit's character code, -1 for any other character. */
function hexDigit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
}

/**
 * A lowercase "0x…" hex string of 1 to 16 digits, or null for anything else. One pass over
 * the characters: the digits before the last three are the page number (at most 13 digits,
 * below 2^52, exact), the last three the sub-page bits.
 */
export function parseSplitOrNull(hex: unknown): Split | null {
  if (typeof hex !== 'string') return null;
  const n = hex.length;
  if (n < 3 || n > 18 || hex.charCodeAt(0) !== 48 || hex.charCodeAt(1) !== 120) return null;
  const low = n - 3; // the first of the last three characters
  let pg = 0;
  let sub = 0;
  for (let i = 2; i < n; i++) {
    const d = hexDigit(hex.charCodeAt(i));
    if (d < 0) return null;
    if (i < low) pg = pg * 16 + d;
    else sub = sub * 16 + d;
  }
  return { pg, sub };
}

/**
 * The inverse of formatPages: the page number pg with formatPages(pg) === s, else NaN. It
 * reads s in one pass and allocates nothing, so a string can be checked against a page
 * number without formatting the number.
 */
export function formattedPages(s: string): number {
  const n = s.length;
  if (n < 3 || n > 18 || s.charCodeAt(0) !== 48 || s.charCodeAt(1) !== 120) return NaN;
  if (n === 3) return s.charCodeAt(2) === 48 ? 0 : NaN; // "0x0"; other values below a page are not page numbers
  // at least one page: a digit other than 0 first, then the three zero digits of the offset
  if (n < 6 || s.charCodeAt(2) === 48 || s.charCodeAt(n - 1) !== 48 || s.charCodeAt(n - 2) !== 48 || s.charCodeAt(n - 3) !== 48) return NaN;
  let pg = 0;
  for (let i = 2; i < n - 3; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0) return NaN;
    pg = pg * 16 + d;
  }
  return pg;
}

/** Parse a lowercase "0x…" hex string of at most 64 bits; throws HexError otherwise. */
export function parseSplit(hex: unknown): Split {
  const s = parseSplitOrNull(hex);
  if (s === null) throw new HexError(hexMessage(hex));
  return s;
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
