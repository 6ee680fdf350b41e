"""The persons behind an organisation that the law reaches through it.

- A consumption ban on an organisation restricts, besides the organisation, its legal
  representative, main persons in charge, persons directly responsible for the debt's
  performance and actual controller (最高人民法院关于限制被执行人高消费及有关消费的若干规定,
  法释〔2015〕17号, art. 3 ¶2). Market regulation's register gives the legal representative,
  the executives (主要人员: directors, managers), who stand for the persons in charge and
  responsible, and the shareholders with their ratios; a shareholder holding more than half
  the capital is a controlling shareholder (公司法, 2023, art. 265), who stands for the actual
  controller. Those persons are recorded with the measure and screen as restricted "through"
  the organisation (rule ``CONSUMPTION_BAN_REACHES_PERSONS``).
- An exit ban for an organisation is placed on its legal representative, main person in
  charge or directly responsible person (最高人民法院关于适用《中华人民共和国民事诉讼法》执行程序
  若干问题的解释, 2020, art. 24): the legal representative unless the court names an
  executive; anyone else is refused (``EXIT_BAN_ORGANIZATION_PERSON``). The article does not
  name the actual controller, so a shareholder who is neither is not a target.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from connectors.domain import OrganizationPerson
from gateway.errors import InvalidInput
from gateway.validation import resident_id

__all__ = [
    "CONTROLLING_SHARE",
    "EXIT_BAN_RULE",
    "BehindPerson",
    "BehindRole",
    "consumption_ban_persons",
    "exit_ban_person",
]

CONTROLLING_SHARE: Final = Decimal("0.5")
EXIT_BAN_RULE: Final = "EXIT_BAN_ORGANIZATION_PERSON"


class BehindRole(enum.StrEnum):
    """Why a person is reached through the organisation, strongest first."""

    LEGAL_REPRESENTATIVE = "LEGAL_REPRESENTATIVE"  # 法定代表人
    EXECUTIVE = "EXECUTIVE"  # 主要负责人 / 直接责任人员, as the register's 主要人员
    CONTROLLING_SHAREHOLDER = "CONTROLLING_SHAREHOLDER"  # 控股股东, for the 实际控制人


_RANK = {role: n for n, role in enumerate(BehindRole)}


@dataclass(frozen=True, slots=True, order=True)
class BehindPerson:
    """A natural person reached through an organisation, and in which capacity."""

    person_id: str
    role: BehindRole


def _role(person: OrganizationPerson) -> BehindRole | None:
    if person.role == "LEGAL_REPRESENTATIVE":
        return BehindRole.LEGAL_REPRESENTATIVE
    if person.role == "EXECUTIVE":
        return BehindRole.EXECUTIVE
    share = person.share_ratio
    if person.role == "SHAREHOLDER" and share is not None and share > CONTROLLING_SHARE:
        return BehindRole.CONTROLLING_SHAREHOLDER
    return None


def _natural(person_id: str) -> str | None:
    # A shareholder may itself be a company: it is no person to restrict.
    try:
        return resident_id(person_id)
    except InvalidInput:
        return None


def consumption_ban_persons(persons: Iterable[OrganizationPerson]) -> tuple[BehindPerson, ...]:
    """The persons a consumption ban on the organisation restricts (art. 3 ¶2), one entry
    per person under the strongest capacity, ordered by id."""
    best: dict[str, BehindRole] = {}
    for person in persons:
        role, number = _role(person), _natural(person.person_id)
        if role is None or number is None:
            continue
        held = best.get(number)
        if held is None or _RANK[role] < _RANK[held]:
            best[number] = role
    return tuple(sorted(BehindPerson(pid, role) for pid, role in best.items()))


def exit_ban_person(
    persons: Iterable[OrganizationPerson], chosen: str | None, *, field: str = "input.personId"
) -> BehindPerson:
    """The person an exit ban for the organisation is placed on (art. 24): ``chosen`` if the
    register names them legal representative or executive, else the legal representative."""
    reachable = [
        p
        for p in consumption_ban_persons(persons)
        if p.role is not BehindRole.CONTROLLING_SHAREHOLDER
    ]
    if chosen:
        wanted = resident_id(chosen, field)
        found = next((p for p in reachable if p.person_id == wanted), None)
        if found is None:
            raise InvalidInput(
                field,
                "an exit ban for an organisation is placed on its legal representative or an "
                f"executive named in market regulation's register ({EXIT_BAN_RULE})",
                rule=EXIT_BAN_RULE,
            )
        return found
    legal = [p for p in reachable if p.role is BehindRole.LEGAL_REPRESENTATIVE]
    if not legal:
        raise InvalidInput(
            field,
            f"market regulation names no legal representative; name the person ({EXIT_BAN_RULE})",
            rule=EXIT_BAN_RULE,
        )
    return legal[0]
