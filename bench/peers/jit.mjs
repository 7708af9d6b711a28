// graphql-jit over the same schema and resolvers, served with Node's http module: each distinct
// query text is parsed, validated and compiled once, then run as a plain function.
// `node jit.mjs --port N --data ROWS.json`; POST /graphql, GET /healthz.
import http from "node:http";
import { parse, validate } from "graphql";
import { compileQuery, isCompiledQuery } from "graphql-jit";
import { loadSchema, portFromArgs } from "./rows.mjs";

const { port, data } = portFromArgs();
const schema = loadSchema(data);
const compiled = new Map();

function compile(query) {
  let found = compiled.get(query);
  if (found === undefined) {
    try {
      const document = parse(query);
      const errors = validate(schema, document);
      found = errors.length ? { errors } : compileQuery(schema, document);
    } catch (error) {
      found = { errors: [{ message: String(error.message ?? error) }] };
    }
    if (compiled.size < 1000) compiled.set(query, found);
  }
  return found;
}

function send(res, status, text) {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function answer(res, body) {
  let request;
  try {
    request = JSON.parse(body);
  } catch {
    return send(res, 400, '{"errors":[{"message":"the body is not JSON"}]}');
  }
  const query = compile(String(request.query ?? ""));
  if (!isCompiledQuery(query)) return send(res, 400, JSON.stringify({ errors: query.errors }));
  const result = query.query(undefined, {}, request.variables ?? {});
  if (typeof result?.then === "function") result.then((r) => send(res, 200, query.stringify(r)));
  else send(res, 200, query.stringify(result));
}

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") return send(res, 200, '{"status":"ok"}');
  if (req.method !== "POST" || !req.url.startsWith("/graphql")) return send(res, 404, "{}");
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => answer(res, Buffer.concat(chunks).toString()));
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => console.log(`graphql-jit: listening at http://127.0.0.1:${port}/graphql`));
