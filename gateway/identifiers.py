"""The structure of Chinese identifiers as their standards write it, without error wording.

``gateway.validation`` turns these verdicts into ``InvalidInput`` messages; masking uses
them to tell a company's code from a person's number. python-stdnum is used where it reads
the standard fully (the GB 11643 check digit and birth date, the GB 32100 check character
and alphabet); where its reading is narrower or wider than the standard, the difference is
written here, each with its reason:

- GB 32100-2015 (统一社会信用代码): stdnum's ``uscc`` wants eight leading digits, so it
  refuses the registration authorities written with letters — A (中央军委改革和编制办公室),
  N (农业, e.g. rural collective economic organisations ``N2…``), Y (其他) — and it checks
  neither the authority and category codes nor the GB 11714 check digit that ends the
  embedded organisation code (positions 9-17), so ``000000000000000000`` passes it.
- GB 11643 for the residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民
  居住证, 2018): their numbers start 810000, 820000 and 830000, which stdnum's region table
  does not hold; everything else about them (birth date, check digit) is a resident id's.
"""

from __future__ import annotations

from typing import Final

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "PERMIT_REGIONS",
    "REGISTRATION_AUTHORITIES",
    "credit_code_problem",
    "is_credit_code",
    "organization_code_check",
    "permit_problem",
]

CREDIT_CODE_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# GB 32100-2015, table of registration authorities (登记管理部门代码, position 1) and the
# institution categories (机构类别代码, position 2) each of them uses.
REGISTRATION_AUTHORITIES: Final[dict[str, frozenset[str]]] = {
    "1": frozenset("1239"),  # 机构编制: 机关, 事业单位, 群众团体, 其他
    "2": frozenset("19"),  # 外交: 外国常驻新闻机构, 其他
    "3": frozenset("123459"),  # 司法行政: 律师事务所, 公证处, 基层法律服务所, 司法鉴定, 仲裁委员会
    "4": frozenset("19"),  # 文化: 外国在华文化中心, 其他
    "5": frozenset("1239"),  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": frozenset("129"),  # 旅游: 外国旅游部门常驻代表机构, 港澳台地区旅游部门代表机构
    "7": frozenset("129"),  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": frozenset("19"),  # 工会: 基层工会, 其他
    "9": frozenset("123"),  # 工商 (市场监管): 企业, 个体工商户, 农民专业合作社
    "A": frozenset("19"),  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "N": frozenset("1239"),  # 农业: 组级, 村级, 乡镇级集体经济组织, 其他
    "Y": frozenset("1"),  # 其他
}

# GB/T 2260 province-level codes that begin a registration authority's region (positions
# 3-8); 10 is the national level (central registrations, e.g. 111000…).
_PROVINCE_CODES: Final = frozenset(
    {"10", "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35"}
    | {"36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61"}
    | {"62", "63", "64", "65", "71", "81", "82"}
)
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)

PERMIT_REGIONS: Final = frozenset({"810000", "820000", "830000"})


def organization_code_check(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body.

    Letters count 10-35 as in the standard; 10 is written X and 11 as 0.
    """
    total = sum(int(char, 36) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def credit_code_problem(code: str) -> str | None:
    """What breaks GB 32100 in a compact, upper-case ``code``; ``None`` if it is valid."""
    if len(code) != 18:
        return "a unified social credit code has 18 characters"
    if any(char not in CREDIT_CODE_ALPHABET for char in code):
        return "unified social credit code has characters outside its alphabet"
    if code[-1] != uscc.calc_check_digit(code[:17]):
        return "unified social credit code has a wrong check character"
    categories = REGISTRATION_AUTHORITIES.get(code[0])
    if categories is None:
        return f"unified social credit code has an unknown registration authority {code[0]}"
    if code[1] not in categories:
        return f"registration authority {code[0]} has no institution category {code[1]}"
    if not code[2:8].isdigit() or code[2:4] not in _PROVINCE_CODES:
        return "unified social credit code has an invalid region code (positions 3-8)"
    if code[16] != organization_code_check(code[8:16]):
        return "the organisation code in the credit code (positions 9-17) has a wrong check digit"
    return None


def is_credit_code(code: str) -> bool:
    """True if ``code`` (compact, upper-case) is a valid GB 32100 credit code."""
    return credit_code_problem(code) is None


def permit_problem(number: str) -> str | None:
    """For a number starting 810000/820000/830000 (digits and check already shaped): what
    breaks it as a residence permit number, or ``None``. Birth date and check digit are
    GB 11643's, checked by stdnum; the region is fixed, so stdnum's table is not asked."""
    if number[-1] != ric.calc_check_digit(number):
        return "resident ID number has a wrong check digit"
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return "resident ID number has an invalid birth date"
    return None
