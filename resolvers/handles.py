"""Opening a debtor handle inside a request: which debtor it names, and for which case.

A handle carries no right of its own: whoever hands one back is checked like any other
look-up, and one made for another case is refused where it is opened.
"""

from __future__ import annotations

from connectors.domain import DebtorKind
from gateway import validation
from gateway.debtor_handle import DebtorHandles
from gateway.errors import Forbidden
from resolvers.context import RequestContext

__all__ = ["debtor_of_handle", "handles", "opened_handle", "same_case"]


def handles(ctx: RequestContext) -> DebtorHandles:
    """The gateway's handle codec (every running gateway has one)."""
    if ctx.handles is None:
        raise RuntimeError("no debtor handle key: the request context was not made by a gateway")
    return ctx.handles


def opened_handle(ctx: RequestContext, handle: object, field: str) -> tuple[str, str, DebtorKind]:
    """The case a handle was made for and the debtor it names (id, kind)."""
    # The debtor goes on the record before anything is refused: who tried to look at whom.
    handle_case, debtor_id = handles(ctx).open(handle, field)
    key, kind = validation.debtor_id(debtor_id, field)
    ctx.debtors_touched.add(key)
    return handle_case, key, kind


def same_case(handle_case: str, case_number: str, field: str) -> None:
    """``Forbidden`` unless the handle was made for ``case_number``."""
    if handle_case != case_number:
        raise Forbidden(f"the debtor handle is not one of case {case_number}", field=field)


def debtor_of_handle(
    ctx: RequestContext, handle: object, case_number: str, field: str
) -> tuple[str, DebtorKind]:
    """The debtor a handle names, if it was made for ``case_number`` (normalised)."""
    handle_case, key, kind = opened_handle(ctx, handle, field)
    same_case(handle_case, case_number, field)
    return key, kind
