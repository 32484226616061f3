// Structure-aware generators for pfnmap's own fuzz suite (issue 11, "Hostile input"): each
// case is a command line plus the files it reads, built valid by construction and then,
// most of the time, given one near-valid mutation (a field dropped, the wrong type, out of
// range, nested too deep, a CR, NUL or newline in a string, a 0x prefix, a negative
// number, VMAs duplicated or unsorted, a blank numeric option, …) whose effect on validity
// the generator knows. The runner (run.ts) checks what the CLI did against `expect`.
//
// Every case is cheap: BARs are at most 1 TiB (one per device above 1 GiB), sweeps count a
// handful of cases, align-test runs a few loops.

import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { packageRoot } from '../cli/paths.js';
import { VARIANT_NAMES, RECIPE_VARIANT_NAMES } from '../kernels/variants.js';

/** valid: exit 0 (or one of okCodes); invalid: exit 2 with one line; any: only "no crash, no hang, one-line errors". */
export type Expect = 'valid' | 'invalid' | 'any';

export interface FuzzCase {
  family: string;
  /** what was generated / which mutation, for the report */
  what: string;
  expect: Expect;
  /** files to create, relative to the case's own directory ("$D") */
  files: { path: string; data: string | Uint8Array }[];
  /** directories to create (before the files) */
  dirs?: string[];
  /** the command line; "$D" stands for the case's directory */
  argv: string[];
  /** exit codes of a valid run (default [0]); 1 only where it is a genuine replay mismatch */
  okCodes?: number[];
}

const KERNELS = VARIANT_NAMES as readonly string[];
/** what device commands take: the variants, the recipes as shipped, a recipe on another kernel */
const DEVICE_KERNELS: readonly string[] = [...KERNELS, ...RECIPE_VARIANT_NAMES, 'qemu@linux-7.2'];
const CHEAP_PRESETS = ['nvme-16k', 'nic-32m'];
const THPS = ['always', 'madvise', 'never'];

// ---------------------------------------------------------------------------------------
// shared pieces

/** Strings a person would never type but a file may hold. */
const weirdText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('a\nb', 'a\rb', 'nul\u0000byte', '\u001b[31mred', 'tab\there', '\u2028sep', 'é✓中', ' ', '\\', '"quoted"'),
  fc.integer({ min: 1000, max: 100_000 }).map((n) => 'x'.repeat(n)),
);
const nonEmptyWeird = weirdText.map((s) => (s === '' ? 'x' : s));

/** A JSON value nested `depth` levels deep (arrays or objects). */
export function deepValue(depth: number, objects: boolean): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = objects ? { a: v } : [v];
  return v;
}
const deepArb = fc.tuple(fc.integer({ min: 33, max: 3000 }), fc.boolean()).map(([d, o]) => deepValue(d, o));

/** Hex strings that break the "lowercase 0x, at most 64 bits" rule. */
const badHex = fc.oneof(
  fc.constantFrom('0X1000', '1000', '-0x1000', '0x', '0x' + 'f'.repeat(17), '0x1000 ', ' 0x1000', '0x1000\n', '0x10\u0000', '0xABC', '0x-1', '0x1.5', '0x1g3', '', '0x１'),
  fc.constantFrom<unknown>(4096, -1, 1.5, null, true, [], {}, ['0x1000']),
);
/** Not a string (for string fields). */
const notString = fc.constantFrom<unknown>(1, -1, null, true, [], {}, 0.5);

const hex = (n: number | bigint) => '0x' + n.toString(16);

/** One memory or I/O BAR, before indices are assigned. */
interface BarSpec { log2: number; slot: number; mem64: boolean; pref: boolean; io: boolean; ioSize: number; status?: 'disabled' | 'virtual' | 'ignored' | 'unassigned' }

const log2Arb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 12, max: 28 }) },
  { weight: 3, arbitrary: fc.integer({ min: 29, max: 31 }) },
  { weight: 1, arbitrary: fc.integer({ min: 32, max: 40 }) }, // up to 1 TiB: faults by runs keep even that under a second
);
const barSpec: fc.Arbitrary<BarSpec> = fc.record({
  log2: log2Arb, slot: fc.integer({ min: 1, max: 2 ** 30 }), mem64: fc.boolean(), pref: fc.boolean(),
  io: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  ioSize: fc.constantFrom(8, 0x20, 0x80, 0x100, 0x60),
  status: fc.option(fc.constantFrom('disabled', 'virtual', 'ignored', 'unassigned') as fc.Arbitrary<BarSpec['status'] & string>, { nil: undefined, freq: 4 }),
}, { requiredKeys: ['log2', 'slot', 'mem64', 'pref', 'io', 'ioSize'] });

/** A placed BAR: index, size, start (size-aligned, below 2^46). */
interface Bar extends BarSpec { index: number; size: number; start: number }

/** BARs in kernel order (a 64-bit BAR takes two slots); the first is an mmap-able memory BAR. */
function placeBars(specs: BarSpec[]): Bar[] {
  const out: Bar[] = [];
  let i = 0;
  specs.forEach((s0, k) => {
    const s = k === 0 ? { ...s0, io: false, status: s0.status === 'ignored' || s0.status === 'unassigned' ? undefined : s0.status } : { ...s0 };
    if (i > 5) return;
    if (s.io) s.mem64 = false;
    if (s.mem64 && i === 5) s.mem64 = false;
    // one BAR above 1 GiB at most, so that a default job over every variant stays well under the bound
    if (!s.io && s.log2 > 30 && out.some((b) => !b.io && b.size > 2 ** 30)) s.log2 = 30;
    const size = s.io ? s.ioSize : 2 ** s.log2;
    const slots = Math.floor(2 ** 46 / size);
    const start = s.io ? 0xe000 : ((s.slot % (slots - 1)) + 1) * size;
    out.push({ ...s, index: i, size, start });
    i += s.mem64 ? 2 : 1;
  });
  return out;
}
const barsArb = fc.array(barSpec, { minLength: 1, maxLength: 4 }).map(placeBars);

const bdfArb = fc.record({
  dom: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xfffff }) }),
  bus: fc.integer({ min: 0, max: 255 }), dev: fc.integer({ min: 0, max: 31 }), fn: fc.integer({ min: 0, max: 7 }),
}).map(({ dom, bus, dev, fn }) => `${dom.toString(16).padStart(dom > 0xffff ? 5 : 4, '0')}:${bus.toString(16).padStart(2, '0')}:${dev.toString(16).padStart(2, '0')}.${fn}`);

const idArb = fc.integer({ min: 0, max: 0xffff }).map((n) => '0x' + n.toString(16).padStart(4, '0'));

function pick<T>(xs: readonly T[], n: number): T {
  return xs[n % xs.length];
}

/** One of the device commands, with valid options for a device whose mmap-able BARs are `bars`. */
const deviceCommand = fc.record({
  cmd: fc.constantFrom('compare', 'plan', 'align-test', 'default'),
  kernels: fc.subarray([...DEVICE_KERNELS], { minLength: 1, maxLength: 3 }),
  thp: fc.option(fc.constantFrom(...THPS), { nil: undefined }),
  json: fc.boolean(), svg: fc.boolean(), loops: fc.integer({ min: 1, max: 3 }),
  barPick: fc.option(fc.nat(), { nil: undefined }), win: fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined }),
});
type DeviceCommand = typeof deviceCommand extends fc.Arbitrary<infer T> ? T : never;

/** argv of one device command; `mappable` are the mmap-able BARs (index, size). */
function deviceArgv(c: DeviceCommand, spec: string[], mappable: { index: number; size: number }[]): { argv: string[]; okCodes?: number[] } {
  const thp = c.thp ? ['--thp', c.thp] : [];
  const json = c.json ? ['--json'] : [];
  switch (c.cmd) {
    case 'compare': {
      const argv = ['compare', ...spec, '--kernels', c.kernels.join(','), ...thp, ...json];
      if (c.barPick !== undefined && mappable.length > 0) {
        const b = pick(mappable, c.barPick);
        argv.push('--bar', String(b.index));
        if (c.win) {
          const off = Math.floor((c.win[0] % 1024) / 1024 * b.size / 4096) * 4096;
          const len = Math.max(4096, Math.floor((c.win[1] % 1024) / 1024 * (b.size - off) / 4096) * 4096);
          argv.push('--offset', hex(off), '--len', hex(Math.min(len, b.size - off)));
        }
      }
      if (c.svg) argv.push('--svg', '$D/out.svg');
      return { argv };
    }
    case 'plan':
      return { argv: ['plan', ...spec, '--kernel', c.kernels.filter((k) => k !== 'userspace').join(',') || 'v2', ...thp, ...json] };
    case 'align-test':
      return { argv: ['align-test', ...spec, '--kernel', c.kernels[0], '--loops', String(c.loops), ...json], okCodes: [0, 255] };
    default:
      return { argv: [...spec.filter((s) => s !== '--bdf' && !/^\d|^[0-9a-f]{4,5}:/.test(s)), ...thp, ...json, ...(c.svg ? ['--svg', '$D/out.svg'] : [])] };
  }
}

// ---------------------------------------------------------------------------------------
// pfnmap-device/1

