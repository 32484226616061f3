// /proc/PID/maps text: a strict, linear-time reader (each line is scanned once, left to
// right, with no regular expression that could backtrack), and what each line is to the
// model — an initial VMA, or a VFIO device mapping to map again with MAP_FIXED.
//
// A line, as show_map_vma() prints it:
//   START-END PERMS OFFSET MAJOR:MINOR INODE[ padding PATHNAME]
// START, END and OFFSET lowercase hex (at least 8 digits), PERMS [r-][w-][x-][sp].

import { InputError } from '../trace/input-error.js';
import { oneLine } from '../lib/text.js';
import type { TraceVma } from '../trace/format.js';

export interface MapsLine {
  /** 1-based line number in the text */
  line: number;
  /** page numbers */
  start: number;
  end: number;
  perms: string;
  /** the file offset in bytes (vm_pgoff << 12) */
  offset: bigint;
  dev: string;
  inode: string;
  /** the pathname column as printed ('' for anonymous memory) */
  name: string;
}

/** How much text and how many lines a maps file may have (max_map_count is 65530 by default). */
export const MAPS_MAX_BYTES = 256 << 20;
export const MAPS_MAX_LINES = 1 << 21;
/** PATH_MAX plus the fixed columns and their padding */
const MAX_LINE = 4096 + 160;

const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
const isDec = (c: number) => c >= 48 && c <= 57;

/** Parse the text of a maps file; `where` names it in errors ("FILE:LINE: …"). */
export function parseMaps(text: string, where: string): MapsLine[] {
  if (text.length > MAPS_MAX_BYTES) throw new InputError(where, `more than ${MAPS_MAX_BYTES} bytes: not a /proc/PID/maps file`);
  const out: MapsLine[] = [];
  let pos = 0;
  let lineNo = 0;
  let prevEnd = -1;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    lineNo++;
    if (lineNo > MAPS_MAX_LINES) throw new InputError(where, `more than ${MAPS_MAX_LINES} lines: not a /proc/PID/maps file`);
    const l = parseLine(text, pos, nl, lineNo, where);
    if (l.start < prevEnd) throw new InputError(`${where}:${lineNo}`, `starts at 0x${(l.start * 4096).toString(16)}, below the end of the line before (0x${(prevEnd * 4096).toString(16)}): maps lines are sorted and disjoint`);
    prevEnd = l.end;
    out.push(l);
    pos = nl + 1;
  }
  if (out.length === 0) throw new InputError(where, 'no maps lines (an empty file)');
  return out;
}

