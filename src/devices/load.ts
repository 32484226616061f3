// Where a device description comes from on the command line: a preset name, a
// pfnmap-device/1 JSON file, an lspci -v text file, or a sysfs device directory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../trace/input-error.js';
import { parseDevice, type Device } from './device.js';
import { preset, PRESET_NAMES } from './presets.js';
import { importLspci } from './lspci.js';
import { importSysfsDir } from './sysfs.js';

export function loadDevice(spec: string): Device {
  const p = preset(spec);
  if (p) return p;
  if (!fs.existsSync(spec)) {
    throw new InputError('--device', `${JSON.stringify(spec)} is neither a preset (${PRESET_NAMES.join(', ')}) nor a file`);
  }
  if (fs.statSync(spec).isDirectory()) return importSysfsDir(spec);
  const text = fs.readFileSync(spec, 'utf8');
  if (/^\s*\{/.test(text)) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new InputError(spec, `not valid JSON: ${(e as Error).message}`);
    }
    return parseDevice(data, path.basename(spec));
  }
  return importLspci(text);
}
