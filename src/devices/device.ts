// pfnmap-device/1: a PCI device as VFIO exposes it (docs/device-format.md).
// Physical addresses and sizes are bytes held in plain numbers: physical address spaces
// are at most 52 bits wide, so every value is an exact integer below 2^53.

import { InputError, hexField, show } from '../trace/input-error.js';

export type RegionKind = 'bar' | 'rom' | 'config' | 'vga' | 'other' | 'mmio';

/**
 * The vfio_device driver the device is bound to: vfio-pci itself, the nvgrace-gpu variant
 * driver (drivers/vfio/pci/nvgrace-gpu), or vfio-platform (drivers/vfio/platform). Each
 * has its own vfio_device_ops (src/vfio/drivers.ts); a file without `driver` is vfio-pci.
 */
export const DRIVERS = ['vfio-pci', 'nvgrace-gpu', 'vfio-platform'] as const;
export type DriverName = (typeof DRIVERS)[number];

/** One VFIO_REGION_INFO_CAP_SPARSE_MMAP area: the part of a region mmap() may cover, in bytes. */
export interface SparseArea {
  offset: number;
  size: number;
}

/** nvgrace-gpu's device memory as the ACPI DSD properties give it (nvidia,gpu-mem-base-pa / -size). */
export interface DevMem {
  start: number;
  size: number;
  /** Grace Hopper's MIG hardware bug: 1 GiB of uncached resmem is carved from the end */
  migHwBug: boolean;
}

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
  /** VFIO_REGION_INFO_CAP_SPARSE_MMAP: the areas mmap() may cover (absent: the whole region) */
  sparse?: SparseArea[];
  /**
   * nvgrace-gpu's fake BARs (regions 2 and 4): the device memory behind the region. `start`
   * is then memphys and `size` the reported bar_size, roundup_pow_of_two(memlength).
   */
  memlength?: number;
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
  /** absent: vfio-pci */
  driver?: DriverName;
  /** nvgrace-gpu only: the device memory its fake BARs 2 and 4 are made from */
  devmem?: DevMem;
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
  if (o.driver !== undefined && (typeof o.driver !== 'string' || !(DRIVERS as readonly string[]).includes(o.driver))) {
    throw new InputError(`${where}.driver`, `expected one of ${DRIVERS.join(', ')}, got ${show(o.driver)}`);
  }
  const driver = (o.driver ?? 'vfio-pci') as DriverName;
  const kindOf = driver === 'vfio-platform' ? () => 'mmio' as RegionKind : kindOfIndex;
  if (o.devmem !== undefined && driver !== 'nvgrace-gpu') throw new InputError(`${where}.devmem`, `only nvgrace-gpu exposes device memory regions; this device's driver is ${driver}`);
  if (driver === 'nvgrace-gpu' && o.devmem === undefined) throw new InputError(`${where}.devmem`, 'required for nvgrace-gpu: the device memory (start, size) its fake BARs 2 and 4 expose');
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
    const kind = (r.kind ?? kindOf(index)) as RegionKind;
    if (kind !== kindOf(index)) throw new InputError(`${f}.kind`, `region ${index} is a ${kindOf(index)} region in ${driver}, not ${show(r.kind)}`);
    // nvgrace_gpu_memregion(): BAR2/3 (resmem) and BAR4/5 (usemem) are the driver's fake BARs
    if (driver === 'nvgrace-gpu' && index >= 2 && index <= 5) {
      throw new InputError(`${f}.index`, `region ${index} is one of nvgrace-gpu's fake BARs (2/3 resmem, 4/5 usemem), made from devmem: do not list it`);
    }
    const size = bytes(r.size, `${f}.size`);
    const start = r.start === undefined ? 0 : bytes(r.start, `${f}.start`);
    if (size > 0 && kind === 'bar' && r.start === undefined && !(r.io === true)) throw new InputError(`${f}.start`, 'required for a BAR with a non-zero size');
    if (size > 0 && kind === 'mmio' && r.start === undefined) throw new InputError(`${f}.start`, 'required for an MMIO region with a non-zero size');
    if (kind === 'mmio' && r.io === true) throw new InputError(`${f}.io`, 'vfio-platform models MMIO regions only (its PIO regions are never mmap()ed)');
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
    // vfio_platform_regions_init(): only page-aligned regions get VFIO_REGION_INFO_FLAG_MMAP
    const pageAligned = start % 4096 === 0 && size % 4096 === 0;
    const mmap = bool(r.mmap, `${f}.mmap`, kind === 'mmio' ? size >= 4096 && pageAligned : kind === 'bar' && size >= 4096 && !io && status !== 'ignored' && status !== 'unassigned' && status !== 'broken');
    if (mmap && kind === 'mmio' && !pageAligned) throw new InputError(`${f}.mmap`, 'vfio-platform offers mmap only for a region whose start and size are page aligned');
    if (mmap && (status === 'ignored' || status === 'unassigned' || status === 'broken')) throw new InputError(`${f}.mmap`, `a BAR with no address (${status}) cannot be mmap()ed`);
    // vfio_pci_ioctl_get_region_info(): only memory BARs carry VFIO_REGION_INFO_FLAG_MMAP
    if (mmap && io) throw new InputError(`${f}.mmap`, 'an I/O-port BAR cannot be mmap()ed');
    if (mmap && size === 0) throw new InputError(`${f}.mmap`, 'an absent (size 0) region cannot be mmap()ed');
    if (mmap && (kind === 'rom' || kind === 'config' || kind === 'vga')) throw new InputError(`${f}.mmap`, `vfio-pci never lets the ${kind} region be mmap()ed`);
    if (r.memlength !== undefined) throw new InputError(`${f}.memlength`, 'set by nvgrace-gpu from devmem, never given');
    const sparse = r.sparse === undefined ? undefined : sparseAreas(r.sparse, `${f}.sparse`, size, mmap);
    return {
      index, kind, start, size, io, mmap, ...(status ? { status } : {}), ...(sparse ? { sparse } : {}),
      mem64: bool(r.mem64, `${f}.mem64`, false),
      prefetchable: bool(r.prefetchable, `${f}.prefetchable`, false),
    };
  });
  let devmem: DevMem | undefined;
  if (driver === 'nvgrace-gpu') {
    devmem = devMem(o.devmem, `${where}.devmem`);
    regions.push(...nvgraceRegions(devmem, `${where}.devmem`));
  }
  regions.sort((a, b) => a.index - b.index);
  return { format: 'pfnmap-device/1', name: o.name as string, bdf: o.bdf as string | undefined, vendor: o.vendor as string | undefined,
    device: o.device as string | undefined, source: o.source as string | undefined,
    ...(o.driver !== undefined ? { driver } : {}), ...(devmem ? { devmem } : {}), regions };
}

