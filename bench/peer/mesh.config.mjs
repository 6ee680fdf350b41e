// The peer's supergraph: GraphQL Mesh JSON-schema sources over three of the mock agencies
// (the land registry speaks XML, which no Mesh source reads, so real estate is left out).
// The agencies' base URLs come from the environment: the bench starts the mocks on free
// ports and composes again for each run (`node compose.mjs` → supergraph.graphql).
import { defineConfig } from "@graphql-mesh/compose-cli";
import { loadJSONSchemaSubgraph } from "@omnigraph/json-schema";

const str = { type: "string" };
const nstr = { type: ["string", "null"] };
const ids = { title: "Ids", type: "object", properties: { ids: { type: "array", items: str } }, required: ["ids"] };
const control = {
  title: "Control",
  type: "object",
  properties: { court: str, caseNumber: str, since: str, until: nstr, queuePosition: { type: "integer" }, claim: nstr },
};
const company = {
  title: "Company",
  type: "object",
  properties: {
    code: str, name: str, status: str, legalRepresentative: nstr,
    registeredCapital: nstr, address: nstr, establishedOn: nstr,
  },
};

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadJSONSchemaSubgraph("public_security", {
        endpoint: env("PEER_PS_URL"),
        operations: [
          {
            type: "Query", field: "persons", path: "/ps/v1/persons/query", method: "POST",
            requestSchema: ids,
            responseSchema: {
              title: "PersonsAnswer", type: "object",
              properties: {
                results: {
                  type: "array",
                  items: {
                    title: "PersonResult", type: "object",
                    properties: {
                      id: str, found: { type: "boolean" },
                      person: {
                        title: "Person", type: ["object", "null"],
                        properties: { name: str, sex: str, birthDate: str, address: str, status: str },
                      },
                    },
                  },
                },
              },
            },
          },
          {
            type: "Query", field: "vehicles", path: "/ps/v1/vehicles/query", method: "POST",
            requestSchema: ids,
            responseSchema: {
              title: "VehiclesAnswer", type: "object",
              properties: {
                results: {
                  type: "array",
                  items: {
                    title: "VehicleOwner", type: "object",
                    properties: {
                      ownerId: str,
                      vehicles: {
                        type: "array",
                        items: {
                          title: "Vehicle", type: "object",
                          properties: {
                            plate: str, vin: str, model: str, registeredOn: nstr, status: str,
                            estimatedValue: nstr, seizures: { type: "array", items: control },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          {
            type: "Query", field: "exitBans", path: "/ps/v1/exit-bans/query", method: "POST",
            requestSchema: ids,
            responseSchema: {
              title: "ExitBansAnswer", type: "object",
              properties: {
                results: {
                  type: "array",
                  items: {
                    title: "ExitBans", type: "object",
                    properties: {
                      id: str,
                      bans: {
                        type: "array",
                        items: {
                          title: "ExitBan", type: "object",
                          properties: {
                            banId: str, court: str, caseNumber: str, since: str, until: nstr,
                            status: str, liftReason: nstr,
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        ],
      }),
    },
    {
      sourceHandler: loadJSONSchemaSubgraph("civil_affairs", {
        endpoint: env("PEER_CA_URL"),
        operations: [
          {
            type: "Query", field: "marriage", path: "/ca/v2/marriage/{args.id}", method: "GET",
            argTypeMap: { id: { type: "string", nullable: false } },
            responseSchema: {
              title: "Marriage", type: "object",
              properties: {
                id: str, status: str, spouseId: nstr, spouseName: nstr, registeredOn: nstr, office: nstr,
              },
            },
          },
        ],
      }),
    },
    {
      sourceHandler: loadJSONSchemaSubgraph("market_regulation", {
        endpoint: env("PEER_MR_URL"),
        operations: [
          {
            type: "Query", field: "roles", path: "/mr/api/v1/roles", method: "POST",
            requestSchema: {
              title: "RolesQuery", type: "object",
              properties: { ids: { type: "array", items: str }, page: { type: "integer" }, pageSize: { type: "integer" } },
              required: ["ids"],
            },
            responseSchema: {
              title: "RolesAnswer", type: "object",
              properties: {
                code: { type: "integer" }, msg: str,
                data: {
                  title: "RolesPage", type: ["object", "null"],
                  properties: {
                    page: { type: "integer" }, pageSize: { type: "integer" }, total: { type: "integer" },
                    items: {
                      type: "array",
                      items: {
                        title: "Role", type: "object",
                        properties: {
                          personId: str, role: str, shareRatio: nstr, subscribedCapital: nstr,
                          estimatedValue: nstr, company, freezes: { type: "array", items: control },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        ],
      }),
    },
  ],
  // The two hops between agencies: a person's marriage (one request per person: civil
  // affairs takes one id at a time) and the spouse's identity, batched per request by
  // Mesh's DataLoader over `keysArg` into one public security call.
  additionalTypeDefs: /* GraphQL */ `
    extend type PersonResult {
      marriage: Marriage
        @resolveTo(
          sourceName: "civil_affairs"
          sourceTypeName: "Query"
          sourceFieldName: "marriage"
          requiredSelectionSet: "{ id }"
          sourceArgs: { id: "{root.id}" }
        )
    }
    extend type Marriage {
      spouse: PersonResult
        @resolveTo(
          sourceName: "public_security"
          sourceTypeName: "Query"
          sourceFieldName: "persons"
          keyField: "spouseId"
          keysArg: "input.ids"
          result: "results"
        )
    }
  `,
});
