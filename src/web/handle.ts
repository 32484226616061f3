// One request of the page, answered by the model: in the Web Worker, or inline where the
// page cannot start one.

import { analyze, mapAndTouch, archOf, VARIANT_NAMES, SHOWCASE_NAMES, RECIPE_VARIANT_NAMES } from './model.js';
import type { ToWorker, FromWorker } from './protocol.js';

export function handle(m: ToWorker, post: (m: FromWorker) => void): void {
  try {
    if (m.kind === 'analyze') {
      post({ id: m.id, kind: 'analysis', analysis: analyze(m.req) });
    } else {
      const { device, bar, offset, len, thp } = m.req;
      const arch = archOf(m.req.arch);
      for (const v of [...VARIANT_NAMES, ...RECIPE_VARIANT_NAMES, ...SHOWCASE_NAMES]) {
        const t0 = performance.now();
        const row = mapAndTouch(v, device, bar, offset, len, { thpEnabled: thp }, undefined, arch);
        post({ id: m.id, kind: 'row', row, ms: performance.now() - t0 });
      }
      post({ id: m.id, kind: 'done' });
    }
  } catch (e) {
    post({ id: m.id, kind: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}
