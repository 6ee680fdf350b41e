// A court's case-management subgraph, as small as a test needs: it knows its docket, the
// parties of each case by their liandong debtor handle, and adds fields to liandong's
// Case and Debtor entities. argv[2]: a JSON file
//   {"cases": [{"number", "court", "judge", "judgeNotes", "parties": [{"handle", "hearingDates"}]}]}
// Listens on 127.0.0.1 (an ephemeral port) and prints "LISTENING <port>".
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

export const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type CourtCase @key(fields: "number") {
    number: String!
    judge: String!
    parties: [Debtor!]!
  }
  type Debtor @key(fields: "caseNumber handle") {
    caseNumber: String!
    handle: ID!
    hearingDates: [String!]!
  }
  type Case @key(fields: "number") {
    number: String!
    judgeNotes: String
  }
  type Query {
    docket(court: String!): [CourtCase!]!
  }
`);

const data = JSON.parse(readFileSync(process.argv[2], "utf8"));
const cases = new Map(data.cases.map((c) => [c.number, c]));
const party = (caseNumber, handle) =>
  (cases.get(caseNumber)?.parties ?? []).find((p) => p.handle === handle);
const asDebtor = (caseNumber, p) => ({ caseNumber, handle: p.handle, hearingDates: p.hearingDates });

const resolvers = {
  Query: {
    docket: (_, { court }) => data.cases.filter((c) => c.court === court),
  },
  CourtCase: {
    __resolveReference: ({ number }) => cases.get(number) ?? null,
    parties: (c) => c.parties.map((p) => asDebtor(c.number, p)),
  },
  Debtor: {
    // A debtor this system does not know still joins, with no hearings: the other
    // subgraph's fields must not be lost because this one has nothing to add.
    __resolveReference: ({ caseNumber, handle }) => {
      const p = party(caseNumber, handle);
      return p ? asDebtor(caseNumber, p) : { caseNumber, handle, hearingDates: [] };
    },
  },
  Case: {
    __resolveReference: ({ number }) => ({ number, judgeNotes: cases.get(number)?.judgeNotes ?? null }),
  },
};

const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers }) });
const { url } = await startStandaloneServer(server, { listen: { port: 0, host: "127.0.0.1" } });
process.stdout.write(`LISTENING ${new URL(url).port}\n`);
