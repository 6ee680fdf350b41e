"""The legal limits on controls and listings, each refusal naming its rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.control import ControlAction
from gateway.errors import InvalidInput
from gateway.legal import (
    PriorControl,
    add_years,
    age_on,
    check_control_term,
    check_dishonest_listing,
)

TODAY = date(2026, 10, 31)
TERMS = {
    ControlAction.SEIZE_REAL_ESTATE: (3, "MAX_TERM_REAL_ESTATE_3Y"),
    ControlAction.FREEZE_EQUITY: (3, "MAX_TERM_PROPERTY_RIGHT_3Y"),
    ControlAction.SEIZE_VEHICLE: (2, "MAX_TERM_MOVABLE_2Y"),
}
days = st.integers(min_value=1, max_value=4 * 366)
controls = st.sampled_from(sorted(TERMS))


def rule_of(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    return str(exc.value.extensions["rule"])


@given(controls, st.integers(min_value=0, max_value=400), days)
def test_term_within_the_maximum_is_kept_beyond_it_refused(
    action: ControlAction, start_in: int, length: int
) -> None:
    years, rule = TERMS[action]
    since = TODAY + timedelta(days=start_in)
    until = since + timedelta(days=length)
    if until <= add_years(since, years):
        assert check_control_term(action, since, until, TODAY) == (since, until)
    else:
        with pytest.raises(InvalidInput) as exc:
            check_control_term(action, since, until, TODAY)
        assert rule_of(exc) == rule and exc.value.field == "input.until"
        assert rule in exc.value.message


@given(controls)
def test_no_end_date_gets_the_legal_maximum(action: ControlAction) -> None:
    years, _ = TERMS[action]
    assert check_control_term(action, None, None, TODAY) == (TODAY, add_years(TODAY, years))


def test_start_in_the_past_and_backwards_terms_are_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_control_term(ControlAction.SEIZE_VEHICLE, TODAY - timedelta(days=1), None, TODAY)
    assert rule_of(exc) == "START_NOT_IN_PAST"
    with pytest.raises(InvalidInput) as exc:
        check_control_term(ControlAction.SEIZE_VEHICLE, TODAY, TODAY, TODAY)
    assert rule_of(exc) == "TERM_ENDS_AFTER_START"


@given(st.integers(min_value=-400, max_value=400), controls)
def test_renewal_only_before_expiry_and_for_at_most_the_same_term(
    expires_in: int, action: ControlAction
) -> None:
    years, rule = TERMS[action]
    prior = PriorControl(until=TODAY + timedelta(days=expires_in))
    if expires_in < 0:
        with pytest.raises(InvalidInput) as exc:
            check_control_term(action, None, None, TODAY, prior)
        assert rule_of(exc) == "RENEWAL_BEFORE_EXPIRY"
        return
    since, until = check_control_term(action, None, None, TODAY, prior)
    assert since == prior.until + timedelta(days=1)
    assert until == add_years(since, years)
    with pytest.raises(InvalidInput) as exc:
        check_control_term(action, None, until + timedelta(days=1), TODAY, prior)
    assert rule_of(exc) == rule


def test_lifts_and_exit_bans_have_no_maximum() -> None:
    far = TODAY + timedelta(days=3650)
    assert check_control_term(ControlAction.EXIT_BAN, None, far, TODAY) == (TODAY, far)
    assert check_control_term(ControlAction.LIFT_VEHICLE_SEIZURE, None, None, TODAY) == (
        TODAY,
        None,
    )
    with pytest.raises(InvalidInput) as exc:
        check_control_term(ControlAction.LIFT_VEHICLE_SEIZURE, None, far, TODAY)
    assert rule_of(exc) == "LIFT_HAS_NO_TERM"


ADULT = date(1990, 3, 7)


def test_dishonest_listing_needs_a_statutory_ground() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing("就是不还钱", TODAY, None, ADULT)
    assert rule_of(exc) == "DISHONEST_GROUND" and exc.value.field == "input.ground"


@pytest.mark.parametrize(
    "ground",
    [
        "OBSTRUCTS_ENFORCEMENT",
        "EVADES_ENFORCEMENT",
        "VIOLATES_PROPERTY_REPORTING",
        "VIOLATES_CONSUMPTION_BAN",
        "BREACHES_SETTLEMENT",
    ],
)
def test_two_years_by_default_for_grounds_two_to_six(ground: str) -> None:
    _, until = check_dishonest_listing(ground, TODAY, None, ADULT)
    assert until == add_years(TODAY, 2)
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing(ground, TODAY, add_years(TODAY, 1), ADULT)
    assert rule_of(exc) == "DISHONEST_TERM_2Y"
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing(ground, TODAY, add_years(TODAY, 3), ADULT)
    assert rule_of(exc) == "DISHONEST_TERM_2Y" and exc.value.field == "input.extensionReason"
    five = add_years(TODAY, 5)
    assert (
        check_dishonest_listing(ground, TODAY, five, ADULT, extension_reason="暴力抗拒执行")[1]
        == five
    )
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing(
            ground, TODAY, five + timedelta(days=1), ADULT, extension_reason="多项失信行为"
        )
    assert rule_of(exc) == "DISHONEST_EXTENSION_MAX_3Y"


def test_able_to_pay_but_refuses_has_no_fixed_term() -> None:
    assert check_dishonest_listing("ABLE_BUT_REFUSES", TODAY, None, ADULT)[1] is None
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing("ABLE_BUT_REFUSES", TODAY, add_years(TODAY, 2), ADULT)
    assert rule_of(exc) == "DISHONEST_REFUSAL_NO_FIXED_TERM"


@given(st.dates(min_value=date(1940, 1, 1), max_value=TODAY))
def test_a_minor_is_never_listed(birth: date) -> None:
    if age_on(birth, TODAY) >= 18:
        check_dishonest_listing("EVADES_ENFORCEMENT", TODAY, None, birth)
        return
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing("EVADES_ENFORCEMENT", TODAY, None, birth)
    assert rule_of(exc) == "NO_MINOR_ON_DISHONEST_LIST"


def test_organizations_have_no_age() -> None:
    assert check_dishonest_listing("EVADES_ENFORCEMENT", TODAY, None, None)[1] == add_years(
        TODAY, 2
    )
    assert age_on(date(2008, 11, 1), TODAY) == 17 and age_on(date(2008, 10, 31), TODAY) == 18
