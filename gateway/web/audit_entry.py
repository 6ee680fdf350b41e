"""What one request turned out to be (``Exchange``), and its audit record (``build_entry``).

The record is built from what the request context gathered (``debtors_touched``,
``cases_requested``, ``loaders.calls``, ``operations``) and how the request ended; a
response-cache hit's record comes from its kept answer (``hit_entry``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.audit.log import AgencyCallRecord, AuditEntry
from gateway.auth import Principal
from gateway.response_cache.answers import Answer
from gateway.response_cache.record import document_hash, hit_entry
from gateway.web.media_types import JSON
from resolvers.context import OperationFacts, RequestContext

__all__ = ["REFUSAL_CODES", "Exchange", "build_entry", "outcome_of"]

# Codes that mean "not served, on purpose"; agency codes mean "served, partly".
REFUSAL_CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "LIMIT_EXCEEDED",
        "RATE_LIMITED",
        "INVALID_INPUT",
        "NOT_FOUND",
        "CONFLICT",
        "OVER_SEIZURE",
        "BAD_REQUEST",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "AUDIT_UNAVAILABLE",
    }
)


def _is_agency_code(code: str) -> bool:
    return code.startswith("AGENCY_") or code == "CIRCUIT_OPEN"


def outcome_of(operations: Sequence[OperationFacts]) -> tuple[str, str | None]:
    """ok / partial / refused / error, and the deciding code, from the operations' errors."""
    codes = [str(e.get("code", "INTERNAL")) for op in operations for e in op.errors]
    for code in codes:
        if code not in REFUSAL_CODES and not _is_agency_code(code):
            return "error", code
    for code in codes:
        if code in REFUSAL_CODES:
            return "refused", code
    if codes:
        return "partial", codes[0]
    return "ok", None


@dataclass(slots=True)
class Exchange:
    """What one request turned out to be, gathered on its way through."""

    request_id: str
    arrived: datetime
    started: float
    client: str
    client_request_id: str | None = None
    media: str = JSON  # of the response, by the request's Accept (gateway/web/media_types.py)
    principal: Principal | None = None
    refusal: str | None = None  # a code, when the pipeline itself answered
    detail: dict[str, Any] = field(default_factory=dict)
    context: RequestContext | None = None
    answer: Answer | None = None  # served from the response cache
    # Keeps the answer built in the response cache: called only once the record is durable,
    # so that an answer whose build is not on the record is never served again.
    keep: Callable[[], bool] | None = None


def _agency_calls(
    ctx: RequestContext, errors: Sequence[dict[str, Any]]
) -> tuple[AgencyCallRecord, ...]:
    first_code: dict[str, str] = {}
    for e in errors:
        agency = e.get("agency")
        if isinstance(agency, str):
            first_code.setdefault(agency.lower(), str(e.get("code")))
    return tuple(
        AgencyCallRecord(
            agency=c.agency,
            facet=c.facet,
            keys=c.keys,
            errors=c.errors,
            ms=c.ms,
            status="ok" if c.errors == 0 else first_code.get(c.agency, "error"),
        )
        for c in ctx.loaders.calls
    )


def build_entry(ex: Exchange, status: int | None) -> AuditEntry:
    """The record of one exchange that ended with HTTP ``status`` (None: a websocket)."""
    if ex.answer is not None and ex.principal is not None and ex.refusal is None:
        return hit_entry(
            ex.answer,
            arrived=ex.arrived,
            request_id=ex.request_id,
            principal=ex.principal,
            detail={**ex.detail, "client": ex.client} if ex.client else dict(ex.detail),
            http_status=status or 200,
            duration_ms=(time.perf_counter() - ex.started) * 1000,
            client_request_id=ex.client_request_id,
        )
    ctx = ex.context
    ops = ctx.operations if ctx is not None else []
    errors = [e for op in ops for e in op.errors]
    if ex.refusal is not None:
        outcome = "error" if ex.refusal == "INTERNAL" else "refused"
        code: str | None = ex.refusal
    elif not ops and ex.detail.get("stream"):
        outcome, code = "ok", None
    elif not ops:
        # Every execution passes the recorder; none recorded means it failed around it.
        outcome, code = "error", "INTERNAL"
    else:
        outcome, code = outcome_of(ops)
    detail: dict[str, Any] = dict(ex.detail)
    if ex.client:
        detail["client"] = ex.client
    if errors:
        detail["errors"] = errors
    kinds = [op.kind for op in ops if op.kind]
    if kinds:
        detail["kind"] = kinds[0] if len(kinds) == 1 else kinds
    query = next((op.query for op in ops if op.query), None)
    principal = ex.principal
    return AuditEntry(
        time=ex.arrived,
        request_id=ex.request_id,
        principal=principal.subject if principal else "",
        court=principal.court if principal else "",
        roles=tuple(sorted(principal.roles)) if principal else (),
        case_number=ctx.cases_requested[0] if ctx and ctx.cases_requested else None,
        operation=",".join(op.name or "" for op in ops if op.name) if ops else "",
        document_hash=document_hash(query) if query else None,
        variables=ops[0].variables
        if len(ops) == 1
        else {str(i): op.variables for i, op in enumerate(ops)},
        debtors=tuple(sorted(ctx.debtors_touched)) if ctx else (),
        agencies=_agency_calls(ctx, errors) if ctx else (),
        outcome=outcome,
        code=code,
        detail=detail,
        cases=tuple(ctx.cases_requested) if ctx else (),
        http_status=status,
        duration_ms=(time.perf_counter() - ex.started) * 1000,
        references=tuple(ctx.entity_references) if ctx else (),
        client_request_id=ex.client_request_id,
    )
