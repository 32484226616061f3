// The fault path (mm/memory.c __handle_mm_fault): for a page that is not mapped, core mm
// tries a PUD-sized ->huge_fault (1 GiB on x86_64) when the PUD slot is empty and PUD_ORDER
// is allowed, then a PMD-sized one (2 MiB; 512 MiB on arm64 64K) when the PMD slot is empty
// and PMD_ORDER is allowed, then the PTE-level ->fault. The sizes are the arch's
// (mm.arch). Every handled fault counts once, whatever leaf it installed.

import type { MmStruct } from './mm.js';
import type { Vma } from './vma.js';
import { VM_HUGEPAGE, VM_NOHUGEPAGE, VM_PFNMAP, VM_MIXEDMAP, VM_READ, VM_WRITE, VM_EXEC } from './vma.js';
import { SLOT_NONE, SLOT_LEAF, type PmdTable } from './pgtable.js';

export const VM_FAULT_SIGBUS = 0x2;
export const VM_FAULT_SIGSEGV = 0x40;
export const VM_FAULT_NOPAGE = 0x100;
export const VM_FAULT_FALLBACK = 0x800;

/** The fault handlers a mapping's driver installs (struct vm_operations_struct). */
export interface VmOps {
  readonly name: string;
  /** ->huge_fault(vmf, order); absent when the driver has none. */
  hugeFault?(mm: MmStruct, vma: Vma, addr: number, order: number): number;
  /** ->fault(vmf): the PTE-level fault. */
  fault(mm: MmStruct, vma: Vma, addr: number): number;
  /**
   * The PTE-level faults of the missing pages [start, end), in ascending order, at once: the
   * model's shortcut for what fault() would do page by page (not a kernel hook). All of them
   * lie in one PTE table with tables above. It installs pages for as long as fault() would
   * return VM_FAULT_NOPAGE and returns how many; the caller takes the next page through
   * fault() itself. Absent: every page goes through fault().
   */
  faultRun?(mm: MmStruct, vma: Vma, start: number, end: number): number;
  /**
   * The model's shortcut for whole PMD-sized blocks (not a kernel hook): the blocks of
   * [start, end), PMD-aligned, inside the VMA and one PMD table, every PMD slot empty, in
   * ascending order. Each would fault as handle_mm_fault() takes a page there: its first page
   * through the PMD-order ->huge_fault when tryPmd, then, when that returns
   * VM_FAULT_FALLBACK or is not tried, pte_alloc() and ->fault, and its other pages through
   * ->fault. It maps the leading blocks that all go the same way — each a PMD leaf, or each
   * a new PTE table with every page mapped — up to one that would not (a signal, or the other
   * way) and returns how many; the caller counts the faults by what the first slot holds and
   * takes the next block the long way.
   */
  faultBlocks?(mm: MmStruct, vma: Vma, start: number, end: number, tryPmd: boolean): number;
}

/** What faulting a range did. */
export interface FaultStats {
  faults: number;
  /** leaves installed, by order */
  installed: { pte: number; pmd: number; pud: number };
  /** ->huge_fault calls that returned VM_FAULT_FALLBACK, by order */
  fallback: { pmd: number; pud: number };
}

export function newFaultStats(): FaultStats {
  return { faults: 0, installed: { pte: 0, pmd: 0, pud: 0 }, fallback: { pmd: 0, pud: 0 } };
}

/**
 * thp_vma_allowable_order() in the fault path, for a special (VM_PFNMAP/VM_MIXEDMAP) VMA:
 * THP built and not disabled for the VMA, the sysfs "enabled" policy (always, or madvise
 * with MADV_HUGEPAGE), the arch's huge pfnmap support, and a ->huge_fault handler.
 */
export function hugeOrderAllowed(mm: MmStruct, vma: Vma, order: number): boolean {
  const c = mm.config;
  if (!c.thp || !c.hugePfnmap.arch) return false;
  if (!(vma.flags & (VM_PFNMAP | VM_MIXEDMAP))) return false;
  if (vma.flags & VM_NOHUGEPAGE) return false;
  if (!(c.thpPfnmapBypass && vma.flags & VM_PFNMAP)) {
    if (c.thpEnabled === 'never') return false;
    if (c.thpEnabled === 'madvise' && !(vma.flags & VM_HUGEPAGE)) return false;
  }
  const a = mm.arch;
  if (order === a.pudOrder && !(c.hugePfnmap.pud && a.pfnmapPud)) return false;
  if (order === a.pmdOrder && !(c.hugePfnmap.pmd && a.pfnmapPmd)) return false;
  return vma.ops !== null && vma.ops.hugeFault !== undefined;
}

