// Import a device from sysfs: /sys/bus/pci/devices/BDF/resource (one "start end flags" line
// per resource: BAR0–5, the ROM, then bridge windows) plus, when present, vendor and device.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../trace/input-error.js';
import { parseDevice, pciId, type Device } from './device.js';

const IORESOURCE_IO = 0x100;
const IORESOURCE_MEM = 0x200;
const IORESOURCE_PREFETCH = 0x2000;
const IORESOURCE_MEM_64 = 0x100000;

/** Parse the text of a `resource` file. */
export function importSysfsResource(text: string, name = 'PCI device (sysfs)', bdf?: string): Device {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 7) throw new InputError('resource', `expected at least 7 lines (BAR0–5 and the ROM), got ${lines.length}`);
  const regions: Record<string, unknown>[] = [];
  for (let i = 0; i < 7; i++) {
    const m = /^\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s*$/i.exec(lines[i]);
    if (!m) throw new InputError(`resource line ${i + 1}`, `expected "0x<start> 0x<end> 0x<flags>", got ${JSON.stringify(lines[i])}`);
    const start = BigInt(m[1]);
    const end = BigInt(m[2]);
    const flags = Number(BigInt(m[3]) & 0xffffffffn);
    if (end < start && !(start === 0n && end === 0n)) throw new InputError(`resource line ${i + 1}`, 'end is below start');
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
  return parseDevice({ format: 'pfnmap-device/1', name, ...(bdf ? { bdf } : {}), source: 'sysfs resource file', regions }, 'resource');
}

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
  if (resource === undefined) throw new InputError(dir, 'no readable "resource" file (expected a /sys/bus/pci/devices/BDF directory)');
  const bdf = /[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.exec(path.resolve(dir))?.[0];
  const d = importSysfsResource(resource, `PCI device ${bdf ?? path.basename(dir)}`, bdf);
  // checked as a device file's vendor and device are, naming the file that is wrong
  const vendor = read('vendor');
  const device = read('device');
  if (vendor) pciId(vendor, path.join(dir, 'vendor'));
  if (device) pciId(device, path.join(dir, 'device'));
  return { ...d, ...(vendor ? { vendor } : {}), ...(device ? { device } : {}) };
}
