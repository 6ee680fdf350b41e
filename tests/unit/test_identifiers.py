"""Issue 22, finding 8: identifiers and case numbers as GB 32100, GB 11643 and the 2016
案号 rules write them, where python-stdnum's reading is narrower or wider."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from connectors.domain import DebtorKind
from gateway.clock import court_date
from gateway.domain.case_types import check_measure_case
from gateway.errors import InvalidInput
from gateway.identifiers import (
    CREDIT_CODE_ALPHABET,
    REGISTRATION_AUTHORITIES,
    organization_code_check,
)
from gateway.masking import mask_id
from gateway.screening.ids import screening_id
from gateway.validation import CASE_TYPES, case_number, credit_code, debtor_id, resident_id


def code_of(head: str, body: str) -> str:
    """A credit code from authority+category+region (8) and an organisation code body (8)."""
    partial = head + body + organization_code_check(body)
    return partial + uscc.calc_check_digit(partial)


def permit(region: str, born: date, order: int) -> str:
    base = f"{region}{born:%Y%m%d}{order:03d}"
    return base + ric.calc_check_digit(base + "0")


RURAL_COLLECTIVE = code_of("N2320312", "MA1W7XK2")  # a village collective economic org.
MILITARY_UNIT = code_of("A1110000", "MA01B2C3")
OTHER_AUTHORITY = code_of("Y1440300", "MA5QRT01")


# --- credit codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [RURAL_COLLECTIVE, MILITARY_UNIT, OTHER_AUTHORITY])
def test_letter_authorities_are_valid_credit_codes(code: str) -> None:
    assert not uscc.is_valid(code)  # stdnum's narrower reading refuses them
    assert credit_code(code) == code
    assert debtor_id(code) == (code, DebtorKind.ORGANIZATION)
    assert screening_id(code) == code
    assert mask_id(code) == code  # a company's code is public


def test_all_zeros_is_no_credit_code() -> None:
    assert uscc.is_valid("000000000000000000")  # stdnum's wider reading accepts it
    with pytest.raises(InvalidInput, match="registration authority 0") as info:
        credit_code("000000000000000000")
    assert info.value.extensions["rule"] == "CREDIT_CODE_GB32100"
    with pytest.raises(InvalidInput):
        debtor_id("000000000000000000")


def test_wrong_embedded_organisation_check_digit_is_refused() -> None:
    good = code_of("91320311", "MA1W7XK2")
    wrong = "0" if good[16] != "0" else "1"
    partial = good[:16] + wrong
    bad = partial + uscc.calc_check_digit(partial)  # the outer check character still fits
    assert uscc.is_valid(bad)
    with pytest.raises(InvalidInput, match="organisation code"):
        credit_code(bad)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    authority = draw(st.sampled_from(sorted(REGISTRATION_AUTHORITIES)))
    category = draw(st.sampled_from(sorted(REGISTRATION_AUTHORITIES[authority])))
    region = draw(st.sampled_from(["100000", "110105", "320312", "540102", "820000"]))
    body = draw(st.text(CREDIT_CODE_ALPHABET, min_size=8, max_size=8))
    return code_of(f"{authority}{category}{region}", body)


@given(credit_codes())
def test_every_authority_and_category_round_trips(code: str) -> None:
    assert credit_code(code.lower()) == code


@given(credit_codes(), st.sampled_from(CREDIT_CODE_ALPHABET))
def test_a_changed_organisation_check_digit_is_always_refused(code: str, new: str) -> None:
    if new == code[16]:
        return
    partial = code[:16] + new
    with pytest.raises(InvalidInput):
        credit_code(partial + uscc.calc_check_digit(partial))


@given(credit_codes(), st.sampled_from("0BCDEFGHJKLMPQRTUWX"))
def test_an_unknown_authority_is_refused(code: str, authority: str) -> None:
    partial = authority + code[1:17]
    with pytest.raises(InvalidInput, match="registration authority"):
        credit_code(partial + uscc.calc_check_digit(partial))


# --- residence permits of Hong Kong, Macao and Taiwan residents --------------------------------


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_residence_permit_numbers_are_resident_ids(region: str) -> None:
    number = permit(region, date(1988, 6, 30), 123)
    assert resident_id(number) == number
    assert debtor_id(number) == (number, DebtorKind.PERSON)
    assert screening_id(number) == number
    assert mask_id(number) == f"{region}********{number[14:]}"  # personal: always masked


@given(
    st.sampled_from(["810000", "820000", "830000"]),
    st.dates(min_value=date(1920, 1, 1), max_value=date.today()),
    st.integers(0, 999),
)
def test_any_permit_number_with_its_check_digit_is_valid(
    region: str, born: date, order: int
) -> None:
    number = permit(region, born, order)
    assert resident_id(number) == number
    wrong = "0" if number[-1] != "0" else "1"
    with pytest.raises(InvalidInput, match="check digit"):
        resident_id(number[:17] + wrong)


def test_permit_numbers_keep_the_birth_date_rules() -> None:
    with pytest.raises(InvalidInput, match="birth date"):
        resident_id("81000019901301001" + ric.calc_check_digit("81000019901301001" + "0"))
    with pytest.raises(InvalidInput, match="future"):
        resident_id(permit("830000", date.today() + timedelta(days=400), 1))


# --- case numbers (2016 rules) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("（2024）苏0312假执1号", "not an enforcement case type"),
        ("（2099）苏0312执1号", "in the future"),
        ("（2024）苏031执1号", "0, 2 or 4 digits"),
        ("（2024）苏0312执字第1号", "abolished"),
        ("（2015）苏0312执字第1号", "abolished"),
    ],
)
def test_case_numbers_the_2016_rules_refuse(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment) as info:
        case_number(raw)
    assert info.value.extensions["rule"] == "CASE_NUMBER_2016"


@given(
    st.integers(2016, date.today().year),
    st.sampled_from(["苏", "苏03", "苏0312", "京73", "兵0102"]),
    st.sampled_from(sorted(CASE_TYPES)),
    st.integers(1, 99_999_999),
)
def test_well_formed_case_numbers_round_trip(year: int, court: str, kind: str, seq: int) -> None:
    number = f"（{year}）{court}{kind}{seq}号"
    assert case_number(number) == number
    assert case_number(number.replace("（", "(").replace("）", ")")) == number


@given(st.integers(1, 9), st.sampled_from([1, 3, 5, 6]))
def test_court_digits_other_than_0_2_4_are_refused(seq: int, width: int) -> None:
    with pytest.raises(InvalidInput, match="0, 2 or 4 digits"):
        case_number(f"（2024）苏{'1' * width}执{seq}号")


# The court's year: on 31 December from 16:00 UTC it is already the next one in Beijing.
@given(st.integers(court_date(datetime.now(UTC)).year + 1, 9999))
def test_future_years_are_refused(year: int) -> None:
    with pytest.raises(InvalidInput, match="future"):
        case_number(f"（{year}）苏0312执1号")


# --- which case types may carry measures -------------------------------------------------------


@pytest.mark.parametrize("kind", ["执异", "执复", "执监", "执协", "执请", "执他"])
def test_review_cases_carry_no_measure(kind: str) -> None:
    for restriction in (True, False):
        with pytest.raises(InvalidInput) as info:
            check_measure_case(f"（2025）苏0312{kind}3号", restriction=restriction)
        assert info.value.extensions["rule"] == "ENFORCEMENT_CASE_TYPE"


def test_preservation_cases_seize_but_do_not_list() -> None:
    check_measure_case("（2025）苏0312执保3号", restriction=False)
    with pytest.raises(InvalidInput, match="ENFORCEMENT_CASE_TYPE"):
        check_measure_case("（2025）苏0312执保3号", restriction=True)
    for kind in ("执", "执恢"):
        for restriction in (True, False):
            check_measure_case(f"（2025）苏0312{kind}3号", restriction=restriction)
