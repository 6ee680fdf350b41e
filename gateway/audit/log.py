"""The audit trail's public face: what a record holds and how it is appended.

Every operation — a look-up, a refusal, each step of a control action — becomes one
``AuditEntry``. ``AuditLog.append`` returns only once the entry is durable; the log chains
each record to the previous one by hash (see ``gateway/audit/chain.py``). The SQL log with
group commit is ``gateway/audit/store.py``; ``MemoryAuditLog`` there serves unit tests.

Personal numbers never reach storage in the clear: the log keeps variables through
``gateway.masking.mask_value`` and each debtor id as its masked form plus a keyed hash
(HMAC-SHA256 under the deployment's audit key), which is what queries by debtor match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gateway.audit.entities import EntityReference
from gateway.audit.shared_fields import SharedFields

__all__ = ["AgencyCallRecord", "AuditEntry", "AuditLog", "Outcome"]

Outcome = str  # "ok" | "partial" | "refused" | "error"


@dataclass(frozen=True, slots=True)
class AgencyCallRecord:
    """One upstream batch: which agency, for what, how many keys, how it went, how long."""

    agency: str
    facet: str
    keys: int
    errors: int
    ms: float
    status: str = "ok"  # "ok", or the error code of the agency's first failed key


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
    debtors: tuple[str, ...]  # ids asked for or touched, as given; stored masked + keyed hash
    agencies: tuple[AgencyCallRecord, ...]
    outcome: Outcome
    code: str | None = None  # the error code when outcome is refused / error
    detail: dict[str, Any] = field(default_factory=dict)
    cases: tuple[str, ...] = ()  # every case named, when more than ``case_number``
    http_status: int | None = None  # the status of the response this record stands for
    duration_ms: float | None = None  # from arrival to the record being made
    # An _entities request's references, in the order asked (see gateway/audit/entities.py).
    references: tuple[EntityReference, ...] = ()
    client_request_id: str | None = None  # the client's X-Request-Id, kept beside ours
    # Fields this entry shares with others, prepared once (gateway/audit/shared_fields.py).
    shared: SharedFields | None = field(default=None, compare=False, repr=False)


class AuditLog(Protocol):
    """Append-only, hash-chained, durable before ``append`` returns.

    ``append`` raises ``gateway.errors.AuditUnavailable`` when the entry could not be made
    durable; the caller must then not act (fail closed). ``healthy`` is False after a failed
    write until a later one succeeds.
    """

    @property
    def healthy(self) -> bool:
        """False while the last attempt to write failed."""
        ...

    async def append(self, entry: AuditEntry) -> int:
        """Append ``entry``; return its sequence number once it is durable."""
        ...

    async def aclose(self) -> None:
        """Write what is queued, then release the log's resources."""
        ...
