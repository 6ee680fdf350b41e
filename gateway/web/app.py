"""The ASGI application: starlette routes around the strawberry GraphQL view."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from connectors.deadline import deadline_after
from connectors.domain import Facet
from gateway.auth import Principal, bearer_token
from gateway.console.page import graphiql_html, graphiql_routes
from gateway.errors import BadRequest, Unauthenticated
from gateway.settings import Settings
from gateway.telemetry import trace_id
from gateway.web.audit_pipeline import (
    CONTEXT_KEY,
    PRINCIPAL_KEY,
    REQUEST_ID_KEY,
    AuditPipeline,
    request_id_of,
)
from gateway.web.collector import settle_collector
from gateway.web.console_route import console_routes_for
from gateway.web.health import health_routes
from gateway.web.hit_path import HitPath
from gateway.web.metrics import MetricsEndpoint
from gateway.web.metrics_listener import MetricsListener
from gateway.web.plain_post import POST_ADAPTER, GraphQLRequest, PlainPost
from gateway.web.request_input import check_params, decode_json
from gateway.web.request_metrics import HttpMetricsMiddleware, RequestMetrics
from gateway.web.screen_route import ScreenEndpoint
from gateway.web.services import Services
from gateway.web.ws_audit import AuditedTransportWS, record_refusal
from resolvers.context import RequestContext
from resolvers.loaders import Loaders
from schema import SchemaOptions, build_schema

__all__ = ["ANONYMOUS", "GatewayGraphQL", "create_app"]

_TEXT_FRAMES: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "liandong_ws_text_frames", default=False
)

ANONYMOUS = Principal(
    subject="", officer_id="", court="", roles=frozenset(), scopes=frozenset(), name="anonymous"
)


class GatewayGraphQL(GraphQL[RequestContext, None]):
    """Strawberry's ASGI view with our context, JSON encoder and authentication."""

    graphql_transport_ws_handler_class = AuditedTransportWS

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
                hide_suggestions=not dev,
                federation=settings.federation,
                shortcuts=settings.execution_shortcuts,
            )
        )
        # graphql-transport-ws only: its handler keeps every operation on the record
        # (gateway/web/ws_audit.py); the legacy graphql-ws protocol has no such handler here.
        super().__init__(
            schema,
            graphql_ide="graphiql" if dev else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            **kwargs,
        )
        self.services = services
        self.audited = AuditPipeline(services, self.run)
        self._providers: dict[Facet, list[str]] = {}  # shared by every request's Loaders

    def decode_json(self, data: str | bytes) -> object:
        # Strict: not UTF-8, not JSON or too deep is the client's mistake, refused before
        # anything acts (gateway/web/request_input.py). A websocket message that fails so is
        # closed by strawberry as non-JSON (4400), which it knows by JSONDecodeError.
        try:
            return decode_json(data)
        except BadRequest as err:
            if _TEXT_FRAMES.get():
                raise json.JSONDecodeError(err.message, "", 0) from err
            raise

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            check_params(item.query, item.operation_name, item.variables, item.extensions)
        return data

    def encode_json(self, data: object) -> bytes | str:
        encoded = orjson.dumps(data)
        # graphql-transport-ws clients (browsers' graphql-ws) expect text frames; strawberry
        # sends bytes as binary frames, so websockets get str.
        return encoded.decode() if _TEXT_FRAMES.get() else encoded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.wants_ide(scope):
            # Authentication, rate limit and the audit record: gateway/web/audit_pipeline.py.
            # Every agency call this request makes inherits the deadline (connectors/deadline).
            with deadline_after(self.services.settings.limits.deadline_s):
                await self.audited(scope, receive, send)
            return
        if scope["type"] == "websocket":
            _TEXT_FRAMES.set(True)  # this connection's tasks inherit it; HTTP never sees it
        await super().__call__(scope, receive, send)

    def streams(self, accept: str) -> bool:
        """Whether ``Accept`` asks for a streamed answer (multipart, server-sent events)."""
        return self._get_stream_transport_from_headers({"accept": accept}) is not None

    async def execute_post(
        self, request: GraphQLRequest, context: RequestContext
    ) -> ExecutionResult:
        """Run one POSTed request as the view runs it (``execute_single``: the same operation
        types allowed, the same 400s for an operation that cannot be picked or run)."""
        return await self.execute_single(
            request=cast(Request, None),  # read by neither strawberry nor our hooks here
            request_adapter=POST_ADAPTER,
            sub_response=cast(Response, None),
            context=context,
            root_value=None,
            request_data=GraphQLRequestData(
                query=request.query,
                variables=request.variables,
                operation_name=request.operation_name,
                extensions=request.extensions,
                protocol="http",
            ),
        )

    def wants_ide(self, scope: Scope) -> bool:
        """Whether this request asks for the GraphiQL page rather than an answer."""
        # A browser opening /graphql, a GraphiQL link with ?q= or a reload after an edit
        # asks for text/html; API clients ask for JSON and get the query run.
        if self.graphql_ide is None or scope.get("method") != "GET":
            return False
        headers = dict(scope.get("headers") or [])
        return "text/html" in headers.get(b"accept", b"").decode("latin-1")

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Strawberry's own test sends ?query= links to the API even from a browser.
        accept = str(request.headers.get("accept") or "")
        return self.graphql_ide is not None and request.method == "GET" and "text/html" in accept

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_html()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        # The GraphiQL page and websocket handshakes reach here unauthenticated; they get a
        # principal with no roles, which no resolver lets through.
        state = request.scope.setdefault("state", {})
        principal: Principal = state.get(PRINCIPAL_KEY, ANONYMOUS)
        request_id = state.get(REQUEST_ID_KEY) or request_id_of(request.headers)
        client = request.client.host if request.client is not None else None
        # Kept in the scope so that the audit pipeline can read what the request touched.
        state[CONTEXT_KEY] = context = self.context_for(principal, request_id, client)
        return context

    def context_for(
        self, principal: Principal, request_id: str, client: str | None
    ) -> RequestContext:
        """A request's context: its principal, id and client address, fresh loaders."""
        services = self.services
        context = RequestContext(
            principal=principal,
            request_id=request_id,
            loaders=self._loaders(request_id),
            http=services.http,
            store=services.store,
            unmask=principal.can_unmask(),
            max_ids=services.settings.limits.max_ids,
            audit_search=services.audit_search,
            audit_heads=services.heads.witness if services.heads is not None else None,
            assistance=services.assistance,
            watch=services.watch,
            handles=services.handles,
        )
        if client is not None:
            context.extra["client"] = client
        return context

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        return self.answer_of(result)

    def answer_of(self, result: ExecutionResult) -> GraphQLHTTPResponse:
        """The JSON answer of an execution result, every error with a code and trace id."""
        answer = process_result(result)
        # Every error has a code, even one raised where no extension could give it one
        # (an exception escaping an extension's hook); its message is masked in production.
        errors: list[dict[str, Any]] = answer.get("errors") or []  # type: ignore[assignment]
        traced = trace_id()
        for error in errors:
            extensions = error.setdefault("extensions", {})
            extensions["traceId"] = traced
            if "code" not in extensions:
                extensions["code"] = "INTERNAL"
                if self.services.settings.profile != "dev":
                    error["message"] = "Internal error."
        return answer

    def _loaders(self, request_id: str) -> Loaders:
        services = self.services
        return Loaders(
            connectors=services.connectors,
            cache=services.cache,
            store=services.store,
            request_id=request_id,
            providers_memo=self._providers,
        )

    def operation_context(self, connection: RequestContext) -> RequestContext:
        """A websocket operation's own context: the connection's principal, a new request
        id, fresh loaders and nothing gathered yet."""
        request_id = request_id_of()
        return dataclasses.replace(
            connection,
            request_id=request_id,
            loaders=self._loaders(request_id),
            cases={},
            debtors_touched=set(),
            partial_errors=[],
            extra=dict(connection.extra),
            cases_requested=[],
            operations=[],
        )

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        """Authenticate a websocket from its connection_init payload's ``Authorization``.

        A browser cannot set headers on a websocket, so graphql-transport-ws clients send
        ``{"Authorization": "Bearer <jwt>"}`` as the payload; without a valid token the
        connection is closed with 4403 before any operation runs.
        """
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            principal = await self.services.verifier.averify(
                bearer_token(header if isinstance(header, str) else None)
            )
        except Unauthenticated as err:
            await record_refusal(self.services, context, err, 4403)
            raise ConnectionRejectionError from None
        context.principal = principal
        context.unmask = principal.can_unmask()
        unset: UnsetType = UNSET
        return unset


