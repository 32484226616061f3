// The VFIO core (drivers/vfio/vfio_main.c): vfio_device_fops is the file_operations of a
// device fd; it forwards to the device's vfio_device_ops. The huge-pfnmap series adds one
// hook at each layer; which ones exist is what distinguishes the kernel variants.

import type { MmStruct } from '../mm/mm.js';
import type { Vma } from '../mm/vma.js';
import type { FileOperations, KFile } from '../fs/file.js';
import { thpGetUnmappedAreaAligned, thpGetUnmappedArea } from '../mm/huge.js';
import {
  VfioPciDevice, vfioPciCoreMmap, vfioPciCoreGetUnmappedArea, vfioPciCoreGetMappingOrder, vfioPciCoreGetNaturalOrder, physPageOf,
} from './pci.js';
import { pow2 } from '../lib/u64.js';

/** struct vfio_device_ops, as far as mmap needs it. Absent hooks are NULL pointers. */
export interface VfioDeviceOps {
  readonly name: string;
  mmap(mm: MmStruct, dev: VfioPciDevice, vma: Vma): number;
  /** v1: ->get_unmapped_area(device, file, addr, len, pgoff, flags) */
  getUnmappedArea?(mm: MmStruct, dev: VfioPciDevice, file: KFile, addr: number, len: number, pgoff: number, flags: number): number;
  /** v2 and order-arg: ->get_mapping_order(device, pgoff, len) */
  getMappingOrder?(mm: MmStruct, dev: VfioPciDevice, pgoff: number, len: number): number;
  /** v3-rule: the largest order for which VA ≡ pgoff can hold, with no arch cap (our name: no v3 was posted) */
  getMaxMappingOrder?(dev: VfioPciDevice, pgoff: number): number;
}

/** A device fd's private data (struct vfio_device_file → struct vfio_device). */
export interface VfioDeviceFile {
  readonly device: VfioPciDevice;
  readonly ops: VfioDeviceOps;
}

function df(file: KFile): VfioDeviceFile {
  return file.privateData as VfioDeviceFile;
}

/** vfio_device_fops.mmap → device->ops->mmap */
function vfioDeviceFopsMmap(mm: MmStruct, file: KFile, vma: Vma): number {
  const d = df(file);
  return d.ops.mmap(mm, d.device, vma);
}

/** Released kernels: no placement hook on a device fd. */
export const vfioDeviceFopsReleased: FileOperations = {
  name: 'vfio_device_fops',
  mmap: vfioDeviceFopsMmap,
};

/**
 * v1 (PATCH 4/5): vfio_device_fops.get_unmapped_area, under
 * CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP, calls the device op or falls back to
 * mm_get_unmapped_area — the fallback the seed email discusses.
 */
export const vfioDeviceFopsV1: FileOperations = {
  name: 'vfio_device_fops (v1)',
  mmap: vfioDeviceFopsMmap,
  getUnmappedArea(mm, file, addr, len, pgoff, flags) {
    const d = df(file!);
    if (d.ops.getUnmappedArea === undefined) return mm.getUnmappedArea(file, addr, len, pgoff, flags);
    return d.ops.getUnmappedArea(mm, d.device, file!, addr, len, pgoff, flags);
  },
};

/**
 * order-arg (the seed's alternative): the vfio core hook takes the device's order and calls
 * the aligned helper with PAGE_SIZE << order; order 0 — PAGE_SIZE — is the default
 * allocator, so a device without the op needs no fallback code and no CONFIG ifdef.
 * Congruence is with the BAR's physical address, as in v1; one attempt, no PMD retry.
 */
export const vfioDeviceFopsOrderArg: FileOperations = {
  name: 'vfio_device_fops (order-arg)',
  mmap: vfioDeviceFopsMmap,
  getUnmappedArea(mm, file, addr, len, pgoff, flags) {
    const d = df(file!);
    const order = d.ops.getMappingOrder?.(mm, d.device, pgoff, len) ?? 0;
    if (order > 0) {
      const off = physPageOf(d.device, pgoff) ?? pgoff;
      const ret = thpGetUnmappedAreaAligned(mm, file, addr, len, off, flags, pow2(order), 0);
      if (ret !== 0) return ret;
    }
    return mm.getUnmappedArea(file, addr, len, pgoff, flags);
  },
};

/** v2 (PATCH 3/4): vfio_device_fops.get_mapping_order, 0 when the device has no op. */
export const vfioDeviceFopsV2: FileOperations = {
  name: 'vfio_device_fops (v2)',
  mmap: vfioDeviceFopsMmap,
  getMappingOrder(mm, file, pgoff, len) {
    const d = df(file);
    return d.ops.getMappingOrder?.(mm, d.device, pgoff, len) ?? 0;
  },
};

/**
 * thp-fops ("vfio: Request THP-aligned mmap for device fds", June 2026, not merged):
 * vfio_device_fops.get_unmapped_area is thp_get_unmapped_area itself, as ext4's is; it
 * exists only with CONFIG_TRANSPARENT_HUGEPAGE (without it the kernel's name is NULL).
 */
export const vfioDeviceFopsThp: FileOperations = {
  name: 'vfio_device_fops (thp-fops)',
  mmap: vfioDeviceFopsMmap,
  getUnmappedArea: thpGetUnmappedArea,
};

/**
 * v3-rule: the vfio core forwards the device's natural order to core mm, which caps it
 * (src/mm/mapping-order.ts); a device without the op reports 0, the plain search.
 */
export const vfioDeviceFopsV3Rule: FileOperations = {
  name: 'vfio_device_fops (v3-rule)',
  mmap: vfioDeviceFopsMmap,
  getMaxMappingOrder(_mm, file, pgoff) {
    const d = df(file);
    return d.ops.getMaxMappingOrder?.(d.device, pgoff) ?? 0;
  },
};

/** vfio_pci_ops of each variant (drivers/vfio/pci/vfio_pci.c). */
export const vfioPciOpsReleased: VfioDeviceOps = { name: 'vfio_pci_ops', mmap: vfioPciCoreMmap };
export const vfioPciOpsV1: VfioDeviceOps = { ...vfioPciOpsReleased, name: 'vfio_pci_ops (v1)', getUnmappedArea: vfioPciCoreGetUnmappedArea };
export const vfioPciOpsOrder: VfioDeviceOps = { ...vfioPciOpsReleased, name: 'vfio_pci_ops (order)', getMappingOrder: vfioPciCoreGetMappingOrder };
export const vfioPciOpsNaturalOrder: VfioDeviceOps = { ...vfioPciOpsReleased, name: 'vfio_pci_ops (v3-rule)', getMaxMappingOrder: vfioPciCoreGetNaturalOrder };
