// The vfio_device layer beyond vfio-pci: each driver's own struct vfio_device_ops, as far
// as mmap, faults and the placement hooks need them.
//
//   - nvgrace-gpu (drivers/vfio/pci/nvgrace-gpu/main.c, as Linux 7.2 has it):
//     nvgrace_gpu_mmap() serves the fake BARs 2 (resmem) and 4 (usemem) from the device
//     memory the ACPI tables describe, and hands every other region to vfio_pci_core_mmap();
//     its fault handler maps pfn = PHYS_PFN(memphys) + the page offset in the region. Before
//     6.19 (9db65489b872) nvgrace_gpu_mmap() remap_pfn_range()d the VMA with 4 KiB PTEs.
//   - vfio-platform (drivers/vfio/platform/vfio_platform_common.c): vfio_platform_mmap() and
//     vfio_platform_mmap_mmio() remap_pfn_range() an MMIO region at mmap time.
//
// Neither has a placement hook in any posted design: both v1 and v2 set theirs in
// vfio_pci_ops only (drivers/vfio/pci/vfio_pci.c). So under every design these devices take
// the vfio core's fallback — v1's mm_get_unmapped_area(), order 0 for v2 and order-arg, 0
// for v3-rule — and only thp-fops, which asks no driver, aligns them. The "what if" series
// v1-export and v2-export wire the vfio-pci helpers into nvgrace-gpu's ops as a variant
// driver would if vfio_pci_core_get_unmapped_area / _get_mapping_order were exported.

import type { MmStruct } from '../mm/mm.js';
import type { Vma } from '../mm/vma.js';
import type { MmConfig } from '../mm/config.js';
import type { Device, DriverName, Region } from '../devices/device.js';
import { VM_SHARED, VM_IO, VM_PFNMAP, VM_DONTEXPAND, VM_DONTDUMP } from '../mm/vma.js';
import { VM_FAULT_FALLBACK, VM_FAULT_SIGBUS, insertPfn, insertPfnRun, insertPfnPmd, insertPfnPud, insertPfnBlocks, type VmOps } from '../mm/memory.js';
import { EINVAL, EOVERFLOW } from '../mm/uapi.js';
import {
  VfioPciDevice, vfioPciCoreMmap, vfioPciCoreGetUnmappedArea, vfioPciCoreGetMappingOrder,
} from './pci.js';
import type { VfioDeviceOps } from './main.js';
import { pow2 } from '../lib/u64.js';

/** Which placement hook a "what if" series wires into the variant drivers' ops. */
export type VariantDriverHook = 'v1' | 'v2' | null;

/** What a variant says about the drivers beyond vfio-pci. */
export interface DriverVariant {
  readonly pciOps: VfioDeviceOps;
  readonly base: { readonly nvgraceHugeFault: boolean };
  readonly variantDriverHook: VariantDriverHook;
}

/** The device's vfio_device_ops under a variant. */
export function deviceOpsFor(v: DriverVariant, dev: Device): VfioDeviceOps {
  const driver: DriverName = dev.driver ?? 'vfio-pci';
  switch (driver) {
    case 'vfio-pci':
      return v.pciOps;
    case 'nvgrace-gpu':
      return nvgraceGpuOps(v.base.nvgraceHugeFault, v.variantDriverHook);
    case 'vfio-platform':
      return vfioPlatformOps;
  }
}

// ---- nvgrace-gpu ----------------------------------------------------------------------

/** nvgrace_gpu_memregion(): the fake BAR a region index names (usemem 4, resmem 2), or none. */
function memregion(pdev: VfioPciDevice, index: number): Region | undefined {
  const r = pdev.region(index);
  return r !== undefined && r.memlength !== undefined ? r : undefined;
}

/** The vm_ops a remap_pfn_range()d VMA keeps: every page is mapped at mmap time, nothing faults. */
const remappedOps: VmOps = { name: 'remap_pfn_range (no fault handler)', fault: () => VM_FAULT_SIGBUS };

/**
 * nvgrace_gpu_pci_ops of a kernel: .mmap = nvgrace_gpu_mmap, and, in the v1-export /
 * v2-export "what if", the vfio-pci placement helper of that design.
 */
