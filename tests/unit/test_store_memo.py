"""The store's memo of cases and restrictions: fewer reads, never a stale answer."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.domain import DebtorKind
from gateway.domain.case_values import CaseStatus
from gateway.store.cases import (
    CaseIn,
    RestrictionIn,
    RestrictionKind,
    RestrictionStatus,
    Store,
)
from gateway.store.memo import MISSING, VersionedMemo

NUMBERS = ["（2024）苏0312执1234号", "（2024）苏0312执9号", "（2023）京0105执77号"]
PEOPLE = ["11010119900307803X", "360426199101010071", "110101199003074578"]


def url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'liandong.db'}"


def case(number: str, officers: list[str], status: CaseStatus = CaseStatus.ACTIVE) -> CaseIn:
    return CaseIn(
        number=number,
        court="徐州市泉山区人民法院",
        applicant="江苏银行股份有限公司徐州分行",
        amount_due=Decimal("1000.00"),
        debtor_ids=[(PEOPLE[0], DebtorKind.PERSON)],
        officers=officers,
        status=status,
    )


def restriction(debtor: str, number: str) -> RestrictionIn:
    return RestrictionIn(
        debtor_id=debtor,
        kind=RestrictionKind.HIGH_CONSUMPTION_BAN,
        case_number=number,
        court="徐州市泉山区人民法院",
        since=date(2024, 4, 1),
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(url(tmp_path))
    try:
        yield s
    finally:
        await s.close()


def test_memo_forgets_on_a_new_version_and_drops_late_reads() -> None:
    memo: VersionedMemo[str, int] = VersionedMemo(maxsize=2)
    memo.at(1)
    memo.put(1, "a", 10)
    assert memo.get("a") == 10
    memo.at(2)
    assert memo.get("a") is MISSING
    memo.put(1, "a", 10)  # read under version 1, arriving after version 2 was seen
    assert memo.get("a") is MISSING
    for key in "abc":
        memo.put(2, key, 1)
    assert len(memo) == 2  # bounded
    assert (memo.hits, memo.misses) == (1, 2)


def test_memo_is_bounded_by_the_size_of_its_values() -> None:
    memo: VersionedMemo[str, tuple[int, ...]] = VersionedMemo(maxsize=10, size=len)
    memo.at(1)
    memo.put(1, "big", tuple(range(11)))  # more than the whole memo: not kept
    assert memo.get("big") is MISSING
    for key in "abcd":
        memo.put(1, key, (1, 2, 3))
    assert memo.size <= 10 and len(memo) == 3 and memo.get("a") is MISSING  # oldest gone


async def test_repeated_reads_reach_the_database_once(store: Store) -> None:
    assert store.reader is not None
    await store.upsert_case(case(NUMBERS[0], ["E-1"]))
    await store.add_restriction(restriction(PEOPLE[0], NUMBERS[0]))
    before = store.reader.reads
    for _ in range(5):
        row = await store.get_case(NUMBERS[0])
        assert row is not None and row.officer_ids == ("E-1",)
        assert await store.get_case(NUMBERS[1]) is None  # unknown numbers are remembered too
        got = await store.restrictions_of([PEOPLE[0], PEOPLE[1]])
        assert [r.debtor_id for r in got[PEOPLE[0]]] == [PEOPLE[0]] and got[PEOPLE[1]] == []
    assert store.reader.reads - before == 3  # one per case number, one for the restrictions
    # Callers get lists of their own: changing one does not change the memo.
    got[PEOPLE[0]].clear()
    assert len((await store.restrictions_of([PEOPLE[0]]))[PEOPLE[0]]) == 1


_OTHER_PROCESS = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE case_officers SET officer_id = 'E-9' WHERE officer_id = 'E-1'")
db.execute("UPDATE cases SET status = 'TERMINATED'")
db.execute("UPDATE restrictions SET status = 'LIFTED', lift_reason = 'paid'")
db.commit()
"""


async def test_a_commit_by_another_process_is_seen_at_once(store: Store, tmp_path: Path) -> None:
    await store.upsert_case(case(NUMBERS[0], ["E-1"]))
    await store.add_restriction(restriction(PEOPLE[0], NUMBERS[0]))
    assert (await store.get_case(NUMBERS[0])) is not None
    await store.restrictions_of([PEOPLE[0]])  # both now in the memo
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _OTHER_PROCESS, str(tmp_path / "liandong.db")
    )
    assert await proc.wait() == 0
    row = await store.get_case(NUMBERS[0])
    assert row is not None and row.officer_ids == ("E-9",) and row.status is CaseStatus.TERMINATED
    (lifted,) = (await store.restrictions_of([PEOPLE[0]]))[PEOPLE[0]]
    assert lifted.status is RestrictionStatus.LIFTED and lifted.lift_reason == "paid"


# One step: write through another store (its own connections), or read through both.
_steps = st.lists(
    st.one_of(
        st.tuples(st.just("case"), st.sampled_from(NUMBERS), st.sampled_from(["E-1", "E-2"])),
        st.tuples(st.just("close"), st.sampled_from(NUMBERS), st.just("")),
        st.tuples(st.just("restrict"), st.sampled_from(PEOPLE), st.sampled_from(NUMBERS)),
        st.tuples(st.just("lift"), st.sampled_from(PEOPLE), st.just("")),
        st.tuples(st.just("read"), st.just(""), st.just("")),
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None)
@given(steps=_steps)
async def test_reads_through_the_memo_equal_reads_without_it(
    steps: list[tuple[str, str, str]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        memoised = await Store.open(url(Path(directory)))
        writer = await Store.open(url(Path(directory)))
        plain = Store(memoised.engine)  # the same file through the async engine, no memo
        try:
            for kind, key, value in [*steps, ("read", "", "")]:
                if kind == "case":
                    await writer.upsert_case(case(key, [value]))
                elif kind == "close" and await writer.get_case(key) is not None:
                    await writer.upsert_case(case(key, ["E-1"], status=CaseStatus.TERMINATED))
                elif kind == "restrict" and await writer.get_case(value) is not None:
                    await writer.add_restriction(restriction(key, value))
                elif kind == "lift":
                    for row in (await writer.restrictions_of([key]))[key]:
                        await writer.lift_restriction(row.id, "履行完毕")
                elif kind == "read":
                    assert await memoised.get_cases(NUMBERS) == await plain.get_cases(NUMBERS)
                    assert await memoised.restrictions_of(PEOPLE) == await plain.restrictions_of(
                        PEOPLE
                    )
        finally:
            await writer.close()
            await memoised.close()
