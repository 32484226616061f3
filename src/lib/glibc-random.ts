// glibc's random() with its default state (TYPE_3: an additive feedback generator over 34
// words, seeded as if by srandom(1)). The alignment test program never seeds it, so its
// offsets and sizes are this exact sequence.

export class GlibcRandom {
  private readonly r = new Int32Array(34);
  private i = 0;

  constructor(seed = 1) {
    const r = this.r;
    r[0] = seed | 0;
    for (let k = 1; k < 31; k++) {
      // 16807 * r[k-1] mod (2^31 - 1), with Schrage's method as glibc does it
      const hi = Math.trunc(r[k - 1] / 127773);
      const lo = r[k - 1] % 127773;
      let word = 16807 * lo - 2836 * hi;
      if (word < 0) word += 2147483647;
      r[k] = word;
    }
    for (let k = 31; k < 34; k++) r[k] = r[k - 31];
    this.i = 0;
    // the first 310 outputs after seeding are discarded
    for (let k = 34; k < 344; k++) this.step();
  }

  private step(): number {
    const r = this.r;
    const j = this.i;
    // r[n] = r[n-31] + r[n-3] (mod 2^32), kept in a ring of 34 words
    const v = (r[(j + 34 - 31) % 34] + r[(j + 34 - 3) % 34]) | 0;
    r[j] = v;
    this.i = (j + 1) % 34;
    return v;
  }

  /** random(): a value in [0, 2^31). */
  next(): number {
    return this.step() >>> 1;
  }
}
