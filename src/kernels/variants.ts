// Kernel variants: a released base kernel (src/kernels/bases.ts) with an optional design
// of the huge-pfnmap work on top, named BASE[+SERIES] — linux-7.2+v2, linux-6.18.54,
// linux-6.12+thp-fops. A variant is data — which vfio hooks exist, which fault rules
// vfio-pci has, which config switches are set — plugged into the same model through its
// typed seams. The names the model had before bases and series (v1, v2, order-arg,
// userspace, linux-6.12, linux-6.18, linux-7.2) stay, as aliases of what they meant.

import type { MmConfig } from '../mm/config.js';
import type { FileOperations } from '../fs/file.js';
import type { FaultRules } from '../vfio/pci.js';
import {
  vfioDeviceFopsReleased, vfioDeviceFopsV1, vfioDeviceFopsOrderArg, vfioDeviceFopsV2, vfioDeviceFopsThp, vfioDeviceFopsV3Rule,
  vfioPciOpsReleased, vfioPciOpsV1, vfioPciOpsOrder, vfioPciOpsNaturalOrder, type VfioDeviceOps,
} from '../vfio/main.js';
import { parseBase, SERIES, type Base } from './bases.js';
import type { VariantDriverHook } from '../vfio/drivers.js';
import { RECIPE_NAMES, recipeByName, type RecipeName } from '../vfio/recipes.js';

/** The names of before: each still means what it meant (6.18-based designs). */
export type VariantName = 'linux-6.12' | 'linux-6.18' | 'linux-7.2' | 'v1' | 'order-arg' | 'v2' | 'userspace';

export interface KernelVariant {
  /** the name it was asked for by (an alias keeps its own name) */
  readonly name: string;
  readonly title: string;
  readonly kind: 'released' | 'proposal' | 'userspace';
  /** One paragraph: what this variant is and where it comes from. */
  readonly about: string;
  readonly faultRules: FaultRules;
  /** vfio_device_fops of this kernel */
  fops(config: MmConfig): FileOperations;
  /** vfio_pci_ops of this kernel */
  readonly pciOps: VfioDeviceOps;
  /** config this kernel implies (over the machine's defaults) */
  readonly config: Partial<MmConfig>;
  /** map BARs the way VMMs do today (reserve, then MAP_FIXED congruent with the offset) */
  readonly userspaceRecipe: boolean;
  /** which VMM's recipe maps each area (null: a plain mmap(NULL), or the old congruent one) */
  readonly recipe: RecipeName | null;
  /** the "what if" placement hook wired into the variant drivers' ops (nvgrace-gpu) */
  readonly variantDriverHook: VariantDriverHook;
  /** the released kernel under it, and the series on top (null: none) */
  readonly base: Base;
  readonly series: SeriesName | null;
}

export type SeriesName = 'v1' | 'order-arg' | 'v2' | 'thp-fops' | 'v3-rule' | 'v1-export' | 'v2-export';

/** A design on top of a base: posted to the lists, or only discussed. */
export interface Series {
  readonly name: SeriesName;
  readonly title: string;
  readonly status: 'posted' | 'discussed' | 'what-if';
  readonly about: string;
  fops(config: MmConfig): FileOperations;
  readonly pciOps: VfioDeviceOps;
  /** the design places BARs for vfio-pci's ->huge_fault, so the base must have one */
  readonly needsHugeFault: boolean;
  /** a "what if": the design's hook also in the variant drivers' ops (none posted) */
  readonly variantDriverHook?: VariantDriverHook;
}

