import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSplit, parseSplitOrNull, formattedPages, formatPages, formatSplit, addSplit, subSplit, splitToBigInt, bigIntToSplit, pageAlignUp, pow2, HexError } from '../src/lib/u64.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const M = 1n << 64n;

test('hex parse/format is exact over the whole 64-bit range', () => {
  fc.assert(fc.property(u64, (v) => {
    const hex = '0x' + v.toString(16);
    const s = parseSplit(hex);
    assert.equal(splitToBigInt(s), v);
    assert.equal(formatSplit(s.pg, s.sub), hex);
  }));
});

test('wrapping add/sub agree with BigInt modulo 2^64', () => {
  fc.assert(fc.property(u64, u64, (a, b) => {
    const sa = bigIntToSplit(a);
    const sb = bigIntToSplit(b);
    assert.equal(splitToBigInt(addSplit(sa, sb)), (a + b) % M);
    assert.equal(splitToBigInt(subSplit(sa, sb)), (((a - b) % M) + M) % M);
  }));
});

test('PAGE_ALIGN in pages, including the wrap to zero', () => {
  fc.assert(fc.property(u64, (v) => {
    const aligned = ((v + 4095n) & ~4095n) % M;
    const pages = pageAlignUp(bigIntToSplit(v));
    assert.equal(BigInt(pages % 2 ** 52) << 12n, aligned);
  }));
});

test('values above 2^53 stay exact', () => {
  const v = parseSplit('0xffffffffff600123');
  assert.equal(formatSplit(v.pg, v.sub), '0xffffffffff600123');
  assert.equal(v.pg, 0xffffffffff600);
});

test('malformed hex is refused', () => {
  for (const bad of ['0X10', '10', '0x', '0x1_0', '0x10000000000000000', 16, null, '0xG']) {
    assert.throws(() => parseSplit(bad), HexError, String(bad));
  }
});

test('the one-pass hex parser accepts exactly what /^0x[0-9a-f]{1,16}$/ accepts, with the same value', () => {
  // strings near the format: a prefix, digits of any case, leading zeros, stray characters
  const near = fc.tuple(
    fc.constantFrom('0x', '0X', 'x', '0', '', ' 0x', '0x0'),
    fc.array(fc.constantFrom(...'0123456789abcdefABCDEFgx_- \n'), { maxLength: 20 }),
  ).map(([p, d]) => p + d.join(''));
  fc.assert(fc.property(fc.oneof(near, fc.string()), (s) => {
    const want = /^0x[0-9a-f]{1,16}$/.test(s) ? BigInt(s) : null;
    const got = parseSplitOrNull(s);
    assert.equal(got === null ? null : splitToBigInt(got), want, JSON.stringify(s));
    if (got !== null) assert.ok(got.sub < 4096 && got.pg < 2 ** 52);
  }), { numRuns: 5000 });
});

test('formattedPages(s) is the page number that formatPages prints as s, and NaN for every other string', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 52 - 1 }), (pg) => assert.equal(formattedPages(formatPages(pg)), pg)));
  const near = fc.tuple(
    fc.constantFrom('0x', '0X', '0x0', '0x1', 'x', ''),
    fc.array(fc.constantFrom(...'0000123456789abcdefABG '), { maxLength: 18 }),
  ).map(([p, d]) => p + d.join(''));
  fc.assert(fc.property(fc.oneof(near, fc.string()), (s) => {
    const v = /^0x[0-9a-f]{1,16}$/.test(s) ? BigInt(s) : null;
    const page = v !== null && v % 4096n === 0n && formatPages(Number(v / 4096n)) === s ? Number(v / 4096n) : NaN;
    assert.ok(Object.is(formattedPages(s), page), JSON.stringify(s));
  }), { numRuns: 5000 });
});

test('pow2 is 2 ** n: from its table for 0..64, computed for anything else', () => {
  for (let n = -3; n <= 70; n++) assert.equal(pow2(n), 2 ** n, `n = ${n}`);
  assert.equal(pow2(64), 18446744073709551616);
  assert.equal(pow2(2.5), 2 ** 2.5);
  assert.ok(Number.isNaN(pow2(NaN)));
});
