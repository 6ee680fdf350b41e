"""Case-bound authorization: the legal basis of every look-up is a case.

A principal may look at a case if they are an officer assigned to it, a judge assigned to it
or sitting at its court, or the court's own system; they may look at a debtor only through a
case the debtor is a party to. Unknown cases and cases one may not see get the same answer,
so that case numbers cannot be probed.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.domain import DebtorKind
from gateway import validation
from gateway.auth import Principal
from gateway.debtor_handle import is_handle
from gateway.domain.parties import check_parties
from gateway.errors import Forbidden
from gateway.store.cases import CaseRow
from resolvers.context import RequestContext
from resolvers.handles import debtor_of_handle

__all__ = [
    "authorized_case",
    "authorized_debtors",
    "authorized_party",
    "may_see_case",
    "principal_may_see_case",
]


def may_see_case(ctx: RequestContext, case: CaseRow) -> bool:
    return principal_may_see_case(ctx.principal, case)


def principal_may_see_case(p: Principal, case: CaseRow) -> bool:
    """The case check itself: assigned officer or judge, a judge of its court, its court."""
    if "officer" in p.roles and p.officer_id in case.officer_ids:
        return True
    if "judge" in p.roles and (p.officer_id in case.judge_ids or p.court == case.court):
        return True
    return "court_system" in p.roles and p.court == case.court


async def authorized_case(ctx: RequestContext, number: str, field: str = "caseNumber") -> CaseRow:
    """The case, if the principal may act on it; ``Forbidden`` otherwise."""
    normalised = validation.case_number(number, field)
    if normalised not in ctx.cases_requested:
        ctx.cases_requested.append(normalised)
    cached = ctx.cases.get(normalised)
    if cached is not None:
        return cached
    case = await ctx.store.get_case(normalised)
    if case is None or not may_see_case(ctx, case):
        raise Forbidden(f"no access to case {normalised}", field=field)
    ctx.cases[normalised] = case
    return case


async def authorized_debtors(
    ctx: RequestContext,
    ids: Sequence[tuple[str, DebtorKind]],
    case_number: str,
    field: str = "ids",
) -> tuple[CaseRow, list[tuple[str, DebtorKind]]]:
    """The case and the requested debtors, all of whom must be parties to it."""
    # Asking is on the record even when it is refused: who tried to look at whom.
    ctx.debtors_touched.update(debtor_id for debtor_id, _kind in ids)
    case = await authorized_case(ctx, case_number)
    check_parties(case, [debtor_id for debtor_id, _kind in ids], field)
    return case, list(ids)


async def authorized_party(
    ctx: RequestContext,
    case_number: str,
    debtor_id: str,
    *,
    case_field: str = "caseNumber",
    debtor_field: str = "debtorId",
) -> tuple[CaseRow, tuple[str, DebtorKind]]:
    """The case and the validated debtor of a mutation, who must be a party to it.

    Checked before anything else is looked up, so a refused act reaches no agency.
    """
    case = await authorized_case(ctx, case_number, field=case_field)
    # A handle (what a caller without the unmask scope sees) names the debtor as well.
    debtor = (
        debtor_of_handle(ctx, debtor_id, case.number, debtor_field)
        if is_handle(debtor_id)
        else validation.debtor_id(debtor_id, debtor_field)
    )
    # On the record even when refused, as for look-ups.
    ctx.debtors_touched.add(debtor[0])
    check_parties(case, [debtor[0]], debtor_field)
    return case, debtor
