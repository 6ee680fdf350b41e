"""A debtor's own access log: which court looked at their data, when, for which case.

Open to the ``subject`` role only, and only about the token's own person: the token's
``sub`` claim must be a valid resident id (GB 11643), and the field takes no id argument,
so nobody can ask about anyone else. Everything shown comes from the audit log, found by
the debtor's keyed hash. Like Estonia's data tracker, an entry names the institution (the
court) and the legal basis (the case), not the clerk: officer ids are not shown.

The kinds of data are derived from the agency calls of the audited request. A request may
cover several debtors of one case, and a fact served from the read cache makes no call, so
the kinds are those the request fetched upstream, not necessarily all the fields it showed.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.relay import PageInfo
from strawberry.types import Info

from connectors.domain import DebtorKind, Facet
from gateway import validation
from gateway.audit.chain import StoredRecord
from gateway.audit.query import AuditFilter
from gateway.auth import Role
from gateway.errors import AuditUnavailable, Forbidden, InvalidInput, LiandongError
from resolvers.context import RequestContext
from schema.audit import DEFAULT_PAGE, MAX_PAGE, AuditOutcome
from schema.audit_cursor import cursor_of, position_of

__all__ = ["AccessLogQuery", "DataKind", "subject_debtor_id"]


@strawberry.enum(description="A kind of personal data a court looked at.")
class DataKind(enum.Enum):
    IDENTITY = strawberry.enum_value(
        "IDENTITY", description="户籍, or an organization's registration."
    )  # 户籍 (or an organization's registration)
    MARRIAGE = strawberry.enum_value("MARRIAGE", description="婚姻登记.")
    COMPANIES = strawberry.enum_value(
        "COMPANIES", description="Roles in companies."
    )  # roles in companies
    ASSETS = strawberry.enum_value(
        "ASSETS", description="Real estate, vehicles, equity."
    )  # real estate, vehicles, equity
    RESTRICTIONS = strawberry.enum_value(
        "RESTRICTIONS", description="Exit bans and the court's restrictions."
    )  # exit bans


_KINDS: dict[str, DataKind] = {
    Facet.IDENTITY.value: DataKind.IDENTITY,
    Facet.ORGANIZATION.value: DataKind.IDENTITY,
    Facet.MARRIAGE.value: DataKind.MARRIAGE,
    Facet.COMPANY_ROLES.value: DataKind.COMPANIES,
    Facet.ASSETS.value: DataKind.ASSETS,
    Facet.EXIT_BANS.value: DataKind.RESTRICTIONS,
    Facet.ORGANIZATION_PERSONS.value: DataKind.COMPANIES,
}


@strawberry.type(description="One time a court looked at your data.")
class AccessLogEntry:
    time: datetime = strawberry.field(description="When your data was looked at.")
    court: str = strawberry.field(description="The institution; officers are not named.")
    case_number: str | None = strawberry.field(description="The case that was the legal basis.")
    kinds: list[DataKind] = strawberry.field(description="Kinds of data fetched, in order.")
    outcome: AuditOutcome = strawberry.field(description="How the look-up ended.")

    @classmethod
    def from_stored(cls, r: StoredRecord) -> AccessLogEntry:
        seen = {_KINDS[c["facet"]] for c in r.agencies if c.get("facet") in _KINDS}
        return cls(
            time=r.time,
            court=r.court,
            case_number=r.case_number,
            kinds=[k for k in DataKind if k in seen],
            outcome=AuditOutcome(r.outcome),
        )


@strawberry.type(description="One item of a page, with its cursor.")
class AccessLogEdge:
    cursor: str = strawberry.field(description="Pass as `after` to page on from this item.")
    node: AccessLogEntry = strawberry.field(description="The entry.")


@strawberry.type(description="A page of your access log, newest first.")
class AccessLogConnection:
    edges: list[AccessLogEdge] = strawberry.field(description="The entries of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is in the list.")


def subject_debtor_id(ctx: RequestContext) -> str:
    """The resident id a ``subject`` token names in ``sub``; ``Forbidden`` otherwise."""
    principal = ctx.principal
    if not principal.has_role(Role.SUBJECT):
        raise Forbidden("the access log is open to the person it is about", reason="role")
    try:
        debtor, kind = validation.debtor_id(principal.subject, "sub")
    except LiandongError:
        raise Forbidden("the token does not name a resident id", reason="subject") from None
    if kind is not DebtorKind.PERSON:
        raise Forbidden("the token does not name a resident id", reason="subject")
    return debtor


@strawberry.type
class AccessLogQuery:
    @strawberry.field(
        description="When which court looked at your data, for which case; newest first. "
        "For the subject role: the token's sub is your resident id."
    )
    async def my_access_log(
        self,
        info: Info[RequestContext, None],
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = DEFAULT_PAGE,
        after: Annotated[
            str | None,
            strawberry.argument(description="The `cursor` of the last entry of the previous page."),
        ] = None,
    ) -> AccessLogConnection:
        ctx = info.context
        debtor = subject_debtor_id(ctx)
        first = DEFAULT_PAGE if first is None else first
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInput("first", f"must be between 1 and {MAX_PAGE}")
        before = None if after is None else position_of(after)
        if ctx.audit_search is None:
            raise AuditUnavailable("the audit log is disabled")
        records, more = await ctx.audit_search.page(
            AuditFilter(debtor_id=debtor), first=first, before=before
        )
        edges = [
            AccessLogEdge(cursor=cursor_of(r), node=AccessLogEntry.from_stored(r)) for r in records
        ]
        return AccessLogConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
