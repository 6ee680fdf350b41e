"""Writing the members of debtor sets once: what each writer knows it has already stored.

A record is indexed once under the set of its debtor keys (``tables.debtor_set``); the set's
member rows (``audit_debtor_sets``) are written with the first record that names it, by an
insert that ignores rows already there, so two writers naming one set both succeed. Each
writer remembers the sets it saw committed and skips them after that: a response-cache hit
naming ~76 debtors then costs one index row for all of them, not 76.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.audit.chain import StoredRecord
from gateway.audit.tables import audit_debtor_sets, debtor_set

__all__ = ["KnownSets", "insert_members", "member_rows", "unlisted"]

_MAX_KNOWN = 65_536  # set ids remembered per writer; forgetting only costs an ignored insert


class KnownSets:
    """The debtor sets one writer has seen committed, and those its open batch adds."""

    def __init__(self) -> None:
        self._known: dict[str, None] = {}
        self.pending: list[str] = []  # set ids the batch being written adds

    def fresh(self, debtor_keys: Iterable[Sequence[str]]) -> list[tuple[str, str]]:
        """``(debtor_key, debtor_set)`` rows for every set among ``debtor_keys`` (one
        sequence per record) not yet known to be stored; remembered as ``pending``."""
        rows: list[tuple[str, str]] = []
        pending: list[str] = []
        seen: set[str] = set()
        for keys in debtor_keys:
            named = debtor_set(keys)
            if named is None:
                continue
            set_id, members = named
            if set_id in self._known or set_id in seen:
                continue
            seen.add(set_id)
            pending.append(set_id)
            rows += [(key, set_id) for key in members]
        self.pending = pending
        # One order for every writer: two transactions inserting rows of the same sets in
        # different orders could each wait for the other's row (a deadlock on PostgreSQL).
        rows.sort()
        return rows

    def committed(self) -> None:
        """The batch holding ``pending`` is durable: its sets need not be written again."""
        if len(self._known) + len(self.pending) > _MAX_KNOWN:
            self._known.clear()
        self._known.update(dict.fromkeys(self.pending))
        self.pending = []


def insert_members(dialect_name: str) -> Insert:
    """An insert of ``audit_debtor_sets`` rows that leaves rows already there alone."""
    if dialect_name == "postgresql":
        return postgresql.insert(audit_debtor_sets).on_conflict_do_nothing()
    return sqlite.insert(audit_debtor_sets).prefix_with("OR IGNORE")


def member_rows(rows: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """``rows`` as parameters of ``insert_members``."""
    return [{"debtor_key": key, "debtor_set": set_id} for key, set_id in rows]


async def unlisted(
    conn: AsyncConnection, records: Sequence[StoredRecord], good: set[str]
) -> StoredRecord | None:
    """The first of ``records`` whose debtor set's stored members are not exactly its
    debtor keys (a member removed hides the record from that debtor's look-ups; one added
    shows it to another's), or ``None``. ``good`` holds set ids already checked; grows."""
    named = {r.seq: debtor_set(r.debtor_keys) for r in records}
    wanted = {n[0] for n in named.values() if n is not None} - good
    stored: dict[str, set[str]] = {set_id: set() for set_id in wanted}
    s = audit_debtor_sets.c
    ids = sorted(wanted)
    for start in range(0, len(ids), 500):
        found = await conn.execute(
            select(s.debtor_set, s.debtor_key).where(s.debtor_set.in_(ids[start : start + 500]))
        )
        for set_id, key in found:
            stored[str(set_id)].add(str(key))
    for record in records:
        n = named[record.seq]
        if n is None or n[0] in good:
            continue
        if stored[n[0]] != set(n[1]):
            return record
        good.add(n[0])
    return None
