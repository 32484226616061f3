// pfnmap inspect on maps files: the fixtures/maps/linux-* files are /proc/self/maps as
// Debian's 6.12.117 and 7.2.13 printed them under the QEMU oracle (npm run oracle:vfio --
// --maps), each with the device it mapped; host-6.18-cat-cdev-synthetic.maps is this
// machine's `setarch -R cat /proc/self/maps` with one synthetic /dev/vfio/devices/vfio0 line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { packageRoot } from '../src/cli/paths.js';
import { parseMaps, vfioKind } from '../src/cli/maps.js';
import { inspect, defaultKernels, RELEASED } from '../src/cli/inspect.js';
import { loadDevice } from '../src/devices/load.js';
import { InputError } from '../src/trace/input-error.js';

const root = packageRoot();
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: root });
const fx = (name: string) => path.join(root, 'fixtures', 'maps', name);
const read = (name: string) => fs.readFileSync(fx(name), 'utf8');

function report(name: string, kernels = RELEASED, withDevice = true) {
  const dev = withDevice ? loadDevice(fx(name.replace(/\.maps$/, '.device.json'))) : undefined;
  return inspect(read(name), name, { device: dev, kernels, thp: 'always' });
}

for (const k of ['linux-6.12', 'linux-7.2'] as const) {
  test(`inspect ${k} (real kernel): the model's no-hint mmap lands where the kernel put the last mapping`, () => {
    // 64m-nohint: BAR2 was the only mmap; 2g-nohint: BAR0 (offset 0) was mapped after BAR2
    for (const [file, region] of [[`${k}-64m-nohint.maps`, 2], [`${k}-2g-nohint.maps`, 0]] as const) {
      const r = report(file, [k]);
      const m = r.vfio.find((x) => x.region === region)!;
      assert.ok(m, `${file}: a mapping of region ${region}`);
      assert.equal(m.fd, 'group');
      assert.equal(m.name, 'anon_inode:[vfio-device]');
      const row = m.noHint!.find((x) => x.variant === k)!;
      assert.equal(row.addr, m.start, `${file}: ${k} places it where the real kernel did`);
    }
  });

  test(`inspect ${k} (real kernel): the congruent MAP_FIXED BAR gets two 1G leaves, as the kernel's two faults showed`, () => {
    const r = report(`${k}-2g-fixed.maps`, [k]);
    assert.equal(r.vfio.length, 1);
    const m = r.vfio[0];
    assert.equal(m.region, 2);
    assert.equal(m.barOffset, 0);
    assert.equal(m.size, 2 ** 31);
    assert.equal(m.vaAlignment, 2 ** 30);
    assert.equal(m.congruence, 2 ** 30);
    assert.deepEqual(m.today![0].leaves, { pud: 2, pmd: 0, pte: 0 });
    assert.equal(m.today![0].faults, 2);
    // BAR0 is not mapped: where its next no-hint mmap lands, per variant
    assert.deepEqual(r.unmapped.map((u) => u.bar), [0]);
    assert.equal(r.unmapped[0].rows.length, 1 + 4);
  });
}

test('inspect (real kernels): where the BAR is today decides its leaves — 6.12 2M-aligned, 7.2 page-aligned', () => {
  const m612 = report('linux-6.12-2g-nohint.maps', ['linux-6.12']).vfio.find((x) => x.region === 2)!;
  assert.deepEqual(m612.today![0].leaves, { pud: 0, pmd: 1024, pte: 0 }); // the kernel: 2 faults for the first 4 MiB
  const m72 = report('linux-7.2-2g-nohint.maps', ['linux-7.2']).vfio.find((x) => x.region === 2)!;
  assert.equal(m72.vaAlignment, 4096);
  assert.deepEqual(m72.today![0].leaves, { pud: 0, pmd: 0, pte: 524288 }); // the kernel: 1,024 faults for 4 MiB
  // the designs place a no-hint mmap of it 1G-aligned in the same address space
  for (const d of ['v1', 'order-arg', 'v2', 'userspace']) {
    const row = m72.noHint!.find((x) => x.variant === d)!;
    assert.deepEqual(row.leaves, { pud: 2, pmd: 0, pte: 0 }, d);
  }
});

test('inspect without a device: region, offset and alignment only, and a note that a device is needed', () => {
  const r = report('linux-7.2-2g-fixed.maps', RELEASED, false);
  assert.equal(r.device, null);
  assert.equal(r.vfio[0].region, 2);
  assert.equal(r.vfio[0].vaAlignment, 2 ** 30);
  assert.equal(r.vfio[0].today, undefined);
  assert.equal(r.vfio[0].congruence, undefined);
  assert.ok(r.notes.some((n) => /device/.test(n) && /congruence/.test(n)));
  const out = run(['inspect', '--maps', fx('linux-7.2-2g-fixed.maps')]);
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /BAR2 \(region index 2 = offset >> 40\) from 0x0, 2G; VA aligned to 1G/);
  assert.match(out.stdout, /need one \(--device, --lspci or --sysfs\)/);
});

