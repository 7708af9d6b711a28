// The npm graphql-sse client ("distinct connections" mode) completes a subscription against a
// live gateway over Server-Sent Events: signed in by its Authorization header, it subscribes to
// stockChanged, triggers a stock adjustment over HTTP once the server holds the subscription,
// and prints what it received.
// Usage: node subscribe-sse.mjs <base-url> <bearer-token> <variant-id> <location-id>
import { createClient } from 'graphql-sse';

import { firstStockPush } from './stock-scenario.mjs';

const [base, token, variantId, locationId] = process.argv.slice(2);
const client = createClient({
  url: `${base}/graphql/stream`,
  headers: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
});

await firstStockPush(client, base, token, variantId, locationId);
