"""The gateway's own state: cases and restrictions, through SQLAlchemy 2 Core (async).

Portable Core only: the embedded default is SQLite (aiosqlite), scale-out is PostgreSQL
(asyncpg) with the same statements. Tables live in ``gateway.store.tables``; they are
created with ``create_all`` on open (missing tables only), so ``liandong demo`` works on a
fresh data dir; ``liandong db upgrade`` (``gateway/migrations/runner.py``) applies the Alembic
migrations, which build the same schema (a test compares them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, event, insert, inspect, select, text, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gateway.domain.case_values import RestrictionKind, RestrictionStatus, parse_case_status
from gateway.errors import InvalidInput, NotFound
from gateway.store.case_rows import (
    CaseIn,
    CaseRow,
    RestrictionIn,
    RestrictionRow,
    case_rows,
    restriction,
)
from gateway.store.change_events import RestrictionListener
from gateway.store.memo import MISSING, VersionedMemo
from gateway.store.sqlite import enable_wal, sqlite_pragmas
from gateway.store.sqlite_reader import SqliteReader
from gateway.store.tables import CENT, case_debtors, case_officers, cases, metadata, restrictions
from gateway.validation import parse_case_number

__all__ = [
    "CaseIn",
    "CaseRow",
    "RestrictionIn",
    "RestrictionKind",
    "RestrictionRow",
    "RestrictionStatus",
    "Store",
    "enable_wal",
]

_CHUNK = 500  # keys per IN (...): well under SQLite's and PostgreSQL's parameter limits
# Cases and debtors' restrictions remembered while the database is unchanged (see
# gateway/store/memo.py), counted in ids held: a case counts one plus its parties and staff,
# a debtor one plus its restrictions. A unit is a few hundred bytes: a few MiB per memo.
MEMO_UNITS = 16384
_DDL_LOCK = 0x6C69616E646F6E67  # pg advisory lock key serialising create_all ("liandong")


class SchemaBehind(RuntimeError):
    """The database's tables lack columns this version reads: it needs a migration."""


def _check_columns(conn: Connection) -> None:
    # create_all adds missing tables, never missing columns: a database made by an earlier
    # version would fail at the first query that reads a new column. Refuse to start instead.
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    missing: list[str] = []
    for table in metadata.sorted_tables:
        if table.name in present:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in have]
    if missing:
        raise SchemaBehind(
            f"the store was made by an earlier version (no {', '.join(missing)}): "
            "run `liandong db upgrade` first"
        )


