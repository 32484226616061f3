// The released kernels a variant is built on ("bases"), and the table of behaviour switches
// that changed between them — including inside a stable series, where a point release
// decides (the pfnmap bypass of the THP tunables is in 6.18.54 but not in 6.18.44).
//
// Each switch says, per stable series, from which point release on it holds, and cites
// where that comes from. A base is a series name (linux-6.18) or a point release
// (linux-6.18.44); the bare series name means the point release the model was checked
// against (the kernels the oracles recorded: 6.12.117, 6.18.44, 7.2.13).

import type { MmConfig } from '../mm/config.js';
import { FAULT_RULES, type FaultRules } from '../vfio/pci.js';

/** A stable series the model knows: 6.11, 6.12, 6.18, 7.2, 7.3. */
export interface StableSeries {
  /** "6.18" */
  readonly series: string;
  /** the point release the bare name stands for */
  readonly defaultPoint: number;
  /** the lowest point release the switch table pins down (below it: refused) */
  readonly lowestKnownPoint: number;
  readonly title: (point: number) => string;
  /** what the model has checked of this series, one sentence */
  readonly checked: string;
}

/** When a switch holds in one stable series: from point release `from` (0: the .0 release) on, or never. */
export type Since = { readonly from: number; readonly source: string } | { readonly never: true; readonly source: string };

export interface Switch {
  /** the name of the behaviour, as the docs and the table print it */
  readonly name: string;
  /** what it does, one sentence */
  readonly what: string;
  /** per stable series */
  readonly in: Readonly<Record<string, Since>>;
}

export const SERIES: readonly StableSeries[] = [
  {
    series: '6.11', defaultPoint: 11, lowestKnownPoint: 0, title: (p) => `Linux 6.11.${p}`,
    checked: 'not recorded: the rules read in the sources (no huge_fault yet)',
  },
  {
    series: '6.12', defaultPoint: 117, lowestKnownPoint: 115, title: (p) => (p === 117 ? 'Linux 6.12.117 (Debian trixie)' : `Linux 6.12.${p}`),
    checked: 'Debian\'s 6.12.117 recorded under QEMU (fixtures/vfio-traces)',
  },
  {
    series: '6.18', defaultPoint: 44, lowestKnownPoint: 0, title: (p) => (p === 44 ? 'Linux 6.18.44 (this machine)' : `Linux 6.18.${p}`),
    checked: 'this machine\'s 6.18.44, live (fixtures/kernel-traces and the live oracle)',
  },
  {
    series: '7.2', defaultPoint: 13, lowestKnownPoint: 0, title: (p) => (p === 13 ? 'Linux 7.2.13 (Debian sid)' : `Linux 7.2.${p}`),
    checked: 'Debian\'s 7.2.13 recorded under QEMU (fixtures/vfio-traces)',
  },
  {
    series: '7.3', defaultPoint: 0, lowestKnownPoint: 0, title: (p) => `Linux 7.3${p === 0 ? '' : `.${p}`} (mainline)`,
    checked: 'not recorded: 7.2\'s rules plus the mainline bypass commit',
  },
];

/**
 * The switch table. Every value a base sets comes from here; `docs/model.md` prints it.
 * Sources: commit ids from the kernel's history (checked in the stored git logs where the
 * note says so), and the oracle recordings of this repository.
 */
