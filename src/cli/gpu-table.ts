// The default job: the preset GPU's BARs mapped the way an unmodified program maps them
// (mmap(NULL, bar, PROT_READ|PROT_WRITE, MAP_SHARED, fd, index << 40)) under each kernel
// variant, every page touched once: where each BAR lands, which leaves back it, how many
// faults that took and how many TLB entries cover it.

import { VARIANT_NAMES, requireVariant } from '../kernels/variants.js';
import { VfioProcess } from '../vfio/process.js';
import { mapAndTouch, mapAreasAndTouch, type MapResult } from './analyze.js';
import { sizeLabel, type Device } from '../devices/device.js';
import type { MmConfig } from '../mm/config.js';
import type { Arch } from '../arch/arch.js';
import { x86_64 } from '../arch/x86_64.js';
import { leafBytesOf } from './analyze.js';

export type BarRow = MapResult;

export function gpuTable(dev: Device, variants: readonly string[] = VARIANT_NAMES, config: Partial<MmConfig> = {}, arch: Arch = x86_64): BarRow[] {
  const rows: BarRow[] = [];
  for (const v of variants) {
    // one process per variant: its BARs are mapped side by side, as one program would
    const p = new VfioProcess(requireVariant(v), config, { arch });
    // a region with sparse mmap areas (nvgrace-gpu's fake BARs, a BAR around its MSI-X table) maps area by area
    for (const r of dev.regions.filter((x) => (x.kind === 'bar' || x.kind === 'mmio') && x.mmap)) rows.push(r.sparse ? mapAreasAndTouch(v, dev, r.index, config, p) : mapAndTouch(v, dev, r.index, 0, r.size, config, p));
  }
  return rows;
}

const num = (n: number) => n.toLocaleString('en-US');

export function printGpuTable(dev: Device, rows: BarRow[], thp: string, arch: Arch = x86_64): void {
  const b = leafBytesOf(arch);
  console.log(`${dev.name}${arch === x86_64 ? '' : `, ${arch.name}`}`);
  console.log(`every BAR mmap()ed without a hint or MAP_FIXED, then every ${sizeLabel(b.pte).replace(/(\d)([KMG])$/, '$1 $2iB')} page read once (THP "${thp}")\n`);
  // a PUD column only where pfnmaps can have PUD leaves (not on arm64)
  const pud = arch.pfnmapPud;
  const head = ['variant', 'BAR', 'size', 'address', 'aligned', ...(pud ? [`${sizeLabel(b.pud)} leaves`] : []), `${sizeLabel(b.pmd)} leaves`, `${sizeLabel(b.pte)} leaves`, 'faults', 'TLB entries'];
  const w = [11, 4, 5, 16, 7, ...(pud ? [9] : []), 9, 10, 10, 11].map((n, i) => Math.max(n, head[i].length));
  console.log(head.map((h, i) => (i < 2 ? h.padEnd(w[i]) : h.padStart(w[i]))).join('  '));
  for (const r of rows) {
    const cells = [r.variant, `${r.bar}`, sizeLabel(r.size), r.addr ?? r.error ?? '-', r.addr ? sizeLabel(r.alignment) : '-',
      ...(pud ? [num(r.leaves.pud)] : []), num(r.leaves.pmd), num(r.leaves.pte), num(r.faults), num(r.tlbEntries)];
    console.log(cells.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
  }
}
