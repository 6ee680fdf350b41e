"""The rules on controls as pure functions: lapse (art. 27), net value and art. 19."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.control import ControlAction
from gateway.domain.assistance_rows import AssistanceRow
from gateway.domain.assistance_status import AssistanceStatus
from gateway.domain.control_lapse import check_renewal_in_time, has_lapsed
from gateway.domain.overseizure import (
    CLEAR_EXCESS_FACTOR,
    check_guard,
    controlled_value,
    held_value,
    net_value,
)
from gateway.errors import InvalidInput, OverSeizure

TODAY = date(2027, 10, 1)
AT = datetime(2026, 10, 31, tzinfo=UTC)
money = st.decimals(min_value=0, max_value=10**9, places=2)


def row(
    rid: str,
    *,
    action: ControlAction = ControlAction.SEIZE_VEHICLE,
    value: str | Decimal = "200000.00",
    encumbrance: str | Decimal | None = None,
    until: date | None = date(2028, 10, 31),
    status: AssistanceStatus = AssistanceStatus.COMPLETED,
) -> AssistanceRow:
    return AssistanceRow(
        id=rid,
        case_number="（2026）苏0312执1号",
        court="徐州市泉山区人民法院",
        debtor_id="11010119900307803X",
        agency="public_security",
        action=action.value,
        target=f"T-{rid}",
        target_value=Decimal(value),
        amount=None,
        document_number="D",
        since=date(2026, 10, 31),
        until=until,
        renewal_of=None,
        status=status,
        idempotency_key=rid,
        fingerprint="f",
        requested_by="officer-1",
        approved_by="judge-2",
        override_reason=None,
        reason=None,
        ticket=None,
        reference=None,
        queue_position=0,
        reply=None,
        attempts=0,
        next_attempt_at=None,
        lease_owner=None,
        lease_until=None,
        deadline=None,
        overdue=False,
        lifted_by=None,
        created_at=AT,
        updated_at=AT,
        encumbrance=None if encumbrance is None else Decimal(encumbrance),
    )


def test_a_seizure_that_ended_eleven_months_ago_holds_nothing() -> None:
    lapsed = row("a", until=TODAY - timedelta(days=335))
    assert has_lapsed(lapsed, TODAY)
    assert controlled_value([lapsed], TODAY) == Decimal("0.00")
    # Before the fix it covered ¥100,000 due and refused any further control.
    result = check_guard(
        ControlAction.SEIZE_REAL_ESTATE, Decimal("100000.00"), [lapsed], TODAY, override_reason=None
    )
    assert result.committed == Decimal("0.00")
    with pytest.raises(InvalidInput) as refused:
        check_renewal_in_time(lapsed.until or TODAY, TODAY, field="input.renewalOf")
    assert refused.value.extra["rule"] == "RENEWAL_BEFORE_EXPIRY"


@given(days=st.integers(min_value=-2000, max_value=2000))
def test_a_control_counts_exactly_while_its_term_runs(days: int) -> None:
    control = row("a", until=TODAY + timedelta(days=days))
    in_force = days >= 0  # the last day of the term still counts
    assert has_lapsed(control, TODAY) is not in_force
    expected = Decimal("200000.00") if in_force else Decimal("0.00")
    assert controlled_value([control], TODAY) == expected


def test_lifts_and_open_ended_controls_never_lapse() -> None:
    assert not has_lapsed(row("a", until=None), TODAY)
    lift = row("b", action=ControlAction.LIFT_VEHICLE_SEIZURE, until=date(2000, 1, 1))
    assert not has_lapsed(lift, TODAY)


def test_a_mortgaged_flat_counts_its_net_value() -> None:
    flat = row(
        "f", action=ControlAction.SEIZE_REAL_ESTATE, value="1000000.00", encumbrance="900000.00"
    )
    assert held_value(flat) == Decimal("100000.00")
    # ¥100,000 of ¥200,000 held: a further control is still needed.
    result = check_guard(
        ControlAction.SEIZE_VEHICLE, Decimal("200000.00"), [flat], TODAY, override_reason=None
    )
    assert result.committed == Decimal("100000.00") and not result.overridden


@given(value=money, encumbrance=money)
def test_net_value_is_never_negative_nor_more_than_the_estimate(
    value: Decimal, encumbrance: Decimal
) -> None:
    net = net_value(value, encumbrance)
    assert net is not None and Decimal(0) <= net <= value
    assert net == max(Decimal(0), value - encumbrance)


def test_a_five_million_flat_for_ten_thousand_needs_the_finding() -> None:
    with pytest.raises(OverSeizure) as refused:
        check_guard(
            ControlAction.SEIZE_REAL_ESTATE,
            Decimal("10000.00"),
            [],
            TODAY,
            value=Decimal("5000000.00"),
            override_reason=None,
        )
    assert refused.value.extra["rule"] == "INDIVISIBLE_ASSET_EXCEEDS"
    found = check_guard(
        ControlAction.SEIZE_REAL_ESTATE,
        Decimal("10000.00"),
        [],
        TODAY,
        value=Decimal("5000000.00"),
        override_reason="被执行人无其他可供执行的财产",
    )
    assert found.overridden


@given(owed=money.filter(lambda m: m > 0), value=money)
def test_the_indivisible_rule_holds_at_the_clear_excess_line(owed: Decimal, value: Decimal) -> None:
    clearly_more = value > CLEAR_EXCESS_FACTOR * owed
    try:
        check_guard(ControlAction.SEIZE_VEHICLE, owed, [], TODAY, value=value, override_reason=None)
        refused = False
    except OverSeizure as err:
        assert err.extra["rule"] == "INDIVISIBLE_ASSET_EXCEEDS"
        refused = True
    assert refused is clearly_more
    # Equity is divisible: never refused by this rule (a freeze takes part of it).
    check_guard(ControlAction.FREEZE_EQUITY, owed, [], TODAY, value=value, override_reason=None)
