"""Federation entity references (``_entities``), under the same case-bound rule as root fields.

A router resolves our entities by key, and a key carries no ``caseNumber`` argument, so
each key says where the legal basis of the look-up comes from:

- ``Debtor {id caseNumber}``: exactly ``debtor(id:, caseNumber:)``: the principal may see
  the case and the debtor is a party to it. Routers that know the case should use this key.
- ``Debtor {id}``: the debtor must be a party to at least one case the principal may see
  (assigned officer or judge, a judge of its court, or the court's own system); the lowest
  such case number becomes the basis, so the answer is deterministic and the case is on
  the audit record like any other. No visible case: refused, as for a stranger's case.
- ``Case {number}``: exactly ``case(number:)``.

References arrive one by one but are authorised in batches: the cases named by all the
references of one request are read in one store query, and the cases of all id-only
debtors in another, through per-request DataLoaders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from connectors.domain import DebtorKind
from gateway import validation
from gateway.errors import Forbidden
from gateway.store import CaseRow, Store
from resolvers.access import authorized_case, may_see_case
from resolvers.context import RequestContext
from resolvers.loaders import StoreLoader

__all__ = ["EntityLoaders", "case_reference", "debtor_reference"]

_EXTRA_KEY = "entity_loaders"


class EntityLoaders:
    """The store look-ups of one request's entity references, batched."""

    def __init__(self, store: Store) -> None:
        async def cases(numbers: Sequence[str]) -> Mapping[str, Sequence[CaseRow]]:
            return {n: (row,) for n, row in (await store.get_cases(numbers)).items()}

        self.cases = StoreLoader(cases)
        self.debtor_cases = StoreLoader(store.cases_of_debtors)

    @staticmethod
    def of(ctx: RequestContext) -> EntityLoaders:
        """This request's loaders, made on first use."""
        found = ctx.extra.get(_EXTRA_KEY)
        if found is None:
            found = ctx.extra[_EXTRA_KEY] = EntityLoaders(ctx.store)
        return cast(EntityLoaders, found)


async def _visible(ctx: RequestContext, normalised: str) -> bool:
    rows = cast(Sequence[CaseRow], await EntityLoaders.of(ctx).cases.load(normalised))
    if not rows or not may_see_case(ctx, rows[0]):
        return False
    # Pre-authorised: authorized_case below finds it here instead of querying again.
    ctx.cases.setdefault(normalised, rows[0])
    return True


async def case_reference(ctx: RequestContext, number: str, field: str = "number") -> CaseRow:
    """The referenced case, if the principal may see it; ``Forbidden`` otherwise."""
    normalised = validation.case_number(number, field)
    await _visible(ctx, normalised)
    # authorized_case records the request and refuses exactly as the root fields do.
    return await authorized_case(ctx, normalised, field=field)


async def debtor_reference(
    ctx: RequestContext, debtor_id: str, case_number: str | None
) -> tuple[str, DebtorKind, CaseRow]:
    """The referenced debtor (id, kind) and the case that is the basis of the look-up."""
    key, kind = validation.debtor_id(debtor_id, "id")
    ctx.debtors_touched.add(key)
    if case_number is not None:
        case = await case_reference(ctx, case_number, field="caseNumber")
        if not case.has_debtor(key):
            raise Forbidden(f"the debtor is not a party to case {case.number}", field="id")
        return key, kind, case
    loaders = EntityLoaders.of(ctx)
    numbers = cast(Sequence[str], await loaders.debtor_cases.load(key))
    await loaders.cases.load_many(list(numbers))  # one batch for all of them
    for number in numbers:  # sorted: the lowest visible case is the basis
        if await _visible(ctx, number):
            return key, kind, await authorized_case(ctx, number)
    raise Forbidden("no access to this debtor through any of your cases", field="id")