/** VFIO_REGION_INFO_CAP_SPARSE_MMAP areas: page aligned, inside the region, ascending, disjoint. */
function sparseAreas(v: unknown, f: string, regionSize: number, mmap: boolean): SparseArea[] {
  if (!Array.isArray(v)) throw new InputError(f, 'expected an array of { offset, size } areas');
  if (!mmap) throw new InputError(f, 'sparse mmap areas belong to a region VFIO lets you mmap() (mmap: true)');
  let end = 0;
  return v.map((av, i) => {
    const g = `${f}[${i}]`;
    if (typeof av !== 'object' || av === null || Array.isArray(av)) throw new InputError(g, 'expected { offset, size }');
    const a = av as Record<string, unknown>;
    const offset = bytes(a.offset, `${g}.offset`);
    const size = bytes(a.size, `${g}.size`);
    if (offset % 4096 !== 0) throw new InputError(`${g}.offset`, `a sparse mmap area starts on a page boundary, got ${a.offset}`);
    if (size === 0 || size % 4096 !== 0) throw new InputError(`${g}.size`, `a sparse mmap area is a non-zero number of pages, got ${a.size}`);
    if (offset < end) throw new InputError(`${g}.offset`, 'areas are ascending and do not overlap');
    if (offset + size > regionSize) throw new InputError(`${g}.size`, `the area ends at 0x${(offset + size).toString(16)}, past the region's 0x${regionSize.toString(16)}`);
    end = offset + size;
    return { offset, size };
  });
}

