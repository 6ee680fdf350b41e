"""``approvalInbox``: the assistance requests awaiting the caller's approval, court-wide.

A judge sees the pending requests of the cases they are the judge of; the enforcement
bureau head (role ``bureau_head``) those of every case of the court; nobody sees their own
requests here, since the maker never approves (``gateway/assistance/rules.py``). Other
roles are refused with ``FORBIDDEN``. Each case shown is on the request's audit record.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.relay import PageInfo
from strawberry.types import Info

from gateway.errors import Forbidden
from gateway.store.approval_inbox import awaiting_approval
from gateway.store.case_search import CaseScope
from resolvers.assistance import runtime
from resolvers.context import RequestContext
from schema.assistance_types import AssistanceRequest
from schema.pages import decode_cursor, encode_cursor, page_size

__all__ = ["ApprovalInboxQuery", "AssistanceRequestConnection", "AssistanceRequestEdge"]

_CONNECTION = "approvalInbox"


@strawberry.type(description="One assistance request in a page of them.")
class AssistanceRequestEdge:
    cursor: str = strawberry.field(description="Pass as `after` to page on from this request.")
    node: AssistanceRequest = strawberry.field(description="The assistance request.")


@strawberry.type(description="A page of assistance requests, newest first.")
class AssistanceRequestConnection:
    edges: list[AssistanceRequestEdge] = strawberry.field(description="The requests of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is in the list.")


@strawberry.type
class ApprovalInboxQuery:
    @strawberry.field(
        description="Requests awaiting your approval (PENDING_APPROVAL) across your court: "
        "those of the cases you judge, or every case of the court for the bureau head; "
        "newest first. Judges only."
    )
    async def approval_inbox(
        self,
        info: Info[RequestContext, None],
        first: Annotated[
            int | None, strawberry.argument(description="Page size: 1 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The `cursor` of the last request of the previous page."
            ),
        ] = None,
    ) -> AssistanceRequestConnection:
        ctx = info.context
        p = ctx.principal
        if "judge" not in p.roles:
            raise Forbidden("the approval inbox is a judge's", reason="role")
        size = page_size(first)
        key = decode_cursor(_CONNECTION, after)
        scope = CaseScope(officer_id=p.officer_id, court=p.court, roles=p.roles)
        found = await awaiting_approval(runtime(ctx).requests.engine, scope, key, size + 1)
        edges: list[AssistanceRequestEdge] = []
        for page_key, row in found[:size]:
            if row.case_number not in ctx.cases_requested:
                ctx.cases_requested.append(row.case_number)
            ctx.debtors_touched.add(row.debtor_id)
            cursor = encode_cursor(_CONNECTION, page_key)
            edges.append(AssistanceRequestEdge(cursor=cursor, node=AssistanceRequest(row=row)))
        return AssistanceRequestConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(found) > size,
                has_previous_page=key is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
