"""The persons behind an organisation reach every instance's screening index."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

from gateway.domain.case_values import RestrictionKind
from gateway.domain.org_persons import BehindPerson, BehindRole
from gateway.events.redis_bus import RedisEventBus
from gateway.screening.index import ScreeningIndex
from gateway.screening.sync import ScreeningSync
from gateway.store.cases import RestrictionIn, Store
from gateway.store.org_persons import OrganizationPersons

ORG = "91320311MA1W7XK2XE"
PERSON = "110101199003074477"


async def test_a_snapshot_recorded_on_one_instance_screens_on_the_other(
    tmp_path: Path, redis_url: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    stores = [await Store.open(url), await Store.open(url)]
    buses = [RedisEventBus(redis_url), RedisEventBus(redis_url)]
    indexes = [ScreeningIndex(), ScreeningIndex()]
    syncs = [ScreeningSync(s, i, b) for s, i, b in zip(stores, indexes, buses, strict=True)]
    persons = [OrganizationPersons(s.engine) for s in stores]
    try:
        for store, index, bus, sync, snapshots in zip(
            stores, indexes, buses, syncs, persons, strict=True
        ):
            store.add_restriction_listener(index)
            store.add_restriction_listener(sync)
            snapshots.add_listener(index)
            snapshots.add_listener(sync)
            await bus.start()
            await sync.start()
        await stores[0].add_restriction(
            RestrictionIn(
                debtor_id=ORG,
                kind=RestrictionKind.HIGH_CONSUMPTION_BAN,
                case_number="（2025）苏0311执1号",
                court="江苏省徐州市泉山区人民法院",
                since=date(2025, 1, 1),
            )
        )
        legal = BehindPerson(PERSON, BehindRole.LEGAL_REPRESENTATIVE)
        await persons[0].record(ORG, (legal,), datetime(2026, 1, 1, tzinfo=UTC))
        assert [m.through for m in indexes[0].lookup(PERSON)] == [ORG]  # the writer: at once
        for _ in range(500):  # bounded by polls, not by a clock
            if indexes[1].lookup(PERSON):
                break
            await asyncio.sleep(0.01)
        assert [(m.through, m.role) for m in indexes[1].lookup(PERSON)] == [
            (ORG, "LEGAL_REPRESENTATIVE")
        ]
        await persons[1].record(ORG, (), datetime(2026, 2, 1, tzinfo=UTC))  # nobody any more
        for _ in range(500):
            if not indexes[0].lookup(PERSON):
                break
            await asyncio.sleep(0.01)
        assert indexes[0].lookup(PERSON) == ()
    finally:
        for store, bus, sync in zip(stores, buses, syncs, strict=True):
            await sync.aclose()
            await bus.aclose()
            await store.close()