function devMem(v: unknown, f: string): DevMem {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(f, 'expected { start, size, migHwBug }');
  const o = v as Record<string, unknown>;
  const start = bytes(o.start, `${f}.start`);
  const size = bytes(o.size, `${f}.size`);
  // nvgrace_gpu_fetch_memory_property(): a size of 0 means the C2C link is down
  if (size === 0) throw new InputError(`${f}.size`, 'nvgrace-gpu refuses a device whose memory size is 0 (the C2C link is down: -ENOMEM)');
  if (start % 4096 !== 0 || size % 4096 !== 0) throw new InputError(f, 'the model takes page-aligned device memory (start and size multiples of 4 KiB)');
  if (start + size > PHYS_LIMIT) throw new InputError(`${f}.size`, 'the device memory ends beyond the 52-bit physical address space');
  return { start, size, migHwBug: bool(o.migHwBug, `${f}.migHwBug`, false) };
}

const SZ_512M = 2 ** 29;
const SZ_1G = 2 ** 30;

function roundupPow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

/**
 * nvgrace_gpu_init_nvdev_struct() and nvgrace_gpu_ioctl_get_region_info(): the usemem
 * region 4 (cached) and, with the MIG hardware bug of Grace Hopper, the resmem region 2
 * (the last 1 GiB, uncached), each reported as a 64-bit prefetchable BAR of
 * roundup_pow_of_two(memlength) bytes with one sparse mmap area [0, memlength).
 */
export function nvgraceRegions(d: DevMem, f = 'devmem'): Region[] {
  const resmem = d.migHwBug ? SZ_1G : 0;
  if (d.size <= resmem) throw new InputError(`${f}.size`, `nvgrace-gpu carves 1 GiB of resmem from the end: 0x${d.size.toString(16)} leaves no usemem (-EOVERFLOW)`);
  let use = d.size - resmem;
  if (d.migHwBug) use = Math.floor(use / SZ_512M) * SZ_512M; // usemem is MEMBLK_SIZE aligned
  if (use === 0) throw new InputError(`${f}.size`, 'usemem rounds down to 0 (MEMBLK_SIZE is 512 MiB): nvgrace-gpu refuses the device (-EINVAL)');
  const fake = (index: number, memphys: number, memlength: number): Region[] => [
    { index, kind: 'bar', start: memphys, size: roundupPow2(memlength), mem64: true, prefetchable: true, io: false, mmap: true,
      sparse: [{ offset: 0, size: memlength }], memlength },
    { index: index + 1, kind: 'bar', start: 0, size: 0, mem64: false, prefetchable: false, io: false, mmap: false },
  ];
  return [...fake(4, d.start, use), ...(d.migHwBug ? fake(2, d.start + use, d.size - use) : [])];
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
    ...(d.driver ? { driver: d.driver } : {}),
    ...(d.devmem ? { devmem: { start: hexBytes(d.devmem.start), size: hexBytes(d.devmem.size), migHwBug: d.devmem.migHwBug } } : {}),
    // nvgrace-gpu's fake BARs are made from devmem again on reading
    regions: d.regions.filter((r) => !(d.driver === 'nvgrace-gpu' && r.index >= 2 && r.index <= 5)).map((r) => ({
      index: r.index, kind: r.kind, ...(r.size > 0 && !r.io ? { start: hexBytes(r.start) } : {}), size: hexBytes(r.size),
      ...(r.mem64 ? { mem64: true } : {}), ...(r.prefetchable ? { prefetchable: true } : {}), ...(r.io ? { io: true } : {}), mmap: r.mmap, ...(r.status ? { status: r.status } : {}),
      ...(r.sparse ? { sparse: r.sparse.map((a) => ({ offset: hexBytes(a.offset), size: hexBytes(a.size) })) } : {}),
    })),
  };
}

/** "16M", "128G", "16K", "256" */
export function sizeLabel(n: number): string {
  const units: [number, string][] = [[2 ** 40, 'T'], [2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']];
  for (const [u, s] of units) if (n >= u && n % u === 0) return `${n / u}${s}`;
  return String(n);
}
