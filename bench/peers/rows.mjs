// The schema subset the listing query needs, and resolvers walking the rows that `python -m bench`
// exported from the demo database (bench/.work/peer-rows.json). Both peers serve this same
// executable schema: only the executor and the HTTP layer differ between them.
import { readFileSync } from "node:fs";
import { buildSchema } from "graphql";

const typeDefs = /* GraphQL */ `
  scalar Decimal

  enum CurrencyCode { USD CAD EUR GBP CHF SEK NOK DKK PLN AUD NZD JPY MXN }

  interface Node { id: ID! }

  type Money { amount: Decimal! currencyCode: CurrencyCode! }
  type PriceRange { minVariantPrice: Money! maxVariantPrice: Money! }
  type Location implements Node { id: ID! name: String! }
  type InventoryLevel { onHand: Int! reserved: Int! available: Int! location: Location! }
  type ProductVariant implements Node {
    id: ID! sku: String! title: String! price: Money! quantityAvailable: Int!
    inventory: [InventoryLevel!]!
  }
  type Product implements Node {
    id: ID! handle: String! title: String! variants: [ProductVariant!]! priceRange: PriceRange!
  }
  type PageInfo {
    hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String
  }
  type ProductEdge { cursor: String! node: Product! }
  type ProductConnection { edges: [ProductEdge!]! nodes: [Product!]! pageInfo: PageInfo! }
  type Query { products(first: Int, after: String): ProductConnection! }
`;

// The gateway's opaque ids and cursors, byte for byte: base64 of "Type:key"; base64url (no
// padding) of the JSON array [ordering, sort value, id].
const globalId = (type, key) => Buffer.from(`${type}:${key}`).toString("base64");
const ORDERING = "products:ID";
const cursorOf = (id) => Buffer.from(JSON.stringify([ORDERING, id, id])).toString("base64url");

function afterId(cursor) {
  const [ordering, , id] = JSON.parse(Buffer.from(cursor, "base64url").toString());
  if (ordering !== ORDERING || !Number.isInteger(id)) throw new Error("`after` is not a cursor of this listing");
  return id;
}

// An exact decimal string from minor units, as the gateway's Decimal scalar writes it.
function amount(minor, units) {
  if (units === 0) return String(minor);
  const digits = String(Math.abs(minor)).padStart(units + 1, "0");
  return `${minor < 0 ? "-" : ""}${digits.slice(0, -units)}.${digits.slice(-units)}`;
}

function groupBy(rows, key) {
  const groups = new Map();
  for (const row of rows) {
    const list = groups.get(row[key]);
    if (list === undefined) groups.set(row[key], [row]);
    else list.push(row);
  }
  return groups;
}

export function loadSchema(path) {
  const rows = JSON.parse(readFileSync(path, "utf8"));
  const products = rows.products; // ordered by id
  const variantsOf = groupBy(rows.variants, "productId"); // each in position order
  const levelsOf = groupBy(rows.inventoryLevels, "variantId"); // each by location id
  const locations = new Map(rows.locations.map((l) => [l.id, l]));
  const minorUnits = rows.minorUnits;
  const noVariants = [];
  const zero = { priceMinor: 0, currencyCode: rows.currencyCode };

  const resolvers = {
    Query: {
      products(_root, { first, after }) {
        const size = first ?? rows.defaultPageSize;
        if (size < 0 || size > rows.maxPageSize) throw new Error("`first` is out of range");
        let start = 0;
        if (after != null) {
          const id = afterId(after);
          while (start < products.length && products[start].id <= id) start++;
        }
        const page = products.slice(start, start + size);
        const edges = page.map((p) => ({ cursor: cursorOf(p.id), node: p }));
        return {
          edges,
          pageInfo: {
            hasNextPage: start + size < products.length,
            hasPreviousPage: after != null,
            startCursor: edges.length ? edges[0].cursor : null,
            endCursor: edges.length ? edges[edges.length - 1].cursor : null,
          },
        };
      },
    },
    ProductConnection: { nodes: (c) => c.edges.map((e) => e.node) },
    Product: {
      id: (p) => globalId("Product", p.id),
      variants: (p) => variantsOf.get(p.id) ?? noVariants,
      priceRange(p) {
        const own = variantsOf.get(p.id);
        if (own === undefined) return { minVariantPrice: zero, maxVariantPrice: zero };
        let min = own[0];
        let max = own[0];
        for (const v of own) {
          if (v.priceMinor < min.priceMinor) min = v;
          if (v.priceMinor > max.priceMinor) max = v;
        }
        return { minVariantPrice: min, maxVariantPrice: max };
      },
    },
    // A variant row is also the Money of its own price.
    ProductVariant: {
      id: (v) => globalId("ProductVariant", v.id),
      price: (v) => v,
      quantityAvailable(v) {
        let total = 0;
        for (const lv of levelsOf.get(v.id) ?? noVariants) total += Math.max(lv.onHand - lv.reserved, 0);
        return total;
      },
      inventory: (v) => levelsOf.get(v.id) ?? noVariants,
    },
    Money: { amount: (m) => amount(m.priceMinor, minorUnits[m.currencyCode] ?? 2) },
    InventoryLevel: {
      available: (lv) => Math.max(lv.onHand - lv.reserved, 0),
      location: (lv) => locations.get(lv.locationId),
    },
    Location: { id: (l) => globalId("Location", l.id) },
  };
  return attach(buildSchema(typeDefs), resolvers);
}

// What graphql-tools' makeExecutableSchema does for a resolver map, without the dependency.
function attach(schema, resolvers) {
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    for (const [fieldName, resolve] of Object.entries(fields)) type.getFields()[fieldName].resolve = resolve;
  }
  return schema;
}

export function portFromArgs() {
  const at = process.argv.indexOf("--port");
  const port = Number(process.argv[at + 1]);
  const data = process.argv[process.argv.indexOf("--data") + 1];
  if (at < 0 || !Number.isInteger(port) || !data) {
    console.error("usage: node SERVER.mjs --port N --data ROWS.json");
    process.exit(2);
  }
  return { port, data };
}
