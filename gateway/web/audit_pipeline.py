"""One audit record per HTTP request to ``/graphql``, durable before the response leaves.

The pipeline wraps the GraphQL view: it names the request (``X-Request-Id``), authenticates,
refuses to serve while the audit log cannot be written, applies the per-principal rate
limit and the body's size limit, runs the operation, and then appends the request's record:
only once ``append`` has returned (the record is committed) is the response sent. If the
record cannot be made durable, the response is replaced by a 503 ``AUDIT_UNAVAILABLE`` with
no data (fail closed).

Refusals are on the record too: 401 (bad or missing token), 429 (rate limit), 413 (a body
over ``limits.max_body_bytes``), 400 (a body that is not a GraphQL request), and every
FORBIDDEN, LIMIT_EXCEEDED or INVALID_INPUT inside a 200. Nothing here runs per field: the
record is built from what the request context gathered (``debtors_touched``,
``cases_requested``, ``loaders.calls``, ``operations``).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.auth import bearer_token
from gateway.errors import (
    AuditUnavailable,
    BadRequest,
    InvalidInput,
    LiandongError,
    LimitExceeded,
    RateLimited,
    Unauthenticated,
)
from gateway.masking import escaped
from gateway.telemetry import trace_id
from gateway.web.audit_entry import Exchange, build_entry, outcome_of
from gateway.web.body_limit import check_declared, limited_receive
from gateway.web.media_types import (
    JSON,
    content_type,
    error_body,
    is_request_error,
    negotiate,
    to_media,
)
from gateway.web.ratelimit import retry_after_header
from gateway.web.request_ids import request_id_of
from gateway.web.services import Services

__all__ = [
    "CONTEXT_KEY",
    "PRINCIPAL_KEY",
    "REQUEST_ID_KEY",
    "AuditPipeline",
    "Exchange",
    "build_entry",
    "client_request_id_of",
    "outcome_of",
    "request_id_of",
    "sent_body",
]

logger = logging.getLogger("liandong.audit")

# Keys in the ASGI scope's ``state``, shared with the view's ``get_context``.
REQUEST_ID_KEY = "request_id"
PRINCIPAL_KEY = "principal"
CONTEXT_KEY = "context"

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def client_request_id_of(headers: Mapping[str, str]) -> str | None:
    """The client's ``X-Request-Id`` if it is a sane token (up to 128 safe characters)."""
    given = headers.get("x-request-id")
    return given if given is not None and _REQUEST_ID.fullmatch(given) else None


_SENT_CHARS = 2048  # of a refused request, kept in its record: enough to see what it was


async def sent_text(request: Request) -> str:
    """What a refused request sent (its body, or a GET's query string), escaped and bounded."""
    if request.method == "GET":
        return escaped(request.url.query[:_SENT_CHARS])
    try:
        raw = await request.body()  # read already, and so cached, by the time of a refusal
    except Exception:  # the body itself was the trouble (too large, cut off)
        return ""
    return sent_body(raw)


def sent_body(raw: bytes) -> str:
    """A refused request's body as its record keeps it: escaped and bounded."""
    return escaped(raw[: _SENT_CHARS * 4].decode("utf-8", "backslashreplace")[:_SENT_CHARS])


def _body(err: LiandongError, media: str = JSON) -> bytes:
    extensions = {**err.extensions, "traceId": trace_id()}
    return error_body(media, [{"message": err.message, "extensions": extensions}])


def _json(
    status: int, body: bytes, headers: Mapping[str, str] | None = None, media: str = JSON
) -> Response:
    return Response(body, status_code=status, media_type=content_type(media), headers=headers)


