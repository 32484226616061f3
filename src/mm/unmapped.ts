// vm_unmapped_area(): the free-gap search (mm/vma.c unmapped_area / unmapped_area_topdown).
// Page-number arithmetic; errors are negative errno values.

import type { MmStruct } from './mm.js';
import { VM_STARTGAP_FLAGS } from './vma.js';
import { modPow2 } from '../lib/u64.js';
import { ENOMEM } from './uapi.js';

// struct vm_unmapped_area_info is passed as its fields, in pages: length, low_limit,
// high_limit (exclusive), align_mask (a page count minus one, or 0), align_offset and
// start_gap. VM_UNMAPPED_AREA_TOPDOWN picks the function.

/** unmapped_area(): lowest fit in [low_limit, high_limit). */
export function unmappedArea(mm: MmStruct, infoLength: number, lowLimit: number, highLimit: number, alignMask: number, alignOffset: number, startGap: number): number {
  const length = infoLength + alignMask + startGap;
  let low = lowLimit > mm.mmapMinAddr ? lowLimit : mm.mmapMinAddr;
  const high = highLimit;
  for (;;) {
    // mas_empty_area() refuses an empty or too small window outright
    if (low >= high || high - low < length || length === 0) return -ENOMEM;
    const tree = mm.tree;
    if (!tree.lowestGap(low, high, length)) return -ENOMEM;
    let gap = (tree.gapA > low ? tree.gapA : low) + startGap;
    if (alignMask !== 0) gap += modPow2(alignOffset - gap, alignMask + 1);
    const next = tree.gapNext;
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
export function unmappedAreaTopdown(mm: MmStruct, infoLength: number, lowLimit: number, highLimit: number, alignMask: number, alignOffset: number, startGap: number): number {
  const length = infoLength + alignMask + startGap;
  const low = lowLimit > mm.mmapMinAddr ? lowLimit : mm.mmapMinAddr;
  let high = highLimit;
  for (;;) {
    if (low >= high || high - low < length || length === 0) return -ENOMEM;
    const tree = mm.tree;
    if (!tree.highestGap(low, high, length)) return -ENOMEM;
    const gapEnd = tree.gapB < high ? tree.gapB : high;
    let gap = gapEnd - infoLength;
    if (alignMask !== 0) gap -= modPow2(gap - alignOffset, alignMask + 1);
    const next = tree.gapNext;
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
