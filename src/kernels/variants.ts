// Kernel variants: the released kernels and the designs of the huge-pfnmap series, side by
// side. A variant is data — which vfio hooks exist, which fault rules vfio-pci has, which
// config switches are set — plugged into the same model through its typed seams.

import type { MmConfig } from '../mm/config.js';
import type { FileOperations } from '../fs/file.js';
import { FAULT_RULES, type FaultRules } from '../vfio/pci.js';
import {
  vfioDeviceFopsReleased, vfioDeviceFopsV1, vfioDeviceFopsOrderArg, vfioDeviceFopsV2,
  vfioPciOpsReleased, vfioPciOpsV1, vfioPciOpsOrder, type VfioDeviceOps,
} from '../vfio/main.js';

export type VariantName = 'linux-6.12' | 'linux-6.18' | 'linux-7.2' | 'v1' | 'order-arg' | 'v2' | 'userspace';

export interface KernelVariant {
  readonly name: VariantName;
  readonly title: string;
  readonly kind: 'released' | 'proposal' | 'userspace';
  /** One paragraph: what this variant is and where it comes from. */
  readonly about: string;
  readonly faultRules: FaultRules;
  /** vfio_device_fops of this kernel */
  fops(config: MmConfig): FileOperations;
  /** vfio_pci_ops of this kernel */
  readonly pciOps: VfioDeviceOps;
  /** config this kernel implies (over the machine's defaults) */
  readonly config: Partial<MmConfig>;
  /** map BARs the way VMMs do today (reserve, then MAP_FIXED congruent with the offset) */
  readonly userspaceRecipe: boolean;
}

const released = (name: VariantName, title: string, rules: FaultRules, config: Partial<MmConfig>, about: string): KernelVariant => ({
  name, title, kind: 'released', about, faultRules: rules,
  fops: () => vfioDeviceFopsReleased,
  pciOps: vfioPciOpsReleased,
  config,
  userspaceRecipe: false,
});

export const VARIANTS: Record<VariantName, KernelVariant> = {
  'linux-6.12': released('linux-6.12', 'Linux 6.12.117 (Debian trixie)', FAULT_RULES['align-6.15'],
    { thpAlignFilesWithoutHook: true, thpPfnmapBypass: true, anonInodeNoexec: false },
    'The first kernel with vfio-pci huge_fault; Debian\'s 6.12.117 carries the pfn alignment check, ' +
    'the round-down of the fault address and the THP-tunables bypass for pfnmaps. A device fd has ' +
    'no placement hook, but 6.12 still THP-aligns any hook-less file mapping whose length is a ' +
    '2 MiB multiple (no hint): VA ≡ file offset modulo 2 MiB — an accident of ed48e87c7df3 that ' +
    '34d7cf637c43 removed in 6.13. Never 1 GiB.'),
  'linux-6.18': released('linux-6.18', 'Linux 6.18 (this machine)', FAULT_RULES['align-6.15'],
    { thpAlignFilesWithoutHook: false, thpPfnmapBypass: false, anonInodeNoexec: true },
    'The base of the v2 series. Since 6.13 only anonymous memory is THP aligned, so a BAR ' +
    'mmap(NULL) gets a page-aligned address. Huge faults of a pfnmap follow the THP sysfs ' +
    'setting (madvise needs MADV_HUGEPAGE) in vanilla 6.18.'),
  'linux-7.2': released('linux-7.2', 'Linux 7.2.13 (Debian sid)', FAULT_RULES['align-6.15'],
    { thpAlignFilesWithoutHook: false, thpPfnmapBypass: true, anonInodeNoexec: true },
    'A current kernel: placement as 6.18 (page-aligned BAR mappings), the fault handler refactored ' +
    '(vfio_pci_vmf_insert_pfn, is_aligned_for_order) with the same rules, and huge pfnmap faults ' +
    'regardless of the THP sysfs setting (7.2.8+). Neither placement series is merged.'),
  v1: {
    name: 'v1', title: 'v1: vfio_device_ops.get_unmapped_area', kind: 'proposal',
    about: 'Peter Xu, June 2025: vfio_device_fops.get_unmapped_area calls the device\'s hook, ' +
      'else mm_get_unmapped_area (only with CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP). vfio-pci tries a ' +
      '1 GiB, then a 2 MiB aligned search, congruent with the BAR\'s physical address, then ' +
      'the default allocator.',
    faultRules: FAULT_RULES['align-6.15'],
    fops: (c) => (c.hugePfnmap.arch ? vfioDeviceFopsV1 : vfioDeviceFopsReleased),
    pciOps: vfioPciOpsV1,
    config: {},
    userspaceRecipe: false,
  },
  'order-arg': {
    name: 'order-arg', title: 'order-arg: the hook returns an order (the seed\'s alternative)', kind: 'proposal',
    about: 'What Jason Gunthorpe suggested in the seed thread: with an align/order argument the ' +
      'default (PAGE_SIZE) is the plain allocator, so the vfio core needs no CONFIG ifdef and no ' +
      'special fallback. vfio-pci reports one order (v2\'s rule); the core makes one aligned ' +
      'attempt, congruent with the physical address, then falls back.',
    faultRules: FAULT_RULES['align-6.15'],
    fops: () => vfioDeviceFopsOrderArg,
    pciOps: vfioPciOpsOrder,
    config: {},
    userspaceRecipe: false,
  },
  v2: {
    name: 'v2', title: 'v2: file_operations.get_mapping_order', kind: 'proposal',
    about: 'Peter Xu, December 2025 (on 6.18): core mm asks the file for an order and aligns a ' +
      'hint-less mapping so that VA ≡ pgoff modulo PAGE_SIZE << order, with one attempt and an ' +
      'unaligned fallback. vfio-pci returns PUD_ORDER or PMD_ORDER from the length the request ' +
      'covers in the BAR.',
    faultRules: FAULT_RULES['align-6.15'],
    fops: () => vfioDeviceFopsV2,
    pciOps: vfioPciOpsOrder,
    config: {},
    userspaceRecipe: false,
  },
  userspace: {
    name: 'userspace', title: 'userspace: reserve, then MAP_FIXED (unpatched 6.18)', kind: 'userspace',
    about: 'What VMMs do on an unpatched kernel (QEMU, the VFIO selftests\' mmap_reserve, Meta\'s ' +
      'drivers): reserve len + align of PROT_NONE anonymous memory, trim it to an address ' +
      'congruent with the file offset modulo the largest leaf the length allows, and mmap the ' +
      'BAR there with MAP_FIXED.',
    faultRules: FAULT_RULES['align-6.15'],
    fops: () => vfioDeviceFopsReleased,
    pciOps: vfioPciOpsReleased,
    config: {},
    userspaceRecipe: true,
  },
};

export const VARIANT_NAMES = Object.keys(VARIANTS) as VariantName[];

export function variantByName(name: string): KernelVariant | undefined {
  // own keys only: "toString" or "__proto__" name no variant
  return Object.hasOwn(VARIANTS, name) ? (VARIANTS as Record<string, KernelVariant>)[name] : undefined;
}
