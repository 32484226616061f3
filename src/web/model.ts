// The web page's view of the model: read a device from what a person picked or pasted,
// validate the BAR window, map and touch it under one variant, and describe the result
// in plain data (the VMA and its neighbours, the leaves as runs) that a page can draw.
// Browser-safe: nothing here imports node: modules.

import { parseJson } from '../lib/json.js';
import { InputError } from '../trace/input-error.js';
import { parseDevice, type Device, type Region } from '../devices/device.js';
import { importLspci, importLspciAll } from '../devices/lspci.js';
import { preset, PRESET_NAMES } from '../devices/presets.js';
import { VARIANTS, VARIANT_NAMES, SHOWCASE_NAMES, RECIPE_VARIANT_NAMES, requireVariant, variantByName, type VariantName } from '../kernels/variants.js';
import { VfioProcess } from '../vfio/process.js';
import { mapAndTouch, leafBytesOf, type MapResult } from '../cli/analyze.js';
import { permsOf } from '../mm/vma.js';
import { SLOT_NONE, SLOT_LEAF, type PageTables } from '../mm/pgtable.js';
import { x86_64 } from '../arch/x86_64.js';
import { ARCH_NAMES, archByName } from '../arch/index.js';
import type { Arch, ArchGeometry } from '../arch/arch.js';
import { parseSplit } from '../lib/u64.js';
import type { ThpMode } from '../mm/config.js';
export type { ThpMode };


export type DeviceSource =
  | { kind: 'preset'; name: string }
  /** bdf picks one device of a whole-machine listing */
  | { kind: 'lspci'; text: string; bdf?: string }
  | { kind: 'json'; text: string };

/** The device a person chose; throws InputError (one line) when the text cannot be read. */
export function deviceFrom(src: DeviceSource): Device {
  if (src.kind === 'preset') {
    const d = preset(src.name);
    if (!d) throw new InputError('preset', `unknown preset ${JSON.stringify(src.name)} (${PRESET_NAMES.join(', ')})`);
    return d;
  }
  if (src.text.trim() === '') throw new InputError(src.kind === 'lspci' ? 'lspci' : 'json', 'paste the text first');
  if (src.kind === 'lspci') return importLspci(src.text, undefined, src.bdf);
  return parseDevice(parseJson(src.text, 'json'));
}

/**
 * Every device a person's choice describes: each device of a whole-machine lspci listing
 * (in its order), else the one device. Throws InputError (one line) as deviceFrom does.
 */
export function devicesFrom(src: DeviceSource): Device[] {
  if (src.kind !== 'lspci') return [deviceFrom(src)];
  if (src.text.trim() === '') throw new InputError('lspci', 'paste the text first');
  return importLspciAll(src.text);
}

/** The device of several offered first: the first with the largest mmap-able BAR (else the first). */
export function defaultDevice(devs: Device[]): number {
  let best = 0;
  let size = -1;
  devs.forEach((d, i) => {
    const bar = defaultBar(d);
    const s = bar === undefined ? -1 : d.regions.find((r) => r.index === bar)!.size;
    if (s > size) {
      best = i;
      size = s;
    }
  });
  return best;
}

/** The BARs a person can pick: every BAR region with a size. */
export function barsOf(d: Device): Region[] {
  return d.regions.filter((r) => r.kind === 'bar' && r.size > 0);
}

/** The BAR offered first: the largest mmap-able one. */
export function defaultBar(d: Device): number | undefined {
  const bars = barsOf(d).filter((r) => r.mmap);
  if (bars.length === 0) return undefined;
  return bars.reduce((a, b) => (b.size > a.size ? b : a)).index;
}

/** "0x…" bytes as typed (upper case allowed); throws InputError naming the field. */
export function parseBytes(text: string, field: string): number {
  const t = text.trim().toLowerCase();
  if (!/^0x[0-9a-f]{1,16}$/.test(t)) throw new InputError(field, `expected a 0x hex number of bytes, got ${JSON.stringify(text.trim())}`);
  const s = parseSplit(t);
  const n = s.pg * 4096 + s.sub;
  if (!Number.isSafeInteger(n)) throw new InputError(field, `${t} is too large`);
  return n;
}

export interface BarWindow {
  bar: number;
  offset: number;
  len: number;
}

/** The names a window's fields go by in messages: the page's labels or the CLI's flags. */
export interface WindowFields {
  bar: string;
  offset: string;
  len: string;
}

const PAGE_FIELDS: WindowFields = { bar: 'bar', offset: 'offset', len: 'length' };