export function nvgraceGpuOps(hugeFault: boolean, hook: VariantDriverHook): VfioDeviceOps {
  const ops: VfioDeviceOps = { name: 'nvgrace_gpu_pci_ops', mmap: (mm, pdev, vma) => nvgraceGpuMmap(mm, pdev, vma, hugeFault) };
  // the helpers read the region as nvgrace-gpu reports it: start = memphys, size = bar_size
  if (hook === 'v1') return { ...ops, name: 'nvgrace_gpu_pci_ops (v1-export)', getUnmappedArea: vfioPciCoreGetUnmappedArea };
  if (hook === 'v2') return { ...ops, name: 'nvgrace_gpu_pci_ops (v2-export)', getMappingOrder: vfioPciCoreGetMappingOrder };
  return ops;
}

/**
 * nvgrace_gpu_mmap(): a fake BAR maps device memory; the request must end within memlength
 * (not the reported power-of-two bar_size: the rest is served by read/write only). Unlike
 * vfio_pci_core_mmap() it does not check VM_SHARED.
 */
function nvgraceGpuMmap(mm: MmStruct, pdev: VfioPciDevice, vma: Vma, hugeFault: boolean): number {
  const index = Math.floor(vma.pgoff / pdev.regionPages);
  const r = memregion(pdev, index);
  if (r === undefined) return vfioPciCoreMmap(mm, pdev, vma);
  const pgoff = vma.pgoff % pdev.regionPages;
  const reqPages = vma.end - vma.start;
  if ((pgoff + reqPages) * pdev.pageSize > Number.MAX_SAFE_INTEGER) return -EOVERFLOW;
  if ((pgoff + reqPages) * pdev.pageSize > r.memlength!) return -EINVAL;
  vma.flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
  const startPfn = Math.floor(r.start / pdev.pageSize) + pgoff; // PHYS_PFN(memphys) + pgoff
  if (!hugeFault) {
    // before 9db65489b872: remap_pfn_range() of the whole request, then vm_pgoff = start_pfn
    insertPfnRun(mm, vma.start, vma.end, startPfn);
    vma.pgoff = startPfn;
    vma.ops = remappedOps;
    return 0;
  }
  vma.ops = nvgraceMmapOps(pdev);
  return 0;
}

const nvgraceOpsCache = new WeakMap<VfioPciDevice, VmOps>();

/** nvgrace_gpu_vfio_pci_mmap_ops: .fault, and .huge_fault under CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP. */
function nvgraceMmapOps(pdev: VfioPciDevice): VmOps {
  let ops = nvgraceOpsCache.get(pdev);
  if (ops === undefined) {
    const base: VmOps = {
      name: 'nvgrace_gpu_vfio_pci_mmap_ops',
      fault: (mm, vma, addr) => nvgraceHugeFault(mm, pdev, vma, addr, 0),
      faultRun: (mm, vma, s, e) => {
        insertPfnRun(mm, s, e, pfnAt(pdev, vma, s));
        return e - s;
      },
      faultBlocks: (mm, vma, s, e, tryPmd) => nvgraceFaultBlocks(mm, pdev, vma, s, e, tryPmd),
    };
    ops = pdev.hugePfnmapBuilt ? { ...base, hugeFault: (mm, vma, addr, order) => nvgraceHugeFault(mm, pdev, vma, addr, order) } : base;
    nvgraceOpsCache.set(pdev, ops);
  }
  return ops;
}

/** PHYS_PFN(memphys) + addr_to_pgoff(vma, addr): the page offset in the region, from memphys. */
function pfnAt(pdev: VfioPciDevice, vma: Vma, addr: number): number {
  const r = memregion(pdev, Math.floor(vma.pgoff / pdev.regionPages))!;
  return Math.floor(r.start / pdev.pageSize) + (vma.pgoff % pdev.regionPages) + (addr - vma.start);
}

