// Builds dist/: one script (React 18 UMD + ReactDOM + GraphiQL UMD + our init) and the CSS,
// so the page loads two same-origin files and needs no inline script under its CSP.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const from = (path) => readFileSync(join(here, path), 'utf8');
mkdirSync(dist, { recursive: true });

// A newline between files: each ends with a sourceMappingURL comment.
const script = [
  'node_modules/react/umd/react.production.min.js',
  'node_modules/react-dom/umd/react-dom.production.min.js',
  'node_modules/graphiql/dist/index.umd.js',
  'src/init.js',
].map(from).join('\n;\n');
writeFileSync(join(dist, 'graphiql.js'), script);
copyFileSync(join(here, 'node_modules/graphiql/dist/style.css'), join(dist, 'graphiql.css'));
copyFileSync(join(here, 'src/nonce.js'), join(dist, 'nonce.js'));
copyFileSync(join(here, 'src/page.css'), join(dist, 'page.css'));
console.log(`graphiql: built ${dist} (${(script.length / 1e6).toFixed(2)} MB script)`);
