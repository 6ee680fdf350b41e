"""The persons behind organisations under the court's measures, as last recorded.

When a consumption ban or a listing is imposed on an organisation, the persons it reaches
(``gateway.domain.org_persons``) are taken from market regulation's register and kept here, one
snapshot per organisation, replaced whole at each new measure. The screening index answers
from memory, so it is told of each committed snapshot (``PersonsListener``), like it is of
restriction writes; instances sharing a database hear of it over the event bus
(``gateway.screening.sync``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import Column, PrimaryKeyConstraint, String, Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain.org_persons import BehindPerson, BehindRole
from gateway.store.tables import UtcDateTime, metadata

__all__ = ["OrganizationPersons", "PersonsListener", "organization_persons"]

organization_persons = Table(
    "organization_persons",
    metadata,
    Column("organization_id", String(18), nullable=False),
    Column("person_id", String(18), nullable=False),
    Column("role", String(32), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("organization_id", "person_id"),
)

_CHUNK = 500


class PersonsListener(Protocol):
    """Told about every committed snapshot, after the commit."""

    def on_persons_changed(self, organization_id: str, persons: tuple[BehindPerson, ...]) -> None:
        """``persons`` now stand behind ``organization_id`` (empty: nobody)."""
        ...


class OrganizationPersons:
    """Read and replace the snapshots; tell the listeners after each commit."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._listeners: list[PersonsListener] = []

    def add_listener(self, listener: PersonsListener) -> None:
        """Call ``listener`` after every committed snapshot."""
        self._listeners.append(listener)

    def remove_listener(self, listener: PersonsListener) -> None:
        """Stop calling ``listener``; unknown listeners are ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def record(
        self, organization_id: str, persons: Sequence[BehindPerson], now: datetime
    ) -> tuple[BehindPerson, ...]:
        """Replace the organisation's snapshot with ``persons``; returns it as stored."""
        stored = tuple(sorted(set(persons)))
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(organization_persons).where(
                    organization_persons.c.organization_id == organization_id
                )
            )
            if stored:
                await conn.execute(
                    insert(organization_persons),
                    [
                        {
                            "organization_id": organization_id,
                            "person_id": p.person_id,
                            "role": str(p.role),
                            "recorded_at": now,
                        }
                        for p in stored
                    ],
                )
        for listener in tuple(self._listeners):
            listener.on_persons_changed(organization_id, stored)
        return stored

    async def of(self, organization_ids: Sequence[str]) -> Mapping[str, tuple[BehindPerson, ...]]:
        """The snapshot of each organisation asked for (``()`` where none is recorded)."""
        found: dict[str, list[BehindPerson]] = {k: [] for k in organization_ids}
        keys = list(found)
        async with self.engine.connect() as conn:
            for start in range(0, len(keys), _CHUNK):
                rows = await conn.execute(
                    select(organization_persons).where(
                        organization_persons.c.organization_id.in_(keys[start : start + _CHUNK])
                    )
                )
                for row in rows:
                    found[row.organization_id].append(
                        BehindPerson(row.person_id, BehindRole(row.role))
                    )
        return {k: tuple(sorted(v)) for k, v in found.items()}

    async def everything(self) -> Mapping[str, tuple[BehindPerson, ...]]:
        """Every snapshot (for loading the screening index)."""
        found: dict[str, list[BehindPerson]] = {}
        async with self.engine.connect() as conn:
            for row in await conn.execute(select(organization_persons)):
                found.setdefault(row.organization_id, []).append(
                    BehindPerson(row.person_id, BehindRole(row.role))
                )
        return {k: tuple(sorted(v)) for k, v in found.items()}
