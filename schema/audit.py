"""The audit trail over GraphQL, for auditors: records by case, debtor, officer, time.

Only the ``auditor`` role may read the log (and an auditor may not read debtor data). Pages
run newest first across every writer's chain as a Relay connection (see
``schema/audit_cursor.py``). Debtors appear
masked, as everywhere in the log; filtering by debtor matches their keyed hash.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated, Any

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
    OK = strawberry.enum_value("ok", description="Answered in full.")
    PARTIAL = strawberry.enum_value(
        "partial", description="Answered, with some agency's data missing."
    )  # answered, with some agency's data missing
    REFUSED = strawberry.enum_value(
        "refused", description="Refused: unauthenticated, forbidden, over a limit, bad input."
    )  # unauthenticated, forbidden, over a limit, bad input
    ERROR = strawberry.enum_value("error", description="Failed inside the gateway.")


@strawberry.type(description="One upstream batch made for the audited request.")
class AuditAgencyCall:
    agency: str = strawberry.field(description="The agency called.")
    facet: str = strawberry.field(description="What was asked: identity, assets, ...")
    keys: int = strawberry.field(description="How many ids the call carried.")
    errors: int = strawberry.field(description="How many of them failed.")
    ms: float = strawberry.field(description="How long the call took, in milliseconds.")
    status: str = strawberry.field(description="ok, or the error code.")


@strawberry.type(description="One record of the hash-chained audit log.")
class AuditRecord:
    chain: str = strawberry.field(description="The writer's chain the record is in.")
    seq: strawberry.ID = strawberry.field(description="Position in its chain (1, 2, ...).")
    time: datetime = strawberry.field(description="When the request was answered.")
    request_id: str = strawberry.field(description="The gateway's own id of the request.")
    client_request_id: str | None = strawberry.field(
        default=None, description="The X-Request-Id the client sent, if any."
    )
    officer: str = strawberry.field(description="The principal's subject.")
    court: str = strawberry.field(description="The principal's court.")
    roles: list[str] = strawberry.field(description="The principal's roles.")
    case_number: str | None = strawberry.field(description="The first case the request named.")
    cases: list[str] = strawberry.field(description="Every case the request named, allowed or not.")
    operation: str = strawberry.field(description="The GraphQL operation's name, or the route.")
    document_hash: str | None = strawberry.field(description="SHA-256 of the GraphQL document.")
    variables: JSON = strawberry.field(description="As sent, personal numbers masked.")
    debtors: list[str] = strawberry.field(description="Debtors asked for or touched, masked.")
    agencies: list[AuditAgencyCall] = strawberry.field(
        description="The agency calls made for the request."
    )
    outcome: AuditOutcome = strawberry.field(description="How it ended.")
    code: str | None = strawberry.field(description="The first error code, if any.")
    http_status: int | None = strawberry.field(description="The HTTP status sent.")
    duration_ms: float | None = strawberry.field(
        description="How long the request took, in milliseconds."
    )
    detail: JSON = strawberry.field(
        description="What else the record holds (entity references, reasons)."
    )
    prev_hash: str = strawberry.field(description="The hash of the record before it in the chain.")
    hash: str = strawberry.field(description="This record's hash: over its content and `prevHash`.")

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


@strawberry.type(description="One item of a page, with its cursor.")
class AuditRecordEdge:
    cursor: str = strawberry.field(description="Pass as `after` to page on from this item.")
    node: AuditRecord = strawberry.field(description="The record.")


@strawberry.type(description="A page of audit records, newest first.")
class AuditRecordConnection:
    edges: list[AuditRecordEdge] = strawberry.field(description="The records of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is in the list.")


@strawberry.input(name="AuditFilter", description="Every given criterion must hold.")
class AuditRecordFilter:
    case_number: str | None = strawberry.field(
        default=None, description="Records naming this case."
    )
    debtor_id: strawberry.ID | None = strawberry.field(
        default=None, description="Records touching this debtor (resident ID or credit code)."
    )
    officer: str | None = strawberry.field(
        default=None, description="Records of this officer (the token's subject)."
    )
    since: datetime | None = strawberry.field(default=None, description="Inclusive.")
    until: datetime | None = strawberry.field(default=None, description="Exclusive.")
    outcome: AuditOutcome | None = strawberry.field(
        default=None, description="Records that ended so."
    )
    request_id: str | None = strawberry.field(
        default=None, description="The record of this request (the gateway's id)."
    )
    client_request_id: str | None = strawberry.field(
        default=None, description="Records of this X-Request-Id."
    )


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
        filter: Annotated[
            AuditRecordFilter | None,
            strawberry.argument(description="Which records; all if omitted."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size (default 50, at most 500).")
        ] = DEFAULT_PAGE,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The `cursor` of the last record of the previous page."
            ),
        ] = None,
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
