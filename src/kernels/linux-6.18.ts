// The process a trace starts from, on Linux 6.18 x86_64: an mm_struct with the recorded
// VMAs, and the files the trace opens. (Later variants plug other hooks into the same seams.)

import { MmStruct } from '../mm/mm.js';
import { DEFAULT_CONFIG, type MmConfig } from '../mm/config.js';
import { x86_64 } from '../arch/x86_64.js';
import type { Arch } from '../arch/arch.js';
import { VM_ACCOUNT, VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_SHARED, VM_WRITE } from '../mm/vma.js';
import { plainFileOps, type FileOperations, type KFile, type FileKind } from '../fs/file.js';
import { shmemFileOps } from '../fs/shmem.js';
import { ext4FileOps } from '../fs/ext4.js';
import type { ShmemZeroSetup } from '../mm/mmap.js';
import type { TraceVma } from '../trace/format.js';
import { parsePages } from '../lib/u64.js';

export function newMm(config: Partial<MmConfig> = {}, arch: Arch = x86_64): MmStruct {
  return new MmStruct({ ...DEFAULT_CONFIG, ...config }, arch);
}

export function makeFile(id: string, kind: FileKind, sizePages: number, config: MmConfig): KFile {
  let fop: FileOperations;
  let huge = config.tmpfsHuge;
  switch (kind) {
    case 'memfd':
    case 'shmem-anon':
      fop = shmemFileOps;
      huge = config.shmemEnabled; // the internal shm_mnt follows shmem_enabled
      break;
    case 'tmpfs':
      fop = shmemFileOps;
      break;
    case 'ext4':
      fop = ext4FileOps;
      break;
    case 'process':
      fop = plainFileOps;
      break;
    default:
      throw new Error(`makeFile: ${kind} files are opened by their driver`);
  }
  return { id, kind, fop, sizePages, huge };
}

/** shmem_zero_setup(): every MAP_SHARED|MAP_ANONYMOUS mapping gets its own shmem file. */
export const shmemZeroSetup: ShmemZeroSetup = (mm, pages) => makeFile('shared-anon', 'shmem-anon', pages, mm.config);

export interface InitialVma {
  start: number;
  end: number;
  perms: string;
  pgoff: number;
  /** null for anonymous memory */
  file: KFile | null;
  /** [stack] / [heap] */
  name: string | null;
}

/**
 * The VMAs a process had before the first op: named ones, the program's own files (one
 * per process:NAME), shared anonymous memory, and files `fileOf` resolves by id.
 */
export function addInitialVmas(mm: MmStruct, rows: Iterable<TraceVma>, fileOf: (id: string) => KFile | undefined = () => undefined): void {
  const procFiles = new Map<string, KFile>();
  for (const v of rows) {
    let file: KFile | null = null;
    let name: string | null = null;
    const b = v.backing;
    if (b === '[stack]' || b === '[heap]') name = b;
    else if (b === 'shared-anon') file = shmemZeroSetup(mm, 0);
    else if (b.startsWith('process:')) {
      file = procFiles.get(b) ?? makeFile(b, 'process', 0, mm.config);
      procFiles.set(b, file);
    } else if (b !== 'anon') {
      const f = fileOf(b);
      if (!f) throw new Error(`initial VMA backed by unknown file ${b}`);
      file = f;
    }
    // the rows are in 4 KiB units; the model's pages are the arch's
    const f = mm.arch.pageSize / 4096;
    const pg = (hex: string, what: string) => {
      const n = parsePages(hex) / f;
      if (!Number.isInteger(n)) throw new Error(`initial VMA ${what} ${hex} is not a multiple of the ${mm.arch.pageSize}-byte page`);
      return n;
    };
    addInitialVma(mm, { start: pg(v.start, 'start'), end: pg(v.end, 'end'), perms: v.perms, pgoff: pg(v.offset, 'offset'), file, name });
  }
}

/** Recreate a VMA that existed before the first op, with the flags the kernel gave it. */
export function addInitialVma(mm: MmStruct, iv: InitialVma): void {
  let flags = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (iv.perms[0] === 'r') flags |= 1;
  if (iv.perms[1] === 'w') flags |= 2;
  if (iv.perms[2] === 'x') flags |= 4;
  if (iv.perms[3] === 's') flags |= VM_SHARED | VM_MAYSHARE;
  if (iv.name === '[stack]') flags |= VM_GROWSDOWN;
  if (iv.file === null && (flags & (VM_SHARED | VM_WRITE)) === VM_WRITE) flags |= VM_ACCOUNT;
  const pgoff = iv.file === null ? iv.start : iv.pgoff;
  // Memory the program already used has an anon_vma of its own.
  const anonVma = iv.file === null || !(flags & VM_SHARED) ? mm.newAnonVma() : 0;
  const v = mm.newVma(iv.start, iv.end, flags, iv.file, pgoff, anonVma, iv.name);
  if (iv.start >= mm.taskSize) mm.gateVmas.push(v);
  else mm.tree.insert(v);
}
