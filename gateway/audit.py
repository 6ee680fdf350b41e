"""The audit trail's public face: what a record holds and how it is appended.

Every operation — a look-up, a refusal, each step of a control action — becomes one
``AuditEntry``. ``AuditLog.append`` returns only once the entry is durable; the log chains
each record to the previous one by hash (see ``gateway/audit_chain.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

__all__ = ["AgencyCallRecord", "AuditEntry", "AuditLog", "Outcome"]

Outcome = str  # "ok" | "partial" | "refused" | "error"


@dataclass(frozen=True, slots=True)
class AgencyCallRecord:
    agency: str
    facet: str
    keys: int
    errors: int
    ms: float


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited operation. Personal numbers in ``variables`` and ``detail`` are masked."""

    time: datetime
    request_id: str
    principal: str  # subject / officer id ("" when unauthenticated)
    court: str
    roles: tuple[str, ...]
    case_number: str | None
    operation: str  # GraphQL operation name, or e.g. "assistance.submit"
    document_hash: str | None  # sha256 of the GraphQL document
    variables: dict[str, Any]
    debtors: tuple[str, ...]  # ids touched (stored as given: the log is not a response)
    agencies: tuple[AgencyCallRecord, ...]
    outcome: Outcome
    code: str | None = None  # the error code when outcome is refused / error
    detail: dict[str, Any] = field(default_factory=dict)


class AuditLog(Protocol):
    """Append-only, hash-chained, durable before ``append`` returns."""

    async def append(self, entry: AuditEntry) -> int:
        """Append ``entry``; return its sequence number once it is durable."""
        ...
