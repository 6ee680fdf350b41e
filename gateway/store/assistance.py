"""Assistance requests in the store: create once per key, move by conditional updates only.

Every change of a request is one transaction that (1) moves it with an ``UPDATE ... WHERE
status IN (...)`` which at most one caller wins, and (2) appends its event with the next
sequence number. So two workers, or a worker and a judge, can never both move the same
request, and a request's timeline has no gaps. Work that depends on the rest of the case
(the over-seizure guard) first takes the case's row lock with a no-op ``UPDATE cases``:
that serialises it per case on PostgreSQL and per database on SQLite, portably.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from connectors.control import ControlAction
from gateway.domain.assistance_rows import (
    AssistanceRow,
    EventRow,
    NewRequest,
    event_from,
    row_from,
)
from gateway.domain.assistance_status import AssistanceStatus, EventKind
from gateway.errors import Conflict, NotFound
from gateway.store.assistance_tables import assistance_events, assistance_requests
from gateway.store.tables import cases

__all__ = ["AssistanceRow", "AssistanceStore", "EventRow", "NewRequest", "mark_lifted"]

Check = Callable[["AssistanceRow | None", list["AssistanceRow"]], None]
Hook = Callable[[AsyncConnection, "AssistanceRow"], Awaitable[None]]
R = assistance_requests.c


class AssistanceStore:
    """Requests and events over the store's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # -- reading --------------------------------------------------------------------------

    async def get(self, request_id: str) -> AssistanceRow | None:
        async with self.engine.connect() as conn:
            return await self._get(conn, request_id)

    async def _get(self, conn: AsyncConnection, request_id: str) -> AssistanceRow | None:
        found = (await conn.execute(select(assistance_requests).where(R.id == request_id))).first()
        return None if found is None else row_from(found._mapping)

    async def by_key(self, key: str) -> AssistanceRow | None:
        async with self.engine.connect() as conn:
            query = select(assistance_requests).where(R.idempotency_key == key)
            found = (await conn.execute(query)).first()
            return None if found is None else row_from(found._mapping)

    async def of_case(self, case_number: str) -> list[AssistanceRow]:
        async with self.engine.connect() as conn:
            return await self._of_case(conn, case_number)

    async def _of_case(self, conn: AsyncConnection, case_number: str) -> list[AssistanceRow]:
        query = (
            select(assistance_requests)
            .where(R.case_number == case_number)
            .order_by(R.created_at, R.id)
        )
        return [row_from(r._mapping) for r in await conn.execute(query)]

    async def of_debtors(
        self, debtor_ids: Sequence[str], case_number: str | None = None
    ) -> dict[str, list[AssistanceRow]]:
        """Requests per debtor (of one case, if given); every id asked for is a key."""
        found: dict[str, list[AssistanceRow]] = {d: [] for d in debtor_ids}
        query = select(assistance_requests).where(R.debtor_id.in_(list(found)))
        if case_number is not None:
            query = query.where(R.case_number == case_number)
        async with self.engine.connect() as conn:
            for r in await conn.execute(query.order_by(R.created_at, R.id)):
                found[r.debtor_id].append(row_from(r._mapping))
        return found

    async def events(self, request_id: str, after: int = 0) -> list[EventRow]:
        """The timeline of one request, oldest first, from sequence number ``after + 1``."""
        query = (
            select(assistance_events)
            .where(assistance_events.c.request_id == request_id, assistance_events.c.seq > after)
            .order_by(assistance_events.c.seq)
        )
        async with self.engine.connect() as conn:
            return [event_from(r._mapping) for r in await conn.execute(query)]

    async def last_seqs(self, case_number: str) -> dict[str, int]:
        """The newest sequence number of each request of the case."""
        ev = assistance_events.c
        query = (
            select(ev.request_id, func.max(ev.seq))
            .where(ev.case_number == case_number)
            .group_by(ev.request_id)
        )
        async with self.engine.connect() as conn:
            return {rid: int(seq) for rid, seq in await conn.execute(query)}

    # -- writing --------------------------------------------------------------------------

    async def create(
        self, new: NewRequest, now: datetime, check: Check | None = None
    ) -> tuple[AssistanceRow, bool]:
        """Store ``new`` unless its key is taken; return the key's request and if it is new.

        The same key with a different order is a ``Conflict``. ``check`` sees the case's
        other requests under the case lock and raises to refuse.
        """
        try:
            async with self.engine.begin() as conn:
                await _lock_case(conn, new.case_number)
                existing = await self._by_key(conn, new.idempotency_key)
                if existing is not None:
                    return _same_order(existing, new), False
                if check is not None:
                    check(None, await self._of_case(conn, new.case_number))
                rid = str(uuid.uuid4())
                values = {
                    **{f.name: getattr(new, f.name) for f in fields(NewRequest)},
                    "id": rid,
                    "status": str(AssistanceStatus.PENDING_APPROVAL),
                    "attempts": 0,
                    "overdue": False,
                    "created_at": now,
                    "updated_at": now,
                }
                await conn.execute(insert(assistance_requests), values)
                await _append(
                    conn, rid, new.case_number, EventKind.REQUESTED, actor=new.requested_by, now=now
                )
                row = await self._get(conn, rid)
                assert row is not None
                return row, True
        except IntegrityError:
            # Another transaction stored the same key between our look and our insert.
            raced = await self.by_key(new.idempotency_key)
            if raced is None:
                raise
            return _same_order(raced, new), False

    async def _by_key(self, conn: AsyncConnection, key: str) -> AssistanceRow | None:
        found = (
            await conn.execute(select(assistance_requests).where(R.idempotency_key == key))
        ).first()
        return None if found is None else row_from(found._mapping)

    async def transition(
        self,
        request_id: str,
        from_statuses: Collection[AssistanceStatus],
        to_status: AssistanceStatus,
        kind: EventKind,
        *,
        actor: str,
        now: datetime,
        note: str | None = None,
        values: dict[str, Any] | None = None,
        check: Check | None = None,
        hook: Hook | None = None,
        lease_owner: str | None = None,
        only_if: ColumnElement[bool] | None = None,
    ) -> AssistanceRow | None:
        """Move the request if it is in ``from_statuses``; ``None`` if someone else moved it.

        ``check`` runs under the case lock first (it may raise); ``hook`` runs in the same
        transaction afterwards; with ``lease_owner`` only the lease's holder may move it;
        ``only_if`` is one more condition on the row, checked by the same UPDATE.
        """
        async with self.engine.begin() as conn:
            if check is not None:
                current = await self._get(conn, request_id)
                if current is None:
                    raise NotFound(f"no assistance request {request_id}")
                await _lock_case(conn, current.case_number)
                check(current, await self._of_case(conn, current.case_number))
            where = [R.id == request_id, R.status.in_([str(s) for s in from_statuses])]
            if lease_owner is not None:
                where.append(R.lease_owner == lease_owner)
            if only_if is not None:
                # A condition on other tables is judged against the UPDATE's snapshot, so on
                # PostgreSQL two racing UPDATEs could both pass it. With the row locked first,
                # the UPDATE (a later statement) sees what the lock's last holder committed.
                await conn.execute(select(R.id).where(R.id == request_id).with_for_update())
                where.append(only_if)
            changes = {**(values or {}), "status": str(to_status), "updated_at": now}
            result = await conn.execute(update(assistance_requests).where(*where), changes)
            if result.rowcount != 1:
                return None
            row = await self._get(conn, request_id)
            assert row is not None
            await _append(conn, row.id, row.case_number, kind, actor=actor, now=now, note=note)
            if hook is not None:
                await hook(conn, row)
            return row

    async def note(
        self,
        request_id: str,
        status: AssistanceStatus,
        kind: EventKind,
        *,
        actor: str,
        now: datetime,
        note: str | None = None,
        values: dict[str, Any] | None = None,
        lease_owner: str | None = None,
        only_if: ColumnElement[bool] | None = None,
    ) -> AssistanceRow | None:
        """Record a step that keeps the status (a ticket, a retry, overdue), conditionally."""
        return await self.transition(
            request_id,
            [status],
            status,
            kind,
            actor=actor,
            now=now,
            note=note,
            values=values,
            lease_owner=lease_owner,
            only_if=only_if,
        )

    async def lease(
        self, request_id: str, status: AssistanceStatus, owner: str, now: datetime, lease_s: float
    ) -> bool:
        """Take the request's lease if it is free, expired, or ours; at most one taker wins.

        It must still be due: another worker may have handled it (and released the lease
        with a later ``next_attempt_at``) since this one read it.
        """
        free = or_(R.lease_until.is_(None), R.lease_until < now, R.lease_owner == owner)
        due = or_(R.next_attempt_at.is_(None), R.next_attempt_at <= now)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(assistance_requests).where(
                    R.id == request_id, R.status == str(status), free, due
                ),
                {"lease_owner": owner, "lease_until": now + timedelta(seconds=lease_s)},
            )
            return result.rowcount == 1

    async def release(
        self, request_id: str, owner: str, now: datetime, values: dict[str, Any]
    ) -> bool:
        """Update the request without an event, if ``owner`` still holds its lease."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(assistance_requests).where(R.id == request_id, R.lease_owner == owner),
                {**values, "updated_at": now},
            )
            return result.rowcount == 1

    async def due(self, now: datetime, limit: int) -> list[AssistanceRow]:
        """Requests with work to do: approved, or submitted and due, with no live lease."""
        free = or_(R.lease_until.is_(None), R.lease_until < now)
        due = or_(R.next_attempt_at.is_(None), R.next_attempt_at <= now)
        query = (
            select(assistance_requests)
            .where(
                or_(
                    R.status == str(AssistanceStatus.APPROVED),
                    and_(R.status == str(AssistanceStatus.SUBMITTED), due),
                ),
                free,
            )
            .order_by(R.updated_at, R.id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [row_from(r._mapping) for r in await conn.execute(query)]

    async def past_deadline(self, now: datetime, limit: int) -> list[AssistanceRow]:
        """Submitted requests whose deadline has passed and that are not yet marked."""
        query = (
            select(assistance_requests)
            .where(
                R.status == str(AssistanceStatus.SUBMITTED),
                R.overdue.is_(False),
                R.deadline < now,
            )
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [row_from(r._mapping) for r in await conn.execute(query)]


async def mark_lifted(conn: AsyncConnection, lift: AssistanceRow, now: datetime) -> list[str]:
    """In ``lift``'s transaction, mark the case's controls it released; return their ids."""
    released = ControlAction(lift.action).lifts
    query = select(R.id).where(
        R.case_number == lift.case_number,
        R.action == str(released),
        R.target == lift.target,
        R.status.in_([str(AssistanceStatus.COMPLETED), str(AssistanceStatus.QUEUED)]),
        R.lifted_by.is_(None),
    )
    ids = list((await conn.execute(query)).scalars())
    for rid in ids:
        await conn.execute(
            update(assistance_requests).where(R.id == rid),
            {"lifted_by": lift.id, "updated_at": now},
        )
        await _append(
            conn,
            rid,
            lift.case_number,
            EventKind.LIFTED,
            actor="system:lifecycle",
            now=now,
            note=f"lifted by request {lift.id}",
        )
    return ids


def _same_order(existing: AssistanceRow, new: NewRequest) -> AssistanceRow:
    if existing.fingerprint != new.fingerprint:
        raise Conflict(
            "this idempotency key was used for a different request",
            field="input.idempotencyKey",
            requestId=existing.id,
        )
    return existing


async def _lock_case(conn: AsyncConnection, case_number: str) -> None:
    # A write first: SQLite takes its write lock now (waiting on busy_timeout) instead of
    # failing when a read transaction tries to upgrade; PostgreSQL locks the case's row.
    await conn.execute(
        update(cases).where(cases.c.number == case_number).values(status=cases.c.status)
    )


async def _append(
    conn: AsyncConnection,
    request_id: str,
    case_number: str,
    kind: EventKind,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> None:
    ev = assistance_events.c
    last = (
        await conn.execute(select(func.max(ev.seq)).where(ev.request_id == request_id))
    ).scalar()
    status = (await conn.execute(select(R.status).where(R.id == request_id))).scalar_one()
    await conn.execute(
        insert(assistance_events),
        {
            "request_id": request_id,
            "seq": int(last or 0) + 1,
            "case_number": case_number,
            "at": now,
            "kind": str(kind),
            "status": status,
            "actor": actor,
            "note": note,
        },
    )
