"""Written decisions on court-side restrictions (决定书, 限制消费令), in the store's database.

A decision is recorded PENDING_SIGNOFF by the judge who makes it; signing it writes, in the
same transaction, the restriction it imposes (with the decision's id) and any restriction
that must follow it, so that a decision is never signed without its effect nor an effect
left without its decision. Listeners hear of the new restrictions after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select, update

from connectors.domain import DebtorKind
from gateway.domain.case_values import DecisionStatus, RestrictionKind, RestrictionStatus
from gateway.store.cases import RestrictionRow, Store
from gateway.store.tables import restriction_decisions, restrictions

__all__ = ["DecisionIn", "DecisionRow", "DecisionStore"]


@dataclass(frozen=True, slots=True)
class DecisionIn:
    """A decision as the deciding judge makes it."""

    case_number: str
    court: str
    debtor_id: str
    debtor_kind: DebtorKind
    kind: RestrictionKind
    grounds: str
    document_number: str
    decided_by: str
    since: date | None = None
    until: date | None = None
    extension_basis: str | None = None
    extension_reason: str | None = None
    follows: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """A stored decision."""

    id: str
    case_number: str
    court: str
    debtor_id: str
    debtor_kind: DebtorKind
    kind: RestrictionKind
    grounds: str
    since: date | None
    until: date | None
    extension_basis: str | None
    extension_reason: str | None
    document_number: str
    status: DecisionStatus
    decided_by: str
    signed_by: str | None
    signed_at: datetime | None
    follows: str | None
    created_at: datetime

    @classmethod
    def of(cls, m: Any) -> DecisionRow:
        return cls(
            **{
                **{name: m[name] for name in cls.__slots__},
                "debtor_kind": DebtorKind(m["debtor_kind"]),
                "kind": RestrictionKind(m["kind"]),
                "status": DecisionStatus(m["status"]),
            }
        )


def _values(row: DecisionRow | RestrictionRow) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(row, name) for name in type(row).__slots__}
    for name in ("kind", "status", "debtor_kind"):
        if name in values:
            values[name] = str(values[name])
    return values


class DecisionStore:
    """Decisions over the store's engine (portable Core, like the store itself)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, decision: DecisionIn, now: datetime) -> DecisionRow:
        """Record a decision awaiting the president's signature."""
        row = DecisionRow(
            id=str(uuid.uuid4()),
            **{name: getattr(decision, name) for name in DecisionIn.__slots__},
            status=DecisionStatus.PENDING_SIGNOFF,
            signed_by=None,
            signed_at=None,
            created_at=now,
        )
        async with self.store.engine.begin() as conn:
            await conn.execute(insert(restriction_decisions), _values(row))
        return row

    async def get(self, decision_id: str) -> DecisionRow | None:
        """The decision with this id, or None."""
        async with self.store.engine.connect() as conn:
            found = (
                await conn.execute(
                    select(restriction_decisions).where(restriction_decisions.c.id == decision_id)
                )
            ).first()
        return None if found is None else DecisionRow.of(found._mapping)

    async def of_case(self, case_number: str) -> list[DecisionRow]:
        """The case's decisions, oldest first."""
        async with self.store.engine.connect() as conn:
            result = await conn.execute(
                select(restriction_decisions).where(
                    restriction_decisions.c.case_number == case_number
                )
            )
            rows = [DecisionRow.of(r._mapping) for r in result]
        return sorted(rows, key=lambda r: (r.created_at, r.id))

    async def sign(
        self,
        decision: DecisionRow,
        signed_by: str,
        now: datetime,
        effects: Sequence[tuple[DecisionIn, RestrictionRow]],
        *,
        since: date,
        until: date | None,
    ) -> list[RestrictionRow] | None:
        """Sign ``decision`` and write its restriction plus ``effects`` (each a decision and
        the restriction it imposes at once, signed alongside).

        None if the decision was no longer pending (signed or withdrawn meanwhile).
        """
        main = RestrictionRow(
            id=decision.id,
            debtor_id=decision.debtor_id,
            kind=decision.kind,
            case_number=decision.case_number,
            court=decision.court,
            ground=decision.grounds,
            since=since,
            until=until,
            status=RestrictionStatus.ACTIVE,
            lift_reason=None,
            created_at=datetime.now(UTC),
        )
        written = [main]
        signed = {"status": str(DecisionStatus.SIGNED), "signed_by": signed_by, "signed_at": now}
        async with self.store.engine.begin() as conn:
            moved = await conn.execute(
                update(restriction_decisions)
                .where(restriction_decisions.c.id == decision.id)
                .where(restriction_decisions.c.status == str(DecisionStatus.PENDING_SIGNOFF))
                .values(since=since, until=until, **signed)
            )
            if moved.rowcount != 1:
                return None
            for follow, restriction in effects:
                made = DecisionRow(
                    id=restriction.id,
                    **{name: getattr(follow, name) for name in DecisionIn.__slots__},
                    status=DecisionStatus.SIGNED,
                    signed_by=signed_by,
                    signed_at=now,
                    created_at=now,
                )
                await conn.execute(insert(restriction_decisions), _values(made))
                written.append(replace(restriction, created_at=datetime.now(UTC)))
            await conn.execute(insert(restrictions), [_values(r) for r in written])
        for row in written:
            self.store.restriction_changed(row)
        return written

    async def withdraw(self, decision_id: str) -> bool:
        """Withdraw a pending decision (never signed); False if it was not pending."""
        async with self.store.engine.begin() as conn:
            moved = await conn.execute(
                update(restriction_decisions)
                .where(restriction_decisions.c.id == decision_id)
                .where(restriction_decisions.c.status == str(DecisionStatus.PENDING_SIGNOFF))
                .values(status=str(DecisionStatus.WITHDRAWN))
            )
        return bool(moved.rowcount == 1)
