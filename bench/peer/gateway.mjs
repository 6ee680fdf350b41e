// The peer: Hive Gateway's runtime serving the composed supergraph on 127.0.0.1, one
// process (one worker), with the two things a real deployment over these agencies needs:
// public security's HMAC signature on every request (a gateway plugin), and, when asked,
// Hive's response cache (the warm rows: it checks no token, no case and writes no record).
//   node gateway.mjs SUPERGRAPH PORT [--response-cache]
import { createHash, createHmac } from "node:crypto";
import { createServer } from "node:http";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";
import InMemoryLRUCache from "@graphql-mesh/cache-inmemory-lru";

const [supergraph, port, ...flags] = process.argv.slice(2);
const psUrl = process.env.PEER_PS_URL;
const psSecret = process.env.PEER_PS_SECRET;
if (!supergraph || !port || !psUrl || !psSecret) {
  throw new Error("usage: PEER_PS_URL=… PEER_PS_SECRET=… node gateway.mjs SUPERGRAPH PORT");
}

// mocks/API.md: HMAC-SHA256(secret, "{METHOD}\n{path}\n{timestamp}\n{sha256 hex of body}").
function usePublicSecuritySignature() {
  return {
    onFetch({ url, options, setOptions }) {
      if (!url.startsWith(psUrl)) return;
      const method = (options.method ?? "GET").toUpperCase();
      const body = typeof options.body === "string" ? options.body : "";
      const timestamp = Math.floor(Date.now() / 1000);
      const digest = createHash("sha256").update(body).digest("hex");
      const signature = createHmac("sha256", psSecret)
        .update(`${method}\n${new URL(url).pathname}\n${timestamp}\n${digest}`)
        .digest("hex");
      setOptions({
        ...options,
        headers: {
          ...options.headers,
          "X-PS-Client": "bench-peer",
          "X-PS-Timestamp": String(timestamp),
          "X-PS-Signature": signature,
        },
      });
    },
  };
}

const gateway = createGatewayRuntime({
  supergraph,
  logging: "error",
  graphiql: false,
  landingPage: false,
  plugins: () => [usePublicSecuritySignature()],
  // The same entry for every caller (the bench sends one officer's token, which Hive ignores).
  ...(flags.includes("--response-cache")
    ? {
        // The Hive CLI's default store, sized for the bench: each answer takes an entry, and two
        // more per entity in it (the invalidation index), ~60,000 for the 1,000 profiles.
        cache: new InMemoryLRUCache({ max: 1_000_000 }),
        responseCaching: { session: () => null, ttl: 7_200_000 },
      }
    : {}),
});

createServer(gateway).listen(Number(port), "127.0.0.1", () => {
  process.stdout.write(`listening ${port}\n`);
});
