"""``cases(filter:, first:, after:)``: the cases a caller may see, searched and paged.

Who sees which case is ``gateway/store/case_search.py`` (the rule of ``may_see_case``).
The search never takes a personal number: debtors are not searched at all (their names and
numbers are the agencies' facts, and a number typed into a search box would be a probe of
who is a debtor where); a text criterion holding a run of digits as long as a personal
number's shortest meaningful part is refused with ``INVALID_INPUT`` (rule ``NO_ID_SEARCH``).
"""

from __future__ import annotations

import re
from typing import Annotated

import strawberry
from strawberry.relay import PageInfo
from strawberry.types import Info

from gateway.domain.case_values import CaseStatus
from gateway.errors import InvalidInput
from gateway.store.case_search import CaseScope, CaseSearch, visible_cases
from resolvers.context import RequestContext
from schema.case import Case
from schema.pages import decode_cursor, encode_cursor, page_size

__all__ = ["CaseConnection", "CaseEdge", "CaseFilter", "CaseListQuery", "case_search"]

_CONNECTION = "cases"
# Six digits: an area code, a birth year and month, a date. No court case number needs a
# search on more digits than its year and serial number (4 and 1-6), typed apart.
_DIGITS = re.compile(r"[0-9０-９]{6,}")
_MAX_TEXT = 64


@strawberry.input(description="Which cases to list; every given criterion must hold.")
class CaseFilter:
    number: str | None = strawberry.field(
        default=None,
        description="Part of the case number (案号), e.g. `苏0312执` or `1234`; matched as "
        "stored, with full-width brackets.",
    )
    applicant: str | None = strawberry.field(
        default=None,
        description="Part of the applicant's name (申请执行人). Debtors are not searched: "
        "open a case to see its debtors.",
    )
    statuses: list[CaseStatus] | None = strawberry.field(
        default=None, description="Only cases with one of these statuses."
    )


@strawberry.type(description="One case in a page of cases.")
class CaseEdge:
    cursor: str = strawberry.field(description="Pass as `after` to page on from this case.")
    node: Case = strawberry.field(description="The case.")


@strawberry.type(description="A page of cases, newest registration first.")
class CaseConnection:
    edges: list[CaseEdge] = strawberry.field(description="The cases of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is in the list.")


def _text(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > _MAX_TEXT:
        raise InvalidInput(field, f"at most {_MAX_TEXT} characters")
    if _DIGITS.search(value):
        raise InvalidInput(
            field,
            "a personal number is never a search term: at most 5 digits in a row",
            rule="NO_ID_SEARCH",
        )
    return value.strip()


def case_search(given: CaseFilter | None) -> CaseSearch:
    """The store's search for a filter as given; ``INVALID_INPUT`` for a refused term."""
    if given is None:
        return CaseSearch()
    return CaseSearch(
        number=_text(given.number, "filter.number"),
        applicant=_text(given.applicant, "filter.applicant"),
        statuses=None if given.statuses is None else frozenset(given.statuses),
    )


@strawberry.type
class CaseListQuery:
    @strawberry.field(
        description="The cases you may see (assigned to you; a judge or court system: every "
        "case of your court), newest registration first, searched by `filter`."
    )
    async def cases(
        self,
        info: Info[RequestContext, None],
        filter: Annotated[
            CaseFilter | None,
            strawberry.argument(description="Which cases; all you may see if omitted."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size: 1 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The `cursor` of the last case of the previous page."),
        ] = None,
    ) -> CaseConnection:
        ctx = info.context
        size = page_size(first)
        key = decode_cursor(_CONNECTION, after)
        search = case_search(filter)
        p = ctx.principal
        scope = CaseScope(officer_id=p.officer_id, court=p.court, roles=p.roles)
        found = await visible_cases(ctx.store.engine, scope, search, key, size + 1)
        page = found[:size]
        rows = await ctx.store.get_cases([number for _, number in page])
        edges: list[CaseEdge] = []
        for page_key, number in page:
            row = rows.get(number)
            if row is None:
                continue  # deleted between the two reads
            ctx.cases.setdefault(number, row)
            # What was shown is on the record: the cases listed, in order.
            if number not in ctx.cases_requested:
                ctx.cases_requested.append(number)
            edges.append(
                CaseEdge(cursor=encode_cursor(_CONNECTION, page_key), node=Case.from_row(row))
            )
        return CaseConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(found) > size,
                has_previous_page=key is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
