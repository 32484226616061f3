// The arm64 recordings (npm run oracle:arm64, src/oracle/arm64-qemu.ts; docs/arm64.md): real
// Debian 7.2.13 arm64 kernels with 4K and 16K pages, and a 64K-page 7.2.13 built from Debian's
// linux-source-7.2 (oracle/arm64/build-64k.sh: Debian ships none), under qemu-system-aarch64. Each trace
// has the pfnmap-trace/1 shape with the arm64 env fields of docs/trace-format.md, and the
// model replays every one of them bit for bit (results, fault counts, final maps) under
// the arch the trace names. The config fixtures' summary agrees with their CONFIG_ lines.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { packageRoot } from '../src/cli/paths.js';
import { parseDevice } from '../src/devices/device.js';
import { validateTrace } from '../src/trace/load.js';
import { replay } from '../src/trace/replay.js';
import { MAP_FLAG_VALUES } from '../src/trace/format.js';
import { ARM64_PROCESS } from '../src/kernels/process-template.js';

const dir = path.join(packageRoot(), 'fixtures', 'arm64');
const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
const traces = files.filter((f) => /^arm64-(4k|16k|64k)-.*\.json(\.gz)?$/.test(f));
const configs = files.filter((f) => /^config-.*\.json$/.test(f));
const HEX = /^0x(0|[1-9a-f][0-9a-f]{0,15})$/;
const PAGE: Record<string, number> = { '4k': 4096, '16k': 16384, '64k': 65536 };
const PMD: Record<string, bigint> = { '4k': 2n << 20n, '16k': 32n << 20n, '64k': 512n << 20n };
const LEVELS: Record<string, number> = { '4k': 5, '16k': 4, '64k': 3 };
/** uname -r: Debian's packages (4K, 16K) and the locally built 64K kernel */
const RELEASE: Record<string, RegExp> = { '4k': /^7\.2\.13\+deb14-arm64$/, '16k': /^7\.2\.13\+deb14-arm64-16k$/, '64k': /^7\.2\.13-pfnmap64k$/ };

function load(f: string): Record<string, unknown> {
  const buf = fs.readFileSync(path.join(dir, f));
  return JSON.parse((f.endsWith('.gz') ? zlib.gunzipSync(buf) : buf).toString('utf8')) as Record<string, unknown>;
}

const isHex = (v: unknown): v is string => typeof v === 'string' && HEX.test(v);

test('fixtures/arm64 holds the three kernels: configs, allocator traces and device traces', () => {
  assert.deepEqual(configs, ['config-7.2.13-16k.json', 'config-7.2.13-4k.json', 'config-7.2.13-64k.json']);
  for (const g of ['4k', '16k', '64k']) {
    assert.ok(traces.some((f) => f.startsWith(`arm64-${g}-layout`)), `arm64-${g}-layout`);
    assert.ok(traces.some((f) => f.startsWith(`arm64-${g}-random-`)), `arm64-${g}-random-*`);
    assert.ok(traces.some((f) => f.startsWith(`arm64-${g}-x86ops-`)), `arm64-${g}-x86ops-*`);
    assert.ok(traces.some((f) => f.startsWith(`arm64-${g}-bar2-`)), `arm64-${g}-bar2-*`);
  }
});

for (const f of configs) {
  test(`${f}: the summary is what the CONFIG_ lines say`, () => {
    const c = load(f);
    assert.equal(c['format'], 'pfnmap-kernel-config/1');
    assert.equal(c['arch'], 'arm64');
    const lines = c['config'] as string[];
    const val = (opt: string): string | undefined => {
      for (const l of lines) {
        if (l === `# CONFIG_${opt} is not set`) return 'n';
        if (l.startsWith(`CONFIG_${opt}=`)) return l.slice(opt.length + 8);
      }
      return undefined;
    };
    const s = c['summary'] as Record<string, unknown>;
    const g = /config-7\.2\.13-(\w+)\.json/.exec(f)![1] as string;
    assert.equal(s['pageSize'], PAGE[g]);
    assert.equal(1 << Number(val('PAGE_SHIFT')), s['pageSize']);
    assert.equal(Number(val('ARM64_VA_BITS')), s['vaBits']);
    assert.equal(Number(val('PGTABLE_LEVELS')), s['pgtableLevels']);
    assert.equal(val(`ARM64_${g.toUpperCase()}_PAGES`), 'y');
    assert.equal(val('ARCH_SUPPORTS_HUGE_PFNMAP') === 'y', s['archSupportsHugePfnmap']);
    assert.equal(val('ARCH_SUPPORTS_PMD_PFNMAP') === 'y', s['archSupportsPmdPfnmap']);
    assert.equal(val('ARCH_SUPPORTS_PUD_PFNMAP') === 'y', s['archSupportsPudPfnmap']);
    assert.equal(val('HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD') === 'y', s['haveArchTransparentHugepagePud']);
    assert.equal(val(`TRANSPARENT_HUGEPAGE_${String(s['thpDefault']).toUpperCase()}`), 'y');
    // off def_bool options have no line at all: the fixture lists them as absent
    for (const opt of (c['absent'] as string[])) assert.equal(val(opt), undefined, opt);
    assert.ok((c['absent'] as string[]).includes('ARCH_SUPPORTS_PUD_PFNMAP'));
    const pk = c['packages'] as { name: string; version: string }[];
    assert.match(c['kernel'] as string, RELEASE[g] as RegExp);
    if (g === '64k') assert.ok(pk.length === 1 && pk[0]!.name === 'linux-source-7.2', 'built from linux-source-7.2');
    else assert.ok(['linux-binary-', 'linux-modules-', 'linux-base-'].every((p) => pk.some((x) => x.name.startsWith(p) && x.version === '7.2.13-1')));
  });
}

