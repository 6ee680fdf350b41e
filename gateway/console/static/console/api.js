// The console's only way to the gateway: the public GraphQL API over HTTP and
// graphql-transport-ws. The token lives in this tab's session storage, nowhere else.
const config = JSON.parse(document.getElementById("console-config").textContent);
const TOKEN_KEY = "liandong.token";

export { config };

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signIn(value) {
  sessionStorage.setItem(TOKEN_KEY, value.trim());
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// The token's claims, read for display and for choosing pages; the gateway checks them.
export function claims() {
  const value = token();
  if (!value) return null;
  try {
    const part = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

export function hasRole(...roles) {
  const c = claims();
  return Boolean(c && Array.isArray(c.roles) && roles.some((r) => c.roles.includes(r)));
}

// One operation; resolves to {data, errors} as the gateway sent them (partial data stays).
// probe: ask for application/json, whose request errors come with 200 (GraphQL over HTTP),
// to learn whether the API has a field without a failed request in the browser's log.
export async function gql(query, variables = {}, { probe = false } = {}) {
  let response;
  try {
    response = await fetch(config.graphql, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: probe ? "application/json" : "application/graphql-response+json, application/json",
        Authorization: `Bearer ${token() || ""}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    return { data: null, errors: [{ message: `无法连接网关：${err.message}`, extensions: { code: "NETWORK" } }] };
  }
  try {
    const body = await response.json();
    return { data: body.data ?? null, errors: body.errors ?? [] };
  } catch {
    return { data: null, errors: [{ message: `网关应答无法解析 (HTTP ${response.status})` }] };
  }
}

// graphql-transport-ws: one socket carrying one subscription per entry of variablesList.
// handlers: {next(payload, index), error(errors), open()}. Returns a function that ends them.
export function subscribeMany(query, variablesList, handlers) {
  const url = new URL(config.graphql, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(url, "graphql-transport-ws");
  const ids = variablesList.map((_, index) => String(index + 1));
  let ended = false;
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${token() || ""}` } }));
  };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    switch (message.type) {
      case "connection_ack":
        variablesList.forEach((variables, index) => {
          ws.send(JSON.stringify({ id: ids[index], type: "subscribe", payload: { query, variables } }));
        });
        handlers.open?.();
        break;
      case "ping":
        ws.send(JSON.stringify({ type: "pong" }));
        break;
      case "next":
        handlers.next(message.payload, ids.indexOf(message.id));
        break;
      case "error":
        handlers.error?.(message.payload);
        break;
      default:
        break;
    }
  };
  ws.onclose = (event) => {
    if (!ended) handlers.error?.([{ message: `实时连接已断开 (${event.code})` }]);
  };
  return () => {
    ended = true;
    if (ws.readyState === WebSocket.OPEN) {
      for (const id of ids) ws.send(JSON.stringify({ id, type: "complete" }));
    }
    ws.close(1000);
  };
}

// One subscription on its own socket.
export function subscribe(query, variables, handlers) {
  return subscribeMany(query, [variables], handlers);
}

// The items of a connection's page (a failed, null connection has none). The pages ask for
// a page of the newest and load the next ones on request (see more.js).
export function nodes(connection) {
  return connection ? connection.edges.map((e) => e.node) : [];
}
