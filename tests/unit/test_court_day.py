"""The court's calendar day (``COURT_DAY_CST``): legal dates are China Standard Time dates.

Between 16:00 and 24:00 UTC the court is already on the next day; every rule that compares
a date with today takes it from ``court_date`` through ``Clock.today``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.control import ControlAction
from gateway.clock import ManualClock, court_date, court_day_end
from gateway.domain.control_lapse import check_renewal_in_time, has_lapsed
from gateway.domain.overseizure import committed_value
from gateway.domain.terms import check_control_term
from gateway.errors import InvalidInput
from tests.unit.test_control_rules import row
from tests.unit.test_legal import rule_of

# 2026-12-05 23:30 UTC is 07:30 on 12-06 in Beijing; 16:30 UTC is 00:30 on 12-06.
LATE_EVENING_UTC = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
AFTER_MIDNIGHT_CST = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)
BEFORE_MIDNIGHT_CST = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)
DEC_5, DEC_6 = date(2026, 12, 5), date(2026, 12, 6)


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (LATE_EVENING_UTC, DEC_6),
        (AFTER_MIDNIGHT_CST, DEC_6),
        (BEFORE_MIDNIGHT_CST, DEC_5),
        (datetime(2026, 12, 5, 15, 59, 59, 999999, tzinfo=UTC), DEC_5),
        (datetime(2026, 12, 5, 16, 0, tzinfo=UTC), DEC_6),
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), date(2027, 1, 1)),
    ],
)
def test_the_court_day_turns_at_midnight_in_beijing(instant: datetime, day: date) -> None:
    assert court_date(instant) == day
    assert ManualClock(instant).today() == day


@given(st.dates(min_value=date(1992, 1, 1), max_value=date(2099, 12, 30)))
def test_a_court_day_ends_at_16_utc(day: date) -> None:
    end = court_day_end(day)
    assert court_date(end) == day
    assert court_date(end + timedelta(microseconds=1)) == day + timedelta(days=1)
    assert (end + timedelta(microseconds=1)).time().hour == 16


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        court_date(datetime(2026, 12, 5, 16, 30))


_ZONES = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
_INSTANTS = st.datetimes(
    min_value=datetime(1992, 1, 1), max_value=datetime(2099, 12, 31), timezones=_ZONES
)


@given(_INSTANTS)
def test_the_court_day_is_the_utc_day_or_the_next(instant: datetime) -> None:
    utc_day = instant.astimezone(UTC).date()
    day = court_date(instant)
    assert day in {utc_day, utc_day + timedelta(days=1)}
    # No daylight saving since 1991 (the range starts after it): the court day is always the date eight hours on.
    assert day == (instant.astimezone(UTC) + timedelta(hours=8)).date()


@given(_INSTANTS)
def test_the_court_day_does_not_depend_on_the_zone_an_instant_is_written_in(
    instant: datetime,
) -> None:
    assert court_date(instant) == court_date(instant.astimezone(UTC))


@pytest.mark.parametrize(
    ("instant", "lapsed"), [(BEFORE_MIDNIGHT_CST, False), (AFTER_MIDNIGHT_CST, True)]
)
def test_a_control_lapses_at_the_end_of_its_last_day_in_beijing(
    instant: datetime, lapsed: bool
) -> None:
    seized = row("a", value="30000.00", until=DEC_5)
    today = ManualClock(instant).today()
    assert has_lapsed(seized, today) is lapsed
    # A lapsed control no longer counts against over-seizure.
    assert committed_value([seized], today) == (Decimal(0) if lapsed else Decimal("30000.00"))


def test_a_renewal_after_midnight_in_beijing_comes_too_late() -> None:
    check_renewal_in_time(DEC_5, ManualClock(BEFORE_MIDNIGHT_CST).today(), field="renewalOf")
    with pytest.raises(InvalidInput) as exc:
        check_renewal_in_time(DEC_5, ManualClock(AFTER_MIDNIGHT_CST).today(), field="renewalOf")
    assert rule_of(exc) == "RENEWAL_BEFORE_EXPIRY"


@pytest.mark.parametrize("instant", [LATE_EVENING_UTC, AFTER_MIDNIGHT_CST])
def test_a_start_of_the_utc_day_is_in_the_past_once_beijing_is_on_the_next(
    instant: datetime,
) -> None:
    today = ManualClock(instant).today()
    with pytest.raises(InvalidInput) as exc:
        check_control_term(ControlAction.SEIZE_VEHICLE, DEC_5, None, today)
    assert rule_of(exc) == "START_NOT_IN_PAST"
    since, _ = check_control_term(ControlAction.SEIZE_VEHICLE, None, None, today)
    assert since == DEC_6


def test_before_midnight_in_beijing_today_is_still_today() -> None:
    today = ManualClock(BEFORE_MIDNIGHT_CST).today()
    since, _ = check_control_term(ControlAction.SEIZE_VEHICLE, DEC_5, None, today)
    assert since == DEC_5
