// A process of a given kernel variant that opens VFIO devices and maps their BARs: the
// entry point the CLI, the alignment test and the comparisons use.

import { MmStruct } from '../mm/mm.js';
import { DEFAULT_CONFIG, type MmConfig } from '../mm/config.js';
import { x86_64 } from '../arch/x86_64.js';
import type { Arch, ArchGeometry } from '../arch/arch.js';
import { archDefaults } from '../arch/index.js';
import type { TraceVma } from '../trace/format.js';
import { addInitialVmas, shmemZeroSetup } from '../kernels/linux-6.18.js';
import { TYPICAL_PROCESS, ARM64_PROCESS } from '../kernels/process-template.js';
import type { KernelVariant } from '../kernels/variants.js';
import type { KFile } from '../fs/file.js';
import type { Device } from '../devices/device.js';
import { VfioPciDevice, regionPgoffPages } from './pci.js';
import type { VfioDeviceFile } from './main.js';
import { deviceOpsFor } from './drivers.js';
import { mapWithRecipe } from './recipes.js';
import { pow2, type Split } from '../lib/u64.js';
import { sysMmap, sysMunmap } from '../mm/mmap.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../mm/uapi.js';

export class VfioProcess {
  readonly mm: MmStruct;
  /**
   * `layout` replaces the typical process: its VMAs (as a trace's `initial`) and the arch
   * (pfnmap inspect passes x86_64 with the mmap_base a /proc/PID/maps implies).
   */
  constructor(readonly variant: KernelVariant, config: Partial<MmConfig> = {}, layout?: { initial?: Iterable<TraceVma>; arch?: Arch }) {
    const arch = layout?.arch ?? x86_64;
    const c: MmConfig = { ...DEFAULT_CONFIG, ...(arch === x86_64 ? {} : archDefaults(arch)), ...variant.config, ...config };
    if (config.hugePfnmap === undefined && c.hugePfnmap.arch === false) c.hugePfnmap = { arch: false, pmd: false, pud: false };
    this.mm = new MmStruct(c, arch);
    // the typical process of the arch: x86_64's dynamically linked one, the arm64 oracle's
    // probe on 4K, 16K and 64K (an arch without one starts from an empty layout)
    const rows = arch === x86_64 ? TYPICAL_PROCESS : ARM64_PROCESS[arch.name] ?? [];
    const typical = rows.map(([start, end, perms, offset, backing]) => ({ start, end, perms, offset, backing }));
    addInitialVmas(this.mm, layout?.initial ?? typical);
  }

  /** open("/dev/vfio/devices/…") of a vfio-pci device under this variant. */
  openDevice(dev: Device, id = 'v0'): KFile {
    return openVfioDevice(this.variant, this.mm.config, dev, id, this.mm.arch);
  }

  mmap(addr: Split, len: Split, prot: number, flags: number, file: KFile | null, offset: Split): number {
    return sysMmap(this.mm, addr, len, prot, flags, file, offset, shmemZeroSetup);
  }
}

/** open() of a vfio-pci device file under a variant, in a process configured by `c`. */
export function openVfioDevice(variant: KernelVariant, c: MmConfig, dev: Device, id: string, arch: ArchGeometry): KFile {
  const pdev = new VfioPciDevice(dev, variant.faultRules, c.thp && c.hugePfnmap.arch, arch);
  // the device's own vfio_device_ops: vfio_pci_ops, nvgrace_gpu_pci_ops, vfio_platform_ops
  const privateData: VfioDeviceFile = { device: pdev, ops: deviceOpsFor(variant, dev) };
  return { id, kind: 'vfio-pci', fop: variant.fops(c), sizePages: 0, huge: 'never', privateData, noexec: c.anonInodeNoexec };
}

const split = (pg: number, sub = 0): Split => ({ pg, sub });

/** The largest leaf order (PUD, PMD, 0) the arch supports that a length of `pages` can use. */
export function bestOrderFor(config: MmConfig, pages: number, a: ArchGeometry = x86_64): number {
  if (config.hugePfnmap.arch && config.hugePfnmap.pud && a.pfnmapPud && pages >= a.pudPages) return a.pudOrder;
  if (config.hugePfnmap.arch && config.hugePfnmap.pmd && a.pfnmapPmd && pages >= a.pmdPages) return a.pmdOrder;
  return 0;
}

/**
 * The userspace recipe VMMs use on kernels without a placement hook: reserve len + align
 * of PROT_NONE memory, pick the address in it congruent to the file offset modulo align,
 * trim the rest, and map the BAR there with MAP_FIXED. Returns the address or -errno.
 */
export function mmapReserveCongruent(p: VfioProcess, file: KFile, lenPages: number, offsetPg: number, prot: number, align: number): number {
  if (align <= 1) return p.mmap(split(0), split(lenPages), prot, MAP_SHARED, file, split(offsetPg));
  const base = p.mmap(split(0), split(lenPages + align), 0, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, null, split(0));
  if (base < 0) return p.mmap(split(0), split(lenPages), prot, MAP_SHARED, file, split(offsetPg));
  const want = offsetPg % align;
  const va = base + ((want - (base % align) + align) % align);
  if (va > base) sysMunmap(p.mm, split(base), split(va - base));
  const tail = base + lenPages + align;
  if (tail > va + lenPages) sysMunmap(p.mm, split(va + lenPages), split(tail - (va + lenPages)));
  return p.mmap(split(va), split(lenPages), prot, MAP_SHARED | MAP_FIXED, file, split(offsetPg));
}

/** mmap one BAR (or part of it) the way a program under this variant would. */
export function mapBar(p: VfioProcess, file: KFile, index: number, offsetBytes: number, lenBytes: number): number {
  const ps = p.mm.arch.pageSize;
  const offsetPg = index * regionPgoffPages(p.mm.arch) + Math.floor(offsetBytes / ps);
  const lenPages = Math.ceil(lenBytes / ps);
  const prot = PROT_READ | PROT_WRITE;
  const rc = p.variant.recipe;
  if (rc !== null && rc !== undefined && rc !== 'congruent') return mapWithRecipe(p, rc, file, lenPages, offsetPg, prot, pow2(bestOrderFor(p.mm.config, lenPages, p.mm.arch)));
  if (p.variant.userspaceRecipe) {
    const align = pow2(bestOrderFor(p.mm.config, lenPages, p.mm.arch));
    return mmapReserveCongruent(p, file, lenPages, offsetPg, prot, align);
  }
  return p.mmap(split(0), { pg: Math.floor(lenBytes / ps), sub: lenBytes % ps }, prot, MAP_SHARED, file, { pg: offsetPg, sub: offsetBytes % ps });
}
