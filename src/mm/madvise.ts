// madvise(MADV_HUGEPAGE / MADV_NOHUGEPAGE) (mm/madvise.c madvise_walk_vmas,
// mm/khugepaged.c hugepage_madvise): set or clear VM_HUGEPAGE over a range, splitting and
// merging VMAs like mprotect. Unlike mprotect it goes on past holes and reports ENOMEM at
// the end.

import type { MmStruct } from './mm.js';
import type { Vma } from './vma.js';
import { VM_HUGEPAGE, VM_NOHUGEPAGE } from './vma.js';
import { vmaModifyFlags } from './mprotect.js';
import { EINVAL, ENOMEM } from './uapi.js';
import { pageAlignUp, type Split } from '../lib/u64.js';

export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;

export function sysMadvise(mm: MmStruct, startIn: Split, lenIn: Split, advice: number): number {
  if (advice !== MADV_HUGEPAGE && advice !== MADV_NOHUGEPAGE) return -EINVAL;
  if (startIn.sub !== 0) return -EINVAL;
  const len = pageAlignUp(lenIn);
  if ((lenIn.pg !== 0 || lenIn.sub !== 0) && len >= mm.arch.pages2_64) return -EINVAL; // PAGE_ALIGN wrapped
  let start = startIn.pg;
  const end = start + len;
  if (end >= mm.arch.pages2_64) return -EINVAL; // end < start
  if (end === start) return 0;
  let vma = mm.tree.findVma(start);
  let prev: Vma | null = vma !== null && start > vma.start ? vma : mm.tree.prevOf(vma?.start ?? start);
  let unmapped = 0;
  for (;;) {
    if (vma === null) return -ENOMEM;
    if (start < vma.start) {
      unmapped = -ENOMEM;
      start = vma.start;
      if (start >= end) break;
    }
    const tmp = vma.end < end ? vma.end : end;
    const newflags = advice === MADV_HUGEPAGE ? (vma.flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE : (vma.flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
    if (newflags === vma.flags) prev = vma;
    else {
      const r = vmaModifyFlags(mm, vma, prev, start, tmp, newflags);
      if (typeof r === 'number') return r;
      prev = r;
    }
    start = tmp;
    if (prev !== null && start < prev.end) start = prev.end;
    if (start >= end) break;
    vma = mm.tree.findVma(prev !== null ? prev.end : start);
  }
  return unmapped;
}
