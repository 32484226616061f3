// Import devices from `lspci -v` / `-vv` / `-vvv` text as people paste it: a whole machine
// or one device (`-s`), with or without domains (`-D`, five-digit VMD domains too), numeric
// IDs (`-nn`), indentation and upper-case hex. Each BAR line is read the way lspci's
// show_bases() writes it:
//   [Region N: ][[enhanced] ](Memory at ADDR (WIDTH, [non-]prefetchable) | I/O ports at ADDR)
//   [ [virtual]| [disabled]][ [size=S]]
// where ADDR is hex without 0x, or <ignored>, <unassigned> or <broken-64-bit-slot>. Lines
// are split by hand, one pass, so no input can make a parser backtrack; a line that starts
// like a BAR line and is not one is an error naming the line, never skipped (skipping would
// renumber the BARs after it). BAR numbers without "Region N:" labels are inferred as the
// kernel assigns them: in order, a 64-bit BAR taking two slots.

import { InputError, show } from '../trace/input-error.js';
import { parseDevice, type Device, type RegionStatus } from './device.js';

/** No real listing comes near these; beyond them the text is not lspci output. */
export const LSPCI_MAX_BYTES = 16 * 2 ** 20;
const MAX_BAR_LINE = 512;

const SIZE_UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

const HEADER = /^([0-9a-f]{4,5}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] \S/i;
const BDF = /^(?:([0-9a-f]{4,5}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;
const IDS = /\[([0-9a-f]{4}):([0-9a-f]{4})\]/i;
const HEX = /^[0-9a-f]{1,16}$/i;

interface ParsedBar {
  index: number | null;
  io: boolean;
  rom: boolean;
  /** null when lspci printed no address */
  start: number | null;
  status: RegionStatus | undefined;
  mem64: boolean;
  prefetchable: boolean;
  /** 0 when lspci printed no [size=…] */
  size: number;
}

/** One device of the listing, as far as pfnmap reads it. */
interface Block {
  line: number;
  bdf: string;
  title: string;
  bars: { at: number; bar: ParsedBar }[];
}

const isBarLine = (t: string) => /^(Region \d+:|\[enhanced\] |Memory at|I\/O ports at|Expansion ROM at)/i.test(t);

function bad(line: number, msg: string): never {
  throw new InputError(`lspci line ${line}`, msg);
}

/** " [size=16M]" → bytes (show_size(): a number and K, M, G or T). */
function sizeOf(v: string, line: number): number {
  let unit = 1;
  let digits = v;
  const u = v[v.length - 1]?.toUpperCase();
  if (u !== undefined && Object.hasOwn(SIZE_UNITS, u)) {
    unit = SIZE_UNITS[u];
    digits = v.slice(0, -1);
  }
  if (!/^[0-9]{1,10}$/.test(digits) || Number(digits) === 0) bad(line, `cannot read size ${show(v)} (a number and K, M, G or T)`);
  return Number(digits) * unit;
}

/** Parse one BAR or Expansion ROM line (trimmed). */
function parseBarLine(t: string, line: number): ParsedBar {
  if (t.length > MAX_BAR_LINE) bad(line, `a BAR line of ${t.length} characters`);
  if (t.includes('\r')) bad(line, 'a carriage return inside a BAR line');
  let rest = t;
  let index: number | null = null;
  const region = /^Region (\d{1,2}):/i.exec(rest);
  if (region) {
    index = Number(region[1]);
    if (index > 5) bad(line, `BAR number ${index} is beyond BAR5`);
    rest = rest.slice(region[0].length).trimStart();
  }
  if (rest.startsWith('[enhanced] ')) rest = rest.slice('[enhanced] '.length);
  const kind = /^(Memory at|I\/O ports at|Expansion ROM at) /i.exec(rest);
  if (!kind) bad(line, `expected "Memory at", "I/O ports at" or "Expansion ROM at", got ${show(rest.slice(0, 30))}`);
  const io = kind[1].toLowerCase().startsWith('i/o');
  const rom = kind[1].toLowerCase().startsWith('expansion');
  if (rom && index !== null) bad(line, 'an Expansion ROM line with a Region label');
  const words = rest.slice(kind[0].length).split(' ');
  const addr = words.shift() ?? '';
  let start: number | null = null;
  let status: RegionStatus | undefined;
  if (addr === '<ignored>') status = 'ignored';
  else if (addr === '<unassigned>') status = 'unassigned';
  else if (addr === '<broken-64-bit-slot>') status = 'broken';
  else if (HEX.test(addr)) {
    const big = BigInt('0x' + addr);
    if (big >= 2n ** 52n) bad(line, `address ${addr} is beyond the 52-bit physical address space`);
    start = Number(big);
  } else bad(line, `cannot read address ${show(addr)} (lspci prints hex without 0x, or <ignored>, <unassigned>)`);
  let mem64 = false;
  let prefetchable = false;
  if (!io && !rom) {
    // "(64-bit, prefetchable)" spans two words
    const a = words.shift() ?? '';
    const b = words.shift() ?? '';
    const width = a.startsWith('(') && a.endsWith(',') ? a.slice(1, -1) : null;
    const pref = b.endsWith(')') ? b.slice(0, -1) : null;
    if (width === null || pref === null) bad(line, `expected "(WIDTH, [non-]prefetchable)" after the address, got ${show(`${a} ${b}`)}`);
    if (width === 'type') {
      // "(type 3, prefetchable)": a reserved memory type
      bad(line, 'a BAR of reserved memory type 3');
    }
    if (!['32-bit', '64-bit', 'low-1M'].includes(width)) bad(line, `unknown BAR width ${show(width)} (32-bit, 64-bit, low-1M)`);
    if (pref !== 'prefetchable' && pref !== 'non-prefetchable') bad(line, `expected prefetchable or non-prefetchable, got ${show(pref)}`);
    mem64 = width === '64-bit';
    prefetchable = pref === 'prefetchable';
  }
  let size = 0;
  for (const w of words) {
    if (w === '') continue;
    if (w === '[virtual]' || w === '[disabled]') {
      if (status === undefined) status = w === '[virtual]' ? 'virtual' : 'disabled';
      continue;
    }
    const s = /^\[size=([^\]]*)\]$/.exec(w);
    if (s) {
      size = sizeOf(s[1], line);
      continue;
    }
    bad(line, `unexpected ${show(w)} in a BAR line`);
  }
  if (size > 0 && !io && !rom && 2 ** Math.round(Math.log2(size)) !== size) bad(line, `a memory BAR's size is a power of two, got ${size}`);
  if (start !== null && size > 0 && !io && start % size !== 0) bad(line, `a BAR is aligned to its size: 0x${start.toString(16)} is not a multiple of 0x${size.toString(16)}`);
  return { index, io, rom, start, status, mem64, prefetchable, size };
}

/** Split the listing into devices: a header line and the lines until the next header. */
function blocks(text: string): Block[] {
  if (text.length > LSPCI_MAX_BYTES) throw new InputError('lspci', `${text.length} bytes is more than any lspci listing (${LSPCI_MAX_BYTES})`);
  const out: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const t = raw.trim();
    if (t === '') continue;
    if (isBarLine(t)) {
      const cur = out[out.length - 1];
      if (cur === undefined) bad(i + 1, 'a BAR line before any device header line');
      cur.bars.push({ at: i + 1, bar: parseBarLine(t, i + 1) });
      continue;
    }
    if (t.length < 1000 && HEADER.test(t)) {
      const sp = t.indexOf(' ');
      const bdf = normaliseBdf(t.slice(0, sp));
      if (out.some((b) => b.bdf === bdf)) bad(i + 1, `device ${bdf} appears twice`);
      out.push({ line: i + 1, bdf, title: t.slice(sp + 1), bars: [] });
    }
    // every other line (Subsystem, Flags, Capabilities, Kernel driver, …) says nothing of BARs
  }
  if (out.length === 0) throw new InputError('lspci', 'no device header line (like "02:00.0 3D controller: …") found');
  return out;
}

