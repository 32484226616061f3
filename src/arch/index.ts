// The architectures the model knows, by name, and what each changes of a kernel's defaults.

import type { Arch } from './arch.js';
import type { MmConfig } from '../mm/config.js';
import { x86_64 } from './x86_64.js';
import { arm64 } from './arm64.js';

/**
 * x86_64, and arm64 as Debian builds 7.2 (VA_BITS=52 with 4K and with 16K pages) running on
 * a CPU with 52-bit VAs (LPA2/LVA, as QEMU's -cpu max and recent Arm cores have): the
 * default mmap window is 2^48 with 4K pages, 2^47 with 16K. 64K pages (the Grace-class
 * distribution kernels) are VA_BITS=52 too, with a 2^48 window.
 */
export const ARCHES: Readonly<Record<string, Arch>> = {
  x86_64,
  'arm64-4k': arm64({ granule: '4K', vaBits: 52, cpu52: true }),
  'arm64-16k': arm64({ granule: '16K', vaBits: 52, cpu52: true }),
  'arm64-64k': arm64({ granule: '64K', vaBits: 52, cpu52: true }),
};
export const ARCH_NAMES = Object.keys(ARCHES);

export function archByName(name: string): Arch | undefined {
  return Object.hasOwn(ARCHES, name) ? ARCHES[name] : undefined;
}

/**
 * A kernel's defaults that follow from its arch: stack_guard_gap is 256 pages of the arch
 * (256UL << PAGE_SHIFT), and CONFIG_ARCH_SUPPORTS_PUD_PFNMAP exists only where the arch has
 * PUD pfnmaps.
 */
export function archDefaults(a: Arch): Partial<MmConfig> {
  return {
    stackGuardGap: 256n << BigInt(a.pageShift),
    hugePfnmap: { arch: true, pmd: a.pfnmapPmd, pud: a.pfnmapPud },
  };
}