export const SERIES_LIST: readonly Series[] = [
  {
    name: 'v1', title: 'v1: vfio_device_ops.get_unmapped_area', status: 'posted', needsHugeFault: true,
    about: 'Peter Xu, June 2025: vfio_device_fops.get_unmapped_area calls the device\'s hook, ' +
      'else mm_get_unmapped_area (only with CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP). vfio-pci tries a ' +
      '1 GiB, then a 2 MiB aligned search, congruent with the BAR\'s physical address, then ' +
      'the default allocator.',
    fops: (c) => (c.hugePfnmap.arch ? vfioDeviceFopsV1 : vfioDeviceFopsReleased),
    pciOps: vfioPciOpsV1,
  },
  {
    name: 'order-arg', title: 'order-arg: the hook returns an order (the seed\'s alternative)', status: 'discussed', needsHugeFault: true,
    about: 'What Jason Gunthorpe suggested in the seed thread: with an align/order argument the ' +
      'default (PAGE_SIZE) is the plain allocator, so the vfio core needs no CONFIG ifdef and no ' +
      'special fallback. vfio-pci reports one order (v2\'s rule); the core makes one aligned ' +
      'attempt, congruent with the physical address, then falls back.',
    fops: () => vfioDeviceFopsOrderArg,
    pciOps: vfioPciOpsOrder,
  },
  {
    name: 'v2', title: 'v2: file_operations.get_mapping_order', status: 'posted', needsHugeFault: true,
    about: 'Peter Xu, December 2025 (on 6.18): core mm asks the file for an order and aligns a ' +
      'hint-less mapping so that VA ≡ pgoff modulo PAGE_SIZE << order, with one attempt and an ' +
      'unaligned fallback. vfio-pci returns PUD_ORDER or PMD_ORDER from the length the request ' +
      'covers in the BAR.',
    fops: () => vfioDeviceFopsV2,
    pciOps: vfioPciOpsOrder,
  },
  {
    name: 'thp-fops', title: 'thp-fops: vfio_device_fops.get_unmapped_area = thp_get_unmapped_area', status: 'posted', needsHugeFault: false,
    about: 'Anthony Pighin, June 2026, "vfio: Request THP-aligned mmap for device fds" (Cc stable, ' +
      'Fixes: 34d7cf637c43; not merged): every device fd gets the file-THP placement hook, so a ' +
      'hint-less mapping holding a whole 2 MiB block lands VA ≡ pgoff modulo 2 MiB. Never 1 GiB; ' +
      'no driver is asked anything.',
    fops: (c) => (c.thp ? vfioDeviceFopsThp : vfioDeviceFopsReleased),
    pciOps: vfioPciOpsReleased,
  },
  {
    name: 'v3-rule', title: 'v3-rule: the driver\'s natural order, capped by core mm (the v2 review\'s rule)', status: 'discussed', needsHugeFault: true,
    about: 'The rule of the v2 review (Jason Gunthorpe, December 2025), which a v3 was said to ' +
      'follow; no v3 was posted. vfio-pci returns the largest order for which VA ≡ pgoff can ' +
      'hold — for a BAR, its size — knowing nothing of leaf sizes; core mm caps it to the length ' +
      'and to the largest leaf the arch supports at or below it, and when that leaf does not fit ' +
      '(no whole aligned block in the window, or no gap for the padding) tries the next smaller ' +
      'leaf, then the plain search.',
    fops: () => vfioDeviceFopsV3Rule,
    pciOps: vfioPciOpsNaturalOrder,
  },
  {
    name: 'v1-export', title: 'v1-export: v1, with vfio_pci_core_get_unmapped_area wired into nvgrace-gpu (what if)', status: 'what-if', needsHugeFault: true,
    about: 'Not posted: v1 as posted sets .get_unmapped_area in vfio_pci_ops only, so a variant ' +
      'driver such as nvgrace-gpu takes the mm_get_unmapped_area fallback. This what-if exports the ' +
      'helper and sets it in nvgrace_gpu_pci_ops too, reading the region as nvgrace-gpu reports it ' +
      '(memphys, bar_size): congruence with memphys, as v1 is with the BAR\'s address.',
    fops: (c) => (c.hugePfnmap.arch ? vfioDeviceFopsV1 : vfioDeviceFopsReleased),
    pciOps: vfioPciOpsV1, variantDriverHook: 'v1',
  },
  {
    name: 'v2-export', title: 'v2-export: v2, with vfio_pci_core_get_mapping_order wired into nvgrace-gpu (what if)', status: 'what-if', needsHugeFault: true,
    about: 'Not posted: v2 as posted sets .get_mapping_order in vfio_pci_ops only, so nvgrace-gpu ' +
      'reports order 0. This what-if exports the helper and sets it in nvgrace_gpu_pci_ops too: the ' +
      'order comes from bar_size and core mm aligns VA ≡ pgoff, which is VA ≡ phys only when ' +
      'memphys is aligned to the leaf.',
    fops: () => vfioDeviceFopsV2,
    pciOps: vfioPciOpsOrder, variantDriverHook: 'v2',
  },
];

const SERIES_NAMES = SERIES_LIST.map((s) => s.name);

function released(base: Base, name: string, about: string, title = base.title): KernelVariant {
  return {
    name, title, kind: 'released', about, faultRules: base.faultRules,
    fops: () => vfioDeviceFopsReleased, pciOps: vfioPciOpsReleased, config: base.config,
    userspaceRecipe: false, recipe: null, variantDriverHook: null, base, series: null,
  };
}

function onBase(base: Base, s: Series, name: string, title = `${s.title}, on ${base.title}`): KernelVariant {
  return {
    name, title, kind: 'proposal', about: s.about, faultRules: base.faultRules,
    fops: s.fops, pciOps: s.pciOps, config: base.config, userspaceRecipe: false, recipe: null,
    variantDriverHook: s.variantDriverHook ?? null, base, series: s.name,
  };
}

function baseOf(name: string): Base {
  const b = parseBase(name);
  if ('error' in b) throw new Error(b.error);
  return b;
}

