// pfnmap-device/1: a PCI device as VFIO exposes it (docs/device-format.md).
// Physical addresses and sizes are bytes held in plain numbers: physical address spaces
// are at most 52 bits wide, so every value is an exact integer below 2^53.

import { InputError, hexField, show } from '../trace/input-error.js';

export type RegionKind = 'bar' | 'rom' | 'config' | 'vga' | 'other';

export interface Region {
  /** VFIO region index: 0–5 BARs, 6 ROM, 7 config, 8 VGA, higher device specific. */
  index: number;
  kind: RegionKind;
  /** Physical start (pci_resource_start) in bytes; 0 when absent. */
  start: number;
  /** Size in bytes; 0 when the region is absent. */
  size: number;
  mem64: boolean;
  prefetchable: boolean;
  /** An I/O-port BAR (never mmap-able). */
  io: boolean;
  /** VFIO_REGION_INFO_FLAG_MMAP */
  mmap: boolean;
  /** what lspci said of a BAR beyond its address: see REGION_STATUSES */
  status?: RegionStatus;
}

/**
 * lspci's words for a BAR that is not simply assigned and decoded: `<ignored>` and
 * `<unassigned>` (no address), `<broken-64-bit-slot>`, `[disabled]` (memory decoding is off:
 * vfio-pci turns it on when the device is opened, so the BAR still maps) and `[virtual]` (an
 * SR-IOV VF's BAR, which the VF's config space does not hold: it maps like any other).
 */
export const REGION_STATUSES = ['ignored', 'unassigned', 'broken', 'disabled', 'virtual'] as const;
export type RegionStatus = (typeof REGION_STATUSES)[number];

export interface Device {
  format: 'pfnmap-device/1';
  name: string;
  bdf?: string;
  vendor?: string;
  device?: string;
  source?: string;
  regions: Region[];
}

/** The widest physical address space the model accepts (x86_64 and arm64 LPA: 52 bits). */
export const PHYS_LIMIT = 2 ** 52;

export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_VGA_REGION_INDEX = 8;

function kindOfIndex(i: number): RegionKind {
  if (i < VFIO_PCI_ROM_REGION_INDEX) return 'bar';
  if (i === VFIO_PCI_ROM_REGION_INDEX) return 'rom';
  if (i === VFIO_PCI_CONFIG_REGION_INDEX) return 'config';
  if (i === VFIO_PCI_VGA_REGION_INDEX) return 'vga';
  return 'other';
}

function bytes(v: unknown, field: string): number {
  const s = hexField(v, field);
  const n = s.pg * 4096 + s.sub;
  if (s.pg >= PHYS_LIMIT / 4096) throw new InputError(field, `${v} is beyond the 52-bit physical address space`);
  return n;
}

function bool(v: unknown, field: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new InputError(field, `expected true or false, got ${show(v)}`);
  return v;
}

/** A PCI vendor or device ID as "0x" and four lowercase hex digits; an InputError naming field otherwise. */
export function pciId(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^0x[0-9a-f]{4}$/.test(v)) throw new InputError(field, `expected a PCI ID like "0x10de", got ${show(v)}`);
  return v;
}

