// A worker thread of `pfnmap sweep`: runs its share of the cases and posts the totals.

import { parentPort, workerData } from 'node:worker_threads';
import { runCases } from './sweep.js';

const { seed, indices, variants, thp, arch } = workerData as { seed: number; indices: number[]; variants: never[]; thp: 'always' | 'madvise' | 'never'; arch: string };
const totals = runCases(seed, indices, variants, { thpEnabled: thp }, () => parentPort!.postMessage({ tick: true }), arch);
parentPort!.postMessage({ totals });
