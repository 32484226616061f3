// SVG plots, written as text (no DOM needed): the leaves backing a mapping under each
// variant, and a sweep's coverage of huge leaves per variant.

import type { MapResult } from './analyze.js';
import type { SweepResult } from './sweep.js';

export const LEAF_COLOURS = { pud: '#1b7837', pmd: '#5aae61', pte: '#d9d9d9' } as const;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function legend(x: number, y: number): string {
  return ([['pud', '1 GiB leaves'], ['pmd', '2 MiB leaves'], ['pte', '4 KiB leaves']] as const)
    .map(([k, label], i) => `<rect x="${x + i * 130}" y="${y}" width="14" height="14" fill="${LEAF_COLOURS[k]}"/>` +
      `<text x="${x + i * 130 + 20}" y="${y + 12}">${label}</text>`).join('');
}

/**
 * One row per variant: the mapping drawn to scale, split by the memory each leaf size
 * covers (the share of bytes, so 1 GiB and 4 KiB leaves stay visible side by side).
 */
export function mappingSvg(title: string, rows: MapResult[]): string {
  const W = 900;
  const rowH = 34;
  const left = 110;
  const barW = W - left - 250;
  const H = 60 + rows.length * rowH + 40;
  const parts: string[] = [];
  rows.forEach((r, k) => {
    const y = 50 + k * rowH;
    parts.push(`<text x="10" y="${y + 16}">${esc(r.variant)}</text>`);
    const total = r.size;
    let x = left;
    if (r.addr !== null && total > 0) {
      for (const [key, bytes] of [['pud', r.leaves.pud * 2 ** 30], ['pmd', r.leaves.pmd * 2 ** 21], ['pte', r.leaves.pte * 4096]] as const) {
        const w = (Math.min(bytes, total) / total) * barW;
        if (w > 0) parts.push(`<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="22" fill="${LEAF_COLOURS[key]}"><title>${key}: ${bytes} bytes</title></rect>`);
        x += w;
      }
      parts.push(`<rect x="${left}" y="${y}" width="${barW}" height="22" fill="none" stroke="#444"/>`);
      parts.push(`<text x="${left + barW + 10}" y="${y + 16}">${esc(r.addr)} · ${r.faults.toLocaleString('en-US')} faults</text>`);
    } else {
      parts.push(`<text x="${left}" y="${y + 16}" fill="#b2182b">${esc(r.error ?? 'failed')}</text>`);
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="13">` +
    `<rect width="100%" height="100%" fill="white"/><text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>` +
    parts.join('') + legend(left, H - 28) + '</svg>\n';
}

/** The share of mapped bytes each variant backs with each leaf size, over a sweep. */
export function coverageSvg(res: SweepResult): string {
  const rows = Object.entries(res.variants);
  const W = 900;
  const rowH = 34;
  const left = 110;
  const barW = W - left - 200;
  const H = 60 + rows.length * rowH + 40;
  const parts: string[] = [];
  rows.forEach(([v, t], k) => {
    const y = 50 + k * rowH;
    parts.push(`<text x="10" y="${y + 16}">${esc(v)}</text>`);
    let x = left;
    for (const key of ['pud', 'pmd', 'pte'] as const) {
      const b = key === 'pud' ? t.pudBytes : key === 'pmd' ? t.pmdBytes : t.pteBytes;
      const w = t.bytes > 0 ? (b / t.bytes) * barW : 0;
      if (w > 0) parts.push(`<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="22" fill="${LEAF_COLOURS[key]}"/>`);
      x += w;
    }
    const huge = t.bytes > 0 ? (100 * (t.pudBytes + t.pmdBytes)) / t.bytes : 0;
    parts.push(`<rect x="${left}" y="${y}" width="${barW}" height="22" fill="none" stroke="#444"/>`);
    parts.push(`<text x="${left + barW + 10}" y="${y + 16}">${huge.toFixed(1)}% huge</text>`);
  });
  const title = `Sweep of ${res.count} random BAR mappings (seed ${res.seed}, THP "${res.thp}"): memory by leaf size`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="13">` +
    `<rect width="100%" height="100%" fill="white"/><text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>` +
    parts.join('') + legend(left, H - 28) + '</svg>\n';
}
