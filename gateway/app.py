"""The ASGI application: starlette routes around the strawberry GraphQL view."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.auth import Principal, bearer_token
from gateway.errors import LiandongError, Unauthenticated
from gateway.services import Services
from gateway.settings import Settings
from resolvers.context import RequestContext
from resolvers.loaders import Loaders
from schema import SchemaOptions, build_schema

__all__ = ["ANONYMOUS", "GatewayGraphQL", "create_app"]

ANONYMOUS = Principal(
    subject="", officer_id="", court="", roles=frozenset(), scopes=frozenset(), name="anonymous"
)


def error_body(err: LiandongError) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": err.message, "extensions": err.extensions}]}


class GatewayGraphQL(GraphQL[RequestContext, None]):
    """Strawberry's ASGI view with our context, JSON encoder and authentication."""

    def __init__(self, services: Services, **kwargs: Any) -> None:
        settings = services.settings
        dev = settings.profile == "dev"
        schema = build_schema(
            SchemaOptions(
                max_depth=settings.limits.max_depth,
                max_aliases=settings.limits.max_aliases,
                max_tokens=settings.limits.max_tokens,
                introspection=dev,
                mask_errors=not dev,
            )
        )
        super().__init__(schema, graphql_ide="graphiql" if dev else None, **kwargs)
        self.services = services

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._wants_ide(scope):
            request = Request(scope, receive)
            try:
                principal = self.services.verifier.verify(
                    bearer_token(request.headers.get("authorization"))
                )
            except Unauthenticated as err:
                response = JSONResponse(
                    error_body(err), status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["principal"] = principal
        await super().__call__(scope, receive, send)

    def _wants_ide(self, scope: Scope) -> bool:
        if self.graphql_ide is None or scope.get("method") != "GET":
            return False
        headers = dict(scope.get("headers") or [])
        accept = headers.get(b"accept", b"").decode("latin-1")
        return "text/html" in accept and not scope.get("query_string")

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        # The GraphiQL page and websocket handshakes reach here unauthenticated; they get a
        # principal with no roles, which no resolver lets through.
        principal: Principal = request.scope.get("state", {}).get("principal", ANONYMOUS)
        services = self.services
        return RequestContext(
            principal=principal,
            request_id=request.headers.get("x-request-id") or uuid.uuid4().hex,
            loaders=Loaders(
                connectors=services.connectors, cache=services.cache, store=services.store
            ),
            store=services.store,
            unmask=principal.can_unmask(),
            max_ids=services.settings.limits.max_ids,
        )


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings, *, services: Services | None = None) -> Starlette:
    """Build the gateway; its services start in the lifespan unless they are given."""
    holder: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        started = services or await Services.start(settings)
        holder["services"] = started
        holder["view"] = GatewayGraphQL(started)
        try:
            yield
        finally:
            holder.clear()
            if services is None:
                await started.aclose()

    async def readyz(_request: Request) -> Response:
        started: Services | None = holder.get("services")
        ok = started is not None and await started.store.ping()
        status = {"status": "ok" if ok else "unavailable"}
        return JSONResponse(status, status_code=200 if ok else 503)

    graphql = _Deferred(holder)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )


class _Deferred:
    """Forwards to the GraphQL view, which exists only while the lifespan runs."""

    def __init__(self, holder: dict[str, Any]) -> None:
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        view: GatewayGraphQL | None = self.holder.get("view")
        if view is None:
            response = JSONResponse({"error": "starting or stopping"}, status_code=503)
            await response(scope, receive, send)
            return
        await view(scope, receive, send)