function isPow2(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** Validate a pfnmap-device/1 object; every problem names its field. */
export function parseDevice(data: unknown, where = 'device'): Device {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InputError(where, 'expected a pfnmap-device/1 object');
  const o = data as Record<string, unknown>;
  if (o.format !== 'pfnmap-device/1') throw new InputError(`${where}.format`, `expected "pfnmap-device/1", got ${show(o.format)}`);
  if (typeof o.name !== 'string' || o.name === '') throw new InputError(`${where}.name`, 'expected a non-empty string');
  for (const k of ['bdf', 'vendor', 'device', 'source'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw new InputError(`${where}.${k}`, 'expected a string');
  }
  // vendor and device are PCI IDs, 16-bit numbers written like every number of the format:
  // "0x10de" (lowercase, 0x, the four digits sysfs and lspci -nn print)
  for (const k of ['vendor', 'device'] as const) if (o[k] !== undefined) pciId(o[k], `${where}.${k}`);
  if (o.bdf !== undefined && !/^[0-9a-f]{4,5}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(o.bdf as string)) {
    throw new InputError(`${where}.bdf`, `expected dddd:bb:dd.f (a 4- or 5-digit domain), got ${show(o.bdf)}`);
  }
  if (!Array.isArray(o.regions)) throw new InputError(`${where}.regions`, 'expected an array');
  const seen = new Set<number>();
  const regions = o.regions.map((rv, i): Region => {
    const f = `${where}.regions[${i}]`;
    if (typeof rv !== 'object' || rv === null) throw new InputError(f, 'expected an object');
    const r = rv as Record<string, unknown>;
    if (!Number.isInteger(r.index) || (r.index as number) < 0 || (r.index as number) > 63) throw new InputError(`${f}.index`, 'expected an integer region index 0–63');
    const index = r.index as number;
    if (seen.has(index)) throw new InputError(`${f}.index`, `region ${index} appears twice`);
    seen.add(index);
    const kind = (r.kind ?? kindOfIndex(index)) as RegionKind;
    if (kind !== kindOfIndex(index)) throw new InputError(`${f}.kind`, `region ${index} is a ${kindOfIndex(index)} region in vfio-pci, not ${show(r.kind)}`);
    const size = bytes(r.size, `${f}.size`);
    const start = r.start === undefined ? 0 : bytes(r.start, `${f}.start`);
    if (size > 0 && kind === 'bar' && r.start === undefined && !(r.io === true)) throw new InputError(`${f}.start`, 'required for a BAR with a non-zero size');
    const io = bool(r.io, `${f}.io`, false);
    if (kind === 'bar' && size > 0 && !io) {
      if (!isPow2(size)) throw new InputError(`${f}.size`, `a memory BAR's size is a power of two, got ${r.size}`);
      if (start % size !== 0) throw new InputError(`${f}.start`, `a BAR is aligned to its size: ${r.start} is not a multiple of ${r.size}`);
    }
    if (start + size > PHYS_LIMIT) throw new InputError(`${f}.size`, 'the region ends beyond the 52-bit physical address space');
    let status: RegionStatus | undefined;
    if (r.status !== undefined) {
      if (typeof r.status !== 'string' || !(REGION_STATUSES as readonly string[]).includes(r.status)) throw new InputError(`${f}.status`, `expected one of ${REGION_STATUSES.join(', ')}, got ${show(r.status)}`);
      status = r.status as RegionStatus;
    }
    const mmap = bool(r.mmap, `${f}.mmap`, kind === 'bar' && size >= 4096 && !io && status !== 'ignored' && status !== 'unassigned' && status !== 'broken');
    if (mmap && (status === 'ignored' || status === 'unassigned' || status === 'broken')) throw new InputError(`${f}.mmap`, `a BAR with no address (${status}) cannot be mmap()ed`);
    // vfio_pci_ioctl_get_region_info(): only memory BARs carry VFIO_REGION_INFO_FLAG_MMAP
    if (mmap && io) throw new InputError(`${f}.mmap`, 'an I/O-port BAR cannot be mmap()ed');
    if (mmap && size === 0) throw new InputError(`${f}.mmap`, 'an absent (size 0) region cannot be mmap()ed');
    if (mmap && (kind === 'rom' || kind === 'config' || kind === 'vga')) throw new InputError(`${f}.mmap`, `vfio-pci never lets the ${kind} region be mmap()ed`);
    return {
      index, kind, start, size, io, mmap, ...(status ? { status } : {}),
      mem64: bool(r.mem64, `${f}.mem64`, false),
      prefetchable: bool(r.prefetchable, `${f}.prefetchable`, false),
    };
  });
  regions.sort((a, b) => a.index - b.index);
  return { format: 'pfnmap-device/1', name: o.name as string, bdf: o.bdf as string | undefined, vendor: o.vendor as string | undefined,
    device: o.device as string | undefined, source: o.source as string | undefined, regions };
}

export function hexBytes(n: number): string {
  return '0x' + n.toString(16);
}

/** The device as a pfnmap-device/1 JSON object. */
export function deviceToJson(d: Device): unknown {
  return {
    format: d.format, name: d.name,
    ...(d.bdf ? { bdf: d.bdf } : {}), ...(d.vendor ? { vendor: d.vendor } : {}), ...(d.device ? { device: d.device } : {}),
    ...(d.source ? { source: d.source } : {}),
    regions: d.regions.map((r) => ({
      index: r.index, kind: r.kind, ...(r.size > 0 && !r.io ? { start: hexBytes(r.start) } : {}), size: hexBytes(r.size),
      ...(r.mem64 ? { mem64: true } : {}), ...(r.prefetchable ? { prefetchable: true } : {}), ...(r.io ? { io: true } : {}), mmap: r.mmap, ...(r.status ? { status: r.status } : {}),
    })),
  };
}

/** "16M", "128G", "16K", "256" */
export function sizeLabel(n: number): string {
  const units: [number, string][] = [[2 ** 40, 'T'], [2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']];
  for (const [u, s] of units) if (n >= u && n % u === 0) return `${n / u}${s}`;
  return String(n);
}