function parseLine(t: string, a: number, b: number, lineNo: number, where: string): MapsLine {
  const at = `${where}:${lineNo}`;
  const bad = (what: string): never => {
    const shown = t.slice(a, Math.min(b, a + 120));
    throw new InputError(at, `${what} (the line: ${oneLine(JSON.stringify(shown))}${b - a > 120 ? '…' : ''})`);
  };
  if (b - a > MAX_LINE) bad(`longer than ${MAX_LINE} characters`);
  if (b === a) bad('an empty line');
  let i = a;
  /** hex digits up to the terminator `end` (a char code); returns [digits start, digits end) */
  const hexField = (what: string, term: number, maxDigits: number): [number, number] => {
    const s = i;
    while (i < b && isHex(t.charCodeAt(i))) i++;
    if (i === s) bad(`expected ${what} (lowercase hex) at column ${s - a + 1}`);
    if (i - s > maxDigits) bad(`${what} has more than ${maxDigits} hex digits`);
    if (i >= b || t.charCodeAt(i) !== term) bad(`expected ${JSON.stringify(String.fromCharCode(term))} after ${what} at column ${i - a + 1}`);
    const r: [number, number] = [s, i];
    i++;
    return r;
  };
  const pages = (r: [number, number], what: string): number => {
    const d = t.slice(r[0], r[1]);
    if (d.length < 3 || !d.endsWith('000')) bad(`${what} 0x${d} is not page aligned`);
    return d.length === 3 ? 0 : parseInt(d.slice(0, -3), 16);
  };
  const start = pages(hexField('the start address', 45, 16), 'the start address');
  const end = pages(hexField('the end address', 32, 16), 'the end address');
  if (end <= start) bad('the end address is not above the start');
  if (b - i < 5 || t.charCodeAt(i + 4) !== 32) bad(`expected four permission characters and a space at column ${i - a + 1}`);
  const perms = t.slice(i, i + 4);
  const ok = (perms[0] === 'r' || perms[0] === '-') && (perms[1] === 'w' || perms[1] === '-') && (perms[2] === 'x' || perms[2] === '-') && (perms[3] === 's' || perms[3] === 'p');
  if (!ok) bad(`bad permissions ${JSON.stringify(perms)} (expected [r-][w-][x-][sp])`);
  i += 5;
  const off = hexField('the offset', 32, 16);
  const offset = BigInt('0x' + t.slice(off[0], off[1]));
  const major = hexField('the device major', 58, 8);
  const minor = hexField('the device minor', 32, 8);
  const inoStart = i;
  while (i < b && isDec(t.charCodeAt(i))) i++;
  if (i === inoStart) bad(`expected the inode number (decimal) at column ${inoStart - a + 1}`);
  if (i - inoStart > 20) bad('the inode number has more than 20 digits');
  const inode = t.slice(inoStart, i);
  let name = '';
  if (i < b) {
    if (t.charCodeAt(i) !== 32) bad(`expected a space after the inode number at column ${i - a + 1}`);
    while (i < b && t.charCodeAt(i) === 32) i++;
    name = t.slice(i, b);
    if (name.endsWith('\r')) bad('ends in a carriage return (saved with CRLF line ends?)');
  }
  return { line: lineNo, start, end, perms, offset, dev: `${t.slice(major[0], major[1])}:${t.slice(minor[0], minor[1])}`, inode, name };
}

/** The name without the " (deleted)" the kernel appends for an unlinked file. */
export function liveName(name: string): string {
  return name.endsWith(' (deleted)') ? name.slice(0, -' (deleted)'.length) : name;
}

/**
 * Is this line a VFIO device fd mapping? Through the group (VFIO_GROUP_GET_DEVICE_FD) the fd
 * is an anonymous-inode file the kernel names `anon_inode:[vfio-device]` (seen in Debian's
 * 6.12 and 7.2 under the QEMU oracle); through the device cdev (iommufd) it is the opened
 * character device, `/dev/vfio/devices/vfioN`.
 */
export function vfioKind(l: MapsLine): 'group' | 'cdev' | null {
  const n = liveName(l.name);
  if (n === 'anon_inode:[vfio-device]') return 'group';
  if (n.startsWith('/dev/vfio/devices/vfio') && n.length > 22 && [...n.slice(22)].every((c) => c >= '0' && c <= '9')) return 'cdev';
  return null;
}

/** A non-VFIO line as the VMA the model starts from (a pfnmap-trace/1 `initial` entry). */
export function initialVmaOf(l: MapsLine): TraceVma {
  const n = liveName(l.name);
  let backing: string;
  if (n === '') backing = 'anon';
  else if (n === '[stack]' || n === '[heap]') backing = n;
  else if (n.startsWith('[anon:')) backing = 'anon'; // a named anonymous VMA (PR_SET_VMA_ANON_NAME)
  else if (n === '/dev/zero' || n.startsWith('[anon_shmem:')) backing = l.perms[3] === 's' ? 'shared-anon' : 'anon';
  else backing = `process:${n}`; // the program's own files and the kernel's [vdso]/[vvar]: they only take room
  const hex = (pg: number) => '0x' + (pg * 4096).toString(16);
  return { start: hex(l.start), end: hex(l.end), perms: l.perms, offset: '0x' + l.offset.toString(16), backing };
}
