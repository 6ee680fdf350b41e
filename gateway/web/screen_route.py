"""``POST /v1/screen``: list screening for joint-punishment agencies (联合惩戒单位).

An agency (role ``agency``, bearer JWT as for GraphQL) sends up to 10,000 ids and gets back
only the listed ones, each with its measures — measure, court, case number, since —
and nothing else about the person.

Request, either
    ``Content-Type: application/json``    ``{"ids": ["110101199003078515", ...]}``
    ``Content-Type: application/x-ndjson`` one ``"<id>"`` or ``{"id": "<id>"}`` per line
Response (``200``), in the same format:
    JSON    ``{"hits": [{"id": <as sent>, "measures": [{"measure", "court", "caseNumber",
            "since"}]}], "invalid": [{"index", "id", "code", "message"}], "checked": n,
            "received": m}``
    NDJSON  one ``{"id", "measures"}`` line per hit, one ``{"invalid": {...}}`` line per
            rejected entry, and a last line ``{"checked": n, "received": m}``.
``checked`` counts the distinct valid ids looked up, ``received`` every entry sent; an id
sent twice is answered once, under its first spelling.
Errors: 401 UNAUTHENTICATED, 403 FORBIDDEN (not an agency), 429 RATE_LIMITED (the same
per-principal limit as GraphQL; one call is one request), 400 INVALID_INPUT (body not
readable), 413 LIMIT_EXCEEDED (more than 10,000 ids, or a body over 4 MiB), 503
AUDIT_UNAVAILABLE (the call could not be recorded, so it is not answered).

Every call, refusals included, is one audit record, durable before the response leaves:
the caller, the counts, a SHA-256 over the sorted distinct ids (never the ids), and as
``debtors`` the ids that were listed — the people about whom the agency learned something,
whose own access log must show it (the log stores them masked, with a keyed hash).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.audit.log import AuditEntry
from gateway.auth import Principal, Role, bearer_token
from gateway.errors import (
    AuditUnavailable,
    Forbidden,
    InvalidInput,
    LiandongError,
    LimitExceeded,
    RateLimited,
    Unauthenticated,
)
from gateway.screening.run import ScreenOutcome, ScreenRun, Unreadable
from gateway.web.audit_pipeline import request_id_of
from gateway.web.body_limit import read_body
from gateway.web.ratelimit import retry_after_header
from gateway.web.services import Services

__all__ = ["MAX_SCREEN_BODY_BYTES", "MAX_SCREEN_IDS", "NDJSON", "ScreenEndpoint"]

logger = logging.getLogger("liandong.screening")

MAX_SCREEN_IDS = 10_000
# 10,000 ids in NDJSON objects with generous whitespace stay far below this.
MAX_SCREEN_BODY_BYTES = 4 * 1024 * 1024
NDJSON = "application/x-ndjson"
OPERATION = "screen"
_NDJSON_TYPES = frozenset({NDJSON, "application/ndjson", "application/jsonl"})
_SLICE = 2_000  # ids screened between two yields to the event loop


def _error(err: LiandongError, status: int, headers: Mapping[str, str] | None = None) -> Response:
    body = {"errors": [{"message": err.message, "extensions": err.extensions}]}
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


@dataclass(slots=True)
class _Call:
    """What one call turned out to be, gathered for its audit record."""

    request_id: str
    arrived: datetime
    started: float
    client: str
    principal: Principal | None = None
    refusal: str | None = None
    outcome: ScreenOutcome | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def refuse(
        self, err: LiandongError, status: int, headers: Mapping[str, str] | None = None
    ) -> Response:
        self.refusal = err.code
        self.detail.update({k: v for k, v in err.extensions.items() if k != "code"})
        return _error(err, status, headers)

    def entry(self, status: int) -> AuditEntry:
        p = self.principal
        detail = dict(self.detail)
        if self.client:
            detail["client"] = self.client
        hits: tuple[str, ...] = ()
        if self.outcome is not None:
            o = self.outcome
            hits = tuple(sorted(h.debtor_id for h in o.hits))
            detail.update(
                received=o.received,
                checked=o.checked,
                hits=len(o.hits),
                invalid=len(o.invalid),
                ids_sha256=o.ids_sha256,
            )
        return AuditEntry(
            time=self.arrived,
            request_id=self.request_id,
            principal=p.subject if p else "",
            court=p.court if p else "",
            roles=tuple(sorted(p.roles)) if p else (),
            case_number=None,
            operation=OPERATION,
            document_hash=None,
            variables={},
            debtors=hits,  # the listed ids only; every id sent is in ids_sha256
            agencies=(),
            outcome="refused" if self.refusal else "ok",
            code=self.refusal,
            detail=detail,
            http_status=status,
            duration_ms=(time.perf_counter() - self.started) * 1000,
        )


class ScreenEndpoint:
    """The ASGI endpoint; ``services`` returns the running services (None while starting)."""

    def __init__(self, services: Callable[[], Services | None]) -> None:
        self._services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        services = self._services()
        if services is None:
            body = {"errors": [{"message": "starting or stopping"}]}
            await Response(orjson.dumps(body), 503, media_type="application/json")(
                scope, receive, send
            )
            return
        client = scope.get("client")
        call = _Call(
            request_id=request_id_of(request.headers),
            arrived=datetime.now(UTC),
            started=time.perf_counter(),
            client=str(client[0]) if client else "",
        )
        response = await self._respond(services, request, call)
        if services.settings.audit.enabled:
            response = await _record(services, call, response)
        response.headers["X-Request-Id"] = call.request_id
        await response(scope, receive, send)

    async def _respond(self, services: Services, request: Request, call: _Call) -> Response:
        """Authenticate, limit, read, screen — in that order."""
        try:
            token = bearer_token(request.headers.get("authorization"))
            call.principal = principal = await services.verifier.averify(token)
        except Unauthenticated as err:
            # Failed sign-ins count against the client's address, as for GraphQL.
            limited = await _limit(services, call, f"unauthenticated@{call.client}")
            return limited or call.refuse(err, 401, {"WWW-Authenticate": "Bearer"})
        if services.settings.audit.enabled and not services.audit.healthy:
            down = AuditUnavailable("the audit log cannot be written; nothing is served")
            return call.refuse(down, 503)
        limited = await _limit(services, call, principal.subject)
        if limited is not None:
            return limited
        if not principal.has_role(Role.AGENCY):
            return call.refuse(Forbidden("screening is for the agency role"), 403)
        ndjson = _is_ndjson(request.headers.get("content-type", ""))
        call.detail["format"] = "ndjson" if ndjson else "json"
        try:
            raw = await read_body(request, MAX_SCREEN_BODY_BYTES)
            values = _parse_ndjson(raw) if ndjson else _parse_json(raw)
        except LimitExceeded as err:
            return call.refuse(err, 413)
        except InvalidInput as err:
            return call.refuse(err, 400)
        except ClientDisconnect:
            return call.refuse(InvalidInput("body", "the client went away"), 400)
        run = ScreenRun.start(services.screening)
        for start in range(0, len(values), _SLICE):
            run.feed(values[start : start + _SLICE])
            await asyncio.sleep(0)  # 10,000 ids are tens of ms of CPU: let others run
        call.outcome = outcome = run.outcome()
        return _ndjson_response(outcome) if ndjson else _json_response(outcome)


async def _limit(services: Services, call: _Call, key: str) -> Response | None:
    wait = await services.ratelimiter.acquire(key)
    if wait <= 0:
        return None
    retry = retry_after_header(wait)
    limited = RateLimited(f"rate limit exceeded; retry after {retry} s", int(retry))
    return call.refuse(limited, 429, {"Retry-After": retry})


async def _record(services: Services, call: _Call, response: Response) -> Response:
    """Append the call's record; if it is not durable, nothing but a 503 goes out."""
    try:
        await services.audit.append(call.entry(response.status_code))
    except AuditUnavailable as err:
        return _error(err, 503)
    except Exception:
        logger.exception("audit append failed for screening call %s", call.request_id)
        return _error(AuditUnavailable("the audit log cannot be written"), 503)
    return response


