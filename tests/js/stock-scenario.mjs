// What subscribe.mjs (websockets) and subscribe-sse.mjs (Server-Sent Events) both do once their
// client is made: subscribe to stockChanged, wait until the gateway holds the subscription,
// adjust that stock over HTTP, and print the first push.
const query = `subscription ($v: [ID!], $l: [ID!]) {
  stockChanged(variantIds: $v, locationIds: $l) { onHand location { id } variant { id } }
}`;
const adjust = `mutation ($input: InventoryAdjustInput!) {
  inventoryAdjust(input: $input) { userErrors { code } }
}`;

async function held(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^omnigate_active_subscriptions (\S+)$/m.exec(text)[1]);
}

export async function firstStockPush(client, base, token, variantId, locationId) {
  const subscription = client.iterate({ query, variables: { v: [variantId], l: [locationId] } });
  const first = subscription.next();
  while ((await held(base)) < 1) await new Promise((resolve) => setTimeout(resolve, 50));
  await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: adjust,
      variables: { input: { reason: 'CYCLE_COUNT', changes: [{ variantId, locationId, onHand: 42 }] } },
    }),
  });
  const { value } = await first;
  await subscription.return(); // completes the operation (ends the stream over SSE)
  await client.dispose();
  process.stdout.write(JSON.stringify(value));
}