function deviceOf(b: Block, name?: string): Device {
  const regions: Record<string, unknown>[] = [];
  let nextBar = 0;
  for (const { at, bar } of b.bars) {
    if (bar.rom) {
      if (regions.some((r) => r.index === 6)) bad(at, 'a second Expansion ROM');
      regions.push({ index: 6, kind: 'rom', start: '0x' + (bar.start ?? 0).toString(16), size: '0x' + bar.size.toString(16), mmap: false, ...(bar.status ? { status: bar.status } : {}) });
      continue;
    }
    const index = bar.index ?? nextBar;
    if (index > 5) bad(at, `BAR number ${index} is beyond BAR5 (the BARs before it take ${index} slots)`);
    if (regions.some((r) => r.index === index)) bad(at, `BAR${index} appears twice`);
    nextBar = index + (bar.mem64 ? 2 : 1);
    const r: Record<string, unknown> = { index, kind: 'bar', size: '0x' + bar.size.toString(16) };
    if (bar.status) r.status = bar.status;
    if (bar.io) {
      r.io = true;
      r.mmap = false;
    } else {
      r.start = '0x' + (bar.start ?? 0).toString(16);
      r.mem64 = bar.mem64;
      r.prefetchable = bar.prefetchable;
      // vfio-pci enables memory decoding when the device is opened, so a [disabled] BAR maps;
      // a VF's [virtual] BAR is mapped like any other; a BAR with no address or no size is not
      r.mmap = bar.start !== null && bar.size >= 4096;
    }
    regions.push(r);
  }
  const ids = IDS.exec(b.title);
  return parseDevice(
    {
      format: 'pfnmap-device/1',
      name: name ?? (b.title.replace(/\s*\(rev [0-9a-f]+\)\s*$/i, '').replace(IDS, '').trim() || b.bdf),
      bdf: b.bdf,
      ...(ids ? { vendor: '0x' + ids[1].toLowerCase(), device: '0x' + ids[2].toLowerCase() } : {}),
      source: 'lspci -v',
      regions: [...regions, { index: 7, kind: 'config', size: '0x1000', mmap: false }],
    },
    `lspci line ${b.line}`,
  );
}

