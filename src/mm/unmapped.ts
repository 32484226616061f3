// vm_unmapped_area(): the free-gap search (mm/vma.c unmapped_area / unmapped_area_topdown).
// Page-number arithmetic; errors are negative errno values.

import type { MmStruct } from './mm.js';
import { VM_STARTGAP_FLAGS } from './vma.js';
import { modPow2 } from '../lib/u64.js';
import { ENOMEM } from './uapi.js';

/** struct vm_unmapped_area_info, in pages (alignMask is a page count minus one, or 0). */
export interface UnmappedAreaInfo {
  topdown: boolean;
  length: number;
  lowLimit: number;
  highLimit: number;
  alignMask: number;
  alignOffset: number;
  startGap: number;
}

export function vmUnmappedArea(mm: MmStruct, info: UnmappedAreaInfo): number {
  return info.topdown ? unmappedAreaTopdown(mm, info) : unmappedArea(mm, info);
}

/** unmapped_area(): lowest fit in [low_limit, high_limit). */
export function unmappedArea(mm: MmStruct, info: UnmappedAreaInfo): number {
  const length = info.length + info.alignMask + info.startGap;
  let low = info.lowLimit > mm.mmapMinAddr ? info.lowLimit : mm.mmapMinAddr;
  const high = info.highLimit;
  for (;;) {
    // mas_empty_area() refuses an empty or too small window outright
    if (low >= high || high - low < length || length === 0) return -ENOMEM;
    const g = mm.tree.lowestGap(low, high, length);
    if (g === null) return -ENOMEM;
    let gap = (g.a > low ? g.a : low) + info.startGap;
    if (info.alignMask !== 0) gap += modPow2(info.alignOffset - gap, info.alignMask + 1);
    const next = g.next;
    if (next !== null && next.flags & VM_STARTGAP_FLAGS) {
      // The kernel compares bytes: start_gap < gap + length - 1, i.e. in pages
      // start_gap < gap + length, with the padded length.
      if (mm.vmStartGap(next) < gap + length) {
        low = next.end;
        continue;
      }
    }
    // vm_end_gap(prev) > gap can only happen with VM_GROWSUP, which x86 lacks.
    return gap;
  }
}

/** unmapped_area_topdown(): highest fit in [low_limit, high_limit). */
export function unmappedAreaTopdown(mm: MmStruct, info: UnmappedAreaInfo): number {
  const length = info.length + info.alignMask + info.startGap;
  const low = info.lowLimit > mm.mmapMinAddr ? info.lowLimit : mm.mmapMinAddr;
  let high = info.highLimit;
  for (;;) {
    if (low >= high || high - low < length || length === 0) return -ENOMEM;
    const g = mm.tree.highestGap(low, high, length);
    if (g === null) return -ENOMEM;
    const gapEnd = g.b < high ? g.b : high;
    let gap = gapEnd - info.length;
    if (info.alignMask !== 0) gap -= modPow2(gap - info.alignOffset, info.alignMask + 1);
    const next = g.next;
    if (next !== null && next.flags & VM_STARTGAP_FLAGS) {
      const sg = mm.vmStartGap(next);
      if (sg < gapEnd) {
        high = sg;
        continue;
      }
    }
    return gap;
  }
}
