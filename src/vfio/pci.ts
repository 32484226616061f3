// vfio-pci (drivers/vfio/pci/vfio_pci_core.c): BAR regions at file offset index << 40,
// vfio_pci_core_mmap(), vma_to_pfn(), the huge fault handler as it changed across kernels,
// and the two placement hooks the huge-pfnmap series proposed.

import type { MmStruct } from '../mm/mm.js';
import type { Vma } from '../mm/vma.js';
import type { KFile } from '../fs/file.js';
import type { Device, Region } from '../devices/device.js';
import { VFIO_PCI_ROM_REGION_INDEX } from '../devices/device.js';
import { VM_SHARED, VM_IO, VM_PFNMAP, VM_DONTEXPAND, VM_DONTDUMP } from '../mm/vma.js';
import {
  VM_FAULT_FALLBACK, VM_FAULT_NOPAGE, VM_FAULT_SIGBUS, insertPfn, insertPfnRun, insertPfnPmd, insertPfnPud, insertPfnBlocks, type VmOps,
} from '../mm/memory.js';
import type { ArchGeometry } from '../arch/arch.js';
import { thpGetUnmappedAreaAligned } from '../mm/huge.js';
import { EINVAL } from '../mm/uapi.js';
import { modPow2, pow2 } from '../lib/u64.js';

/** VFIO_PCI_OFFSET_SHIFT: region i starts at file offset i << 40 (1 TiB of offsets each). */
export const VFIO_PCI_OFFSET_SHIFT = 40;
/** VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT: a region's pgoff space (2^28 pages of 4 KiB). */
export function regionPgoffShift(a: ArchGeometry): number {
  return VFIO_PCI_OFFSET_SHIFT - a.pageShift;
}
/** the file offset of region i, in pages: VFIO_PCI_INDEX_TO_OFFSET(i) >> PAGE_SHIFT */
export function regionPgoffPages(a: ArchGeometry): number {
  return pow2(regionPgoffShift(a));
}

/** The rules of vfio_pci_mmap_huge_fault, which changed across kernels. */
export interface FaultRules {
  readonly name: string;
  /** 6.10–6.11: the first fault inserts the whole VMA with 4 KiB PTEs (d71a989cf5d9). */
  readonly prefaultWholeVma: boolean;
  /** huge_fault exists (6.12, f9e54c3a2f5b); without it every fault is a PTE fault. */
  readonly hugeFault: boolean;
  /** the pfn must be aligned to the order (6.13-rc7, 09dfc8a5f2ce). */
  readonly pfnAligned: boolean;
  /** the fault address is rounded down to the order first (6.15, c1d9dac0db16). */
  readonly roundDown: boolean;
}

export const FAULT_RULES: Record<string, FaultRules> = {
  'prefault-6.10': { name: 'prefault-6.10', prefaultWholeVma: true, hugeFault: false, pfnAligned: false, roundDown: false },
  'huge-6.12': { name: 'huge-6.12', prefaultWholeVma: false, hugeFault: true, pfnAligned: false, roundDown: false },
  'pfn-6.13': { name: 'pfn-6.13', prefaultWholeVma: false, hugeFault: true, pfnAligned: true, roundDown: false },
  'align-6.15': { name: 'align-6.15', prefaultWholeVma: false, hugeFault: true, pfnAligned: true, roundDown: true },
};

/** struct vfio_pci_core_device, as far as mmap and faults need it. */
export class VfioPciDevice {
  /** pci_iomap()ed BARs (the barmap the first mmap of a BAR requests) */
  readonly barmap = new Set<number>();
  /** memory decoding enabled (PCI_COMMAND_MEMORY) and the device not runtime-suspended */
  memoryEnabled = true;

  /** vfio_pci_mmap_ops for this device, made on first mmap */
  mmapOps: VmOps | undefined;
  /** BAR start pfn by region index (pci_resource_start >> PAGE_SHIFT) */
  readonly startPfn: number[] = [];
  private readonly byIndex: (Region | undefined)[] = [];