function deviceJson(bars: Bar[], extra: { name: string; bdf?: string; vendor?: string; device?: string; rom: boolean; explicitKinds: boolean; explicitMmap: boolean }): Record<string, unknown> {
  const regions: Record<string, unknown>[] = [];
  for (const b of bars) {
    const r: Record<string, unknown> = { index: b.index, size: hex(b.size) };
    if (extra.explicitKinds) r.kind = 'bar';
    if (b.io) r.io = true;
    else {
      r.start = hex(b.start);
      if (b.mem64) r.mem64 = true;
      if (b.pref) r.prefetchable = true;
    }
    if (b.status && !b.io) r.status = b.status;
    if (extra.explicitMmap) r.mmap = !b.io && b.status !== 'ignored' && b.status !== 'unassigned';
    regions.push(r);
    if (b.mem64) regions.push({ index: b.index + 1, kind: 'bar', size: '0x0' });
  }
  if (extra.rom) regions.push({ index: 6, kind: 'rom', start: '0xf1000000', size: '0x80000', mmap: false });
  regions.push({ index: 7, kind: 'config', size: '0x1000', mmap: false });
  return {
    format: 'pfnmap-device/1', name: extra.name, ...(extra.bdf ? { bdf: extra.bdf } : {}),
    ...(extra.vendor ? { vendor: extra.vendor, device: extra.device } : {}), source: 'fuzz', regions,
  };
}

const mappableOf = (bars: Bar[]) => bars.filter((b) => !b.io && b.status !== 'ignored' && b.status !== 'unassigned' && b.size >= 4096);

const DEVICE_MUTATIONS = [
  'none', 'none', 'none', 'bom', 'pretty', 'unknown-key', 'weird-name',
  'drop-format', 'format-wrong', 'drop-name', 'name-empty', 'name-type', 'drop-regions', 'regions-type',
  'bdf-bad', 'vendor-type', 'vendor-bad', 'index-drop', 'index-bad', 'index-dup', 'kind-wrong', 'size-drop', 'size-hex',
  'size-nonpow2', 'start-drop', 'start-hex', 'start-misaligned', 'start-52bit', 'mmap-io', 'mmap-rom', 'mmap-size0',
  'status-bad', 'mmap-ignored', 'bool-type', 'deep', 'region-scalar', 'truncated', 'empty-file',
  'sparse-ok', 'driver-pci', 'sparse-past', 'sparse-unaligned', 'sparse-type', 'sparse-nommap', 'driver-bad', 'devmem-pci', 'memlength-given',
] as const;

export const deviceCase: fc.Arbitrary<FuzzCase> = fc.record({
  bars: barsArb, name: nonEmptyWeird, bdf: fc.option(bdfArb, { nil: undefined }), vendor: fc.option(idArb, { nil: undefined }), device: idArb,
  rom: fc.boolean(), explicitKinds: fc.boolean(), explicitMmap: fc.boolean(), cmd: deviceCommand,
  mut: fc.constantFrom(...DEVICE_MUTATIONS), k: fc.nat(), bad: badHex, notStr: notString, deep: deepArb,
  badBdf: fc.constantFrom('02:00.0', '0000:02:00.8', '0000:0A:00.0', '0000:02:00.0\n', ' 0000:02:00.0', '0000:02:00', ''),
  badId: fc.constantFrom('10de', '0x10DE', '0x10de\r', 'nvidia', '0x', '0x123456', '-0x1', ''),
}).map((g) => {
  const d = deviceJson(g.bars, g);
  const regions = d.regions as Record<string, unknown>[];
  const bars = regions.filter((r) => (r.index as number) < 6);
  const mem = bars.filter((r) => r.io !== true && r.size !== '0x0');
  const r = pick(bars, g.k);
  let expect: Expect = 'invalid';
  let text: string | undefined;
  switch (g.mut) {
    case 'none': case 'unknown-key': case 'weird-name': case 'bom': case 'pretty': expect = 'valid'; break;
    case 'drop-format': delete d.format; break;
    case 'format-wrong': d.format = 'pfnmap-device/2'; break;
    case 'drop-name': delete d.name; break;
    case 'name-empty': d.name = ''; break;
    case 'name-type': d.name = g.notStr; break;
    case 'drop-regions': delete d.regions; break;
    case 'regions-type': d.regions = g.notStr ?? {}; if (Array.isArray(d.regions)) d.regions = 'regions'; break;
    case 'bdf-bad': d.bdf = g.badBdf; break;
    case 'vendor-type': d.vendor = g.notStr ?? 1; break;
    case 'vendor-bad': d.vendor = g.badId; d.device = '0x2330'; break;
    case 'index-drop': delete r.index; break;
    case 'index-bad': r.index = pick([-1, 64, 1.5, '0', null, 1e9], g.k); break;
    case 'index-dup': regions.push({ ...r }); break;
    case 'kind-wrong': r.kind = pick(['rom', 'config', 'vga', 'other', 'BAR', 'bar\n'], g.k); break;
    case 'size-drop': delete r.size; break;
    case 'size-hex': r.size = g.bad; break;
    case 'size-nonpow2': { const m = pick(mem, g.k); m.size = hex(parseInt((m.size as string).slice(2), 16) * 3); break; }
    case 'start-drop': delete pick(mem, g.k).start; break;
    case 'start-hex': pick(mem, g.k).start = g.bad; break;
    case 'start-misaligned': { const m = pick(mem, g.k); const s = parseInt((m.size as string).slice(2), 16); m.start = hex(parseInt((m.start as string).slice(2), 16) + s / 2); break; }
    case 'start-52bit': pick(mem, g.k).start = '0x10000000000000'; break;
    case 'mmap-io': regions.push({ index: 5, size: '0x80', io: true, mmap: true }); regions.splice(regions.findIndex((x) => x.index === 5), regions.filter((x) => x.index === 5).length - 1); break;
    case 'mmap-rom': regions.push({ index: 6, kind: 'rom', start: '0xf2000000', size: '0x80000', mmap: true }); regions.splice(0, regions.length, ...regions.filter((x, i) => x.index !== 6 || i === regions.length - 1)); break;
    case 'mmap-size0': { const z = regions.find((x) => x.size === '0x0'); if (z) z.mmap = true; else regions.push({ index: 9, size: '0x0', mmap: true }); break; }
    case 'status-bad': r.status = pick(['Disabled', 'foo', 1, '', 'ignored\n'], g.k); break;
    case 'mmap-ignored': { const m = pick(mem, g.k); m.status = pick(['ignored', 'unassigned', 'broken'], g.k); m.mmap = true; break; }
    case 'bool-type': pick(mem, g.k)[pick(['mem64', 'prefetchable', 'mmap', 'io'], g.k)] = pick(['true', 1, null, 0], g.k >> 2); break;
    case 'deep': (g.k % 2 ? r : d).x = g.deep; break;
    case 'region-scalar': regions[g.k % regions.length] = pick<unknown>([5, null, 'x', []], g.k) as Record<string, unknown>; break;
    case 'sparse-ok': {
      // VFIO_REGION_INFO_CAP_SPARSE_MMAP: the BAR less its first page (an MSI-X table), where it has more than one
      const m = mem.find((x) => parseInt((x.size as string).slice(2), 16) >= 8192 && !['ignored', 'unassigned', 'broken'].includes(x.status as string));
      if (m) m.sparse = [{ offset: '0x1000', size: hex(parseInt((m.size as string).slice(2), 16) - 4096) }];
      expect = 'valid';
      break;
    }
    case 'driver-pci': (d as Record<string, unknown>).driver = 'vfio-pci'; expect = 'valid'; break;
    case 'sparse-past': { const m = pick(mem, g.k); m.sparse = [{ offset: '0x0', size: hex(parseInt((m.size as string).slice(2), 16) * 2) }]; break; }
    case 'sparse-unaligned': pick(mem, g.k).sparse = [{ offset: '0x800', size: '0x1000' }]; break;
    case 'sparse-type': pick(mem, g.k).sparse = pick<unknown>([{}, 'areas', 5, [null], [{ offset: '0x0' }]], g.k); break;
    case 'sparse-nommap': regions.push({ index: 6, kind: 'rom', start: '0xf3000000', size: '0x80000', mmap: false, sparse: [{ offset: '0x0', size: '0x1000' }] }); regions.splice(0, regions.length, ...regions.filter((x, i) => x.index !== 6 || i === regions.length - 1)); break;
    case 'driver-bad': (d as Record<string, unknown>).driver = pick<unknown>(['mlx5-vfio', 'VFIO-PCI', 1, null, ''], g.k); break;
    case 'devmem-pci': (d as Record<string, unknown>).devmem = { start: '0x400000000000', size: '0x40000000' }; break;
    case 'memlength-given': pick(mem, g.k).memlength = '0x1000'; break;
    case 'truncated': { const t = JSON.stringify(d); text = t.slice(0, g.k % (t.length - 1)); break; }
    case 'empty-file': text = pick(['', '\n', '\ufeff', '   '], g.k); break;
  }
  if (g.mut === 'unknown-key') (d as Record<string, unknown>).comment = { any: ['thing'] };
  if (g.mut === 'weird-name') d.name = pick(['line\nbreak', 'cr\rhere', 'nul\u0000', '\u001b[2J', 'x'.repeat(50_000)], g.k);
  text ??= g.mut === 'pretty' ? JSON.stringify(d, null, 2) : JSON.stringify(d);
  if (g.mut === 'bom') text = '\ufeff' + text;
  const spec = ['--device', '$D/dev.json'];
  const { argv, okCodes } = deviceArgv(g.cmd, spec, mappableOf(g.bars));
  return { family: 'device', what: `${g.mut} ${g.cmd.cmd}`, expect, files: [{ path: 'dev.json', data: text }], argv, okCodes };
});

