// The npm graphql-ws client (graphql-transport-ws) completes a subscription against a live
// gateway: it signs in through connection_init, subscribes to stockChanged, triggers a stock
// adjustment over HTTP once the server holds the subscription, and prints what it received.
// Usage: node subscribe.mjs <base-url> <bearer-token> <variant-id> <location-id>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

import { firstStockPush } from './stock-scenario.mjs';

const [base, token, variantId, locationId] = process.argv.slice(2);
const client = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  lazy: false,
  retryAttempts: 0,
});

await firstStockPush(client, base, token, variantId, locationId);
