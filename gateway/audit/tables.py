"""The audit log's tables, in portable SQLAlchemy Core, and the mapping to ``StoredRecord``.

``audit_records`` holds every writer's chain, each record addressed by ``(chain, seq)``;
``audit_index`` lets auditors find records by case and by the set of debtor keys they name,
and ``audit_debtor_sets`` lists each set's keys once (both are derived from the records, and
``audit verify`` checks them against them); ``audit_chains``
has one head row per chain (its last ``seq`` and hash). A writer locks only its own chain's
row to append (``SELECT ... FOR UPDATE`` on PostgreSQL), so no row is shared by all
writers; within a chain the order is the commit order.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from gateway.audit.chain import StoredRecord
from gateway.store.tables import UtcDateTime

__all__ = [
    "CASE",
    "DEBTOR",
    "DEBTOR_SET",
    "audit_chains",
    "audit_debtor_sets",
    "audit_index",
    "audit_metadata",
    "audit_records",
    "debtor_set",
    "index_keys",
    "index_rows",
    "record_from_row",
    "record_to_row",
]

CASE = "case"
DEBTOR = "debtor"  # one row per debtor key: the layout before audit_0004, no longer written
DEBTOR_SET = "dset"  # one row per record for all its debtors: see ``debtor_set``


class JsonText(TypeDecorator[Any]):
    """A JSON value kept as canonical text, so it reads back exactly as it was hashed."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else orjson.loads(value)


# SQLite makes an INTEGER PRIMARY KEY the rowid (fast appends); elsewhere a BIGINT.
_Seq = BigInteger().with_variant(Integer(), "sqlite")

audit_metadata = MetaData(
    naming_convention={"ix": "ix_%(table_name)s_%(column_0_name)s", "pk": "pk_%(table_name)s"}
)

audit_records = Table(
    "audit_records",
    audit_metadata,
    Column("chain", String(64), nullable=False),
    Column("seq", _Seq, nullable=False, autoincrement=False),
    Column("time", UtcDateTime(), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("principal", String(200), nullable=False),
    Column("court", String(200), nullable=False),
    Column("roles", JsonText(), nullable=False),
    Column("case_number", String(64), nullable=True),
    Column("cases", JsonText(), nullable=False),
    Column("operation", String(200), nullable=False),
    Column("document_hash", String(64), nullable=True),
    Column("variables", JsonText(), nullable=False),
    Column("debtors", JsonText(), nullable=False),
    Column("debtor_keys", JsonText(), nullable=False),
    Column("agencies", JsonText(), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("code", String(64), nullable=True),
    Column("http_status", SmallInteger(), nullable=True),
    Column("duration_ms", Float(), nullable=True),
    Column("detail", JsonText(), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # The client's X-Request-Id, beside the server's own (migration audit_0002).
    Column("client_request_id", String(128), nullable=True),
    # One chain per writer (migration audit_0003): a record is addressed by (chain, seq).
    PrimaryKeyConstraint("chain", "seq"),
    Index(None, "time"),
    Index(None, "principal"),
    Index(None, "request_id"),
    Index(None, "client_request_id"),
)

audit_index = Table(
    "audit_index",
    audit_metadata,
    Column("kind", String(8), nullable=False),  # CASE or DEBTOR_SET
    Column("value", String(64), nullable=False),  # case number, or debtor set id
    Column("chain", String(64), nullable=False),
    Column("seq", _Seq, nullable=False),
    PrimaryKeyConstraint("kind", "value", "chain", "seq"),
)

# The members of each debtor set, written once per set (not per record): a 50-debtor answer
# served again and again names the same ~76 debtor keys, and one index row per key per
# record was most of such a record's cost. Keyed by the member first, for look-ups by debtor.
audit_debtor_sets = Table(
    "audit_debtor_sets",
    audit_metadata,
    Column("debtor_key", String(64), nullable=False),
    Column("debtor_set", String(64), nullable=False),
    PrimaryKeyConstraint("debtor_key", "debtor_set"),
)

audit_chains = Table(
    "audit_chains",
    audit_metadata,
    Column("chain", String(64), primary_key=True),
    Column("seq", _Seq, nullable=False),  # the chain's last record (0: none yet)
    Column("hash", String(64), nullable=False),  # its hash (the chain's genesis: none yet)
)

_TUPLES = ("roles", "cases", "debtors", "debtor_keys", "agencies")


def record_to_row(record: StoredRecord) -> dict[str, Any]:
    """Column values of ``record``."""
    row = {name: getattr(record, name) for name in StoredRecord.__slots__}
    for name in _TUPLES:
        row[name] = list(row[name])
    return row


def record_from_row(row: Mapping[Any, Any]) -> StoredRecord:
    """The record a row of ``audit_records`` holds."""
    values = {name: row[name] for name in StoredRecord.__slots__}
    for name in _TUPLES:
        values[name] = tuple(values[name] or ())
    return StoredRecord(**values)


@functools.lru_cache(maxsize=4096)
def _set_of(keys: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    members = tuple(sorted(set(keys)))
    return hashlib.sha256("\n".join(members).encode()).hexdigest(), members


def debtor_set(debtor_keys: Iterable[str]) -> tuple[str, tuple[str, ...]] | None:
    """The id of the set of ``debtor_keys`` and its members (sorted, once each), or ``None``
    for no keys. The id is the SHA-256 of the sorted keys, so every record naming the same
    debtors shares one set, and a set's members cannot change without its id changing."""
    keys = tuple(debtor_keys)
    return _set_of(keys) if keys else None


def index_keys(cases: Iterable[str], debtor_keys: Iterable[str]) -> list[tuple[str, str]]:
    """The ``(kind, value)`` pairs under which a record with these fields is indexed."""
    found = [(CASE, case) for case in dict.fromkeys(cases)]
    named = debtor_set(debtor_keys)
    if named is not None:
        found.append((DEBTOR_SET, named[0]))
    return found


def index_rows(record: StoredRecord) -> Iterator[dict[str, Any]]:
    """The ``audit_index`` rows that point at ``record``."""
    for kind, value in index_keys(record.cases, record.debtor_keys):
        yield {"kind": kind, "value": value, "chain": record.chain, "seq": record.seq}
