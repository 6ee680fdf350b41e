"""The audit record of a request served from the response cache.

Its own record, like any other request's: who asked, through which case, the same document,
variables and debtors as the build's record, ``outcome`` ok, and ``detail.servedFrom =
"responseCache"``. ``agencies`` names each agency and facet whose facts the answer shows,
with ``keys`` 0 and ``status`` "cached": nothing was sent upstream, and the debtor's access
log (``myAccessLog``) still lists the kinds of data shown.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from gateway.audit.log import AgencyCallRecord, AuditEntry
from gateway.auth import Principal
from gateway.masking import escaped
from gateway.response_cache.answers import Answer, FactUse

__all__ = ["SERVED_FROM", "agency_records", "document_hash", "hit_entry"]

SERVED_FROM = "responseCache"  # detail.servedFrom of a hit's record


@functools.lru_cache(maxsize=512)
def document_hash(query: str) -> str:
    """The record's hash of a GraphQL document (sha256 of its escaped text, hex)."""
    # Clients send the same few documents over and over (about 1.5 KB for a full profile).
    return hashlib.sha256(escaped(query).encode()).hexdigest()


def agency_records(facts: Iterable[FactUse]) -> tuple[AgencyCallRecord, ...]:
    """What a hit's record says of each agency and facet an answer shows: nothing sent."""
    return tuple(
        AgencyCallRecord(agency=f.agency, facet=f.facet, keys=0, errors=0, ms=0.0, status="cached")
        for f in facts
    )


def hit_entry(
    answer: Answer,
    *,
    arrived: datetime,
    request_id: str,
    principal: Principal,
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
        document_hash=answer.document_hash or document_hash(answer.query),
        variables=dict(answer.variables),
        debtors=answer.debtor_list or tuple(sorted(answer.debtors)),
        agencies=answer.agency_records or agency_records(answer.facts),
        outcome="ok",
        code=None,
        detail={**detail, "kind": "query", "servedFrom": SERVED_FROM},
        cases=answer.cases,
        http_status=http_status,
        duration_ms=duration_ms,
        client_request_id=client_request_id,
        shared=answer.shared,
    )
