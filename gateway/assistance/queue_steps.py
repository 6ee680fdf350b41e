"""Queued seizures (轮候) that take effect: the lifecycle worker's look at QUEUED requests.

When the seizure ahead is lifted, a queued one takes effect by itself (查扣冻规定 art. 26)
and its term runs from that day: no new order is sent, so the agency never tells us. The
worker therefore asks the agency's own records (the asset look-up, which lists every
court's controls with their queue positions) every ``queue_check_s`` for each QUEUED
request. Found at the front, the request becomes COMPLETED with a ``TOOK_EFFECT`` event and
the agency's dates, and from then on counts in the controlled value and may be renewed;
found further up the line, its position is updated.

A QUEUED request is leased like a submitted one, so two workers never both settle it.
Each look is audited (``assistance.queue_check``) before the agency is asked; without a
durable record there is no look.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from connectors.base import Connector
from connectors.domain import Control, Facet
from gateway.assistance.effects import SYSTEM, AssistanceEffects
from gateway.clock import court_date
from gateway.domain.assistance_rows import row_from
from gateway.domain.assistance_status import AssistanceStatus, EventKind
from gateway.errors import AgencyError, AuditUnavailable
from gateway.settings import AssistanceSettings
from gateway.store.assistance import AssistanceRow, AssistanceStore
from gateway.store.assistance_tables import assistance_requests

__all__ = ["QueueWatch"]

log = logging.getLogger("liandong.worker")
R = assistance_requests.c


class QueueWatch:
    """Looks at QUEUED requests when due; part of one process's lifecycle worker."""

    def __init__(
        self,
        requests: AssistanceStore,
        connectors: Mapping[str, object],
        effects: AssistanceEffects,
        settings: AssistanceSettings,
        instance: str,
    ) -> None:
        self.requests = requests
        self.connectors = connectors
        self.effects = effects
        self.settings = settings
        self.instance = instance

    async def run_once(self, now: datetime) -> int:
        """Look at the QUEUED requests that are due; return how many took effect."""
        took = 0
        for row in await self._due(now):
            if not await self.requests.lease(
                row.id, AssistanceStatus.QUEUED, self.instance, now, self.settings.lease_s
            ):
                continue  # another worker is looking at it
            took += await self._look(row, now)
        return took

    async def _due(self, now: datetime) -> list[AssistanceRow]:
        free = or_(R.lease_until.is_(None), R.lease_until < now)
        due = or_(R.next_attempt_at.is_(None), R.next_attempt_at <= now)
        query = (
            select(assistance_requests)
            .where(
                R.status == str(AssistanceStatus.QUEUED),
                R.lifted_by.is_(None),
                # A queued seizure whose term ended before it took effect has lapsed.
                or_(R.until.is_(None), R.until >= court_date(now)),
                due,
                free,
            )
            .order_by(R.next_attempt_at, R.id)
            .limit(self.settings.batch)
        )
        async with self.requests.engine.connect() as conn:
            return [row_from(r._mapping) for r in await conn.execute(query)]

    async def _look(self, row: AssistanceRow, now: datetime) -> int:
        later: dict[str, object] = {
            "lease_owner": None,
            "lease_until": None,
            "next_attempt_at": now + timedelta(seconds=self.settings.queue_check_s),
        }
        try:
            # A look at a debtor's assets is on the record before it is made, like any other.
            await self.effects.record(
                SYSTEM,
                "assistance.queue_check",
                case_number=row.case_number,
                debtor_id=row.debtor_id,
                detail={"assistanceRequest": row.id, "agency": row.agency, "target": row.target},
            )
        except AuditUnavailable:
            await self.requests.release(row.id, self.instance, now, later)
            return 0
        control = await self._standing(row)
        if control is None or control.queue_position > 0:
            if control is not None:
                later["queue_position"] = control.queue_position
            await self.requests.release(row.id, self.instance, now, later)
            return 0
        moved = await self.requests.transition(
            row.id,
            [AssistanceStatus.QUEUED],
            AssistanceStatus.COMPLETED,
            EventKind.TOOK_EFFECT,
            actor=SYSTEM.officer_id,
            now=now,
            note=f"took effect on {control.since.isoformat()}: the seizure ahead was lifted",
            values={
                **later,
                "next_attempt_at": None,
                "queue_position": 0,
                "since": control.since,
                "until": control.until,
            },
            lease_owner=self.instance,
        )
        if moved is None:
            return 0
        self.effects.invalidate(moved)
        await self.effects.record_step(
            SYSTEM,
            "assistance.took_effect",
            moved,
            since=control.since.isoformat(),
            until=None if control.until is None else control.until.isoformat(),
        )
        await self.effects.publish(moved)
        return 1

    async def _standing(self, row: AssistanceRow) -> Control | None:
        """This case's control on the target as the agency records it now, if any."""
        connector = next(
            (
                c
                for c in self.connectors.values()
                if isinstance(c, Connector) and c.agency == row.agency
            ),
            None,
        )
        if connector is None or Facet.ASSETS not in connector.facets:
            return None
        try:
            (result,) = await connector.fetch(Facet.ASSETS, [row.debtor_id])
        except AgencyError as err:
            log.warning("queued request %s: %s", row.id, err.message)
            return None
        if isinstance(result, AgencyError) or not isinstance(result, tuple):
            return None
        for asset in result:
            if getattr(asset, "id", None) != row.target:
                continue
            for control in getattr(asset, "controls", ()):
                if isinstance(control, Control) and control.case_number == row.case_number:
                    return control
        return None