export const SWITCHES: readonly Switch[] = [
  {
    name: 'huge_fault in vfio-pci',
    what: 'vfio_pci_mmap_huge_fault exists (f9e54c3a2f5b, 6.12); before it, the first fault maps the whole VMA with PTEs (d71a989cf5d9, 6.10)',
    in: {
      '6.11': { never: true, source: 'f9e54c3a2f5b is a 6.12 merge' },
      '6.12': { from: 0, source: 'f9e54c3a2f5b' },
      '6.18': { from: 0, source: 'f9e54c3a2f5b' },
      '7.2': { from: 0, source: 'f9e54c3a2f5b' },
      '7.3': { from: 0, source: 'f9e54c3a2f5b' },
    },
  },
  {
    name: 'huge faults aligned to the order',
    what: 'the pfn alignment check (09dfc8a5f2ce, 6.13-rc7) and the round-down of the fault address (c1d9dac0db16, 6.15-rc6; 6.14.7 stable)',
    in: {
      '6.11': { never: true, source: 'no huge_fault' },
      '6.12': { from: 115, source: 'read in Debian\'s 6.12.117 source and recorded under QEMU; the 6.12.y point of the backports is not pinned down, so 6.12.y below 115 is refused' },
      '6.18': { from: 0, source: 'c1d9dac0db16 is in 6.15' },
      '7.2': { from: 0, source: 'c1d9dac0db16; 7.2 refactors the handler (vfio_pci_vmf_insert_pfn) with the same rules' },
      '7.3': { from: 0, source: 'as 7.2' },
    },
  },
  {
    name: 'THP alignment of hook-less files',
    what: 'a file without ->get_unmapped_area is THP aligned like anonymous memory (no hint, 2 MiB-multiple length): the accident of ed48e87c7df3, ended by 34d7cf637c43 ("mm: don\'t try THP alignment for FS without get_unmapped_area", 6.13)',
    in: {
      '6.11': { from: 0, source: 'ed48e87c7df3 (6.10)' },
      '6.12': { from: 0, source: 'recorded on 6.12.117: a BAR mmap(NULL) is 2 MiB aligned; no 6.12.y backport of 34d7cf637c43' },
      '6.18': { never: true, source: '34d7cf637c43 (6.13)' },
      '7.2': { never: true, source: '34d7cf637c43; recorded on 7.2.13: page-aligned' },
      '7.3': { never: true, source: '34d7cf637c43' },
    },
  },
  {
    name: 'bypass THP tuneables for huge pfnmaps',
    what: '"mm/huge_memory: bypass THP tuneables for huge pfnmap mappings": a VM_PFNMAP VMA gets huge faults whatever transparent_hugepage/enabled says',
    in: {
      '6.11': { never: true, source: 'no huge_fault' },
      '6.12': { from: 115, source: 'Debian\'s 6.12 (6.12.115+); recorded on 6.12.117 with THP madvise and never (*-thp-* traces)' },
      '6.18': { from: 54, source: '6.18.y backport 139432641cff / a548c7abf65b (around 6.18.54); this machine\'s 6.18.44 lacks it' },
      '7.2': { from: 8, source: '7.2.y backport cdb69f523130 (stable-rc; 7.2.8+); recorded on 7.2.13 (*-thp-* traces)' },
      '7.3': { from: 0, source: 'mainline e384abeb559d, merged for 7.3-rc4' },
    },
  },
  {
    name: 'huge_fault in nvgrace-gpu',
    what: '"vfio/nvgrace-gpu: Add support for huge pfnmap" (9db65489b872, 6.19): nvgrace_gpu_mmap installs vm_ops whose ->huge_fault maps pfn = PHYS_PFN(memphys) + the page offset in the region; before it, nvgrace_gpu_mmap remap_pfn_range()s the whole VMA with 4 KiB PTEs at mmap time',
    in: {
      '6.11': { never: true, source: '9db65489b872 is a 6.19 merge; 6.11 remap_pfn_range()s at mmap' },
      '6.12': { never: true, source: '9db65489b872 is a 6.19 merge (no 6.12.y backport known)' },
      '6.18': { never: true, source: '9db65489b872 is a 6.19 merge (no 6.18.y backport known)' },
      '7.2': { from: 0, source: '9db65489b872; read in Debian\'s 7.2.13 source (nvgrace_gpu_vfio_pci_huge_fault, is_aligned_for_order)' },
      '7.3': { from: 0, source: '9db65489b872' },
    },
  },
  {
    name: 'anon-inode noexec',
    what: '"anon_inode: raise SB_I_NODEV and SB_I_NOEXEC" (1ed95281c0c7, 6.16; 6.15.4 stable): PROT_EXEC on a device fd is EPERM, mprotect(PROT_EXEC) EACCES',
    in: {
      '6.11': { never: true, source: '1ed95281c0c7 is 6.16' },
      '6.12': { never: true, source: 'no 6.12.y backport found; recorded on 6.12.117: PROT_EXEC allowed' },
      '6.18': { from: 0, source: '1ed95281c0c7 (6.16)' },
      '7.2': { from: 0, source: '1ed95281c0c7; recorded on 7.2.13: EPERM / EACCES' },
      '7.3': { from: 0, source: '1ed95281c0c7' },
    },
  },
];

function holds(sw: string, series: string, point: number): boolean {
  const s = SWITCHES.find((x) => x.name === sw)!.in[series];
  return 'from' in s && point >= s.from;
}

export interface Base {
  /** the name as given: linux-6.18 or linux-6.18.44 */
  readonly name: string;
  readonly series: StableSeries;
  readonly point: number;
  readonly title: string;
  readonly faultRules: FaultRules;
  /** the config switches this base sets over the machine defaults */
  readonly config: Partial<MmConfig>;
  /** vfio-pci has ->huge_fault: a placement series has something to place for */
  readonly hugeFault: boolean;
  /** nvgrace-gpu has ->huge_fault (6.19 on); before, its mmap remap_pfn_range()s the VMA */
  readonly nvgraceHugeFault: boolean;
}

/** The base a name stands for, or why it is none. */
export function parseBase(name: string): Base | { error: string } {
  const known = SERIES.map((s) => `linux-${s.series}`).join(', ');
  const m = /^linux-(\d+\.\d+)(?:\.(\d{1,4}))?$/.exec(name);
  const s = m ? SERIES.find((x) => x.series === m[1]) : undefined;
  if (!m || !s) return { error: `unknown base ${JSON.stringify(name)} (bases: ${known}, each with an optional .N point release)` };
  const point = m[2] === undefined ? s.defaultPoint : Number(m[2]);
  if (point < s.lowestKnownPoint) {
    return { error: `base ${name} is not modelled: the model pins ${s.series}.y down from ${s.series}.${s.lowestKnownPoint} on (the point where its fault-handler backports landed is not known)` };
  }
  const hugeFault = holds('huge_fault in vfio-pci', s.series, point);
  const aligned = holds('huge faults aligned to the order', s.series, point);
  return {
    name, series: s, point, title: s.title(point), hugeFault, nvgraceHugeFault: holds('huge_fault in nvgrace-gpu', s.series, point),
    faultRules: !hugeFault ? FAULT_RULES['prefault-6.10'] : aligned ? FAULT_RULES['align-6.15'] : FAULT_RULES['huge-6.12'],
    config: {
      thpAlignFilesWithoutHook: holds('THP alignment of hook-less files', s.series, point),
      thpPfnmapBypass: holds('bypass THP tuneables for huge pfnmaps', s.series, point),
      anonInodeNoexec: holds('anon-inode noexec', s.series, point),
    },
  };
}

/** The switch table as text: one row per switch, one column per series (docs and --help). */
export function switchTable(): string {
  const cell = (s: Since) => ('from' in s ? (s.from === 0 ? 'yes' : `from .${s.from}`) : 'no');
  const head = ['switch', ...SERIES.map((s) => s.series)];
  const rows = SWITCHES.map((sw) => [sw.name, ...SERIES.map((s) => cell(sw.in[s.series]))]);
  const w = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()).join('\n');
}