  /** barOf()'s answer, reused */
  readonly barScratch: { index: number; reqStart: number; r: Region } = { index: 0, reqStart: 0, r: null as unknown as Region };
  /** pages of one region's file-offset space, and the page size */
  readonly regionPages: number;
  readonly pageSize: number;

  constructor(readonly dev: Device, readonly rules: FaultRules, readonly hugePfnmapBuilt: boolean, readonly arch: ArchGeometry) {
    this.regionPages = regionPgoffPages(arch);
    this.pageSize = arch.pageSize;
    for (const r of dev.regions) {
      this.byIndex[r.index] = r;
      this.startPfn[r.index] = Math.floor(r.start / arch.pageSize);
    }
  }

  /** A region's length in pages, PAGE_ALIGN()ed (pci_resource_len, vfio_pci_core_mmap). */
  pagesOf(r: Region): number {
    return Math.ceil(r.size / this.pageSize);
  }

  region(index: number): Region | undefined {
    return this.byIndex[index];
  }

  /** vdev->bar_mmap_supported[index] (vfio_pci_probe_mmaps): a memory BAR VFIO lets you mmap. */
  barMmapSupported(index: number): boolean {
    const r = this.region(index);
    return r !== undefined && r.kind === 'bar' && r.size > 0 && !r.io && r.mmap;
  }
}

/** CONFIG_ARCH_SUPPORTS_PUD_PFNMAP of the kernel: its config and the arch both allow it. */
function pudPfnmap(mm: MmStruct): boolean {
  return mm.config.hugePfnmap.pud && mm.arch.pfnmapPud;
}

/** vma_to_pfn(): the BAR's first pfn plus the VMA's page offset inside the region. */
export function vmaToPfn(pdev: VfioPciDevice, vma: Vma): number {
  const index = Math.floor(vma.pgoff / pdev.regionPages);
  return pdev.startPfn[index] + (vma.pgoff % pdev.regionPages);
}

/** vfio_pci_core_mmap(): check the request, mark the VMA as device memory, install vm_ops. */
export function vfioPciCoreMmap(mm: MmStruct, pdev: VfioPciDevice, vma: Vma): number {
  const index = Math.floor(vma.pgoff / pdev.regionPages);
  if (!(vma.flags & VM_SHARED)) return -EINVAL;
  if (index >= VFIO_PCI_ROM_REGION_INDEX) return -EINVAL; // ROM, config, VGA and device regions
  if (!pdev.barMmapSupported(index)) return -EINVAL;
  const r = pdev.region(index)!;
  const physPages = pdev.pagesOf(r);
  const reqStart = vma.pgoff % pdev.regionPages;
  if (reqStart + (vma.end - vma.start) > physPages) return -EINVAL;
  pdev.barmap.add(index);
  vma.flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
  vma.ops = pdev.mmapOps ??= vfioPciMmapOps(pdev);
  void mm;
  return 0;
}

/** vfio_pci_mmap_ops: .fault always, .huge_fault where the kernel has it and it is built. */
function vfioPciMmapOps(pdev: VfioPciDevice): VmOps {
  const rules = pdev.rules;
  const ops: VmOps = rules.prefaultWholeVma
    ? { name: 'vfio_pci_mmap_ops', fault: (mm, vma, addr) => prefaultWholeVma(mm, pdev, vma, addr) }
    : {
      name: 'vfio_pci_mmap_ops',
      fault: (mm, vma, addr) => hugeFault(mm, pdev, vma, addr, 0),
      faultRun: (mm, vma, s, e) => pteFaultRun(mm, pdev, vma, s, e),
      faultBlocks: (mm, vma, s, e, tryPmd) => faultBlocks(mm, pdev, vma, s, e, tryPmd),
    };
  if (rules.hugeFault && pdev.hugePfnmapBuilt) {
    return { ...ops, hugeFault: (mm, vma, addr, order) => hugeFault(mm, pdev, vma, addr, order) };
  }
  return ops;
}

