// A sweep result as a person reads it: per variant, the share of mapped memory behind each
// leaf size, and the faults and TLB entries per mapping.

import type { SweepResult } from './sweep.js';
import { bytesLabel } from '../web/model.js';

const pct = (part: number, whole: number) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`);

export function sweepSummary(res: SweepResult): string {
  const cases = Object.values(res.variants)[0]?.cases ?? 0;
  const head = `sweep seed ${res.seed}: ${cases.toLocaleString('en-US')} of ${res.count.toLocaleString('en-US')} cases (shards ${res.shards.join(', ')}), THP "${res.thp}"`;
  const cols = ['variant', 'mapped', 'failed', '1G', '2M', '4K', 'faults/map', 'TLB/map'];
  const w = [12, 12, 7, 7, 7, 7, 11, 11];
  const rows = Object.entries(res.variants).map(([v, t]) => {
    const ok = t.cases - t.failed;
    const per = (n: number) => (ok === 0 ? '-' : (n / ok).toFixed(1));
    return [v, bytesLabel(t.bytes), String(t.failed), pct(t.pudBytes, t.bytes), pct(t.pmdBytes, t.bytes), pct(t.pteBytes, t.bytes), per(t.faults), per(t.tlbEntries)];
  });
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' ');
  return [head, '', line(cols), ...rows.map(line), '', '(1G/2M/4K: the share of mapped bytes each leaf size backs after a full read; failed: mmap refused)'].join('\n');
}
