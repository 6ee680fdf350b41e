"""Asset watches and their events over the store's engine (portable SQLAlchemy Core).

Claiming is two statements that work the same on SQLite and PostgreSQL: mark the due rows
with a fresh claim token (``WHERE claim IS NULL OR claimed_until < now``), then read back
the rows holding it. A scheduler that dies mid-pass leaves its claim to expire.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.watch.snapshot import AssetChange, Snapshot
from gateway.watch.tables import asset_events, asset_watches

__all__ = ["AssetEventRow", "WatchResult", "WatchRow", "WatchStore"]


@dataclass(frozen=True, slots=True)
class WatchRow:
    id: str
    case_number: str
    court: str
    debtor_id: str
    interval_s: int
    next_due: datetime
    last_run: datetime | None
    snapshot_hash: str | None
    snapshot: Snapshot | None
    ends_at: datetime | None = None  # no run after it (a dormant case's five years)

    @classmethod
    def of(cls, row: Any) -> WatchRow:
        snap = None if row.snapshot is None else orjson.loads(row.snapshot)
        return cls(
            id=row.id,
            case_number=row.case_number,
            court=row.court,
            debtor_id=row.debtor_id,
            interval_s=row.interval_s,
            next_due=row.next_due,
            last_run=row.last_run,
            snapshot_hash=row.snapshot_hash,
            snapshot=snap,
            ends_at=row.ends_at,
        )


@dataclass(frozen=True, slots=True)
class AssetEventRow:
    id: int
    watch_id: str
    case_number: str
    debtor_id: str
    asset_id: str
    asset_kind: str
    change: str
    detail: dict[str, Any]
    at: datetime

    @classmethod
    def of(cls, row: Any) -> AssetEventRow:
        return cls(
            id=row.id,
            watch_id=row.watch_id,
            case_number=row.case_number,
            debtor_id=row.debtor_id,
            asset_id=row.asset_id,
            asset_kind=row.asset_kind,
            change=row.change,
            detail=orjson.loads(row.detail),
            at=row.at,
        )

    def as_json(self) -> dict[str, Any]:
        """The event as the webhook sends it (the debtor id in the clear: court to court)."""
        return {
            "id": self.id,
            "type": "AssetDiscovered",
            "caseNumber": self.case_number,
            "debtorId": self.debtor_id,
            "assetId": self.asset_id,
            "assetKind": self.asset_kind,
            "change": self.change,
            "detail": self.detail,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class WatchResult:
    """What one run of a watch found: a new snapshot, or nothing (it stays due)."""

    watch: WatchRow
    snapshot: Snapshot | None
    snapshot_hash: str | None
    next_due: datetime
    changes: Sequence[AssetChange] = ()


class WatchStore:
    """Watches and asset events; cheap to make, holds no connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def watch(
        self,
        *,
        case_number: str,
        court: str,
        debtor_id: str,
        interval_s: int,
        next_due: datetime,
        officer: str,
        now: datetime,
        ends_at: datetime | None = None,
    ) -> WatchRow:
        """Start watching (or change the interval and end of the existing watch of the pair)."""
        w = asset_watches.c
        async with self.engine.begin() as conn:
            found = (
                await conn.execute(
                    select(asset_watches).where(
                        w.case_number == case_number, w.debtor_id == debtor_id
                    )
                )
            ).first()
            if found is None:
                await conn.execute(
                    insert(asset_watches).values(
                        id=str(uuid.uuid4()),
                        case_number=case_number,
                        court=court,
                        debtor_id=debtor_id,
                        interval_s=interval_s,
                        next_due=next_due,
                        created_by=officer,
                        created_at=now,
                        ends_at=ends_at,
                    )
                )
            else:
                await conn.execute(
                    update(asset_watches)
                    .where(w.id == found.id)
                    .values(
                        interval_s=interval_s,
                        next_due=min(found.next_due, next_due),
                        ends_at=ends_at,
                    )
                )
            row = (
                await conn.execute(
                    select(asset_watches).where(
                        w.case_number == case_number, w.debtor_id == debtor_id
                    )
                )
            ).one()
        return WatchRow.of(row)

    async def unwatch(self, case_number: str, debtor_id: str) -> bool:
        w = asset_watches.c
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(asset_watches).where(w.case_number == case_number, w.debtor_id == debtor_id)
            )
        return bool(result.rowcount)

    async def claim_due(
        self, now: datetime, *, limit: int, debtors: int, lease_s: float
    ) -> list[WatchRow]:
        """Claim the due watches of up to ``debtors`` distinct debtors, most overdue first."""
        w = asset_watches.c
        free = or_(w.claim.is_(None), w.claimed_until < now)
        # A watch past its end is never run again (kept: its events stay readable).
        live = or_(w.ends_at.is_(None), w.next_due <= w.ends_at)
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(w.id, w.debtor_id)
                    .where(w.next_due <= now, free, live)
                    .order_by(w.next_due, w.id)
                    .limit(limit)
                )
            ).all()
            chosen: dict[str, None] = {}
            ids: list[str] = []
            for row in rows:
                if row.debtor_id not in chosen and len(chosen) >= debtors:
                    continue
                chosen.setdefault(row.debtor_id)
                ids.append(row.id)
            if not ids:
                return []
            token = str(uuid.uuid4())
            until = now + timedelta(seconds=lease_s)
            for start in range(0, len(ids), 500):
                await conn.execute(
                    update(asset_watches)
                    .where(w.id.in_(ids[start : start + 500]), w.next_due <= now, free)
                    .values(claim=token, claimed_until=until)
                )
            claimed = (await conn.execute(select(asset_watches).where(w.claim == token))).all()
        return [WatchRow.of(r) for r in claimed]

    async def finish(self, results: Sequence[WatchResult], now: datetime) -> list[AssetEventRow]:
        """Store each run's snapshot and next due time, release the claims, record events."""
        if not results:
            return []
        w = asset_watches.c
        events: list[AssetEventRow] = []
        async with self.engine.begin() as conn:
            await conn.execute(
                update(asset_watches)
                .where(w.id == bindparam("wid"))
                .values(
                    next_due=bindparam("due"),
                    claim=None,
                    claimed_until=None,
                    last_run=bindparam("ran"),
                    snapshot=bindparam("snap"),
                    snapshot_hash=bindparam("shash"),
                ),
                [
                    {
                        "wid": r.watch.id,
                        "due": r.next_due,
                        "ran": now if r.snapshot is not None else r.watch.last_run,
                        "snap": _snap_text(
                            r.snapshot if r.snapshot is not None else r.watch.snapshot
                        ),
                        "shash": r.snapshot_hash
                        if r.snapshot is not None
                        else r.watch.snapshot_hash,
                    }
                    for r in results
                ],
            )
            for r in results:
                for change in r.changes:
                    detail = {"before": change.before, "after": change.after}
                    inserted = await conn.execute(
                        insert(asset_events)
                        .values(
                            watch_id=r.watch.id,
                            case_number=r.watch.case_number,
                            debtor_id=r.watch.debtor_id,
                            asset_id=change.asset_id[:200],
                            asset_kind=change.asset_kind,
                            change=change.change.value,
                            detail=orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode(),
                            at=now,
                            attempts=0,
                        )
                        .returning(asset_events)
                    )
                    events.append(AssetEventRow.of(inserted.one()))
        return events

    async def events_after(self, case_number: str, after_id: int) -> list[AssetEventRow]:
        e = asset_events.c
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(asset_events)
                    .where(e.case_number == case_number, e.id > after_id)
                    .order_by(e.id)
                )
            ).all()
        return [AssetEventRow.of(r) for r in rows]

    async def last_event_id(self, case_number: str) -> int:
        e = asset_events.c
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(
                    select(e.id).where(e.case_number == case_number).order_by(e.id.desc()).limit(1)
                )
            ).scalar()
        return int(found or 0)

    async def undelivered(self, limit: int) -> list[AssetEventRow]:
        e = asset_events.c
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(asset_events).where(e.delivered_at.is_(None)).order_by(e.id).limit(limit)
                )
            ).all()
        return [AssetEventRow.of(r) for r in rows]

    async def delivered(self, event_id: int, now: datetime | None, attempts: int) -> None:
        e = asset_events.c
        async with self.engine.begin() as conn:
            await conn.execute(
                update(asset_events)
                .where(and_(e.id == event_id))
                .values(delivered_at=now, attempts=e.attempts + attempts)
            )


def _snap_text(snap: Snapshot | None) -> str | None:
    return None if snap is None else orjson.dumps(snap, option=orjson.OPT_SORT_KEYS).decode()
