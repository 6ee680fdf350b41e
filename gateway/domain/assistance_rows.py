"""The rows of assistance requests and their events, as the store hands them out."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from gateway.domain.assistance_status import AssistanceStatus, EventKind

__all__ = ["AssistanceRow", "EventRow", "NewRequest", "event_from", "row_from"]


@dataclass(frozen=True, slots=True)
class NewRequest:
    """A request as validated by the service, before it has an id."""

    case_number: str
    court: str
    debtor_id: str
    agency: str
    action: str
    target: str
    target_value: Decimal | None
    amount: Decimal | None
    document_number: str
    since: date
    until: date | None
    renewal_of: str | None
    idempotency_key: str
    fingerprint: str
    requested_by: str
    override_reason: str | None = None
    reason: str | None = None  # a lift's written reason
    encumbrance: Decimal | None = None  # mortgages and earlier claims ranking ahead


@dataclass(frozen=True, slots=True)
class AssistanceRow:
    """A stored request."""

    id: str
    case_number: str
    court: str
    debtor_id: str
    agency: str
    action: str
    target: str
    target_value: Decimal | None
    amount: Decimal | None
    document_number: str
    since: date
    until: date | None
    renewal_of: str | None
    status: AssistanceStatus
    idempotency_key: str
    fingerprint: str
    requested_by: str
    approved_by: str | None
    override_reason: str | None
    reason: str | None
    ticket: str | None
    reference: str | None
    queue_position: int | None
    reply: str | None
    attempts: int
    next_attempt_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None
    deadline: datetime | None
    overdue: bool
    lifted_by: str | None
    created_at: datetime
    updated_at: datetime
    encumbrance: Decimal | None = None  # mortgages and earlier claims ranking ahead


@dataclass(frozen=True, slots=True)
class EventRow:
    """One entry of a request's timeline."""

    request_id: str
    seq: int
    case_number: str
    at: datetime
    kind: EventKind
    status: AssistanceStatus
    actor: str
    note: str | None


_ROW_FIELDS = [f.name for f in fields(AssistanceRow)]


def row_from(m: Any) -> AssistanceRow:
    """A row of ``assistance_requests`` as a dataclass."""
    values = {name: m[name] for name in _ROW_FIELDS}
    values["status"] = AssistanceStatus(values["status"])
    values["overdue"] = bool(values["overdue"])
    return AssistanceRow(**values)


def event_from(m: Any) -> EventRow:
    """A row of ``assistance_events`` as a dataclass."""
    return EventRow(
        request_id=m["request_id"],
        seq=m["seq"],
        case_number=m["case_number"],
        at=m["at"],
        kind=EventKind(m["kind"]),
        status=AssistanceStatus(m["status"]),
        actor=m["actor"],
        note=m["note"],
    )
