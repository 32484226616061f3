// A sweep result as a person reads it: per variant, the share of mapped memory behind each
// leaf size, and the faults and TLB entries per mapping.

import type { SweepResult } from './sweep.js';
import { bytesLabel } from '../web/model.js';
import { archByName } from '../arch/index.js';
import { leafBytesOf } from './analyze.js';
import { sizeLabel } from '../devices/device.js';

const pct = (part: number, whole: number) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`);

export function sweepSummary(res: SweepResult): string {
  const cases = Object.values(res.variants)[0]?.cases ?? 0;
  const arch = archByName(res.arch ?? 'x86_64')!;
  const b = leafBytesOf(arch);
  const [pud, pmd, pte] = [sizeLabel(b.pud), sizeLabel(b.pmd), sizeLabel(b.pte)];
  const head = `sweep seed ${res.seed}: ${cases.toLocaleString('en-US')} of ${res.count.toLocaleString('en-US')} cases (shards ${res.shards.join(', ')}), THP "${res.thp}"${res.arch ? `, ${res.arch}` : ''}`;
  const cols = ['variant', 'mapped', 'failed', pud, pmd, pte, 'faults/map', 'TLB/map'];
  const w = [12, 12, 7, 7, 7, 7, 11, 11];
  const rows = Object.entries(res.variants).map(([v, t]) => {
    const ok = t.cases - t.failed;
    const per = (n: number) => (ok === 0 ? '-' : (n / ok).toFixed(1));
    return [v, bytesLabel(t.bytes), String(t.failed), pct(t.pudBytes, t.bytes), pct(t.pmdBytes, t.bytes), pct(t.pteBytes, t.bytes), per(t.faults), per(t.tlbEntries)];
  });
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' ');
  return [head, '', line(cols), ...rows.map(line), '', `(${pud}/${pmd}/${pte}: the share of mapped bytes each leaf size backs after a full read; failed: mmap refused)`].join('\n');
}
