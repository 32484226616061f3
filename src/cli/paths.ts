// Where the package's own files are, whether run from src/ (tests) or dist/.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest ancestor of this module holding package.json. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('pfnmap: cannot find the package root');
    dir = up;
  }
  return dir;
}

/** The kernel traces recorded on Linux 6.18 that ship with pfnmap. */
export function bundledTraces(): string[] {
  const dir = path.join(packageRoot(), 'fixtures', 'kernel-traces');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') || f.endsWith('.json.gz'))
    .sort()
    .map((f) => path.join(dir, f));
}