// ---------------------------------------------------------------------------------------
// lspci -v text

function sizeText(n: number): string {
  for (const [u, s] of [[2 ** 40, 'T'], [2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']] as const) if (n >= u && n % u === 0) return `${n / u}${s}`;
  return String(n);
}

function barLine(b: Bar, labels: boolean, upper: boolean): string {
  const h = (n: number) => (upper ? n.toString(16).toUpperCase() : n.toString(16));
  const lab = labels ? `Region ${b.index}: ` : '';
  if (b.io) return `${lab}I/O ports at ${h(b.start)} [size=${sizeText(b.size)}]`;
  const addr = b.status === 'ignored' ? '<ignored>' : b.status === 'unassigned' ? '<unassigned>' : h(b.start);
  const st = b.status === 'disabled' ? ' [disabled]' : b.status === 'virtual' ? ' [virtual]' : '';
  return `${lab}Memory at ${addr} (${b.mem64 ? '64-bit' : '32-bit'}, ${b.pref ? 'prefetchable' : 'non-prefetchable'})${st} [size=${sizeText(b.size)}]`;
}

const LSPCI_MUTATIONS = [
  'none', 'none', 'none', 'crlf', 'upper', 'tabs', 'nul-noise',
  'addr-0x', 'addr-neg', 'addr-nonhex', 'addr-long', 'size-unit', 'size-zero', 'size-blank', 'size-nonpow2', 'misaligned',
  'cr-inside', 'flag-unknown', 'region-6', 'width-bad', 'type-3', 'no-comma', 'long-line', 'region-dup', 'bar-before-header',
  'header-dup', 'bdf-missing', 'bdf-malformed', 'too-many-bars', 'rom-twice', 'empty', 'no-header', 'several-no-bdf',
] as const;

export const lspciCase: fc.Arbitrary<FuzzCase> = fc.record({
  devs: fc.uniqueArray(fc.record({ bdf: bdfArb, bars: barsArb, rom: fc.boolean(), title: fc.constantFrom('3D controller: NVIDIA Corporation GH100 [H100 SXM5 80GB] (rev a1)', 'Ethernet controller [0200]: Mellanox Technologies MT2892 Family [ConnectX-6 Dx] [15b3:101d]', 'Non-Volatile memory controller: Samsung NVMe SSD', 'Unassigned class [ff00]: something') }), { minLength: 1, maxLength: 3, selector: (d) => d.bdf }),
  labels: fc.boolean(), indent: fc.constantFrom('\t', '        ', '  '), cmd: deviceCommand, mut: fc.constantFrom(...LSPCI_MUTATIONS), k: fc.nat(), useBdf: fc.boolean(),
}).map((g) => {
  let expect: Expect = 'invalid';
  const upper = g.mut === 'upper';
  const devLines: string[][] = g.devs.map((d) => {
    const head = `${upper ? d.bdf.toUpperCase() : d.bdf} ${d.title}`;
    const body = [`Subsystem: Example Corp Device 1234`, 'Flags: bus master, fast devsel, latency 0, IRQ 16', 'Memory behind bridge: f0000000-f1ffffff [size=32M]',
      ...d.bars.map((b) => barLine(b, g.labels, upper)), ...(d.rom ? ['Expansion ROM at f1000000 [disabled] [size=512K]'] : []),
      'Capabilities: [60] Power Management version 3', 'Kernel driver in use: vfio-pci'];
    return [head, ...body.map((l) => (g.mut === 'tabs' ? '\t' : g.indent) + l)];
  });
  // which device the command means, and one of its BAR lines to mutate
  const di = g.k % g.devs.length;
  const target = g.devs[di];
  const lines = devLines[di];
  const barAt = (n: number) => 4 + (n % target.bars.length); // index into lines of a BAR line
  const bi = barAt(g.k >> 3);
  const bar = target.bars[bi - 4];
  const edit = (f: (s: string) => string) => { lines[bi] = f(lines[bi]); };
  const memBar = !bar.io && bar.status !== 'ignored' && bar.status !== 'unassigned';
  let bdfArg: string | undefined = g.useBdf || g.devs.length > 1 ? target.bdf : undefined;
  if (bdfArg && g.k % 3 === 0 && bdfArg.startsWith('0000:')) bdfArg = bdfArg.slice(5);
  let text: string | undefined;
  switch (g.mut) {
    case 'none': case 'crlf': case 'upper': case 'tabs': expect = 'valid'; break;
    case 'nul-noise': lines.splice(1, 0, `${g.indent}Subsystem: \u0000\u0001 odd`); expect = 'valid'; break;
    case 'addr-0x': if (memBar) edit((s) => s.replace(/ at ([0-9a-fA-F]+)/, ' at 0x$1')); else expect = 'any'; break;
    case 'addr-neg': if (memBar || bar.io) edit((s) => s.replace(/ at ([0-9a-fA-F]+)/, ' at -$1')); else expect = 'any'; break;
    case 'addr-nonhex': edit((s) => s.replace(/ at (\S+)/, ' at zz$1')); break;
    case 'addr-long': if (memBar) edit((s) => s.replace(/ at ([0-9a-fA-F]+)/, ' at 1$1'.padEnd(22, '0'))); else expect = 'any'; break;
    case 'size-unit': edit((s) => s.replace(/\[size=[^\]]*\]/, '[size=16Q]')); break;
    case 'size-zero': edit((s) => s.replace(/\[size=[^\]]*\]/, '[size=0]')); break;
    case 'size-blank': edit((s) => s.replace(/\[size=[^\]]*\]/, '[size=]')); break;
    case 'size-nonpow2': if (!bar.io) edit((s) => s.replace(/\[size=[^\]]*\]/, '[size=24M]')); else expect = 'any'; break;
    case 'misaligned': if (memBar && bar.size >= 0x2000) edit((s) => s.replace(/ at ([0-9a-fA-F]+)/, ` at ${(bar.start + bar.size / 2).toString(16)}`)); else expect = 'any'; break;
    case 'cr-inside': edit((s) => s.replace(' at ', ' at\r ')); break;
    case 'flag-unknown': edit((s) => s.replace(/ \[size=/, ' [bogus] [size=')); break;
    case 'region-6': edit((s) => (g.labels ? s.replace(/Region \d:/, 'Region 6:') : s.replace(/^(\s*)/, '$1Region 6: '))); break;
    case 'width-bad': if (!bar.io) edit((s) => s.replace(/\((32|64)-bit/, '(48-bit')); else expect = 'any'; break;
    case 'type-3': if (!bar.io) edit((s) => s.replace(/\((32|64)-bit/, '(type 3')); else expect = 'any'; break;
    case 'no-comma': if (!bar.io) edit((s) => s.replace(/-bit, /, '-bit ')); else expect = 'any'; break;
    case 'long-line': edit((s) => s.replace(' at ', ' at ' + ' '.repeat(600))); break;
    case 'region-dup': lines.splice(bi + 1, 0, lines[bi].replace(/^(\s*)(Region \d: )?/, `$1Region ${bar.index}: `)); break;
    case 'bar-before-header': devLines[0].unshift(`${g.indent}Memory at f0000000 (32-bit, non-prefetchable) [size=16M]`); break;
    case 'header-dup': devLines.push([...devLines[di]]); break;
    case 'bdf-missing': bdfArg = 'ff:1f.7'; if (g.devs.some((d) => d.bdf === '0000:ff:1f.7')) expect = 'any'; break;
    case 'bdf-malformed': bdfArg = pick(['02:00', '0000:02:00.8', 'xx:00.0', '', '0000:02:00.0\n', '00000000:02:00.0'], g.k); break;
    case 'too-many-bars': for (let i = 0; i < 7; i++) lines.splice(4, 0, `${g.indent}Memory at f${i}000000 (32-bit, non-prefetchable) [size=16M]`); break;
    case 'rom-twice': lines.splice(4, 0, `${g.indent}Expansion ROM at f1000000 [disabled] [size=512K]`, `${g.indent}Expansion ROM at f2000000 [disabled] [size=512K]`); break;
    case 'empty': text = pick(['', '\n\n', '\r\n'], g.k); break;
    case 'no-header': text = devLines.flat().slice(1).filter((l) => /^\s*(Subsystem|Flags|Capabilities|Kernel)/.test(l)).join('\n'); break;
    case 'several-no-bdf': if (g.devs.length > 1 && g.cmd.cmd !== 'plan' && g.cmd.cmd !== 'default') bdfArg = undefined; else expect = 'any'; break;
  }
  text ??= devLines.flat().join(g.mut === 'crlf' ? '\r\n' : '\n') + '\n';
  const bdf = bdfArg !== undefined ? ['--bdf', bdfArg] : [];
  const cmd = g.cmd.cmd === 'default' ? { ...g.cmd, cmd: 'plan' as const } : g.cmd;
  const spec = cmd.cmd === 'plan' && g.k % 2 === 0 ? ['--lspci', '$D/lspci.txt', ...bdf] : ['--device', '$D/lspci.txt', ...bdf];
  // commands of one device need --bdf for a listing of several (plan --lspci plans them all)
  if (expect === 'valid' && bdfArg === undefined && g.devs.length > 1 && spec[0] === '--device') expect = 'invalid';
  const { argv, okCodes } = deviceArgv(cmd, spec, mappableOf(target.bars));
  return { family: 'lspci', what: `${g.mut} ${cmd.cmd}`, expect, files: [{ path: 'lspci.txt', data: text }], argv, okCodes };
});

// ---------------------------------------------------------------------------------------
// sysfs device directories

const line3 = (a: bigint | number, b: bigint | number, c: bigint | number) => `0x${a.toString(16).padStart(16, '0')} 0x${b.toString(16).padStart(16, '0')} 0x${c.toString(16).padStart(16, '0')}`;

const SYSFS_MUTATIONS = [
  'none', 'none', 'none', 'crlf', 'no-ids', 'bdf-dir', 'bridge-lines',
  'six-lines', 'decimal', 'no-0x', 'negative', 'two-fields', 'four-fields', 'end-below', 'nonpow2', 'misaligned', 'beyond-52',
  'no-resource', 'resource-dir', 'garbage', 'vendor-bad', 'empty',
] as const;

export const sysfsCase: fc.Arbitrary<FuzzCase> = fc.record({
  bars: barsArb, rom: fc.boolean(), bdf: bdfArb, vendor: idArb, device: idArb, cmd: deviceCommand, mut: fc.constantFrom(...SYSFS_MUTATIONS), k: fc.nat(),
  badId: fc.constantFrom('10de', '0x10DE', 'nvidia', '0x', '0x123456', '0x10de 0x1'),
}).map((g) => {
  const lines: string[] = [];
  for (let i = 0; i < 6; i++) {
    const b = g.bars.find((x) => x.index === i);
    if (!b || b.status === 'ignored' || b.status === 'unassigned') { lines.push(line3(0, 0, 0)); continue; }
    const flags = b.io ? 0x40101 : 0x40200 | (b.pref ? 0x2000 : 0) | (b.mem64 ? 0x100004 : 0);
    lines.push(line3(b.start, b.start + b.size - 1, flags));
  }
  lines.push(g.rom ? line3(0xf1000000, 0xf107ffff, 0x46200) : line3(0, 0, 0));
  if (g.mut === 'bridge-lines') for (let i = 0; i < 6; i++) lines.push(line3(0, 0, 0));
  let expect: Expect = 'invalid';
  const bi = g.k % 6;
  const mem = g.bars.filter((b) => !b.io && b.status !== 'ignored' && b.status !== 'unassigned');
  const mb = pick(mem, g.k);
  const dir = g.mut === 'bdf-dir' ? g.bdf : 'dev';
  const files: FuzzCase['files'] = [];
  const dirs = [dir];
  let resource: string | undefined;
  switch (g.mut) {
    case 'none': case 'crlf': case 'no-ids': case 'bdf-dir': case 'bridge-lines': expect = 'valid'; break;
    case 'six-lines': lines.length = 6; break;
    case 'decimal': lines[mb.index] = `${mb.start} ${mb.start + mb.size - 1} 512`; break;
    case 'no-0x': lines[bi] = lines[bi].replace(/0x/g, ''); break;
    case 'negative': lines[mb.index] = lines[mb.index].replace(/^0x/, '-0x'); break;
    case 'two-fields': lines[bi] = lines[bi].split(' ').slice(0, 2).join(' '); break;
    case 'four-fields': lines[bi] += ' 0x0'; break;
    case 'end-below': lines[mb.index] = line3(mb.start + 0x1000, mb.start, 0x40200); break;
    case 'nonpow2': lines[mb.index] = line3(mb.start, mb.start + mb.size * 3 - 1, 0x40200); break;
    case 'misaligned': lines[mb.index] = line3(mb.start + (mb.size >= 0x2000 ? mb.size / 2 : 0x800), mb.start + (mb.size >= 0x2000 ? mb.size / 2 : 0x800) + mb.size - 1, 0x40200); break;
    case 'beyond-52': lines[mb.index] = line3(2n ** 52n, 2n ** 52n + 0xfffn, 0x40200); break;
    case 'no-resource': resource = ''; break;
    case 'resource-dir': dirs.push(`${dir}/resource`); resource = ''; break;
    case 'garbage': resource = pick(['\u0000\u0001\u0002', 'hello world\n'.repeat(8), '0x\n'.repeat(7), '{"format":"pfnmap-device/1"}'], g.k); break;
    case 'vendor-bad': files.push({ path: `${dir}/vendor`, data: g.badId + '\n' }); break;
    case 'empty': resource = pick(['', '\n'], g.k) + ' '; break;
  }
  if (resource !== '') files.push({ path: `${dir}/resource`, data: resource ?? lines.join(g.mut === 'crlf' ? '\r\n' : '\n') + '\n' });
  if (g.mut !== 'no-ids' && g.mut !== 'vendor-bad') files.push({ path: `${dir}/vendor`, data: g.vendor + '\n' }, { path: `${dir}/device`, data: g.device + '\n' });
  if (g.mut === 'no-resource') expect = 'invalid';
  const cmd = g.cmd.cmd === 'default' ? { ...g.cmd, cmd: 'plan' as const } : g.cmd;
  const spec = cmd.cmd === 'plan' && g.k % 2 === 0 ? ['--sysfs', `$D/${dir}`] : ['--device', `$D/${dir}`];
  const { argv, okCodes } = deviceArgv(cmd, spec, mappableOf(g.bars));
  return { family: 'sysfs', what: `${g.mut} ${cmd.cmd}`, expect, files, dirs, argv, okCodes };
});

// ---------------------------------------------------------------------------------------
// /proc/PID/maps files (inspect --maps): the maps real kernels printed under the QEMU oracle

const MAPS_FIXTURES = (() => {
  const dir = path.join(packageRoot(), 'fixtures', 'maps');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.maps') && fs.existsSync(path.join(dir, f.replace(/\.maps$/, '.device.json'))))
    .sort().map((f) => ({ maps: fs.readFileSync(path.join(dir, f), 'utf8'), device: fs.readFileSync(path.join(dir, f.replace(/\.maps$/, '.device.json')), 'utf8') }));
})();

const MAPS_MUTATIONS = [
  'none', 'none', 'none', 'deleted', 'wide-padding', 'odd-name', 'no-device',
  'swap', 'duplicate', 'upper-hex', 'crlf', 'no-perms', 'bad-perms', 'empty-line', 'misaligned', 'end-below', 'long-name', 'short-offset', 'no-inode', 'empty',
] as const;

export const mapsCase: fc.Arbitrary<FuzzCase> = fc.record({ f: fc.nat(), mut: fc.constantFrom(...MAPS_MUTATIONS), k: fc.nat(), name: nonEmptyWeird, json: fc.boolean() }).map((g) => {
  const fx = MAPS_FIXTURES[g.f % MAPS_FIXTURES.length];
  const lines = fx.maps.replace(/\n$/, '').split('\n');
  const i = g.k % lines.length;
  const j = (i + 1) % lines.length;
  let expect: Expect = 'invalid';
  const cols = lines[i].split(' ');
  switch (g.mut) {
    case 'none': case 'no-device': expect = 'valid'; break;
    case 'deleted': lines[i] = lines[i].endsWith(' ') || cols.length < 6 ? lines[i] : `${lines[i]} (deleted)`; expect = 'valid'; break;
    case 'wide-padding': lines[i] = lines[i].replace(/^(\S+ \S+ \S+ \S+ \S+) +(?=\S)/, '$1' + ' '.repeat(40)); expect = 'valid'; break;
    case 'odd-name': if (/^\S+ \S+ \S+ \S+ \S+$/.test(lines[i])) lines[i] += ' '.repeat(10) + g.name.replace(/[\n\r]/g, '?').slice(0, 2000); expect = 'valid'; break;
    case 'swap': if (i === j) lines.push(lines[i]); else [lines[i], lines[j]] = [lines[j], lines[i]]; break;
    case 'duplicate': lines.splice(i, 0, lines[i]); break;
    case 'upper-hex': lines[i] = lines[i].replace(/^([0-9a-f]+)-/, (_m, a: string) => `${a.toUpperCase().replace(/^0/, 'A')}-`); break;
    case 'crlf': lines[i] = cols.length > 5 && lines[i].trimEnd() !== lines[i].slice(0, 73) ? lines[i] + '\r' : lines[i].replace(/^(\S+ \S+ \S+ \S+ \S+)$/, '$1 x\r'); break;
    case 'no-perms': lines[i] = lines[i].replace(/^(\S+) \S+ /, '$1 '); break;
    case 'bad-perms': lines[i] = lines[i].replace(/^(\S+) \S+ /, `$1 ${pick(['rwxq', 'RW-p', 'rw-', 'rw-pp'], g.k)} `); break;
    case 'empty-line': lines.splice(i, 0, ''); break;
    case 'misaligned': lines[i] = lines[i].replace(/^([0-9a-f]+)000-/, '$1001-'); break;
    case 'end-below': lines[i] = lines[i].replace(/^([0-9a-f]+)-([0-9a-f]+) /, '$2-$1 '); break;
    case 'long-name': lines[i] = lines[i].replace(/^(\S+ \S+ \S+ \S+ \S+).*$/, '$1 /' + 'x'.repeat(5000)); break;
    case 'short-offset': lines[i] = lines[i].replace(/^(\S+ \S+) \S+ /, '$1  '); break;
    case 'no-inode': lines[i] = lines[i].replace(/^(\S+ \S+ \S+ \S+) \S+/, '$1 '); break;
    case 'empty': lines.length = 0; break;
  }
  const files: FuzzCase['files'] = [{ path: 'pid.maps', data: lines.length === 0 ? '' : lines.join('\n') + '\n' }];
  const argv = ['inspect', '--maps', '$D/pid.maps', ...(g.json ? ['--json'] : [])];
  if (g.mut !== 'no-device') {
    files.push({ path: 'dev.json', data: fx.device });
    argv.push('--device', '$D/dev.json');
  }
  return { family: 'maps', what: `${g.mut} inspect`, expect, files, argv };
});

// ---------------------------------------------------------------------------------------
// traces (pfnmap-trace/1, .json and .json.gz)

interface Base { name: string; trace: Record<string, unknown>; touches: boolean }
let basesCache: Base[] | undefined;
/** A few cheap bundled traces to mutate. */
function bases(): Base[] {
  if (basesCache) return basesCache;
  const root = packageRoot();
  const files = ['fixtures/kernel-traces/mixed-1.json', 'fixtures/kernel-traces/anon-vma-reuse.json', 'fixtures/vfio-traces/linux-7.2-bar2-64m-hint.json',
    'fixtures/vfio-traces/linux-6.12-random-1-0.json', 'fixtures/vfio-traces/linux-7.2-bar2-2g-bad.json', 'fixtures/vfio-traces/linux-6.12-bar2-2g-hazard-munmap4k.json', 'fixtures/vfio-traces/linux-7.2-random-2-1.json'];
  basesCache = files.map((f) => {
    const trace = JSON.parse(fs.readFileSync(path.join(root, f), 'utf8')) as Record<string, unknown>;
    return { name: path.basename(f), trace, touches: (trace.ops as { op: string }[]).some((o) => o.op === 'touch') };
  });
  return basesCache;
}

const PROTS = ['none', 'r', 'w', 'rw', 'x', 'rx', 'wx', 'rwx'];
const FLAGS = ['PRIVATE', 'SHARED', 'SHARED_VALIDATE', 'ANONYMOUS', 'FIXED', 'FIXED_NOREPLACE', '32BIT', 'NORESERVE', 'GROWSDOWN', 'STACK', 'POPULATE'];
const anyHex = fc.oneof(
  fc.constantFrom('0x0', '0x1000', '0x200000', '0x40000000', '0x7ffff7600000', '0xfffffffffffff000', '0xffffffffffffffff', '0x1', '0xfff', '0x800000000000'),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => hex(n)),
  fc.integer({ min: 0, max: 2 ** 20 }).map((n) => hex(n * 4096)),
);

/** A syntactically valid op (no touch: a touch may only reach device memory, which random ops cannot promise). */
const opArb = fc.record({
  op: fc.constantFrom('mmap', 'munmap', 'mprotect', 'madvise'), addr: anyHex, len: anyHex, prot: fc.constantFrom(...PROTS),
  flags: fc.subarray(FLAGS, { maxLength: 4 }), offset: anyHex, rel: fc.option(fc.tuple(fc.nat(), fc.boolean(), anyHex), { nil: undefined }),
  advice: fc.constantFrom('HUGEPAGE', 'NOHUGEPAGE'), res: fc.oneof(anyHex.map((ret) => ({ ret })), fc.constantFrom({ errno: 'EINVAL' }, { errno: 'ENOMEM' }, { errno: 'EEXIST' }, { errno: 'E1614' })),
});

const TRACE_MUTATIONS = [
  'none', 'none', 'gzip', 'bom', 'pretty', 'unknown-key', 'weird-name', 'ret-changed', 'extra-ops', 'prefix', 'drop-ns', 'env-values', 'synth',
  'drop-top', 'type-top', 'format-wrong', 'arch-wrong', 'env-drop', 'randomize', 'pagesize', 'maxmapcount', 'overcommit', 'env-bool',
  'op-drop', 'op-type', 'op-kind', 'op-hex', 'op-prot', 'op-flag', 'op-fd', 'op-ref', 'op-advice', 'op-scalar',
  'vma-drop', 'vma-hex', 'vma-perms', 'vma-dup', 'vma-unsorted', 'vma-overlap', 'vma-empty', 'vma-unaligned', 'vma-backing',
  'result-count', 'result-bad', 'result-errno', 'result-faults', 'ns-count', 'ns-bad', 'files-dup', 'files-kind', 'files-size',
  'model-kernel', 'model-config', 'deep', 'truncated', 'gzip-truncated', 'not-json',
] as const;

export const traceCase: fc.Arbitrary<FuzzCase> = fc.record({
  base: fc.nat(), mut: fc.constantFrom(...TRACE_MUTATIONS), k: fc.nat(), j: fc.nat(), bad: badHex, notStr: notString, deep: deepArb, json: fc.boolean(),
  ops: fc.array(opArb, { minLength: 1, maxLength: 12 }), hexv: anyHex, name: weirdText,
}).map((g) => {
  const b = pick(bases(), g.base);
  const t = structuredClone(b.trace);
  const ops = t.ops as Record<string, unknown>[];
  const results = t.results as Record<string, unknown>[];
  const lists = ['initial', 'final'].filter((l) => (t[l] as unknown[]).length > 0);
  const listName = pick(lists, g.j);
  const list = t[listName] as Record<string, unknown>[];
  const vi = g.k % list.length;
  const oi = g.k % ops.length;
  const op = ops[oi];
  let expect: Expect = 'invalid';
  let okCodes: number[] = [0, 1];
  let data: string | Uint8Array | undefined;
  let gz = false;
  const synthOps = () => g.ops.map((o, i) => {
    const addr = o.rel && i > 0 ? `@${o.rel[0] % i}${o.rel[1] ? '+' : '-'}${o.rel[2]}` : o.addr;
    switch (o.op) {
      case 'mmap': return { op: 'mmap', addr, len: o.len, prot: o.prot, flags: o.flags, fd: null, offset: o.offset };
      case 'mprotect': return { op: 'mprotect', addr, len: o.len, prot: o.prot };
      case 'madvise': return { op: 'madvise', addr, len: o.len, advice: o.advice };
      default: return { op: 'munmap', addr, len: o.len };
    }
  });
  switch (g.mut) {
    case 'none': case 'bom': case 'pretty': case 'unknown-key': expect = 'valid'; okCodes = [0]; break;
    case 'gzip': expect = 'valid'; okCodes = [0]; gz = true; break;
    case 'weird-name': t.name = g.name; expect = 'valid'; okCodes = [0]; break;
    case 'ret-changed': { const r = results[oi]; if ('ret' in r) r.ret = g.hexv; else results[oi] = { ret: g.hexv }; expect = 'valid'; break; }
    case 'extra-ops': if (b.touches) { expect = 'any'; } else expect = 'valid';
      for (const o of synthOps()) { ops.push(o); results.push(pick([{ ret: '0x0' }, { errno: 'EINVAL' }, { ret: g.hexv }], g.j)); }
      if (t.ns) (t.ns as number[]).push(...g.ops.map(() => 1));
      // @K of the new ops meant the new ops' own indices
      for (let i = ops.length - g.ops.length; i < ops.length; i++) ops[i].addr = (ops[i].addr as string).replace(/^@(\d+)/, (_, n) => `@${Number(n) + ops.length - g.ops.length}`);
      break;
    case 'prefix': { const n = g.k % (ops.length + 1); ops.length = n; results.length = n; if (t.ns) (t.ns as unknown[]).length = n; expect = 'valid'; break; }
    case 'drop-ns': delete t.ns; expect = 'valid'; okCodes = [0]; break;
    case 'env-values': { const env = t.env as Record<string, unknown>; env[pick(['rlimitStack', 'mmapMinAddr', 'stackGuardGap', 'commitPages'], g.j)] = g.hexv;
      env.maxMapCount = pick([0, 1, 65530, 0x7fffffff], g.k); env.overcommitMemory = g.k % 3; expect = b.touches ? 'any' : 'valid'; break; }
    case 'synth': {
      t.name = 'synth'; t.kernel = '6.18.0'; delete t.model; t.files = [{ id: 'm0', kind: 'memfd', size: '0x2000000' }]; t.initial = []; t.final = [];
      const s = synthOps(); t.ops = s; t.results = g.ops.map((o) => o.res); delete t.ns; expect = 'valid'; break;
    }
    case 'drop-top': delete t[pick(['format', 'name', 'arch', 'env', 'files', 'initial', 'ops', 'results', 'final'], g.j)]; break;
    case 'type-top': { const k = pick(['name', 'env', 'files', 'initial', 'ops', 'results', 'final', 'ns', 'model'], g.j); t[k] = k === 'name' ? g.notStr : pick([1, 'x', null, true, k === 'env' || k === 'model' ? [] : {}], g.k); break; }
    case 'format-wrong': t.format = pick(['pfnmap-trace/2', 'pfnmap-trace/1\n', '', 1], g.k); break;
    case 'arch-wrong': t.arch = pick(['arm64', 'x86-64', 'X86_64', 'x86_64\u0000'], g.k); break;
    case 'env-drop': delete (t.env as Record<string, unknown>)[pick(['rlimitStack', 'randomize', 'pageSize'], g.j)]; break;
    case 'randomize': (t.env as Record<string, unknown>).randomize = pick([true, 'false', 0, null], g.k); break;
    case 'pagesize': (t.env as Record<string, unknown>).pageSize = pick([65536, '4096', 4096.5, -4096, 0], g.k); break;
    case 'maxmapcount': (t.env as Record<string, unknown>).maxMapCount = pick([-1, 2 ** 31, 1.5, '65530', null, 1e300], g.k); break;
    case 'overcommit': (t.env as Record<string, unknown>).overcommitMemory = pick([3, -1, '0', 0.5, null], g.k); break;
    case 'env-bool': (t.env as Record<string, unknown>)[pick(['la57', 'capSysRawio'], g.j)] = pick(['true', 1, null], g.k); break;
    case 'op-drop': { const keys = Object.keys(op).filter((k) => op.op !== 'madvise' || k !== 'prot'); delete op[pick(keys, g.j)]; break; }
    case 'op-type': { const key = pick(Object.keys(op), g.j); op[key] = pick(key === 'fd' ? [1, true, {}, []] : [1, null, true, {}], g.k); break; } // fd null and flags [] are valid
    case 'op-kind': op.op = pick(['MMAP', 'mmap2', 'touch\n', '', 'brk'], g.k); break;
    case 'op-hex': op[pick(['len', ...(op.op === 'mmap' ? ['offset'] : []), ...((op.addr as string).startsWith('@') ? [] : ['addr'])], g.j)] = g.bad; break;
    case 'op-prot': { const m = ops.find((o, i) => i >= oi && 'prot' in o) ?? ops.find((o) => 'prot' in o); if (m) m.prot = pick(['RW', 'rw\n', 'rwxs', '', 'wr'], g.k); else expect = 'any'; break; }
    case 'op-flag': { const m = ops.find((o) => o.op === 'mmap'); if (m) (m.flags as unknown[]).push(pick(['MAP_SHARED', 'shared', 'PRIVATE ', 1, null, 'HUGETLB'], g.k)); else expect = 'any'; break; }
    case 'op-fd': { const m = ops.find((o) => o.op === 'mmap'); if (m) { if (g.k % 2) delete m.fd; else m.fd = 'no-such-file'; } else expect = 'any'; break; }
    case 'op-ref': op.addr = pick([`@${oi}`, `@${oi + 5}`, '@-1', '@0+0X10', '@0+10', '@0x0', '@', '@ 0'], g.k); if (oi === 0 && /^@0\+|^@0x/.test(op.addr as string)) expect = 'invalid'; break;
    case 'op-advice': { const m = ops.find((o) => o.op === 'madvise'); if (m) m.advice = pick(['hugepage', 'HUGEPAGE\r', 'DONTNEED', null], g.k); else op.op = 'madvise', op.advice = 'WILLNEED'; break; }
    case 'op-scalar': ops[oi] = pick([null, 1, 'mmap', []], g.k) as never; break;
    case 'vma-drop': delete list[vi][pick(['start', 'end', 'offset', 'perms', 'backing'], g.j)]; break;
    case 'vma-hex': list[vi][pick(['start', 'end', 'offset'], g.j)] = g.bad; break;
    case 'vma-perms': list[vi].perms = pick(['rw-', 'rw-P', 'rwxps', 'RW-P', 'rw-p\n', '', 1], g.k); break;
    case 'vma-dup': list.splice(vi, 0, { ...list[vi] }); break;
    case 'vma-unsorted': if (list.length > 1) { const a = vi % (list.length - 1); [list[a], list[a + 1]] = [list[a + 1], list[a]]; } else list.push({ ...list[0], start: '0x1000', end: '0x2000' }); break;
    case 'vma-overlap': if (list.length > 1) { const a = vi % (list.length - 1); list[a + 1] = { ...list[a + 1], start: hex(BigInt(list[a].end as string) - 0x1000n) }; } else list.push({ ...list[0] }); break;
    case 'vma-empty': list[vi] = { ...list[vi], end: list[vi].start }; break;
    case 'vma-unaligned': { const init = t.initial as Record<string, unknown>[]; if (init.length === 0) { expect = 'any'; break; } const v = init[g.k % init.length]; v.end = hex(BigInt(v.end as string) - 0x800n); break; }
    case 'vma-backing': { const init = t.initial as Record<string, unknown>[]; if (init.length === 0) { expect = 'any'; break; } init[g.k % init.length].backing = pick(['file-x', 'ANON', 'anon\n', 1], g.j); break; }
    case 'result-count': if (g.k % 2) results.pop(); else results.push({ ret: '0x0' }); break;
    case 'result-bad': results[oi] = pick([{}, { ret: 1 }, { ret: '0X0' }, { signal: 'SIGKILL' }, null, [], { Ret: '0x0' }], g.k) as never; break;
    case 'result-errno': results[oi] = { errno: pick(['EFOO', 'einval', 'E', 'E-1', 'EINVAL\n', ''], g.k) }; break;
    case 'result-faults': results[oi] = { ret: '0x0', faults: pick([-1, 1.5, '3', null, 2 ** 60], g.k) }; break;
    case 'ns-count': t.ns = ((t.ns as number[] | undefined) ?? ops.map(() => 1)).slice(1); break;
    case 'ns-bad': { const ns = (t.ns as unknown[] | undefined) ?? ops.map(() => 1); ns[oi] = pick([-1, '5', null, true], g.k); t.ns = ns; break; }
    case 'files-dup': { const f = t.files as Record<string, unknown>[]; f.push({ ...(f[0] ?? { id: 'd', kind: 'memfd', size: '0x1000' }) }); if (f.length === 1) f.push({ ...f[0] }); break; }
    case 'files-kind': (t.files as unknown[]).push({ id: 'zz', kind: pick(['MEMFD', 'hugetlbfs', '', 1], g.k), size: '0x1000' }); break;
    case 'files-size': (t.files as unknown[]).push({ id: 'zz', kind: 'memfd', ...(g.k % 2 ? { size: g.bad } : {}) }); break;
    case 'model-kernel': t.model = pick([{ kernel: 'linux-9.9' }, { kernel: 1 }, {}, 'v2', { kernel: 'toString' }, { kernel: '__proto__' }], g.k); break;
    case 'model-config': t.model = { kernel: 'v2', config: pick([{ thpEnabled: 'sometimes' }, { compat: 'yes' }, { hugePfnmap: { arch: true, pmd: true } }, { hugePfnmap: { arch: true, pmd: true, pud: true, pte: true } }, { bogus: true }, { hazards: [] }, []], g.k) }; break;
    case 'deep': { const where = pick(['top', 'op', 'vma', 'result'], g.j); const o = where === 'top' ? t : where === 'op' ? op : where === 'vma' ? list[vi] : results[oi]; o.zz = g.deep; break; }
    case 'truncated': { const s = JSON.stringify(t); data = s.slice(0, g.k % (s.length - 1)); break; }
    case 'gzip-truncated': { const z = gzipSync(JSON.stringify(t)); data = z.subarray(0, 2 + (g.k % (z.length - 10))); break; }
    case 'not-json': data = pick(['', 'null', '[]', '"trace"', '1', '\u0000\u0000', '{"format":"pfnmap-trace/1"}', '\ufeff\ufeff{}'], g.k); break;
  }
  if (g.mut === 'unknown-key') t.comment = ['anything', { at: 1 }];
  if (data === undefined) {
    const s = (g.mut === 'bom' ? '\ufeff' : '') + (g.mut === 'pretty' ? JSON.stringify(t, null, 2) : JSON.stringify(t));
    data = gz ? gzipSync(s) : s;
  }
  const file = `trace.json${gz || g.mut === 'gzip-truncated' ? '.gz' : ''}`;
  return { family: 'trace', what: `${g.mut} ${b.name}`, expect, files: [{ path: file, data }], argv: ['replay', `$D/${file}`, ...(g.json ? ['--json'] : [])], okCodes };
});

// ---------------------------------------------------------------------------------------
// sweep shards (merge)

const TOTAL_KEYS = ['cases', 'failed', 'bytes', 'pudBytes', 'pmdBytes', 'pteBytes', 'faults', 'tlbEntries'] as const;

const MERGE_MUTATIONS = [
  'none', 'none', 'none', 'partial', 'gzip', 'bom', 'svg', 'huge-totals',
  'format', 'seed', 'count', 'thp', 'shards-empty', 'shard-bad', 'shard-dup', 'shard-mixed', 'variants-empty', 'variant-unknown',
  'total-extra', 'total-bad', 'cases-wrong', 'failed-over', 'bytes-unpaged', 'leaves-unwhole', 'leaves-over', 'missing', 'same-shard-twice',
  'other-seed', 'other-variants', 'deep', 'not-object', 'no-files', 'svg-dir', 'overflow',
] as const;

export const mergeCase: fc.Arbitrary<FuzzCase> = fc.record({
  seed: fc.nat(), count: fc.integer({ min: 1, max: 100_000 }), n: fc.integer({ min: 1, max: 6 }), variants: fc.subarray([...KERNELS], { minLength: 1 }),
  thp: fc.constantFrom(...THPS), per: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(1000), fc.nat(1000), fc.nat(1000)), { minLength: 1, maxLength: 8 }),
  mut: fc.constantFrom(...MERGE_MUTATIONS), k: fc.nat(), deep: deepArb,
}).map((g) => {
  const casesIn = (i: number) => (i < g.count ? Math.floor((g.count - 1 - i) / g.n) + 1 : 0);
  const shard = (i: number) => {
    const cases = casesIn(i);
    const variants: Record<string, Record<string, number>> = {};
    g.variants.forEach((v, vi) => {
      const [fr, a, b, c] = g.per[vi % g.per.length];
      const failed = Math.floor(cases * fr / 2);
      const big = g.mut === 'huge-totals' || g.mut === 'overflow';
      const pages = big ? 2 ** 38 : (cases - failed) * (1 + a);
      const bytes = pages * 4096;
      const pud = big ? Math.floor(pages / 2 ** 18 / 2) : Math.floor(pages / 2 ** 18);
      const pmd = Math.floor((pages - pud * 2 ** 18) / 512 / (1 + (b % 3)));
      const pte = pages - pud * 2 ** 18 - pmd * 512 - (c % 2 && pages - pud * 2 ** 18 - pmd * 512 > 0 ? 1 : 0);
      variants[v] = { cases, failed, bytes, pudBytes: pud * 2 ** 30, pmdBytes: pmd * 2 ** 21, pteBytes: pte * 4096, faults: pud + pmd + pte, tlbEntries: pud + pmd + pte };
    });
    return { format: 'pfnmap-sweep/1', seed: g.seed, count: g.count, shards: [`${i}/${g.n}`], thp: g.thp, variants } as Record<string, unknown>;
  };
  const parts = Array.from({ length: g.n }, (_, i) => shard(i));
  // huge-totals: each shard near 2^52 bytes, still safe when added; overflow: enough shards that the sum is not
  if (g.mut === 'huge-totals') parts.length = 1, parts[0].shards = ['0/1'], parts[0].count = g.count, Object.values(parts[0].variants as Record<string, Record<string, number>>).forEach((t) => { t.cases = g.count; });
  const p = parts[g.k % parts.length];
  const vt = (p.variants as Record<string, Record<string, unknown>>);
  const v0 = vt[Object.keys(vt)[0]];
  let expect: Expect = 'invalid';
  const flags: string[] = [];
  let gz = false;
  let bom = false;
  let raw: (string | undefined)[] | undefined;
  const n = g.n;
  switch (g.mut) {
    case 'none': case 'huge-totals': expect = 'valid'; break;
    case 'gzip': gz = true; expect = 'valid'; break;
    case 'bom': bom = true; expect = 'valid'; break;
    case 'svg': flags.push('--svg', '$D/cov.svg'); expect = 'valid'; break;
    case 'partial': if (parts.length > 1) parts.splice(g.k % parts.length, 1); flags.push('--partial'); expect = 'valid'; break;
    case 'overflow': {
      // the sum of the shards' bytes passes 2^53: no sweep produces it, and the JSON would lose precision
      if (casesIn(0) * 2 ** 50 < 2 ** 53 / n) { expect = 'any'; break; }
      break;
    }
    case 'format': p.format = pick(['pfnmap-sweep/2', '', null, 'pfnmap-trace/1'], g.k); break;
    case 'seed': p.seed = pick([-1, 1.5, '1', null, 2 ** 53], g.k); break;
    case 'count': p.count = pick([0, -5, 1.5, '10', null], g.k); break;
    case 'thp': p.thp = pick(['sometimes', '', 'ALWAYS', 1], g.k); break;
    case 'shards-empty': p.shards = pick([[], 'x', null, {}], g.k); break;
    case 'shard-bad': p.shards = [pick([`${n}/${n}`, `0${0}/${n}`, '-1/2', '1/0', 'a/b', '0/1\n', ' 0/1', 1, '0x0/1'], g.k)]; break;
    case 'shard-dup': p.shards = [...(p.shards as string[]), ...(p.shards as string[])]; break;
    case 'shard-mixed': p.shards = [...(p.shards as string[]), `0/${n + 1}`]; break;
    case 'variants-empty': p.variants = pick([{}, [], null, 'v2'], g.k); break;
    case 'variant-unknown': Object.defineProperty(vt, pick(['linux-9.9', 'V2', 'toString', '__proto__', 'v2\n'], g.k), { value: { ...v0 }, enumerable: true, writable: true, configurable: true }); break; // an own key, even "__proto__"
    case 'total-extra': v0.bogus = 0; break;
    case 'total-bad': v0[pick(TOTAL_KEYS, g.k)] = pick([-1, 1.5, '1', null, 2 ** 53, 1e300], g.k >> 3); break;
    case 'cases-wrong': v0.cases = (v0.cases as number) + 1; break;
    case 'failed-over': v0.failed = (v0.cases as number) + 1; break;
    case 'bytes-unpaged': v0.bytes = (v0.bytes as number) + 1; break;
    case 'leaves-unwhole': v0.pmdBytes = (v0.pmdBytes as number) + 4096; v0.bytes = (v0.bytes as number) + 4096; break;
    case 'leaves-over': v0.pteBytes = (v0.pteBytes as number) + 2 * 4096 + (v0.bytes as number); break;
    case 'missing': if (parts.length > 1) parts.splice(g.k % parts.length, 1); else { parts[0].shards = [`0/2`]; (Object.values(parts[0].variants as object) as Record<string, number>[]).forEach((t) => { t.cases = Math.floor((g.count - 1) / 2) + 1; t.failed = Math.min(t.failed, t.cases); t.bytes = t.pudBytes + t.pmdBytes + t.pteBytes; }); } break;
    case 'same-shard-twice': parts.push(structuredClone(p)); break;
    case 'other-seed': if (parts.length > 1) p.seed = g.seed + 1; else parts.push({ ...structuredClone(p), seed: g.seed + 1 }); break;
    case 'other-variants': if (parts.length > 1) { const other = KERNELS.find((x) => !Object.hasOwn(vt, x)); if (other) vt[other] = { ...v0 }; else delete vt[Object.keys(vt)[0]]; if (Object.keys(vt).length === 0) expect = 'invalid'; } else expect = 'any'; if (parts.length > 1 && Object.keys(vt).length === 0) vt.v2 = v0; break;
    case 'deep': p.extra = g.deep; break;
    case 'not-object': raw = [pick(['[]', 'null', '1', '"x"', '', '{', '\u0000'], g.k)]; break;
    case 'no-files': raw = []; break;
    case 'svg-dir': flags.push('--svg', '$D'); break;
  }
  if (g.mut === 'overflow' && expect === 'invalid') {
    // make every shard's bytes ~2^50 so the n shards together pass 2^53
    for (const q of parts) for (const t of Object.values(q.variants as Record<string, Record<string, number>>)) {
      if (t.cases === 0) continue;
      t.failed = 0; t.bytes = 2 ** 52; t.pudBytes = 2 ** 51; t.pmdBytes = 0; t.pteBytes = 0;
    }
    if (n < 3 || parts.some((q) => Object.values(q.variants as Record<string, Record<string, number>>).some((t) => t.cases === 0))) expect = 'any';
  }
  const texts = raw ?? parts.map((q) => (bom ? '\ufeff' : '') + JSON.stringify(q, null, 1));
  const files = texts.map((t, i) => ({ path: `shard-${i}.json${gz ? '.gz' : ''}`, data: gz ? gzipSync(t ?? '') : (t ?? '') }));
  return { family: 'merge', what: g.mut, expect, files, argv: ['merge', ...files.map((f) => `$D/${f.path}`), ...flags] };
});