/** handle_mm_fault() for a missing page at addr inside vma. */
export function handleMmFault(mm: MmStruct, vma: Vma, addr: number, st: FaultStats): number {
  const pt = mm.pgtables;
  st.faults++;
  const { pmdOrder, pudOrder } = mm.arch;
  if (pt.pudSlot(addr) === undefined && hugeOrderAllowed(mm, vma, pudOrder)) {
    const r = vma.ops!.hugeFault!(mm, vma, addr, pudOrder);
    if (!(r & VM_FAULT_FALLBACK)) {
      if (r === VM_FAULT_NOPAGE) st.installed.pud++;
      return r;
    }
    st.fallback.pud++;
  }
  const t = pt.pmdAlloc(addr);
  return pmdLevelFault(mm, vma, t, Math.floor(addr / pt.pmdPages) % pt.n, addr, st, hugeOrderAllowed(mm, vma, pmdOrder));
}

/**
 * The rest of __handle_mm_fault() once the PMD table t is there (addr's entry is slot s):
 * a PMD-sized ->huge_fault when the slot is empty and tryPmd (hugeOrderAllowed at PMD
 * order), else pte_alloc() and ->fault. The fault is counted by the caller. With runEnd
 * past addr (a walk by runs), the driver's ->faultRun stands for ->fault: the faults of
 * addr and of the missing pages after it up to runEnd, at once.
 */
function pmdLevelFault(mm: MmStruct, vma: Vma, t: PmdTable, s: number, addr: number, st: FaultStats, tryPmd: boolean, runEnd = 0): number {
  const ops = vma.ops!;
  if (tryPmd && t.kind[s] === SLOT_NONE) {
    const r = ops.hugeFault!(mm, vma, addr, mm.arch.pmdOrder);
    if (!(r & VM_FAULT_FALLBACK)) {
      if (r === VM_FAULT_NOPAGE) st.installed.pmd++;
      return r;
    }
    st.fallback.pmd++;
  }
  mm.pgtables.pteAlloc(t, addr);
  if (runEnd > addr && ops.faultRun !== undefined) {
    // the new table is empty: the run maps addr and on, as fault() would page by page
    const n = ops.faultRun(mm, vma, addr, runEnd);
    if (n > 0) {
      st.faults += n - 1;
      st.installed.pte += n;
      return VM_FAULT_NOPAGE;
    }
  }
  const r = ops.fault(mm, vma, addr);
  if (r === VM_FAULT_NOPAGE) st.installed.pte++;
  return r;
}

/** vmf_insert_pfn(): map one page. */
export function insertPfn(mm: MmStruct, addr: number, pfn: number): number {
  const pt = mm.pgtables;
  const t = pt.pteFor(addr);
  const s = Math.floor(addr / pt.pmdPages) % pt.n;
  const i = addr % pt.pmdPages;
  if (t.get(s, i) < 0) t.fill(s, i, i + 1, pfn);
  return VM_FAULT_NOPAGE;
}

/** vmf_insert_pfn() for each page of [start, end) in turn, page start mapping pfn. */
export function insertPfnRun(mm: MmStruct, start: number, end: number, pfn: number): void {
  mm.pgtables.fillPtes(start, end, pfn);
}

/**
 * For a driver's faultBlocks: the end of the leading blocks of [start, end) that blockAt (the
 * first page of the block a huge fault of that order at a page would map, or -1 for
 * VM_FAULT_FALLBACK) answers as it answers the first: a leaf for each, or a fallback for
 * each. Inside one VMA a driver answers every block alike (each lies within the VMA, and a
 * VMA maps its pfns linearly, so each block's pfn is congruent to the first one's modulo the
 * block): when the last block is answered as the first, all are; otherwise each is asked in
 * turn.
 */
export function blocksAlike(mm: MmStruct, start: number, end: number, blockAt: (addr: number, order: number) => number): number {
  const pmdPages = mm.pgtables.pmdPages;
  const order = mm.arch.pmdOrder;
  const leaf = blockAt(start, order) >= 0;
  if (blockAt(end - pmdPages, order) >= 0 === leaf) return end;
  let b = start + pmdPages;
  while (b < end && blockAt(b, order) >= 0 === leaf) b += pmdPages;
  return b;
}

