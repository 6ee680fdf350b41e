"""Plain JSON POSTs to ``/graphql`` run at the door of the app, without the framework around.

A look-up's own work is its agencies, its execution and its audit record. Starlette's
middleware, routing, request and response objects and strawberry's HTTP view around them
were about a tenth of a cold look-up's CPU (py-spy on ``python -m bench.inprocess --cold``).
``PlainPost`` takes a POST whose body is one GraphQL request in JSON and whose answer is
JSON, and does what the normal path does with it: the same token, audit-health and rate-limit
checks, the same context, the same ``Schema.execute``, the same answer bytes and headers, the
same response-cache keeping, the same record (durable before the answer leaves) and metrics.

Like the hit path (``hit_path.py``) it refuses nothing itself. Whatever is not plain (no or a
bad token, the audit log down, the rate limit spent, a body too large, cut off, not JSON, not
one request or not a string query, an ``Accept`` other than JSON or asking for a stream, an
answer kept for it, tracing on) goes on to the app exactly as it arrived, where the normal
path answers, refuses and records it. Once it has taken the rate limit's token the request is
this path's: answered and recorded here whatever happens, as the pipeline would.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from connectors.deadline import deadline_after
from connectors.tracing import REQUEST_ID
from gateway.auth import Principal
from gateway.errors import BadRequest, InvalidInput
from gateway.response_cache.request_key import request_key
from gateway.web.audit_pipeline import Exchange, sent_body
from gateway.web.door import (
    GatewayGraphQL,
    exchange_at_door,
    headers_of,
    principal_of,
    read_body,
    replay,
    send_json,
)
from gateway.web.media_types import JSON, negotiate
from gateway.web.request_input import check_params, decode_json
from resolvers.context import RequestContext

__all__ = ["POST_ADAPTER", "GraphQLRequest", "PlainPost"]

logger = logging.getLogger("liandong.audit")


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """One GraphQL request, as a POST's JSON body gave it."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


class GatewayView(GatewayGraphQL, Protocol):
    """What this path needs of the GraphQL view (``gateway/web/app.py``)."""

    def streams(self, accept: str) -> bool: ...

    def context_for(
        self, principal: Principal, request_id: str, client: str | None
    ) -> RequestContext: ...

    async def execute_post(
        self, request: GraphQLRequest, context: RequestContext
    ) -> ExecutionResult: ...

    def answer_of(self, result: ExecutionResult) -> GraphQLHTTPResponse: ...

    def encode_json(self, data: object) -> bytes | str: ...


class _PostAdapter:
    """What the view's ``execute_single`` reads of a request adapter: its method."""

    method = "POST"


POST_ADAPTER = cast(AsyncHTTPRequestAdapter, _PostAdapter())


@dataclass(frozen=True, slots=True)
class _Taken:
    headers: dict[bytes, str]
    body: bytes
    request: GraphQLRequest
    principal: Principal
    key: bytes | None  # in the response cache, when it is on


_ACCEPTS_MAX = 64  # distinct Accept values remembered (clients choose them)


