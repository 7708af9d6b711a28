// A small second subgraph for the federation test: reviews of Omnigate's products, keyed by the
// product's global id, with @apollo/subgraph served by graphql-http on Node's http module.
// Usage: node reviews.mjs <port> <product-id>...   (each product given gets two reviews)
import { createServer } from 'node:http';

import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/http';

const [port, ...productIds] = process.argv.slice(2);
const reviews = new Map(productIds.map((id, n) => [id, [
  { rating: 5 - n, body: `Great fit, true to size (${n + 1})` },
  { rating: 4, body: 'Warm enough for a wet Seattle morning' },
]]));

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Product @key(fields: "id") {
    id: ID!
    "What shoppers wrote about this product."
    reviews: [Review!]!
  }

  type Review {
    rating: Int!
    body: String!
  }
`);
const resolvers = {
  Product: {
    __resolveReference: (reference) => ({ id: reference.id }),
    reviews: (product) => reviews.get(product.id) ?? [],
  },
};

const handler = createHandler({ schema: buildSubgraphSchema([{ typeDefs, resolvers }]) });
createServer((req, res) => {
  if (req.url.startsWith('/graphql')) handler(req, res);
  else res.writeHead(404).end();
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('READY\n'));
