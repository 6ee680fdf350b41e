"""The audit record of a request served from the response cache.

Its own record, like any other request's: who asked, through which case, the same document,
variables and debtors as the build's record, ``outcome`` ok, and ``detail.servedFrom =
"responseCache"``. ``agencies`` names each agency and facet whose facts the answer shows,
with ``keys`` 0 and ``status`` "cached": nothing was sent upstream, and the debtor's access
log (``myAccessLog``) still lists the kinds of data shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.audit.log import AgencyCallRecord, AuditEntry
from gateway.auth import Principal
from gateway.response_cache.answers import Answer

__all__ = ["SERVED_FROM", "hit_entry"]

SERVED_FROM = "responseCache"  # detail.servedFrom of a hit's record


def hit_entry(
    answer: Answer,
    *,
    arrived: datetime,
    request_id: str,
    principal: Principal,
    document_hash: str,
    detail: dict[str, Any],
    http_status: int,
    duration_ms: float,
    client_request_id: str | None,
) -> AuditEntry:
    """The record of one request that ``answer`` served."""
    return AuditEntry(
        time=arrived,
        request_id=request_id,
        principal=principal.subject,
        court=principal.court,
        roles=tuple(sorted(principal.roles)),
        case_number=answer.cases[0] if answer.cases else None,
        operation=answer.operation or "",
        document_hash=document_hash,
        variables=dict(answer.variables),
        debtors=tuple(sorted(answer.debtors)),
        agencies=tuple(
            AgencyCallRecord(
                agency=f.agency, facet=f.facet, keys=0, errors=0, ms=0.0, status="cached"
            )
            for f in answer.facts
        ),
        outcome="ok",
        code=None,
        detail={**detail, "kind": "query", "servedFrom": SERVED_FROM},
        cases=answer.cases,
        http_status=http_status,
        duration_ms=duration_ms,
        client_request_id=client_request_id,
    )
