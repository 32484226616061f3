// Seeded random numbers for the oracles' op generators: a 32-bit source, and the draws
// built on it. Deterministic on every platform, so a seed names an op list for good.

export abstract class RandomSource {
  abstract u32(): number;

  /** Uniform in [0, 1). */
  float(): number {
    return (this.u32() * 0x200000 + (this.u32() >>> 11)) / 2 ** 53;
  }

  /** Uniform integer in [lo, hi] (safe integers). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)] as T;
  }

  /** Picks a value by weight. */
  weighted<T>(table: ReadonlyArray<readonly [number, T]>): T {
    let total = 0;
    for (const [w] of table) total += w;
    let x = this.float() * total;
    for (const [w, v] of table) {
      if (x < w) return v;
      x -= w;
    }
    return (table[table.length - 1] as readonly [number, T])[1];
  }
}
