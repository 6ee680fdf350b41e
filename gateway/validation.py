"""Argument validation: every check raises ``InvalidInput(field, message)``, nothing else.

Identifiers are checked with python-stdnum (GB 11643 resident ids, GB 32100 credit codes),
never by hand; case numbers (案号) follow the 2016 Supreme People's Court numbering rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TypeVar

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

from connectors.domain import DebtorKind
from gateway.errors import InvalidInput

__all__ = [
    "PROVINCES",
    "CaseNumber",
    "case_number",
    "credit_code",
    "debtor_id",
    "id_list",
    "parse_case_number",
    "resident_id",
]

# Court-code prefixes: the 31 provincial divisions (内 is Inner Mongolia, 黔 Guizhou) and
# 兵 for the Xinjiang Production and Construction Corps courts.
PROVINCES = frozenset("京津冀晋内辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔云藏陕甘青宁新兵")
_SUPREME = "最高法"
_CJK = "\u4e00-\u9fff"

T = TypeVar("T")

_CASE_RE = re.compile(
    rf"""
    [(〔\[] (?P<year>\d{{4}}) [)〕\]]
    (?P<province>{_SUPREME}|[{"".join(sorted(PROVINCES))}])
    (?P<court>\d{{0,4}})
    (?P<kind>[{_CJK}]{{0,2}}执[{_CJK}]{{0,3}}?)
    (?P<seq>[1-9]\d{{0,7}})
    号
    """,
    re.VERBOSE,
)
_ID_MESSAGE = "must be an 18-character resident ID number or unified social credit code"


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    return value


def _ascii_compact(value: str, field: str) -> str:
    # stdnum's int() parsing accepts non-ASCII digits; only ASCII belongs in an id.
    compact = value.strip().replace(" ", "").replace("-", "").upper()
    if not compact.isascii():
        raise InvalidInput(field, _ID_MESSAGE)
    return compact


def resident_id(value: str, field: str = "id") -> str:
    """A valid 18-digit resident ID number (居民身份证号), compacted and upper-case."""
    number = _ascii_compact(_text(value, field), field)
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise InvalidInput(field, "a resident ID number has 17 digits and a check digit (0-9 or X)")
    try:
        _validate_ric(number)
    except InvalidChecksum:
        raise InvalidInput(field, "resident ID number has a wrong check digit") from None
    except InvalidComponent:
        try:
            ric.get_birth_date(number)
        except ValidationError:
            raise InvalidInput(field, "resident ID number has an invalid birth date") from None
        raise InvalidInput(field, "resident ID number has an unknown region code") from None
    except ValidationError:
        raise InvalidInput(field, "a resident ID number has 17 digits and a check digit") from None
    except KeyError:
        # python-stdnum's region table has entries without a county list, on which its
        # birth-place look-up raises KeyError instead of InvalidComponent.
        raise InvalidInput(field, "resident ID number has an unknown region code") from None
    if ric.get_birth_date(number) > date.today():
        raise InvalidInput(field, "resident ID number has a birth date in the future")
    return number


def _validate_ric(number: str) -> None:
    """``ric.validate`` for a compact 17-digits-and-check number, in the same order and with
    the same exceptions, with the place-of-birth look-up (slow: stdnum's region table, about
    0.5 ms) remembered per region and year."""
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    ric.get_birth_date(number)
    _check_birth_place(number[:6], number[6:10])


@lru_cache(maxsize=16_384)
def _check_birth_place(region: str, year: str) -> None:
    # Only the region and the birth year matter to the look-up; 1 January always exists.
    ric.get_birth_place(f"{region}{year}01010000")


def credit_code(value: str, field: str = "id") -> str:
    """A valid unified social credit code (统一社会信用代码), compacted and upper-case."""
    code = _ascii_compact(_text(value, field), field)
    try:
        return str(uscc.validate(code))
    except InvalidLength:
        raise InvalidInput(field, "a unified social credit code has 18 characters") from None
    except InvalidChecksum:
        raise InvalidInput(
            field, "unified social credit code has a wrong check character"
        ) from None
    except ValidationError:
        raise InvalidInput(
            field, "unified social credit code has characters outside its alphabet"
        ) from None


def _remember_valid(check: Callable[[str, str], T]) -> Callable[[str, str], T]:
    """``check(value, field)``, remembering the results for valid values.

    The same ids and case numbers come back with every look-up of a case, and checking
    them (stdnum's region table, Unicode normalisation, regular expressions) showed in
    profiles. A valid value stays valid (a birth date only gets further into the past);
    invalid ones are not remembered and are checked again, so the error names the field.
    Bounded to 8,192 values each (~1.5 MiB): the memory scenario's 100,000 distinct ids
    showed a 65,536-entry bound as ~13 MiB of fixed overhead.
    """
    remembered = lru_cache(maxsize=8_192)(lambda value: check(value, ""))

    def checked(value: str, field: str) -> T:
        if not isinstance(value, str):
            return check(value, field)
        try:
            return remembered(value)
        except InvalidInput:
            return check(value, field)

    return checked


def debtor_id(value: str, field: str = "id") -> tuple[str, DebtorKind]:
    """A debtor's id and its kind: a resident ID (PERSON) or a credit code (ORGANIZATION)."""
    return _debtor_id_remembered(value, field)


def _debtor_id(value: str, field: str) -> tuple[str, DebtorKind]:
    number = _ascii_compact(_text(value, field), field)
    if len(number) != 18:
        raise InvalidInput(field, _ID_MESSAGE)
    # Many credit codes are 17 digits and a check character too, so shape alone cannot
    # tell the kinds apart: try the person first, then the organization.
    try:
        return resident_id(number, field), DebtorKind.PERSON
    except InvalidInput as person_error:
        try:
            return credit_code(number, field), DebtorKind.ORGANIZATION
        except InvalidInput as org_error:
            looks_personal = number[:17].isdigit() and number[17] in "0123456789X"
            raise (person_error if looks_personal else org_error) from None


@dataclass(frozen=True, slots=True)
class CaseNumber:
    """A parsed case number (案号), e.g. （2024）苏0312执1234号."""

    year: int
    province: str  # 苏, or 最高法 for the Supreme People's Court
    court: str  # the court's digits within the province, "" for a higher people's court
    kind: str  # case type: 执, 执恢, 执保, 执异, 执复, 执监, 执协, ...
    seq: int

    @property
    def court_code(self) -> str:
        """The court's code as it appears in the number, e.g. 苏0312."""
        return self.province + self.court

    def __str__(self) -> str:
        return f"（{self.year}）{self.province}{self.court}{self.kind}{self.seq}号"


def parse_case_number(value: str, field: str = "caseNumber") -> CaseNumber:
    """Parse a case number; ASCII brackets, full-width digits and outer spaces are fine."""
    return _case_number_remembered(value, field)


def _parse_case_number(value: str, field: str) -> CaseNumber:
    text = unicodedata.normalize("NFKC", _text(value, field)).strip()
    match = _CASE_RE.fullmatch(text)
    if match is None:
        raise InvalidInput(field, "not an enforcement case number like （2024）苏0312执1234号")
    year = int(match["year"])
    if not 1990 <= year <= 2100:
        raise InvalidInput(field, f"case year {year} is outside 1990-2100")
    if match["province"] == _SUPREME and match["court"]:
        raise InvalidInput(field, "the Supreme People's Court has no court digits")
    return CaseNumber(year, match["province"], match["court"], match["kind"], int(match["seq"]))


_debtor_id_remembered = _remember_valid(_debtor_id)
_case_number_remembered = _remember_valid(_parse_case_number)


def case_number(value: str, field: str = "caseNumber") -> str:
    """A case number normalised to full-width brackets: （2024）苏0312执1234号."""
    return str(parse_case_number(value, field))


def id_list(
    values: Iterable[str] | None, field: str = "ids", max_items: int = 500
) -> list[tuple[str, DebtorKind]]:
    """Validate a list of debtor ids; duplicates are dropped, first occurrence kept."""
    if values is None or isinstance(values, str):
        raise InvalidInput(field, "must be a list of ids")
    items = list(values)
    if not items:
        raise InvalidInput(field, "must not be empty")
    if len(items) > max_items:
        raise InvalidInput(field, f"at most {max_items} ids per request, got {len(items)}")
    seen: dict[str, tuple[str, DebtorKind]] = {}
    for index, value in enumerate(items):
        number, kind = debtor_id(value, f"{field}[{index}]")
        seen.setdefault(number, (number, kind))
    return list(seen.values())
