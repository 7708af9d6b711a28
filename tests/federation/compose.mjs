// Composes a supergraph from live subgraphs with The Guild's federation composition: each
// subgraph's SDL is read from its `{ _service { sdl } }`, the supergraph SDL written to a file.
// Usage: node compose.mjs <out-file> <name>=<url>...
import { writeFileSync } from 'node:fs';

import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

const [out, ...subgraphs] = process.argv.slice(2);
const services = [];
for (const entry of subgraphs) {
  const [name, url] = entry.split(/=(.*)/s);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
  services.push({ name, url, typeDefs: parse(body.data._service.sdl) });
}
const result = composeServices(services);
if (result.errors?.length) {
  for (const error of result.errors) console.error(String(error));
  process.exit(1);
}
writeFileSync(out, result.supergraphSdl);
process.stdout.write(`composed ${services.map((s) => s.name).join(' + ')}\n`);
