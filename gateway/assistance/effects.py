"""What follows every step of an assistance request: audit it, tell subscribers, drop caches.

Shared by the mutations (``gateway/assistance/service.py``) and the lifecycle worker
(``gateway/assistance/lifecycle_worker.py``) so that a step is recorded the same way whoever
takes it. Each
step is its own ``AuditEntry`` (``operation`` such as ``"assistance.submit"``), in addition
to the record the GraphQL pipeline writes for the mutation as a whole.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from connectors.control import ControlAction
from connectors.domain import Facet
from gateway.audit.log import AuditEntry, AuditLog
from gateway.auth import Principal
from gateway.clock import Clock
from gateway.domain.assistance_rows import AssistanceRow
from gateway.errors import AuditUnavailable
from gateway.events.bus import Change, EventBus, case_topic

__all__ = ["SYSTEM", "Actor", "AssistanceEffects", "CachedFacts"]

log = logging.getLogger("liandong.assistance")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who takes a step, and in which HTTP request (for the audit record)."""

    subject: str
    officer_id: str
    court: str
    roles: frozenset[str]
    request_id: str

    @classmethod
    def of(cls, principal: Principal, request_id: str) -> Actor:
        return cls(
            principal.subject, principal.officer_id, principal.court, principal.roles, request_id
        )

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


SYSTEM = Actor("system:lifecycle", "system:lifecycle", "", frozenset({"system"}), "")


class CachedFacts(Protocol):
    """The read cache as a control step sees it: facts of debtors to drop.

    Handed in by whoever builds the services (``resolvers.cache.FactCache`` fits), so that
    the domain below the resolvers never imports them.
    """

    def invalidate(self, debtor_ids: Iterable[str], facets: Iterable[Facet] | None = None) -> int:
        """Drop the debtors' cached facts (all facets, or only ``facets``); the count dropped."""
        ...


class AssistanceEffects:
    """Audit, fan-out and cache invalidation for request steps."""

    def __init__(self, audit: AuditLog, bus: EventBus, cache: CachedFacts, clock: Clock) -> None:
        self.audit = audit
        self.bus = bus
        self.cache = cache
        self.clock = clock

    async def record(
        self,
        actor: Actor,
        operation: str,
        *,
        case_number: str,
        debtor_id: str | None,
        outcome: str = "ok",
        code: str | None = None,
        detail: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> int:
        """Append one step to the audit log; raises ``AuditUnavailable`` if it is not durable."""
        entry = AuditEntry(
            time=self.clock.now(),
            request_id=request_id if request_id is not None else actor.request_id,
            principal=actor.subject,
            court=actor.court,
            roles=tuple(sorted(actor.roles)),
            case_number=case_number,
            operation=operation,
            document_hash=None,
            variables={},
            debtors=(debtor_id,) if debtor_id else (),
            agencies=(),
            outcome=outcome,
            code=code,
            detail=dict(detail or {}),
        )
        return await self.audit.append(entry)

    async def record_step(
        self,
        actor: Actor,
        operation: str,
        row: AssistanceRow,
        *,
        outcome: str = "ok",
        code: str | None = None,
        **detail: Any,
    ) -> None:
        """Audit a step of ``row``; the worker logs a failure instead of stopping on it."""
        facts = {
            "assistanceRequest": row.id,
            "action": row.action,
            "agency": row.agency,
            "target": row.target,
            "status": row.status.value,
            **detail,
        }
        try:
            await self.record(
                actor,
                operation,
                case_number=row.case_number,
                debtor_id=row.debtor_id,
                outcome=outcome,
                code=code,
                detail=facts,
            )
        except AuditUnavailable:
            if actor is not SYSTEM:
                raise
            log.error("audit log unavailable: step %s of %s not recorded", operation, row.id)

    async def publish(self, row: AssistanceRow) -> None:
        """Tell the case's subscribers that ``row`` has new events."""
        await self.bus.publish(case_topic(row.case_number), Change(row.id, 0))

    def invalidate(self, row: AssistanceRow) -> None:
        """Drop the debtor's cached facts the action changes, so the next look-up sees it."""
        action = ControlAction(row.action)
        facets = [Facet.EXIT_BANS] if action.asset_kind is None else [Facet.ASSETS]
        self.cache.invalidate([row.debtor_id], facets)
