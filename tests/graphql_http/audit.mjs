// Runs graphql-http's serverAudits against the gateway at argv[2], signing every request
// with the bearer token in LIANDONG_TOKEN; prints one JSON array of {id, name, status,
// reason} on stdout.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const token = process.env.LIANDONG_TOKEN;

function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
  });
}
process.stdout.write(JSON.stringify(results));
