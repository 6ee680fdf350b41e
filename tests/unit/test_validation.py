from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from connectors.domain import DebtorKind
from gateway import validation
from gateway.errors import InvalidInput
from gateway.identifiers import REGISTRATION_AUTHORITIES, organization_code_check
from gateway.masking import mask_id, mask_text, mask_value
from gateway.validation import (
    CaseNumber,
    case_number,
    credit_code,
    debtor_id,
    id_list,
    parse_case_number,
    resident_id,
)

PERSON = "11010119900307803X"
ORG = "91110000600037341L"  # 17 digits and a letter: shape alone does not say "company"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Region codes stdnum knows for every birth year drawn below.
REGIONS = ["110101", "110105", "310101", "310104", "120101"]


def with_check(base17: str) -> str:
    return base17 + ric.calc_check_digit(base17 + "0")


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    born = draw(st.dates(min_value=date(1950, 1, 1), max_value=date(2005, 12, 31)))
    order = draw(st.integers(0, 999))
    return with_check(f"{region}{born:%Y%m%d}{order:03d}")


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    """GB 32100 codes of every registration authority, letters (A, N, Y) included."""
    authority = draw(st.sampled_from(sorted(REGISTRATION_AUTHORITIES)))
    category = draw(st.sampled_from(sorted(REGISTRATION_AUTHORITIES[authority])))
    region = draw(st.sampled_from(["100000", "110105", "320312", "440300", "650000"]))
    body = draw(st.text(USCC_ALPHABET, min_size=8, max_size=8))
    head = f"{authority}{category}{region}{body}{organization_code_check(body)}"
    return head + uscc.calc_check_digit(head)


def message(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    return exc.value.message


# --- resident ids --------------------------------------------------------------------------


def test_resident_id_accepts_and_compacts() -> None:
    assert resident_id(" 11010119900307803x ") == PERSON
    assert resident_id("360426199101010071") == "360426199101010071"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1101011990030780", "17 digits and a check digit"),
        ("11010119900307803A", "17 digits and a check digit"),
        ("１１０１０１１９９００３０７８０３X", "18-character"),  # full-width digits
        ("110101199003078031", "wrong check digit"),
        (with_check("11010119901307803"), "invalid birth date"),
        (with_check("99999919900307803"), "unknown region"),
        (with_check(f"110101{date.today() + timedelta(days=400):%Y%m%d}001"), "future"),
    ],
)
def test_resident_id_messages(value: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        resident_id(value, "debtor.id")
    assert fragment in message(info)
    assert info.value.field == "debtor.id"
    ext = dict(info.value.extensions)
    # A number that is no resident id names the standard's rule; a non-ASCII one is no number.
    assert ext.pop("rule", "RESIDENT_ID_GB11643") == "RESIDENT_ID_GB11643"
    assert ext == {"code": "INVALID_INPUT", "field": "debtor.id"}


def test_resident_id_rejects_non_strings() -> None:
    with pytest.raises(InvalidInput, match="string"):
        resident_id(110101199003078031)  # type: ignore[arg-type]


@given(resident_ids())
def test_valid_resident_ids_round_trip(value: str) -> None:
    assert resident_id(value) == value
    assert resident_id(value.lower()) == value
    assert debtor_id(value) == (value, DebtorKind.PERSON)


@given(resident_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_single_character_change_is_rejected(value: str, pos: int, new: str) -> None:
    changed = value[:pos] + new + value[pos + 1 :]
    if changed == value:
        return
    with pytest.raises(InvalidInput):
        resident_id(changed)


# --- credit codes and debtor ids -------------------------------------------------------------


def test_credit_code() -> None:
    assert credit_code(" 91110000600037341l ") == ORG
    assert debtor_id(ORG) == (ORG, DebtorKind.ORGANIZATION)
    with pytest.raises(InvalidInput, match="check character"):
        credit_code("91110000600037341M")
    with pytest.raises(InvalidInput, match="18 characters"):
        credit_code("9111000060003734")
    with pytest.raises(InvalidInput, match="alphabet"):
        credit_code("9111000060003734IO")


@given(credit_codes())
def test_valid_credit_codes_round_trip(value: str) -> None:
    assert credit_code(value) == value
    number, kind = debtor_id(value)
    assert number == value
    assert kind in (DebtorKind.ORGANIZATION, DebtorKind.PERSON)


def test_debtor_id_messages() -> None:
    with pytest.raises(InvalidInput, match="resident ID number or unified social"):
        debtor_id("123")
    with pytest.raises(InvalidInput, match="wrong check digit"):
        debtor_id("110101199003078031")  # digits: explain it as a resident id
    with pytest.raises(InvalidInput, match="check character"):
        debtor_id("91320311MA1W7XXX4B")


@given(st.text(max_size=40))
def test_arbitrary_text_only_raises_invalid_input(value: str) -> None:
    for check in (resident_id, credit_code, debtor_id, case_number):
        with contextlib.suppress(InvalidInput):
            check(value)


@given(st.lists(st.text(max_size=20), max_size=5))
def test_arbitrary_lists_only_raise_invalid_input(values: list[str]) -> None:
    with contextlib.suppress(InvalidInput):
        id_list(values, max_items=3)


# --- id lists ----------------------------------------------------------------------------------


def test_id_list_dedupes_in_order() -> None:
    got = id_list([ORG, PERSON.lower(), ORG, PERSON])
    assert got == [(ORG, DebtorKind.ORGANIZATION), (PERSON, DebtorKind.PERSON)]


def test_id_list_errors() -> None:
    with pytest.raises(InvalidInput, match="empty") as info:
        id_list([])
    assert info.value.field == "ids"
    with pytest.raises(InvalidInput, match="at most 2 ids") as info:
        id_list([PERSON] * 3, max_items=2)
    with pytest.raises(InvalidInput) as info:
        id_list([PERSON, ORG, PERSON, "nope"], "debtorIds")
    assert info.value.field == "debtorIds[3]"
    with pytest.raises(InvalidInput, match="list"):
        id_list(PERSON)


# --- case numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("（2024）苏0312执1234号", "（2024）苏0312执1234号"),
        ("  (2024)苏0312执1234号\n", "（2024）苏0312执1234号"),
        ("(2024)苏执1号", "（2024）苏执1号"),
        ("〔2023〕京0105执恢17号", "（2023）京0105执恢17号"),
        ("（２０２４）内0102执保３号", "（2024）内0102执保3号"),
        ("(2020)最高法执监12号", "（2020）最高法执监12号"),
        ("(2019)兵0102执异5号", "（2019）兵0102执异5号"),
    ],
)
def test_case_number_normalises(raw: str, normal: str) -> None:
    assert case_number(raw) == normal


