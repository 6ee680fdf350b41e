"""What a case, a court-side decision and a restriction can be: the domain's enums.

Kept apart from the tables that store them (``gateway.store.tables``) so that the schema and
the rules name them without importing SQL.
"""

from __future__ import annotations

import enum

from gateway.errors import InvalidInput

__all__ = [
    "CaseStatus",
    "DecisionStatus",
    "RestrictionKind",
    "RestrictionStatus",
    "parse_case_status",
]


class CaseStatus(enum.StrEnum):
    """Where an enforcement case stands; each change has its legal effects."""

    ACTIVE = "ACTIVE"  # 执行中
    DORMANT = "DORMANT"  # 终结本次执行程序 (终本): re-queried every six months for five years
    FULLY_PERFORMED = "FULLY_PERFORMED"  # 执行完毕: listings deleted, bans lifted
    TERMINATED = "TERMINATED"  # 终结执行


def parse_case_status(value: str, field: str = "status") -> CaseStatus:
    """A case status by name; ``INVALID_INPUT`` naming the statuses otherwise."""
    try:
        return CaseStatus(value)
    except ValueError:
        names = ", ".join(s.value for s in CaseStatus)
        raise InvalidInput(field, f"must be one of {names}", rule="CASE_STATUS") from None


class DecisionStatus(enum.StrEnum):
    """A court-side restriction's written decision, before and after the president signs."""

    PENDING_SIGNOFF = "PENDING_SIGNOFF"
    SIGNED = "SIGNED"  # in force: its restriction exists, with the decision's id
    WITHDRAWN = "WITHDRAWN"  # never signed (the case was paid meanwhile)


class RestrictionKind(enum.StrEnum):
    HIGH_CONSUMPTION_BAN = "HIGH_CONSUMPTION_BAN"  # 限制高消费
    DISHONEST_LIST = "DISHONEST_LIST"  # 失信名单
    EXIT_BAN = "EXIT_BAN"  # 限制出境


class RestrictionStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    LIFTED = "LIFTED"
