// The default job: the preset GPU's BARs mapped the way an unmodified program maps them
// (mmap(NULL, bar, PROT_READ|PROT_WRITE, MAP_SHARED, fd, index << 40)) under each kernel
// variant, every page touched once: where each BAR lands, which leaves back it, how many
// faults that took and how many TLB entries cover it.

import { VARIANTS, VARIANT_NAMES, type VariantName } from '../kernels/variants.js';
import { VfioProcess, mapBar } from '../vfio/process.js';
import { touchRange } from '../mm/memory.js';
import { errnoName } from '../mm/uapi.js';
import { sizeLabel, type Device } from '../devices/device.js';
import type { MmConfig } from '../mm/config.js';

export interface BarRow {
  variant: VariantName;
  bar: number;
  size: number;
  addr: string | null;
  errno: string | null;
  /** the largest power of two dividing the address, in bytes (capped at 1 GiB) */
  alignment: number;
  leaves: { pud: number; pmd: number; pte: number };
  faults: number;
  tlbEntries: number;
  ms: number;
}

function alignmentOf(pages: number): number {
  let a = 4096;
  while (a < 2 ** 30 && pages % ((a * 2) / 4096) === 0) a *= 2;
  return a;
}

export function gpuTable(dev: Device, variants: VariantName[] = VARIANT_NAMES, config: Partial<MmConfig> = {}): BarRow[] {
  const rows: BarRow[] = [];
  for (const v of variants) {
    const p = new VfioProcess(VARIANTS[v], config);
    const f = p.openDevice(dev);
    for (const r of dev.regions.filter((x) => x.kind === 'bar' && x.mmap)) {
      const t0 = Date.now();
      const a = mapBar(p, f, r.index, 0, r.size);
      if (a < 0) {
        rows.push({ variant: v, bar: r.index, size: r.size, addr: null, errno: errnoName(-a), alignment: 0, leaves: { pud: 0, pmd: 0, pte: 0 }, faults: 0, tlbEntries: 0, ms: 0 });
        continue;
      }
      const pages = Math.ceil(r.size / 4096);
      const t = touchRange(p.mm, a, a + pages);
      const leaves = p.mm.pgtables.leaves(a, a + pages);
      rows.push({
        variant: v, bar: r.index, size: r.size, addr: '0x' + (a * 4096).toString(16), errno: t.signal, alignment: alignmentOf(a),
        leaves, faults: t.faults, tlbEntries: leaves.pud + leaves.pmd + leaves.pte, ms: Date.now() - t0,
      });
    }
  }
  return rows;
}

const num = (n: number) => n.toLocaleString('en-US');

export function printGpuTable(dev: Device, rows: BarRow[], thp: string): void {
  console.log(`${dev.name}`);
  console.log(`every BAR mmap()ed without a hint or MAP_FIXED, then every 4 KiB page read once (THP "${thp}")\n`);
  const head = ['variant', 'BAR', 'size', 'address', 'aligned', '1G leaves', '2M leaves', '4K leaves', 'faults', 'TLB entries'];
  const w = [11, 4, 5, 16, 7, 9, 9, 10, 10, 11];
  console.log(head.map((h, i) => (i < 2 ? h.padEnd(w[i]) : h.padStart(w[i]))).join('  '));
  for (const r of rows) {
    const cells = [r.variant, `${r.bar}`, sizeLabel(r.size), r.addr ?? r.errno ?? '-', r.addr ? sizeLabel(r.alignment) : '-',
      num(r.leaves.pud), num(r.leaves.pmd), num(r.leaves.pte), num(r.faults), num(r.tlbEntries)];
    console.log(cells.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
  }
}
