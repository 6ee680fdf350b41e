from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from connectors.domain import DebtorKind
from gateway.domain.case_values import CaseStatus
from gateway.errors import InvalidInput
from gateway.store.cases import (
    CaseIn,
    RestrictionIn,
    RestrictionKind,
    RestrictionStatus,
    Store,
)
from gateway.store.tables import case_debtors

NUMBER = "（2024）苏0312执1234号"
PERSON = "11010119900307803X"
SPOUSE = "360426199101010071"
ORG = "91110000600037341L"


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A store on an empty database; parametrised over SQLite and PostgreSQL."""
    s = await Store.open(database_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'liandong.db'}")
    try:
        yield s
    finally:
        await s.close()


def case(**kw: object) -> CaseIn:
    values: dict[str, object] = {
        "number": "(2024)苏0312执1234号",
        "court": "徐州市泉山区人民法院",
        "applicant": "江苏银行股份有限公司徐州分行",
        "amount_due": Decimal("12345678901234.56"),
        "debtor_ids": [(PERSON, DebtorKind.PERSON), (ORG, DebtorKind.ORGANIZATION)],
        "officers": ["E-1", "E-2"],
        "judges": ["J-1"],
        "filed_on": date(2024, 3, 1),
    }
    values.update(kw)
    return CaseIn(**values)  # type: ignore[arg-type]


async def test_sqlite_open_creates_file_with_wal_and_foreign_keys(
    sqlite_store: Store, tmp_path: Path
) -> None:
    assert (tmp_path / "sub" / "liandong.db").exists()
    assert await sqlite_store.ping()
    async with sqlite_store.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_foreign_keys_are_enforced(store: Store) -> None:
    assert await store.ping()
    with pytest.raises(IntegrityError):
        async with store.engine.begin() as conn:
            await conn.execute(
                insert(case_debtors),
                {"case_number": "（2024）苏0312执9号", "debtor_id": PERSON, "kind": "PERSON"},
            )


async def test_upsert_and_get(store: Store) -> None:
    await store.upsert_case(case())
    row = await store.get_case(NUMBER)
    assert row is not None
    assert row.number == NUMBER  # normalised to full-width brackets
    assert row.court_code == "苏0312"
    assert row.amount_due == Decimal("12345678901234.56")  # exact, never a float
    assert isinstance(row.amount_due, Decimal)
    assert row.filed_on == date(2024, 3, 1)
    assert row.status == "ACTIVE"
    assert row.created_at.tzinfo is not None
    assert set(row.debtor_ids) == {(PERSON, DebtorKind.PERSON), (ORG, DebtorKind.ORGANIZATION)}
    assert row.officer_ids == ("E-1", "E-2")
    assert row.judge_ids == ("J-1",)
    assert row.has_debtor(PERSON) and not row.has_debtor(SPOUSE)
    assert row.is_assigned("J-1") and row.is_assigned("E-2") and not row.is_assigned("E-3")
    # any accepted spelling finds it
    assert await store.get_case("(2024)苏0312执1234号") == row
    assert await store.get_case("（2024）苏0312执9号") is None
    assert await store.get_case("not a case") is None


async def test_upsert_replaces_parties_and_keeps_created_at(store: Store) -> None:
    await store.upsert_case(case())
    first = await store.get_case(NUMBER)
    await store.upsert_case(
        case(
            amount_due=Decimal("0.10"),
            debtor_ids=[(SPOUSE, DebtorKind.PERSON)],
            officers=["E-3"],
            judges=[],
            status=CaseStatus.TERMINATED,
        )
    )
    row = await store.get_case(NUMBER)
    assert first is not None and row is not None
    assert row.created_at == first.created_at
    assert row.amount_due == Decimal("0.10")
    assert row.debtor_ids == ((SPOUSE, DebtorKind.PERSON),)
    assert (row.officer_ids, row.judge_ids, row.status) == (("E-3",), (), CaseStatus.TERMINATED)
    assert await store.cases_of_debtor(PERSON) == []


@pytest.mark.parametrize("amount", ["1.005", "-1.00", "NaN"])
async def test_amount_must_be_exact_cents(store: Store, amount: str) -> None:
    with pytest.raises(InvalidInput) as info:
        await store.upsert_case(case(amount_due=Decimal(amount)))
    assert info.value.field == "amountDue"


async def test_bad_case_number_rejected(store: Store) -> None:
    with pytest.raises(InvalidInput):
        await store.upsert_case(case(number="（2024）苏0312民1号"))


async def test_get_cases_batch(store: Store) -> None:
    numbers = [f"（2024）苏0312执{i}号" for i in range(1, 8)]
    for n in numbers:
        await store.upsert_case(case(number=n, debtor_ids=[(PERSON, DebtorKind.PERSON)]))
    asked = [*numbers[:3], "(2024)苏0312执4号", "（2024）苏0312执99号", "junk"]
    got = await store.get_cases(asked)
    assert set(got) == {*numbers[:3], "(2024)苏0312执4号"}
    assert got["(2024)苏0312执4号"].number == numbers[3]
    assert await store.cases_of_debtor(PERSON) == sorted(numbers)
    assert await store.get_cases([]) == {}


async def test_restrictions(store: Store) -> None:
    ban = await store.add_restriction(
        RestrictionIn(
            debtor_id=PERSON,
            kind=RestrictionKind.EXIT_BAN,
            case_number=NUMBER,
            court="徐州市泉山区人民法院",
            since=date(2024, 4, 1),
            ground="拒不履行",
        )
    )
    older = await store.add_restriction(
        RestrictionIn(
            debtor_id=PERSON,
            kind=RestrictionKind.DISHONEST_LIST,
            case_number="（2021）京0105执7号",  # another court's case: no foreign key
            court="北京市朝阳区人民法院",
            since=date(2021, 1, 5),
            until=date(2023, 1, 5),
            status=RestrictionStatus.LIFTED,
            lift_reason="履行完毕",
        )
    )
    await store.add_restriction(
        RestrictionIn(
            debtor_id=ORG,
            kind=RestrictionKind.HIGH_CONSUMPTION_BAN,
            case_number=NUMBER,
            court="徐州市泉山区人民法院",
            since=date(2024, 4, 2),
        )
    )
    assert len(ban.id) == 36 and ban.status is RestrictionStatus.ACTIVE
    got = await store.restrictions_of([PERSON, SPOUSE, PERSON])
    assert list(got) == [PERSON, SPOUSE]
    assert got[SPOUSE] == []
    assert got[PERSON] == [older, ban]  # oldest first, round-tripped exactly
    assert got[PERSON][0].kind is RestrictionKind.DISHONEST_LIST
    many = await store.restrictions_of([f"{i:018d}" for i in range(1200)] + [ORG])
    assert len(many) == 1201 and len(many[ORG]) == 1


async def test_ping_fails_for_unreachable_database(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}")
    store = Store(engine)
    assert not await store.ping()
    await store.close()
    # After a failed connect aiosqlite leaves its worker thread one last callback into this
    # loop; let the thread finish before the loop closes, or it raises in the next test.
    for _ in range(500):
        if not any("_connection_worker_thread" in t.name for t in threading.enumerate()):
            break
        await asyncio.sleep(0.01)


async def test_ping_fails_when_postgresql_is_gone() -> None:
    with socket.socket() as sock:  # a port nobody listens on once this socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = Store(create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x"))
    assert not await store.ping()
    await store.close()


async def test_money_and_times_round_trip_exactly(store: Store) -> None:
    # The largest amount NUMERIC(18, 2) holds, and the smallest non-zero one.
    await store.upsert_case(case(amount_due=Decimal("9999999999999999.99")))
    await store.upsert_case(case(number="（2024）苏0312执2号", amount_due=Decimal("0.01")))
    got = await store.get_cases([NUMBER, "（2024）苏0312执2号"])
    assert got[NUMBER].amount_due == Decimal("9999999999999999.99")
    assert str(got["（2024）苏0312执2号"].amount_due) == "0.01"
    created = got[NUMBER].created_at
    assert created.utcoffset() == timedelta(0)  # aware UTC on both backends
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)


async def test_concurrent_opens_create_the_tables_once(database_url: str) -> None:
    stores = await asyncio.gather(*(Store.open(database_url) for _ in range(4)))
    try:
        await stores[0].upsert_case(case())
        assert all([await s.get_case(NUMBER) is not None for s in stores])
    finally:
        for s in stores:
            await s.close()


async def test_cases_of_debtors_batch(store: Store) -> None:
    await store.upsert_case(case())
    await store.upsert_case(
        case(number="（2023）苏0312执9号", debtor_ids=[(ORG, DebtorKind.ORGANIZATION)])
    )
    got = await store.cases_of_debtors([PERSON, ORG, SPOUSE])
    assert got == {PERSON: [NUMBER], ORG: ["（2023）苏0312执9号", NUMBER], SPOUSE: []}


async def test_sqlite_reader_gives_what_the_async_engine_gives(sqlite_store: Store) -> None:
    # The hot reads go through the stdlib driver on a thread of their own; the rows,
    # converted by Core's own result processors, must equal the async engine's.
    assert sqlite_store.reader is not None
    await sqlite_store.upsert_case(case(filed_on=date(2024, 3, 1)))
    await sqlite_store.upsert_case(case(number="(2024)苏0312执9号", debtor_ids=[]))
    await sqlite_store.add_restriction(
        RestrictionIn(
            debtor_id=PERSON,
            kind=RestrictionKind.DISHONEST_LIST,
            case_number=NUMBER,
            court="徐州市泉山区人民法院",
            since=date(2024, 4, 1),
            until=date(2026, 4, 1),
            ground="有履行能力而拒不履行",
            status=RestrictionStatus.LIFTED,
            lift_reason="履行完毕",
        )
    )
    plain = Store(sqlite_store.engine)  # same database, no reader
    numbers = [NUMBER, "（2024）苏0312执9号", "（2024）苏0312执8号"]
    via_reader = await sqlite_store.get_cases(numbers)
    assert set(via_reader) == set(numbers[:2])
    assert via_reader == await plain.get_cases(numbers)
    row = via_reader[NUMBER]
    assert row.amount_due == Decimal("12345678901234.56") and row.filed_on == date(2024, 3, 1)
    assert row.created_at.tzinfo is not None
    ids = [PERSON, ORG, SPOUSE]
    got = await sqlite_store.restrictions_of(ids)
    assert got == await plain.restrictions_of(ids)
    assert got[PERSON][0].status is RestrictionStatus.LIFTED and got[ORG] == []


async def test_sqlite_reader_sees_each_commit_at_once(sqlite_store: Store) -> None:
    # Writes stay on the async engine; a read that starts after a commit must see it.
    await sqlite_store.upsert_case(case())
    assert (await sqlite_store.get_case(NUMBER)) is not None
    for n in range(5):
        officers = [f"E-{n}"]
        await sqlite_store.upsert_case(case(officers=officers))
        row = await sqlite_store.get_case(NUMBER)
        assert row is not None and row.officer_ids == tuple(officers)
