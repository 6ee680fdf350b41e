"""Debtor ids of one case checked one by one: a bad id fails alone, at its own index.

``debtors(ids:)`` answers per item: an id that is malformed, a handle of another case or a
debtor who is not a party comes back as its error (null at that index, the error's path and
``field`` naming it), and the other debtors still resolve. The case itself is the legal
basis of the whole call, so a case one may not see still refuses the whole field.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from connectors.domain import DebtorKind
from gateway import validation
from gateway.debtor_handle import is_handle
from gateway.domain.parties import check_parties, party_ids
from gateway.errors import LiandongError
from gateway.store.cases import CaseRow
from resolvers.context import RequestContext
from resolvers.handles import debtor_of_handle

__all__ = ["DebtorItem", "debtor_items"]

DebtorItem = tuple[str, DebtorKind] | LiandongError


def _one(
    ctx: RequestContext, case: CaseRow, parties: AbstractSet[str], value: str, field: str
) -> tuple[str, DebtorKind]:
    if is_handle(value):
        key, kind = debtor_of_handle(ctx, value, case.number, field)
    else:
        key, kind = validation.debtor_id(value, field)
    # Asking is on the record even when it is refused: who tried to look at whom.
    ctx.debtors_touched.add(key)
    check_parties(case, [key], field, parties=parties)
    return key, kind


def debtor_items(
    ctx: RequestContext, case: CaseRow, values: Sequence[str], field: str = "ids"
) -> list[DebtorItem]:
    """Each of ``values`` as ``(id, kind)`` of a party to ``case``, or the error it gets."""
    out: list[DebtorItem] = []
    parties = party_ids(case)  # once, not per debtor: a case may have hundreds
    for index, value in enumerate(values):
        name = field if field == "id" else f"{field}[{index}]"
        try:
            out.append(_one(ctx, case, parties, value, name))
        except LiandongError as exc:
            out.append(exc)
    return out
