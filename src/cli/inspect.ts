// pfnmap inspect: a process's /proc/PID/maps (or a saved copy) read into a model process,
// its VFIO device mappings mapped again at exactly their addresses with MAP_FIXED, and
// touched; then what a no-hint mmap of the same window would get under each design, and
// where each BAR not mapped yet would land. The model process holds the VMAs of the maps
// file (src/kernels/linux-6.18.ts addInitialVmas), so every search sees that address space.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { VARIANTS, VARIANT_NAMES, parseVariant, requireVariant, type VariantName } from '../kernels/variants.js';
import { VfioProcess } from '../vfio/process.js';
import { x86_64 } from '../arch/x86_64.js';
import { archByName, archDefaults } from '../arch/index.js';
import type { Arch } from '../arch/arch.js';
import { addInitialVmas } from '../kernels/linux-6.18.js';
import { DEFAULT_CONFIG, type ThpMode } from '../mm/config.js';
import { MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE } from '../mm/uapi.js';
import { sizeLabel, type Device } from '../devices/device.js';
import { InputError } from '../trace/input-error.js';
import { errText } from '../lib/json-file.js';
import { oneLine } from '../lib/text.js';
import { alignmentOf, fmtLeaves, mapAndTouch, touchAndDescribe, type MapResult } from './analyze.js';
import { parseMaps, vfioKind, initialVmaOf, type MapsLine } from './maps.js';
import type { KFile } from '../fs/file.js';

/** The designs a mapping is compared with. */
export const DESIGNS: VariantName[] = ['v1', 'order-arg', 'v2', 'userspace'];
export const RELEASED: VariantName[] = VARIANT_NAMES.filter((n) => VARIANTS[n].kind === 'released');

const REGION_SHIFT = 40n;
const REGION_MASK = (1n << REGION_SHIFT) - 1n;

/** The maps text of `arg`: a PID (all digits: /proc/PID/maps) or a file. */
export function readMapsArg(arg: string): { text: string; source: string; pid: number | null } {
  const pid = /^[1-9][0-9]{0,9}$/.test(arg) ? Number(arg) : null;
  const file = pid === null ? arg : `/proc/${pid}/maps`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError('--maps', `cannot read ${oneLine(JSON.stringify(file))}: ${errText(e)}${pid !== null ? ' (a number is a PID; name a file called that ./' + arg + ')' : ''}`);
  }
  return { text, source: file, pid };
}

/**
 * The default kernels: for a live PID, this machine's kernel down to its point release
 * (`linux-6.18.44`: the base decides which backports it has) when the model knows that base;
 * otherwise — a saved file, which may come from any machine, or another kernel — every
 * released variant.
 */
export function defaultKernels(pid: number | null, release = os.release()): string[] {
  if (pid !== null) {
    const m = /^(\d+\.\d+(?:\.\d+)?)/.exec(release);
    const v = m === null ? null : parseVariant(`linux-${m[1]}`);
    if (v !== null && !('error' in v)) return [v.name];
  }
  return RELEASED;
}

