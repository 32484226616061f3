// The page: read the inputs, run the model (in a Web Worker when the browser has one),
// and show the numbers and drawings. Every input error is shown next to its field in one
// line; nothing here lets an exception reach the top level.

import {
  devicesFrom, defaultDevice, barsOf, defaultBar, windowOf, lengthNote, bytesLabel, leafBytes, archOf, InputError,
  VARIANTS, VARIANT_NAMES, SHOWCASE_NAMES, RECIPE_VARIANT_NAMES, variantByName, PRESET_NAMES, ARCH_NAMES, x86_64,
  type DeviceSource, type Device, type Request, type Analysis, type MapResult, type ThpMode, type Arch,
} from './model.js';
import { vmaStripSvg, leafStripSvg, leafLabels, addrOf, esc } from './draw.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { handle } from './handle.js';

/** every variant the page lists and "Compare all" runs: the aliases, then BASE[+SERIES] ones */
const PAGE_VARIANTS: readonly string[] = [...VARIANT_NAMES, ...RECIPE_VARIANT_NAMES, ...SHOWCASE_NAMES];

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page: #${id} missing`);
  return e as T;
};

const fmt = (n: number) => n.toLocaleString('en-US');

// ---- errors next to fields -------------------------------------------------------------

const ERR_FIELDS = ['device', 'bar', 'offset', 'length'] as const;
type ErrField = (typeof ERR_FIELDS)[number];

function setErr(field: ErrField, msg: string | null): void {
  const e = $(`err-${field}`);
  e.textContent = msg ?? '';
  e.hidden = msg === null;
  const input = { device: 'device-text', bar: 'bar', offset: 'offset', length: 'length' }[field];
  $(input).classList.toggle('bad', msg !== null);
}

