// Import devices from sysfs: /sys/bus/pci/devices/BDF/resource (one "start end flags" line
// per resource: BAR0–5, the ROM, then bridge windows) plus, when present, vendor and device;
// or /sys/bus/pci/devices itself, whose entries (symlinks named by BDF) are every device.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../trace/input-error.js';
import { parseDevice, pciId, type Device } from './device.js';
import { normaliseBdf } from './lspci.js';
import { oneLine, show } from '../lib/text.js';
import { errText } from '../lib/json-file.js';

const IORESOURCE_IO = 0x100;
const IORESOURCE_MEM = 0x200;
const IORESOURCE_PREFETCH = 0x2000;
const IORESOURCE_MEM_64 = 0x100000;

/** Parse the text of a `resource` file; `where` names it in errors. */
export function importSysfsResource(text: string, name = 'PCI device (sysfs)', bdf?: string, where = 'resource'): Device {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 7) throw new InputError(where, `expected at least 7 lines (BAR0–5 and the ROM), got ${lines.length}`);
  const regions: Record<string, unknown>[] = [];
  for (let i = 0; i < 7; i++) {
    const m = /^\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s*$/i.exec(lines[i]);
    if (!m) throw new InputError(`${where} line ${i + 1}`, `expected "0x<start> 0x<end> 0x<flags>", got ${JSON.stringify(lines[i])}`);
    const start = BigInt(m[1]);
    const end = BigInt(m[2]);
    const flags = Number(BigInt(m[3]) & 0xffffffffn);
    if (end < start && !(start === 0n && end === 0n)) throw new InputError(`${where} line ${i + 1}`, 'end is below start');
    const size = start === 0n && end === 0n ? 0n : end - start + 1n;
    const index = i;
    const kind = i === 6 ? 'rom' : 'bar';
    if (size === 0n) {
      regions.push({ index, kind, size: '0x0' });
      continue;
    }
    const io = (flags & IORESOURCE_IO) !== 0 && (flags & IORESOURCE_MEM) === 0;
    regions.push({
      index, kind, start: '0x' + start.toString(16), size: '0x' + size.toString(16),
      ...(io ? { io: true } : {}),
      mem64: (flags & IORESOURCE_MEM_64) !== 0,
      prefetchable: (flags & IORESOURCE_PREFETCH) !== 0,
      mmap: kind === 'bar' && !io && size >= 4096n,
    });
  }
  regions.push({ index: 7, kind: 'config', size: '0x1000', mmap: false });
  return parseDevice({ format: 'pfnmap-device/1', name, ...(bdf ? { bdf } : {}), source: 'sysfs resource file', regions }, where);
}

/** A device directory's name: dddd:bb:dd.f (five-digit VMD domains too). */
const BDF_NAME = /^[0-9a-f]{4,5}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

/** Read /sys/bus/pci/devices/BDF (or any directory holding resource, vendor, device). */
export function importSysfsDir(dir: string): Device {
  const read = (f: string) => {
    try {
      return fs.readFileSync(path.join(dir, f), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const resource = read('resource');
  if (resource === undefined) throw new InputError(oneLine(dir), 'no readable "resource" file (expected /sys/bus/pci/devices or a /sys/bus/pci/devices/BDF directory)');
  const base = path.basename(path.resolve(dir));
  const bdf = BDF_NAME.test(base) ? normaliseBdf(base) : undefined;
  const d = importSysfsResource(resource, `PCI device ${bdf ?? base}`, bdf, oneLine(path.join(dir, 'resource')));
  // checked as a device file's vendor and device are, naming the file that is wrong
  const vendor = read('vendor');
  const device = read('device');
  if (vendor) pciId(vendor, path.join(dir, 'vendor'));
  if (device) pciId(device, path.join(dir, 'device'));
  return { ...d, ...(vendor ? { vendor } : {}), ...(device ? { device } : {}) };
}

/**
 * The device directories of /sys/bus/pci/devices (or a copy of it): entries named by BDF
 * (symlinks into /sys/devices in a real sysfs), sorted by BDF; null when dir is not such a
 * directory (it has a resource file of its own, or no entry named by a BDF).
 */
export function sysfsDeviceDirs(dir: string): { bdf: string; dir: string }[] | null {
  if (fs.existsSync(path.join(dir, 'resource'))) return null;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new InputError(oneLine(dir), `cannot read the directory: ${errText(e)}`);
  }
  const devs = names.filter((n) => BDF_NAME.test(n)).map((n) => ({ bdf: normaliseBdf(n), dir: path.join(dir, n) }));
  if (devs.length === 0) return null;
  return devs.sort((a, b) => (a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0));
}

/** Every device of a sysfs directory: the devices of /sys/bus/pci/devices, or the one device. */
export function importSysfsAll(dir: string): Device[] {
  const devs = sysfsDeviceDirs(dir);
  return devs === null ? [importSysfsDir(dir)] : devs.map((d) => importSysfsDir(d.dir));
}

/**
 * One device from sysfs: a device directory, or the device at `bdf` of /sys/bus/pci/devices
 * (which must name one when it holds several), as importLspci picks one of a listing.
 */
export function importSysfs(dir: string, bdf?: string): Device {
  const devs = sysfsDeviceDirs(dir);
  const list = (ds: { bdf: string }[]) => (ds.length > 6 ? `${ds.slice(0, 6).map((d) => d.bdf).join(', ')}, …` : ds.map((d) => d.bdf).join(', '));
  if (devs === null) {
    const d = importSysfsDir(dir);
    if (bdf !== undefined && d.bdf !== undefined && d.bdf !== normaliseBdf(bdf)) throw new InputError('--bdf', `the device is ${d.bdf}, not ${show(bdf)}`);
    return d;
  }
  if (bdf !== undefined) {
    const want = normaliseBdf(bdf);
    const d = devs.find((x) => x.bdf === want);
    if (!d) throw new InputError('--bdf', `no device ${show(bdf)} in ${oneLine(dir)} (${list(devs)})`);
    return importSysfsDir(d.dir);
  }
  if (devs.length > 1) throw new InputError(oneLine(dir), `holds ${devs.length} devices (${list(devs)}): choose one with --bdf`);
  return importSysfsDir(devs[0].dir);
}