const ABOUT_612 = 'The first kernel with vfio-pci huge_fault; Debian\'s 6.12.117 carries the pfn alignment check, ' +
  'the round-down of the fault address and the THP-tunables bypass for pfnmaps. A device fd has ' +
  'no placement hook, but 6.12 still THP-aligns any hook-less file mapping whose length is a ' +
  '2 MiB multiple (no hint): VA ≡ file offset modulo 2 MiB — an accident of ed48e87c7df3 that ' +
  '34d7cf637c43 removed in 6.13. Never 1 GiB.';
const ABOUT_618 = 'The base of the v2 series. Since 6.13 only anonymous memory is THP aligned, so a BAR ' +
  'mmap(NULL) gets a page-aligned address. Huge faults of a pfnmap follow the THP sysfs ' +
  'setting (madvise needs MADV_HUGEPAGE) in vanilla 6.18 up to about 6.18.53 (this machine: 6.18.44).';
const ABOUT_618_BYPASS = 'Placement as 6.18.0 (page-aligned BAR mappings); from about 6.18.54 the 6.18.y ' +
  'backport of "bypass THP tuneables for huge pfnmap mappings" (139432641cff / a548c7abf65b) gives ' +
  'huge pfnmap faults regardless of the THP sysfs setting.';
const ABOUT_72 = 'A current kernel: placement as 6.18 (page-aligned BAR mappings), the fault handler refactored ' +
  '(vfio_pci_vmf_insert_pfn, is_aligned_for_order) with the same rules, and huge pfnmap faults ' +
  'regardless of the THP sysfs setting (7.2.8+). Neither placement series is merged.';
const ABOUT_72_OLD = 'Linux 7.2 before the 7.2.y backport of the THP-tunables bypass (cdb69f523130, 7.2.8): ' +
  'placement as 6.18, huge pfnmap faults follow the THP sysfs setting.';
const ABOUT_73 = 'Mainline with "bypass THP tuneables for huge pfnmap mappings" (e384abeb559d, 7.3-rc4): ' +
  'placement as 7.2, huge pfnmap faults regardless of the THP sysfs setting.';
const ABOUT_611 = 'Before vfio-pci had ->huge_fault (f9e54c3a2f5b, 6.12): the first fault of a BAR mapping ' +
  'maps the whole VMA with 4 KiB PTEs (d71a989cf5d9). Placement as 6.12 (hook-less files are ' +
  'THP aligned). No placement series can sit on it: there is no huge leaf to place for.';

function aboutOf(base: Base): string {
  const s = base.series.series;
  if (s === '6.11') return ABOUT_611;
  if (s === '6.12') return ABOUT_612;
  if (s === '6.18') return base.config.thpPfnmapBypass ? ABOUT_618_BYPASS : ABOUT_618;
  if (s === '7.2') return base.config.thpPfnmapBypass ? ABOUT_72 : ABOUT_72_OLD;
  return ABOUT_73;
}

const S = (n: SeriesName) => SERIES_LIST.find((s) => s.name === n)!;

export const VARIANTS: Record<VariantName, KernelVariant> = {
  'linux-6.12': released(baseOf('linux-6.12'), 'linux-6.12', ABOUT_612),
  'linux-6.18': released(baseOf('linux-6.18'), 'linux-6.18', ABOUT_618, 'Linux 6.18 (this machine)'),
  'linux-7.2': released(baseOf('linux-7.2'), 'linux-7.2', ABOUT_72),
  v1: onBase(baseOf('linux-6.18'), S('v1'), 'v1', S('v1').title),
  'order-arg': onBase(baseOf('linux-6.18'), S('order-arg'), 'order-arg', S('order-arg').title),
  v2: onBase(baseOf('linux-6.18'), S('v2'), 'v2', S('v2').title),
  userspace: {
    name: 'userspace', title: 'userspace: reserve, then MAP_FIXED (unpatched 6.18)', kind: 'userspace',
    about: 'What VMMs do on an unpatched kernel (QEMU, the VFIO selftests\' mmap_reserve, Meta\'s ' +
      'drivers): reserve len + align of PROT_NONE anonymous memory, trim it to an address ' +
      'congruent with the file offset modulo the largest leaf the length allows, and mmap the ' +
      'BAR there with MAP_FIXED.',
    faultRules: baseOf('linux-6.18').faultRules,
    fops: () => vfioDeviceFopsReleased,
    pciOps: vfioPciOpsReleased,
    config: baseOf('linux-6.18').config,
    userspaceRecipe: true,
    recipe: null,
    variantDriverHook: null,
    base: baseOf('linux-6.18'),
    series: null,
  },
};