// ---------------------------------------------------------------------------------------
// argv of every command

const valueArb = fc.oneof(
  fc.constantFrom('', ' ', '-1', '0', '1', '2', '0x10', '1e3', '007', '1.5', '99999999999999999', '0x1000', '-0x1000', 'v2', 'linux-6.18,v2', 'always', 'never',
    '0/1', '1/2', 'auto', '2/2', 'gpu-128g', 'nvme-16k', 'arm64-64k', 'x86_64', 'linux-7.2+v2', '0000:02:00.0', '--', '-', '--json', '\n', 'a\u0000b', 'toString', '__proto__', ',', '$D', '$D/x.svg', '$D/no/such/x.json'),
  fc.string({ maxLength: 8 }),
);
const OPTS: Record<string, string[]> = {
  '': ['--device', '--thp', '--json', '--svg'], fidelity: ['--json'], replay: ['--json'],
  'align-test': ['--device', '--bdf', '--kernel', '--loops', '--group', '--json', '--all-lines'],
  compare: ['--device', '--bdf', '--kernels', '--bar', '--offset', '--len', '--thp', '--arch', '--json', '--svg'],
  plan: ['--device', '--lspci', '--sysfs', '--bdf', '--kernel', '--thp', '--arch', '--json'],
  inspect: ['--maps', '--device', '--lspci', '--sysfs', '--bdf', '--kernel', '--thp', '--json'], kernels: ['--json'],
  sweep: ['--count', '--seed', '--kernels', '--thp', '--shard', '--workers', '--out', '--svg'], merge: ['--partial', '--svg'], help: [],
};
const BOOLS = new Set(['--json', '--all-lines', '--partial']);