/** The field an InputError belongs to ("lspci line 3: …" → device). */
function fieldOf(e: InputError): ErrField {
  const f = e.field.split(/[ .[]/)[0];
  if (f === 'offset' || f === 'length' || f === 'bar') return f;
  return 'device';
}

// ---- the model, off the main thread ----------------------------------------------------

class ModelRunner {
  private w: Worker | null = null;
  private busy = false;
  private seq = 0;
  private handler: ((m: FromWorker) => void) | null = null;

  private worker(): Worker | null {
    if (this.w) return this.w;
    try {
      this.w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    } catch {
      return null; // file:// pages and old browsers: run inline
    }
    this.w.addEventListener('message', (ev: MessageEvent<FromWorker>) => {
      if (ev.data.id !== this.seq) return;
      if (ev.data.kind !== 'row') this.busy = false;
      this.handler?.(ev.data);
    });
    this.w.addEventListener('error', (ev: ErrorEvent) => {
      this.busy = false;
      this.handler?.({ id: this.seq, kind: 'error', message: ev.message || 'the model worker failed' });
    });
    return this.w;
  }

  /** Start a job, abandoning any running one; `on` gets every message of this job. */
  run(msg: Omit<ToWorker, 'id'>, on: (m: FromWorker) => void): void {
    if (this.busy && this.w) {
      this.w.terminate();
      this.w = null;
    }
    const id = ++this.seq;
    this.handler = on;
    const w = this.worker();
    const full = { ...msg, id } as ToWorker;
    if (w) {
      this.busy = true;
      w.postMessage(full);
      return;
    }
    setTimeout(() => handle(full, (m) => id === this.seq && on(m)), 0);
  }

  cancel(): void {
    this.seq++;
    if (this.busy && this.w) {
      this.w.terminate();
      this.w = null;
      this.busy = false;
    }
  }
}

// ---- state -----------------------------------------------------------------------------

const main = new ModelRunner();
const cmp = new ModelRunner();
let device: Device | null = null;
let deviceKey = '';

function source(): DeviceSource {
  const kind = (document.querySelector<HTMLInputElement>('input[name=src]:checked')?.value ?? 'preset') as DeviceSource['kind'];
  if (kind === 'preset') return { kind, name: $<HTMLSelectElement>('preset').value };
  return { kind, text: $<HTMLTextAreaElement>('device-text').value };
}

function thp(): ThpMode {
  return (document.querySelector<HTMLInputElement>('input[name=thp]:checked')?.value ?? 'always') as ThpMode;
}

function variant(): string {
  return $<HTMLSelectElement>('variant').value;
}

/** The chosen architecture (x86_64 unless the selector says otherwise). */
function arch(): Arch {
  return archOf($<HTMLSelectElement>('arch').value);
}

/** "arm64" of "arm64-64k": what "none on …" names. */
const family = (a: Arch) => a.name.split('-')[0];

/** The contiguous-bit ranges of the arch, proposed for pfnmaps in no kernel; null where it has none. */
function contNote(a: Arch): string | null {
  const b = leafBytes(a);
  const cont = [a.contPtes ? `CONT_PTE ${bytesLabel(b.pte * a.contPtes)} (${a.contPtes} PTEs)` : '', a.contPmds ? `CONT_PMD ${bytesLabel(b.pmd * a.contPmds)} (${a.contPmds} PMDs)` : ''].filter(Boolean);
  if (cont.length === 0) return null;
  return `${a.name}: the contiguous ranges ${cont.join(' and ')} are proposed for pfnmaps, in no kernel — never drawn as leaves here.`;
}

/** Every label that names a page or leaf size follows the chosen arch. */
function showArch(): void {
  const a = arch();
  const b = leafBytes(a);
  const L = leafLabels(a);
  const noPud = !a.pfnmapPud;
  for (const k of ['pud', 'pmd', 'pte'] as const) {
    $(`lab-${k}`).textContent = `× ${L[k]}`;
    $(`legend-${k}`).textContent = `${bytesLabel(b[k])} leaf (${k.toUpperCase()})`;
  }
  $('row-pud').hidden = noPud;
  $('row-nopud').hidden = !noPud;
  $('row-nopud').textContent = `PUD: none on ${family(a)}`;
  $('legend-pud-item').hidden = noPud;
  $('legend-nopud').hidden = !noPud;
  $('legend-nopud').textContent = `PUD leaves: none on ${family(a)} (no PUD pfnmaps)`;
  const cn = contNote(a);
  $('arch-note').textContent = cn ?? '';
  $('arch-note').hidden = cn === null;
  $('page-size').textContent = bytesLabel(a.pageSize);
  const largest = noPud ? `PMD leaves of ${bytesLabel(b.pmd)} are the largest a pfnmap gets (no PUD pfnmaps on ${family(a)})` : `PUD ${bytesLabel(b.pud)} and PMD ${bytesLabel(b.pmd)} leaves`;
  $('arch-about').textContent = `${bytesLabel(a.pageSize)} pages, ${a.levels} table levels; ${largest}.` +
    (a === x86_64 ? '' : ' The process starts from the layout a real 7.2.13 kernel of this granule gave the oracle\'s probe.');
  $('results').dataset.arch = a.name;
}

function setStatus(state: 'busy' | 'done' | 'error' | 'idle', text: string): void {
  $('results').dataset.state = state;
  const s = $('status');
  s.textContent = text;
  s.className = `status ${state}`;
}

/** The devices of the current source text, parsed once per text. */
let listing: { key: string; devices: Device[] } | null = null;

/** Offer the devices of a whole-machine listing (BDF and name); hidden for one device. */
function fillPicker(devs: Device[]): void {
  const sel = $<HTMLSelectElement>('device-pick');
  const prev = sel.value;
  sel.innerHTML = '';
  const many = devs.length > 1;
  $('device-pick-row').hidden = !many;
  $('device-pick-about').hidden = !many;
  if (!many) return;
  for (const d of devs) sel.append(new Option(`${d.bdf} — ${d.name}`, d.bdf));
  sel.value = devs.some((d) => d.bdf === prev) ? prev : devs[defaultDevice(devs)].bdf!;
  $('device-pick-about').textContent = `The listing holds ${devs.length} devices: pick one.`;
}

function hidePicker(): void {
  $('device-pick-row').hidden = true;
  $('device-pick-about').hidden = true;
}

/** Re-read the device; on a new device, refill the BAR list. false when it cannot be read. */
function readDevice(): boolean {
  const src = source();
  const srcKey = JSON.stringify(src);
  let devs: Device[];
  try {
    if (listing?.key !== srcKey) {
      listing = { key: srcKey, devices: devicesFrom(src) };
      fillPicker(listing.devices);
    }
    devs = listing.devices;
  } catch (e) {
    listing = null;
    hidePicker();
    device = null;
    deviceKey = '';
    setErr('device', e instanceof Error ? e.message : String(e));
    $('device-name').textContent = '';
    return false;
  }
  const want = $<HTMLSelectElement>('device-pick').value;
  const picked = devs.length > 1 ? (devs.find((d) => d.bdf === want) ?? devs[0]) : devs[0];
  const key = `${srcKey}\u0000${picked.bdf ?? ''}`;
  if (key === deviceKey && device) return true;
  device = picked;
  deviceKey = key;
  setErr('device', null);
  const d = device;
  $('device-name').textContent = `${d.name}${d.bdf ? ` (${d.bdf})` : ''}${d.vendor && d.device ? ` [${d.vendor.slice(2)}:${d.device.slice(2)}]` : ''}`;
  const sel = $<HTMLSelectElement>('bar');
  const prev = sel.value === '' ? -1 : Number(sel.value);
  sel.innerHTML = '';
  for (const r of barsOf(d)) {
    const o = document.createElement('option');
    o.value = String(r.index);
    const kind = r.io ? 'I/O ports' : [r.mem64 ? '64-bit' : '32-bit', r.prefetchable ? 'prefetchable' : ''].filter(Boolean).join(', ');
    o.textContent = `BAR${r.index} — ${bytesLabel(r.size)}${r.mmap ? '' : ' (not mmap-able)'}`;
    o.dataset.about = `${r.io ? '' : `at 0x${r.start.toString(16)}, `}${kind}`;
    o.disabled = !r.mmap;
    sel.append(o);
  }
  const keep = barsOf(d).find((r) => r.index === prev && r.mmap);
  const pick = keep ? prev : defaultBar(d);
  if (pick === undefined) {
    setErr('bar', 'bar: the device has no mmap-able BAR');
    return false;
  }
  sel.value = String(pick);
  barChanged(false);
  return true;
}

function barChanged(resetOffset: boolean): void {
  if (!device) return;
  const r = device.regions.find((x) => x.index === Number($<HTMLSelectElement>('bar').value));
  if (resetOffset) $<HTMLInputElement>('offset').value = '0x0';
  $<HTMLInputElement>('length').placeholder = r ? `0x${r.size.toString(16)}` : '';
  const opt = $<HTMLSelectElement>('bar').selectedOptions[0];
  $('bar-about').textContent = opt?.dataset.about ? `physical ${opt.dataset.about}` : '';
}

/** The current request, or null with the errors shown. */
function request(): Request | null {
  for (const f of ['bar', 'offset', 'length'] as const) setErr(f, null);
  $('note-length').hidden = true;
  if (!readDevice() || !device) return null;
  try {
    const a = arch();
    const w = windowOf(device, Number($<HTMLSelectElement>('bar').value), $<HTMLInputElement>('offset').value, $<HTMLInputElement>('length').value, undefined, a);
    const note = lengthNote(w.len, a);
    $('note-length').textContent = note ?? '';
    $('note-length').hidden = note === null;
    return { variant: variant(), device, bar: w.bar, offset: w.offset, len: w.len, thp: thp(), arch: a.name };
  } catch (e) {
    if (e instanceof InputError) setErr(fieldOf(e), e.message);
    else setErr('offset', String(e));
    return null;
  }
}

// ---- output ----------------------------------------------------------------------------

/** "128 × 1 GiB", "256 × 512 MiB + 16 × 64 KiB": counts by the sizes of the row's arch. */
function leavesText(l: MapResult['leaves'], b: MapResult['leafBytes']): string {
  return (['pud', 'pmd', 'pte'] as const).filter((k) => l[k] > 0).map((k) => `${fmt(l[k])} × ${bytesLabel(b[k])}`).join(' + ') || '–';
}

function setStat(id: string, text: string, value: number | string): void {
  const e = $(id);
  e.textContent = text;
  e.dataset.value = String(value);
}

function showAnalysis(req: Request, a: Analysis): void {
  const r = a.result;
  const g = archOf(r.arch);
  const res = $('results');
  res.dataset.variant = r.variant;
  res.dataset.resultArch = r.arch;
  res.dataset.bar = String(r.bar);
  res.dataset.bdf = req.device.bdf ?? '';
  setStat('stat-addr', r.addr ?? `mmap failed: ${r.error}`, r.addr ?? '');
  setStat('stat-align', r.addr ? bytesLabel(r.alignment) : '–', r.alignment);
  setStat('stat-faults', fmt(r.faults), r.faults);
  setStat('stat-tlb', fmt(r.tlbEntries), r.tlbEntries);
  setStat('stat-pud', fmt(r.leaves.pud), r.leaves.pud);
  setStat('stat-pmd', fmt(r.leaves.pmd), r.leaves.pmd);
  setStat('stat-pte', fmt(r.leaves.pte), r.leaves.pte);
  const where = `BAR${r.bar} [0x${r.offset.toString(16)}, +0x${r.size.toString(16)}) (${bytesLabel(r.size)}) under ${r.variant}, THP ${req.thp}${g === x86_64 ? '' : `, ${g.name}`}`;
  if (r.addr === null) {
    setStatus('done', `${where}: mmap() returned ${r.error} — nothing was mapped.`);
    $('vma-strip').innerHTML = '';
    $('vma-table').innerHTML = '';
    $('leaf-strip').innerHTML = '';
    return;
  }
  const sig = r.error ? ` The walk stopped with ${r.error}.` : '';
  setStatus('done', `${where}: computed in ${a.ms < 1000 ? `${a.ms.toFixed(0)} ms` : `${(a.ms / 1000).toFixed(1)} s`}.${sig}`);
  const barLabel = `BAR${r.bar} mapping`;
  $('vma-strip').innerHTML = vmaStripSvg(a.vmas, barLabel, undefined, undefined, g);
  const rows = a.vmas.map((v) => `<tr${v.target ? ' class="target"' : ''}><td class="mono">${addrOf(v.start, g)}–${addrOf(v.end, g)}</td>` +
    `<td class="num">${bytesLabel((v.end - v.start) * g.pageSize)}</td><td class="mono">${v.perms}</td><td>${esc(v.target ? `${barLabel} (vfio device)` : v.name)}</td></tr>`);
  $('vma-table').innerHTML = `<thead><tr><th>range</th><th class="num">size</th><th>perms</th><th>what</th></tr></thead><tbody>${rows.join('')}</tbody>`;
  $('leaf-strip').innerHTML = a.startPg === null ? '' : leafStripSvg(a.runs, a.startPg, a.pages, undefined, undefined, g);
}

function clearResults(): void {
  for (const id of ['stat-addr', 'stat-align', 'stat-faults', 'stat-tlb', 'stat-pud', 'stat-pmd', 'stat-pte']) setStat(id, '–', '');
  delete $('results').dataset.variant;
  delete $('results').dataset.resultArch;
  delete $('results').dataset.bdf;
  for (const id of ['vma-strip', 'vma-table', 'leaf-strip']) $(id).innerHTML = '';
}

function compareRow(r: MapResult, ms: number): string {
  const sel = r.variant === variant() ? ' class="selected"' : '';
  return `<tr${sel} data-variant="${r.variant}"><td title="${esc(variantByName(r.variant)!.title)}">${r.variant}</td>` +
    `<td class="num mono">${r.addr ?? esc(r.error ?? '–')}</td><td class="num">${r.addr ? bytesLabel(r.alignment) : '–'}</td>` +
    `<td class="num">${fmt(r.faults)}</td><td class="num">${fmt(r.tlbEntries)}</td><td>${leavesText(r.leaves, r.leafBytes)}${r.addr && r.error ? ` (${r.error})` : ''}` +
    `<span class="ms">${ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`}</span></td></tr>`;
}

function resetCompare(): void {
  cmp.cancel();
  $<HTMLTableElement>('compare').hidden = true;
  $('compare').querySelector('tbody')!.innerHTML = '';
  $('compare-status').textContent = '';
  $<HTMLButtonElement>('compare-all').disabled = false;
}

// ---- actions ---------------------------------------------------------------------------

function recompute(): void {
  resetCompare();
  const req = request();
  if (!req) {
    main.cancel();
    clearResults();
    setStatus('error', 'Fix the marked field to see the mapping.');
    return;
  }
  setStatus('busy', `Mapping and touching BAR${req.bar} (${bytesLabel(req.len)}) under ${req.variant}…`);
  main.run({ kind: 'analyze', req }, (m) => {
    if (m.kind === 'analysis') showAnalysis(req, m.analysis);
    else if (m.kind === 'error') {
      clearResults();
      setStatus('error', `The model failed: ${m.message}`);
    }
  });
}

function compareAll(): void {
  const req = request();
  if (!req) return;
  const table = $<HTMLTableElement>('compare');
  const body = table.querySelector('tbody')!;
  body.innerHTML = '';
  table.hidden = false;
  const btn = $<HTMLButtonElement>('compare-all');
  btn.disabled = true;
  let n = 0;
  $('compare-status').textContent = `computing 0 of ${PAGE_VARIANTS.length}…`;
  const { variant: _v, ...rest } = req;
  cmp.run({ kind: 'compare', req: rest }, (m) => {
    if (m.kind === 'row') {
      body.insertAdjacentHTML('beforeend', compareRow(m.row, m.ms));
      n++;
      $('compare-status').textContent = n < PAGE_VARIANTS.length ? `computing ${n} of ${PAGE_VARIANTS.length}…` : '';
    } else if (m.kind === 'done') {
      btn.disabled = false;
      $('compare-status').textContent = 'done';
    } else if (m.kind === 'error') {
      btn.disabled = false;
      $('compare-status').textContent = `failed: ${m.message}`;
    }
  });
}

let timer: ReturnType<typeof setTimeout> | undefined;
function later(f: () => void, ms = 300): void {
  clearTimeout(timer);
  timer = setTimeout(f, ms);
}

function showAbout(): void {
  const v = variantByName(variant())!;
  $('variant-title').textContent = v.title;
  $('variant-about').textContent = v.about;
}

function init(): void {
  const ps = $<HTMLSelectElement>('preset');
  for (const n of PRESET_NAMES) ps.append(new Option(n, n));
  ps.value = 'gpu-128g';
  const vs = $<HTMLSelectElement>('variant');
  const groups: Record<string, string> = { released: 'released kernels', proposal: 'proposed designs', userspace: 'today\'s userspace workaround' };
  const kinds = [...new Set(VARIANT_NAMES.map((n) => VARIANTS[n].kind as string))];
  for (const kind of kinds) {
    const g = document.createElement('optgroup');
    g.label = groups[kind] ?? kind;
    for (const n of VARIANT_NAMES) if (VARIANTS[n].kind === kind) g.append(new Option(n, n));
    vs.append(g);
  }
  // the recipes VMMs ship, beside the kernel designs (each on this machine's kernel, as userspace is)
  const rg = document.createElement('optgroup');
  rg.label = 'userspace recipes as shipped (QEMU, Cloud Hypervisor, congruent)';
  for (const n of RECIPE_VARIANT_NAMES) rg.append(new Option(n, n));
  vs.append(rg);
  // BASE[+SERIES]: the designs on today's kernel, a backport, the point releases that matter
  const g = document.createElement('optgroup');
  g.label = 'base + series';
  for (const n of SHOWCASE_NAMES) g.append(new Option(n, n));
  vs.append(g);
  vs.value = 'v2';
  showAbout();
  const as = $<HTMLSelectElement>('arch');
  for (const n of ARCH_NAMES) as.append(new Option(n, n));
  as.value = 'x86_64';
  showArch();

  for (const r of document.querySelectorAll<HTMLInputElement>('input[name=src]')) {
    r.addEventListener('change', () => {
      const preset = r.value === 'preset';
      ps.hidden = !preset;
      const ta = $<HTMLTextAreaElement>('device-text');
      ta.hidden = preset;
      ta.placeholder = r.value === 'lspci'
        ? 'Paste `lspci -v` output of one device or a whole machine (then pick the device), e.g.\n01:00.0 3D controller: NVIDIA Corporation … [10de:2330]\n\tMemory at 38c002000000 (64-bit, prefetchable) [size=16M]\n\t…'
        : 'Paste a pfnmap-device/1 JSON object: {"format": "pfnmap-device/1", "name": …, "regions": […]}';
      if (!preset && ta.value.trim() === '') {
        hidePicker();
        setErr('device', null);
        setStatus('idle', 'Paste the device text on the left.');
        clearResults();
        return;
      }
      recompute();
    });
  }
  ps.addEventListener('change', recompute);
  $('device-pick').addEventListener('change', recompute);
  $('device-text').addEventListener('input', () => later(recompute));
  $('bar').addEventListener('change', () => {
    barChanged(true);
    $<HTMLInputElement>('length').value = '';
    recompute();
  });
  $('offset').addEventListener('input', () => later(recompute));
  $('length').addEventListener('input', () => later(recompute));
  vs.addEventListener('change', () => {
    showAbout();
    recompute();
  });
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name=thp]')) r.addEventListener('change', recompute);
  as.addEventListener('change', () => {
    showArch();
    recompute();
  });
  $('compare-all').addEventListener('click', compareAll);
  recompute();
}

window.addEventListener('error', (ev) => {
  try {
    setStatus('error', `Unexpected error: ${ev.message}`);
  } catch {
    /* the page itself is broken */
  }
});
window.addEventListener('unhandledrejection', (ev) => {
  try {
    setStatus('error', `Unexpected error: ${String((ev as PromiseRejectionEvent).reason)}`);
  } catch {
    /* the page itself is broken */
  }
});

function start(): void {
  try {
    init();
  } catch (e) {
    const s = document.getElementById('status');
    if (s) s.textContent = `The page failed to start: ${e instanceof Error ? e.message : String(e)}`;
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
