"""The dishonest-list rules (法释〔2017〕7号 arts. 1-4), each refusal naming its rule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.dishonest import (
    DishonestGround,
    ExtensionBasis,
    check_dishonest_listing,
    check_listing_allowed,
)
from gateway.domain.terms import add_years, age_on
from gateway.errors import InvalidInput

TODAY = date(2026, 10, 31)
ADULT = date(1990, 3, 7)
TWO_TO_SIX = [g.value for g in DishonestGround if g is not DishonestGround.ABLE_BUT_REFUSES]
money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)


def rule_of(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    rule = exc.value.extra["rule"]
    assert isinstance(rule, str)
    return rule


def test_a_listing_needs_statutory_grounds() -> None:
    for grounds in (["就是不还钱"], [], ["EVADES_ENFORCEMENT", "x"]):
        with pytest.raises(InvalidInput) as exc:
            check_dishonest_listing(grounds, TODAY, None, ADULT)
        assert rule_of(exc) == "DISHONEST_GROUND" and exc.value.field == "input.grounds"


def test_several_grounds_are_recorded_once_each_in_statutory_order() -> None:
    listing = check_dishonest_listing(
        ["VIOLATES_CONSUMPTION_BAN", "EVADES_ENFORCEMENT", "EVADES_ENFORCEMENT"], TODAY, None, ADULT
    )
    assert listing.grounds == (
        DishonestGround.EVADES_ENFORCEMENT,
        DishonestGround.VIOLATES_CONSUMPTION_BAN,
    )
    assert listing.ground_text == "EVADES_ENFORCEMENT,VIOLATES_CONSUMPTION_BAN"
    assert listing.until == add_years(TODAY, 2)


@pytest.mark.parametrize("ground", TWO_TO_SIX)
def test_two_years_and_no_shorter(ground: str) -> None:
    assert check_dishonest_listing([ground], TODAY, None, ADULT).until == add_years(TODAY, 2)
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing([ground], TODAY, add_years(TODAY, 1), ADULT)
    assert rule_of(exc) == "DISHONEST_TERM_2Y"


def test_a_property_report_breach_is_not_extended_whatever_the_reason() -> None:
    # The issue's case: one ground outside art. 2 ¶2, reason "x", five years.
    five = add_years(TODAY, 5)
    for basis in (None, *ExtensionBasis):
        with pytest.raises(InvalidInput) as exc:
            check_dishonest_listing(
                ["VIOLATES_PROPERTY_REPORTING"],
                TODAY,
                five,
                ADULT,
                extension_basis=basis,
                extension_reason="x",
            )
        assert rule_of(exc) == "DISHONEST_EXTENSION_BASIS"


def test_extension_for_violent_obstruction_or_several_acts_one_to_three_years() -> None:
    default = add_years(TODAY, 2)
    violent = {"extension_basis": ExtensionBasis.VIOLENT_OBSTRUCTION}
    reason = "持械威胁执行人员，情节严重"
    grounds = ["OBSTRUCTS_ENFORCEMENT"]
    five = add_years(TODAY, 5)
    assert check_dishonest_listing(grounds, TODAY, five, ADULT, **violent, extension_reason=reason)
    with pytest.raises(InvalidInput) as exc:  # the basis needs its reason in writing
        check_dishonest_listing(grounds, TODAY, five, ADULT, **violent)
    assert rule_of(exc) == "DISHONEST_TERM_2Y" and exc.value.field == "input.extensionReason"
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing(
            grounds, TODAY, default + timedelta(days=200), ADULT, **violent, extension_reason=reason
        )
    assert rule_of(exc) == "DISHONEST_EXTENSION_MIN_1Y"
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing(
            grounds, TODAY, five + timedelta(days=1), ADULT, **violent, extension_reason=reason
        )
    assert rule_of(exc) == "DISHONEST_EXTENSION_MAX_3Y"
    several = ExtensionBasis.SEVERAL_DISHONEST_ACTS
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing(
            ["EVADES_ENFORCEMENT"],
            TODAY,
            five,
            ADULT,
            extension_basis=several,
            extension_reason="r",
        )
    assert rule_of(exc) == "DISHONEST_EXTENSION_BASIS"
    two = ["EVADES_ENFORCEMENT", "VIOLATES_PROPERTY_REPORTING"]
    four = add_years(TODAY, 4)
    listing = check_dishonest_listing(
        two, TODAY, four, ADULT, extension_basis=several, extension_reason="两项失信行为"
    )
    assert listing.until == four


def test_able_to_pay_but_refuses_has_no_fixed_term() -> None:
    assert check_dishonest_listing(["ABLE_BUT_REFUSES"], TODAY, None, ADULT).until is None
    for extra in ([], ["EVADES_ENFORCEMENT"]):
        with pytest.raises(InvalidInput) as exc:
            check_dishonest_listing(["ABLE_BUT_REFUSES", *extra], TODAY, add_years(TODAY, 2), ADULT)
        assert rule_of(exc) == "DISHONEST_REFUSAL_NO_FIXED_TERM"


@given(st.dates(min_value=date(1940, 1, 1), max_value=TODAY))
def test_a_minor_is_never_listed(birth: date) -> None:
    if age_on(birth, TODAY) >= 18:
        check_dishonest_listing(["EVADES_ENFORCEMENT"], TODAY, None, birth)
        return
    with pytest.raises(InvalidInput) as exc:
        check_dishonest_listing(["EVADES_ENFORCEMENT"], TODAY, None, birth)
    assert rule_of(exc) == "NO_MINOR_ON_DISHONEST_LIST"


def test_organizations_have_no_age() -> None:
    assert check_dishonest_listing(["EVADES_ENFORCEMENT"], TODAY, None, None).until == add_years(
        TODAY, 2
    )


def test_art3_the_issues_case_100k_due_500k_seized() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_listing_allowed(
            [DishonestGround.ABLE_BUT_REFUSES],
            Decimal("100000.00"),
            controlled=Decimal("500000.00"),
            security=None,
        )
    assert rule_of(exc) == "DISHONEST_NOT_WHEN_COVERED"


@given(due=money, controlled=money, security=st.none() | money)
def test_art3_bars_only_refusal_and_only_when_covered(
    due: Decimal, controlled: Decimal, security: Decimal | None
) -> None:
    # Another ground punishes an act, not the debt: art. 3 never bars it.
    check_listing_allowed(
        [DishonestGround.EVADES_ENFORCEMENT], due, controlled=controlled, security=security
    )
    secured = security is not None and security >= due
    covered = controlled >= due
    refusal = [DishonestGround.ABLE_BUT_REFUSES]
    if not (secured or covered):
        check_listing_allowed(refusal, due, controlled=controlled, security=security)
        return
    with pytest.raises(InvalidInput) as exc:
        check_listing_allowed(refusal, due, controlled=controlled, security=security)
    assert rule_of(exc) == (
        "DISHONEST_NOT_WHEN_SECURED" if secured else "DISHONEST_NOT_WHEN_COVERED"
    )
