// Userspace recipes as VMMs ship them: how each maps one mmap-able area of a VFIO region
// (a whole region, or one VFIO_REGION_INFO_CAP_SPARSE_MMAP area of it) on a kernel that
// places nothing. All reserve PROT_NONE anonymous memory, trim it and mmap the area there
// with MAP_FIXED; they differ in the alignment and in what it is aligned to.
//
//   qemu              QEMU >= 9.2, hw/vfio "vfio/helpers: Align mmaps" (00b519c0bca0):
//                     align = MIN(1 << ctz64(area size), 1 GiB), VA = ROUND_UP(base, align).
//                     Absolute alignment: the file offset of the area is not looked at.
//   cloud-hypervisor  Cloud Hypervisor's "Align VFIO HVA to a huge page boundary" (June 2026):
//                     2 MiB when the length is a multiple of 2 MiB, else a plain mmap(NULL).
//                     Absolute alignment too.
//   congruent         what `pfnmap plan` recommends (and the VFIO selftests' mmap_reserve(),
//                     Meta's drivers): VA ≡ file offset modulo the largest leaf the length
//                     allows, so VA ≡ phys wherever the driver keeps pgoff ≡ phys.
//
// Absolute alignment equals congruence only when the area's file offset is itself aligned:
// a sparse area after an MSI-X table page starts 4 KiB (or 64 KiB) into its BAR, so QEMU
// gives it a 1 GiB-aligned VA whose pfn is off by that much, and every huge fault falls back.

import type { KFile } from '../fs/file.js';
import type { Split } from '../lib/u64.js';
import { sysMunmap } from '../mm/mmap.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED } from '../mm/uapi.js';
import type { VfioProcess } from './process.js';

export type RecipeName = 'qemu' | 'cloud-hypervisor' | 'congruent';

export interface Recipe {
  readonly name: RecipeName;
  readonly title: string;
  readonly about: string;
  /** absolute VA alignment (true) or congruence with the file offset (false) */
  readonly absolute: boolean;
}

export const RECIPES: readonly Recipe[] = [
  {
    name: 'qemu', title: 'QEMU >= 9.2: align = MIN(1 << ctz64(size), 1 GiB), absolute', absolute: true,
    about: 'QEMU 9.2 on ("vfio/helpers: Align mmaps", 00b519c0bca0; hw/vfio/region.c vfio_region_mmap): ' +
      'for each mmap-able area, align = MIN(1 << ctz64(area size), 1 GiB); reserve size + align of ' +
      'PROT_NONE anonymous memory, round its start up to align, trim both ends, mmap the area there ' +
      'with MAP_FIXED. The VA is aligned, not congruent with the area\'s file offset.',
  },
  {
    name: 'cloud-hypervisor', title: 'Cloud Hypervisor: 2 MiB when the length is a multiple of 2 MiB, absolute', absolute: true,
    about: 'Cloud Hypervisor, "Align VFIO HVA to a huge page boundary" (PR #8435, June 2026): when the ' +
      'length is a multiple of 2 MiB, reserve len + 2 MiB (PROT_NONE, MAP_NORESERVE), round up to ' +
      '2 MiB, trim, MAP_FIXED; else a plain mmap(NULL). Never 1 GiB; sub-BAR offsets ignored.',
  },
  {
    name: 'congruent', title: 'congruent: VA ≡ file offset modulo the largest leaf (pfnmap plan)', absolute: false,
    about: 'The recipe `pfnmap plan` prints (and the VFIO selftests\' mmap_reserve, Meta\'s drivers): ' +
      'reserve len + align of PROT_NONE memory, where align is the largest leaf the arch has that ' +
      'the length can hold, and map at the address congruent with the file offset modulo align.',
  },
];

export const RECIPE_NAMES = RECIPES.map((r) => r.name);

export function recipeByName(n: string): Recipe | undefined {
  return RECIPES.find((r) => r.name === n);
}

const split = (pg: number): Split => ({ pg, sub: 0 });

/** 1 << ctz64(n) for n > 0, in the same unit as n. */
function lowBit(n: number): number {
  let b = 1;
  while (n % (b * 2) === 0 && b < 2 ** 52) b *= 2;
  return b;
}

/** The alignment, in pages of pageSize bytes, a recipe asks for an area of lenPages (1: a plain mmap). */
export function recipeAlignPages(recipe: RecipeName, lenPages: number, bestLeafPages: number, pageSize = 4096): number {
  const GIB = 2 ** 30 / pageSize;
  const MIB2 = Math.max(1, 2 ** 21 / pageSize);
  switch (recipe) {
    case 'qemu':
      return Math.min(lowBit(lenPages), GIB);
    case 'cloud-hypervisor':
      return lenPages % MIB2 === 0 ? MIB2 : 1;
    case 'congruent':
      return bestLeafPages;
  }
}

/**
 * Reserve lenPages + align of PROT_NONE memory, pick the address inside it — rounded up to
 * align (absolute) or congruent with the file offset modulo align — trim the rest and map
 * the area there with MAP_FIXED. Returns the address or -errno.
 */
export function mmapReserveAligned(p: VfioProcess, file: KFile, lenPages: number, offsetPg: number, prot: number, align: number, absolute: boolean, noreserve: boolean): number {
  const base = p.mmap(split(0), split(lenPages + align), 0, MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0), null, split(0));
  if (base < 0) return base;
  const want = absolute ? 0 : offsetPg % align;
  const va = base + ((want - (base % align) + align) % align);
  if (va > base) sysMunmap(p.mm, split(base), split(va - base));
  const tail = base + lenPages + align;
  if (tail > va + lenPages) sysMunmap(p.mm, split(va + lenPages), split(tail - (va + lenPages)));
  return p.mmap(split(va), split(lenPages), prot, MAP_SHARED | MAP_FIXED, file, split(offsetPg));
}

/** Map one area as the recipe's VMM does. */
export function mapWithRecipe(p: VfioProcess, recipe: RecipeName, file: KFile, lenPages: number, offsetPg: number, prot: number, bestLeafPages: number): number {
  const align = recipeAlignPages(recipe, lenPages, bestLeafPages, p.mm.arch.pageSize);
  switch (recipe) {
    case 'qemu':
      // QEMU reserves even when align is a page: mmap(0, size + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS)
      return mmapReserveAligned(p, file, lenPages, offsetPg, prot, align, true, false);
    case 'cloud-hypervisor':
      if (align === 1) return p.mmap(split(0), split(lenPages), prot, MAP_SHARED, file, split(offsetPg));
      return mmapReserveAligned(p, file, lenPages, offsetPg, prot, align, true, true);
    case 'congruent':
      if (align <= 1) return p.mmap(split(0), split(lenPages), prot, MAP_SHARED, file, split(offsetPg));
      return mmapReserveAligned(p, file, lenPages, offsetPg, prot, align, false, true);
  }
}
