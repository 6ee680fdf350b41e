"""The screening index against a naive model, the fast id check against the reference."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from gateway.errors import InvalidInput, NotFound
from gateway.screening.ids import screening_id
from gateway.screening.index import ScreeningIndex, court_today
from gateway.screening.run import Unreadable, screen_all
from gateway.store.cases import (
    RestrictionIn,
    RestrictionKind,
    RestrictionRow,
    RestrictionStatus,
    Store,
)
from gateway.validation import debtor_id
from mocks.world import World

TODAY = date(2026, 6, 1)
KINDS = list(RestrictionKind)
COURTS = ["江苏省徐州市泉山区人民法院", "北京市东城区人民法院"]
WORLD = World(seed=7, people=60)
PEOPLE = list(WORLD.person_ids()[:6])
ORGS = list(WORLD.company_codes()[:2])


def row(n: int, debtor: str, kind: RestrictionKind, until: date | None = None) -> RestrictionRow:
    return RestrictionRow(
        id=f"r-{n}",
        debtor_id=debtor,
        kind=kind,
        case_number=f"（2025）苏0311执{n + 1}号",
        court=COURTS[n % 2],
        ground=None,
        since=TODAY - timedelta(days=n % 50),
        until=until,
        status=RestrictionStatus.ACTIVE,
        lift_reason=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def listed(rows: dict[str, RestrictionRow], debtor: str, today: date) -> set[str]:
    """The naive model: ids of the debtor's active rows whose end date has not passed."""
    return {
        r.id
        for r in rows.values()
        if r.debtor_id == debtor
        and r.status is RestrictionStatus.ACTIVE
        and (r.until is None or r.until >= today)
    }


# An operation: impose (debtor, kind, until offset or None), lift an earlier row,
# re-apply an earlier row unchanged (a duplicate notification), or re-apply the version an
# earlier row was imposed with (a sync message whose read raced a later lift).
Op = tuple[str, int, RestrictionKind, int | None]
ops = st.lists(
    st.tuples(
        st.sampled_from(["impose", "impose", "lift", "repeat", "stale"]),
        st.integers(0, 100),
        st.sampled_from(KINDS),
        st.none() | st.integers(-3, 3),
    ),
    max_size=60,
)


@given(ops)
@settings(max_examples=300, deadline=None)
def test_random_impose_lift_sequences_match_the_naive_model(sequence: list[Op]) -> None:
    index = ScreeningIndex()
    rows: dict[str, RestrictionRow] = {}
    imposed: dict[str, RestrictionRow] = {}
    order: list[str] = []
    for action, which, kind, offset in sequence:
        if action == "impose":
            until = None if offset is None else TODAY + timedelta(days=offset)
            new = row(len(order), PEOPLE[which % len(PEOPLE)], kind, until)
            rows[new.id] = imposed[new.id] = new
            order.append(new.id)
            index.apply(new, TODAY)
        elif action == "stale" and order:
            index.apply(imposed[order[which % len(order)]], TODAY)
        elif order:
            target = rows[order[which % len(order)]]
            if action == "lift":
                target = replace(target, status=RestrictionStatus.LIFTED, lift_reason="paid")
                rows[target.id] = target
            index.apply(target, TODAY)
    for debtor in PEOPLE:
        got = index.lookup(debtor, TODAY)
        assert {m.restriction_id for m in got} == listed(rows, debtor, TODAY)
        assert [m.since for m in got] == sorted(m.since for m in got)
    assert index.entries == sum(len(listed(rows, d, TODAY)) for d in PEOPLE)
    assert len(index) == sum(1 for d in PEOPLE if listed(rows, d, TODAY))


def test_a_read_from_before_a_lift_does_not_list_the_debtor_again() -> None:
    index = ScreeningIndex()
    active = row(1, PEOPLE[0], RestrictionKind.HIGH_CONSUMPTION_BAN)
    index.apply(active, TODAY)
    index.apply(replace(active, status=RestrictionStatus.LIFTED, lift_reason="paid"), TODAY)
    index.apply(active, TODAY)  # the sync's read, made before the lift, applied after it
    assert index.lookup(PEOPLE[0], TODAY) == ()


def test_an_expired_end_date_stops_matching_without_any_write() -> None:
    index = ScreeningIndex()
    index.apply(row(1, PEOPLE[0], RestrictionKind.EXIT_BAN, until=TODAY), TODAY)
    assert index.lookup(PEOPLE[0], TODAY)
    assert index.lookup(PEOPLE[0], TODAY + timedelta(days=1)) == ()


def test_removal_is_idempotent_and_leaves_other_measures() -> None:
    index = ScreeningIndex()
    a, b = row(1, PEOPLE[0], KINDS[0]), row(2, PEOPLE[0], KINDS[1])
    index.add(a)
    index.add(b)
    index.add(a)  # the same restriction again replaces, never duplicates
    assert index.entries == 2
    index.remove(PEOPLE[0], a.id)
    index.remove(PEOPLE[0], a.id)
    index.remove(PEOPLE[1], a.id)
    assert [m.restriction_id for m in index.lookup(PEOPLE[0], TODAY)] == [b.id]
    index.lift(b)
    assert len(index) == 0 and index.lookup(PEOPLE[0], TODAY) == ()


