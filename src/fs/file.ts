// Files and their operations: the typed seam through which a mapping's file takes part in
// address selection and mmap (include/linux/fs.h struct file_operations).

import type { MmStruct } from '../mm/mm.js';
import type { ShmemHuge } from '../mm/config.js';
import type { Vma } from '../mm/vma.js';

/**
 * file_operations, as far as the model needs it. A hook that is absent means the kernel's
 * pointer is NULL and core mm does the default thing.
 */
export interface FileOperations {
  readonly name: string;
  /** ->get_unmapped_area(file, addr, len, pgoff, flags): a page number or -errno. */
  getUnmappedArea?(mm: MmStruct, file: KFile | null, addr: number, len: number, pgoff: number, flags: number): number;
  /**
   * ->get_mapping_order(file, pgoff, len) (the v2 series): the order core mm aligns a
   * hint-less mapping to, VA ≡ pgoff modulo PAGE_SIZE << order; 0 means no alignment.
   */
  getMappingOrder?(mm: MmStruct, file: KFile, pgoff: number, len: number): number;
  /**
   * v3-rule (the v2 review's rule; our name, no v3 was posted): the largest order for which
   * VA ≡ pgoff can hold, knowing nothing of leaf sizes; core mm caps it to the length and
   * the arch's leaves (src/mm/mapping-order.ts).
   */
  getMaxMappingOrder?(mm: MmStruct, file: KFile, pgoff: number, len: number): number;
  /** ->mmap(file, vma): 0 or -errno; may set the VMA's flags and vm_ops. */
  mmap?(mm: MmStruct, file: KFile, vma: Vma): number;
}

/** An open file: identity is object identity, as struct file * is in the kernel. */
export interface KFile {
  /** Trace id (m0, f2, …), 'shared-anon', or 'process:NAME'. */
  readonly id: string;
  readonly kind: FileKind;
  readonly fop: FileOperations;
  /** Size in pages (not enforced by mmap; informational). */
  readonly sizePages: number;
  /** huge= policy of the filesystem instance (shmem files). */
  readonly huge: ShmemHuge;
  /** file->private_data of a device file (a VFIO device). */
  readonly privateData?: unknown;
  /** path_noexec(): the file's mount or superblock forbids exec mappings */
  readonly noexec?: boolean;
}

export type FileKind = 'memfd' | 'tmpfs' | 'ext4' | 'shmem-anon' | 'process' | 'vfio-pci';

/** A mapped file the model knows nothing about (the recording program's image, libraries). */
export const plainFileOps: FileOperations = { name: 'plain' };
