// Apollo Server 5 as shipped (its standalone HTTP server, default plugins, NODE_ENV=production)
// over the exported rows: `node apollo.mjs --port N --data ROWS.json`.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { loadSchema, portFromArgs } from "./rows.mjs";

const { port, data } = portFromArgs();
const server = new ApolloServer({ schema: loadSchema(data) });
const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port } });
console.log(`apollo: listening at ${url}`);
