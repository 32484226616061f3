// Messages between the page and its worker (src/web/worker.ts).

import type { Analysis, MapResult, Request } from './model.js';

export type ToWorker =
  | { id: number; kind: 'analyze'; req: Request }
  | { id: number; kind: 'compare'; req: Omit<Request, 'variant'> };

export type FromWorker =
  | { id: number; kind: 'analysis'; analysis: Analysis }
  | { id: number; kind: 'row'; row: MapResult; ms: number }
  | { id: number; kind: 'done' }
  | { id: number; kind: 'error'; message: string };
