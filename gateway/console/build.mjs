// Builds dist/: one script (Preact with htm, the graphql-ws client, our app) and the CSS, so the
// page loads two same-origin files with its nonce and runs no inline script under its CSP.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const from = (path) => readFileSync(join(here, path), 'utf8');
mkdirSync(dist, { recursive: true });

const script = [
  'node_modules/htm/preact/standalone.umd.js',
  'node_modules/graphql-ws/umd/graphql-ws.min.js',
  'src/console.js',
].map(from).join('\n;\n');
writeFileSync(join(dist, 'console.js'), script);
copyFileSync(join(here, 'src/console.css'), join(dist, 'console.css'));
console.log(`console: built ${dist} (${(script.length / 1e3).toFixed(0)} kB script)`);
