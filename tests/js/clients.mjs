// Real GraphQL clients against a live gateway, one after another, as their users write them:
// graphql-js's standard introspection + buildClientSchema + validateSchema; Apollo Client (core
// entry points: HttpLink query, PersistedQueryLink, GraphQLWsLink and HttpLink multipart
// subscriptions); urql (a query, and a subscription with fetchSubscriptions); graphql-sse in
// both modes. Each subscription waits until the gateway holds it, adjusts that stock over HTTP,
// and reports the first push. Prints {check: {ok, value | error}} as JSON.
// Usage: node clients.mjs <base-url> <integration-token> <variant-id> <location-id>
import { createHash } from 'node:crypto';

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { Client as UrqlClient, fetchExchange } from '@urql/core';
import { buildClientSchema, getIntrospectionQuery, validateSchema } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

const [base, token, variantId, locationId] = process.argv.slice(2);
const url = `${base}/graphql`;
const bearer = { Authorization: `Bearer ${token}` };
const LISTING = 'query Listing { products(first: 2) { nodes { id title priceRange { minVariantPrice { amount } } } } }';
const STOCK = `subscription Stock($v: [ID!], $l: [ID!]) {
  stockChanged(variantIds: $v, locationIds: $l) { onHand updatedAt location { id } variant { id } }
}`;
const ADJUST = `mutation ($input: InventoryAdjustInput!) { inventoryAdjust(input: $input) { userErrors { code } } }`;
const variables = { v: [variantId], l: [locationId] };
const results = {};
let onHand = 100;

async function check(name, run) {
  try {
    results[name] = { ok: true, value: await withTimeout(run(), 30000, name) };
  } catch (error) {
    results[name] = { ok: false, error: String(error?.stack ?? error) };
  }
}

function withTimeout(promise, ms, name) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${name}: timed out`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function held() {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^omnigate_active_subscriptions (\S+)$/m.exec(text)[1]);
}

async function until(predicate) {
  while (!(await predicate())) await new Promise((resolve) => setTimeout(resolve, 50));
}

async function changeStock() {
  onHand += 1;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer },
    body: JSON.stringify({
      query: ADJUST,
      variables: { input: { reason: 'CYCLE_COUNT', changes: [{ variantId, locationId, onHand }] } },
    }),
  });
  const body = await response.json();
  if (body.errors || body.data.inventoryAdjust.userErrors.length) throw new Error(JSON.stringify(body));
  return onHand;
}

// `subscribe(onValue, onError)` starts a subscription and returns what stops it.
async function firstPush(subscribe) {
  await until(async () => (await held()) === 0);
  let stop;
  const pushed = new Promise((resolve, reject) => { stop = subscribe(resolve, reject); });
  let value, expected;
  try {
    await until(async () => (await held()) >= 1);
    expected = await changeStock();
    value = await pushed;
  } finally {
    await stop?.();
  }
  const level = value?.data?.stockChanged;
  if (level?.onHand !== expected) throw new Error(`pushed ${JSON.stringify(value)}, expected onHand ${expected}`);
  return value;
}

function observe(observable, onValue, onError) {
  const subscription = observable.subscribe({ next: onValue, error: onError });
  return () => subscription.unsubscribe();
}

await check('graphql-js introspection', async () => {
  const query = getIntrospectionQuery({
    descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
    schemaDescription: true, inputValueDeprecation: true,
  });
  const answers = [];
  for (const text of [getIntrospectionQuery(), query]) {
    const response = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: text }),
    });
    answers.push(await response.json());
  }
  for (const answer of answers) if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  const schema = buildClientSchema(answers[1].data);
  const errors = validateSchema(schema).map(String);
  return {
    errors,
    products: Boolean(schema.getQueryType().getFields().products),
    dateTime: schema.getType('DateTime').specifiedByURL,
    subscriptions: Object.keys(schema.getSubscriptionType().getFields()),
  };
});

const cache = () => new InMemoryCache();
await check('apollo HttpLink query', async () => {
  const client = new ApolloClient({ link: new HttpLink({ uri: url }), cache: cache() });
  const { data } = await client.query({ query: gql(LISTING) });
  return data;
});

await check('apollo PersistedQueryLink', async () => {
  const sent = [];
  const spy = (input, init) => { sent.push(JSON.parse(init.body)); return fetch(input, init); };
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  const link = ApolloLink.from([new PersistedQueryLink({ sha256 }), new HttpLink({ uri: url, fetch: spy })]);
  const first = new ApolloClient({ link, cache: cache() });
  const { data } = await first.query({ query: gql(LISTING) });
  const second = new ApolloClient({ link, cache: cache() });  // a fresh cache: goes to the server again
  await second.query({ query: gql(LISTING) });
  // first: hash only (not found), then hash + text; then the hash alone is enough.
  return { data, sent: sent.map((body) => ({ hash: Boolean(body.extensions?.persistedQuery), text: Boolean(body.query) })) };
});

await check('apollo GraphQLWsLink subscription', async () => {
  const ws = createWsClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  const client = new ApolloClient({ link: new GraphQLWsLink(ws), cache: cache() });
  try {
    return await firstPush((next, error) => observe(client.subscribe({ query: gql(STOCK), variables }), next, error));
  } finally {
    await ws.dispose();
  }
});

await check('apollo HttpLink multipart subscription', async () => {
  const client = new ApolloClient({ link: new HttpLink({ uri: url }), cache: cache() });
  return firstPush((next, error) => observe(client.subscribe({ query: gql(STOCK), variables }), next, error));
});

await check('urql query', async () => {
  const client = new UrqlClient({ url, exchanges: [fetchExchange] });
  const result = await client.query(LISTING, {}).toPromise();
  if (result.error) throw result.error;
  return result.data;
});

await check('urql fetchSubscriptions', async () => {
  const client = new UrqlClient({ url, exchanges: [fetchExchange], fetchSubscriptions: true });
  return firstPush((next, error) => {
    const { unsubscribe } = client.subscription(STOCK, variables).subscribe((result) => {
      if (result.error) error(result.error);
      else next({ data: result.data });
    });
    return unsubscribe;
  });
});

for (const singleConnection of [false, true]) {
  await check(`graphql-sse ${singleConnection ? 'single connection' : 'distinct connections'}`, async () => {
    const client = createSseClient({ url: `${url}/stream`, headers: bearer, singleConnection, retryAttempts: 0 });
    try {
      return await firstPush((next, error) => client.subscribe({ query: STOCK, variables }, { next, error, complete() {} }));
    } finally {
      client.dispose();
    }
  });
}

process.stdout.write(JSON.stringify(results));
process.exit(0);
