// shmem: memfd, tmpfs files and MAP_SHARED|MAP_ANONYMOUS memory
// (mm/shmem.c shmem_get_unmapped_area, shmem_file_operations).

import type { FileOperations, KFile } from './file.js';
import type { MmStruct } from '../mm/mm.js';
import { MAP_FIXED, ENOMEM } from '../mm/uapi.js';
import { modPow2, pow2 } from '../lib/u64.js';

/** shmem_get_unmapped_area(): a plain search, then an inflated one if huge pages apply. */
export function shmemGetUnmappedArea(mm: MmStruct, file: KFile | null, uaddr: number, len: number, pgoff: number, flags: number): number {
  if (len > mm.taskSize) return -ENOMEM;
  const addr = mm.getUnmappedArea(file, uaddr, len, pgoff, flags);
  if (!mm.config.thp) return addr;
  if (addr < 0) return addr;
  if (addr > mm.taskSize - len) return addr;
  const policy = file !== null ? file.huge : mm.config.shmemEnabled;
  if (mm.config.shmemEnabled === 'deny') return addr;
  if (flags & MAP_FIXED) return addr;
  if (uaddr === addr) return addr; // the hint was honoured

  let hpage = mm.arch.pmdPages;
  if (mm.config.shmemEnabled !== 'force') {
    let order = 0;
    if (file === null) {
      // anonymous shared memory: the largest enabled mTHP shmem order
      let any = false;
      for (const o of mm.config.anonShmemOrders) { order = Math.max(order, o); any = true; }
      if (mm.config.shmemEnabled !== 'never') for (const o of mm.config.anonShmemInheritOrders) { order = Math.max(order, o); any = true; }
      if (any) hpage = pow2(order);
      if (mm.config.shmemEnabled === 'never' && order === 0) return addr;
    } else if (policy === 'never') {
      return addr;
    }
  }
  if (len < hpage) return addr;
  const offset = modPow2(pgoff, hpage);
  if (offset !== 0 && offset + len < 2 * hpage) return addr;
  if (modPow2(addr, hpage) === offset) return addr;
  const inflated = len + hpage - 1;
  if (inflated > mm.taskSize) return addr;
  const ia = mm.getUnmappedArea(null, uaddr, inflated, 0, flags);
  if (ia < 0) return addr;
  const rem = modPow2(ia, hpage);
  let x = ia + offset - rem;
  if (rem > offset) x += hpage;
  if (x > mm.taskSize - len) return addr;
  return x;
}

export const shmemFileOps: FileOperations = {
  name: 'shmem_file_operations',
  getUnmappedArea: shmemGetUnmappedArea,
};
