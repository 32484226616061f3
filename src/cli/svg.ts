// SVG plots, written as text (no DOM needed): the leaves backing a mapping under each
// variant, and a sweep's coverage of huge leaves per variant.

import { countOf } from '../lib/text.js';
import type { MapResult } from './analyze.js';
import type { SweepResult } from './sweep.js';
import type { Analysis } from '../web/model.js';
import { vmaStripSvg, leafStripSvg, LEAF_COLOURS as PAGE_LEAF_COLOURS, LEAF_LABELS } from '../web/draw.js';

export const LEAF_COLOURS = { pud: '#1b7837', pmd: '#5aae61', pte: '#d9d9d9' } as const;
type Leaf = keyof typeof LEAF_COLOURS;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface BarRowSpec {
  label: string;
  /** bytes per leaf size; null draws `note` in red instead of a bar */
  bytes: Record<Leaf, number> | null;
  total: number;
  note: string;
}

/** One labelled bar per row, split by the share of bytes each leaf size covers, plus a legend. */
function stackedBars(title: string, rows: BarRowSpec[]): string {
  const W = 900;
  const rowH = 34;
  const left = 110;
  const barW = 540;
  const H = 60 + rows.length * rowH + 40;
  const parts: string[] = [];
  rows.forEach((r, k) => {
    const y = 50 + k * rowH;
    parts.push(`<text x="10" y="${y + 16}">${esc(r.label)}</text>`);
    if (r.bytes === null || r.total <= 0) {
      parts.push(`<text x="${left}" y="${y + 16}" fill="#b2182b">${esc(r.note)}</text>`);
      return;
    }
    let x = left;
    for (const key of ['pud', 'pmd', 'pte'] as const) {
      const w = (Math.min(r.bytes[key], r.total) / r.total) * barW;
      if (w > 0) parts.push(`<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="22" fill="${LEAF_COLOURS[key]}"><title>${key}: ${r.bytes[key]} bytes</title></rect>`);
      x += w;
    }
    parts.push(`<rect x="${left}" y="${y}" width="${barW}" height="22" fill="none" stroke="#444"/>`);
    parts.push(`<text x="${left + barW + 10}" y="${y + 16}">${esc(r.note)}</text>`);
  });
  const legend = ([['pud', '1 GiB leaves'], ['pmd', '2 MiB leaves'], ['pte', '4 KiB leaves']] as const)
    .map(([k, label], i) => `<rect x="${left + i * 130}" y="${H - 28}" width="14" height="14" fill="${LEAF_COLOURS[k]}"/>` +
      `<text x="${left + i * 130 + 20}" y="${H - 16}">${label}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="13">` +
    `<rect width="100%" height="100%" fill="white"/><text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>` +
    parts.join('') + legend + '</svg>\n';
}

/** One row per variant: the mapping drawn to scale by the memory each leaf size covers. */
export function mappingSvg(title: string, rows: MapResult[]): string {
  return stackedBars(title, rows.map((r) => ({
    label: r.variant,
    bytes: r.addr === null ? null : { pud: r.leaves.pud * 2 ** 30, pmd: r.leaves.pmd * 2 ** 21, pte: r.leaves.pte * 4096 },
    total: r.size,
    note: r.addr === null ? (r.error ?? 'failed') : `${r.addr} · ${countOf(r.faults, 'fault')}`,
  })));
}

/** The share of mapped bytes each variant backs with each leaf size, over a sweep. */
export function coverageSvg(res: SweepResult): string {
  // a partial merge holds fewer cases than the campaign: count those it holds
  const held = Object.values(res.variants)[0]?.cases ?? 0;
  const what = res.partial ? `${held.toLocaleString('en-US')} of ${res.count.toLocaleString('en-US')}` : res.count.toLocaleString('en-US');
  return stackedBars(`Sweep of ${what} random BAR mappings (seed ${res.seed}, THP "${res.thp}"): memory by leaf size`,
    Object.entries(res.variants).map(([v, t]) => ({
      label: v,
      bytes: { pud: t.pudBytes, pmd: t.pmdBytes, pte: t.pteBytes },
      total: t.bytes,
      note: `${t.bytes > 0 ? ((100 * (t.pudBytes + t.pmdBytes)) / t.bytes).toFixed(1) : '0.0'}% huge`,
    })));
}

/**
 * The address space around a mapping under each variant: the neighbouring VMAs, then the
 * mapping's leaves to scale, coloured by size (the page's two drawings, stacked).
 */
export function addressSpaceSvg(title: string, rows: Analysis[]): string {
  const W = 960;
  const parts: string[] = [];
  let y = 40;
  for (const a of rows) {
    const r = a.result;
    parts.push(`<text x="14" y="${y + 16}" font-size="14" font-weight="bold">${esc(r.variant)}: ${esc(r.addr ?? r.error ?? 'failed')}` +
      ` · ${countOf(r.faults, 'fault')} · ${countOf(r.tlbEntries, 'TLB entry', 'TLB entries')}</text>`);
    y += 24;
    if (a.startPg !== null) {
      parts.push(`<g transform="translate(0 ${y})">${vmaStripSvg(a.vmas, `BAR${r.bar}`, W, true)}</g>`);
      y += 132;
      parts.push(`<g transform="translate(0 ${y})">${leafStripSvg(a.runs, a.startPg, a.pages, W, true)}</g>`);
      y += 116;
    }
  }
  const legend = (['pud', 'pmd', 'pte'] as const).map((k, i) =>
    `<rect x="${14 + i * 150}" y="${y + 4}" width="14" height="14" fill="${PAGE_LEAF_COLOURS[k]}"/><text x="${34 + i * 150}" y="${y + 16}">${LEAF_LABELS[k]} leaves</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 30}" font-family="sans-serif" font-size="12">` +
    `<style>${STRIP_STYLE}</style>` +
    `<rect width="100%" height="100%" fill="white"/><text x="14" y="24" font-size="13" font-weight="bold">${esc(title)}</text>` +
    parts.join('') + legend + '</svg>\n';
}

/** The page's stylesheet rules for the two strips, for a standalone file. */
const STRIP_STYLE = [
  '.axis { fill: #64748b; font-size: 11px; }',
  '.addr { fill: #0f172a; font-size: 11.5px; font-family: monospace; }',
  '.gap { stroke: #94a3b8; stroke-dasharray: 4 4; stroke-width: 1.5; }',
  '.gaplabel { fill: #64748b; font-size: 11px; }',
  '.tick { stroke: #475569; stroke-width: 1; }',
  '.vma rect { fill: #e2e8f0; stroke: #94a3b8; }',
  '.vma .vname { fill: #334155; font-size: 11.5px; }',
  '.vma .vsize { fill: #64748b; font-size: 10.5px; }',
  '.vma.target rect { fill: #1e3a8a; stroke: #1e3a8a; }',
  '.vma.target .vname { fill: #fff; font-weight: 600; font-size: 13px; }',
  '.vma.target .vsize { fill: #dbeafe; font-size: 12px; }',
].join(' ');