def test_a_batch_shows_hits_once_under_the_first_spelling_and_rejects_bad_entries() -> None:
    index = ScreeningIndex()
    index.add(row(1, PEOPLE[0], RestrictionKind.DISHONEST_LIST))
    index.add(row(2, ORGS[0], RestrictionKind.HIGH_CONSUMPTION_BAN))
    spaced = f"{PEOPLE[0][:6]} {PEOPLE[0][6:14]} {PEOPLE[0][14:].lower()}"
    values: list[object] = [
        PEOPLE[1],
        spaced,
        "123",
        PEOPLE[0],
        ORGS[0],
        7,
        "x" * 100,
        Unreadable("not a JSON value"),
    ]
    outcome = screen_all(index, values)
    assert [(h.index, h.given) for h in outcome.hits] == [(1, spaced), (4, ORGS[0])]
    assert [(b.index, b.given) for b in outcome.invalid] == [
        (2, "123"),
        (5, None),
        (6, None),
        (7, None),
    ]
    assert outcome.invalid[0].error.field == "ids[2]"
    assert outcome.invalid[3].error.message == "ids[7]: not a JSON value"
    assert (outcome.checked, outcome.received) == (3, 8)
    # The digest covers the normalised ids, so spelling and order do not change it.
    again = screen_all(index, [ORGS[0], PEOPLE[0], PEOPLE[1]])
    assert again.ids_sha256 == outcome.ids_sha256
    assert outcome.hits[0].public() == {
        "id": spaced,
        "measures": [
            {
                "measure": "DISHONEST_LIST",
                "court": COURTS[1],
                "caseNumber": "（2025）苏0311执2号",
                "since": (TODAY - timedelta(days=1)).isoformat(),
            }
        ],
    }


def _mutations(value: str) -> st.SearchStrategy[str]:
    digits = st.integers(0, 17).flatmap(
        lambda i: st.sampled_from("0123456789XA -").map(lambda c: value[:i] + c + value[i + 1 :])
    )
    return st.one_of(st.just(value), digits, st.just(value.lower()), st.just(f" {value}-"))


def _with_check(region: str, born: date, sequence: int) -> str:
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


# Well-formed ids with a correct check digit: only the region code and the birth date can
# make them invalid, which is exactly what the fast path memoises.
checked_ids = st.builds(
    _with_check,
    st.sampled_from([p[:6] for p in PEOPLE]) | st.integers(100000, 999999).map(str),
    st.dates(date(1880, 1, 1), date.today() + timedelta(days=400)),
    st.integers(0, 999),
)

ids_and_noise = st.one_of(
    checked_ids,
    st.sampled_from(PEOPLE + ORGS).flatmap(_mutations),
    st.text(max_size=20),
    st.from_regex(r"\A[0-9]{17}[0-9X]\Z"),
)


@given(ids_and_noise)
@example("132733200001010001")  # stdnum lists the region without a county
@example(PEOPLE[0])
@settings(max_examples=300, deadline=None)
def test_the_fast_id_check_agrees_with_the_reference(value: str) -> None:
    try:
        expected: str | None = debtor_id(value, "ids[3]")[0]
        expected_error = None
    except InvalidInput as err:
        expected, expected_error = None, err.message
    except KeyError:
        # The reference crashes inside stdnum on region codes listed without a county.
        expected, expected_error = None, "ids[3]: resident ID number has an unknown region code"
    try:
        got: str | None = screening_id(value, "ids", 3)
        got_error = None
    except InvalidInput as err:
        got, got_error = None, err.message
    assert (got, got_error) == (expected, expected_error)


def test_court_today_is_a_date() -> None:
    assert abs((court_today() - date.today()).days) <= 1


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'liandong.db'}")
    try:
        yield s
    finally:
        await s.close()


async def test_store_writes_keep_a_listening_index_equal_to_a_fresh_load(store: Store) -> None:
    live = ScreeningIndex()
    store.add_restriction_listener(live)
    rng = random.Random(5)
    today = court_today()
    imposed: list[RestrictionRow] = []
    for n in range(120):
        if imposed and rng.random() < 0.35:
            target = imposed[rng.randrange(len(imposed))]
            lifted = await store.lift_restriction(target.id, "performed")
            assert lifted.status is RestrictionStatus.LIFTED
            continue
        until = rng.choice([None, None, today - timedelta(days=1), today + timedelta(days=9)])
        imposed.append(
            await store.add_restriction(
                RestrictionIn(
                    debtor_id=rng.choice(PEOPLE + ORGS),
                    kind=rng.choice(KINDS),
                    case_number=f"（2025）苏0311执{n + 1}号",
                    court=rng.choice(COURTS),
                    since=today - timedelta(days=rng.randrange(400)),
                    until=until,
                )
            )
        )
    fresh = await ScreeningIndex.load(store)
    for debtor in PEOPLE + ORGS:
        assert live.lookup(debtor) == fresh.lookup(debtor)
        stored = (await store.restrictions_of([debtor]))[debtor]
        expected = {r.id: r for r in stored}
        assert {m.restriction_id for m in fresh.lookup(debtor)} == listed(expected, debtor, today)
    assert live.entries == fresh.entries > 0
    store.remove_restriction_listener(live)
    store.remove_restriction_listener(live)  # unknown listeners are ignored


async def test_a_write_during_a_reload_is_not_lost(store: Store) -> None:
    first = await store.add_restriction(
        RestrictionIn(PEOPLE[0], KINDS[0], "（2025）苏0311执1号", COURTS[0], TODAY)
    )
    index = ScreeningIndex()
    store.add_restriction_listener(index)
    # Lift while the reload is under way: the lift must win over the snapshot's row.
    reload = index.reload(store)
    lifted_during = store.lift_restriction(first.id, "settled")
    await asyncio.gather(reload, lifted_during)
    assert index.lookup(PEOPLE[0]) == ()


async def test_lifting_an_unknown_restriction_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.lift_restriction("no-such-id", "x")