/**
 * Check offset and length against the BAR; blank length means "to the end of the BAR". A
 * window the BAR cannot hold is refused here, as vfio_pci_core_mmap() would refuse it with
 * EINVAL under every variant, so there is nothing to compare. Errors name the field.
 *
 * With `arch` (the page) the checks are the kernel's on that arch's page: an offset that is
 * not a multiple of PAGE_SIZE is mmap()'s EINVAL (offset_in_page(off) in the arch's
 * sys_mmap), and the end may reach PAGE_ALIGN(BAR size), the phys_len of
 * vfio_pci_core_mmap() (mmap() rounds the length up to whole pages; lengthNote() says so).
 */
export function windowOf(d: Device, bar: number, offsetText: string, lenText: string, f: WindowFields = PAGE_FIELDS, arch?: Arch): BarWindow {
  const r = d.regions.find((x) => x.index === bar && (x.kind === 'bar' || x.kind === 'mmio'));
  if (!r || r.size === 0) throw new InputError(f.bar, `the device has no BAR${bar}`);
  if (r.io) throw new InputError(f.bar, `BAR${bar} is an I/O-port BAR: it cannot be mmap()ed`);
  const offset = offsetText.trim() === '' ? 0 : parseBytes(offsetText, f.offset);
  if (offset >= r.size) throw new InputError(f.offset, `0x${offset.toString(16)} is past the end of BAR${bar} (${bytesLabel(r.size)}); vfio-pci refuses such a mapping with EINVAL under every variant`);
  const ps = arch?.pageSize;
  if (ps !== undefined && offset % ps !== 0) {
    throw new InputError(f.offset, `0x${offset.toString(16)} is not a multiple of the ${bytesLabel(ps)} page of ${arch!.name}; mmap() refuses an offset inside a page with EINVAL under every variant`);
  }
  // no length: to the end of the region, or of the sparse mmap area the offset is in
  const area = r.sparse?.find((a) => offset >= a.offset && offset < a.offset + a.size);
  const len = lenText.trim() === '' ? (area ? area.offset + area.size : r.size) - offset : parseBytes(lenText, f.len);
  if (len === 0) throw new InputError(f.len, 'a mapping needs at least one byte');
  const end = ps === undefined ? r.size : Math.ceil(r.size / ps) * ps;
  if (offset + len > end) {
    throw new InputError(f.len, `offset + length = 0x${(offset + len).toString(16)} runs past the end of BAR${bar} (0x${r.size.toString(16)}${end !== r.size ? `, 0x${end.toString(16)} in whole ${bytesLabel(ps!)} pages` : ''}); vfio-pci refuses such a mapping with EINVAL under every variant`);
  }
  return { bar, offset, len };
}

/** What mmap() does to a length that is not a multiple of the arch's page, in words; null when it is one. */
export function lengthNote(len: number, arch: ArchGeometry & { name: string }): string | null {
  const ps = arch.pageSize;
  if (len % ps === 0) return null;
  const up = Math.ceil(len / ps) * ps;
  return `0x${len.toString(16)} is not a multiple of the ${bytesLabel(ps)} page of ${arch.name}: mmap() rounds it up, so 0x${up.toString(16)} bytes (${bytesLabel(up)}) are mapped and touched`;
}

