// Composes subgraph SDLs with a real Federation v2 composer.
// stdin: JSON [{"name": ..., "sdl": ..., "url"?: ...}];
// stdout: JSON {"errors": [...]} or {"supergraphSdl": ...}.
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices, compositionHasErrors } from "@theguild/federation-composition";

const services = JSON.parse(readFileSync(0, "utf8")).map((s) => ({
  name: s.name,
  typeDefs: parse(s.sdl),
  url: s.url,
}));
const result = composeServices(services);
if (compositionHasErrors(result)) {
  process.stdout.write(JSON.stringify({ errors: result.errors.map((e) => e.message) }));
} else {
  process.stdout.write(JSON.stringify({ supergraphSdl: result.supergraphSdl }));
}