class AuditPipeline:
    """Runs ``run`` (the GraphQL view) for one HTTP request, under audit."""

    def __init__(self, services: Services, run: Callable[[Request], Awaitable[Response]]) -> None:
        self.services = services
        self.run = run
        self.enabled = services.settings.audit.enabled
        self.max_body_bytes = services.settings.limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, limited_receive(receive, self.max_body_bytes))
        client = scope.get("client")
        ex = Exchange(
            request_id=request_id_of(request.headers),
            arrived=datetime.now(UTC),
            started=time.perf_counter(),
            client=str(client[0]) if client else "",
            client_request_id=client_request_id_of(request.headers),
            media=negotiate(request.headers.get("accept")),
        )
        state = scope.setdefault("state", {})
        state[REQUEST_ID_KEY] = ex.request_id
        telemetry = self.services.telemetry
        with telemetry.request(ex.request_id, request.method, "/graphql", request.headers) as span:
            response = await self._respond(request, ex, state)
            if self.enabled:
                built = response
                response = await self.record(ex, response)
                if response is not built:
                    ex.keep = None  # the record failed: its answer is not kept
            if ex.keep is not None:
                ex.keep()
            response.headers["X-Request-Id"] = ex.request_id
            ops = ex.context.operations if ex.context is not None else []
            ops = [ex.answer.operation_facts()] if ex.answer is not None else ops
            seconds = time.perf_counter() - ex.started
            self.services.request_metrics.observe_graphql(seconds, ex.refusal, ops)
            code = ex.refusal or next((str(e.get("code")) for op in ops for e in op.errors), None)
            telemetry.end_request(span, response.status_code, code, ops)
        await response(scope, receive, send)

    def _refuse(
        self,
        ex: Exchange,
        err: LiandongError,
        status: int,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        ex.refusal = err.code
        ex.detail.update({k: v for k, v in err.extensions.items() if k != "code"})
        return _json(status, _body(err, ex.media), headers, ex.media)

    async def _respond(self, request: Request, ex: Exchange, state: dict[str, Any]) -> Response:
        services = self.services
        try:
            token = bearer_token(request.headers.get("authorization"))
            ex.principal = await services.verifier.averify(token)
        except Unauthenticated as err:
            # Failed sign-ins count against the client's address: each one is recorded, and
            # guessing must not be free.
            limited = await self._limit(ex, f"unauthenticated@{ex.client}")
            if limited is not None:
                return limited
            return self._refuse(ex, err, 401, {"WWW-Authenticate": "Bearer"})
        state[PRINCIPAL_KEY] = ex.principal
        if self.enabled and not services.audit.healthy:
            # Known broken: refuse before any agency is asked. This refusal's own record is
            # the probe that finds out whether the log has recovered.
            down = AuditUnavailable("the audit log cannot be written; nothing is served")
            return self._refuse(ex, down, 503)
        limited = await self._limit(ex, ex.principal.subject)
        if limited is not None:
            return limited
        try:
            check_declared(request.headers, self.max_body_bytes)
            response = await self._answer(request, ex, state)
        except LimitExceeded as err:  # the body, declared or as it arrived (limited_receive)
            return self._refuse(ex, err, 413)
        except (BadRequest, InvalidInput) as err:  # gateway/web/request_input.py: nothing acted
            ex.detail["sent"] = await sent_text(request)
            return self._refuse(ex, err, 400)
        except HTTPException as exc:
            return self.http_refusal(ex, exc, await sent_text(request))
        except Exception:
            return self.failure(ex)
        finally:
            ex.context = state.get(CONTEXT_KEY)
        if isinstance(response, StreamingResponse):
            # A stream (a subscription over HTTP) is recorded as it starts, before its
            # first part is sent; what it later streams is not on this record.
            ex.detail["stream"] = True
            return response
        ops = ex.context.operations if ex.context is not None else []
        failed = len(ops) == 1 and is_request_error(ops[0].has_data, ops[0].errors)
        return to_media(response, ex.media, failed)

    @staticmethod
    def http_refusal(ex: Exchange, exc: HTTPException, sent: str) -> Response:
        """The answer to a request the GraphQL view refused (``sent``: what it sent)."""
        ex.refusal = "NOT_FOUND" if exc.status_code == 404 else "BAD_REQUEST"
        ex.detail["sent"] = sent
        extensions = {"code": ex.refusal, "traceId": trace_id()}
        errors = [{"message": exc.reason, "extensions": extensions}]
        return _json(exc.status_code, error_body(ex.media, errors), media=ex.media)

    @staticmethod
    def failure(ex: Exchange) -> Response:
        """The answer to a request that failed outside GraphQL execution (logged here)."""
        logger.exception("request %s failed outside GraphQL execution", ex.request_id)
        ex.refusal = "INTERNAL"
        extensions = {"code": ex.refusal, "traceId": trace_id()}
        errors = [{"message": "Internal error.", "extensions": extensions}]
        return _json(500, error_body(ex.media, errors), media=ex.media)

    async def _answer(self, request: Request, ex: Exchange, state: dict[str, Any]) -> Response:
        # The response cache (gateway/response_cache/): after authentication and the limits.
        gate = self.services.responses
        if gate is None or ex.principal is None:
            return await self.run(request)
        context = functools.partial(state.get, CONTEXT_KEY)
        response, ex.answer, ex.keep = await gate.respond(request, ex.principal, self.run, context)
        return response

    async def _limit(self, ex: Exchange, key: str) -> Response | None:
        wait = await self.services.ratelimiter.acquire(key)
        if wait <= 0:
            return None
        retry = retry_after_header(wait)
        limited = RateLimited(f"rate limit exceeded; retry after {retry} s", int(retry))
        return self._refuse(ex, limited, 429, {"Retry-After": retry})

    async def record(self, ex: Exchange, response: Response) -> Response:
        """Append ``ex``'s record; ``response`` once it is durable, else a 503."""
        refused = await self.record_status(ex, response.status_code)
        return response if refused is None else refused

    async def record_status(self, ex: Exchange, status: int) -> Response | None:
        """Append the record of ``ex`` ending in ``status``: ``None`` once it is durable,
        else the 503 to send instead (the record needs the status only, not a response)."""
        try:
            await self.services.audit.append(build_entry(ex, status))
        except AuditUnavailable as err:
            return _json(503, _body(err, ex.media), media=ex.media)
        except Exception:
            logger.exception("audit append failed for request %s", ex.request_id)
            down = AuditUnavailable("the audit log cannot be written")
            return _json(503, _body(down, ex.media), media=ex.media)
        return None
