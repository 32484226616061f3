import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDevice, deviceToJson, sizeLabel } from '../src/devices/device.js';
import { preset, PRESET_NAMES } from '../src/devices/presets.js';
import { importLspci } from '../src/devices/lspci.js';
import { importSysfsResource } from '../src/devices/sysfs.js';
import { InputError } from '../src/trace/input-error.js';

const bars = (d: ReturnType<typeof parseDevice>) =>
  d.regions.filter((r) => r.kind === 'bar' && r.size > 0).map((r) => `${r.index}:${sizeLabel(r.size)}${r.mem64 ? ':64' : ''}${r.prefetchable ? ':pf' : ''}${r.io ? ':io' : ''}${r.mmap ? ':mmap' : ''}`);

test('every preset parses, names its source and round-trips through JSON', () => {
  assert.ok(PRESET_NAMES.includes('gpu-128g'));
  for (const n of PRESET_NAMES) {
    const d = preset(n)!;
    assert.ok(d.source && d.source.length > 20, `${n} has a source`);
    assert.deepEqual(parseDevice(deviceToJson(d)), d);
  }
  assert.deepEqual(bars(preset('gpu-128g')!), ['0:16M:64:pf:mmap', '2:128G:64:pf:mmap', '4:32M:64:pf:mmap']);
  assert.deepEqual(bars(preset('nvme-16k')!), ['0:16K:64:mmap']);
});

test('lspci -v without Region labels: BAR numbers follow 64-bit slot pairs', () => {
  const text = `02:00.0 3D controller [0302]: NVIDIA Corporation GH100 [H100 SXM5 80GB] [10de:2330] (rev a1)
	Subsystem: NVIDIA Corporation Device [10de:16c1]
	Flags: bus master, fast devsel, latency 0, IRQ 255, NUMA node 0
	Memory at 38c002000000 (64-bit, prefetchable) [size=16M]
	Memory at 38a000000000 (64-bit, prefetchable) [size=128G]
	Memory at 38c000000000 (64-bit, prefetchable) [size=32M]
	Capabilities: [60] Power Management version 3
	Kernel driver in use: vfio-pci
`;
  const d = importLspci(text);
  assert.equal(d.bdf, '0000:02:00.0');
  assert.equal(d.vendor, '0x10de');
  assert.equal(d.device, '0x2330');
  assert.deepEqual(bars(d), ['0:16M:64:pf:mmap', '2:128G:64:pf:mmap', '4:32M:64:pf:mmap']);
  assert.equal(d.regions.find((r) => r.index === 2)!.start, 0x38a000000000);
});

test('lspci -vv with Region labels, 32-bit BAR0, I/O BAR, ignored BAR and ROM, not indented', () => {
  const text = `0000:65:00.0 VGA compatible controller: NVIDIA Corporation AD102GL [RTX 6000 Ada Generation] (rev a1)
Region 0: Memory at f2000000 (32-bit, non-prefetchable) [size=16M]
Region 1: Memory at <ignored> (64-bit, prefetchable) [size=64G]
Region 3: Memory at 28010000000 (64-bit, prefetchable) [size=32M]
Region 5: I/O ports at e000 [size=128]
Expansion ROM at f3000000 [virtual] [disabled] [size=512K]
`;
  const d = importLspci(text);
  assert.deepEqual(bars(d), ['0:16M:mmap', '1:64G:64:pf', '3:32M:64:pf:mmap', '5:128:io']);
  assert.equal(d.regions.find((r) => r.index === 6)!.size, 512 * 1024);
});

test('lspci errors name the line', () => {
  assert.throws(() => importLspci('hello'), (e: unknown) => e instanceof InputError && /no device header/.test(e.message));
  assert.throws(() => importLspci('00:1f.3 Audio device: Intel\n\tMemory at f0000000 (64-bit) [size=16Q]\n'), (e: unknown) => e instanceof InputError && /^lspci line 2/.test(e.message));
  assert.throws(() => importLspci('00:02.0 X: Y\n\tMemory at f0000003 (32-bit, non-prefetchable) [size=16K]\n'), (e: unknown) => e instanceof InputError && /aligned to its size/.test(e.message));
});

test('sysfs resource file', () => {
  const text = [
    '0x00000000fa000000 0x00000000faffffff 0x0000000000040200',
    '0x0000028000000000 0x0000029fffffffff 0x000000000014220c',
    '0x0000000000000000 0x0000000000000000 0x0000000000000000',
    '0x000002a000000000 0x000002a001ffffff 0x000000000014220c',
    '0x0000000000000000 0x0000000000000000 0x0000000000000000',
    '0x000000000000e000 0x000000000000e07f 0x0000000000040101',
    '0x00000000fb000000 0x00000000fb07ffff 0x0000000000046200',
    '0x0000000000000000 0x0000000000000000 0x0000000000000000',
  ].join('\n');
  const d = importSysfsResource(text);
  assert.deepEqual(bars(d), ['0:16M:mmap', '1:128G:64:pf:mmap', '3:32M:64:pf:mmap', '5:128:io']);
  assert.throws(() => importSysfsResource('0x1 0x2\n'), (e: unknown) => e instanceof InputError && /^resource:/.test(e.message));
  assert.throws(() => importSysfsResource(text.replace('0x0000028000000000 0x0000029fffffffff', '0x0000028000000000 zz')), (e: unknown) => e instanceof InputError && /^resource line 2/.test(e.message));
});

test('device validation names the field', () => {
  const good = deviceToJson(preset('gpu-128g')!) as any;
  const cases: [(d: any) => void, RegExp][] = [
    [(d) => (d.format = 'x'), /^device\.format/],
    [(d) => (d.regions[2].size = '0x3000000000'), /^device\.regions\[2\]\.size: a memory BAR's size is a power of two/],
    [(d) => (d.regions[2].start = '0x38a000001000'), /^device\.regions\[2\]\.start: a BAR is aligned/],
    [(d) => delete d.regions[0].start, /^device\.regions\[0\]\.start: required/],
    [(d) => (d.regions[1].index = 0), /^device\.regions\[1\]\.index: region 0 appears twice/],
    [(d) => (d.regions[0].kind = 'rom'), /^device\.regions\[0\]\.kind/],
    [(d) => (d.regions[2].start = '0x10000000000000'), /52-bit/],
    [(d) => (d.bdf = '2:0.0'), /^device\.bdf/],
  ];
  for (const [mutate, re] of cases) {
    const d = structuredClone(good);
    mutate(d);
    assert.throws(() => parseDevice(d), (e: unknown) => e instanceof InputError && re.test(e.message), re.source);
  }
});
