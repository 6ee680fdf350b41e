"""One index row per record for all its debtors: content-addressed debtor sets.

Before, a record was indexed once per debtor key (kind ``debtor``); a record naming 76
debtors cost 76 index rows. Now it has one row of kind ``dset`` whose value is the SHA-256
of its sorted, distinct debtor keys, and ``audit_debtor_sets`` lists each set's keys once.
The existing ``debtor`` rows of each record become its set row and the set's members, so a
look-up by debtor key finds exactly the records it found before.

Revision ID: audit_0004
Revises: audit_0003
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "audit_0004"
down_revision = "audit_0003"
branch_labels = None
depends_on = None

# gateway.audit.tables' kinds, fixed here as this migration wrote them.
DEBTOR = "debtor"
DEBTOR_SET = "dset"
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CHUNK = 5_000  # index rows read at a time

_index = sa.table(
    "audit_index",
    sa.column("kind", sa.String(8)),
    sa.column("value", sa.String(64)),
    sa.column("chain", sa.String(64)),
    sa.column("seq", _SEQ),
)


def _set_id(keys: set[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


def _records(bind: sa.Connection, kind: str) -> Iterator[tuple[str, int, set[str]]]:
    """Each record's ``(chain, seq, values)`` of index rows of ``kind``, in record order."""
    i = _index.c
    at: tuple[str, int] | None = None
    values: set[str] = set()
    after: tuple[str, int, str] | None = None
    while True:
        stmt = sa.select(i.chain, i.seq, i.value).where(i.kind == kind)
        if after is not None:
            stmt = stmt.where(sa.tuple_(i.chain, i.seq, i.value) > sa.tuple_(*after))
        rows = bind.execute(stmt.order_by(i.chain, i.seq, i.value).limit(_CHUNK)).all()
        for chain, seq, value in rows:
            if at is not None and at != (chain, int(seq)):
                yield (*at, values)
                values = set()
            at = (str(chain), int(seq))
            values.add(str(value))
        if len(rows) < _CHUNK:
            break
        after = (str(rows[-1][0]), int(rows[-1][1]), str(rows[-1][2]))
    if at is not None:
        yield (*at, values)


def upgrade() -> None:
    bind = op.get_bind()
    if "audit_debtor_sets" in sa.inspect(bind).get_table_names():
        return  # made by the gateway itself (create_all) and adopted at this revision
    sets = op.create_table(
        "audit_debtor_sets",
        sa.Column("debtor_key", sa.String(length=64), nullable=False),
        sa.Column("debtor_set", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("debtor_key", "debtor_set", name=op.f("pk_audit_debtor_sets")),
    )
    known: set[str] = set()
    index_rows: list[dict[str, object]] = []
    member_rows: list[dict[str, object]] = []
    for chain, seq, keys in _records(bind, DEBTOR):
        set_id = _set_id(keys)
        index_rows.append({"kind": DEBTOR_SET, "value": set_id, "chain": chain, "seq": seq})
        if set_id not in known:
            known.add(set_id)
            member_rows += [{"debtor_key": k, "debtor_set": set_id} for k in sorted(keys)]
        if len(index_rows) >= _CHUNK:
            op.bulk_insert(_index, index_rows)
            index_rows = []
        if len(member_rows) >= _CHUNK:
            op.bulk_insert(sets, member_rows)
            member_rows = []
    if index_rows:
        op.bulk_insert(_index, index_rows)
    if member_rows:
        op.bulk_insert(sets, member_rows)
    bind.execute(sa.delete(_index).where(_index.c.kind == DEBTOR))


def downgrade() -> None:
    bind = op.get_bind()
    i = _index.c
    members = sa.table(
        "audit_debtor_sets", sa.column("debtor_key", sa.String(64)), sa.column("debtor_set")
    )
    m = members.c
    bind.execute(
        sa.insert(_index).from_select(
            ["kind", "value", "chain", "seq"],
            sa.select(sa.literal(DEBTOR, sa.String(8)), m.debtor_key, i.chain, i.seq)
            .join(members, m.debtor_set == i.value)
            .where(i.kind == DEBTOR_SET),
        )
    )
    bind.execute(sa.delete(_index).where(i.kind == DEBTOR_SET))
    op.drop_table("audit_debtor_sets")
