// A port of the checks of awilliam/tests vfio-pci-device-map-alignment.c: for every
// mmap-able BAR, LOOPS hint-less mmap()+munmap() pairs check (a) the alignment of a full-BAR
// mapping, (b) mappings from random offsets to the end of the BAR, (c) mappings of random
// sizes from offset 0 — with glibc's unseeded random(), the same thresholds and the same
// output lines. It runs against any device description and any kernel variant.

import type { Device } from '../devices/device.js';
import { GlibcRandom } from '../lib/glibc-random.js';
import { VfioProcess } from './process.js';
import { VFIO_PCI_OFFSET_SHIFT } from './pci.js';
import { sysMunmap } from '../mm/mmap.js';
import { strerror, MAP_SHARED, PROT_READ, PROT_WRITE } from '../mm/uapi.js';
import type { Split } from '../lib/u64.js';

export const LOOPS = 1_000_000;
const VFIO_PCI_NUM_REGIONS = 9;
const VFIO_PCI_NUM_IRQS = 5;
const VFIO_REGION_INFO_FLAG_READ = 0x1;
const VFIO_REGION_INFO_FLAG_WRITE = 0x2;
const VFIO_REGION_INFO_FLAG_MMAP = 0x4;

export interface AlignTestResult {
  lines: string[];
  /** the program's exit status: 0, or 255 for exit(-1) */
  exitCode: number;
}

/**
 * The program's own page: it steps offsets and sizes by 4096 and counts pages as size >> 12
 * whatever the kernel's page size (on a 16K or 64K kernel its unaligned offsets fail).
 */
const PROGRAM_PAGE = 4096;
const PROGRAM_PAGE_SHIFT = 12;

/** The program's alignment demand for a mapping of `bytes`: 12, 21 or 30 bits. */
const needFor = (bytes: number) => (bytes < 2 ** 21 ? 12 : bytes < 2 ** 30 ? 21 : 30);

const hex = (n: number) => n.toString(16);

function ctzNum(n: number): number {
  if (n === 0) return 64;
  // n < 2^53: its low 32 bits (ToUint32 is exact modulo 2^32), else the bits above them
  const lo = n >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(n / 2 ** 32) >>> 0;
  return 63 - Math.clz32(hi & -hi);
}

/** bdf "dddd:bb:dd.f" → the numbers the program prints */
function bdfParts(bdf: string): [number, number, number, number] {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(bdf);
  if (!m) return [0, 0, 0, 0];
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16), Number(m[4])];
}

