"""The persons behind an organisation, from market regulation's register, for a measure.

A consumption ban or a listing of an organisation records who it reaches (its legal
representative, executives and controlling shareholders, ``gateway.domain.org_persons``) so that
screening finds them; an exit ban for an organisation is placed on one of them. The
register is read through the request's DataLoaders like any other fact; if market
regulation cannot answer, the measure is not taken (its error says why), because a ban
recorded without its persons would let them pass screening.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from connectors.domain import Facet, OrganizationPerson
from gateway.assistance.effects import Actor
from gateway.domain.org_persons import BehindPerson
from gateway.masking import mask_id
from gateway.runtime.assistance import AssistanceRuntime
from gateway.store.cases import CaseRow
from resolvers.context import RequestContext
from resolvers.facts import load_all

__all__ = ["persons_behind", "record_persons_behind"]


async def persons_behind(
    ctx: RequestContext, organization_id: str, path: Sequence[str | int]
) -> tuple[OrganizationPerson, ...]:
    """Everyone market regulation's register names for the organisation."""
    facts = await load_all(ctx, Facet.ORGANIZATION_PERSONS, organization_id, path)
    return tuple(p for f in facts for p in cast(tuple[OrganizationPerson, ...], f.value))


async def record_persons_behind(
    rt: AssistanceRuntime,
    actor: Actor,
    case: CaseRow,
    organization_id: str,
    persons: Sequence[BehindPerson],
) -> None:
    """Keep the organisation's persons for screening, and put the step on the record."""
    if rt.persons is None:
        return
    stored = await rt.persons.record(organization_id, persons, rt.clock.now())
    await rt.effects.record(
        actor,
        "restriction.persons",
        case_number=case.number,
        debtor_id=organization_id,
        detail={
            "organization": organization_id,
            "persons": [{"id": mask_id(p.person_id), "role": str(p.role)} for p in stored],
        },
    )
