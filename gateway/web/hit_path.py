"""Response-cache hits served at the door of the app, before starlette routes the request.

A hit's answer is bytes already; what it must still go through is the law, not the
framework: the token, the audit log's health, the case check for this caller, the rate
limit, and its own audit record, durable before the answer is sent. Starlette's middleware,
routing and request objects and strawberry's view cost about as much again on a hit, so
``HitPath`` takes ``POST /graphql`` (a JSON body) and ``GET /graphql`` straight from the ASGI
scope, runs those checks, and serves the kept answer.

It never refuses anything itself. Whatever is not a plain hit (no or a bad token, an
outsider, a case the caller is no longer on, the audit log down, the rate limit spent, a
body too large or cut off, no kept answer, tracing on, anything unexpected) goes on to the
app with the request exactly as it arrived, body and all, where the normal path answers,
refuses and records it as it always has. So the fast path refuses exactly what the normal
path refuses, because the normal path is what refuses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from connectors.tracing import REQUEST_ID
from gateway.auth import Principal
from gateway.response_cache.answers import Answer
from gateway.response_cache.request_key import request_key
from gateway.web.door import (
    GatewayGraphQL,
    exchange_at_door,
    headers_of,
    principal_of,
    read_body,
    replay,
    send_json,
)
from gateway.web.media_types import JSON, to_media

__all__ = ["HitPath"]

logger = logging.getLogger("liandong.responses")


class HitPath:
    """Serves a request from the response cache, or hands it on untouched.

    ``view`` gives the GraphQL view while the app runs (``None`` while it starts or stops).
    """

    def __init__(self, view: Callable[[], GatewayGraphQL | None]) -> None:
        self.view = view
        self.served = 0  # requests answered here
        self.passed = 0  # requests of the right shape handed on (not plain hits)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """``None`` if the request was answered here; else the ``receive`` to go on with."""
        method = scope["method"]
        if method not in {"POST", "GET"} or scope["path"] != "/graphql":
            return receive
        view = self.view()
        if view is None or view.services.responses is None or scope.get("root_path"):
            return receive
        if not view.services.settings.response_cache.fast_path:
            return receive
        if view.services.telemetry.tracer is not None:
            return receive  # the span and its propagated parent: the normal path's job
        read: list[Message] = []
        try:
            hit = await self._check(view, scope, receive, read)
        except Exception:
            # Nothing has been sent: the normal path answers (and records) it, or fails
            # there the same way and says so on the record.
            logger.exception("the response cache's fast path failed; passing the request on")
            hit = None
        if hit is None:
            self.passed += 1
            return replay(read, receive) if read else receive
        # From here on the request is this path's to answer: a failure while recording is
        # a 503 (``record``), and one while sending is the server's, never a second answer.
        self.served += 1
        await self._answer(view, (scope, receive, send), *hit)
        return None

    async def _check(
        self, view: GatewayGraphQL, scope: Scope, receive: Receive, read: list[Message]
    ) -> tuple[dict[bytes, str], Principal, Answer] | None:
        """The request's headers, principal and kept answer if it is a plain hit."""
        services = view.services
        gate = services.responses
        headers = headers_of(scope)
        method = scope["method"]
        if gate is None:
            return None
        if method == "GET":
            if view.wants_ide(scope):
                return None
            raw = scope.get("query_string", b"")
        elif not headers.get(b"content-type", "").startswith("application/json"):
            return None
        else:
            body = await read_body(headers, receive, read, view.audited.max_body_bytes)
            if body is None:
                return None
            raw = body
        principal = await principal_of(services, headers.get(b"authorization"))
        if principal is None:
            return None
        if view.audited.enabled and not services.audit.healthy:
            return None
        key = request_key(method, raw, principal)
        answer = None if key is None else gate.answers.get(key)
        if answer is None or not await gate.allows(answer, principal):
            return None
        if await services.ratelimiter.acquire(principal.subject) > 0:
            return None  # a refused try takes no token: the normal path refuses it again
        gate.answers.hits += 1
        return headers, principal, answer

    @staticmethod
    async def _answer(
        view: GatewayGraphQL,
        asgi: tuple[Scope, Receive, Send],
        headers: dict[bytes, str],
        principal: Principal,
        answer: Answer,
    ) -> None:
        scope, receive, send = asgi
        services = view.services
        pipeline = view.audited
        ex = exchange_at_door(scope, headers, principal)
        ex.answer = answer
        method = scope["method"]
        # No tracer can be on here (``serve`` passes the request on when one is), so there
        # is no span to open or end: only the request id for the log lines while it is
        # recorded, set as ``Telemetry.request`` sets it, without its context manager.
        id_token = REQUEST_ID.set(ex.request_id)
        try:
            # A plain JSON hit sends the kept bytes as they are (``response`` stays None):
            # no starlette ``Response`` is built for it, only for another media type or a 503.
            response: Response | None = None
            if ex.media != JSON:
                response = to_media(Response(answer.body, media_type=JSON), ex.media, False)
            if pipeline.enabled:  # durable before it is sent
                status = 200 if response is None else response.status_code
                refused = await pipeline.record_status(ex, status)
                if refused is not None:
                    response = refused
            status = 200 if response is None else response.status_code
            metrics = services.request_metrics
            seconds = time.perf_counter() - ex.started
            if status == 200:
                metrics.count_hit(method, seconds, answer.operation)
            else:
                metrics.observe_graphql(seconds, None, [answer.operation_facts()])
                metrics.count_http(metrics.route("/graphql"), method, status)
        finally:
            REQUEST_ID.reset(id_token)
        if response is None:
            await send_json(send, answer.body, ex.request_id)
            return
        response.headers["X-Request-Id"] = ex.request_id
        await response(scope, receive, send)
