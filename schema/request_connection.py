"""``AssistanceRequestConnection``: pages of assistance requests, newest first."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from strawberry.relay import PageInfo

from gateway.domain.assistance_rows import AssistanceRow
from gateway.store.keyset import PageKey
from schema.assistance_types import AssistanceRequest
from schema.pages import keyed_page

__all__ = ["AssistanceRequestConnection", "AssistanceRequestEdge", "request_connection"]


@strawberry.type(description="One assistance request in a page of them.")
class AssistanceRequestEdge:
    cursor: str = strawberry.field(description="Pass as `after` to page on from this request.")
    node: AssistanceRequest = strawberry.field(description="The assistance request.")


@strawberry.type(description="A page of assistance requests, newest first.")
class AssistanceRequestConnection:
    edges: list[AssistanceRequestEdge] = strawberry.field(description="The requests of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is in the list.")


def request_connection(
    name: str, found: Sequence[tuple[PageKey, AssistanceRow]], size: int, after: PageKey | None
) -> AssistanceRequestConnection:
    """The page of ``size`` from ``found`` (read with one more, to know if more follow)."""
    edges, info = keyed_page(name, found, size, after)
    return AssistanceRequestConnection(
        edges=[
            AssistanceRequestEdge(cursor=cursor, node=AssistanceRequest(row=row))
            for cursor, row in edges
        ],
        page_info=info,
    )