/**
 * The rest of a driver's faultBlocks once its own checks pass: the leading blocks of
 * [start, end) answered alike (blocksAlike, when PMD faults are tried) mapped from pfn on,
 * each a PMD leaf where blockAt maps one, else a full PTE table; returns how many.
 */
export function insertPfnBlocks(mm: MmStruct, start: number, end: number, pfn: number, tryPmd: boolean, blockAt: (addr: number, order: number) => number): number {
  const b = tryPmd ? blocksAlike(mm, start, end, blockAt) : end;
  if (tryPmd && blockAt(start, mm.arch.pmdOrder) >= 0) insertPfnPmdRun(mm, start, b, pfn);
  else insertPfnRun(mm, start, b, pfn);
  return (b - start) / mm.pgtables.pmdPages;
}

/** vmf_insert_pfn_pmd() for each block of [start, end) in turn (empty slots of one PMD table), block start mapping pfn. */
export function insertPfnPmdRun(mm: MmStruct, start: number, end: number, pfn: number): void {
  const pt = mm.pgtables;
  pt.pmdAlloc(start).setLeaves(Math.floor(start / pt.pmdPages) % pt.n, (end - start) / pt.pmdPages, pfn);
}

/** vmf_insert_pfn_pmd(): map the PMD-sized block holding addr (a leaf in an empty PMD slot). */
export function insertPfnPmd(mm: MmStruct, addr: number, pfn: number): number {
  const pmdt = mm.pgtables.pmdAlloc(addr);
  mm.pgtables.setPmdLeaf(pmdt, addr, pfn);
  return VM_FAULT_NOPAGE;
}

/** vmf_insert_pfn_pud(): map the PUD-sized block holding addr. */
export function insertPfnPud(mm: MmStruct, addr: number, pfn: number): number {
  mm.pgtables.setPudLeaf(addr, pfn);
  return VM_FAULT_NOPAGE;
}

/**
 * A read of a page whose fault path the model does not have: anonymous memory and page-cache
 * files (zero page, huge zero page, fault-around, readahead) are not modelled, only VMAs
 * whose driver installs vm_operations (device pfnmaps).
 */
export class UnmodelledFault extends Error {
  constructor(readonly page: number, readonly vma: Vma) {
    super('only device (VM_PFNMAP) mappings have a modelled fault path');
    this.name = 'UnmodelledFault';
  }
}

export interface TouchResult extends FaultStats {
  signal: 'SIGSEGV' | 'SIGBUS' | null;
  /** the page where a signal stopped the walk */
  signalAt: number;
}

/**
 * Read one byte of every 4 KiB page of [start, end) in ascending order, as a program
 * walking a mapping does. Mapped pages cost nothing; the walk skips whole leaves.
 */
export function touchRange(mm: MmStruct, start: number, end: number, byRuns = true): TouchResult {
  const st = newFaultStats();
  const pt = mm.pgtables;
  let p = start;
  while (p < end) {
    const vma = mm.tree.findVma(p);
    if (vma === null || vma.start > p) return { ...st, signal: 'SIGSEGV', signalAt: p };
    // access_error(): a read needs some access right (x86 reads PROT_WRITE/PROT_EXEC too)
    if (!(vma.flags & (VM_READ | VM_WRITE | VM_EXEC))) return { ...st, signal: 'SIGSEGV', signalAt: p };
    if (vma.ops === null) throw new UnmodelledFault(p, vma);
    const segEnd = end < vma.end ? end : vma.end;
    while (p < segEnd) {
      const g = pt.pudSlot(p);
      if (typeof g === 'number') {
        p = nextBoundary(p, pt.pudPages, segEnd);
        continue;
      }
      if (g === undefined) {
        const r = handleMmFault(mm, vma, p, st);
        if (r & VM_FAULT_SIGBUS) return { ...st, signal: 'SIGBUS', signalAt: p };
        if (r & VM_FAULT_SIGSEGV) return { ...st, signal: 'SIGSEGV', signalAt: p };
        continue;
      }
      p = walkPmdTable(g, p, nextBoundary(p, pt.pudPages, segEnd), mm, vma, st, byRuns);
      if (p < 0) return { ...st, signal: walkSignal, signalAt: -p - 1 };
    }
  }
  return { ...st, signal: null, signalAt: 0 };
}

