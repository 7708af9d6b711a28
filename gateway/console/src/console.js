// The store console: a tablet app for store staff on the gateway's public GraphQL API (queries and
// mutations over HTTP, subscriptions over graphql-ws). Preact with htm renders it; no inline
// script or style attribute is ever written, so it runs under the page's strict CSP.
(function () {
  'use strict';
  const { html, render, useState, useEffect, useRef } = window.htmPreact;
  const mount = document.getElementById('console');
  const ENDPOINT = mount.dataset.endpoint;
  const SUBSCRIPTIONS = mount.dataset.subscriptions;
  const SESSION_KEY = 'omnigate-console:session';

  // ---- a tiny shared store: the screens subscribe to the keys they show -------------------------
  const listeners = new Set();
  const state = {
    session: readJson(SESSION_KEY),
    link: 'connecting', // connecting | online | offline
    screen: 'pickup',
    orders: {}, // id -> order, this store's pickup and reserve orders
    returnOrderId: '',
    notice: null,
  };
  function set(patch) {
    Object.assign(state, patch);
    listeners.forEach((fn) => fn());
  }
  function useStore() {
    const [, tick] = useState(0);
    useEffect(() => {
      const fn = () => tick((n) => n + 1);
      listeners.add(fn);
      return () => listeners.delete(fn);
    }, []);
    return state;
  }
  function readJson(key) {
    try {
      return JSON.parse(localStorage.getItem(key) || 'null');
    } catch (e) {
      return null;
    }
  }
  function writeJson(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      /* a private window: the session lasts as long as the page */
    }
  }

  // ---- the API ------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(message, code) {
      super(message);
      this.code = code;
    }
  }

  async function gql(query, variables, token) {
    const bearer = token !== undefined ? token : state.session && state.session.token;
    let response;
    try {
      response = await fetch(ENDPOINT, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        },
        body: JSON.stringify({ query, variables: variables || {} }),
      });
    } catch (e) {
      set({ link: 'offline' });
      throw new ApiError('The gateway cannot be reached: check the store network.');
    }
    let body;
    try {
      body = await response.json();
    } catch (e) {
      throw new ApiError(`The gateway answered ${response.status}.`);
    }
    if (body.errors && body.errors.length) {
      const first = body.errors[0];
      const code = first.extensions && first.extensions.code;
      throw new ApiError(code ? `${first.message} (${code})` : first.message, code);
    }
    return body.data;
  }

  // A payload's userErrors become one message.
  function payload(value) {
    if (value.userErrors && value.userErrors.length) {
      throw new ApiError(value.userErrors.map((e) => `${e.message} (${e.code})`).join('; '));
    }
    return value;
  }

  // One graphql-ws connection for the tablet: it retries for ever, and every reconnection after a
  // loss makes the screens refetch what they show (pushes sent while away are not replayed).
  let live = null;
  const reconnectHandlers = new Set();
  function connect() {
    if (live) live.dispose();
    let lost = false;
    live = window.graphqlWs.createClient({
      url: SUBSCRIPTIONS,
      lazy: false,
      keepAlive: 5000,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: (retries) => new Promise((r) => setTimeout(r, Math.min(500 * 2 ** retries, 4000))),
      connectionParams: () => ({ Authorization: `Bearer ${state.session.token}` }),
      on: {
        connected: () => {
          set({ link: 'online' });
          if (lost) reconnectHandlers.forEach((fn) => fn());
          lost = false;
        },
        closed: () => {
          lost = true;
          set({ link: 'offline' });
        },
      },
      onNonLazyError: () => {},
    });
  }
  function onReconnect(fn) {
    useEffect(() => {
      reconnectHandlers.add(fn);
      return () => reconnectHandlers.delete(fn);
    }, []);
  }
  // Subscribe while a screen shows (and `variables` is not null); `next` gets each pushed `data`.
  function useSubscription(query, variables, next, deps) {
    useEffect(() => {
      if (!live || !variables) return undefined;
      return live.subscribe(
        { query, variables },
        {
          next: (result) => result.data && next(result.data),
          error: () => {},
          complete: () => {},
        },
      );
    }, deps);
  }
  window.addEventListener('offline', () => set({ link: 'offline' }));

  // ---- GraphQL documents ----------------------------------------------------------------------------
  const ORDER = `
    fragment ConsoleOrder on Order {
      id number channel status createdAt
      total { amount currencyCode }
      member { firstName lastName }
      lines { id sku title quantity returnedQuantity unitPrice { amount currencyCode } }
      fulfillments { id mode status holdExpiresAt updatedAt location { id }
        lines { id sku title quantity } }
    }`;
  const QUEUE = `query ConsoleQueue($locationId: ID!) {
    open: locationOrders(locationId: $locationId, statuses: [ALLOCATED, READY_FOR_PICKUP, HELD], first: 200) {
      nodes { ...ConsoleOrder } }
    done: locationOrders(locationId: $locationId, statuses: [PICKED_UP, SOLD], first: 30) {
      nodes { ...ConsoleOrder } }
  } ${ORDER}`;
  const ORDER_PUSHES = `subscription ConsoleOrderPushes($locationId: ID!) {
    orderStatusChanged(locationId: $locationId) { ...ConsoleOrder } } ${ORDER}`;
  const MOVE = `mutation ConsoleMove($id: ID!, $status: FulfillmentStatus!) {
    fulfillmentUpdateStatus(fulfillmentId: $id, status: $status) {
      order { ...ConsoleOrder } userErrors { code message } } } ${ORDER}`;
  const ORDER_BY_ID = `query ConsoleOrder($id: ID!) { order(id: $id) { ...ConsoleOrder } } ${ORDER}`;
  const STORES = `query ConsoleStores { locations(first: 100, kind: STORE) {
    nodes { id code name geo { latitude longitude } address { city } } } }`;
  const WHO = 'query ConsoleWho { me { id } }';
  const VARIANT = `
    fragment ConsoleVariant on ProductVariant {
      id sku title price { amount currencyCode } product { title }
      inventory(locationIds: [$here]) { onHand reserved available updatedAt }
      storeAvailability(near: $near, first: 5) { available distanceKm location { id name } }
    }`;
  const FIND_SKU = `query ConsoleFindSku($sku: String!, $here: ID!, $near: GeoPointInput!) {
    products(query: $sku, first: 10) { nodes { variants { ...ConsoleVariant } } } } ${VARIANT}`;
  const STOCK_PUSHES = `subscription ConsoleStock($variantIds: [ID!]) {
    stockChanged(variantIds: $variantIds) { onHand reserved available location { id } variant { id } } }`;
  const ADJUST = `mutation ConsoleAdjust($input: InventoryAdjustInput!) {
    inventoryAdjust(input: $input) { inventoryLevels { onHand reserved available location { id } }
      userErrors { code message } } }`;
  const CART = `
    fragment ConsoleCart on Cart {
      id status totalQuantity subtotal { amount currencyCode } member { id }
      lines { id quantity variant { sku title product { title } } total { amount currencyCode } }
    }`;
  const CART_CREATE = `mutation ConsoleCartCreate($input: CartCreateInput!) {
    cartCreate(input: $input) { cart { ...ConsoleCart } userErrors { code message } } } ${CART}`;
  const CART_ADD = `mutation ConsoleCartAdd($cartId: ID!, $lines: [CartLineInput!]!) {
    cartLinesAdd(cartId: $cartId, lines: $lines) { cart { ...ConsoleCart } userErrors { code message } } } ${CART}`;
  const CART_GET = `query ConsoleCartGet($id: ID!) { cart(id: $id) { ...ConsoleCart } } ${CART}`;
  const CART_PUSHES = `subscription ConsoleCartPushes($cartId: ID!) { cartChanged(cartId: $cartId) { ...ConsoleCart } } ${CART}`;
  const CART_ASSIGN = `mutation ConsoleCartAssign($cartId: ID!, $email: String) {
    cartAssignMember(cartId: $cartId, email: $email) { cart { ...ConsoleCart } userErrors { code message } } } ${CART}`;
  const MEMBER = 'id firstName lastName email phone loyalty { points tier }';
  const MEMBER_SEARCH = `query ConsoleMemberSearch($query: String!) {
    supportMemberSearch(query: $query, first: 10) { ${MEMBER} } }`;
  const MEMBER_TIMELINE = `query ConsoleMemberTimeline($id: ID!) {
    supportMember(id: $id) { ${MEMBER}
      timeline(first: 30) { nodes { kind occurredAt channel detail points location { name } } } } }`;
  const TODAY = `query ConsoleToday {
    analytics { until sales(groupBy: [CHANNEL, LOCATION], period: DAY) {
      rows { channel period orders location { id } sales { amount currencyCode } } } } }`;
  const SKU_ONLY = `query ConsoleSku($sku: String!) { products(query: $sku, first: 10) { nodes { variants { id sku } } } }`;
  const RETURN = `mutation ConsoleReturn($input: ReturnInput!) {
    returnCreate(input: $input) { return { id refund { amount currencyCode } refundStatus }
      order { ...ConsoleOrder } userErrors { code message } } } ${ORDER}`;

  // ---- helpers --------------------------------------------------------------------------------------
  const money = (m) => (m ? `${m.amount} ${m.currencyCode}` : '');
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '');
  const here = () => state.session.location.id;
  const when = (iso) =>
    iso ? new Date(iso).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '';
  const words = (value) => (value ? value.replace(/_/g, ' ').toLowerCase() : '');
  const setBar = (el, share) => el && (el.style.width = `${Math.round(share * 100)}%`); // CSSOM, allowed by the CSP
  function Bars({ rows, label }) {
    const most = Math.max(1, ...rows.map((r) => r.value));
    return html`<ul class="bars" aria-label=${label}>
      ${rows.map(
        (r) => html`<li data-bar=${r.key}><span class="label">${words(r.key)}</span>
          <span class="track"><span class="bar" ref=${(el) => setBar(el, r.value / most)}></span></span>
          <span class="value">${r.text}</span></li>`,
      )}
    </ul>`;
  }
  const ours = (order) => order.fulfillments.filter((f) => f.location.id === here());
  const HOLD_SOON_MS = 60 * 60 * 1000;

  function jwtClaims(token) {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      return JSON.parse(atob(parts[1].replace(/-/g, '+').replace(/_/g, '/')));
    } catch (e) {
      return null;
    }
  }
  // JWT staff tokens carry location *ids*; the API's ids are global ("Location:<id>", base64).
  const globalLocationId = (key) => btoa(`Location:${key}`);

  const queued = (order) => order && ours(order).some((f) => f.mode === 'PICKUP' || f.mode === 'RESERVE');
  // A push or a mutation's answer: one order's news.
  function keepOrders(list) {
    const orders = { ...state.orders };
    for (const order of list) if (queued(order)) orders[order.id] = order;
    set({ orders });
  }
  // The store's queue as the gateway has it now: on start and after every reconnection, so
  // what happened while the tablet was away (new orders, orders moved or cancelled) shows.
  async function refetchOrders() {
    const data = await gql(QUEUE, { locationId: here() });
    const orders = {};
    for (const order of [...data.open.nodes, ...data.done.nodes]) if (queued(order)) orders[order.id] = order;
    set({ orders });
  }

  // ---- components -------------------------------------------------------------------------------------
  function useAction() {
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    async function run(fn) {
      setBusy(true);
      setError(null);
      try {
        return await fn();
      } catch (e) {
        setError(e.message);
        return undefined;
      } finally {
        setBusy(false);
      }
    }
    return { busy, error, run, setError };
  }
  const Problem = ({ text }) => (text ? html`<p class="problem" role="alert">${text}</p>` : null);

  function SignIn() {
    const [token, setToken] = useState('');
    const [stores, setStores] = useState([]);
    const [store, setStore] = useState('');
    const action = useAction();
    useEffect(() => {
      action.run(async () => setStores((await gql(STORES, {}, '')).locations.nodes));
    }, []);
    const claims = jwtClaims(token.trim());
    const allowed =
      claims && Array.isArray(claims.locations)
        ? stores.filter((s) => claims.locations.map(globalLocationId).includes(s.id))
        : stores;
    useEffect(() => {
      if (allowed.length === 1) setStore(allowed[0].id);
    }, [allowed.length]);
    async function submit(event) {
      event.preventDefault();
      await action.run(async () => {
        const bearer = token.trim();
        if (!bearer) throw new ApiError('Paste your staff token.');
        if (claims && claims.role && claims.role !== 'staff') throw new ApiError('This is not a staff token.');
        const who = await gql(WHO, {}, bearer); // an unknown or expired token is UNAUTHENTICATED
        if (who.me) throw new ApiError('This is a shopper\u2019s token, not a staff token.');
        const location = allowed.find((s) => s.id === store);
        if (!location) throw new ApiError('Choose the store this tablet is in.');
        const session = { token: bearer, location };
        writeJson(SESSION_KEY, session);
        state.session = session;
        connect();
        set({ session, orders: {}, screen: 'pickup' });
      });
    }
    return html`<form class="signin" onSubmit=${submit}>
      <h1>Store console</h1>
      <label for="token">Staff token</label>
      <textarea id="token" name="token" rows="3" autocomplete="off" spellcheck="false"
        value=${token} onInput=${(e) => setToken(e.target.value)}></textarea>
      <label for="store">This tablet's store</label>
      <select id="store" name="store" value=${store} onChange=${(e) => setStore(e.target.value)}>
        <option value="">Choose a store</option>
        ${allowed.map((s) => html`<option value=${s.id}>${s.name} (${s.code})</option>`)}
      </select>
      <button type="submit" class="primary" disabled=${action.busy}>Sign in</button>
      <${Problem} text=${action.error} />
    </form>`;
  }

  function Tabs({ screen }) {
    const tabs = [
      ['pickup', 'Pickup queue'],
      ['stock', 'Stock'],
      ['customer', 'Customer'],
      ['returns', 'Returns'],
      ['today', 'Today'],
    ];
    return html`<nav class="tabs" aria-label="Screens">
      ${tabs.map(
        ([key, label]) => html`<button type="button" class=${screen === key ? 'tab current' : 'tab'}
          aria-current=${screen === key ? 'page' : null} data-screen=${key}
          onClick=${() => set({ screen: key })}>${label}</button>`,
      )}
    </nav>`;
  }

  function groupOrders(orders) {
    const groups = { prepare: [], ready: [], holds: [], collected: [] };
    for (const order of Object.values(orders)) {
      for (const f of ours(order)) {
        const entry = { order, fulfillment: f };
        if (f.mode === 'PICKUP' && f.status === 'ALLOCATED') groups.prepare.push(entry);
        else if (f.mode === 'PICKUP' && f.status === 'READY_FOR_PICKUP') groups.ready.push(entry);
        else if (f.mode === 'RESERVE' && f.status === 'HELD') groups.holds.push(entry);
        else if (['PICKED_UP', 'SOLD'].includes(f.status)) groups.collected.push(entry);
      }
    }
    groups.holds.sort((a, b) => (a.fulfillment.holdExpiresAt || '').localeCompare(b.fulfillment.holdExpiresAt || ''));
    for (const key of ['prepare', 'ready']) groups[key].sort((a, b) => a.order.number - b.order.number);
    groups.collected.sort((a, b) => b.fulfillment.updatedAt.localeCompare(a.fulfillment.updatedAt));
    return groups;
  }

  function OrderCard({ order, fulfillment }) {
    const action = useAction();
    const move = (status) =>
      action.run(async () => {
        const data = await gql(MOVE, { id: fulfillment.id, status });
        keepOrders([payload(data.fulfillmentUpdateStatus).order]);
      });
    const soon = fulfillment.holdExpiresAt && new Date(fulfillment.holdExpiresAt) - Date.now() < HOLD_SOON_MS;
    const buttons = {
      ALLOCATED: [['READY_FOR_PICKUP', 'Ready']],
      READY_FOR_PICKUP: [['PICKED_UP', 'Picked up']],
      HELD: [['SOLD', 'Sold'], ['RELEASED', 'Release']],
    }[fulfillment.status] || [];
    return html`<li class="card" data-order=${order.id} data-number=${order.number} data-status=${fulfillment.status}>
      <div class="card-head">
        <strong>#${order.number}</strong>
        ${order.member && html`<span>${order.member.firstName} ${order.member.lastName}</span>`}
        <span class="badge">${fulfillment.mode === 'RESERVE' ? 'Try on' : 'Collect'}</span>
        <span class="muted">${order.channel} · ${time(order.createdAt)}</span>
      </div>
      <ul class="lines">
        ${fulfillment.lines.map((l) => html`<li>${l.quantity} × ${l.title} <span class="muted">${l.sku}</span></li>`)}
      </ul>
      ${fulfillment.holdExpiresAt &&
      html`<p class=${soon ? 'expiring' : 'muted'}>Hold until ${time(fulfillment.holdExpiresAt)}</p>`}
      <div class="actions">
        ${buttons.map(
          ([status, label]) => html`<button type="button" class=${status === 'RELEASED' ? '' : 'primary'}
            disabled=${action.busy} data-action=${status} onClick=${() => move(status)}>${label}</button>`,
        )}
        <button type="button" onClick=${() => set({ screen: 'returns', returnOrderId: order.id })}>Return</button>
      </div>
      <${Problem} text=${action.error} />
    </li>`;
  }

  function Pickup() {
    const s = useStore();
    const action = useAction();
    useEffect(() => {
      action.run(refetchOrders);
    }, []);
    onReconnect(() => action.run(refetchOrders));
    useSubscription(ORDER_PUSHES, { locationId: here() }, (data) => keepOrders([data.orderStatusChanged]), []);
    const groups = groupOrders(s.orders);
    const column = (key, title, entries) => html`<section class="column" data-group=${key}>
      <h2>${title} <span class="count">${entries.length}</span></h2>
      <ul class="cards">
        ${entries.map((e) => html`<${OrderCard} key=${e.fulfillment.id} order=${e.order} fulfillment=${e.fulfillment} />`)}
      </ul>
    </section>`;
    return html`<div class="screen" data-screen-name="pickup">
      <div class="columns">
        ${column('prepare', 'To prepare', groups.prepare)}
        ${column('ready', 'Ready', groups.ready)}
        ${column('holds', 'Holds expiring', groups.holds)}
        ${column('collected', 'Collected', groups.collected.slice(0, 20))}
      </div>
      <${Problem} text=${action.error} />
    </div>`;
  }

  function Stock() {
    const [sku, setSku] = useState('');
    const [variant, setVariant] = useState(null);
    const [quantity, setQuantity] = useState('');
    const action = useAction();
    const record = useAction();
    const [done, setDone] = useState(null);
    const variantRef = useRef(null);
    variantRef.current = variant;
    async function find(wanted) {
      const loc = state.session.location;
      const data = await gql(FIND_SKU, { sku: wanted, here: loc.id, near: loc.geo });
      const all = data.products.nodes.flatMap((p) => p.variants);
      const match = all.find((v) => v.sku.toLowerCase() === wanted.toLowerCase());
      if (!match) throw new ApiError(`No variant has the SKU ${wanted}.`);
      setVariant(match);
    }
    const submit = (event) => {
      event.preventDefault();
      setDone(null);
      action.run(() => find(sku.trim()));
    };
    onReconnect(() => variantRef.current && action.run(() => find(variantRef.current.sku)));
    useSubscription(
      STOCK_PUSHES,
      variant ? { variantIds: [variant.id] } : null,
      (data) => {
        const level = data.stockChanged;
        const current = variantRef.current;
        if (!current || level.variant.id !== current.id) return;
        const numbers = { onHand: level.onHand, reserved: level.reserved, available: level.available };
        if (level.location.id === here()) {
          setVariant({ ...current, inventory: [{ ...(current.inventory[0] || {}), ...numbers }] });
        } else {
          setVariant({
            ...current,
            storeAvailability: current.storeAvailability.map((a) =>
              a.location.id === level.location.id ? { ...a, available: level.available } : a,
            ),
          });
        }
      },
      [variant && variant.id],
    );
    const adjust = (reason) =>
      record.run(async () => {
        const n = Number.parseInt(quantity, 10);
        if (!Number.isFinite(n)) throw new ApiError('Type a number first.');
        const change = { variantId: variant.id, locationId: here() };
        if (reason === 'CYCLE_COUNT') change.onHand = n;
        else change.delta = n;
        const data = await gql(ADJUST, { input: { reason, reference: 'store console', changes: [change] } });
        const level = payload(data.inventoryAdjust).inventoryLevels[0];
        setVariant({ ...variantRef.current, inventory: [level] });
        setQuantity('');
        setDone(reason === 'CYCLE_COUNT' ? `Counted ${n}.` : `Received ${n}.`);
      });
    const level = variant && variant.inventory[0];
    return html`<div class="screen" data-screen-name="stock">
      <form class="row" onSubmit=${submit}>
        <label for="sku">SKU</label>
        <input id="sku" name="sku" autocomplete="off" inputmode="text" value=${sku}
          onInput=${(e) => setSku(e.target.value)} placeholder="Scan or type a SKU" />
        <button type="submit" class="primary" disabled=${action.busy}>Look up</button>
      </form>
      <${Problem} text=${action.error} />
      ${variant &&
      html`<section class="panel">
        <h2>${variant.product.title} <span class="muted">${variant.title} · ${variant.sku}</span></h2>
        <div class="numbers">
          <div class="number"><span class="label">On hand</span><span class="value" data-stock="onHand">${level ? level.onHand : 0}</span></div>
          <div class="number"><span class="label">Reserved</span><span class="value" data-stock="reserved">${level ? level.reserved : 0}</span></div>
          <div class="number"><span class="label">Available</span><span class="value" data-stock="available">${level ? level.available : 0}</span></div>
        </div>
        <form class="row" onSubmit=${(e) => e.preventDefault()}>
          <label for="quantity">Units</label>
          <input id="quantity" type="number" inputmode="numeric" value=${quantity} onInput=${(e) => setQuantity(e.target.value)} />
          <button type="button" class="primary" data-action="count" disabled=${record.busy} onClick=${() => adjust('CYCLE_COUNT')}>Record count</button>
          <button type="button" data-action="receipt" disabled=${record.busy} onClick=${() => adjust('RECEIPT')}>Record receipt</button>
        </form>
        ${done && html`<p class="ok" role="status">${done}</p>`}
        <${Problem} text=${record.error} />
        <h3>Nearest stores</h3>
        <table class="nearby">
          <thead><tr><th>Store</th><th>Available</th><th>Distance</th></tr></thead>
          <tbody>
            ${variant.storeAvailability
              .filter((a) => a.location.id !== here())
              .map((a) => html`<tr><td>${a.location.name}</td><td>${a.available}</td>
                <td>${a.distanceKm == null ? '' : `${a.distanceKm.toFixed(1)} km`}</td></tr>`)}
          </tbody>
        </table>
      </section>`}
    </div>`;
  }

  // Find a member (support:read: each member shown is audited), see their profile, points, tier
  // and timeline; staff without the role build carts only.
  function CustomerLookup({ onChosen }) {
    const [query, setQuery] = useState('');
    const [matches, setMatches] = useState(null);
    const [member, setMember] = useState(null);
    const [forbidden, setForbidden] = useState(false);
    const action = useAction();
    const memberRef = useRef(null);
    memberRef.current = member;
    async function open(id) {
      const found = (await gql(MEMBER_TIMELINE, { id })).supportMember;
      if (!found) throw new ApiError('This member no longer exists.');
      setMember(found);
      onChosen(found);
    }
    onReconnect(() => memberRef.current && action.run(() => open(memberRef.current.id)));
    const search = (event) => {
      event.preventDefault();
      setMember(null);
      action.run(async () => {
        try {
          const found = (await gql(MEMBER_SEARCH, { query: query.trim() })).supportMemberSearch;
          setMatches(found);
          if (found.length === 1) await open(found[0].id);
        } catch (e) {
          if (e.code === 'FORBIDDEN') setForbidden(true);
          else throw e;
        }
      });
    };
    if (forbidden) {
      return html`<p class="muted" data-lookup="off">Looking customers up takes the support role
        (<code>support:read</code>) on your staff token: ask your manager. You can still build a cart.</p>`;
    }
    return html`<section class="lookup">
      <form class="row" onSubmit=${search}>
        <label for="customer-query">Find a customer</label>
        <input id="customer-query" autocomplete="off" value=${query} onInput=${(e) => setQuery(e.target.value)}
          placeholder="Email, phone or loyalty card number" />
        <button type="submit" class="primary" disabled=${action.busy || !query.trim()}>Find</button>
      </form>
      <${Problem} text=${action.error} />
      ${matches && !matches.length && html`<p class="muted" role="status" data-matches="0">No member has this email, phone or card number.</p>`}
      ${matches && matches.length > 1 &&
      html`<ul class="matches">
        ${matches.map(
          (m) => html`<li><button type="button" data-member=${m.id} onClick=${() => action.run(() => open(m.id))}>
            ${m.firstName} ${m.lastName} <span class="muted">${m.email || ''} ${m.phone || ''}</span></button></li>`,
        )}
      </ul>`}
      ${member &&
      html`<section class="panel" data-member-profile=${member.id}>
        <h2>${member.firstName} ${member.lastName}</h2>
        <p class="muted">${member.email || ''}${member.phone ? ` · ${member.phone}` : ''}</p>
        <div class="numbers">
          <div class="number"><span class="label">Points</span><span class="value" data-loyalty="points">${member.loyalty.points}</span></div>
          <div class="number"><span class="label">Tier</span><span class="value" data-loyalty="tier">${member.loyalty.tier}</span></div>
        </div>
        <h3>Timeline</h3>
        ${member.timeline.nodes.length
          ? html`<ol class="timeline">
              ${member.timeline.nodes.map(
                (t) => html`<li class="timeline-entry" data-kind=${t.kind}>
                  <span class="when">${when(t.occurredAt)}</span>
                  <span class="what">${words(t.kind)}${t.detail ? `: ${words(t.detail)}` : ''}${t.points != null ? ` (${t.points} points)` : ''}</span>
                  <span class="muted">${words(t.channel)}${t.location ? ` · ${t.location.name}` : ''}</span>
                </li>`,
              )}
            </ol>`
          : html`<p class="muted">Nothing yet in any channel.</p>`}
      </section>`}
    </section>`;
  }

  function Customer() {
    const [cart, setCart] = useState(null);
    const [sku, setSku] = useState('');
    const [email, setEmail] = useState('');
    const [handed, setHanded] = useState(null);
    const action = useAction();
    const cartRef = useRef(null);
    cartRef.current = cart;
    useSubscription(CART_PUSHES, cart ? { cartId: cart.id } : null, (data) => setCart(data.cartChanged), [cart && cart.id]);
    onReconnect(() =>
      cartRef.current && action.run(async () => setCart((await gql(CART_GET, { id: cartRef.current.id })).cart)),
    );
    const add = (event) => {
      event.preventDefault();
      action.run(async () => {
        const wanted = sku.trim();
        const variants = (await gql(SKU_ONLY, { sku: wanted })).products.nodes.flatMap((p) => p.variants);
        const match = variants.find((v) => v.sku.toLowerCase() === wanted.toLowerCase());
        if (!match) throw new ApiError(`No variant has the SKU ${wanted}.`);
        const lines = [{ variantId: match.id, quantity: 1 }];
        if (!cartRef.current) {
          const data = await gql(CART_CREATE, { input: { channel: 'STORE', locationId: here(), lines } });
          setCart(payload(data.cartCreate).cart);
        } else {
          const data = await gql(CART_ADD, { cartId: cartRef.current.id, lines });
          setCart(payload(data.cartLinesAdd).cart);
        }
        setSku('');
      });
    };
    const hand = (event) => {
      event.preventDefault();
      action.run(async () => {
        const data = await gql(CART_ASSIGN, { cartId: cart.id, email: email.trim() });
        setCart(payload(data.cartAssignMember).cart);
        setHanded(email.trim());
      });
    };
    const chosen = (member) => {
      if (member.email && !handed) setEmail(member.email);
    };
    return html`<div class="screen" data-screen-name="customer">
      <${CustomerLookup} onChosen=${chosen} />
      <h2>Cart for the customer</h2>
      <p class="muted">Build a cart with the customer, then hand it to their phone: it becomes their cart
        on every device.</p>
      <form class="row cart-add" onSubmit=${add}>
        <label for="cart-sku">SKU</label>
        <input id="cart-sku" value=${sku} onInput=${(e) => setSku(e.target.value)} placeholder="Scan or type a SKU" />
        <button type="submit" class="primary" disabled=${action.busy}>Add to cart</button>
      </form>
      ${cart &&
      html`<section class="panel" data-cart=${cart.id}>
        <h2>Cart <span class="count">${cart.totalQuantity}</span> <span class="muted">${money(cart.subtotal)}</span></h2>
        <ul class="lines">
          ${cart.lines.map(
            (l) => html`<li>${l.quantity} × ${l.variant.product.title} ${l.variant.title}${' '}<span class="muted">${l.variant.sku} · ${money(l.total)}</span></li>`,
          )}
        </ul>
        <form class="row" onSubmit=${hand}>
          <label for="customer-email">Customer's email</label>
          <input id="customer-email" type="email" value=${email} onInput=${(e) => setEmail(e.target.value)} />
          <button type="submit" class="primary" disabled=${action.busy || !cart.lines.length}>Send to their phone</button>
        </form>
        ${handed && html`<p class="ok" role="status">The cart is now ${handed}'s, on their phone too.</p>`}
        <button type="button" onClick=${() => { setCart(null); setHanded(null); setEmail(''); }}>New cart</button>
      </section>`}
      <${Problem} text=${action.error} />
    </div>`;
  }

  function Returns() {
    const s = useStore();
    const [id, setId] = useState(s.returnOrderId || '');
    const [order, setOrder] = useState(null);
    const [quantities, setQuantities] = useState({});
    const [swaps, setSwaps] = useState({}); // order line id -> the SKU taken instead of money
    const [reason, setReason] = useState('');
    const [done, setDone] = useState(null);
    const action = useAction();
    async function load(orderId) {
      const found = (await gql(ORDER_BY_ID, { id: orderId })).order;
      if (!found) throw new ApiError('No order has this id, or it is not one this store may see.');
      setOrder(found);
      setQuantities({});
      setSwaps({});
    }
    useEffect(() => {
      if (s.returnOrderId) action.run(() => load(s.returnOrderId));
    }, [s.returnOrderId]);
    const submit = (event) => {
      event.preventDefault();
      setDone(null);
      action.run(async () => {
        const lines = [];
        for (const [orderLineId, quantity] of Object.entries(quantities)) {
          if (!(quantity > 0)) continue;
          const line = { orderLineId, quantity };
          const wanted = (swaps[orderLineId] || '').trim();
          if (wanted) {
            const variants = (await gql(SKU_ONLY, { sku: wanted })).products.nodes.flatMap((p) => p.variants);
            const match = variants.find((v) => v.sku.toLowerCase() === wanted.toLowerCase());
            if (!match) throw new ApiError(`No variant has the SKU ${wanted}.`);
            line.exchangeVariantId = match.id;
          }
          lines.push(line);
        }
        if (!lines.length) throw new ApiError('Choose what comes back.');
        const data = await gql(RETURN, { input: { orderId: order.id, locationId: here(), lines, reason: reason || null } });
        const result = payload(data.returnCreate);
        setOrder(result.order);
        setQuantities({});
        setSwaps({});
        const swapped = lines.filter((l) => l.exchangeVariantId).length;
        setDone(`Refund ${money(result.return.refund)} (${result.return.refundStatus})${swapped ? `; ${swapped} exchanged` : ''}.`);
      });
    };
    return html`<div class="screen" data-screen-name="returns">
      <form class="row" onSubmit=${(e) => { e.preventDefault(); setDone(null); action.run(() => load(id.trim())); }}>
        <label for="return-order">Order id</label>
        <input id="return-order" value=${id} onInput=${(e) => setId(e.target.value)} />
        <button type="submit" class="primary" disabled=${action.busy}>Open</button>
      </form>
      ${order &&
      html`<form class="panel" onSubmit=${submit}>
        <h2>Order #${order.number} <span class="muted">${order.channel} · ${money(order.total)}</span></h2>
        <ul class="lines">
          ${order.lines.map((l) => {
            const left = l.quantity - l.returnedQuantity;
            return html`<li class="return-line">
              <span>${l.title} <span class="muted">${l.sku} · ${money(l.unitPrice)} · ${left} of ${l.quantity} returnable</span></span>
              <input type="number" min="0" max=${left} aria-label=${`Units of ${l.sku} back`} disabled=${left <= 0}
                value=${quantities[l.id] || ''} onInput=${(e) => setQuantities({ ...quantities, [l.id]: Number(e.target.value) || 0 })} />
              <input class="swap" placeholder="Exchange for SKU" aria-label=${`Exchange ${l.sku} for`} disabled=${left <= 0}
                value=${swaps[l.id] || ''} onInput=${(e) => setSwaps({ ...swaps, [l.id]: e.target.value })} />
            </li>`;
          })}
        </ul>
        <div class="row">
          <label for="return-reason">Reason</label>
          <input id="return-reason" value=${reason} onInput=${(e) => setReason(e.target.value)} />
          <button type="submit" class="primary" disabled=${action.busy}>Take back</button>
        </div>
      </form>`}
      ${done && html`<p class="ok" role="status">${done}</p>`}
      <${Problem} text=${action.error} />
    </div>`;
  }

  // Today's figures: with the analytics:read role, the store's sales and orders by channel from
  // `analytics` (the gateway's UTC day); without it, what the pickup queue shows.
  function Today() {
    const s = useStore();
    const [figures, setFigures] = useState(null); // null: loading; false: no analytics role
    const action = useAction();
    const load = () =>
      action.run(async () => {
        try {
          const report = (await gql(TODAY)).analytics;
          const rows = report.sales.rows.filter((r) => r.period === report.until && r.location && r.location.id === here());
          setFigures({ day: report.until, rows });
        } catch (e) {
          if (e.code === 'FORBIDDEN') setFigures(false);
          else throw e;
        }
      });
    useEffect(load, []);
    onReconnect(load);
    const groups = groupOrders(s.orders);
    const today = new Date().toDateString();
    const numbers = html`<div class="numbers">
        <div class="number"><span class="label">To prepare</span><span class="value" data-today="prepare">${groups.prepare.length}</span></div>
        <div class="number"><span class="label">Waiting for pickup</span><span class="value" data-today="waiting">${groups.ready.length}</span></div>
        <div class="number"><span class="label">Holds</span><span class="value">${groups.holds.length}</span></div>
        <div class="number"><span class="label">Collected today</span><span class="value">${
          groups.collected.filter((e) => new Date(e.fulfillment.updatedAt).toDateString() === today).length
        }</span></div>
      </div>`;
    if (figures) {
      const currency = figures.rows.length ? figures.rows[0].sales.currencyCode : '';
      const sales = figures.rows.map((r) => ({ key: r.channel, value: Number(r.sales.amount), text: money(r.sales) }));
      const orders = figures.rows.map((r) => ({ key: r.channel, value: r.orders, text: String(r.orders) }));
      const total = figures.rows.reduce((sum, r) => sum + Number(r.sales.amount), 0);
      return html`<div class="screen" data-screen-name="today" data-analytics=${figures.day}>
        ${numbers}
        <div class="numbers">
          <div class="number"><span class="label">Sales today</span><span class="value" data-today="sales">${total.toFixed(2)} ${currency}</span></div>
          <div class="number"><span class="label">Orders today</span><span class="value" data-today="orders">${figures.rows.reduce((n, r) => n + r.orders, 0)}</span></div>
        </div>
        <h2>Sales by channel</h2>
        ${sales.length ? html`<${Bars} rows=${sales} label="Sales by channel" />` : html`<p class="muted">No sales yet today.</p>`}
        <h2>Orders by channel</h2>
        ${orders.length ? html`<${Bars} rows=${orders} label="Orders by channel" />` : null}
        <p class="muted">From the analytics reports, for ${figures.day} (UTC).</p>
        <${Problem} text=${action.error} />
      </div>`;
    }
    const placed = {};
    for (const order of Object.values(s.orders)) {
      if (new Date(order.createdAt).toDateString() !== today) continue;
      placed[order.channel] = (placed[order.channel] || 0) + Number(order.total.amount);
    }
    const rows = Object.entries(placed).map(([key, value]) => ({ key, value, text: value.toFixed(2) }));
    return html`<div class="screen" data-screen-name="today" data-analytics=${figures === false ? 'off' : null}>
      ${numbers}
      <h2>Pickup and try-on orders placed today, by channel</h2>
      <${Bars} rows=${rows} label="Pickup and try-on orders by channel" />
      <p class="muted">From the store's pickup queue; with the analytics role (<code>analytics:read</code>)
        this screen shows the store's sales of every kind.</p>
      <${Problem} text=${action.error} />
    </div>`;
  }

  function Console() {
    const s = useStore();
    if (!s.session) return html`<${SignIn} />`;
    const Screen = { pickup: Pickup, stock: Stock, customer: Customer, returns: Returns, today: Today }[s.screen];
    const signOut = () => {
      if (live) live.dispose();
      live = null;
      localStorage.removeItem(SESSION_KEY);
      set({ session: null, orders: {}, link: 'connecting' });
    };
    return html`<div class="app">
      <header class="top">
        <span class="store">${s.session.location.name}</span>
        <span class=${`link ${s.link}`} data-link=${s.link}>${s.link === 'online' ? 'Live' : s.link === 'offline' ? 'Offline' : 'Connecting'}</span>
        <button type="button" onClick=${signOut}>Sign out</button>
      </header>
      ${s.link === 'offline' &&
      html`<div class="offline" role="alert">Offline: the tablet cannot reach the gateway. It reconnects by itself and catches up.</div>`}
      <${Tabs} screen=${s.screen} />
      <${Screen} key=${s.screen} />
    </div>`;
  }

  mount.textContent = '';
  if (state.session) connect();
  render(html`<${Console} />`, mount);
})();
