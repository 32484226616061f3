// Regular files on ext4 (fs/ext4/file.c ext4_file_operations): placement through
// thp_get_unmapped_area, so mappings covering an aligned 2 MiB block of the file are
// placed congruent to their offset.

import type { FileOperations } from './file.js';
import { thpGetUnmappedArea } from '../mm/huge.js';

export const ext4FileOps: FileOperations = {
  name: 'ext4_file_operations',
  getUnmappedArea: thpGetUnmappedArea,
};
