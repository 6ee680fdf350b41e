"""A repeated idempotency key is answered from the store, before any agency is asked.

A request's target is checked against the agency's own records (``resolvers/assistance.py``)
before it is stored. A retry, a double click or a lost response repeats the client's key:
the service finds the request that key already names and takes its target from there, so
the agencies are not asked again; the store then compares the orders under the case lock
(the same key with a different order is a ``CONFLICT``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from gateway.assistance.rules import RequestSpec, TargetFacts
from gateway.store.assistance import AssistanceStore
from gateway.store.cases import CaseRow

__all__ = ["TargetLookup", "known_target", "target_of"]

# The target's id and what it is worth, looked up at the agency on the request's behalf.
TargetLookup = Callable[[], Awaitable[tuple[str, TargetFacts]]]


def known_target(target: str, facts: TargetFacts) -> TargetLookup:
    """A look-up of a target already known: no agency to ask."""

    async def look() -> tuple[str, TargetFacts]:
        return target, facts

    return look


async def target_of(
    requests: AssistanceStore, case: CaseRow, spec: RequestSpec, look: TargetLookup
) -> tuple[RequestSpec, TargetFacts]:
    """``spec`` with its target, and the target's facts: those of the request the client's
    key already names in this case if there is one, else what ``look`` finds."""
    key = (spec.idempotency_key or "").strip()
    known = await requests.by_key(key) if key else None
    if known is not None and known.case_number == case.number:
        target = known.target
        facts = TargetFacts(value=known.target_value, encumbrance=known.encumbrance)
    else:
        target, facts = await look()
    return dataclasses.replace(spec, target=target), facts
