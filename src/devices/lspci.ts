// Import a device from `lspci -v` / `lspci -vv` text as people paste it: with or without
// "Region N:" labels, indented or not, with BARs the kernel left <ignored> or <unassigned>.
// BAR numbers without labels are inferred as the kernel assigns them: in order, a 64-bit
// BAR taking two slots.

import { InputError } from '../trace/input-error.js';
import { parseDevice, type Device } from './device.js';

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

function parseSize(s: string, line: number): number {
  const m = /^(\d+)([KMGT]?)$/.exec(s);
  if (!m) throw new InputError(`lspci line ${line}`, `cannot read size "${s}"`);
  return Number(m[1]) * SIZE_UNITS[m[2]];
}

const HEADER = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])\s+(.*)$/i;
const BAR = /^(?:Region\s+(\d+):\s*)?(Memory|I\/O ports) at (<ignored>|<unassigned>|[0-9a-f]+)\s*(?:\(([^)]*)\))?\s*(.*)$/i;
const ROM = /^Expansion ROM at (<ignored>|<unassigned>|[0-9a-f]+)\s*(.*)$/i;
const IDS = /\[([0-9a-f]{4}):([0-9a-f]{4})\]/i;

/** Parse the first device of an lspci -v/-vv listing. */
export function importLspci(text: string, name?: string): Device {
  const lines = text.split(/\r?\n/);
  let header: RegExpExecArray | null = null;
  let headerLine = 0;
  const regions: Record<string, unknown>[] = [];
  let nextBar = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const t = raw.trim();
    if (t === '') {
      if (header && regions.length > 0) break; // the next device starts after a blank line
      continue;
    }
    const h = HEADER.exec(t);
    if (h && !/^\s/.test(raw) && !BAR.test(t)) {
      if (header) break;
      header = h;
      headerLine = i + 1;
      continue;
    }
    const b = BAR.exec(t);
    if (b) {
      const index = b[1] !== undefined ? Number(b[1]) : nextBar;
      if (index > 5) throw new InputError(`lspci line ${i + 1}`, `BAR number ${index} is beyond BAR5`);
      const io = /^I\/O/i.test(b[2]);
      const attrs = (b[4] ?? '').toLowerCase();
      const rest = b[5];
      const sizeM = /\[size=([0-9]+[KMGT]?)\]/.exec(rest);
      if (!sizeM) throw new InputError(`lspci line ${i + 1}`, 'a BAR line without [size=…]');
      const size = parseSize(sizeM[1], i + 1);
      const mem64 = attrs.includes('64-bit');
      const assigned = !b[3].startsWith('<');
      const disabled = /\[disabled\]/.test(rest);
      const region: Record<string, unknown> = { index, kind: 'bar', size: '0x' + size.toString(16) };
      if (io) {
        region.io = true;
        region.mmap = false;
      } else {
        if (assigned) region.start = '0x' + BigInt('0x' + b[3]).toString(16);
        else region.start = '0x0';
        region.mem64 = mem64;
        region.prefetchable = attrs.includes('prefetchable') && !attrs.includes('non-prefetchable');
        // a BAR the kernel did not assign cannot be mapped
        region.mmap = assigned && !disabled && size >= 4096;
        if (!assigned) region.size = '0x' + size.toString(16);
      }
      regions.push(region);
      nextBar = index + (mem64 ? 2 : 1);
      continue;
    }
    const r = ROM.exec(t);
    if (r) {
      const sizeM = /\[size=([0-9]+[KMGT]?)\]/.exec(r[2]);
      if (!sizeM) throw new InputError(`lspci line ${i + 1}`, 'an Expansion ROM line without [size=…]');
      const size = parseSize(sizeM[1], i + 1);
      regions.push({ index: 6, kind: 'rom', start: r[1].startsWith('<') ? '0x0' : '0x' + BigInt('0x' + r[1]).toString(16), size: '0x' + size.toString(16), mmap: false });
    }
  }
  if (!header) throw new InputError('lspci', 'no device header line (like "02:00.0 3D controller: …") found');
  if (regions.length === 0) throw new InputError(`lspci line ${headerLine}`, 'the device lists no "Memory at" or "I/O ports at" lines (use lspci -v)');
  // unassigned BARs: keep their size, but the model cannot place them; mark start 0 aligned
  for (const reg of regions) if (reg.start === '0x0' && reg.kind === 'bar' && !reg.io) reg.mmap = false;
  const ids = IDS.exec(header[5]);
  const dom = header[1] ?? '0000';
  return parseDevice(
    {
      format: 'pfnmap-device/1',
      name: name ?? header[5].replace(/\s*\(rev [0-9a-f]+\)\s*$/i, '').replace(IDS, '').trim(),
      bdf: `${dom}:${header[2]}:${header[3]}.${header[4]}`.toLowerCase(),
      ...(ids ? { vendor: '0x' + ids[1].toLowerCase(), device: '0x' + ids[2].toLowerCase() } : {}),
      source: 'lspci -v',
      regions: [...regions, { index: 7, kind: 'config', size: '0x1000', mmap: false }],
    },
    'lspci',
  );
}
