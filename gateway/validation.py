"""Argument validation: every check raises ``InvalidInput(field, message)``, nothing else.

Identifiers follow their standards (GB 11643 resident ids and residence permits, GB 32100
credit codes), with python-stdnum where it reads them fully and ``gateway.identifiers``
where it does not (the differences are listed there). Case numbers (案号) follow the
Supreme People's Court's numbering rules in force since 1 January 2016 (最高人民法院关于
人民法院案件案号的若干规定, 法〔2015〕137号, and its 案件类型代字标准): ``（收案年度）法院代字
类型代字 案件编号号``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TypeVar

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError

from connectors.domain import DebtorKind
from gateway.clock import court_date
from gateway.errors import InvalidInput
from gateway.identifiers import PERMIT_REGIONS, credit_code_problem, permit_problem

__all__ = [
    "CASE_NUMBER_RULE",
    "CASE_TYPES",
    "CREDIT_CODE_RULE",
    "PROVINCES",
    "RESIDENT_ID_RULE",
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

# 案件类型代字 of enforcement cases (2016 standard): implementation — 执 (first enforcement),
# 执恢 (resumed), 执保 (enforcing a preservation order); review and others — 执异
# (objection), 执复 (reconsideration), 执监 (supervision), 执协 (coordination), 执请
# (request for instructions), 执他 (other).
CASE_TYPES = frozenset({"执", "执恢", "执保", "执异", "执复", "执监", "执协", "执请", "执他"})
FIRST_FORMAT_YEAR = 2016

_CASE_RE = re.compile(
    rf"""
    [(〔\[] (?P<year>\d{{4}}) [)〕\]]
    (?P<province>{_SUPREME}|[{"".join(sorted(PROVINCES))}])
    (?P<court>\d*)
    (?P<kind>[{_CJK}]*?)
    (?P<seq>[1-9]\d{{0,7}})
    号
    """,
    re.VERBOSE,
)
# Court codes (法院代字): the province alone for a higher court, two digits more for an
# intermediate or specialised court (苏01, 京73), four for a basic court (苏0312).
_COURT_DIGITS = frozenset({0, 2, 4})
_ID_MESSAGE = "must be an 18-character resident ID number or unified social credit code"


# Rule names of the standards, in ``extensions.rule`` (``docs/rules.md``).
RESIDENT_ID_RULE = "RESIDENT_ID_GB11643"
CREDIT_CODE_RULE = "CREDIT_CODE_GB32100"
CASE_NUMBER_RULE = "CASE_NUMBER_2016"


def _resident_refusal(field: str, message: str) -> InvalidInput:
    return InvalidInput(field, message, rule=RESIDENT_ID_RULE)


def _credit_refusal(field: str, message: str) -> InvalidInput:
    return InvalidInput(field, message, rule=CREDIT_CODE_RULE)


def _case_refusal(field: str, message: str) -> InvalidInput:
    return InvalidInput(field, message, rule=CASE_NUMBER_RULE)


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
    """A valid 18-digit resident ID number (居民身份证号), compacted and upper-case.

    Hong Kong, Macao and Taiwan residents' residence-permit numbers (810000…, 820000…,
    830000…) are accepted: GB 11643 numbers whose region stdnum's table does not hold.
    """
    number = _ascii_compact(_text(value, field), field)
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise _resident_refusal(
            field, "a resident ID number has 17 digits and a check digit (0-9 or X)"
        )
    if number[:6] in PERMIT_REGIONS:
        problem = permit_problem(number)
        if problem is not None:
            raise _resident_refusal(field, problem)
        return _not_born_later(number, field)
    try:
        _validate_ric(number)
    except InvalidChecksum:
        raise _resident_refusal(field, "resident ID number has a wrong check digit") from None
    except InvalidComponent:
        try:
            ric.get_birth_date(number)
        except ValidationError:
            raise _resident_refusal(field, "resident ID number has an invalid birth date") from None
        raise _resident_refusal(field, "resident ID number has an unknown region code") from None
    except ValidationError:
        raise _resident_refusal(
            field, "a resident ID number has 17 digits and a check digit"
        ) from None
    except KeyError:
        # python-stdnum's region table has entries without a county list, on which its
        # birth-place look-up raises KeyError instead of InvalidComponent.
        raise _resident_refusal(field, "resident ID number has an unknown region code") from None
    return _not_born_later(number, field)


def _not_born_later(number: str, field: str) -> str:
    if ric.get_birth_date(number) > court_date(datetime.now(UTC)):
        raise _resident_refusal(field, "resident ID number has a birth date in the future")
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
    """A valid unified social credit code (统一社会信用代码, GB 32100), compact, upper-case.

    Registration authorities written with letters (A, N, Y) are accepted, and the embedded
    organisation code's own check digit is checked (``gateway.identifiers``).
    """
    code = _ascii_compact(_text(value, field), field)
    problem = credit_code_problem(code)
    if problem is not None:
        raise _credit_refusal(field, problem)
    return code


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
        raise _case_refusal(field, "not an enforcement case number like （2024）苏0312执1234号")
    kind = match["kind"]
    if kind.endswith("字第"):
        raise _case_refusal(
            field, "the 执字第 form was abolished in 2016: write （2024）苏0312执1号"
        )
    if kind not in CASE_TYPES:
        types = "、".join(sorted(CASE_TYPES))
        raise _case_refusal(
            field, f"{kind or '(no type)'} is not an enforcement case type ({types})"
        )
    year = int(match["year"])
    this_year = court_date(datetime.now(UTC)).year
    if year > this_year:
        raise _case_refusal(field, f"case year {year} is in the future")
    if year < FIRST_FORMAT_YEAR:
        raise _case_refusal(field, f"case numbers in this form exist from {FIRST_FORMAT_YEAR}")
    court = match["court"]
    if match["province"] == _SUPREME and court:
        raise _case_refusal(field, "the Supreme People's Court has no court digits")
    if len(court) not in _COURT_DIGITS:
        raise _case_refusal(field, f"a court code has 0, 2 or 4 digits after {match['province']}")
    return CaseNumber(year, match["province"], court, kind, int(match["seq"]))


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
