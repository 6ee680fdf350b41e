"""Assistance requests in the store: one request per key, one winner per move, no gaps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.domain import DebtorKind
from gateway.domain.assistance_status import AssistanceStatus, EventKind
from gateway.domain.overseizure import check_guard, committed_value, controlled_value
from gateway.errors import Conflict, OverSeizure
from gateway.store.assistance import AssistanceStore, NewRequest
from gateway.store.assistance_tables import assistance_requests
from gateway.store.cases import CaseIn, Store

NUMBER = "（2024）苏0312执1234号"
PERSON = "11010119900307803X"
NOW = datetime(2026, 10, 31, 9, 0, tzinfo=UTC)


@pytest.fixture
async def requests(tmp_path: Path) -> AsyncIterator[AssistanceStore]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'liandong.db'}")
    await store.upsert_case(
        CaseIn(
            number=NUMBER,
            court="徐州市泉山区人民法院",
            applicant="某银行",
            amount_due=Decimal("100000.00"),
            debtor_ids=[(PERSON, DebtorKind.PERSON)],
        )
    )
    try:
        yield AssistanceStore(store.engine)
    finally:
        await store.close()


def new(
    key: str = "k1", target: str = "VIN1", value: str = "60000.00", fp: str = "f"
) -> NewRequest:
    return NewRequest(
        case_number=NUMBER,
        court="徐州市泉山区人民法院",
        debtor_id=PERSON,
        agency="public_security",
        action="SEIZE_VEHICLE",
        target=target,
        target_value=Decimal(value),
        amount=None,
        document_number="D1",
        since=date(2026, 10, 31),
        until=date(2028, 10, 31),
        renewal_of=None,
        idempotency_key=key,
        fingerprint=fp,
        requested_by="officer-1",
    )


async def test_twenty_concurrent_creates_store_one(requests: AssistanceStore) -> None:
    results = await asyncio.gather(*(requests.create(new(), NOW) for _ in range(20)))
    assert len({row.id for row, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(await requests.of_case(NUMBER)) == 1
    with pytest.raises(Conflict) as exc:
        await requests.create(new(fp="other"), NOW)
    assert exc.value.extensions["field"] == "input.idempotencyKey"


async def test_one_claimant_wins_and_the_timeline_has_no_gaps(requests: AssistanceStore) -> None:
    row, _ = await requests.create(new(), NOW)
    approved = await requests.transition(
        row.id,
        [AssistanceStatus.PENDING_APPROVAL],
        AssistanceStatus.APPROVED,
        EventKind.APPROVED,
        actor="judge-1",
        now=NOW,
    )
    assert approved is not None
    claims = await asyncio.gather(
        *(
            requests.transition(
                row.id,
                [AssistanceStatus.APPROVED],
                AssistanceStatus.SUBMITTED,
                EventKind.SUBMITTED,
                actor=f"worker-{i}",
                now=NOW,
                values={"lease_owner": f"worker-{i}", "lease_until": NOW + timedelta(seconds=30)},
            )
            for i in range(10)
        )
    )
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1
    events = await requests.events(row.id)
    assert [e.seq for e in events] == [1, 2, 3]
    assert [e.status for e in events] == [
        AssistanceStatus.PENDING_APPROVAL,
        AssistanceStatus.APPROVED,
        AssistanceStatus.SUBMITTED,
    ]
    assert await requests.lease(row.id, AssistanceStatus.SUBMITTED, "other", NOW, 30) is False
    owner = winners[0].lease_owner
    assert owner is not None
    assert await requests.lease(row.id, AssistanceStatus.SUBMITTED, owner, NOW, 30)


async def test_guard_counts_committed_value_under_the_case_lock(requests: AssistanceStore) -> None:
    def guard(_current: object, rows: list) -> None:  # type: ignore[type-arg]
        from connectors.control import ControlAction

        check_guard(
            ControlAction.SEIZE_VEHICLE,
            Decimal("100000.00"),
            rows,
            NOW.date(),
            override_reason=None,
        )

    await requests.create(new("a", "VIN1", "60000.00"), NOW, guard)
    await requests.create(new("b", "VIN2", "70000.00"), NOW, guard)  # 60,000 < 100,000: allowed
    with pytest.raises(OverSeizure):
        await requests.create(new("c", "VIN3", "1000.00"), NOW, guard)
    rows = await requests.of_case(NUMBER)
    assert committed_value(rows, NOW.date()) == Decimal("130000.00")
    assert controlled_value(rows, NOW.date()) == Decimal("0.00")  # nothing completed yet
    assert len(rows) == 2


async def test_overdue_is_noted_once_however_many_scans_race(requests: AssistanceStore) -> None:
    row, _ = await requests.create(new(), NOW)
    for to, kind in (
        (AssistanceStatus.APPROVED, EventKind.APPROVED),
        (AssistanceStatus.SUBMITTED, EventKind.SUBMITTED),
    ):
        moved = await requests.transition(row.id, [row.status, to], to, kind, actor="x", now=NOW)
        assert moved is not None
        row = moved
    marks = await asyncio.gather(
        *(
            requests.note(
                row.id,
                AssistanceStatus.SUBMITTED,
                EventKind.OVERDUE,
                actor=f"worker-{i}",
                now=NOW,
                values={"overdue": True},
                only_if=assistance_requests.c.overdue.is_(False),
            )
            for i in range(10)
        )
    )
    assert sum(m is not None for m in marks) == 1
    kinds = [e.kind for e in await requests.events(row.id)]
    assert kinds.count(EventKind.OVERDUE) == 1
