"""Cases and restrictions as the store takes them in and hands them out: plain dataclasses.

Apart from ``Store`` so that its listeners (``gateway.store.change_events``) and readers can
name a row without importing the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.domain import DebtorKind
from gateway.domain.case_values import CaseStatus, RestrictionKind, RestrictionStatus

__all__ = ["CaseIn", "CaseRow", "RestrictionIn", "RestrictionRow", "case_rows", "restriction"]


@dataclass(slots=True)
class CaseIn:
    """A case as a court system registers it."""

    number: str
    court: str
    applicant: str
    amount_due: Decimal
    debtor_ids: list[tuple[str, DebtorKind]]
    officers: list[str] = field(default_factory=list)
    judges: list[str] = field(default_factory=list)
    filed_on: date | None = None
    status: CaseStatus = CaseStatus.ACTIVE
    security: Decimal | None = None  # 担保 the debtor gave


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A stored case with its parties and staff."""

    number: str
    court: str
    court_code: str
    applicant: str
    amount_due: Decimal
    status: CaseStatus
    filed_on: date | None
    created_at: datetime
    debtor_ids: tuple[tuple[str, DebtorKind], ...]
    officer_ids: tuple[str, ...]
    judge_ids: tuple[str, ...]
    security: Decimal | None = None
    status_since: date | None = None

    def has_debtor(self, debtor_id: str) -> bool:
        """True if ``debtor_id`` is a party to this case."""
        return any(d == debtor_id for d, _ in self.debtor_ids)

    def is_assigned(self, officer_id: str) -> bool:
        """True if ``officer_id`` is an officer or judge of this case."""
        return officer_id in self.officer_ids or officer_id in self.judge_ids


@dataclass(slots=True)
class RestrictionIn:
    """A restriction to record against a debtor."""

    debtor_id: str
    kind: RestrictionKind
    case_number: str
    court: str
    since: date
    ground: str | None = None
    until: date | None = None
    status: RestrictionStatus = RestrictionStatus.ACTIVE
    lift_reason: str | None = None


@dataclass(frozen=True, slots=True)
class RestrictionRow:
    """A stored restriction."""

    id: str
    debtor_id: str
    kind: RestrictionKind
    case_number: str
    court: str
    ground: str | None
    since: date
    until: date | None
    status: RestrictionStatus
    lift_reason: str | None
    created_at: datetime


def case_rows(head: Sequence[Any], parties: Sequence[Any], staff: Sequence[Any]) -> list[CaseRow]:
    """Cases from their head rows, parties and staff as selected."""
    # Sorted here, not by ORDER BY alone: the database's collation (PostgreSQL's locale)
    # must not change the order a case lists its parties and staff in.
    debtors: dict[str, list[tuple[str, DebtorKind]]] = {}
    for p in sorted(parties, key=lambda p: p.debtor_id):
        debtors.setdefault(p.case_number, []).append((p.debtor_id, DebtorKind(p.kind)))
    people: dict[tuple[str, str], list[str]] = {}
    for s in sorted(staff, key=lambda s: s.officer_id):
        people.setdefault((s.case_number, s.role), []).append(s.officer_id)
    return [
        CaseRow(
            number=r.number,
            court=r.court,
            court_code=r.court_code,
            applicant=r.applicant,
            amount_due=r.amount_due,
            status=CaseStatus(r.status),
            filed_on=r.filed_on,
            created_at=r.created_at,
            debtor_ids=tuple(debtors.get(r.number, ())),
            officer_ids=tuple(people.get((r.number, "officer"), ())),
            judge_ids=tuple(people.get((r.number, "judge"), ())),
            security=r.security,
            status_since=r.status_since,
        )
        for r in head
    ]


def restriction(m: Any) -> RestrictionRow:
    """A restriction from its row's mapping."""
    return RestrictionRow(
        id=m["id"],
        debtor_id=m["debtor_id"],
        kind=RestrictionKind(m["kind"]),
        case_number=m["case_number"],
        court=m["court"],
        ground=m["ground"],
        since=m["since"],
        until=m["until"],
        status=RestrictionStatus(m["status"]),
        lift_reason=m["lift_reason"],
        created_at=m["created_at"],
    )