for (const f of traces) {
  test(`${f} parses as a pfnmap-trace/1 arm64 recording`, () => {
    const t = load(f);
    const g = /^arm64-(4k|16k|64k)-/.exec(f)![1] as string;
    const P = BigInt(PAGE[g] as number);
    assert.equal(t['format'], 'pfnmap-trace/1');
    assert.equal(t['arch'], 'arm64');
    assert.equal(t['name'], f.replace(/\.json(\.gz)?$/, ''));
    assert.match(t['kernel'] as string, RELEASE[g] as RegExp);
    const env = t['env'] as Record<string, unknown>;
    assert.equal(env['pageSize'], PAGE[g]);
    assert.equal(env['randomize'], false);
    assert.ok(isHex(env['rlimitStack']));
    assert.equal(env['vaBits'], 52);
    assert.equal(env['vaBitsActual'], 52);
    assert.equal(env['pgtableLevels'], LEVELS[g]);
    assert.ok(['always', 'madvise', 'never'].includes(env['thpEnabled'] as string));
    assert.equal(env['la57'], undefined);

    const fl = t['files'] as Record<string, unknown>[];
    const ids = new Set<string>();
    for (const x of fl) {
      assert.ok(['memfd', 'ext4', 'tmpfs', 'vfio-pci'].includes(x['kind'] as string));
      assert.ok(isHex(x['size']));
      ids.add(x['id'] as string);
      if (x['kind'] === 'vfio-pci') parseDevice(x['device'], `${f} files.device`);
    }
    const ops = t['ops'] as Record<string, unknown>[];
    const results = t['results'] as Record<string, unknown>[];
    const ns = t['ns'] as number[];
    assert.ok(ops.length > 0);
    assert.equal(results.length, ops.length);
    assert.equal(ns.length, ops.length);
    ops.forEach((op, i) => {
      const where = `${f} ops[${i}]`;
      assert.ok(['mmap', 'munmap', 'mprotect', 'madvise', 'touch'].includes(op['op'] as string), where);
      const m = /^@(\d+)(?:[+-](0x[0-9a-f]+))?$/.exec(op['addr'] as string);
      assert.ok(m ? Number(m[1]) < i : isHex(op['addr']), `${where}.addr`);
      assert.ok(isHex(op['len']), `${where}.len`);
      if (op['op'] === 'mmap') {
        assert.ok((op['flags'] as string[]).every((x) => Object.hasOwn(MAP_FLAG_VALUES, x)), `${where}.flags`);
        assert.ok(op['fd'] === null || ids.has(op['fd'] as string), `${where}.fd`);
        assert.ok(isHex(op['offset']), `${where}.offset`);
      }
      const r = results[i] as Record<string, unknown>;
      assert.ok(isHex(r['ret']) || /^E[A-Z0-9]+$/.test(r['errno'] as string) || ['SIGSEGV', 'SIGBUS'].includes(r['signal'] as string), `${f} results[${i}]`);
      if (op['op'] === 'touch' && 'ret' in r) assert.ok(Number.isInteger(r['faults']), `${f} results[${i}].faults`);
      assert.ok(Number.isInteger(ns[i]) && (ns[i] as number) >= 0);
    });
    for (const key of ['initial', 'final'] as const) {
      let prev = 0n;
      for (const [j, v] of (t[key] as Record<string, string>[]).entries()) {
        const s = BigInt(v['start'] as string);
        const e = BigInt(v['end'] as string);
        assert.ok(s >= prev && e > s, `${f} ${key}[${j}] ascending, non-empty`);
        assert.equal(s % P, 0n, `${f} ${key}[${j}].start is ${P}-aligned`);
        assert.equal(e % P, 0n, `${f} ${key}[${j}].end is ${P}-aligned`);
        assert.match(v['perms'] as string, /^[r-][w-][x-][ps]$/);
        assert.ok(typeof v['backing'] === 'string' && v['backing'] !== '');
        prev = e;
      }
    }
    // and the model, on the trace's arch, gives every result and the final maps exactly
    const v = validateTrace(t);
    assert.equal(v.arch.pageSize, PAGE[g]);
    const r = replay(v);
    assert.equal(r.firstMismatch, null, `${f}: first mismatch ${JSON.stringify(r.firstMismatch)}`);
    assert.equal(r.resultsMatched, ops.length);
    assert.ok(r.finalMatched, `${f}: final maps`);
  });
}

test('arm64 device traces: a PMD-aligned touch of a BAR of at least the PMD size takes one fault per PMD, never a PUD', () => {
  for (const g of ['4k', '16k', '64k']) {
    const t = load(`arm64-${g}-bar2-2g-fixed-congruent.json`);
    const ops = t['ops'] as Record<string, string>[];
    const res = t['results'] as Record<string, unknown>[];
    const i = ops.findIndex((o) => o['op'] === 'touch');
    assert.equal(BigInt(res[i]!['faults'] as number), BigInt(ops[i]!['len'] as string) / (PMD[g] as bigint), `arm64-${g}`);
  }
});

test('the arm64 process templates of compare/plan are the probe\'s initial maps on each real kernel (4K, 16K, 64K)', () => {
  for (const g of ['4k', '16k', '64k']) {
    const t = load(`arm64-${g}-bar2-2g-nohint.json`);
    const want = (t['initial'] as Record<string, string>[]).map((v) => [v['start'], v['end'], v['perms'], v['offset'], v['backing']]);
    assert.deepEqual(ARM64_PROCESS[`arm64-${g}`]?.map((r) => [...r]), want, `arm64-${g}`);
  }
});
