// SVG drawings of the page, as markup strings: the address space around the mapping and
// the leaves a full touch installs, to scale. Pure functions of the analysis.

import type { LeafRun, LeafSize, VmaView } from './model.js';
import { bytesLabel, leafBytes } from './model.js';
import { x86_64 } from '../arch/x86_64.js';
import type { ArchGeometry } from '../arch/arch.js';

export const LEAF_COLOURS: Record<LeafSize, string> = { pud: '#2563eb', pmd: '#16a34a', pte: '#ea580c' };

/** "1 GiB (PUD)", "512 MiB (PMD)", "64 KiB (PTE)": each leaf by the arch's size and level. */
export function leafLabels(g: ArchGeometry): Record<LeafSize, string> {
  const b = leafBytes(g);
  return { pud: `${bytesLabel(b.pud)} (PUD)`, pmd: `${bytesLabel(b.pmd)} (PMD)`, pte: `${bytesLabel(b.pte)} (PTE)` };
}

/** the labels of x86_64's leaves (the CLI's drawings are x86_64 only) */
export const LEAF_LABELS: Record<LeafSize, string> = leafLabels(x86_64);

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Page number of the arch → "0x7fdfc0000000". */
export function addrOf(pg: number, g: ArchGeometry = x86_64): string {
  return '0x' + (BigInt(pg) << BigInt(g.pageShift)).toString(16);
}

function fit(label: string, px: number): string {
  const max = Math.floor(px / 6.6);
  if (max < 2) return '';
  return label.length <= max ? label : label.slice(0, Math.max(1, max - 1)) + '…';
}

/**
 * The process's address space around the mapping, lowest address on the left. VMAs and
 * the gaps between them get widths by kind (not to scale: a 4 KiB page and 42 TiB of gap
 * cannot share one scale); sizes are written on them.
 */