/**
 * nvgrace_gpu_vfio_pci_huge_fault(vmf, order): the address rounded down to the order, then
 * is_aligned_for_order() — the block inside the VMA and the pfn aligned to the order — else
 * VM_FAULT_FALLBACK; then vfio_pci_vmf_insert_pfn(). Memory enable is not checked here
 * (the hardware returns ~0 rather than faulting), so a disabled device still maps.
 */
function nvgraceHugeFault(mm: MmStruct, pdev: VfioPciDevice, vma: Vma, faultAddr: number, order: number): number {
  if (memregion(pdev, Math.floor(vma.pgoff / pdev.regionPages)) === undefined) return VM_FAULT_SIGBUS;
  const addr = order === 0 ? faultAddr : nvgraceBlockAt(pdev, vma, faultAddr, order);
  if (addr < 0) return VM_FAULT_FALLBACK;
  const pfn = pfnAt(pdev, vma, addr);
  if (order === 0) return insertPfn(mm, faultAddr, pfn);
  if (order === mm.arch.pmdOrder) return insertPfnPmd(mm, addr, pfn);
  if (order === mm.arch.pudOrder) return insertPfnPud(mm, addr, pfn);
  return VM_FAULT_FALLBACK;
}

/** is_aligned_for_order() of an order above 0: the first page of the block, or -1 (VM_FAULT_FALLBACK). */
function nvgraceBlockAt(pdev: VfioPciDevice, vma: Vma, faultAddr: number, order: number): number {
  const size = pow2(order);
  const addr = Math.floor(faultAddr / size) * size;
  if (addr < vma.start || addr + size > vma.end || pfnAt(pdev, vma, addr) % size !== 0) return -1;
  return addr;
}

/** Whole empty PMD blocks of [start, end) (VmOps.faultBlocks): those answered as the first is at PMD order, or all with PTEs when none is tried. */
function nvgraceFaultBlocks(mm: MmStruct, pdev: VfioPciDevice, vma: Vma, start: number, end: number, tryPmd: boolean): number {
  if (memregion(pdev, Math.floor(vma.pgoff / pdev.regionPages)) === undefined) return 0;
  return insertPfnBlocks(mm, start, end, pfnAt(pdev, vma, start), tryPmd, (a, order) => nvgraceBlockAt(pdev, vma, a, order));
}

// ---- vfio-platform --------------------------------------------------------------------

/**
 * vfio_platform_mmap() → vfio_platform_mmap_mmio(): VM_SHARED, an existing region with
 * VFIO_REGION_INFO_FLAG_MMAP, a request inside the region (which is at least a page), then
 * vm_pgoff = the region's pfn + the offset and remap_pfn_range() of the whole request.
 */
function vfioPlatformMmap(mm: MmStruct, pdev: VfioPciDevice, vma: Vma): number {
  const index = Math.floor(vma.pgoff / pdev.regionPages);
  const r = pdev.region(index);
  if (!(vma.flags & VM_SHARED)) return -EINVAL;
  if (r === undefined || r.size === 0) return -EINVAL; // index >= num_regions
  if (!r.mmap) return -EINVAL;
  const pgoff = vma.pgoff % pdev.regionPages;
  if (r.size < pdev.pageSize || (pgoff + (vma.end - vma.start)) * pdev.pageSize > r.size) return -EINVAL;
  vma.pgoff = Math.floor(r.start / pdev.pageSize) + pgoff;
  vma.flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP; // remap_pfn_range() sets these
  insertPfnRun(mm, vma.start, vma.end, vma.pgoff);
  vma.ops = remappedOps;
  return 0;
}

/** vfio_platform_ops (vfio-platform and vfio-amba): no placement hook in any design. */
export const vfioPlatformOps: VfioDeviceOps = { name: 'vfio_platform_ops', mmap: vfioPlatformMmap };

/** The config a driver's huge faults need: its own is none (for docs and tests). */
export function driverHasHugeFault(v: DriverVariant, dev: Device, c: MmConfig): boolean {
  const d = dev.driver ?? 'vfio-pci';
  if (d === 'vfio-platform') return false;
  if (d === 'nvgrace-gpu') return v.base.nvgraceHugeFault && c.thp && c.hugePfnmap.arch;
  return c.thp && c.hugePfnmap.arch;
}
