"""Lapse warnings and case costs in the store, on SQLite and on PostgreSQL.

The SQL behind ``lapsingControls`` and the once-only ``LAPSING`` event (``NOT EXISTS`` over
renewals and events) and the costs' upsert run on both backends; two racing scans warn once.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from connectors.domain import DebtorKind
from gateway.assistance.effects import AssistanceEffects
from gateway.assistance.lapse_steps import lapsing_controls, notice_lapsing
from gateway.audit.log import AuditEntry
from gateway.clock import ManualClock
from gateway.domain.assistance_status import AssistanceStatus, EventKind
from gateway.events.bus import LocalEventBus
from gateway.store.assistance import AssistanceStore, NewRequest
from gateway.store.case_costs import CaseCosts, costs_of, set_costs
from gateway.store.cases import CaseIn, Store
from resolvers.cache import FactCache

NUMBER = "（2026）苏0312执77号"
PERSON = "11010119900307803X"
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


class RecordedAudit:
    """An audit sink that keeps what it is given (the real log is tested elsewhere)."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    @property
    def healthy(self) -> bool:
        return True

    async def append(self, entry: AuditEntry) -> int:
        self.entries.append(entry)
        return len(self.entries)

    async def aclose(self) -> None:
        return None


def order(key: str, until: date, renewal_of: str | None = None) -> NewRequest:
    return NewRequest(
        case_number=NUMBER,
        court="徐州市泉山区人民法院",
        debtor_id=PERSON,
        agency="public_security",
        action="SEIZE_VEHICLE",
        target=f"VIN-{key}" if renewal_of is None else "VIN-c",
        target_value=Decimal("30000.00"),
        amount=None,
        document_number=key,
        since=date(2026, 3, 1),
        until=until,
        renewal_of=renewal_of,
        idempotency_key=key,
        fingerprint=key,
        requested_by="officer-1",
    )


async def completed(requests: AssistanceStore, new: NewRequest) -> str:
    row, _ = await requests.create(new, NOW)
    moved = await requests.transition(
        row.id,
        [AssistanceStatus.PENDING_APPROVAL],
        AssistanceStatus.COMPLETED,
        EventKind.COMPLETED,
        actor="system:lifecycle",
        now=NOW,
    )
    assert moved is not None
    return row.id


async def test_lapsing_controls_are_listed_and_warned_of_once(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        await store.upsert_case(
            CaseIn(
                number=NUMBER,
                court="徐州市泉山区人民法院",
                applicant="某银行",
                amount_due=Decimal("20000.00"),
                debtor_ids=[(PERSON, DebtorKind.PERSON)],
            )
        )
        requests = AssistanceStore(store.engine)
        soon = await completed(requests, order("a", TODAY + timedelta(days=10)))
        await completed(requests, order("b", TODAY + timedelta(days=100)))
        renewed = await completed(requests, order("c", TODAY + timedelta(days=5)))
        await requests.create(order("r", TODAY + timedelta(days=700), renewal_of=renewed), NOW)
        await completed(requests, order("d", TODAY - timedelta(days=1)))  # lapsed already

        listed = await lapsing_controls(store.engine, TODAY, 30, case_number=NUMBER)
        assert [r.id for r in listed] == [soon]

        audit = RecordedAudit()
        clock = ManualClock(NOW)
        effects = AssistanceEffects(
            audit, LocalEventBus(), FactCache(max_entries=10, ttl_s={}), clock
        )
        warned = await asyncio.gather(
            *(notice_lapsing(requests, effects, NOW, 30, 20) for _ in range(4))
        )
        assert sum(warned) == 1
        kinds = [e.kind for e in await requests.events(soon)]
        assert kinds.count(EventKind.LAPSING) == 1
        assert [e.operation for e in audit.entries] == ["assistance.lapsing"]
        assert await notice_lapsing(requests, effects, NOW, 30, 20) == 0
        # Still listed for the officer until renewed or lapsed; warned no more.
        listed = await lapsing_controls(store.engine, TODAY, 30, unwarned_only=True)
        assert listed == []
        assert [r.id for r in await lapsing_controls(store.engine, TODAY, 30)] == [soon]

        assert await costs_of(store.engine, NUMBER) == CaseCosts()
        costs = CaseCosts(Decimal("5000.00"), Decimal("3000.00"))
        await set_costs(store.engine, NUMBER, costs, by="judge-1", now=NOW)
        await set_costs(
            store.engine, NUMBER, replace(costs, late_interest=Decimal("3100.50")), by="j", now=NOW
        )
        stated = await costs_of(store.engine, NUMBER)
        assert stated.owed(Decimal("20000.00")) == Decimal("28100.50")
    finally:
        await store.close()