export function vmaStripSvg(vmas: VmaView[], barLabel: string, width = 960, standalone = false, g: ArchGeometry = x86_64): string {
  const H = 132;
  const y = 38;
  const h = 44;
  const M = 14;
  type Item = { kind: 'vma'; v: VmaView; w: number } | { kind: 'gap'; pages: number; w: number };
  const items: Item[] = [];
  items.push({ kind: 'gap', pages: -1, w: 0.7 });
  vmas.forEach((v, i) => {
    if (i > 0) {
      const g = v.start - vmas[i - 1].end;
      if (g > 0) items.push({ kind: 'gap', pages: g, w: 1.6 });
    }
    items.push({ kind: 'vma', v, w: v.target ? 5 : 0.9 + Math.log2(v.end - v.start + 1) / 12 });
  });
  items.push({ kind: 'gap', pages: -1, w: 0.7 });
  const total = items.reduce((s, it) => s + it.w, 0);
  const unit = (width - 2 * M) / total;
  let x = M;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${H}" ${standalone ? `width="${width}" height="${H}"` : 'width="100%"'} role="img" aria-label="address space around the mapping">`);
  out.push(`<text x="${M}" y="14" class="axis">← lower addresses</text>`);
  out.push(`<text x="${width - M}" y="14" class="axis" text-anchor="end">higher addresses →</text>`);
  for (const it of items) {
    const w = it.w * unit;
    if (it.kind === 'gap') {
      const mid = y + h / 2;
      out.push(`<line x1="${x + 3}" y1="${mid}" x2="${x + w - 3}" y2="${mid}" class="gap"/>`);
      const label = it.pages < 0 ? '…' : `gap ${bytesLabel(it.pages * g.pageSize)}`;
      out.push(`<text x="${x + w / 2}" y="${mid - 6}" class="gaplabel" text-anchor="middle">${esc(fit(label, w) || '·')}</text>`);
    } else {
      const v = it.v;
      const size = bytesLabel((v.end - v.start) * g.pageSize);
      const tip = `${v.target ? barLabel : v.name}  ${addrOf(v.start, g)}–${addrOf(v.end, g)}  ${size}  ${v.perms}`;
      out.push(`<g class="${v.target ? 'vma target' : 'vma'}"><title>${esc(tip)}</title>`);
      out.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="3"/>`);
      const name = v.target ? barLabel : v.name;
      out.push(`<text x="${x + w / 2}" y="${y + 18}" text-anchor="middle" class="vname">${esc(fit(name, w - 4))}</text>`);
      out.push(`<text x="${x + w / 2}" y="${y + 34}" text-anchor="middle" class="vsize">${esc(fit(size, w - 4))}</text>`);
      out.push('</g>');
      if (v.target) {
        out.push(`<line x1="${x}" y1="${y + h}" x2="${x}" y2="${y + h + 14}" class="tick"/>`);
        out.push(`<line x1="${x + w}" y1="${y + h}" x2="${x + w}" y2="${y + h + 14}" class="tick"/>`);
        out.push(`<text x="${x}" y="${y + h + 28}" class="addr" text-anchor="middle">${addrOf(v.start, g)}</text>`);
        out.push(`<text x="${x + w}" y="${y + h + 44}" class="addr" text-anchor="middle">${addrOf(v.end, g)}</text>`);
      }
    }
    x += w;
  }
  out.push('</svg>');
  return out.join('');
}

function niceTick(lenBytes: number, pageSize: number): number {
  // a power of two of bytes giving 4–8 intervals
  let t = 2 ** Math.floor(Math.log2(lenBytes / 4));
  while (lenBytes / t > 8) t *= 2;
  return Math.max(t, pageSize);
}

/** The leaves over the mapping [startPg, startPg + pages), drawn to scale. */
export function leafStripSvg(runs: LeafRun[], startPg: number, pages: number, width = 960, standalone = false, g: ArchGeometry = x86_64): string {
  const labels = leafLabels(g);
  const leafPages: Record<LeafSize, number> = { pud: g.pudPages, pmd: g.pmdPages, pte: 1 };
  const M = 14;
  const y = 26;
  const h = 46;
  const H = 112;
  const W = width - 2 * M;
  const px = (pg: number) => M + ((pg - startPg) / pages) * W;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${H}" ${standalone ? `width="${width}" height="${H}"` : 'width="100%"'} role="img" aria-label="page-table leaves of the mapping">`);
  out.push(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f1f5f9"/><line x1="0" y1="0" x2="0" y2="6" stroke="#cbd5e1" stroke-width="2"/></pattern></defs>`);
  out.push(`<rect x="${M}" y="${y}" width="${W}" height="${h}" fill="url(#hatch)" class="unmapped"><title>no leaf: not faulted in</title></rect>`);
  const leaves = runs.reduce((s, r) => s + r.count, 0);
  const outline = leaves <= 600;
  // wide runs first, so that a run drawn wider than it is never hides a narrow neighbour
  const order = outline ? runs : [...runs].sort((a, b) => (b.end - b.start) - (a.end - a.start));
  for (const r of order) {
    const c = LEAF_COLOURS[r.size];
    const title = `${r.count.toLocaleString('en-US')} × ${labels[r.size]}  ${addrOf(r.start, g)}–${addrOf(r.end, g)}`;
    if (outline) {
      const step = leafPages[r.size];
      for (let s = r.start; s < r.end; s = Math.floor(s / step) * step + step) {
        const e = Math.min(r.end, Math.floor(s / step) * step + step);
        const x0 = px(s);
        const w = Math.max(px(e) - x0, 1);
        out.push(`<rect x="${x0}" y="${y}" width="${w}" height="${h}" fill="${c}" stroke="#fff" stroke-width="${w > 3 ? 1 : 0}" data-leaf="${r.size}"><title>${esc(title)}</title></rect>`);
      }
    } else {
      const x0 = px(r.start);
      const w = Math.max(px(r.end) - x0, 2);
      out.push(`<rect x="${Math.min(x0, M + W - w)}" y="${y}" width="${w}" height="${h}" fill="${c}" data-leaf="${r.size}" data-count="${r.count}"><title>${esc(title)}</title></rect>`);
    }
  }
  out.push(`<rect x="${M}" y="${y}" width="${W}" height="${h}" fill="none" stroke="#334155" stroke-width="1"/>`);
  // axis: offsets into the mapping
  const lenBytes = pages * g.pageSize;
  const t = niceTick(lenBytes, g.pageSize);
  for (let b = 0; b <= lenBytes; b += t) {
    const x = px(startPg + b / g.pageSize);
    out.push(`<line x1="${x}" y1="${y + h}" x2="${x}" y2="${y + h + 6}" class="tick"/>`);
    const anchor = x < M + 30 ? 'start' : x > M + W - 30 ? 'end' : 'middle';
    out.push(`<text x="${x}" y="${y + h + 19}" class="axis" text-anchor="${anchor}">${b === 0 ? '0' : '+' + bytesLabel(b)}</text>`);
  }
  out.push(`<text x="${M}" y="${y - 8}" class="addr">${addrOf(startPg, g)}</text>`);
  out.push(`<text x="${M + W}" y="${y - 8}" class="addr" text-anchor="end">${addrOf(startPg + pages, g)}</text>`);
  const note = outline ? 'one box per leaf' : `${leaves.toLocaleString('en-US')} leaves drawn as ${runs.length.toLocaleString('en-US')} run${runs.length === 1 ? '' : 's'} of one size`;
  out.push(`<text x="${M + W / 2}" y="${y + h + 36}" class="axis" text-anchor="middle">offset into the mapping, to scale (${note}${outline ? '' : '; runs narrower than a pixel are drawn 2 px wide'})</text>`);
  out.push('</svg>');
  return out.join('');
}