/** vfio_pci_mmap_huge_fault(vmf, order) under the device's kernel rules. */
function hugeFault(mm: MmStruct, pdev: VfioPciDevice, vma: Vma, faultAddr: number, order: number): number {
  const addr = order === 0 ? faultAddr : hugeBlockAt(pdev, vma, faultAddr, order);
  if (addr < 0) return VM_FAULT_FALLBACK;
  if (!pdev.memoryEnabled) return VM_FAULT_SIGBUS;
  const pfn = vmaToPfn(pdev, vma) + (addr - vma.start);
  if (order === 0) return insertPfn(mm, faultAddr, pfn); // order 0: addr is faultAddr
  if (order === mm.arch.pmdOrder) return insertPfnPmd(mm, addr, pfn);
  if (order === mm.arch.pudOrder) return insertPfnPud(mm, addr, pfn);
  return VM_FAULT_FALLBACK;
}

/**
 * The checks vfio_pci_mmap_huge_fault() makes for an order above 0 before it maps: the first
 * page of the block it would map, or -1 for VM_FAULT_FALLBACK.
 */
function hugeBlockAt(pdev: VfioPciDevice, vma: Vma, faultAddr: number, order: number): number {
  const rules = pdev.rules;
  const size = pow2(order);
  const addr = rules.roundDown ? Math.floor(faultAddr / size) * size : faultAddr;
  if (rules.roundDown) {
    if (addr < vma.start || addr + size > vma.end) return -1;
  } else if (faultAddr % size !== 0 || faultAddr + size > vma.end) {
    return -1;
  }
  if (rules.pfnAligned && (vmaToPfn(pdev, vma) + (addr - vma.start)) % size !== 0) return -1;
  return addr;
}

/**
 * Whole empty PMD blocks of [start, end) (VmOps.faultBlocks): those answered as the first is
 * at PMD order (all PMD leaves, or all PTEs), or all of them with PTEs when no PMD fault is
 * tried; none when memory decoding is off (each would get VM_FAULT_SIGBUS).
 */
function faultBlocks(mm: MmStruct, pdev: VfioPciDevice, vma: Vma, start: number, end: number, tryPmd: boolean): number {
  if (!pdev.memoryEnabled) return 0;
  const pfn = vmaToPfn(pdev, vma) + (start - vma.start);
  return insertPfnBlocks(mm, start, end, pfn, tryPmd, (a, order) => hugeBlockAt(pdev, vma, a, order));
}

/**
 * hugeFault(order 0) for each page of [start, end) in turn: every one maps its own pfn, or
 * none does when memory decoding is off (each would return VM_FAULT_SIGBUS).
 */
function pteFaultRun(mm: MmStruct, pdev: VfioPciDevice, vma: Vma, start: number, end: number): number {
  if (!pdev.memoryEnabled) return 0;
  insertPfnRun(mm, start, end, vmaToPfn(pdev, vma) + (start - vma.start));
  return end - start;
}

/** 6.10–6.11: the first fault maps every page of the VMA with PTEs (one fault in all). */
function prefaultWholeVma(mm: MmStruct, pdev: VfioPciDevice, vma: Vma, addr: number): number {
  if (!pdev.memoryEnabled) return VM_FAULT_SIGBUS;
  insertPfnRun(mm, vma.start, vma.end, vmaToPfn(pdev, vma));
  void addr;
  return VM_FAULT_NOPAGE;
}

// ---- placement hooks ------------------------------------------------------------------

/** What the BAR covers of a request: index, byte offset inside the region, and the BAR. */
function barOf(pdev: VfioPciDevice, pgoff: number): { index: number; reqStart: number; r: Region } | null {
  const index = Math.floor(pgoff / pdev.regionPages);
  if (index >= VFIO_PCI_ROM_REGION_INDEX) return null;
  const r = pdev.region(index);
  if (r === undefined || r.kind !== 'bar') return null;
  // one answer object per device, refilled: every caller reads it at once (the placement
  // hooks run once per mmap, and the alignment test makes millions of them)
  const b = pdev.barScratch;
  b.index = index;
  b.reqStart = pgoff - index * pdev.regionPages; // the remainder of the division above (no fmod)
  b.r = r;
  return b;
}

