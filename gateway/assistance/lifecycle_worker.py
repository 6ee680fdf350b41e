"""The lifecycle worker: sends approved requests, follows tickets, marks overdue ones.

It runs inside each gateway process and keeps no state of its own: everything it knows is
in the store, so a restarted (or a second) gateway carries on where the last one stopped.

- APPROVED: claimed with ``UPDATE ... WHERE status = 'APPROVED'`` (one claimant wins),
  which moves it to SUBMITTED under a lease, then sent with its idempotency key.
- SUBMITTED with a free or expired lease and due: sent again with the same key (the agency
  answers with the first execution's result), or its ticket polled.
- The agency's answer settles it: COMPLETED, QUEUED (轮候) or REJECTED. An unknown outcome
  (timeout, dropped connection, 5xx) is retried with back-off, up to ``max_attempts``
  sends, then FAILED (it still counts as holding its value; ``resendAssistance`` sends it
  again with its key). A SUBMITTED request past its deadline is marked overdue, once.
- QUEUED: looked at again every ``queue_check_s`` until the seizure ahead is lifted and it
  takes effect (``gateway/assistance/queue_steps.py``). COMPLETED controls about to lapse are warned
  of once, and an approved renewal of a lapsed control is never sent
  (``gateway/assistance/lapse_steps.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Mapping
from datetime import date, timedelta

from connectors.control import (
    ControlAction,
    ControlOrder,
    ControlReceipt,
    ReceiptStatus,
    control_connector,
)
from gateway.assistance.effects import SYSTEM, AssistanceEffects
from gateway.assistance.lapse_steps import notice_lapsing, refuse_lapsed_renewal
from gateway.assistance.queue_steps import QueueWatch
from gateway.clock import Clock, court_date
from gateway.domain.assistance_status import AssistanceStatus, EventKind
from gateway.errors import AgencyError, AgencyRejected, CircuitOpen
from gateway.settings import AssistanceSettings
from gateway.store.assistance import AssistanceRow, AssistanceStore, mark_lifted
from gateway.store.assistance_tables import assistance_requests

__all__ = ["LifecycleWorker"]

log = logging.getLogger("liandong.worker")

_SETTLED = {
    ReceiptStatus.COMPLETED: (AssistanceStatus.COMPLETED, EventKind.COMPLETED, "completed"),
    ReceiptStatus.QUEUED: (AssistanceStatus.QUEUED, EventKind.QUEUED, "queued"),
    ReceiptStatus.REJECTED: (
        AssistanceStatus.REJECTED,
        EventKind.AGENCY_REJECTED,
        "agency_rejected",
    ),
}


class LifecycleWorker:
    """One process's worker; ``start`` it in the app's lifespan, ``stop`` it at shutdown."""

    def __init__(
        self,
        requests: AssistanceStore,
        *,
        connectors: Mapping[str, object],
        effects: AssistanceEffects,
        settings: AssistanceSettings,
        clock: Clock,
        instance: str | None = None,
    ) -> None:
        self.requests = requests
        self.connectors = connectors
        self.effects = effects
        self.settings = settings
        self.clock = clock
        # Host and process id first: an operator (or a test) can tell whose lease it is.
        self.instance = instance or (
            f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        )
        self.queue = QueueWatch(requests, connectors, effects, settings, self.instance)
        self._lapse_day: date | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.steps = 0  # work done, for tests and metrics

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="liandong-lifecycle-worker")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Look for work now rather than at the next scan."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The store or an agency misbehaved in a way we did not foresee: the request
                # stays where it is and is picked up again at the next scan.
                log.exception("lifecycle worker scan failed")
                done = 0
            if done:
                continue
            self._wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 a cancel that meets wait_for's
            # own timeout comes out as TimeoutError, which this loop would swallow.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.poll_interval_s):
                    await self._wake.wait()

    async def run_once(self) -> int:
        """One scan: handle what is due, mark what is overdue; return how much was done."""
        now = self.clock.now()
        done = 0
        for row in await self.requests.past_deadline(now, self.settings.batch):
            marked = await self.requests.note(
                row.id,
                AssistanceStatus.SUBMITTED,
                EventKind.OVERDUE,
                actor=SYSTEM.officer_id,
                now=now,
                note=f"no answer by {row.deadline.isoformat() if row.deadline else '?'}",
                values={"overdue": True},
                # Two scans (two workers, or two instances) may both have read it as not
                # yet overdue: only the one whose UPDATE still finds it so marks it.
                only_if=assistance_requests.c.overdue.is_(False),
            )
            if marked is not None:
                await self.effects.record_step(SYSTEM, "assistance.overdue", marked)
                await self.effects.publish(marked)
                done += 1
        if self._lapse_day != court_date(now):
            # Terms end on days: one look a day suffices, unless a full batch was warned.
            warned = await notice_lapsing(
                self.requests,
                self.effects,
                now,
                self.settings.lapse_notice_days,
                self.settings.batch,
            )
            done += warned
            if warned < self.settings.batch:
                self._lapse_day = court_date(now)
        done += await self.queue.run_once(now)
        rows = await self.requests.due(now, self.settings.batch)
        await asyncio.gather(*(self._handle(row) for row in rows))
        self.steps += len(rows)
        return done + len(rows)

    async def _handle(self, row: AssistanceRow) -> None:
        now = self.clock.now()
        lease_until = now + timedelta(seconds=self.settings.lease_s)
        if row.status is AssistanceStatus.APPROVED:
            if await refuse_lapsed_renewal(self.requests, self.effects, row, now):
                return  # never sent: the control it would continue has lapsed
            deadline_s = self.settings.deadline_s.get(row.agency, 86400.0)
            claimed = await self.requests.transition(
                row.id,
                [AssistanceStatus.APPROVED],
                AssistanceStatus.SUBMITTED,
                EventKind.SUBMITTED,
                actor=SYSTEM.officer_id,
                now=now,
                values={
                    "lease_owner": self.instance,
                    "lease_until": lease_until,
                    "deadline": now + timedelta(seconds=deadline_s),
                },
            )
            if claimed is None:
                return  # another worker won it
            await self.effects.record_step(SYSTEM, "assistance.submit", claimed)
            await self.effects.publish(claimed)
            # The agency may act on it from now on: cached assets may be stale already.
            self.effects.invalidate(claimed)
            row = claimed
        else:
            if not await self.requests.lease(
                row.id, AssistanceStatus.SUBMITTED, self.instance, now, self.settings.lease_s
            ):
                return
            # Read it again under our lease: another worker may have moved it on (a ticket,
            # an attempt) between the scan and the lease.
            leased = await self.requests.get(row.id)
            if leased is None or leased.lease_owner != self.instance:
                return
            row = leased
        await self._send(row)

    async def _send(self, row: AssistanceRow) -> None:
        action = ControlAction(row.action)
        connector = control_connector(action, self.connectors.values())
        if connector is None:
            await self._retry(row, f"no running agency carries out {action.value}")
            return
        try:
            if row.ticket:
                receipt = await connector.poll(row.ticket)
            else:
                receipt = await connector.submit(_order(row), row.idempotency_key)
        except AgencyRejected as err:
            if err.extra.get("httpStatus") == 429:
                await self._retry(row, err.message)
            else:
                await self._settle(row, ControlReceipt(ReceiptStatus.REJECTED, reply=err.message))
            return
        except CircuitOpen as err:
            # Nothing was sent: wait for the breaker, without spending an attempt.
            await self._retry(row, f"{err.code}: {err.message}", sent=False)
            return
        except AgencyError as err:
            await self._retry(row, f"{err.code}: {err.message}")
            return
        if receipt.status is ReceiptStatus.PENDING:
            await self._ticket(row, receipt)
        else:
            await self._settle(row, receipt)

    async def _ticket(self, row: AssistanceRow, receipt: ControlReceipt) -> None:
        now = self.clock.now()
        values = {
            "ticket": receipt.ticket,
            "lease_owner": None,
            "lease_until": None,
            "next_attempt_at": now + timedelta(seconds=self.settings.ticket_poll_s),
        }
        if row.ticket == receipt.ticket:
            await self.requests.release(row.id, self.instance, now, values)
            return
        noted = await self.requests.note(
            row.id,
            AssistanceStatus.SUBMITTED,
            EventKind.TICKET,
            actor=SYSTEM.officer_id,
            now=now,
            note=receipt.ticket,
            values=values,
            lease_owner=self.instance,
        )
        if noted is not None:
            await self.effects.publish(noted)

    async def _settle(self, row: AssistanceRow, receipt: ControlReceipt) -> None:
        status, kind, operation = _SETTLED[receipt.status]
        now = self.clock.now()

        async def lifted(conn: object, moved: AssistanceRow) -> None:
            if ControlAction(moved.action).is_lift and status is AssistanceStatus.COMPLETED:
                await mark_lifted(conn, moved, now)  # type: ignore[arg-type]

        moved = await self.requests.transition(
            row.id,
            [AssistanceStatus.SUBMITTED],
            status,
            kind,
            actor=SYSTEM.officer_id,
            now=now,
            note=receipt.reply or None,
            values={
                "reference": receipt.reference,
                "queue_position": receipt.queue_position,
                "reply": receipt.reply or None,
                "lease_owner": None,
                "lease_until": None,
                # A queued seizure is looked at again later (gateway/assistance/queue_steps.py).
                "next_attempt_at": now + timedelta(seconds=self.settings.queue_check_s)
                if status is AssistanceStatus.QUEUED
                else row.next_attempt_at,
            },
            hook=lifted,
            lease_owner=self.instance,
        )
        if moved is None:
            return
        if status is not AssistanceStatus.REJECTED:
            self.effects.invalidate(moved)
        await self.effects.record_step(
            SYSTEM,
            f"assistance.{operation}",
            moved,
            outcome="ok" if status is not AssistanceStatus.REJECTED else "refused",
            code=None if status is not AssistanceStatus.REJECTED else AgencyRejected.code,
            reference=receipt.reference,
            queuePosition=receipt.queue_position,
            reply=receipt.reply,
        )
        await self.effects.publish(moved)

    async def _retry(self, row: AssistanceRow, reason: str, *, sent: bool = True) -> None:
        now = self.clock.now()
        attempts = row.attempts + 1 if sent else row.attempts
        if attempts >= self.settings.max_attempts:
            moved = await self.requests.transition(
                row.id,
                [AssistanceStatus.SUBMITTED],
                AssistanceStatus.FAILED,
                EventKind.FAILED,
                actor=SYSTEM.officer_id,
                now=now,
                note=reason,
                values={"attempts": attempts, "reply": reason, "lease_owner": None},
                lease_owner=self.instance,
            )
            if moved is not None:
                await self.effects.record_step(
                    SYSTEM, "assistance.fail", moved, outcome="error", reason=reason
                )
                await self.effects.publish(moved)
            return
        delay = min(
            self.settings.retry_max_s, self.settings.retry_base_s * 2 ** max(0, attempts - 1)
        )
        noted = await self.requests.note(
            row.id,
            AssistanceStatus.SUBMITTED,
            EventKind.RETRY,
            actor=SYSTEM.officer_id,
            now=now,
            note=reason,
            values={
                "attempts": attempts,
                "next_attempt_at": now + timedelta(seconds=delay),
                "lease_owner": None,
                "lease_until": None,
            },
            lease_owner=self.instance,
        )
        if noted is not None:
            await self.effects.publish(noted)


def _order(row: AssistanceRow) -> ControlOrder:
    return ControlOrder(
        action=ControlAction(row.action),
        target=row.target,
        debtor_id=row.debtor_id,
        court=row.court,
        case_number=row.case_number,
        document_number=row.document_number,
        since=row.since,
        until=row.until,
        amount=row.amount,
        renewal=row.renewal_of is not None,
        reason=row.reason,
    )