def create_app(
    settings: Settings, *, services: Services | None = None, freeze_gc: bool = False
) -> Starlette:
    """Build the gateway; its services start in the lifespan unless they are given.

    ``freeze_gc`` is for a serving process (``gateway/web/asgi.py``): once everything made at
    start-up exists, it is moved out of the garbage collector's sight. Measured on warm
    look-ups, full collections walked the schema, the modules and the world of start-up
    objects every few hundred requests, ~200 ms each: most of the p99 latency and ~20% of
    the CPU. Objects made later are collected as before, under roomier thresholds
    (``gateway/web/collector.py``).
    """
    holder: dict[str, Any] = {}
    token = settings.metrics.token
    metrics = MetricsEndpoint(
        lambda: holder.get("services"), token.get_secret_value() if token else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started = services or await Services.start(settings)
        holder["services"] = started
        started.request_metrics.routes = frozenset(getattr(r, "path", "") for r in app.routes)
        holder["view"] = GatewayGraphQL(started)
        listener = None
        if settings.metrics.listen:
            listener = await MetricsListener(metrics, settings.metrics.listen).start()
            app.state.metrics_url = listener.url
        if freeze_gc:
            settle_collector()
        try:
            yield
        finally:
            holder.clear()
            if listener is not None:
                await listener.aclose()
            if services is None:
                await started.aclose()

    graphql = _Deferred(holder)
    app = _Gateway(
        routes=[
            # Every method reaches the audit pipeline: a PUT is refused (405) on the record too.
            Route("/graphql", graphql, methods=None),
            WebSocketRoute("/graphql", graphql),
            *health_routes(lambda: holder.get("services")),
            # With an address of its own, /metrics is not served on the gateway's port.
            *(
                []
                if settings.metrics.listen
                else [Route("/metrics", metrics.handle, methods=["GET"])]
            ),
            Route("/v1/screen", ScreenEndpoint(lambda: holder.get("services")), methods=["POST"]),
            *(graphiql_routes() if settings.profile == "dev" else []),
            *console_routes_for(settings),
        ],
        lifespan=lifespan,
        middleware=[Middleware(HttpMetricsMiddleware, metrics=lambda: _request_metrics(holder))],
    )
    app.hit_path = HitPath(lambda: holder.get("view"))
    if settings.execution_shortcuts:
        app.plain_post = PlainPost(lambda: holder.get("view"))
    return app


class _Gateway(Starlette):
    """Starlette, with response-cache hits and plain JSON POSTs answered before its
    middleware and routing."""

    hit_path: HitPath | None = None
    plain_post: PlainPost | None = None  # with the execution shortcuts on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for door in (self.hit_path, self.plain_post):
                if door is None:
                    continue
                passed_on = await door.serve(scope, receive, send)
                if passed_on is None:
                    return
                receive = passed_on
        await super().__call__(scope, receive, send)


def _request_metrics(holder: dict[str, Any]) -> RequestMetrics | None:
    services: Services | None = holder.get("services")
    return None if services is None else services.request_metrics


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