/** THP "enabled" of this machine, for a live PID (always when it cannot be read). */
export function machineThp(): ThpMode {
  try {
    const m = /\[(always|madvise|never)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'));
    if (m) return m[1] as ThpMode;
  } catch {
    /* no THP sysfs: the model's default */
  }
  return 'always';
}

export interface VfioMapping {
  line: number;
  start: string;
  end: string;
  perms: string;
  name: string;
  /** how the fd was opened: through the group (anon inode) or the device cdev */
  fd: 'group' | 'cdev';
  region: number;
  barOffset: number;
  size: number;
  /** the largest power of two dividing the start address, bytes (capped at 1 GiB) */
  vaAlignment: number;
  /** with a device: the physical address the mapping starts at */
  phys?: string;
  /** with a device: the largest power of two (≤ 1 GiB) dividing VA − phys */
  congruence?: number;
  /** with a device: why it is not a mapping of that device's BAR, if it is not */
  problem?: string;
  /** under each kernel asked: it mapped where it is (MAP_FIXED) and every page read once */
  today?: MapResult[];
  /** a no-hint mmap of the same length and offset in this address space, under each variant */
  noHint?: MapResult[];
}

export interface InspectReport {
  source: string;
  vmas: number;
  mmapBase: string;
  /** absent: x86_64 */
  arch?: string;
  device: string | null;
  thp: ThpMode;
  kernels: string[];
  vfio: VfioMapping[];
  /** BARs of the device that no line maps: where the next no-hint mmap of each lands */
  unmapped: { bar: number; size: number; rows: MapResult[] }[];
  notes: string[];
}

/**
 * mmap_base of the process: without randomisation (the stack ends at the top of the 47-bit
 * window, as under setarch -R or norandmaps) the kernel's own formula from RLIMIT_STACK;
 * with it, the end of the highest mapping below the stack, where exec's first mmaps (ld.so,
 * the vDSO) put it — an estimate, and the searches only use it as their upper bound.
 */
export function mmapBaseOf(lines: MapsLine[], a: Arch = x86_64): { base: number; exact: boolean } {
  // the maps' page numbers are of 4 KiB; the base is in pages of the arch
  const f = a.pageSize / 4096;
  const gap = a === x86_64 ? DEFAULT_CONFIG.stackGuardGap : archDefaults(a).stackGuardGap!;
  const dflt = a.mmapBases(DEFAULT_CONFIG.rlimitStack, gap).base;
  const stack = lines.find((l) => l.name === '[stack]');
  // x86_64's stack ends a page below 2^47; arm64's at the top of its window
  const top4k = a === x86_64 ? 2 ** 35 - 1 : a.defaultMapWindow * f;
  if (stack === undefined || stack.end === top4k) return { base: dflt, exact: true };
  let top = 0;
  for (const l of lines) if (l.end <= stack.start && l.end > top) top = l.end;
  return top === 0 ? { base: dflt, exact: false } : { base: Math.ceil(top / f), exact: false };
}

const split = (pg: number) => ({ pg, sub: 0 });

function protOf(perms: string): number {
  return (perms[0] === 'r' ? PROT_READ : 0) | (perms[1] === 'w' ? PROT_WRITE : 0) | (perms[2] === 'x' ? PROT_EXEC : 0);
}

interface Built {
  proc: VfioProcess;
  file: KFile | null;
  /** index in the maps → the model's errno when MAP_FIXED there failed */
  refused: Map<number, number>;
}

/**
 * A model process of variant v holding the maps' VMAs: the other lines as initial VMAs, the
 * VFIO lines (all but `skip`) mapped again with MAP_FIXED on the device; a line the model
 * refuses, or every VFIO line without a device, takes its room as a plain file VMA.
 */
function build(v: string, lines: MapsLine[], dev: Device | undefined, thp: ThpMode, arch: Arch, skip: number | null): Built {
  const f = arch.pageSize / 4096; // maps page numbers are of 4 KiB
  const vfio = lines.map((l) => vfioKind(l) !== null);
  const initial = lines.filter((_l, i) => !vfio[i] || (dev === undefined && i !== skip)).map(initialVmaOf);
  const proc = new VfioProcess(requireVariant(v), { thpEnabled: thp }, { initial, arch });
  const refused = new Map<number, number>();
  if (dev === undefined) return { proc, file: null, refused };
  const file = proc.openDevice(dev);
  lines.forEach((l, i) => {
    if (!vfio[i] || i === skip) return;
    const flags = (l.perms[3] === 's' ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED;
    const r = proc.mmap(split(l.start / f), split((l.end - l.start) / f), protOf(l.perms), flags, file, split(Number(l.offset / BigInt(arch.pageSize))));
    if (r < 0) {
      refused.set(i, -r);
      addInitialVmas(proc.mm, [initialVmaOf(l)]);
    }
  });
  return { proc, file, refused };
}

/** Everything `pfnmap inspect` reports of a maps text. */
export function inspect(text: string, source: string, opts: { device?: Device; kernels: string[]; thp: ThpMode; arch?: Arch }): InspectReport {
  const lines = parseMaps(text, source);
  const { device: dev, kernels, thp } = opts;
  const baseArch = opts.arch ?? x86_64;
  const f = baseArch.pageSize / 4096;
  const ps = baseArch.pageSize;
  for (const l of lines) {
    if (l.start % f !== 0 || l.end % f !== 0) throw new InputError(`${source}:${l.line}`, `0x${(l.start * 4096).toString(16)}-0x${(l.end * 4096).toString(16)} is not made of ${ps}-byte pages: not a process of ${baseArch.name} (--arch)`);
  }
  const mb = mmapBaseOf(lines, baseArch);
  const arch: Arch = mb.exact ? baseArch : { ...baseArch, mmapBases: (r, g) => ({ ...baseArch.mmapBases(r, g), base: mb.base }) };
  const notes: string[] = [];
  if (!mb.exact) notes.push(`the maps show a randomised layout: mmap_base is taken as 0x${(mb.base * ps).toString(16)}, the end of the highest mapping below the stack`);
  const variants: string[] = [...kernels, ...DESIGNS.filter((d) => !kernels.includes(d))];
  const vfio: VfioMapping[] = [];
  const mappedBars = new Set<number>();
  const cdevs = new Set<string>();
  lines.forEach((l, i) => {
    const kind = vfioKind(l);
    if (kind === null) return;
    if (kind === 'cdev') cdevs.add(l.name);
    const region = Number(l.offset >> REGION_SHIFT);
    const barOffset = Number(l.offset & REGION_MASK);
    const size = (l.end - l.start) * 4096;
    const m: VfioMapping = {
      line: l.line, start: '0x' + (l.start * 4096).toString(16), end: '0x' + (l.end * 4096).toString(16), perms: l.perms, name: l.name, fd: kind,
      region, barOffset, size, vaAlignment: alignmentOf(l.start / f, baseArch),
    };
    mappedBars.add(region);
    vfio.push(m);
    if (dev === undefined) return;
    const r = dev.regions.find((x) => x.index === region);
    if (region >= 6) m.problem = `region ${region} is not a BAR (ROM, config, VGA or a device-specific region): not modelled`;
    else if (r === undefined || r.kind !== 'bar' || r.size === 0) m.problem = `the device has no BAR${region}`;
    else if (!r.mmap) m.problem = `BAR${region} of the device cannot be mmap()ed`;
    else {
      const physPg = Math.floor(r.start / ps) + Math.floor(barOffset / ps);
      m.phys = '0x' + (physPg * ps).toString(16);
      m.congruence = alignmentOf(l.start / f - physPg, baseArch);
    }
    if (m.problem !== undefined) return;
    const base = { bar: region, offset: barOffset, size };
    m.today = kernels.map((k) => {
      const b = build(k, lines, dev, thp, arch, null);
      const err = b.refused.get(i);
      if (err !== undefined) return touchAndDescribe(b.proc, -err, { variant: k, ...base });
      return touchAndDescribe(b.proc, l.start / f, { variant: k, ...base });
    });
    const refusedToday = m.today.find((t) => t.error !== null && t.addr === null);
    if (refusedToday) m.problem = `the model refuses MAP_FIXED of it on this device: ${refusedToday.error} (is the device the one this process mapped?)`;
    m.noHint = variants.map((v) => mapAndTouch(v, dev, region, barOffset, size, {}, build(v, lines, dev, thp, arch, i).proc));
  });
  if (cdevs.size > 1) notes.push(`the VFIO mappings come from ${cdevs.size} device files (${[...cdevs].join(', ')}): the one device given describes them all`);
  const unmapped: InspectReport['unmapped'] = [];
  if (dev !== undefined) {
    for (const r of dev.regions) {
      if (r.kind !== 'bar' || !r.mmap || r.size === 0 || mappedBars.has(r.index)) continue;
      unmapped.push({ bar: r.index, size: r.size, rows: variants.map((v) => mapAndTouch(v, dev, r.index, 0, r.size, {}, build(v, lines, dev, thp, arch, null).proc)) });
    }
  } else if (vfio.length > 0) {
    notes.push('no device given: the BAR\'s physical address, congruence and leaves need one (--device, --lspci or --sysfs)');
  }
  if (vfio.length === 0) notes.push('no VFIO device mappings (anon_inode:[vfio-device] or /dev/vfio/devices/vfioN) in these maps');
  return {
    source, vmas: lines.length, mmapBase: '0x' + (mb.base * ps).toString(16), ...(baseArch === x86_64 ? {} : { arch: baseArch.name }), device: dev?.name ?? null, thp, kernels, vfio, unmapped, notes,
  };
}

const n = (x: number) => x.toLocaleString('en-US');
const bytes = (x: number) => (x < 1024 ? `${x} bytes` : sizeLabel(x));

export { fmtLeaves };

function rowLines(rows: MapResult[], indent: string): string[] {
  const out = [indent + ['variant'.padEnd(11), 'address'.padStart(16), 'aligned'.padStart(8), 'faults'.padStart(12), 'TLB entries'.padStart(12), '  leaves'].join('')];
  for (const r of rows) {
    out.push(indent + [r.variant.padEnd(11), (r.addr ?? r.error ?? '-').padStart(16), (r.addr ? sizeLabel(r.alignment) : '-').padStart(8),
      n(r.faults).padStart(12), n(r.tlbEntries).padStart(12), '  ' + fmtLeaves(r.leaves, r.leafBytes) + (r.addr && r.error ? ` (${r.error})` : '')].join(''));
  }
  return out;
}

/** What a congruence allows: the largest leaf of the arch it reaches. */
function congruenceNote(c: number, archName: string | undefined): string {
  const a = archByName(archName ?? 'x86_64')!;
  const pmd = a.pmdPages * a.pageSize;
  const pud = a.pudPages * a.pageSize;
  if (a.pfnmapPud && c >= pud) return ` (congruent for ${sizeLabel(pud)} leaves)`;
  if (c >= pmd) return a.pfnmapPud ? ` (congruent for ${sizeLabel(pmd)} leaves, not ${sizeLabel(pud)})` : ` (congruent for ${sizeLabel(pmd)} leaves, the largest on ${a.name})`;
  return ' (no huge leaf can be congruent)';
}

/** The report as text. */
export function inspectText(r: InspectReport): string[] {
  const out: string[] = [];
  out.push(`${r.source}: ${n(r.vmas)} mappings, ${r.vfio.length} VFIO device mapping${r.vfio.length === 1 ? '' : 's'}; mmap_base ${r.mmapBase}${r.arch ? `; ${r.arch}` : ''}`);
  out.push(r.device === null ? 'no device given' : `device: ${r.device}; THP "${r.thp}"; kernels ${r.kernels.join(', ')}`);
  for (const m of r.vfio) {
    out.push('');
    out.push(`line ${m.line}: ${m.start}-${m.end} ${m.perms} ${m.name}`);
    const what = m.region < 6 ? `BAR${m.region}` : `region ${m.region}`;
    out.push(`  ${what} (region index ${m.region} = offset >> 40) from 0x${m.barOffset.toString(16)}, ${bytes(m.size)}; VA aligned to ${sizeLabel(m.vaAlignment)}`);
    if (m.phys !== undefined) out.push(`  maps physical 0x${m.phys.slice(2)}: VA − phys is a multiple of ${sizeLabel(m.congruence!)}${congruenceNote(m.congruence!, r.arch)}`);
    if (m.problem !== undefined) out.push(`  ${m.problem}`);
    if (m.today !== undefined && !m.problem) {
      out.push('  today, where it is, every page read once:');
      out.push(...rowLines(m.today, '    '));
    }
    if (m.noHint !== undefined) {
      out.push('  a no-hint mmap of the same length and offset in this address space instead:');
      out.push(...rowLines(m.noHint, '    '));
    }
  }
  for (const u of r.unmapped) {
    out.push('');
    out.push(`BAR${u.bar} (${bytes(u.size)}) is not mapped: the next no-hint mmap of the whole BAR would get`);
    out.push(...rowLines(u.rows, '    '));
  }
  if (r.notes.length) out.push('', ...r.notes.map((x) => `note: ${x}`));
  return out;
}
