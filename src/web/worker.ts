// The page's Web Worker: runs the model off the main thread (a 128 GiB mapping with 4 KiB
// leaves takes seconds), one request at a time. The page terminates a busy worker whose
// answer it no longer wants.

import { analyze, mapAndTouch, VARIANT_NAMES } from './model.js';
import type { ToWorker, FromWorker } from './protocol.js';

function post(m: FromWorker): void {
  (self as unknown as { postMessage(m: FromWorker): void }).postMessage(m);
}

self.addEventListener('message', (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  try {
    if (m.kind === 'analyze') {
      post({ id: m.id, kind: 'analysis', analysis: analyze(m.req) });
    } else {
      const { device, bar, offset, len, thp } = m.req;
      for (const v of VARIANT_NAMES) {
        const t0 = performance.now();
        const row = mapAndTouch(v, device, bar, offset, len, { thpEnabled: thp });
        post({ id: m.id, kind: 'row', row, ms: performance.now() - t0 });
      }
      post({ id: m.id, kind: 'done' });
    }
  } catch (e) {
    post({ id: m.id, kind: 'error', message: e instanceof Error ? e.message : String(e) });
  }
});
