"""The legal limits on controls and listings, each refusal naming its rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.control import ControlAction
from gateway.domain.terms import (
    PriorControl,
    add_years,
    check_control_term,
)
from gateway.errors import InvalidInput

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