/** Hand-written valid and invalid command lines of every command. */
const KNOWN_ARGV: [Expect, string[], number[]?][] = [
  ['valid', ['help']], ['valid', ['--help']], ['valid', ['-h']], ['valid', ['compare', '--help']], ['valid', ['sweep', '-h']], ['valid', ['bogus', '--help']],
  ['valid', ['compare', '--device', 'nvme-16k']], ['valid', ['compare', '--device', 'nic-32m', '--kernels', 'v2, linux-6.12', '--offset', '0x200000', '--len', '0x1000', '--json']],
  ['valid', ['compare', '--device', 'nic-32m', '--offset', '0X200000']], ['valid', ['plan', '--device', 'nvme-16k', '--thp', 'never', '--json']],
  ['valid', ['align-test', '--device', 'nvme-16k', '--loops', '2', '--kernel', 'linux-6.12'], [0, 255]], ['valid', ['compare', '--device', 'nvme-16k', '--bdf', '02:00.0']], ['valid', ['--device', 'nic-32m', '--thp', 'madvise']],
  ['valid', ['sweep', '--count', '3', '--workers', '1', '--seed', '5']], ['valid', ['sweep', '--count', '4', '--shard', '1/2', '--workers', '2', '--kernels', 'v2', '--out', '$D/o.json', '--svg', '$D/o.svg']],
  ['valid', ['replay', '$FIXTURE', '--json']],
  ['valid', ['compare', '--device', 'gpu-128g', '--arch', 'arm64-64k', '--kernels', 'linux-7.2,v1,v2,userspace']], ['valid', ['plan', '--device', 'nic-32m', '--arch', 'arm64-16k', '--json']],
  ['invalid', ['compare', '--device', 'nvme-16k', '--arch', 'arm64']], ['invalid', ['plan', '--device', 'nvme-16k', '--arch', '']], ['invalid', ['compare', '--device', 'nvme-16k', '--arch', 'arm64-4k', '--svg', '$D/x.svg']],
  ['valid', ['kernels']], ['valid', ['kernels', '--json']], ['invalid', ['kernels', 'extra']], ['invalid', ['inspect']], ['invalid', ['inspect', '--maps', '']],
  ['invalid', ['bogus']], ['invalid', ['fidelity', 'extra']], ['invalid', ['fidelity', '--bogus']], ['invalid', ['replay']], ['invalid', ['replay', 'a', 'b']], ['invalid', ['replay', '$D/missing.json']],
  ['invalid', ['replay', '$D']], ['invalid', ['align-test']], ['invalid', ['align-test', '--device', 'nvme-16k', '--kernel', 'linux-9']], ['invalid', ['align-test', '--device', 'nvme-16k', '--group', '-1']],
  ['invalid', ['align-test', '--device', 'nvme-16k', '--loops', '']], ['invalid', ['align-test', '--device', 'nvme-16k', '--loops', ' 1']], ['invalid', ['align-test', '--device', 'nvme-16k', '--json=yes']],
  ['invalid', ['compare']], ['invalid', ['compare', '--device', 'nvme-16k', '--bar', '1']], ['invalid', ['compare', '--device', 'nvme-16k', '--bar', '64']], ['invalid', ['compare', '--device', 'nvme-16k', '--bar', '0x0']],
  ['invalid', ['compare', '--device', 'nvme-16k', '--len', '0x0']], ['invalid', ['compare', '--device', 'nvme-16k', '--len', '']], ['invalid', ['compare', '--device', 'nvme-16k', '--offset', '4096']],
  ['invalid', ['compare', '--device', 'nvme-16k', '--offset', '0x' + 'f'.repeat(16)]], ['invalid', ['compare', '--device', 'nvme-16k', '--kernels', '']], ['invalid', ['compare', '--device', 'nvme-16k', '--kernels', 'v2,']],
  ['invalid', ['compare', '--device', 'nvme-16k', '--thp', '']], ['invalid', ['compare', '--device', 'nvme-16k', '--svg', '']], ['invalid', ['compare', '--device', 'no-such']], ['invalid', ['compare', '--device', '']],
  ['invalid', ['compare', '--device', 'nvme-16k', 'extra']], ['invalid', ['compare', '--device', 'nvme-16k', '--bdf', 'zz']], ['invalid', ['align-test', '--device', 'nvme-16k', '--loops', '1', '--bdf', '0000:02:00.8']],
  ['invalid', ['plan']], ['invalid', ['plan', '--device', 'nvme-16k', '--lspci', '$D/x']], ['invalid', ['plan', '--lspci', '$D/missing.txt']], ['invalid', ['plan', '--sysfs', '$D/missing']],
  ['invalid', ['plan', '--device', 'nvme-16k', '--kernel', 'nope']], ['invalid', ['plan', '--device', 'nvme-16k', '--bdf', '0000:02:00.8']], ['invalid', ['sweep', '--count', '']], ['invalid', ['sweep', '--count', '0']],
  ['invalid', ['sweep', '--count', '0x10']], ['invalid', ['sweep', '--seed', '-1']], ['invalid', ['sweep', '--workers', '0']], ['invalid', ['sweep', '--workers', '']], ['invalid', ['sweep', '--shard', '2/2']],
  ['invalid', ['sweep', '--shard', '0/0']], ['invalid', ['sweep', '--shard', '']], ['invalid', ['sweep', '--shard', 'auto']], ['invalid', ['sweep', '--shard', '1/2/3']], ['invalid', ['sweep', '--out', '$D']],
  ['invalid', ['sweep', '--kernels', 'v2,v9']], ['invalid', ['sweep', 'extra']], ['invalid', ['merge']], ['invalid', ['merge', '$D/missing.json']], ['invalid', ['merge', '--svg', '']],
  ['invalid', ['--device', 'nvme-16k', '--thp', 'sometimes']], ['invalid', ['--bogus']], ['invalid', ['--device']], ['invalid', ['--device', 'nvme-16k', 'extra']],
];

