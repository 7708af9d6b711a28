// The npm graphql-ws client (graphql-transport-ws) completes a subscription against a live
// gateway: it signs in through connection_init, subscribes to stockChanged, triggers a stock
// adjustment over HTTP once the server holds the subscription, and prints what it received.
// Usage: node subscribe.mjs <base-url> <bearer-token> <variant-id> <location-id>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [base, token, variantId, locationId] = process.argv.slice(2);
const client = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  lazy: false,
  retryAttempts: 0,
});

const query = `subscription ($v: [ID!], $l: [ID!]) {
  stockChanged(variantIds: $v, locationIds: $l) { onHand location { id } variant { id } }
}`;
const adjust = `mutation ($input: InventoryAdjustInput!) {
  inventoryAdjust(input: $input) { userErrors { code } }
}`;

async function held() {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^omnigate_active_subscriptions (\S+)$/m.exec(text)[1]);
}

const subscription = client.iterate({ query, variables: { v: [variantId], l: [locationId] } });
const first = subscription.next();
while ((await held()) < 1) await new Promise((resolve) => setTimeout(resolve, 50));
await fetch(`${base}/graphql`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({
    query: adjust,
    variables: { input: { reason: 'CYCLE_COUNT', changes: [{ variantId, locationId, onHand: 42 }] } },
  }),
});
const { value } = await first;
await subscription.return(); // completes the operation
await client.dispose();
process.stdout.write(JSON.stringify(value));
