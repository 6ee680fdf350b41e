"""Which enforcement case types may carry which measures.

A case number's type code (``CaseNumber.kind``) says what the case is for. Only
implementation cases act on the debtor: 执 (first enforcement) and 执恢 (resumed). A
preservation enforcement case (执保) carries out a preservation order, so it may seize and
freeze but neither lists, bans consumption nor bans exit: those measures presuppose an
enforceable judgment the debtor has not performed (法释〔2017〕7号 art. 1; 法释〔2015〕17号
art. 1; 民事诉讼法 art. 266). Review cases — 执异 (objection), 执复 (reconsideration), 执监
(supervision) — and 执协, 执请, 执他 decide about enforcement and act on no one; a measure is
taken in the implementation case they concern. Refusals carry
``extensions.rule = ENFORCEMENT_CASE_TYPE``.
"""

from __future__ import annotations

from typing import Final

from gateway.errors import InvalidInput
from gateway.validation import parse_case_number

__all__ = ["CONTROL_CASE_TYPES", "RESTRICTION_CASE_TYPES", "RULE", "check_measure_case"]

RULE: Final = "ENFORCEMENT_CASE_TYPE"
CONTROL_CASE_TYPES: Final = frozenset({"执", "执恢", "执保"})
RESTRICTION_CASE_TYPES: Final = frozenset({"执", "执恢"})


def check_measure_case(number: str, *, restriction: bool, field: str = "input.caseNumber") -> None:
    """Refuse a measure under a case type that cannot carry it.

    ``restriction`` is True for listings, consumption bans and exit bans, False for
    seizures and freezes of assets. Lifting is never refused here: whatever was imposed in
    a case can be lifted in it.
    """
    kind = parse_case_number(number, field).kind
    allowed = RESTRICTION_CASE_TYPES if restriction else CONTROL_CASE_TYPES
    if kind not in allowed:
        what = "a listing or ban" if restriction else "a seizure or freeze"
        types = "、".join(sorted(allowed))
        raise InvalidInput(
            field,
            f"{what} is taken in an enforcement case ({types}), not in a {kind} case ({RULE})",
            rule=RULE,
        )
