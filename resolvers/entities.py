"""Federation entity references (``_entities``), under the same case-bound rule as root fields.

A query planner picks whichever resolvable key it likes, so every key we offer carries the
legal basis of the look-up, and none carries a personal number:

- ``Debtor {caseNumber handle}``: exactly ``debtor(id: handle, caseNumber:)``: the principal
  may see the case, the handle was made for that case, and the debtor is still a party to
  it. The handle is opaque (``gateway/debtor_handle.py``), so the key is the same with or
  without the ``unmask`` scope and other subgraphs join on it whatever the token.
- ``Case {number}``: exactly ``case(number:)``.

A reference that fails is refused for that entity only. Each reference is noted on the
request context (type, case asked, debtor, outcome) for the audit record: from our own
values, never from what the framework hands the resolver (``gateway/audit/entities.py``).
The cases named by all references of one request are read in one store query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from connectors.domain import DebtorKind
from gateway import validation
from gateway.audit.entities import EntityReference
from gateway.debtor_handle import is_handle
from gateway.domain.parties import check_parties
from gateway.errors import Forbidden, InvalidInput
from gateway.store.cases import CaseRow, Store
from resolvers.access import authorized_case, may_see_case
from resolvers.context import RequestContext
from resolvers.handles import debtor_of_handle, opened_handle, same_case
from resolvers.loaders import StoreLoader

__all__ = [
    "ENTITY_TYPES",
    "EntityLoaders",
    "case_reference",
    "debtor_ids_of",
    "debtor_reference",
    "note_reference",
]

ENTITY_TYPES = frozenset({"Debtor", "Case"})
_EXTRA_KEY = "entity_loaders"


class EntityLoaders:
    """The store look-ups of one request's entity references, batched."""

    def __init__(self, store: Store) -> None:
        async def cases(numbers: Sequence[str]) -> Mapping[str, Sequence[CaseRow]]:
            return {n: (row,) for n, row in (await store.get_cases(numbers)).items()}

        self.cases = StoreLoader(cases)

    @staticmethod
    def of(ctx: RequestContext) -> EntityLoaders:
        """This request's loaders, made on first use."""
        found = ctx.extra.get(_EXTRA_KEY)
        if found is None:
            found = ctx.extra[_EXTRA_KEY] = EntityLoaders(ctx.store)
        return cast(EntityLoaders, found)


def note_reference(ctx: RequestContext, index: int, reference: EntityReference) -> None:
    """Put what is known of representation ``index`` on the request's audit record."""
    ctx.entity_references[index] = reference


async def _visible(ctx: RequestContext, normalised: str) -> bool:
    rows = cast(Sequence[CaseRow], await EntityLoaders.of(ctx).cases.load(normalised))
    if not rows or not may_see_case(ctx, rows[0]):
        return False
    # Pre-authorised: authorized_case below finds it here instead of querying again.
    ctx.cases.setdefault(normalised, rows[0])
    return True


async def case_reference(ctx: RequestContext, number: object, field: str = "number") -> CaseRow:
    """The referenced case, if the principal may see it; ``Forbidden`` otherwise."""
    if not isinstance(number, str):
        raise InvalidInput(field, "a case reference needs the case number")
    normalised = validation.case_number(number, field)
    await _visible(ctx, normalised)
    # authorized_case records the request and refuses exactly as the root fields do.
    return await authorized_case(ctx, normalised, field=field)


def debtor_ids_of(
    ctx: RequestContext, values: Sequence[str], case_number: str, field: str = "ids"
) -> list[str]:
    """Root-field debtor ids as given, each handle among them replaced by its debtor's id.

    A handle made for another case than ``case_number`` is ``Forbidden``, with the case on
    the record as if it had been looked at.
    """
    if not any(is_handle(v) for v in values):
        return list(values)  # the usual case: personal numbers, validated by the caller
    normalised = validation.case_number(case_number)
    out: list[str] = []
    for index, value in enumerate(values):
        if not is_handle(value):
            out.append(value)
            continue
        try:
            name = field if field == "id" else f"{field}[{index}]"
            out.append(debtor_of_handle(ctx, value, normalised, name)[0])
        except Forbidden:
            if normalised not in ctx.cases_requested:
                ctx.cases_requested.append(normalised)
            raise
    return out


async def debtor_reference(
    ctx: RequestContext, index: int, case_number: object, handle: object
) -> tuple[str, DebtorKind, CaseRow]:
    """The debtor of a ``{caseNumber, handle}`` reference and the case that is its basis."""
    if not isinstance(case_number, str) or not isinstance(handle, str) or not is_handle(handle):
        # An id-only or id+case reference: such keys are no longer offered, because a
        # planner's choice of key must never decide the legal basis of a look-up.
        raise InvalidInput("representations", "a Debtor reference needs caseNumber and handle")
    normalised = validation.case_number(case_number, "caseNumber")
    note_reference(ctx, index, EntityReference("Debtor", case_number=normalised))
    handle_case, key, kind = opened_handle(ctx, handle, "handle")
    note_reference(ctx, index, EntityReference("Debtor", normalised, key))
    same_case(handle_case, normalised, "handle")
    case = await case_reference(ctx, normalised, field="caseNumber")
    check_parties(case, [key], "handle")
    return key, kind, case