export function runAlignTest(p: VfioProcess, dev: Device, opts: { loops?: number; group?: number; out?: (line: string) => void } = {}): AlignTestResult {
  const loops = opts.loops ?? LOOPS;
  const lines: string[] = [];
  const say = (l: string) => {
    lines.push(l);
    opts.out?.(l);
  };
  const bdf = dev.bdf ?? '0000:00:00.0';
  const [dom, bus, slot, fn] = bdfParts(bdf);
  const p2 = (n: number, w: number) => n.toString(16).padStart(w, '0');
  say(`Using device ${p2(dom, 4)}:${p2(bus, 2)}:${p2(slot, 2)}.${fn} in IOMMU group ${opts.group ?? 0}`);
  const extra = dev.regions.filter((r) => r.index >= VFIO_PCI_NUM_REGIONS).length;
  say(`Device ${bdf} supports ${VFIO_PCI_NUM_REGIONS + extra} regions, ${VFIO_PCI_NUM_IRQS} irqs`);
  const file = p.openDevice(dev);
  // addresses come back as page numbers of the kernel's page size
  const ps = p.mm.arch.pageSize;
  const shift = p.mm.arch.pageShift;
  /** trailing zero bits of the address of page number `pages` (64 for NULL) */
  const ctzPages = (pages: number) => (pages === 0 ? 64 : shift + ctzNum(pages));
  /** %p of that address */
  const ptr = (pages: number) => (pages === 0 ? '(nil)' : '0x' + (pages * ps).toString(16));
  const rnd = new GlibcRandom();
  const addr: Split = { pg: 0, sub: 0 };
  const len: Split = { pg: 0, sub: 0 };
  const off: Split = { pg: 0, sub: 0 };
  const at: Split = { pg: 0, sub: 0 };
  const prot = PROT_READ | PROT_WRITE;
  /** mmap(NULL, size, RW, MAP_SHARED, fd, offset) then munmap; the address, or -errno */
  const mapOnce = (size: number, offset: number): number => {
    len.pg = Math.floor(size / ps);
    len.sub = size - len.pg * ps; // (no float %: it is a call to fmod)
    off.pg = Math.floor(offset / ps);
    off.sub = offset - off.pg * ps;
    const va = p.mmap(addr, len, prot, MAP_SHARED, file, off);
    if (va >= 0) {
      at.pg = va;
      sysMunmap(p.mm, at, len);
    }
    return va;
  };
  const mmapFailed = (va: number): AlignTestResult => {
    say(`mmap failed: ${strerror(-va)}`);
    return { lines, exitCode: 255 };
  };

  for (let i = 0; i < 6; i++) {
    const r = dev.regions.find((x) => x.index === i);
    const size = r?.size ?? 0;
    if (size === 0) continue;
    const regionOffset = i * 2 ** VFIO_PCI_OFFSET_SHIFT; // VFIO_PCI_INDEX_TO_OFFSET(i)
    let flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    // the kernel's flag: a memory BAR vfio-pci lets you mmap, of at least a page
    if (r!.kind === 'bar' && r!.mmap && !r!.io && size >= ps) flags |= VFIO_REGION_INFO_FLAG_MMAP;
    say(`[BAR${i}]: size 0x${hex(size)}, order ${ctzNum(size)}, offset 0x${hex(regionOffset)}, flags 0x${hex(flags)}`);
    if (size < PROGRAM_PAGE || !(flags & VFIO_REGION_INFO_FLAG_MMAP)) {
      say('Skipped');
      continue;
    }

    // (a) minimum alignment of a full-BAR mapping
    const need = needFor(size);
    say(`Testing BAR${i}, require at least ${need} bit alignment`);
    let orMask = 0; // OR of the page numbers: all VAs are page aligned
    for (let k = 0; k < loops; k++) {
      const va = mapOnce(size, regionOffset);
      if (va < 0) return mmapFailed(va);
      const got = ctzPages(va);
      if (got < need) {
        say(`Failed minimum alignment, got order ${got} want ${need} (${ptr(va)})`);
        return { lines, exitCode: 255 };
      }
      orMask = orBits(orMask, va);
    }
    say(`[PASS] Minimum alignment ${ctzPages(orMask)}`);

    const pgs = Math.floor(size / 2 ** PROGRAM_PAGE_SHIFT);
    if (pgs > 1) {
      // (b) random offsets, mapped to the end of the BAR
      for (let k = 0; k < loops; k++) {
        const offset = (rnd.next() % pgs) * PROGRAM_PAGE;
        const sz = size - offset;
        let req = ctzNum(orBits(offset, sz));
        req = req > 30 ? 30 : req > 21 ? 21 : 12;
        const va = mapOnce(sz, regionOffset + offset);
        if (va < 0) return mmapFailed(va);
        const got = ctzPages(va);
        if (got < req) {
          say(`Failed random offset, got order ${got} want ${req} offset ${hex(offset)} (${ptr(va)})`);
          return { lines, exitCode: 255 };
        }
      }
      say('[PASS] Random offset');

      // (c) random sizes from offset 0: a failure is reported, never fatal
      for (let k = 0; k < loops; k++) {
        const unmapped = (rnd.next() % pgs) * PROGRAM_PAGE;
        const sz = size - unmapped;
        if (sz === 0) continue;
        const req = needFor(sz);
        const va = mapOnce(sz, regionOffset);
        if (va < 0) return mmapFailed(va);
        const got = ctzPages(va);
        if (got < req) say(`Failed random size, got order ${got} want ${req} size ${hex(sz)} (${ptr(va)})`);
      }
      say('[PASS] Random size');
    }
  }
  return { lines, exitCode: 0 };
}

/** a | b for integers below 2^53 (the low 32 bits and the rest, each exact) */
function orBits(a: number, b: number): number {
  const hi = (Math.floor(a / 2 ** 32) | Math.floor(b / 2 ** 32)) >>> 0;
  const lo = ((a >>> 0) | (b >>> 0)) >>> 0;
  return hi * 2 ** 32 + lo;
}
