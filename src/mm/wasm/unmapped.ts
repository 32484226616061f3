// vm_unmapped_area(): the free-gap search (mm/vma.c unmapped_area / unmapped_area_topdown).
// Page-number arithmetic; errors are negative errno values.

import { lowestGap, highestGap, gapA, gapB, gapNext } from './tree';
import { rEnd, rFlags, rStart, VM_GROWSDOWN, VM_SHADOW_STACK } from './vma';
import { mmapMinAddr, stackGuardGap, ENOMEM } from './mm';

/** x mod m for a power of two m, as a non-negative number (exact for page numbers) */
@inline function modPow2(x: f64, m: f64): f64 {
  return x - Math.floor(x / m) * m;
}

/** vm_start_gap(): where a VMA's start guard begins. */
export function vmStartGap(v: usize): f64 {
  const fl = rFlags(v);
  if (fl & VM_GROWSDOWN) {
    const s = rStart(v) - stackGuardGap;
    return s < 0 ? 0 : s;
  }
  if (fl & VM_SHADOW_STACK) return rStart(v) - 1;
  return rStart(v);
}

// struct vm_unmapped_area_info is passed as its fields, in pages: length, low_limit,
// high_limit (exclusive), align_mask (a page count minus one, or 0), align_offset and
// start_gap. VM_UNMAPPED_AREA_TOPDOWN picks the function.

/** unmapped_area(): lowest fit in [low_limit, high_limit). */
export function unmappedArea(infoLength: f64, lowLimit: f64, highLimit: f64, alignMask: f64, alignOffset: f64, startGap: f64): f64 {
  const length = infoLength + alignMask + startGap;
  let low = lowLimit > mmapMinAddr ? lowLimit : mmapMinAddr;
  const high = highLimit;
  for (;;) {
    // mas_empty_area() refuses an empty or too small window outright
    if (low >= high || high - low < length || length == 0) return -ENOMEM;
    if (!lowestGap(low, high, length)) return -ENOMEM;
    let gap = (gapA > low ? gapA : low) + startGap;
    if (alignMask != 0) gap += modPow2(alignOffset - gap, alignMask + 1);
    const next = gapNext;
    if (next != 0 && rFlags(next) & (VM_GROWSDOWN | VM_SHADOW_STACK)) {
      // The kernel compares bytes: start_gap < gap + length - 1, i.e. in pages
      // start_gap < gap + length, with the padded length.
      if (vmStartGap(next) < gap + length) {
        low = rEnd(next);
        continue;
      }
    }
    // vm_end_gap(prev) > gap can only happen with VM_GROWSUP, which x86 lacks.
    return gap;
  }
}

/** unmapped_area_topdown(): highest fit in [low_limit, high_limit). */
export function unmappedAreaTopdown(infoLength: f64, lowLimit: f64, highLimit: f64, alignMask: f64, alignOffset: f64, startGap: f64): f64 {
  const length = infoLength + alignMask + startGap;
  const low = lowLimit > mmapMinAddr ? lowLimit : mmapMinAddr;
  let high = highLimit;
  for (;;) {
    if (low >= high || high - low < length || length == 0) return -ENOMEM;
    if (!highestGap(low, high, length)) return -ENOMEM;
    const gapEnd = gapB < high ? gapB : high;
    let gap = gapEnd - infoLength;
    if (alignMask != 0) gap -= modPow2(gap - alignOffset, alignMask + 1);
    const next = gapNext;
    if (next != 0 && rFlags(next) & (VM_GROWSDOWN | VM_SHADOW_STACK)) {
      const sg = vmStartGap(next);
      if (sg < gapEnd) {
        high = sg;
        continue;
      }
    }
    return gap;
  }
}
