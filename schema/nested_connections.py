"""Connections of the lists that grow under a case or a debtor: restrictions and decisions.

Their assistance requests page as ``AssistanceRequestConnection`` (``request_connection``),
the type of the root ``assistanceRequests``. Every connection here pages like the root
ones: ``first`` (1 to 100, default 20) and ``after`` (a cursor of the same field), newest
first; ``schema/pages.py`` holds the cursors and limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Annotated

import strawberry
from strawberry.relay import PageInfo

from gateway.store.decisions import DecisionRow
from gateway.store.keyset import PageKey
from schema.decisions import RestrictionDecision
from schema.pages import keyed_page
from schema.types import Restriction

__all__ = [
    "After",
    "First",
    "RestrictionConnection",
    "RestrictionDecisionConnection",
    "decision_connection",
    "restriction_connection",
    "restriction_key",
]

First = Annotated[int | None, strawberry.argument(description="Page size: 1 to 100 (default 20).")]
After = Annotated[
    str | None,
    strawberry.argument(description="The `cursor` of the last item of the previous page."),
]


@strawberry.type(description="One restriction in a page of them.")
class RestrictionEdge:
    cursor: str = strawberry.field(description="Pass as `after` to page on from this one.")
    node: Restriction = strawberry.field(description="The restriction.")


@strawberry.type(
    description="A page of a debtor's restrictions: latest `since` first, ties by where the "
    "record lives (the agency's, then the court's) and its id."
)
class RestrictionConnection:
    edges: list[RestrictionEdge] = strawberry.field(description="The restrictions of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is in the list.")


@strawberry.type(description="One written decision in a page of them.")
class RestrictionDecisionEdge:
    cursor: str = strawberry.field(description="Pass as `after` to page on from this one.")
    node: RestrictionDecision = strawberry.field(description="The decision.")


@strawberry.type(description="A page of a case's written decisions, newest first.")
class RestrictionDecisionConnection:
    edges: list[RestrictionDecisionEdge] = strawberry.field(
        description="The decisions of this page."
    )
    page_info: PageInfo = strawberry.field(description="Where this page is in the list.")


def restriction_key(restriction: Restriction) -> PageKey:
    """Where a restriction sorts: the day it took effect, then its source and record id."""
    # ``since`` is a date; a cursor holds an aware time, so the day starts at midnight UTC.
    day = datetime.combine(restriction.since, time(), tzinfo=UTC)
    return day, f"{restriction.source}:{restriction.record_id}"


def restriction_connection(
    name: str, found: Sequence[tuple[PageKey, Restriction]], size: int, after: PageKey | None
) -> RestrictionConnection:
    """The page of ``size`` from ``found`` (read with one more, to know if more follow)."""
    edges, info = keyed_page(name, found, size, after)
    return RestrictionConnection(
        edges=[RestrictionEdge(cursor=c, node=r) for c, r in edges], page_info=info
    )


def decision_connection(
    name: str, found: Sequence[tuple[PageKey, DecisionRow]], size: int, after: PageKey | None
) -> RestrictionDecisionConnection:
    """The page of ``size`` from ``found`` (read with one more, to know if more follow)."""
    edges, info = keyed_page(name, found, size, after)
    return RestrictionDecisionConnection(
        edges=[
            RestrictionDecisionEdge(cursor=c, node=RestrictionDecision.from_row(row))
            for c, row in edges
        ],
        page_info=info,
    )