class PlainPost:
    """Runs a plain JSON POST here, or hands it on untouched.

    ``view`` gives the GraphQL view while the app runs (``None`` while it starts or stops).
    """

    def __init__(self, view: Callable[[], GatewayView | None]) -> None:
        self.view = view
        self.served = 0  # requests answered here
        self.passed = 0  # POSTs to /graphql handed on
        self._accepts: dict[str, bool] = {}

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """``None`` if the request was answered here; else the ``receive`` to go on with."""
        if scope["method"] != "POST" or scope["path"] != "/graphql" or scope.get("root_path"):
            return receive
        view = self.view()
        if view is None or view.services.telemetry.tracer is not None:
            return receive  # starting or stopping; or a span to open: the normal path's job
        read: list[Message] = []
        try:
            taken = await self._take(view, scope, receive, read)
        except Exception:
            # Nothing has acted: the normal path answers (and records) it, or fails there
            # the same way and says so on the record.
            logger.exception("the plain POST path failed; passing the request on")
            taken = None
        if taken is None:
            self.passed += 1
            return replay(read, receive) if read else receive
        self.served += 1
        await self._answer(view, (scope, receive, send), taken)
        return None

    async def _take(
        self, view: GatewayView, scope: Scope, receive: Receive, read: list[Message]
    ) -> _Taken | None:
        """The request, read and checked, if it is plain; its rate-limit token taken."""
        services = view.services
        headers = headers_of(scope)
        if not headers.get(b"content-type", "").startswith("application/json"):
            return None
        accept = headers.get(b"accept")
        if accept is not None and not self._plain_accept(view, accept):
            return None
        body = await read_body(headers, receive, read, view.audited.max_body_bytes)
        if body is None:
            return None
        request = _parse(body)
        if request is None:
            return None
        principal = await principal_of(services, headers.get(b"authorization"))
        if principal is None:
            return None
        if view.audited.enabled and not services.audit.healthy:
            return None
        gate = services.responses
        key = None
        if gate is not None:
            key = request_key("POST", body, principal)
            if key is not None and gate.answers.get(key) is not None:
                return None  # whether it may be served is the hit's check, on the normal path
        if await services.ratelimiter.acquire(principal.subject) > 0:
            return None  # a refused try takes no token: the normal path refuses it again
        return _Taken(headers, body, request, principal, key)

    def _plain_accept(self, view: GatewayView, accept: str) -> bool:
        known = self._accepts.get(accept)
        if known is None:
            known = negotiate(accept) == JSON and not view.streams(accept)
            if len(self._accepts) < _ACCEPTS_MAX:
                self._accepts[accept] = known
        return known

    async def _answer(
        self, view: GatewayView, asgi: tuple[Scope, Receive, Send], taken: _Taken
    ) -> None:
        scope, receive, send = asgi
        services = view.services
        pipeline = view.audited
        ex = exchange_at_door(scope, taken.headers, taken.principal)  # JSON: ``_plain_accept``
        metrics = services.request_metrics
        status = 500  # as the app's metrics count one that raised before answering
        # No tracer is on here (``serve`` passes the request on when one is): the request id
        # for the log lines is all that ``Telemetry.request`` would set.
        id_token = REQUEST_ID.set(ex.request_id)
        try:
            # Every agency call this request makes inherits the deadline, as on the normal path.
            with deadline_after(services.settings.limits.deadline_s):
                body, response = await self._run(view, ex, taken)
                status = 200 if response is None else response.status_code
                if pipeline.enabled:  # durable before it is sent
                    refused = await pipeline.record_status(ex, status)
                    if refused is not None:
                        response, status = refused, refused.status_code
                        ex.keep = None  # the record failed: its answer is not kept
                if ex.keep is not None:
                    ex.keep()
                ops = ex.context.operations if ex.context is not None else []
                metrics.observe_graphql(time.perf_counter() - ex.started, ex.refusal, ops)
                if response is None:
                    await send_json(send, body, ex.request_id)
                else:
                    response.headers["X-Request-Id"] = ex.request_id
                    await response(scope, receive, send)
        finally:
            REQUEST_ID.reset(id_token)
            metrics.count_http(metrics.route("/graphql"), "POST", status)

    @staticmethod
    async def _run(view: GatewayView, ex: Exchange, taken: _Taken) -> tuple[bytes, Response | None]:
        """The answer's bytes, or the response that replaces them (a refusal, a failure)."""
        gate = view.services.responses
        generation = 0
        if gate is not None and taken.key is not None:
            gate.answers.misses += 1  # what ``ResponseGate.serve`` counts on a miss
            generation = gate.answers.generation
        context: RequestContext | None = None
        try:
            context = view.context_for(taken.principal, ex.request_id, ex.client or None)
            result = await view.execute_post(taken.request, context)
            encoded = view.encode_json(view.answer_of(result))
            body = encoded if isinstance(encoded, bytes) else encoded.encode()
        except HTTPException as exc:
            return b"", view.audited.http_refusal(ex, exc, sent_body(taken.body))
        except Exception:
            return b"", view.audited.failure(ex)
        finally:
            ex.context = context
        if gate is not None and taken.key is not None:
            ex.keep = functools.partial(gate.keep, taken.key, generation, context, body)
        return body, None


def _parse(body: bytes) -> GraphQLRequest | None:
    """The body as one GraphQL request, or ``None`` for anything the normal path refuses
    (or answers otherwise: a batch, no query)."""
    try:
        data = decode_json(body)
    except BadRequest:
        return None
    if not isinstance(data, dict):
        return None
    query, name = data.get("query"), data.get("operationName")
    variables, extensions = data.get("variables"), data.get("extensions")
    try:
        check_params(query, name, variables, extensions)
    except (BadRequest, InvalidInput):
        return None
    if not isinstance(query, str) or not query:
        return None
    return GraphQLRequest(
        query=query, variables=variables, operation_name=name, extensions=extensions
    )
