// The v2 review's rule for huge pfnmap placement (20251216144224.GE6079@nvidia.com), which
// a v3 of "mm/vfio: huge pfnmaps with !MAP_FIXED mappings" was said to follow. No v3 was
// posted: this is the model's reading of the rule, not a mirror of kernel code.
//   - core mm picks the VA so that VA ≡ pgoff modulo the leaf;
//   - the driver returns the largest order for which that can hold (a BAR: its size);
//   - core mm caps the order to the largest leaf the arch supports at or below it — the
//     per-arch helper the author said v3 would add (aUG5y60q03RedLwv@x1.local).
// The fallback is the model's decision (docs/model.md): a leaf that does not fit — no
// whole aligned block of it in [pgoff, pgoff + len), or no gap for len + leaf — gives way
// to the next smaller leaf of the arch, and after the smallest to the plain search
// (unpadded: order 0 means "no alignment", unlike v2's order-0 pad).

import type { MmStruct } from './mm.js';
import type { KFile } from '../fs/file.js';
import type { MmConfig } from './config.js';
import { thpGetUnmappedAreaAligned } from './huge.js';
import type { ArchGeometry } from '../arch/arch.js';
import { pow2 } from '../lib/u64.js';

/**
 * The huge leaf orders the arch maps pfnmaps with, largest first (x86_64: PUD, PMD; arm64:
 * PMD only), as the kernel's config enables them.
 */
export function archPfnmapLeafOrders(c: MmConfig, a: ArchGeometry): number[] {
  const out: number[] = [];
  if (!c.hugePfnmap.arch) return out;
  if (c.hugePfnmap.pud && a.pfnmapPud) out.push(a.pudOrder);
  if (c.hugePfnmap.pmd && a.pfnmapPmd) out.push(a.pmdOrder);
  return out;
}

/** The unposted per-arch helper: the largest leaf order at or below `order` (0: a page). */
export function archBestMappingOrder(c: MmConfig, a: ArchGeometry, order: number): number {
  return archPfnmapLeafOrders(c, a).find((o) => o <= order) ?? 0;
}

/**
 * Core mm's placement under the rule, for a hint-less mapping of a file that reported
 * `order`: cap it to the length (no leaf larger than the mapping), then to the arch's
 * leaves, then try each leaf from the largest that fits down.
 */
export function getUnmappedAreaByLeaf(mm: MmStruct, file: KFile, len: number, pgoff: number, flags: number, order: number, vmFlags: number): number {
  if (!Number.isSafeInteger(order) || order < 0 || order >= 64 - mm.arch.pageShift) order = 0; // a bad order: no alignment
  const cap = Math.min(order, Math.floor(Math.log2(Math.max(len, 1))));
  for (const leaf of archPfnmapLeafOrders(mm.config, mm.arch)) {
    if (leaf > cap) continue;
    const r = thpGetUnmappedAreaAligned(mm, file, 0, len, pgoff, flags, pow2(leaf), vmFlags);
    if (r !== 0) return r;
  }
  return mm.getUnmappedAreaVmflags(file, 0, len, pgoff, flags, vmFlags);
}