def _chunks(keys: Sequence[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


class Store:
    """Cases and restrictions; build with ``await Store.open(url)``, end with ``close()``."""

    def __init__(self, engine: AsyncEngine, reader: SqliteReader | None = None) -> None:
        self.engine = engine
        self.reader = reader  # the hot reads of a SQLite file (see store_reader)
        self._restriction_listeners: list[RestrictionListener] = []
        # Only with a reader: its version is what makes a remembered row current.
        self.cases_memo: VersionedMemo[str, CaseRow | None] = VersionedMemo(MEMO_UNITS, _case_units)
        self.restrictions_memo: VersionedMemo[str, tuple[RestrictionRow, ...]] = VersionedMemo(
            MEMO_UNITS, _restriction_units
        )

    def add_restriction_listener(self, listener: RestrictionListener) -> None:
        """Call ``listener`` after every committed restriction write (see store_events)."""
        self._restriction_listeners.append(listener)

    def remove_restriction_listener(self, listener: RestrictionListener) -> None:
        """Stop calling ``listener``; unknown listeners are ignored."""
        if listener in self._restriction_listeners:
            self._restriction_listeners.remove(listener)

    def restriction_changed(self, row: RestrictionRow) -> None:
        """Tell the listeners ``row`` is now stored; call right after the commit.

        ``add_restriction`` and ``lift_restriction`` do; any other code that writes the
        restrictions table must call it with the row's new state once its transaction
        has committed (never before: a rolled-back write must not reach the listeners).
        """
        for listener in tuple(self._restriction_listeners):
            listener.on_restriction_changed(row)

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect, create missing tables, and return the store."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        try:
            async with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    # Gateways starting together would race CREATE TABLE into a unique
                    # violation on pg_type; the transaction-scoped lock takes them in turn.
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _DDL_LOCK})
                elif engine.dialect.name == "sqlite":
                    # pysqlite runs DDL outside a transaction, so several workers opening one
                    # file race the same way; take SQLite's write lock up front instead.
                    await conn.exec_driver_sql("BEGIN IMMEDIATE")
                await conn.run_sync(metadata.create_all)
                await conn.run_sync(_check_columns)
        except BaseException:
            await engine.dispose()
            raise
        database = parsed.database
        reader = None
        if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
            reader = SqliteReader(database)
            try:
                await reader.open()
            except BaseException:
                await reader.aclose()
                await engine.dispose()
                raise
        return cls(engine, reader)

    async def close(self) -> None:
        """Release every pooled connection."""
        if self.reader is not None:
            await self.reader.aclose()
        await self.engine.dispose()

    async def ping(self) -> bool:
        """True if the database answers a trivial query (for ``/readyz``)."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            return False
        return True

    async def upsert_case(self, case: CaseIn) -> None:
        """Create or replace a case, its debtors and its staff, in one transaction."""
        parsed = parse_case_number(case.number, "number")
        number = str(parsed)
        amount = Decimal(case.amount_due)
        if not amount.is_finite() or amount < 0 or amount.quantize(CENT) != amount:
            raise InvalidInput("amountDue", "must be a non-negative amount with two decimals")
        values = {
            "court": case.court,
            "court_code": parsed.court_code,
            "applicant": case.applicant,
            "amount_due": amount,
            "status": str(parse_case_status(case.status)),
            "filed_on": case.filed_on,
            "security": case.security,
        }
        staff = {(o, "officer") for o in case.officers} | {(j, "judge") for j in case.judges}
        parties = dict(case.debtor_ids)  # one kind per id; the last one given wins
        async with self.engine.begin() as conn:
            # Update-then-insert is plain portable Core; the transaction makes it atomic
            # per case (a concurrent first insert surfaces as an IntegrityError).
            result = await conn.execute(update(cases).where(cases.c.number == number), values)
            if result.rowcount == 0:
                now = datetime.now(UTC)
                await conn.execute(insert(cases), {"number": number, "created_at": now, **values})
            await conn.execute(delete(case_debtors).where(case_debtors.c.case_number == number))
            await conn.execute(delete(case_officers).where(case_officers.c.case_number == number))
            if parties:
                rows = [
                    {"case_number": number, "debtor_id": d, "kind": str(k)}
                    for d, k in parties.items()
                ]
                await conn.execute(insert(case_debtors), rows)
            if staff:
                rows = [{"case_number": number, "officer_id": o, "role": r} for o, r in staff]
                await conn.execute(insert(case_officers), rows)

    async def get_case(self, number: str) -> CaseRow | None:
        """The case with this number (any accepted spelling), or None."""
        return (await self.get_cases([number])).get(number)

    async def get_cases(self, numbers: Sequence[str]) -> dict[str, CaseRow]:
        """Cases by number, keyed by the numbers as given; unknown numbers are absent."""
        wanted: dict[str, list[str]] = {}
        for given in numbers:
            try:
                wanted.setdefault(str(parse_case_number(given)), []).append(given)
            except InvalidInput:
                continue  # a malformed number cannot name a stored case
        found: dict[str, CaseRow] = {}
        reader = self.reader
        version = None if reader is None else reader.data_version()
        if reader is None or version is None:
            for chunk in _chunks(list(wanted)):
                if reader is not None:
                    loaded = case_rows(*await reader.cases(chunk))
                else:
                    async with self.engine.connect() as conn:
                        loaded = await self._load_cases(conn, chunk)
                for row in loaded:
                    for given in wanted[row.number]:
                        found[given] = row
            return found
        memo = self.cases_memo
        memo.at(version)
        missing: list[str] = []
        for number, givens in wanted.items():
            known = memo.get(number)
            if known is MISSING:
                missing.append(number)
            elif known is not None:
                found.update(dict.fromkeys(givens, known))
        for chunk in _chunks(missing) if missing else ():  # a hit's cases are all known
            loaded_by_number = {r.number: r for r in case_rows(*await reader.cases(chunk))}
            for number in chunk:
                read = loaded_by_number.get(number)
                memo.put(version, number, read)  # an unknown number is remembered as None
                if read is not None:
                    found.update(dict.fromkeys(wanted[number], read))
        return found

    async def _load_cases(self, conn: AsyncConnection, numbers: list[str]) -> list[CaseRow]:
        head = await conn.execute(select(cases).where(cases.c.number.in_(numbers)))
        parties = await conn.execute(
            select(case_debtors)
            .where(case_debtors.c.case_number.in_(numbers))
            .order_by(case_debtors.c.debtor_id)
        )
        staff = await conn.execute(
            select(case_officers)
            .where(case_officers.c.case_number.in_(numbers))
            .order_by(case_officers.c.officer_id)
        )
        return case_rows(list(head), list(parties), list(staff))

    async def cases_of_debtor(self, debtor_id: str) -> list[str]:
        """Numbers of the cases ``debtor_id`` is a party to, sorted."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(case_debtors.c.case_number).where(case_debtors.c.debtor_id == debtor_id)
            )
            return sorted(result.scalars())  # code-point order on every backend

    async def cases_of_debtors(self, debtor_ids: Sequence[str]) -> dict[str, list[str]]:
        """Case numbers per debtor in one batch, sorted; every id asked for is a key."""
        found: dict[str, list[str]] = {d: [] for d in debtor_ids}
        async with self.engine.connect() as conn:
            for chunk in _chunks(debtor_ids):
                result = await conn.execute(
                    select(case_debtors.c.debtor_id, case_debtors.c.case_number).where(
                        case_debtors.c.debtor_id.in_(chunk)
                    )
                )
                for debtor, number in result:
                    found[debtor].append(number)
        for numbers in found.values():
            numbers.sort()
        return found

    async def add_restriction(self, restriction: RestrictionIn) -> RestrictionRow:
        """Record a restriction and return it with its new id."""
        row = RestrictionRow(
            id=str(uuid.uuid4()),
            debtor_id=restriction.debtor_id,
            kind=RestrictionKind(restriction.kind),
            case_number=restriction.case_number,
            court=restriction.court,
            ground=restriction.ground,
            since=restriction.since,
            until=restriction.until,
            status=RestrictionStatus(restriction.status),
            lift_reason=restriction.lift_reason,
            created_at=datetime.now(UTC),
        )
        values = {name: getattr(row, name) for name in RestrictionRow.__slots__}
        values["kind"], values["status"] = str(row.kind), str(row.status)
        async with self.engine.begin() as conn:
            await conn.execute(insert(restrictions), values)
        self.restriction_changed(row)
        return row

    async def lift_restriction(self, restriction_id: str, reason: str) -> RestrictionRow:
        """Mark a restriction LIFTED with ``reason``; return it as now stored.

        Lifting a lifted restriction changes nothing and returns it as it is. An unknown
        id raises ``NotFound``.
        """
        async with self.engine.begin() as conn:
            await conn.execute(
                update(restrictions)
                .where(restrictions.c.id == restriction_id)
                .where(restrictions.c.status == str(RestrictionStatus.ACTIVE)),
                {"status": str(RestrictionStatus.LIFTED), "lift_reason": reason},
            )
            found = await conn.execute(
                select(restrictions).where(restrictions.c.id == restriction_id)
            )
            stored = found.first()
        if stored is None:
            raise NotFound(f"no restriction {restriction_id}", field="id")
        row = restriction(stored._mapping)
        self.restriction_changed(row)
        return row

    async def restrictions_of(self, debtor_ids: Sequence[str]) -> dict[str, list[RestrictionRow]]:
        """Restrictions per debtor in one batch; every id asked for is a key (maybe ``[]``)."""
        found: dict[str, list[RestrictionRow]] = {d: [] for d in debtor_ids}
        reader = self.reader
        if reader is not None:
            version = reader.data_version()
            memo = self.restrictions_memo
            missing = list(found)
            if version is not None:
                memo.at(version)
                missing = []
                for debtor, rows in found.items():
                    known = memo.get(debtor)
                    if known is MISSING:
                        missing.append(debtor)
                    else:
                        rows.extend(known)
            for chunk in _chunks(missing):
                for r in await reader.restrictions(chunk):
                    found[r.debtor_id].append(restriction(r._asdict()))
                if version is not None:
                    for debtor in chunk:
                        memo.put(version, debtor, tuple(found[debtor]))
            return found
        async with self.engine.connect() as conn:
            for chunk in _chunks(debtor_ids):
                result = await conn.execute(
                    select(restrictions)
                    .where(restrictions.c.debtor_id.in_(chunk))
                    .order_by(restrictions.c.since, restrictions.c.created_at, restrictions.c.id)
                )
                for r in result:
                    found[r.debtor_id].append(restriction(r._mapping))
        return found


def _case_units(row: CaseRow | None) -> int:
    if row is None:
        return 1
    return 1 + len(row.debtor_ids) + len(row.officer_ids) + len(row.judge_ids)


def _restriction_units(rows: tuple[RestrictionRow, ...]) -> int:
    return 1 + len(rows)
