// A federation router in front of the subgraphs, listening on 127.0.0.1 (an ephemeral port);
// prints "LISTENING <port>". argv[2] is the router:
//   hive              Hive Gateway over the supergraph in the file argv[3]
//   apollo            Apollo Gateway (in Apollo Server) over the supergraph in argv[3]
//   apollo-introspect Apollo Gateway composing by itself (IntrospectAndCompose) from the
//                     subgraphs in the JSON file argv[3]: [{"name", "url"}]
// Each forwards the client's Authorization header to every subgraph. IntrospectAndCompose
// fetches the subgraphs' SDL before any client asks: with the service token in
// $SERVICE_TOKEN, which needs no role and no scope.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";

const [mode, source] = process.argv.slice(2);
// Asked to stop, stop now: Hive Gateway's own handler would drain for ten seconds.
process.on("SIGTERM", () => process.exit(0));
const listening = (port) => process.stdout.write(`LISTENING ${port}\n`);

if (mode === "hive") {
  const { createGatewayRuntime } = await import("@graphql-hive/gateway");
  const gateway = createGatewayRuntime({
    supergraph: readFileSync(source, "utf8"),
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) => {
        const authorization = request.headers.get("authorization");
        return authorization ? { authorization } : {};
      },
    },
    logging: "error",
  });
  const server = createServer(gateway);
  server.listen(0, "127.0.0.1", () => listening(server.address().port));
} else if (mode === "apollo" || mode === "apollo-introspect") {
  const { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } = await import(
    "@apollo/gateway"
  );
  // GraphQLDataSourceRequestKind.INCOMING_OPERATION; the enum is not exported.
  const INCOMING_OPERATION = "incoming operation";
  const { ApolloServer } = await import("@apollo/server");
  const { startStandaloneServer } = await import("@apollo/server/standalone");

  class Forwarding extends RemoteGraphQLDataSource {
    willSendRequest({ kind, request, context }) {
      // A client's operation carries the client's token, or none: never the service token,
      // which is only for the router's own calls (loading the schema, health checks).
      const authorization =
        kind === INCOMING_OPERATION
          ? context?.authorization
          : process.env.SERVICE_TOKEN && `Bearer ${process.env.SERVICE_TOKEN}`;
      if (authorization) request.http.headers.set("authorization", authorization);
    }
  }
  const supergraphSdl =
    mode === "apollo"
      ? readFileSync(source, "utf8")
      : new IntrospectAndCompose({ subgraphs: JSON.parse(readFileSync(source, "utf8")) });
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url }) => new Forwarding({ url }),
  });
  const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  listening(new URL(url).port);
} else {
  process.stderr.write(`unknown router ${mode}\n`);
  process.exit(2);
}