/** Every device of an lspci listing, in its order. */
export function importLspciAll(text: string): Device[] {
  return blocks(text).map((b) => deviceOf(b));
}

/**
 * One device of an lspci listing: the one at `bdf` (dddd:bb:dd.f, or bb:dd.f in domain
 * 0000), or the only one. A listing of several devices without `bdf` is refused with their
 * addresses.
 */
export function importLspci(text: string, name?: string, bdf?: string): Device {
  const all = blocks(text);
  if (bdf !== undefined) {
    const want = normaliseBdf(bdf);
    const b = all.find((x) => x.bdf === want);
    if (!b) throw new InputError('--bdf', `no device ${show(bdf)} in the listing (${listOf(all.map((x) => x.bdf))})`);
    return deviceOf(b, name);
  }
  if (all.length > 1) throw new InputError('lspci', `the listing holds ${all.length} devices (${listOf(all.map((x) => x.bdf))}): choose one with --bdf`);
  return deviceOf(all[0], name);
}

function listOf(bdfs: string[]): string {
  return bdfs.length > 6 ? `${bdfs.slice(0, 6).join(', ')}, …` : bdfs.join(', ');
}

/** "01:00.0" → "0000:01:00.0"; an InputError naming --bdf otherwise. */
export function normaliseBdf(s: string): string {
  const m = BDF.exec(s.trim());
  if (!m) throw new InputError('--bdf', `expected [dddd:]bb:dd.f, got ${show(s)}`);
  return `${(m[1] ?? '0000').toLowerCase()}:${m[2].toLowerCase()}:${m[3].toLowerCase()}.${m[4]}`;
}
