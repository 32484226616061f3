// The mmap() and munmap() system calls (arch/x86/kernel/sys_x86_64.c sys_mmap,
// mm/mmap.c ksys_mmap_pgoff / do_mmap / __get_unmapped_area, mm/vma.c __mmap_region,
// do_vmi_munmap). Addresses are page numbers; results are a page number or -errno.

import type { MmStruct } from './mm.js';
import type { KFile } from '../fs/file.js';
import { shmemGetUnmappedArea } from '../fs/shmem.js';
import { thpGetUnmappedAreaVmflags, thpGetUnmappedAreaAligned } from './huge.js';
import { getUnmappedAreaByLeaf } from './mapping-order.js';
import { splitHugeAt } from './vma-ops.js';
import type { CoreHooks } from './gap-tree.js';
import {
  VM_EXEC, VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_NOHUGEPAGE, VM_NORESERVE, VM_SHARED, VM_LOCKED,
} from './vma.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE,
  MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_TYPE, LEGACY_MAP_MASK_COMMON,
  EBADF, EEXIST, EINVAL, ENOMEM, EOVERFLOW, EOPNOTSUPP, EPERM, MAX_ERRNO,
} from './uapi.js';
import { pageAlignUp, pow2, type Split } from '../lib/u64.js';

/** Makes the shmem file behind a MAP_SHARED|MAP_ANONYMOUS mapping (shmem_zero_setup). */
export type ShmemZeroSetup = (mm: MmStruct, pages: number) => KFile;

/**
 * sys_mmap() → ksys_mmap_pgoff() → vm_mmap_pgoff() → do_mmap(), then populate.
 * `fdFile` is the file behind fd, or null for fd -1.
 */
export function sysMmap(mm: MmStruct, addr: Split, len: Split, prot: number, flags: number, fdFile: KFile | null, offset: Split, shmemZeroSetup: ShmemZeroSetup): number {
  if (offset.sub !== 0) return -EINVAL; // the offset must be page aligned
  let file: KFile | null = null;
  if (!(flags & MAP_ANONYMOUS)) {
    if (fdFile === null) return -EBADF;
    file = fdFile;
  }
  return doMmap(mm, file, addr, len, prot, flags, offset.pg, shmemZeroSetup);
}

function doMmap(mm: MmStruct, file: KFile | null, addrIn: Split, lenIn: Split, prot: number, flags: number, pgoff: number, zeroSetup: ShmemZeroSetup): number {
  if (lenIn.pg === 0 && lenIn.sub === 0) return -EINVAL;
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  let hint = addrIn.pg;
  if (!(flags & MAP_FIXED)) {
    // round_hint_to_min()
    if (hint !== 0 && hint < mm.mmapMinAddr) hint = mm.mmapMinAddr;
  }
  const len = pageAlignUp(lenIn);
  if (len >= mm.arch.pages2_64) return -ENOMEM; // PAGE_ALIGN wrapped to 0
  // pgoff + (len >> PAGE_SHIFT) cannot wrap: both are below 2^52.
  if (mm.mapCount > mm.config.maxMapCount) return -ENOMEM;

  let vmFlags = (prot & 7) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC; // calc_vm_prot_bits()
  if (flags & MAP_GROWSDOWN) vmFlags |= VM_GROWSDOWN; // calc_vm_flag_bits()
  if (flags & MAP_LOCKED) vmFlags |= VM_LOCKED;
  if (flags & MAP_STACK && mm.config.thp) vmFlags |= VM_NOHUGEPAGE;

  const got = getUnmappedArea(mm, file, hint, flags & MAP_FIXED ? addrIn.sub : 0, len, pgoff, flags, vmFlags);
  if (got < 0) return got;
  const addr = got;

  if (flags & MAP_FIXED_NOREPLACE && mm.findVmaIntersection(addr, addr + len) !== null) return -EEXIST;

  if (file !== null) {
    // file_mmap_ok(): offset + length within MAX_LFS_FILESIZE (2^63 - 1)
    if (pgoff + len >= mm.arch.pages2_63) return -EOVERFLOW;
    // switch (flags & MAP_TYPE) with the kernel's fall-throughs:
    // MAP_SHARED → MAP_SHARED_VALIDATE → MAP_PRIVATE
    const type = flags & MAP_TYPE;
    if (type !== MAP_SHARED && type !== MAP_SHARED_VALIDATE && type !== MAP_PRIVATE) return -EINVAL;
    const legacy = LEGACY_MAP_MASK_COMMON | mm.arch.legacyMapFlags;
    if (type === MAP_SHARED) flags &= legacy; // unknown flags are dropped quietly
    if (type !== MAP_PRIVATE) {
      if (flags & ~legacy) return -EOPNOTSUPP;
      // Files are open read-write here, so VM_MAYWRITE and VM_SHARED stay.
      vmFlags |= VM_SHARED | VM_MAYSHARE;
    }
    if (file.noexec) {
      if (vmFlags & VM_EXEC) return -EPERM;
      vmFlags &= ~VM_MAYEXEC;
    }
    if (vmFlags & VM_GROWSDOWN) return -EINVAL;
  } else {
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        if (vmFlags & VM_GROWSDOWN) return -EINVAL;
        pgoff = 0;
        vmFlags |= VM_SHARED | VM_MAYSHARE;
        break;
      case MAP_PRIVATE:
        pgoff = addr; // anonymous pgoff follows the address, for anon_vma
        break;
      default:
        return -EINVAL; // MAP_SHARED_VALIDATE included, after the search
    }
  }
  if (flags & MAP_NORESERVE && mm.config.overcommitMemory !== 2) vmFlags |= VM_NORESERVE;

  const r = mmapRegion(mm, file, addr, len, vmFlags, pgoff, zeroSetup);
  if (r < 0) return r;
  // mm_populate(): in the core, it gives a private writable mapping its anon_vma
  if (vmFlags & VM_LOCKED || (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE) mm.tree.x.populate(addr);
  return addr;
}

