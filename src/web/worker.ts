// The page's Web Worker: runs the model off the main thread (a 128 GiB mapping with 4 KiB
// leaves takes seconds), one request at a time. The page terminates a busy worker whose
// answer it no longer wants.

import { handle } from './handle.js';
import type { ToWorker, FromWorker } from './protocol.js';

function post(m: FromWorker): void {
  (self as unknown as { postMessage(m: FromWorker): void }).postMessage(m);
}

self.addEventListener('message', (ev: MessageEvent<ToWorker>) => handle(ev.data, post));
