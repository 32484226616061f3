// `npm run web`: serve the built page (dist/web) on http://127.0.0.1:PORT (default 8080).
//   node web/serve.mjs [--port N]
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { serveStatic } from '../dist/src/web/serve.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let port = 8080;
try {
  const { values } = parseArgs({ options: { port: { type: 'string' } }, strict: true });
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected 0–65535, got ${JSON.stringify(values.port)}`);
  }
} catch (e) {
  console.error(`pfnmap web: ${e.message.split('\n')[0]}`);
  process.exit(2);
}
try {
  const s = await serveStatic(path.join(root, 'dist/web'), port);
  console.log(`pfnmap web page: ${s.url}  (Ctrl-C to stop)`);
} catch (e) {
  console.error(`pfnmap web: cannot listen on 127.0.0.1:${port}: ${e.code ?? e.message}`);
  process.exit(1);
}
