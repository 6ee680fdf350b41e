"""The audit trail over GraphQL, for auditors: records by case, debtor, officer, time.

Only the ``auditor`` role may read the log (and an auditor may not read debtor data). Pages
run newest first across every writer's chain as a Relay connection (see
``schema/audit_cursor.py``). Debtors appear
masked, as everywhere in the log; filtering by debtor matches their keyed hash.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.relay import PageInfo
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway import validation
from gateway.audit.chain import StoredRecord
from gateway.audit.query import AuditFilter
from gateway.errors import AuditUnavailable, Forbidden, InvalidInput, LimitExceeded
from resolvers.context import RequestContext
from schema.audit_cursor import cursor_of, position_of

__all__ = ["AuditQuery", "AuditRecord", "AuditRecordConnection"]

AUDITOR = "auditor"
DEFAULT_PAGE = 50
MAX_PAGE = 500


@strawberry.enum(description="How an audited operation ended.")
class AuditOutcome(enum.Enum):
    OK = "ok"
    PARTIAL = "partial"  # answered, with some agency's data missing
    REFUSED = "refused"  # unauthenticated, forbidden, over a limit, bad input
    ERROR = "error"


@strawberry.type(description="One upstream batch made for the audited request.")
class AuditAgencyCall:
    agency: str
    facet: str
    keys: int
    errors: int
    ms: float
    status: str


@strawberry.type(description="One record of the hash-chained audit log.")
class AuditRecord:
    chain: str = strawberry.field(description="The writer's chain the record is in.")
    seq: strawberry.ID = strawberry.field(description="Position in its chain (1, 2, ...).")
    time: datetime
    request_id: str = strawberry.field(description="The gateway's own id of the request.")
    client_request_id: str | None = strawberry.field(
        default=None, description="The X-Request-Id the client sent, if any."
    )
    officer: str = strawberry.field(description="The principal's subject.")
    court: str
    roles: list[str]
    case_number: str | None
    cases: list[str]
    operation: str
    document_hash: str | None
    variables: JSON = strawberry.field(description="As sent, personal numbers masked.")
    debtors: list[str] = strawberry.field(description="Debtors asked for or touched, masked.")
    agencies: list[AuditAgencyCall]
    outcome: AuditOutcome
    code: str | None
    http_status: int | None
    duration_ms: float | None
    detail: JSON
    prev_hash: str
    hash: str

    @classmethod
    def from_stored(cls, r: StoredRecord) -> AuditRecord:
        return cls(
            chain=r.chain,
            seq=strawberry.ID(str(r.seq)),
            time=r.time,
            request_id=r.request_id,
            client_request_id=r.client_request_id,
            officer=r.principal,
            court=r.court,
            roles=list(r.roles),
            case_number=r.case_number,
            cases=list(r.cases),
            operation=r.operation,
            document_hash=r.document_hash,
            variables=r.variables,
            debtors=list(r.debtors),
            agencies=[AuditAgencyCall(**call) for call in r.agencies],
            outcome=AuditOutcome(r.outcome),
            code=r.code,
            http_status=r.http_status,
            duration_ms=r.duration_ms,
            detail=r.detail,
            prev_hash=r.prev_hash,
            hash=r.hash,
        )


@strawberry.type
class AuditRecordEdge:
    cursor: str
    node: AuditRecord


@strawberry.type(description="A page of audit records, newest first.")
class AuditRecordConnection:
    edges: list[AuditRecordEdge]
    page_info: PageInfo


@strawberry.input(name="AuditFilter", description="Every given criterion must hold.")
class AuditRecordFilter:
    case_number: str | None = None
    debtor_id: strawberry.ID | None = None
    officer: str | None = None
    since: datetime | None = strawberry.field(default=None, description="Inclusive.")
    until: datetime | None = strawberry.field(default=None, description="Exclusive.")
    outcome: AuditOutcome | None = None
    request_id: str | None = None
    client_request_id: str | None = None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _filter(given: AuditRecordFilter | None) -> AuditFilter:
    if given is None:
        return AuditFilter()
    values: dict[str, Any] = {
        "officer": given.officer,
        "since": _utc(given.since),
        "until": _utc(given.until),
        "outcome": None if given.outcome is None else given.outcome.value,
        "request_id": given.request_id,
        "client_request_id": given.client_request_id,
    }
    if given.case_number is not None:
        values["case_number"] = validation.case_number(given.case_number, "filter.caseNumber")
    if given.debtor_id is not None:
        values["debtor_id"] = validation.debtor_id(str(given.debtor_id), "filter.debtorId")[0]
    since, until = values["since"], values["until"]
    if since is not None and until is not None and since >= until:
        raise InvalidInput("filter.until", "must be later than filter.since")
    return AuditFilter(**values)


@strawberry.type
class AuditQuery:
    @strawberry.field(description="The audit trail, newest first; for the auditor role only.")
    async def audit_records(
        self,
        info: Info[RequestContext, None],
        filter: AuditRecordFilter | None = None,
        first: int | None = DEFAULT_PAGE,
        after: str | None = None,
    ) -> AuditRecordConnection:
        ctx = info.context
        if AUDITOR not in ctx.principal.roles:
            raise Forbidden("the audit log is open to auditors only", reason="role")
        if first is None:
            first = DEFAULT_PAGE
        if first < 1:
            raise InvalidInput("first", "must be at least 1")
        if first > MAX_PAGE:
            raise LimitExceeded(
                f"first: at most {MAX_PAGE} records per page", field="first", limit="first"
            )
        where = _filter(filter)
        before = None if after is None else position_of(after)
        if ctx.audit_search is None:
            raise AuditUnavailable("the audit log is disabled")
        records, more = await ctx.audit_search.page(where, first=first, before=before)
        edges = [
            AuditRecordEdge(cursor=cursor_of(r), node=AuditRecord.from_stored(r)) for r in records
        ]
        return AuditRecordConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
