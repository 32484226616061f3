// vm_unmapped_area(): the free-gap search (mm/vma.c unmapped_area / unmapped_area_topdown),
// in the core (src/mm/wasm/unmapped.ts). Page-number arithmetic; errors are negative errno
// values.

import type { MmStruct } from './mm.js';

// struct vm_unmapped_area_info is passed as its fields, in pages: length, low_limit,
// high_limit (exclusive), align_mask (a page count minus one, or 0), align_offset and
// start_gap. VM_UNMAPPED_AREA_TOPDOWN picks the function.

/** unmapped_area(): lowest fit in [low_limit, high_limit). */
export function unmappedArea(mm: MmStruct, infoLength: number, lowLimit: number, highLimit: number, alignMask: number, alignOffset: number, startGap: number): number {
  return mm.tree.x.unmappedArea(infoLength, lowLimit, highLimit, alignMask, alignOffset, startGap);
}

/** unmapped_area_topdown(): highest fit in [low_limit, high_limit). */
export function unmappedAreaTopdown(mm: MmStruct, infoLength: number, lowLimit: number, highLimit: number, alignMask: number, alignOffset: number, startGap: number): number {
  return mm.tree.x.unmappedAreaTopdown(infoLength, lowLimit, highLimit, alignMask, alignOffset, startGap);
}
