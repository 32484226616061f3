// Where a device description comes from on the command line: a preset name, a
// pfnmap-device/1 JSON file, an lspci -v text file, a sysfs device directory or
// /sys/bus/pci/devices (bdf picks one of several devices, of a listing or of sysfs).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, show } from '../trace/input-error.js';
import { parseJson } from '../lib/json.js';
import { errText } from '../lib/json-file.js';
import { parseDevice, type Device } from './device.js';
import { preset, PRESET_NAMES } from './presets.js';
import { importLspci, normaliseBdf } from './lspci.js';
import { importSysfs } from './sysfs.js';

/** A device from --device: bdf picks one device of an lspci listing or a sysfs devices directory. */
export function loadDevice(spec: string, bdf?: string): Device {
  // a malformed --bdf is refused whatever the device is, and a --bdf that names another
  // device than the one described is refused too (it used to be ignored for all but lspci)
  const want = bdf === undefined ? undefined : normaliseBdf(bdf);
  const d = readDevice(spec, bdf);
  if (want !== undefined && d.bdf !== undefined && normaliseBdf(d.bdf) !== want) throw new InputError('--bdf', `the device is ${d.bdf}, not ${show(bdf)}`);
  return d;
}

function readDevice(spec: string, bdf?: string): Device {
  const p = preset(spec);
  if (p) return p;
  if (!fs.existsSync(spec)) {
    throw new InputError('--device', `${show(spec)} is neither a preset (${PRESET_NAMES.join(', ')}) nor a file`);
  }
  if (fs.statSync(spec).isDirectory()) return importSysfs(spec, bdf);
  let text: string;
  try {
    text = fs.readFileSync(spec, 'utf8');
  } catch (e) {
    throw new InputError(spec, `cannot read: ${errText(e)}`);
  }
  if (/^\uFEFF?\s*[{[]/.test(text)) return parseDevice(parseJson(text, spec), path.basename(spec));
  return importLspci(text, undefined, bdf);
}
