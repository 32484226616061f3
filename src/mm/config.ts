// Kernel build options and run-time tunables that the address-space model depends on.
// Defaults are those of the Linux 6.18 x86_64 machine the bundled traces come from.

export interface MmConfig {
  /** /proc/sys/vm/mmap_min_addr (dac_mmap_min_addr), bytes. */
  dacMmapMinAddr: bigint;
  /** CONFIG_LSM_MMAP_MIN_ADDR (with CONFIG_SECURITY), bytes. */
  lsmMmapMinAddr: bigint;
  /** The caller holds CAP_SYS_RAWIO (root): may map below dac_mmap_min_addr. */
  capSysRawio: boolean;
  /** stack_guard_gap, bytes (default 256 pages). */
  stackGuardGap: bigint;
  /** /proc/sys/vm/max_map_count */
  maxMapCount: number;
  /** /proc/sys/vm/overcommit_memory: 0 heuristic, 1 always, 2 never. */
  overcommitMemory: number;
  /** totalram_pages() + total_swap_pages: the heuristic's bound on one charge, pages. */
  commitPages: number;
  /** CONFIG_TRANSPARENT_HUGEPAGE */
  thp: boolean;
  /** /sys/kernel/mm/transparent_hugepage/shmem_enabled (applies to memfd and shared anon). */
  shmemEnabled: ShmemHuge;
  /** huge= of the tmpfs mount files live on (default never). */
  tmpfsHuge: ShmemHuge;
  /** mTHP shmem orders enabled for anonymous shared memory (always|within_size|advise). */
  anonShmemOrders: number[];
  /** mTHP shmem orders set to inherit. */
  anonShmemInheritOrders: number[];
  /** 5-level paging active (TASK_SIZE_MAX = 2^56 - 4096). */
  la57: boolean;
  /** vm.legacy_va_layout or ADDR_COMPAT_LAYOUT: bottom-up layout. */
  legacyLayout: boolean;
  /** PF_RANDOMIZE: the task was exec'd with address-space randomisation (no setarch -R). */
  randomize: boolean;
  /** With randomize: arch_mmap_rnd() of the exec, in pages (mmap_base = its rnd-0 value minus this). */
  mmapRnd: number;
  /** RLIMIT_STACK at exec, bytes (RLIM_INFINITY = 2^64-1). */
  rlimitStack: bigint;
  /** /sys/kernel/mm/transparent_hugepage/enabled: gates huge faults of special VMAs. */
  thpEnabled: ThpMode;
  /** CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP and its PMD/PUD parts. */
  hugePfnmap: { arch: boolean; pmd: boolean; pud: boolean };
  /** Operations the modelled kernel is known to crash on: they are reported, not modelled. */
  hazards: { pudSplit: boolean };
  /**
   * 6.12 and earlier: a file without ->get_unmapped_area is THP aligned like anonymous memory
   * (no hint, length a 2 MiB multiple); 6.13 (34d7cf637c43) limited that to anonymous memory.
   */
  thpAlignFilesWithoutHook: boolean;
  /**
   * "bypass THP tuneables for huge pfnmap mappings": a VM_PFNMAP VMA with ->huge_fault gets
   * huge faults whatever /sys/kernel/mm/transparent_hugepage/enabled says (Debian 6.12.115+,
   * 7.2.8+); without it "madvise" needs MADV_HUGEPAGE and "never" forbids them.
   */
  thpPfnmapBypass: boolean;
  /** The caller is a 32-bit (compat) task: in_compat_syscall() turns THP-style alignment off. */
  compat: boolean;
  /**
   * The anonymous-inode filesystem holding device fds (VFIO's) is SB_I_NOEXEC (6.16+,
   * "anon_inode: raise SB_I_NODEV and SB_I_NOEXEC"): PROT_EXEC on them is EPERM at mmap and
   * VM_MAYEXEC is dropped, so a later mprotect(PROT_EXEC) is EACCES.
   */
  anonInodeNoexec: boolean;
}

export type ThpMode = 'always' | 'madvise' | 'never';
export const THP_MODES: readonly ThpMode[] = ['always', 'madvise', 'never'];

export type ShmemHuge = 'never' | 'always' | 'within_size' | 'advise' | 'deny' | 'force';

export const DEFAULT_CONFIG: MmConfig = {
  dacMmapMinAddr: 0x1000n,
  lsmMmapMinAddr: 0x10000n,
  capSysRawio: true,
  stackGuardGap: 256n * 4096n, // 256 pages (stack_guard_gap = 256UL << PAGE_SHIFT): 1 MiB on x86_64
  maxMapCount: 65530,
  overcommitMemory: 0,
  commitPages: 24683656 / 4,
  thp: true,
  shmemEnabled: 'never',
  tmpfsHuge: 'never',
  anonShmemOrders: [],
  anonShmemInheritOrders: [9],
  la57: false,
  legacyLayout: false,
  randomize: false,
  mmapRnd: 0,
  rlimitStack: 0x800000n,
  thpEnabled: 'madvise',
  hugePfnmap: { arch: true, pmd: true, pud: true },
  hazards: { pudSplit: true },
  thpAlignFilesWithoutHook: false,
  thpPfnmapBypass: false,
  compat: false,
  anonInodeNoexec: true,
};