def _is_ndjson(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in _NDJSON_TYPES


def _check_count(count: int) -> None:
    if count > MAX_SCREEN_IDS:
        raise LimitExceeded(
            f"at most {MAX_SCREEN_IDS} ids per call, got {count}",
            field="ids",
            limit=MAX_SCREEN_IDS,
            received=count,
        )


def _parse_json(raw: bytes) -> list[object]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "not valid JSON") from None
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list):
        raise InvalidInput("ids", 'the body must be an object {"ids": [...]}')
    _check_count(len(ids))
    return ids


def _parse_ndjson(raw: bytes) -> list[object]:
    lines = [line for line in raw.splitlines() if line.strip()]
    _check_count(len(lines))
    # Line by line (a fraction of a microsecond each): a bad line is one rejected entry.
    return [_ndjson_value(line) for line in lines]


def _ndjson_value(line: bytes) -> object:
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError:
        return Unreadable("not a JSON value")
    return item.get("id") if isinstance(item, dict) else item


def _json_response(outcome: ScreenOutcome) -> Response:
    body = {
        "hits": [hit.public() for hit in outcome.hits],
        "invalid": [bad.public() for bad in outcome.invalid],
        "checked": outcome.checked,
        "received": outcome.received,
    }
    return Response(orjson.dumps(body), 200, media_type="application/json")


def _ndjson_response(outcome: ScreenOutcome) -> Response:
    lines = [orjson.dumps(hit.public()) for hit in outcome.hits]
    lines.extend(orjson.dumps({"invalid": bad.public()}) for bad in outcome.invalid)
    lines.append(orjson.dumps({"checked": outcome.checked, "received": outcome.received}))
    return Response(b"\n".join(lines) + b"\n", 200, media_type=NDJSON)