/**
 * __get_unmapped_area(). A MAP_FIXED address keeps its sub-page bits here: every hook
 * returns a MAP_FIXED address unchanged, so the checks below see the caller's value.
 */
export function getUnmappedArea(mm: MmStruct, file: KFile | null, addrPg: number, addrSub: number, len: number, pgoff: number, flags: number, vmFlags: number): number {
  if (len > mm.taskSize) return -ENOMEM;
  let r: number;
  const fop = file?.fop;
  if (fop?.getUnmappedArea) {
    r = fop.getUnmappedArea(mm, file, addrPg, len, pgoff, flags);
  } else if (file === null && flags & MAP_SHARED) {
    r = shmemGetUnmappedArea(mm, null, addrPg, len, 0, flags);
  } else if ((file === null || (mm.config.thpAlignFilesWithoutHook && !fop?.getMappingOrder && !fop?.getMaxMappingOrder)) && mm.config.thp && addrPg === 0 && addrSub === 0 && len % mm.arch.pmdPages === 0) {
    // (a series backported to 6.12 consults the file's order first: v2's mmap_should_align)
    r = thpGetUnmappedAreaVmflags(mm, file, 0, len, file === null ? 0 : pgoff, flags, vmFlags);
  } else if (fop?.getMaxMappingOrder && mm.config.thp && addrPg === 0 && addrSub === 0) {
    r = getUnmappedAreaByLeaf(mm, file!, len, pgoff, flags, fop.getMaxMappingOrder(mm, file!, pgoff, len), vmFlags);
  } else if (fop?.getMappingOrder && mm.config.thp && addrPg === 0 && addrSub === 0) {
    // the v2 series (mmap_should_align): a hint-less mapping of a file that reports an
    // order is placed with VA ≡ pgoff modulo PAGE_SIZE << order; order 0 pads by one page
    let order = fop.getMappingOrder(mm, file!, pgoff, len);
    if (order < 0 || order >= 64 - mm.arch.pageShift) order = 0; // negative, or PAGE_SIZE << order overflows
    r = thpGetUnmappedAreaAligned(mm, file, 0, len, pgoff, flags, pow2(order), vmFlags);
    if (r === 0) r = mm.getUnmappedAreaVmflags(file, 0, len, pgoff, flags, vmFlags);
  } else {
    r = mm.getUnmappedAreaVmflags(file, addrPg, len, file === null ? 0 : pgoff, flags, vmFlags);
  }
  if (r < 0) return r;
  let sub = 0;
  if (flags & MAP_FIXED) {
    sub = addrSub;
    // IS_ERR_VALUE(): the last MAX_ERRNO bytes of the address space read as an error code
    if (r === mm.arch.pages2_64 - 1 && sub !== 0 && mm.arch.pageSize - sub <= MAX_ERRNO) return -(mm.arch.pageSize - sub);
  }
  if (r > mm.taskSize - len || (r === mm.taskSize - len && sub !== 0)) return -ENOMEM;
  if (sub !== 0) return -EINVAL;
  // security_mmap_addr() → cap_mmap_addr()
  if (r < mm.dacMmapMinAddr && !mm.config.capSysRawio) return -EPERM;
  return r;
}

/**
 * __mmap_region() in the core (src/mm/wasm/mmap.ts): replace whatever is in
 * [addr, addr+len), merge or insert. The core calls back for the file's ->mmap.
 */
function mmapRegion(mm: MmStruct, file: KFile | null, addr: number, len: number, vmFlags: number, pgoff: number, zeroSetup: ShmemZeroSetup): number {
  mm.pendingFile = file;
  mm.pendingZeroSetup = zeroSetup;
  const r = mm.tree.x.mmapRegion(addr, len, vmFlags, mm.tree.keyOf(file), pgoff);
  mm.pendingFile = null; // (the mm does not keep the file past its mmap)
  return r;
}

/** The JavaScript side of the core's changes to an mm's VMA list. */
export function coreHooks(mm: MmStruct): CoreHooks {
  return {
    splitHuge: (_v, addr) => {
      if (mm.pgtables.pud.size > 0) splitHugeAt(mm, addr);
    },
    unmapPageTables: (start, end) => unmapPageTables(mm, start, end),
    mmapFile: (v, len) => {
      // shmem_zero_setup() for a shared anonymous mapping, then the file's ->mmap
      const f = mm.pendingFile ?? mm.pendingZeroSetup!(mm, len);
      v.file = f;
      return f.fop.mmap !== undefined ? f.fop.mmap(mm, f, v) : 0;
    },
  };
}

/**
 * After VMAs left [start, end): zap their page-table entries and free the tables no
 * neighbour can use (unmap_region → unmap_vmas, free_pgtables).
 */
function unmapPageTables(mm: MmStruct, start: number, end: number): void {
  const pt = mm.pgtables;
  if (pt.pud.size === 0) return;
  pt.zap(start, end); // a leaf reaching outside the range is zapped whole (split_huge_pud/pmd)
  const prev = mm.tree.prevOf(start);
  const next = mm.tree.findVma(start);
  pt.freePgtables(start, end, prev === null ? 0 : prev.end, next === null ? 0 : next.start);
}

/** sys_munmap() → __vm_munmap() → do_vmi_munmap(), in the core (src/mm/wasm/mmap.ts). */
export function sysMunmap(mm: MmStruct, start: Split, len: Split): number {
  return mm.tree.x.munmap(start.pg, start.sub, len.pg, len.sub);
}