def test_case_number_parsed() -> None:
    parsed = parse_case_number("(2024)苏0312执复88号")
    assert parsed == CaseNumber(2024, "苏", "0312", "执复", 88)
    assert parsed.court_code == "苏0312"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("（2024）苏0312民1234号", "not an enforcement case type"),  # civil
        ("（2024）苏0312执0号", "enforcement case number"),
        ("（2024）苏0312执1234", "enforcement case number"),
        ("（2024）苏03121执1号", "0, 2 or 4 digits"),
        ("（2024）X0312执1号", "enforcement case number"),
        ("（2024）苏0312 执1号", "enforcement case number"),
        ("（2015）苏0312执1号", "from 2016"),
        ("（2101）苏0312执1号", "in the future"),
        ("（2024）最高法01执1号", "no court digits"),
        ("", "enforcement case number"),
    ],
)
def test_case_number_rejects(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        case_number(raw)
    assert fragment in message(info)
    assert info.value.field == "caseNumber"


# --- masking ----------------------------------------------------------------------------------


def test_mask_id() -> None:
    assert mask_id(PERSON) == "110101********803X"
    assert mask_id(ORG) == ORG  # public company identifier
    assert mask_id("110101199003078031") == "110101********8031"  # invalid: mask anyway
    assert mask_id("short") == "short"


@given(resident_ids())
def test_mask_id_masks_every_valid_id(value: str) -> None:
    masked = mask_id(value)
    assert masked[:6] == value[:6] and masked[-4:] == value[-4:]
    assert masked[6:14] == "********"


def test_mask_text_and_value() -> None:
    line = f"lookup {PERSON} for {ORG}; card 6222021101199003078031; id={PERSON.lower()}."
    assert mask_text(line) == (
        f"lookup 110101********803X for {ORG}; card 6222021101199003078031; id=110101********803x."
    )
    value = {"ids": [PERSON, ORG], PERSON: ("x", 1, None), "n": 3}
    assert mask_value(value) == {
        "ids": ["110101********803X", ORG],
        "110101********803X": ("x", 1, None),
        "n": 3,
    }


def test_region_without_county_is_invalid_input_not_a_crash() -> None:
    # python-stdnum raises KeyError for this region: it must read as bad input.
    with pytest.raises(InvalidInput, match="region"):
        debtor_id("132733200001010001")


def test_masking_survives_stdnum_region_gaps() -> None:
    assert mask_id("132733200001010001") == "132733********0001"


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A[1-8][0-9]{16}[0-9X]\Z"))
def test_remembered_birth_place_check_agrees_with_stdnum(number: str) -> None:
    # _validate_ric remembers stdnum's region look-up per region and year; the verdict and
    # the exception type must be stdnum's own.
    def verdict(check: Callable[[str], object]) -> str:
        try:
            check(number)
        except Exception as exc:  # the type is the verdict
            return type(exc).__name__
        return "valid"

    assert verdict(validation._validate_ric) == verdict(ric.validate)