/**
 * v1 (PATCH 5/5, vfio_pci_core_get_unmapped_area): try 1 GiB then 2 MiB alignment,
 * congruent to the BAR's physical address, then the default allocator. The covered
 * length is min(bar length, len) — v1 does not subtract the offset.
 */
export function vfioPciCoreGetUnmappedArea(mm: MmStruct, pdev: VfioPciDevice, file: KFile, addr: number, len: number, pgoff: number, flags: number): number {
  const b = barOf(pdev, pgoff);
  if (b !== null) {
    let physLen = pdev.pagesOf(b.r);
    if (b.reqStart < physLen) {
      physLen = Math.min(physLen, len);
      const physAddr = pdev.startPfn[b.index] + b.reqStart;
      // IS_ENABLED(CONFIG_ARCH_SUPPORTS_PUD_PFNMAP): not on arm64, which has no PUD pfnmaps
      if (pudPfnmap(mm) && physLen >= mm.arch.pudPages) {
        const ret = thpGetUnmappedAreaAligned(mm, file, addr, len, physAddr, flags, mm.arch.pudPages, 0);
        if (ret !== 0) return ret;
      }
      if (physLen >= mm.arch.pmdPages) {
        const ret = thpGetUnmappedAreaAligned(mm, file, addr, len, physAddr, flags, mm.arch.pmdPages, 0);
        if (ret !== 0) return ret;
      }
    }
  }
  return mm.getUnmappedArea(file, addr, len, pgoff, flags);
}

/**
 * v2 (PATCH 4/4, vfio_pci_core_get_mapping_order): PUD_ORDER when the part of the BAR the
 * request covers holds a PUD (1 GiB on x86_64) and the arch has PUD pfnmaps, PMD_ORDER for
 * a PMD (2 MiB; 512 MiB on arm64 64K) with PMD pfnmaps, else 0.
 */
export function vfioPciCoreGetMappingOrder(mm: MmStruct, pdev: VfioPciDevice, pgoff: number, len: number): number {
  const b = barOf(pdev, pgoff);
  if (b === null) return 0;
  let physLen = pdev.pagesOf(b.r);
  if (b.reqStart >= physLen) return 0;
  physLen = Math.min(physLen - b.reqStart, len);
  if (pudPfnmap(mm) && physLen >= mm.arch.pudPages) return mm.arch.pudOrder;
  if (mm.config.hugePfnmap.pmd && mm.arch.pfnmapPmd && physLen >= mm.arch.pmdPages) return mm.arch.pmdOrder;
  return 0;
}

/**
 * v3-rule (the v2 review's rule; no v3 was posted): the largest order for which a mapping
 * of this region can have VA ≡ pgoff and still map VA ≡ phys — for a BAR, the order of its
 * size (a BAR is aligned to its size, its region starts at index << 40). No leaf sizes and
 * no config here: core mm caps the order to what the arch can map. 0 for what is no BAR.
 */
export function vfioPciCoreGetNaturalOrder(pdev: VfioPciDevice, pgoff: number): number {
  const b = barOf(pdev, pgoff);
  if (b === null) return 0;
  const barPages = pdev.pagesOf(b.r);
  if (b.reqStart >= barPages) return 0;
  let order = Math.min(Math.floor(Math.log2(barPages)), regionPgoffShift(pdev.arch));
  // pgoff ≡ phys must hold: a BAR whose start is less aligned than its size gets less
  const start = pdev.startPfn[b.index];
  while (order > 0 && modPow2(start, pow2(order)) !== 0) order--;
  return order;
}

/** The physical page a region offset maps: for congruence with phys (v1, order-arg). */
export function physPageOf(pdev: VfioPciDevice, pgoff: number): number | null {
  const b = barOf(pdev, pgoff);
  return b === null ? null : pdev.startPfn[b.index] + b.reqStart;
}