/** A kernel variant with a VMM's recipe mapping each area: RECIPE@KERNEL. */
function withRecipe(k: KernelVariant, r: RecipeName, name: string): KernelVariant {
  const rc = recipeByName(r)!;
  return { ...k, name, kind: 'userspace', title: `${rc.title}, on ${k.title}`, about: rc.about, userspaceRecipe: true, recipe: r };
}

/**
 * The recipes VMMs ship, as aliases on this machine's kernel as `userspace` is (which stays,
 * meaning congruent@linux-6.18): qemu, cloud-hypervisor, congruent. Any kernel takes one as
 * RECIPE@KERNEL: qemu@linux-7.2, congruent@linux-7.2+thp-fops.
 */
export const RECIPE_VARIANT_NAMES: readonly string[] = RECIPE_NAMES;

/** The variants every listing runs by default: the names of before, in their order. */
export const VARIANT_NAMES = Object.keys(VARIANTS) as VariantName[];

/**
 * Base + series combinations the page and `pfnmap --help` offer beside the aliases: the
 * designs on the current kernel, one posted series backported to 6.12, and the point
 * releases where the THP-tunables bypass arrived.
 */
export const SHOWCASE_NAMES: readonly string[] = [
  'linux-6.18.54', 'linux-7.3', 'linux-6.12+v2', 'linux-7.2+v1', 'linux-7.2+v2', 'linux-7.2+thp-fops', 'linux-7.2+v3-rule',
  'linux-7.2+v2-export', 'qemu@linux-7.2', 'congruent@linux-7.2',
];

/** A name's variant, or the one line that says why it names none. */
export function parseVariant(name: string): KernelVariant | { error: string } {
  // own keys only: "toString" or "__proto__" name no variant
  if (Object.hasOwn(VARIANTS, name)) return (VARIANTS as Record<string, KernelVariant>)[name];
  const rc = recipeByName(name);
  if (rc !== undefined) return withRecipe(VARIANTS['linux-6.18'], rc.name, name);
  const at = name.indexOf('@');
  if (at >= 0) {
    const r = recipeByName(name.slice(0, at));
    if (r === undefined) return { error: `unknown kernel variant ${JSON.stringify(name)}: unknown recipe ${JSON.stringify(name.slice(0, at))} (recipes: ${RECIPE_NAMES.join(', ')})` };
    const k = parseVariant(name.slice(at + 1));
    if ('error' in k) return k;
    if (k.userspaceRecipe) return { error: `unknown kernel variant ${JSON.stringify(name)}: ${k.name} already maps with a recipe: name a kernel after the @` };
    return withRecipe(k, r.name, name);
  }
  const plus = name.indexOf('+');
  const baseName = plus < 0 ? name : name.slice(0, plus);
  const seriesName = plus < 0 ? null : name.slice(plus + 1);
  if (!baseName.startsWith('linux-') && seriesName === null) {
    const hint = (SERIES_NAMES as string[]).includes(name) ? ` (a series needs a base: linux-7.2+${name})` : '';
    return { error: `unknown kernel variant ${JSON.stringify(name)}${hint}: name a variant BASE[+SERIES] (${variantHelp()})` };
  }
  const base = parseBase(baseName);
  if ('error' in base) return { error: `unknown kernel variant ${JSON.stringify(name)}: ${base.error}` };
  if (seriesName === null) return released(base, name, aboutOf(base));
  const s = SERIES_LIST.find((x) => x.name === seriesName);
  if (s === undefined) {
    const recipe = seriesName === 'userspace' ? '; userspace is a recipe of today\'s VMMs, not a kernel series (the alias userspace is linux-6.18 with it)' : '';
    return { error: `unknown kernel variant ${JSON.stringify(name)}: unknown series ${JSON.stringify(seriesName)} (series: ${SERIES_NAMES.join(', ')})${recipe}` };
  }
  if (s.needsHugeFault && !base.hugeFault) {
    return { error: `series ${s.name} cannot sit on ${base.name}: it places BARs for vfio-pci's ->huge_fault (f9e54c3a2f5b, 6.12), which ${base.name} does not have` };
  }
  return onBase(base, s, name);
}

export function variantByName(name: string): KernelVariant | undefined {
  const v = parseVariant(name);
  return 'error' in v ? undefined : v;
}

/** A name's variant; a bad name throws, with the line that says why. */
export function requireVariant(name: string): KernelVariant {
  const v = parseVariant(name);
  if ('error' in v) throw new Error(v.error);
  return v;
}

/** "bases linux-6.11, …; series v1, …; aliases v1, …" for messages and --help. */
export function variantHelp(): string {
  return `bases: ${SERIES.map((s) => `linux-${s.series}`).join(', ')}, each with an optional .N point release; ` +
    `series: ${SERIES_NAMES.join(', ')}; aliases: ${VARIANT_NAMES.join(', ')}; recipes: ${RECIPE_NAMES.join(', ')}, or RECIPE@KERNEL`;
}
