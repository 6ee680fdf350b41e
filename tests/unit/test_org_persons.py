"""Who a measure on an organisation reaches, and how the screening index answers for them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.domain import OrganizationPerson
from gateway.domain.org_persons import (
    BehindPerson,
    BehindRole,
    consumption_ban_persons,
    exit_ban_person,
)
from gateway.errors import InvalidInput
from gateway.screening.index import ScreeningIndex
from gateway.store.cases import (
    RestrictionIn,
    RestrictionKind,
    RestrictionRow,
    RestrictionStatus,
    Store,
)
from gateway.store.org_persons import OrganizationPersons
from mocks.world import World

WORLD = World(seed=7, people=60)
PEOPLE = list(WORLD.person_ids()[:8])
ORG, OTHER_ORG = WORLD.company_codes()[:2]
TODAY = date(2026, 6, 1)


def member(person: str, role: str, share: str | None = None) -> OrganizationPerson:
    return OrganizationPerson(
        company_code=ORG,
        person_id=person,
        name=None,
        role=role,
        share_ratio=None if share is None else Decimal(share),
    )


REGISTER = [
    member(PEOPLE[0], "LEGAL_REPRESENTATIVE"),
    member(PEOPLE[0], "SHAREHOLDER", "0.2000"),
    member(PEOPLE[1], "SHAREHOLDER", "0.5000"),  # exactly half: not controlling
    member(PEOPLE[2], "SHAREHOLDER", "0.3000"),
    member(PEOPLE[3], "EXECUTIVE"),
    member(PEOPLE[4], "SHAREHOLDER", "0.5001"),
    member(OTHER_ORG, "SHAREHOLDER", "0.9000"),  # a company: no person to restrict
]


def test_a_consumption_ban_reaches_representative_executives_and_controller() -> None:
    assert consumption_ban_persons(REGISTER) == tuple(
        sorted(
            [
                BehindPerson(PEOPLE[0], BehindRole.LEGAL_REPRESENTATIVE),
                BehindPerson(PEOPLE[3], BehindRole.EXECUTIVE),
                BehindPerson(PEOPLE[4], BehindRole.CONTROLLING_SHAREHOLDER),
            ]
        )
    )


@given(
    st.lists(
        st.tuples(
            st.sampled_from(PEOPLE),
            st.sampled_from(["LEGAL_REPRESENTATIVE", "EXECUTIVE", "SHAREHOLDER", "SUPERVISOR"]),
            st.decimals(min_value=0, max_value=1, places=4),
        ),
        max_size=12,
    )
)
def test_each_reached_person_once_under_the_strongest_capacity(
    rows: list[tuple[str, str, Decimal]],
) -> None:
    register = [member(p, r, str(s) if r == "SHAREHOLDER" else None) for p, r, s in rows]
    reached = consumption_ban_persons(register)
    assert len({p.person_id for p in reached}) == len(reached)
    for person in PEOPLE:
        capacities = set()
        for p, r, s in rows:
            if p != person:
                continue
            if r in ("LEGAL_REPRESENTATIVE", "EXECUTIVE"):
                capacities.add(BehindRole(r))
            elif r == "SHAREHOLDER" and s > Decimal("0.5"):
                capacities.add(BehindRole.CONTROLLING_SHAREHOLDER)
        got = [p.role for p in reached if p.person_id == person]
        assert got == ([min(capacities, key=list(BehindRole).index)] if capacities else [])


def test_an_exit_ban_goes_to_the_representative_or_a_named_executive() -> None:
    assert exit_ban_person(REGISTER, None).person_id == PEOPLE[0]
    assert exit_ban_person(REGISTER, PEOPLE[3]).role is BehindRole.EXECUTIVE
    for outsider in (PEOPLE[4], PEOPLE[2], PEOPLE[7]):  # controller, minority, stranger
        with pytest.raises(InvalidInput) as info:
            exit_ban_person(REGISTER, outsider)
        assert info.value.extensions["rule"] == "EXIT_BAN_ORGANIZATION_PERSON"
    with pytest.raises(InvalidInput, match="no legal representative"):
        exit_ban_person(REGISTER[1:], None)


# --- the screening index -----------------------------------------------------------------------


def ban(n: int, debtor: str, kind: RestrictionKind, **changes: object) -> RestrictionRow:
    values: dict[str, object] = {
        "id": f"r-{n}",
        "debtor_id": debtor,
        "kind": kind,
        "case_number": f"（2025）苏0311执{n}号",
        "court": "江苏省徐州市泉山区人民法院",
        "ground": None,
        "since": TODAY - timedelta(days=30),
        "until": None,
        "status": RestrictionStatus.ACTIVE,
        "lift_reason": None,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    values.update(changes)
    return RestrictionRow(**values)  # type: ignore[arg-type]


def test_persons_screen_with_the_organisations_consumption_bans_only() -> None:
    index = ScreeningIndex()
    legal = BehindPerson(PEOPLE[0], BehindRole.LEGAL_REPRESENTATIVE)
    index.on_persons_changed(ORG, (legal,))
    assert index.lookup(PEOPLE[0], TODAY) == ()  # nothing on the organisation yet
    index.apply(ban(1, ORG, RestrictionKind.DISHONEST_LIST), TODAY)
    assert index.lookup(PEOPLE[0], TODAY) == ()  # a listing names, but does not list, them
    consumption = ban(2, ORG, RestrictionKind.HIGH_CONSUMPTION_BAN)
    index.apply(consumption, TODAY)
    [measure] = index.lookup(PEOPLE[0], TODAY)
    assert measure.public()["through"] == {"organization": ORG, "role": "LEGAL_REPRESENTATIVE"}
    assert measure.restriction_id == "r-2"
    index.apply(ban(3, PEOPLE[0], RestrictionKind.EXIT_BAN), TODAY)  # own measures first
    assert [m.through for m in index.lookup(PEOPLE[0], TODAY)] == [None, ORG]
    # A new register replaces the old: the former representative is no longer reached.
    index.on_persons_changed(ORG, (BehindPerson(PEOPLE[3], BehindRole.EXECUTIVE),))
    assert [m.through for m in index.lookup(PEOPLE[0], TODAY)] == [None]
    assert [m.role for m in index.lookup(PEOPLE[3], TODAY)] == ["EXECUTIVE"]
    index.apply(ban(2, ORG, RestrictionKind.HIGH_CONSUMPTION_BAN, until=TODAY), TODAY)
    assert index.lookup(PEOPLE[3], TODAY + timedelta(days=1)) == ()  # lapsed with the ban
    lifted = ban(2, ORG, RestrictionKind.HIGH_CONSUMPTION_BAN, status=RestrictionStatus.LIFTED)
    index.apply(lifted, TODAY)
    assert index.lookup(PEOPLE[3], TODAY) == ()


async def test_snapshots_are_stored_loaded_and_told(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        live = ScreeningIndex()
        store.add_restriction_listener(live)
        persons = OrganizationPersons(store.engine)
        persons.add_listener(live)
        now = datetime(2026, 6, 1, tzinfo=UTC)
        first = (
            BehindPerson(PEOPLE[0], BehindRole.LEGAL_REPRESENTATIVE),
            BehindPerson(PEOPLE[1], BehindRole.EXECUTIVE),
        )
        await persons.record(ORG, first, now)
        await persons.record(ORG, first[1:], now)  # replaced whole
        await persons.record(OTHER_ORG, (first[0],), now)
        assert await persons.of([ORG, OTHER_ORG, PEOPLE[5]]) == {
            ORG: first[1:],
            OTHER_ORG: (first[0],),
            PEOPLE[5]: (),
        }
        await store.add_restriction(
            RestrictionIn(
                debtor_id=ORG,
                kind=RestrictionKind.HIGH_CONSUMPTION_BAN,
                case_number="（2025）苏0311执7号",
                court="江苏省徐州市泉山区人民法院",
                since=date(2025, 1, 1),
            )
        )
        loaded = await ScreeningIndex.load(store)
        for index in (live, loaded):
            assert [m.through for m in index.lookup(PEOPLE[1])] == [ORG]
            assert index.lookup(PEOPLE[0]) == ()  # behind OTHER_ORG, which has no ban
    finally:
        await store.close()