/** The signal a walk that returned -(page+1) stopped with. */
let walkSignal: 'SIGSEGV' | 'SIGBUS' = 'SIGBUS';

/**
 * The part of a walk inside the 1 GiB of PMD table t: [p, end), slot by slot; the next page,
 * or -(page+1) on a signal (walkSignal). The PUD slot holds t throughout (no fault here tries
 * a PUD leaf), and the VMA's flags and the config do not change, so the PMD-order
 * hugeOrderAllowed() is asked once.
 */
function walkPmdTable(t: PmdTable, p: number, end: number, mm: MmStruct, vma: Vma, st: FaultStats, byRuns: boolean): number {
  const pt = mm.pgtables;
  const pmdPages = pt.pmdPages;
  const tryPmd = hugeOrderAllowed(mm, vma, mm.arch.pmdOrder);
  // a driver that maps no block at p is not asked again in this table (it would rescan the
  // empty slots after p at every block)
  let askBlocks = byRuns && vma.ops!.faultBlocks !== undefined;
  while (p < end) {
    const m = Math.floor(p / pmdPages);
    const s = m % pt.n;
    const k = t.kind[s];
    const blockEnd = (m + 1) * pmdPages < end ? (m + 1) * pmdPages : end;
    if (k === SLOT_LEAF) {
      p = blockEnd;
    } else if (k !== SLOT_NONE) {
      p = scanPtes(t, p, blockEnd, mm, vma, st, byRuns);
      if (p < 0) {
        walkSignal = 'SIGBUS';
        return p;
      }
    } else {
      const whole = askBlocks && p === m * pmdPages ? Math.floor((end - p) / pmdPages) : 0;
      if (whole > 0) {
        // the empty slots from s whose blocks lie inside [p, end): the driver maps them at once
        let k = 1;
        while (k < whole && t.kind[s + k] === SLOT_NONE) k++;
        const done = vma.ops!.faultBlocks!(mm, vma, p, p + k * pmdPages, tryPmd);
        if (done > 0) {
          if (t.kind[s] === SLOT_LEAF) {
            // a fault per block, each a PMD leaf
            st.faults += done;
            st.installed.pmd += done;
          } else {
            // the first page of each block fell back at PMD order (when tried), then 4 KiB pages
            st.faults += done * pmdPages;
            st.installed.pte += done * pmdPages;
            if (tryPmd) st.fallback.pmd += done;
          }
          p += done * pmdPages;
          continue;
        }
        askBlocks = false;
      }
      // handle_mm_fault() of p: the PUD slot holds t, so the PMD level is where it starts
      st.faults++;
      const r = pmdLevelFault(mm, vma, t, s, p, st, tryPmd, byRuns ? blockEnd : 0);
      if (r & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)) {
        walkSignal = r & VM_FAULT_SIGBUS ? 'SIGBUS' : 'SIGSEGV';
        return -p - 1;
      }
    }
  }
  return p;
}

function nextBoundary(p: number, size: number, limit: number): number {
  const b = (Math.floor(p / size) + 1) * size;
  return b < limit ? b : limit;
}

/**
 * Walk [p, end) inside one PTE table, faulting missing pages; -(page+1) on a signal. Both
 * the PUD and the PMD slot hold tables here, so handle_mm_fault() goes straight to ->fault.
 * Each run of missing pages goes to ->faultRun when the driver has it and byRuns is set;
 * page by page otherwise (the reference the runs are tested against).
 */
function scanPtes(t: PmdTable, p: number, end: number, mm: MmStruct, vma: Vma, st: FaultStats, byRuns: boolean): number {
  const pmdPages = mm.pgtables.pmdPages;
  const base = Math.floor(p / pmdPages) * pmdPages;
  const s = (base / pmdPages) % mm.pgtables.n;
  const ops = vma.ops!;
  const run = byRuns ? ops.faultRun : undefined;
  const stop = end - base;
  let i = p - base;
  while (i < stop) {
    i = t.nextEmpty(s, i, stop);
    if (i === stop) break;
    if (run !== undefined) {
      const j = t.nextPresent(s, i, stop);
      const n = run(mm, vma, base + i, base + j);
      st.faults += n;
      st.installed.pte += n;
      i += n;
      if (i === j) continue;
    }
    st.faults++;
    const r = ops.fault(mm, vma, base + i);
    if (r === VM_FAULT_NOPAGE) st.installed.pte++;
    else if (r & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)) return -(base + i + 1);
    i++;
  }
  return base + stop;
}