test('inspect a cdev mapping (/dev/vfio/devices/vfioN) in this machine\'s real maps (synthetic VFIO line)', () => {
  const r = inspect(read('host-6.18-cat-cdev-synthetic.maps'), 'host', { device: loadDevice('nic-32m'), kernels: ['linux-6.18'], thp: 'always' });
  assert.equal(r.vfio.length, 1);
  const m = r.vfio[0];
  assert.equal(m.fd, 'cdev');
  assert.equal(m.congruence, 4 * 2 ** 20);
  assert.deepEqual(m.today![0].leaves, { pud: 0, pmd: 16, pte: 0 });
  // 6.18 would not have put it there: a no-hint mmap is page aligned, 4K leaves
  const k = m.noHint!.find((x) => x.variant === 'linux-6.18')!;
  assert.deepEqual(k.leaves, { pud: 0, pmd: 0, pte: 8192 });
  assert.deepEqual(m.noHint!.find((x) => x.variant === 'v2')!.leaves, { pud: 0, pmd: 16, pte: 0 });
});

test('inspect --json through the CLI, and the device from --lspci/--sysfs needs --bdf when there are several', () => {
  const out = run(['inspect', '--maps', fx('linux-6.12-64m-nohint.maps'), '--device', fx('linux-6.12-64m-nohint.device.json'), '--kernel', 'linux-6.12', '--json']);
  assert.equal(out.status, 0, out.stderr);
  const j = JSON.parse(out.stdout);
  assert.deepEqual(j.kernels, ['linux-6.12']);
  assert.equal(j.vfio[0].today[0].addr, j.vfio[0].start);
  assert.deepEqual(j.vfio[0].today[0].leaves, { pud: 0, pmd: 32, pte: 0 });
  const many = run(['inspect', '--maps', fx('linux-6.12-64m-nohint.maps'), '--lspci', path.join(root, 'fixtures', 'lspci', 'a100-8gpu-vm.txt')]);
  assert.equal(many.status, 2);
  assert.match(many.stderr, /pick one with --bdf/);
});

test('inspect: a PID reads /proc/PID/maps; the default kernels are this machine\'s for a PID, every released one for a file', () => {
  assert.deepEqual(defaultKernels(null), RELEASED);
  assert.deepEqual(defaultKernels(1, '6.18.44-fc'), ['linux-6.18.44']);
  assert.deepEqual(defaultKernels(1, '7.2.13+deb14-amd64'), ['linux-7.2.13']);
  assert.deepEqual(defaultKernels(1, '6.1.0'), RELEASED);
  if (process.platform !== 'linux') return;
  const out = run(['inspect', '--maps', String(process.pid), '--json']);
  assert.equal(out.status, 0, out.stderr);
  const j = JSON.parse(out.stdout);
  assert.equal(j.source, `/proc/${process.pid}/maps`);
  assert.ok(j.vmas > 5);
  assert.equal(j.vfio.length, 0);
});

test('maps parsing is strict: each malformed line is one error naming FILE:LINE, exit 2', () => {
  const good = '00400000-00401000 r--p 00000000 00:03 18                                 /pfnmap/probe';
  const bad: [string, RegExp][] = [
    ['zz', /:2: expected the start address/],
    ['00401000-00400000 r--p 00000000 00:03 18', /:2: the end address is not above the start/],
    ['00401000-00402001 r--p 00000000 00:03 18', /:2: the end address 0x00402001 is not page aligned/],
    ['00401000-00402000 rwzp 00000000 00:03 18', /:2: bad permissions/],
    ['00401000-00402000 r--p 00000000 0003 18', /:2: expected ":" after the device major/],
    ['00401000-00402000 r--p 00000000 00:03 x', /:2: expected the inode number/],
    ['00401000-00402000 r--p 00000000 00:03 18\r', /:2: expected a space after the inode number/],
    ['00400000-00402000 r--p 00000000 00:03 18', /:2: starts at 0x400000, below the end of the line before/],
    ['', /:2: an empty line/],
    ['10000000000000000-10000000001000000 r--p 00000000 00:03 18', /:2: the start address has more than 16 hex digits/],
  ];
  for (const [line, re] of bad) {
    assert.throws(() => parseMaps(`${good}\n${line}\nmore`, 'f.maps'), (e: unknown) => e instanceof InputError && re.test(e.message), line);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-inspect-'));
  try {
    const f = path.join(dir, 'bad.maps');
    fs.writeFileSync(f, `${good}\nnot a maps line\n`);
    const out = run(['inspect', '--maps', f]);
    assert.equal(out.status, 2);
    assert.equal(out.stderr.trim().split('\n').length, 1);
    assert.match(out.stderr, /bad\.maps:2: expected the start address/);
    // a long hostile line is refused in linear time
    fs.writeFileSync(f, `${good}\n${'0'.repeat(1 << 20)}\n`);
    const t0 = Date.now();
    const long = run(['inspect', '--maps', f]);
    assert.equal(long.status, 2);
    assert.match(long.stderr, /:2: longer than/);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const lines = parseMaps(read('linux-7.2-2g-nohint.maps'), 'x');
  assert.deepEqual(lines.map(vfioKind).filter(Boolean), ['group', 'group']);
});

test('inspect: usage errors and --help', () => {
  const none = run(['inspect']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--maps FILE\|PID is required/);
  const two = run(['inspect', '--maps', fx('linux-7.2-2g-fixed.maps'), '--device', 'nic-32m', '--sysfs', '/nonexistent']);
  assert.equal(two.status, 2);
  assert.match(two.stderr, /at most one of --device/);
  const missing = run(['inspect', '--maps', '/nonexistent/maps']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read/);
  const help = run(['inspect', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /pfnmap inspect --maps FILE\|PID/);
  assert.match(help.stdout, /kernel variants:/);
});
