"""Where an assistance request is in its life, and what happened to it: the domain's enums.

Kept apart from the tables that store them (``gateway.store.assistance_tables``) so that the
schema, the rules and the store all name them without importing SQL.
"""

from __future__ import annotations

import enum

__all__ = ["ACTIVE_STATUSES", "TERMINAL_STATUSES", "AssistanceStatus", "EventKind"]


class AssistanceStatus(enum.StrEnum):
    """Where a request is in its life."""

    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    SUBMITTED = "SUBMITTED"
    COMPLETED = "COMPLETED"
    QUEUED = "QUEUED"  # 轮候: executed behind another court's control
    REJECTED = "REJECTED"  # by the judge, or by the agency
    # No answer after ``max_attempts`` sends: the agency may have carried it out (a lost
    # response) or not. Until a resend learns which, it counts as holding its value.
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL_STATUSES = frozenset(
    {
        AssistanceStatus.COMPLETED,
        AssistanceStatus.QUEUED,
        AssistanceStatus.REJECTED,
        AssistanceStatus.FAILED,
        AssistanceStatus.CANCELLED,
    }
)
# Requests whose value the over-seizure guard counts as committed to the case. FAILED is
# among them: every FAILED request was sent, and a lost answer may hide an execution.
ACTIVE_STATUSES = frozenset(
    {
        AssistanceStatus.PENDING_APPROVAL,
        AssistanceStatus.APPROVED,
        AssistanceStatus.SUBMITTED,
        AssistanceStatus.COMPLETED,
        AssistanceStatus.FAILED,
    }
)


class EventKind(enum.StrEnum):
    """What happened to a request; status changes and the notable steps between them."""

    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    SUBMITTED = "SUBMITTED"
    TICKET = "TICKET"  # the agency accepted it and gave a ticket to poll
    RETRY = "RETRY"  # the outcome was unknown; it will be sent again with the same key
    COMPLETED = "COMPLETED"
    QUEUED = "QUEUED"
    AGENCY_REJECTED = "AGENCY_REJECTED"
    FAILED = "FAILED"
    RESENT = "RESENT"  # a FAILED request sent again, with its key, to learn its outcome
    OVERDUE = "OVERDUE"
    LIFTED = "LIFTED"  # a later lift request released this control
    LAPSING = "LAPSING"  # its term ends soon and no renewal is on its way (art. 27)
    TOOK_EFFECT = "TOOK_EFFECT"  # a queued seizure whose holder was lifted (art. 26)
