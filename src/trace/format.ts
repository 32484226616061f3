// pfnmap-trace/1: the JSON shapes of a recorded run (see docs/trace-format.md).
// Every 64-bit quantity stays a lowercase "0x…" hex string in this layer;
// the model converts them exactly (src/lib/u64.ts) when it loads a trace.

export type Hex = string;

export interface TraceEnv {
  rlimitStack: Hex;
  randomize: boolean;
  pageSize: number;
  /** Extensions (optional): tunables the recorder read from the live kernel. */
  mmapMinAddr?: Hex;
  maxMapCount?: number;
  overcommitMemory?: number;
  /** totalram_pages() + total_swap_pages, the overcommit heuristic's bound, in pages. */
  commitPages?: Hex;
  stackGuardGap?: Hex;
  shmemEnabled?: string;
  la57?: boolean;
  /** The recording process held CAP_SYS_RAWIO (root): MAP_FIXED below dac_mmap_min_addr works. */
  capSysRawio?: boolean;
  /** /sys/kernel/mm/transparent_hugepage/enabled (the bracketed word) */
  thpEnabled?: string;
  /** randomize: /proc/sys/vm/mmap_rnd_bits (default 28) */
  mmapRndBits?: number;
  /** randomize: the task's mmap_base, when the recorder measured it (optional) */
  mmapBase?: Hex;
}

export interface TraceFile {
  id: string;
  kind: string; // memfd | ext4 | tmpfs | vfio-pci
  size?: Hex;
  /** vfio-pci: a pfnmap-device/1 object or a preset name */
  device?: unknown;
}

export interface TraceVma {
  start: Hex;
  end: Hex;
  perms: string; // "rw-p"
  offset: Hex;
  backing: string; // anon | shared-anon | file id | [stack] | [heap] | process:NAME
}

export type MmapFlagName =
  | 'PRIVATE' | 'SHARED' | 'SHARED_VALIDATE' | 'ANONYMOUS' | 'FIXED' | 'FIXED_NOREPLACE'
  | '32BIT' | 'NORESERVE' | 'GROWSDOWN' | 'STACK' | 'POPULATE';

export interface MmapOp { op: 'mmap'; addr: string; len: Hex; prot: string; flags: MmapFlagName[]; fd: string | null; offset: Hex }
export interface MunmapOp { op: 'munmap'; addr: string; len: Hex }
export interface MprotectOp { op: 'mprotect'; addr: string; len: Hex; prot: string }
export interface TouchOp { op: 'touch'; addr: string; len: Hex }
export interface MadviseOp { op: 'madvise'; addr: string; len: Hex; advice: 'HUGEPAGE' | 'NOHUGEPAGE' }
export type TraceOp = MmapOp | MunmapOp | MprotectOp | TouchOp | MadviseOp;

/** A result; `{ "hazard": … }` alone means the recording kernel crashed in that op. */
export type TraceResult = ({ ret: Hex; faults?: number } | { errno: string } | { signal: 'SIGSEGV' | 'SIGBUS' } | Record<string, never>) & { hazard?: string };

export interface Trace {
  format: 'pfnmap-trace/1';
  name: string;
  kernel: string;
  arch: string;
  env: TraceEnv;
  files: TraceFile[];
  initial: TraceVma[];
  ops: TraceOp[];
  results: TraceResult[];
  final: TraceVma[];
  ns?: number[];
  /** the kernel variant and config switches to replay with (default: from `kernel`) */
  model?: { kernel: string; config?: Record<string, unknown> };
}

/** Linux x86_64 numeric values of the flags a trace may name. */
export const MAP_FLAG_VALUES: Record<MmapFlagName, number> = {
  SHARED: 0x01, PRIVATE: 0x02, SHARED_VALIDATE: 0x03, FIXED: 0x10, ANONYMOUS: 0x20,
  '32BIT': 0x40, GROWSDOWN: 0x100, NORESERVE: 0x4000, POPULATE: 0x8000, STACK: 0x20000,
  FIXED_NOREPLACE: 0x100000,
};