export const argvCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...KNOWN_ARGV).map(([expect, argv, okCodes]): FuzzCase => ({ family: 'argv', what: argv.join(' '), expect, files: [], argv, okCodes })) },
  {
    weight: 1,
    arbitrary: fc.record({
      cmd: fc.constantFrom(...Object.keys(OPTS), 'bogus'),
      toks: fc.array(fc.oneof({ weight: 3, arbitrary: fc.tuple(fc.nat(), valueArb, fc.boolean()) }, { weight: 1, arbitrary: fc.tuple(fc.constant(-1), valueArb, fc.boolean()) }), { maxLength: 6 }),
    }).map(({ cmd, toks }): FuzzCase => {
      const opts = OPTS[cmd] ?? ['--json'];
      const argv: string[] = cmd === '' ? [] : [cmd];
      for (const [o, v0, eq] of toks) {
        let v = v0;
        if (o < 0 || opts.length === 0) { argv.push(v); continue; }
        const name = pick(opts, o);
        // output files go in the case's directory, never the working directory ("" stays "")
        if ((name === '--svg' || name === '--out') && v !== '' && !v.startsWith('$D')) v = `$D/${v}`;
        if (BOOLS.has(name)) argv.push(name);
        else if (eq) argv.push(`${name}=${v}`);
        else argv.push(name, v);
      }
      // keep random runs cheap: sweeps small and on one thread, align-test short, no fidelity table of 1 s
      if (cmd === 'sweep') argv.push('--count', '2', '--workers', '1');
      if (cmd === 'align-test') argv.push('--loops', '1');
      if (cmd === 'fidelity') argv.push('--bogus');
      if (cmd === '' || cmd === 'compare' || cmd === 'plan' || cmd === 'align-test') {
        if (!argv.some((a) => a.startsWith('--device') || a.startsWith('--lspci') || a.startsWith('--sysfs'))) argv.push('--device', 'nvme-16k');
      }
      return { family: 'argv', what: `random ${cmd || '(default)'}`, expect: 'any', files: [], argv, okCodes: [0, 1, 255] };
    }),
  },
);

/** Every family, weighted. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 3, arbitrary: traceCase },
  { weight: 3, arbitrary: deviceCase },
  { weight: 2, arbitrary: lspciCase },
  { weight: 2, arbitrary: sysfsCase },
  { weight: 2, arbitrary: mapsCase },
  { weight: 2, arbitrary: mergeCase },
  { weight: 2, arbitrary: argvCase },
);

export { CHEAP_PRESETS };