/** The arch of a name (blank: x86_64); throws InputError naming the field. */
export function archOf(name: string | undefined): Arch {
  if (name === undefined || name === '') return x86_64;
  const a = archByName(name);
  if (a === undefined) throw new InputError('arch', `expected one of ${ARCH_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  return a;
}

/** The bytes one PUD, PMD and PTE leaf map on the arch (the CLI's leafBytesOf). */
export const leafBytes: (g: ArchGeometry) => Record<LeafSize, number> = leafBytesOf;

/** 1073741824 → "1 GiB", 12288 → "12 KiB", 414359552 → "≈395 MiB": exact when the largest unit divides it. */
export function bytesLabel(n: number): string {
  const units: [number, string][] = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [u, s] of units) {
    if (n < u) continue;
    if (n % u === 0) return `${n / u} ${s}`;
    const v = n / u;
    return `≈${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${s}`;
  }
  return `${n} B`;
}


export interface Request {
  /** an alias or BASE[+SERIES] */
  variant: string;
  device: Device;
  bar: number;
  offset: number;
  len: number;
  thp: ThpMode;
  /** an ARCH_NAMES name; absent, x86_64 */
  arch?: string;
}

export type LeafSize = 'pud' | 'pmd' | 'pte';

/** A run of leaves of one size covering [start, end) (page numbers); count leaves. */
export interface LeafRun {
  start: number;
  end: number;
  size: LeafSize;
  count: number;
}

export interface VmaView {
  start: number;
  end: number;
  perms: string;
  name: string;
  /** the BAR mapping itself */
  target: boolean;
}

export interface Analysis {
  result: MapResult;
  /** page number of the mapping (when the mmap succeeded) and its length in pages */
  startPg: number | null;
  pages: number;
  /** the mapping and up to NEIGHBOURS VMAs on each side, ascending */
  vmas: VmaView[];
  runs: LeafRun[];
  ms: number;
}

export const NEIGHBOURS = 3;

function vmaName(file: { id: string; kind: string } | null, name: string | null): string {
  if (name) return name;
  if (file === null) return 'anonymous';
  // the typical process is the recorder's own (kernels/process-template.ts): its image is
  // "kreplay", which means nothing to a reader, so it is shown as what it is
  if (file.id === 'process:kreplay') return 'program image';
  if (file.id.startsWith('process:')) return file.id.slice('process:'.length);
  return file.kind === 'vfio-pci' ? 'vfio device' : file.id;
}

/** The leaves over [start, end) as runs of one size, in address order, by the arch's table geometry. */
export function leafRuns(pt: PageTables, start: number, end: number, geo: ArchGeometry = x86_64): LeafRun[] {
  const PMD_PAGES = geo.pmdPages;
  const PUD_PAGES = geo.pudPages;
  const runs: LeafRun[] = [];
  const push = (s: number, e: number, size: LeafSize, count: number) => {
    const last = runs[runs.length - 1];
    if (last && last.size === size && last.end === s) {
      last.end = e;
      last.count += count;
    } else runs.push({ start: s, end: e, size, count });
  };
  for (let g = Math.floor(start / PUD_PAGES); g * PUD_PAGES < end; g++) {
    const e = pt.pud.get(g);
    if (e === undefined) continue;
    const lo = Math.max(start, g * PUD_PAGES);
    const hi = Math.min(end, (g + 1) * PUD_PAGES);
    if (typeof e === 'number') {
      push(lo, hi, 'pud', 1);
      continue;
    }
    for (let m = Math.floor(lo / PMD_PAGES); m * PMD_PAGES < hi; m++) {
      const sl = m % geo.ptrsPerTable;
      const k = e.kind[sl];
      if (k === SLOT_NONE) continue;
      const mlo = Math.max(lo, m * PMD_PAGES);
      const mhi = Math.min(hi, (m + 1) * PMD_PAGES);
      if (k === SLOT_LEAF) {
        push(mlo, mhi, 'pmd', 1);
        continue;
      }
      const base = m * PMD_PAGES;
      // each stretch of present entries, one push per stretch
      for (let i = mlo - base; i < mhi - base; ) {
        const a = e.nextPresent(sl, i, mhi - base);
        if (a === mhi - base) break;
        const b = e.nextEmpty(sl, a, mhi - base);
        push(base + a, base + b, 'pte', b - a);
        i = b;
      }
    }
  }
  return runs;
}

/** Map and touch one BAR window under one variant, keeping the process to describe it. */
export function analyze(req: Request): Analysis {
  const t0 = typeof performance !== 'undefined' ? performance.now() : Date.now();
  const arch = archOf(req.arch);
  const p = new VfioProcess(requireVariant(req.variant), { thpEnabled: req.thp }, { arch });
  const result = mapAndTouch(req.variant, req.device, req.bar, req.offset, req.len, { thpEnabled: req.thp }, p, arch);
  const pages = Math.ceil(req.len / arch.pageSize);
  let startPg: number | null = null;
  let vmas: VmaView[] = [];
  let runs: LeafRun[] = [];
  if (result.addr !== null) {
    const a = Number(BigInt(result.addr) >> BigInt(arch.pageShift));
    startPg = a;
    const all = p.mm.tree.toArray();
    const i = all.findIndex((v) => v.start === a);
    vmas = all.slice(Math.max(0, i - NEIGHBOURS), i + NEIGHBOURS + 1).map((v) => ({
      start: v.start, end: v.end, perms: permsOf(v.flags), name: vmaName(v.file, v.name), target: v.start === a,
    }));
    runs = leafRuns(p.mm.pgtables, a, a + pages, arch);
  }
  const t1 = typeof performance !== 'undefined' ? performance.now() : Date.now();
  return { result, startPg, pages, vmas, runs, ms: t1 - t0 };
}

export { VARIANTS, VARIANT_NAMES, SHOWCASE_NAMES, RECIPE_VARIANT_NAMES, variantByName, PRESET_NAMES, InputError, mapAndTouch, ARCH_NAMES, x86_64 };
export type { VariantName, Device, Region, MapResult, Arch, ArchGeometry };
