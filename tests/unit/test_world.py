"""Tests for ``mocks.world``: valid identifiers, determinism, consistency, scale."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import re
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from mocks import world_pools as wp
from mocks.records import ControlRecord, PropertyRecord, VehicleRecord
from mocks.world import AS_OF, World

ROOT = Path(__file__).resolve().parents[2]
CASE_NUMBER = re.compile(r"^（(\d{4})）[京沪苏浙粤鲁豫鄂川皖]\d{2}(\d{2})?执\d{1,4}号$")
CERTIFICATE = re.compile(r"^[京沪苏浙粤鲁豫鄂川皖]\((\d{4})\)\w+?[市区]不动产权第\d{7}号$")
PLATE = re.compile(r"^[京沪苏浙粤鲁豫鄂川皖][A-HJ-NP-Z][A-HJ-NP-Z0-9]\d{4}$")
WMIS = {m.wmi for m in wp.VEHICLE_MODELS}


@pytest.fixture(scope="module")
def world() -> World:
    """The demo-sized world; tests that mutate build their own."""
    return World(seed=7, people=1000)


def everyone(w: World) -> list[str]:
    return [*w.person_ids(), *w.company_codes()]


def all_properties(w: World) -> dict[str, PropertyRecord]:
    return {p.certificate_no: p for o in everyone(w) for p in w.properties_of(o)}


def all_vehicles(w: World) -> dict[str, VehicleRecord]:
    return {v.vin: v for o in everyone(w) for v in w.vehicles_of(o)}


def digest(w: World, order: int = 1) -> str:
    """A hash of everything the world serves, visiting persons in ``order`` (1 or -1)."""
    parts: dict[str, str] = {}
    for pid in w.person_ids()[::order]:
        found = (
            w.person(pid),
            w.marriage(pid),
            w.roles_of(pid),
            w.properties_of(pid),
            w.vehicles_of(pid),
            w.exit_bans_of(pid),
        )
        parts[pid] = repr(found)
    for code in w.company_codes()[::order]:
        parts[code] = repr((w.company(code), w.properties_of(code), w.vehicles_of(code)))
    text = "".join(parts[k] for k in sorted(parts)) + repr(w.cases(20))
    return hashlib.sha256(text.encode()).hexdigest()


def vin_check(vin: str) -> str:
    """ISO 3779 check digit, written independently of ``world_pools``."""
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    values = dict(zip(letters, [*range(1, 9), 1, 2, 3, 4, 5, 7, 9, *range(2, 10)], strict=True))
    weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    total = sum(
        (int(c) if c.isdigit() else values[c]) * w for c, w in zip(vin, weights, strict=True)
    )
    return "X" if total % 11 == 10 else str(total % 11)


def assert_showcase(w: World) -> None:
    sid = w.showcase_id()
    assert w.person(sid) is not None and w.person(sid).status == "NORMAL"  # type: ignore[union-attr]
    marriage = w.marriage(sid)
    assert marriage is not None and marriage.status == "MARRIED"
    assert marriage.spouse_id is not None and w.person(marriage.spouse_id) is not None
    first_case_court = w.cases(1)[0].court
    assert any(
        p.mortgages
        and any(s.queue_position == 0 and s.court != first_case_court for s in p.seizures)
        for p in w.properties_of(sid)
    )
    assert w.vehicles_of(sid)
    assert any(r.role == "SHAREHOLDER" for r in w.roles_of(sid))
    assert any(b.status == "ACTIVE" for b in w.exit_bans_of(sid))
    assert w.cases(3)[0].debtor_ids[0] == sid


# -- identifiers ----------------------------------------------------------------------------


def test_resident_ids_are_valid_unique_and_match_the_person(world: World) -> None:
    ids = world.person_ids()
    assert len(ids) == 1000 and len(set(ids)) == 1000
    for pid in ids:
        assert ric.is_valid(pid), pid
        person = world.person(pid)
        assert person is not None and person.id == pid
        assert person.birth_date == ric.get_birth_date(pid)
        assert person.sex == ("M" if int(pid[16]) % 2 else "F")
        assert person.birth_date <= AS_OF.replace(year=AS_OF.year - 18)


def test_credit_codes_are_valid_and_unique(world: World) -> None:
    codes = world.company_codes()
    assert len(codes) == 100 and len(set(codes)) == 100
    for code in codes:
        assert uscc.is_valid(code), code
        assert code.startswith("91")
        company = world.company(code)
        assert company is not None and company.code == code
        assert company.name.endswith("有限公司")
        assert world.person(company.legal_representative_id) is not None


def test_vins_and_plates_are_plausible(world: World) -> None:
    assert vin_check("1M8GDM9AXKP042788") == "X"  # the textbook example
    vehicles = all_vehicles(world)
    assert len(vehicles) > 300
    for vin, vehicle in vehicles.items():
        assert len(vin) == 17 and not set(vin) & set("IOQ")
        assert vin[8] == vin_check(vin) and vin[:3] in WMIS
        assert PLATE.match(vehicle.plate), vehicle.plate
    assert len({v.plate for v in vehicles.values()}) == len(vehicles)


def test_unknown_keys_give_nothing(world: World) -> None:
    assert world.person("110101199003071234") is None
    assert world.marriage("110101199003071234") is None
    assert world.company("91320300MA1XXXXXXX") is None
    assert world.properties_of("nobody") == [] and world.vehicles_of("nobody") == []
    assert world.roles_of("nobody") == [] and world.exit_bans_of("nobody") == []
    assert world.property("苏(2021)徐州市不动产权第0012345号") is None
    assert world.property("garbage") is None
    assert world.vehicle("LSVAU2180N2183459") is None and world.vehicle("short") is None


def test_too_small_a_world_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 10"):
        World(people=9)


# -- determinism ------------------------------------------------------------------------------


def test_same_inputs_give_identical_worlds_in_any_access_order() -> None:
    assert digest(World(11, 300)) == digest(World(11, 300), order=-1)
    assert digest(World(11, 300)) != digest(World(12, 300))


def test_same_inputs_give_identical_worlds_across_processes() -> None:
    code = "from tests.unit.test_world import digest; from mocks.world import World; "
    code += "print(digest(World(11, 300)))"
    outputs = set()
    for hashseed in ("1", "2"):  # str hashes differ between these two processes
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout.strip())
    assert outputs == {digest(World(11, 300))}


# -- consistency --------------------------------------------------------------------------------


def test_marriages_are_symmetric(world: World) -> None:
    statuses: Counter[str] = Counter()
    for pid in world.person_ids():
        m = world.marriage(pid)
        assert m is not None and m.id == pid
        statuses[m.status] += 1
        if m.status == "SINGLE":
            assert (m.spouse_id, m.spouse_name, m.registered_on, m.office) == (None,) * 4
        elif m.status == "MARRIED":
            assert m.spouse_id is not None
            other = world.marriage(m.spouse_id)
            spouse = world.person(m.spouse_id)
            assert other is not None and spouse is not None
            assert other.spouse_id == pid and other.status == "MARRIED"
            assert (other.registered_on, other.office) == (m.registered_on, m.office)
            assert m.spouse_name == spouse.name
            assert other.spouse_name == world.person(pid).name  # type: ignore[union-attr]
            assert spouse.sex != world.person(pid).sex  # type: ignore[union-attr]
            assert spouse.status == "NORMAL"
            assert m.registered_on is not None and m.registered_on <= AS_OF
        else:
            assert m.spouse_id is None and m.spouse_name and m.registered_on and m.office
    assert statuses["MARRIED"] % 2 == 0


def test_co_owned_property_appears_for_every_owner(world: World) -> None:
    properties = all_properties(world)
    co_owned = [p for p in properties.values() if len(p.owner_ids) > 1]
    assert co_owned
    for prop in properties.values():
        for owner in prop.owner_ids:
            assert prop in world.properties_of(owner)
    for prop in co_owned:
        main, other = prop.owner_ids
        assert world.marriage(main).spouse_id == other  # type: ignore[union-attr]


def test_property_and_vehicle_lookups_return_the_same_records(world: World) -> None:
    for cert, prop in all_properties(world).items():
        assert CERTIFICATE.match(cert), cert
        assert world.property(cert) is prop
    for vin, vehicle in all_vehicles(world).items():
        assert world.vehicle(vin) is vehicle
        assert vehicle in world.vehicles_of(vehicle.owner_id)


def test_companies_have_consistent_roles_and_ratios_summing_to_one(world: World) -> None:
    by_company: dict[str, list[tuple[str, str, Decimal | None]]] = {}
    for pid in world.person_ids():
        for role in world.roles_of(pid):
            assert role.person_id == pid
            by_company.setdefault(role.company_code, []).append((role.role, pid, role.share_ratio))
            if role.role == "SHAREHOLDER":
                assert role.subscribed_capital is not None and role.estimated_value is not None
            else:
                assert role.share_ratio is None and not role.freezes
    assert set(by_company) == set(world.company_codes())
    for code, roles in by_company.items():
        company = world.company(code)
        assert company is not None
        legal = [pid for kind, pid, _ in roles if kind == "LEGAL_REPRESENTATIVE"]
        ratios = [r for kind, _, r in roles if kind == "SHAREHOLDER"]
        executives = [pid for kind, pid, _ in roles if kind == "EXECUTIVE"]
        assert legal == [company.legal_representative_id]
        assert 1 <= len(ratios) <= 4 and len(executives) <= 2
        assert sum(r for r in ratios if r is not None) == Decimal(1)
        assert all(r is not None and r > 0 and r.as_tuple().exponent == -4 for r in ratios)


def test_money_has_two_places_and_realistic_magnitudes(world: World) -> None:
    amounts: list[Decimal | None] = []
    for prop in all_properties(world).values():
        amounts += [prop.assessed_value, *(m.amount for m in prop.mortgages)]
        if prop.use == "住宅" and prop.assessed_value is not None:
            assert 500_000 <= prop.assessed_value <= 5_000_000
    for vehicle in all_vehicles(world).values():
        amounts.append(vehicle.estimated_value)
        if vehicle.estimated_value is not None:
            assert 30_000 <= vehicle.estimated_value <= 500_000
    for code in world.company_codes():
        amounts.append(world.company(code).registered_capital)  # type: ignore[union-attr]
    for pid in world.person_ids():
        amounts += [
            x for r in world.roles_of(pid) for x in (r.subscribed_capital, r.estimated_value)
        ]
    amounts += [case.amount_due for case in world.cases()]
    present = [a for a in amounts if a is not None]
    assert len(present) > 500
    assert all(a.as_tuple().exponent == -2 and a >= 0 for a in present)


def test_controls_and_bans_are_dated_consistently(world: World) -> None:
    controls: list[ControlRecord] = []
    for prop in all_properties(world).values():
        controls += prop.seizures
        positions = [s.queue_position for s in prop.seizures]
        assert positions == list(range(len(positions)))  # one effective, then the queue
    for vehicle in all_vehicles(world).values():
        controls += vehicle.seizures
        assert (vehicle.status == "SEIZED") == bool(vehicle.seizures)
    for pid in world.person_ids():
        controls += [f for r in world.roles_of(pid) for f in r.freezes]
        for ban in world.exit_bans_of(pid):
            assert CASE_NUMBER.match(ban.case_number) and ban.person_id == pid
            if ban.status == "LIFTED":
                assert ban.until is not None and ban.since < ban.until <= AS_OF
            else:
                assert ban.status == "ACTIVE" and (ban.until is None or ban.until > AS_OF)
    assert controls
    for control in controls:
        assert CASE_NUMBER.match(control.case_number), control.case_number
        assert control.court.endswith("人民法院")
        assert control.since <= AS_OF and (control.until is None or control.until > AS_OF)


def test_cases_are_deterministic_and_name_debtors_of_the_world(world: World) -> None:
    cases = world.cases(60)
    assert cases == world.cases(60) and len(cases) == 60
    assert cases[:10] == world.cases(10)
    assert cases[0].debtor_ids[0] == world.showcase_id()
    assert len({c.number for c in cases}) == 60
    kinds: Counter[str] = Counter()
    for case in cases:
        match = CASE_NUMBER.match(case.number)
        assert match and int(match.group(1)) == case.filed_on.year <= AS_OF.year
        assert case.court.endswith("人民法院") and case.applicant
        assert case.amount_due > 0 and 1 <= len(case.debtor_ids) <= 2
        for debtor in case.debtor_ids:
            assert world.person(debtor) is not None or world.company(debtor) is not None
            kinds["person" if world.person(debtor) else "company"] += 1
    assert kinds["person"] and kinds["company"]


def test_showcase_has_everything(world: World) -> None:
    assert_showcase(world)


def test_distribution_is_realistic() -> None:
    w = World(seed=3, people=5000)
    ids = w.person_ids()
    n = len(ids)
    marriages = Counter(w.marriage(p).status for p in ids)  # type: ignore[union-attr]
    statuses = Counter(w.person(p).status for p in ids)  # type: ignore[union-attr]
    assert 0.45 < marriages["MARRIED"] / n < 0.62
    assert 0.06 < marriages["DIVORCED"] / n < 0.14 and marriages["WIDOWED"]
    assert statuses["DECEASED"] and statuses["EMIGRATED"]
    assert 0.32 < sum(bool(w.properties_of(p)) for p in ids) / n < 0.48
    assert 0.28 < sum(bool(w.vehicles_of(p)) for p in ids) / n < 0.42
    assert 0.015 < sum(bool(w.exit_bans_of(p)) for p in ids) / n < 0.045
    bans = Counter(b.status for p in ids for b in w.exit_bans_of(p))
    assert bans["ACTIVE"] > bans["LIFTED"] > 0
    props = list(all_properties(w).values())
    assert 0.24 < sum(bool(p.mortgages) for p in props) / len(props) < 0.36
    assert 0.05 < sum(bool(p.seizures) for p in props) / len(props) < 0.11
    queued = {s.queue_position for p in props for s in p.seizures}
    assert {0, 1, 2} <= queued
    assert len(w.company_codes()) == n // 10
    assert any(w.properties_of(c) for c in w.company_codes())
    assert any(w.vehicles_of(c) for c in w.company_codes())
    assert any(r.freezes for p in ids for r in w.roles_of(p))


# -- mutations ------------------------------------------------------------------------------------


def test_added_and_replaced_properties_stick() -> None:
    w = World(seed=5, people=200)
    sid, code = w.showcase_id(), w.company_codes()[1]
    new = PropertyRecord(
        "苏(2025)徐州市不动产权第9999999号",
        [sid, code],
        "江苏省徐州市泉山区x",
        Decimal("90.00"),
        "住宅",
        Decimal("900000.00"),
    )
    w.add_property(new)
    assert w.property(new.certificate_no) is new
    assert new in w.properties_of(sid) and new in w.properties_of(code)
    # Replacing a generated property may move it to another owner.
    old = w.properties_of(sid)[0]
    other = w.person_ids()[7]
    moved = dataclasses.replace(old, owner_ids=[other], mortgages=[], seizures=[])
    w.add_property(moved)
    assert w.property(old.certificate_no) is moved
    assert moved in w.properties_of(other)
    assert all(p.certificate_no != old.certificate_no for p in w.properties_of(sid))
    # Mutating a served record is what later look-ups see.
    target = w.properties_of(sid)[0]
    target.seizures.append(ControlRecord("court", "（2026）苏0311执1号", AS_OF, None, 0))
    assert w.property(target.certificate_no).seizures[-1].case_number == "（2026）苏0311执1号"  # type: ignore[union-attr]


def test_added_and_replaced_vehicles_stick() -> None:
    w = World(seed=5, people=200)
    sid = w.showcase_id()
    head, tail = "LSVAU2180", "N2183459"
    vin = head[:8] + vin_check(head + tail) + tail
    new = VehicleRecord(sid, "苏C00001", vin, "大众朗逸", AS_OF, "NORMAL", Decimal("1.00"))
    w.add_vehicle(new)
    assert w.vehicle(vin) is new and new in w.vehicles_of(sid)
    old = w.vehicles_of(sid)[0]
    code = w.company_codes()[0]
    moved = dataclasses.replace(old, owner_id=code, seizures=[])
    w.add_vehicle(moved)
    assert w.vehicle(old.vin) is moved and moved in w.vehicles_of(code)
    assert old.vin not in {v.vin for v in w.vehicles_of(sid)}


# -- arbitrary seeds and indices -----------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), people=st.integers(10, 150))
def test_any_world_is_valid_and_has_a_showcase(seed: int, people: int) -> None:
    w = World(seed, people)
    assert_showcase(w)
    assert all(ric.is_valid(p) for p in w.person_ids())
    assert all(uscc.is_valid(c) for c in w.company_codes())
    for pid in w.person_ids():
        m = w.marriage(pid)
        if m is not None and m.spouse_id is not None:
            assert w.marriage(m.spouse_id).spouse_id == pid  # type: ignore[union-attr]
    for prop in all_properties(w).values():
        assert w.property(prop.certificate_no) is prop


@settings(max_examples=50, deadline=None)
@given(index=st.integers(0, 999))
def test_any_person_looks_the_same_from_a_fresh_world(world: World, index: int) -> None:
    pid = world.person_ids()[index]
    fresh = World(seed=7, people=1000)
    assert fresh.properties_of(pid) == world.properties_of(pid)
    assert fresh.vehicles_of(pid) == world.vehicles_of(pid)
    assert fresh.roles_of(pid) == world.roles_of(pid)
    assert fresh.marriage(pid) == world.marriage(pid) and fresh.person(pid) == world.person(pid)


# -- scale ----------------------------------------------------------------------------------------


def test_a_100k_world_builds_and_answers() -> None:
    w = World(seed=1, people=100_000)
    ids = w.person_ids()
    assert len(ids) == 100_000 and len(set(ids)) == 100_000
    assert len(w.company_codes()) == 10_000
    assert_showcase(w)
    rng = random.Random(0)
    for pid in [*rng.sample(list(ids), 300), ids[-1]]:
        assert ric.is_valid(pid) and w.person(pid) is not None
        for prop in w.properties_of(pid):
            assert w.property(prop.certificate_no) is prop
        for vehicle in w.vehicles_of(pid):
            assert w.vehicle(vehicle.vin) is vehicle
    code = w.company_codes()[-1]
    assert uscc.is_valid(code) and w.company(code) is not None
    assert len(w.cases(200)) == 200
