"""``approvalInbox``: the assistance requests awaiting the caller's approval, court-wide.

A judge sees the pending requests of the cases they are the judge of; the enforcement
bureau head (role ``bureau_head``) those of every case of the court; nobody sees their own
requests here, since the maker never approves (``gateway/assistance/rules.py``). Other
roles are refused with ``FORBIDDEN``. Each case shown is on the request's audit record.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.errors import Forbidden
from gateway.store.case_search import CaseScope
from gateway.store.request_pages import awaiting_approval
from resolvers.assistance import runtime
from resolvers.context import RequestContext
from schema.pages import decode_cursor, page_size
from schema.request_connection import AssistanceRequestConnection, request_connection

__all__ = ["ApprovalInboxQuery"]

_CONNECTION = "approvalInbox"


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
        for _, row in found[:size]:
            # Each case and debtor shown is on the request's audit record.
            if row.case_number not in ctx.cases_requested:
                ctx.cases_requested.append(row.case_number)
            ctx.debtors_touched.add(row.debtor_id)
        return request_connection(_CONNECTION, found, size, key)
