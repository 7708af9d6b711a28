// The npm graphql-sse client ("distinct connections" mode) completes a subscription against a
// live gateway over Server-Sent Events: signed in by its Authorization header, it subscribes to
// stockChanged, triggers a stock adjustment over HTTP once the server holds the subscription,
// and prints what it received.
// Usage: node subscribe-sse.mjs <base-url> <bearer-token> <variant-id> <location-id>
import { createClient } from 'graphql-sse';

const [base, token, variantId, locationId] = process.argv.slice(2);
const client = createClient({
  url: `${base}/graphql/stream`,
  headers: { Authorization: `Bearer ${token}` },
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
await subscription.return(); // ends the stream
client.dispose();
process.stdout.write(JSON.stringify(value));
