// struct mm_struct: one process's address space — the VMA tree, the layout bases and the
// tunables — plus the helpers every layer asks it for.

import { GapTree } from './gap-tree.js';
import { PageTables } from './pgtable.js';
import type { Vma } from './vma.js';
import { coreHooks, type ShmemZeroSetup } from './mmap.js';
import type { MmConfig } from './config.js';
import type { Arch } from '../arch/arch.js';
import type { KFile } from '../fs/file.js';

/** bytes in pages of 2^shift bytes, rounded up */
function ceilPages(bytes: bigint, shift: number): number {
  return Number((bytes + (1n << BigInt(shift)) - 1n) >> BigInt(shift));
}

export class MmStruct {
  readonly tree: GapTree;
  readonly pgtables: PageTables;
  /** fixed for the mm's life: the core keeps its own copy of the limits (src/mm/wasm/mm.ts) */
  readonly config: Readonly<MmConfig>;
  /** the architecture, as data: page size and table geometry, the layout hooks */
  readonly arch: Arch;
  /** MMF_TOPDOWN */
  readonly topdown: boolean;
  readonly mmapBase: number;
  readonly mmapLegacyBase: number;
  /** TASK_SIZE and TASK_SIZE_MAX of this 64-bit task, pages. */
  readonly taskSize: number;
  readonly taskSizeMax: number;
  /** mmap_min_addr = max(dac_mmap_min_addr, CONFIG_LSM_MMAP_MIN_ADDR), pages (rounded up). */
  readonly mmapMinAddr: number;
  /** dac_mmap_min_addr in pages, rounded up: below it MAP_FIXED needs CAP_SYS_RAWIO. */
  readonly dacMmapMinAddr: number;
  readonly stackGuardGap: number;
  /**
   * in_compat_syscall(): only its effect on the alignment helpers is modelled (they return
   * 0); a 32-bit task's own layout (TASK_SIZE, compat mmap bases) is not.
   */
  readonly compat: boolean;
  /** VMAs above TASK_SIZE that /proc/pid/maps lists but the tree does not hold ([vsyscall]). */
  readonly gateVmas: Vma[] = [];
  /** How many top-down searches found no room below mmap_base and fell back to bottom-up. */
  bottomUpFallbacks = 0;
  /** Set when an operation hit a path the modelled kernel is known to crash on. */
  hazard: string | null = null;
  /** The file of the mmap in progress (null: anonymous) and how a shared anonymous one gets its own. */
  pendingFile: KFile | null = null;
  pendingZeroSetup: ShmemZeroSetup | null = null;

  constructor(config: MmConfig, arch: Arch) {
    this.config = config;
    this.arch = arch;
    this.tree = new GapTree(arch.pages2_64);
    this.pgtables = new PageTables(arch);
    const bases = arch.mmapBases(config.rlimitStack, config.stackGuardGap, config.randomize ? config.mmapRnd : null);
    const legacy = arch.mmapIsLegacy ? arch.mmapIsLegacy(config.rlimitStack, config.legacyLayout) : config.legacyLayout;
    this.topdown = !legacy;
    this.mmapLegacyBase = bases.legacyBase;
    this.mmapBase = legacy ? bases.legacyBase : bases.base;
    this.taskSize = arch.taskSize(config.la57);
    this.taskSizeMax = this.taskSize;
    const minAddr = config.dacMmapMinAddr > config.lsmMmapMinAddr ? config.dacMmapMinAddr : config.lsmMmapMinAddr;
    this.mmapMinAddr = ceilPages(minAddr, arch.pageShift);
    this.dacMmapMinAddr = ceilPages(config.dacMmapMinAddr, arch.pageShift);
    this.stackGuardGap = ceilPages(config.stackGuardGap, arch.pageShift);
    this.compat = config.compat;
    this.tree.hooks = coreHooks(this);
    this.tree.x.mmInit(this.mmapMinAddr, this.stackGuardGap, this.taskSize, config.maxMapCount, config.overcommitMemory, config.commitPages);
  }

  /**
   * The process is gone (exit_mmap): its core instance goes to the next mm made. Neither this
   * mm nor its Vmas may be used after.
   */
  release(): void {
    this.tree.release();
  }

  /** vm_area_alloc() */
  newVma(start: number, end: number, flags: number, file: KFile | null, pgoff: number, anonVma = 0, name: string | null = null): Vma {
    return this.tree.newVma(start, end, flags, file, pgoff, anonVma, name);
  }

  /** Take v out of the tree and free it (vma_complete / vm_area_free). */
  removeVma(v: Vma): void {
    this.tree.x.removeVma(v.rec);
  }

  get mapCount(): number {
    return this.tree.count;
  }

  newAnonVma(): number {
    return this.tree.x.newAnonVma();
  }

  /** vm_start_gap() */
  vmStartGap(v: Vma): number {
    return this.tree.x.vmStartGap(v.rec);
  }

  /** mm_get_unmapped_area_vmflags() */
  getUnmappedAreaVmflags(file: KFile | null, addr: number, len: number, pgoff: number, flags: number, vmFlags: number): number {
    return this.topdown
      ? this.arch.getUnmappedAreaTopdown(this, file, addr, len, pgoff, flags, vmFlags)
      : this.arch.getUnmappedArea(this, file, addr, len, pgoff, flags, vmFlags);
  }

  /** mm_get_unmapped_area() */
  getUnmappedArea(file: KFile | null, addr: number, len: number, pgoff: number, flags: number): number {
    return this.getUnmappedAreaVmflags(file, addr, len, pgoff, flags, 0);
  }

  /** find_vma_intersection(): the first VMA overlapping [start, end). */
  findVmaIntersection(start: number, end: number): Vma | null {
    const v = this.tree.findVma(start);
    return v !== null && v.start < end ? v : null;
  }

  /** __vm_enough_memory() for a charge of `pages` (security_vm_enough_memory_mm). */
  enoughMemory(pages: number): boolean {
    return this.tree.x.enoughMemory(pages) !== 0; // the core's rule, which mmap_region charges by
  }

}
