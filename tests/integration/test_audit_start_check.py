"""A writer does not begin again a chain that already existed (``gateway/audit/start_check.py``).

Whatever removed or cut the chain (its file deleted, emptied or cut, its rows deleted, its
head row wound back), another chain's witness record or a signed head at the witness says
what it held; the writer then refuses to open, naming the chain and the evidence, and
``liandong serve`` exits without serving. A new chain id, or a log with no evidence, opens.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from gateway.audit import start_check
from gateway.audit.chain_files import chain_file, database_of, sqlite_path
from gateway.audit.chain_source import SqlChainSource
from gateway.audit.head_keys import load_or_create_key, public_key_file
from gateway.audit.head_publisher import HeadPublisher
from gateway.audit.start_check import newest_claim
from gateway.audit.store import SqlAuditLog, open_audit_engine
from gateway.audit.tables import audit_chains, audit_index, audit_records
from gateway.audit.witnesses import DirectoryWitness, HttpWitness, Witness
from gateway.errors import AuditChainContradicted
from gateway.settings_sections import TreeHeadSettings
from mocks.witness import create_app, start_witness
from tests.audit_entries import make_entry

KEY = b"k" * 32


# The signed heads each chain's writer consults, as `open_audit_log` passes them from the
# settings: set by a test before it opens the chain.
_HEADS: dict[str, TreeHeadSettings] = {}


@pytest.fixture(autouse=True)
def _no_heads_configured() -> None:
    _HEADS.clear()


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"


async def _open(url: str, chain: str) -> SqlAuditLog:
    heads = _HEADS.get(chain)
    return await SqlAuditLog.open(
        url,
        KEY,
        chain=chain,
        witness_interval_s=0,
        file_per_writer=True,
        heads=None if heads is None else start_check.head_source(heads),
    )


async def _write(url: str, chain: str, count: int) -> None:
    log = await _open(url, chain)
    try:
        for n in range(count):
            await log.append(make_entry(n))
    finally:
        await log.aclose()


def _chain_files(main: Path, chain: str) -> list[Path]:
    """A chain's file with its WAL and shared-memory files."""
    base = chain_file(main, chain)
    return [p for p in base.parent.iterdir() if p.name.startswith(base.name)]


def _cut_in_file(path: Path, keep: int) -> None:
    """Records after ``keep`` deleted and the head wound back to match, in one file."""
    with sqlite3.connect(path) as db:
        (kept,) = db.execute("SELECT hash FROM audit_records WHERE seq = ?", (keep,)).fetchone()
        db.execute("DELETE FROM audit_records WHERE seq > ?", (keep,))
        db.execute("DELETE FROM audit_index WHERE seq > ?", (keep,))
        db.execute("UPDATE audit_chains SET seq = ?, hash = ?", (keep, kept))


@pytest.mark.parametrize("how", ["removed", "emptied", "cut", "older copy"])
async def test_a_chain_file_taken_away_after_another_chain_witnessed_it_is_refused(
    tmp_path: Path, how: str
) -> None:
    url, main = _url(tmp_path), tmp_path / "audit.db"
    await _write(url, "a-0", 2)
    backup = tmp_path / "a-0.backup"
    shutil.copyfile(chain_file(main, "a-0"), backup)  # closed: its WAL is checkpointed
    await _write(url, "a-0", 2)  # a-0 now ends at record 4
    await _write(url, "b-0", 1)  # b-0 record 2 witnesses a-0's record 4
    if how == "removed":
        for path in _chain_files(main, "a-0"):
            path.unlink()
    elif how == "emptied":
        chain_file(main, "a-0").write_bytes(b"")
    elif how == "cut":
        _cut_in_file(chain_file(main, "a-0"), keep=3)
    else:
        shutil.copyfile(backup, chain_file(main, "a-0"))
    with pytest.raises(AuditChainContradicted) as refused:
        await _open(url, "a-0")
    said = str(refused.value)
    assert "the audit chain a-0 existed before: chain b-0 record 2 witnessed its record 4" in said
    assert "new chain id" in said and refused.value.code == "AUDIT_CHAIN_CONTRADICTED"
    # Nothing was begun: a removed file is not made again, a cut one not appended to.
    if how == "removed":
        assert not chain_file(main, "a-0").exists()
    elif how != "emptied":
        with sqlite3.connect(chain_file(main, "a-0")) as db:
            assert db.execute("SELECT max(seq) FROM audit_records").fetchone()[0] < 4


async def test_a_new_chain_id_and_the_untouched_chains_open_beside_the_evidence(
    tmp_path: Path,
) -> None:
    url, main = _url(tmp_path), tmp_path / "audit.db"
    await _write(url, "a-0", 3)
    await _write(url, "b-0", 1)
    for path in _chain_files(main, "a-0"):
        path.unlink()
    with pytest.raises(AuditChainContradicted):
        await _open(url, "a-0")
    # What an operator is told to do: a new chain id begins a new chain.
    await _write(url, "a2-0", 2)
    await _write(url, "b-0", 1)  # the chain that witnessed a-0 carries on
    with sqlite3.connect(chain_file(main, "a2-0")) as db:
        assert db.execute("SELECT seq FROM audit_chains").fetchall() == [(3,)]  # + a witness


async def test_a_fresh_log_with_a_witness_configured_opens(tmp_path: Path) -> None:
    url = _url(tmp_path)
    _HEADS["a-0"] = _heads(tmp_path)
    await _write(url, "a-0", 2)
    await _write(url, "a-0", 1)  # and again, over its own records
    with sqlite3.connect(chain_file(tmp_path / "audit.db", "a-0")) as db:
        assert db.execute("SELECT seq FROM audit_chains").fetchall() == [(3,)]


def _heads(tmp_path: Path) -> TreeHeadSettings:
    return TreeHeadSettings(
        witness=str(tmp_path / "tree-heads"),
        key_file=tmp_path / "tree-head-key",
        trusted_keys_dir=tmp_path / "tree-head-keys",
    )


async def _publish_head(
    tmp_path: Path, url: str, chain: str, witness: Witness | None = None
) -> None:
    engine = open_audit_engine(url)
    publisher = HeadPublisher(
        SqlChainSource(engine, chain),
        load_or_create_key(tmp_path / "tree-head-key"),
        witness or DirectoryWitness(tmp_path / "tree-heads"),
        tmp_path / "tree-heads-outbox",
        every_records=1,
        on_close=engine.dispose,
    )
    try:
        await publisher.tick()
    finally:
        await publisher.aclose()
    assert publisher.delivered == 1


@pytest.mark.parametrize("how", ["removed", "cut"])
async def test_a_lone_chain_with_a_signed_head_at_the_witness_is_refused(
    tmp_path: Path, how: str
) -> None:
    # No other chain ever saw it: the head the witness keeps is what knows it.
    url, main = _url(tmp_path), tmp_path / "audit.db"
    _HEADS["a-0"] = _heads(tmp_path)
    await _write(url, "a-0", 3)
    await _publish_head(tmp_path, url, "a-0")
    if how == "removed":
        for path in _chain_files(main, "a-0"):
            path.unlink()
    else:
        _cut_in_file(chain_file(main, "a-0"), keep=1)
    with pytest.raises(AuditChainContradicted) as refused:
        await _open(url, "a-0")
    said = str(refused.value)
    assert "the audit chain a-0 existed before: the witness" in said, said
    assert "holds its head of 3 records signed" in said, said
    ends = "no head row of it" if how == "removed" else "the chain here ends at record 1"
    assert ends in said, said


async def test_a_head_at_an_http_witness_is_evidence_and_a_witness_down_is_passed_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, main = _url(tmp_path), tmp_path / "audit.db"
    load_or_create_key(tmp_path / "tree-head-key")  # the witness is told the key up front
    pem = public_key_file(tmp_path / "tree-head-key").read_bytes()
    witness = await start_witness(create_app([pem]))
    try:
        heads = _heads(tmp_path).model_copy(update={"witness": witness.url})
        _HEADS["a-0"] = heads
        await _write(url, "a-0", 3)
        await _publish_head(tmp_path, url, "a-0", HttpWitness(witness.url))
        for path in _chain_files(main, "a-0"):
            path.unlink()
        with pytest.raises(AuditChainContradicted) as refused:
            await _open(url, "a-0")
        assert f"the witness {witness.url} holds its head of 3 records" in str(refused.value)
    finally:
        await witness.aclose()
    # The witness down: the court is not stopped by it; the gap stays for `audit verify`.
    await _write(url, "a-0", 1)
    said = [
        r.getMessage() for r in caplog.records if "could not be read at start" in r.getMessage()
    ]
    assert len(said) == 1, said


async def test_a_head_signed_by_an_untrusted_key_is_not_evidence(tmp_path: Path) -> None:
    url, main = _url(tmp_path), tmp_path / "audit.db"
    await _write(url, "a-0", 3)
    await _publish_head(tmp_path, url, "a-0")
    for path in _chain_files(main, "a-0"):
        path.unlink()
    heads = _heads(tmp_path)
    # The verifier trusts another key only: the file left at the witness proves nothing.
    other = tmp_path / "other" / "tree-head-key"
    load_or_create_key(other)
    heads = heads.model_copy(update={"key_file": other})
    _HEADS["a-0"] = heads
    await _write(url, "a-0", 1)


@pytest.mark.parametrize("how", ["rows deleted", "tail cut, head rewound", "head rewound"])
async def test_a_chain_cut_in_its_database_is_refused(database_url: str, how: str) -> None:
    # PostgreSQL keeps every chain in one database; SQLite here in the chain's own file.
    await _write(database_url, "a-0", 4)
    await _write(database_url, "b-0", 1)  # witnesses a-0's record 4
    r, i, h = audit_records.c, audit_index.c, audit_chains.c
    engine = open_audit_engine(database_of(database_url, "a-0"), chain_files=False)
    try:
        async with engine.begin() as conn:
            mine = (r.chain == "a-0", i.chain == "a-0", h.chain == "a-0")
            if how == "rows deleted":
                await conn.execute(delete(audit_records).where(mine[0]))
                await conn.execute(delete(audit_index).where(mine[1]))
                await conn.execute(delete(audit_chains).where(mine[2]))
            else:
                kept = select(r.hash).where(mine[0], r.seq == 2)
                digest = (await conn.execute(kept)).scalar_one()
                if how == "tail cut, head rewound":
                    await conn.execute(delete(audit_records).where(mine[0], r.seq > 2))
                    await conn.execute(delete(audit_index).where(mine[1], i.seq > 2))
                await conn.execute(update(audit_chains).where(mine[2]).values(seq=2, hash=digest))
    finally:
        await engine.dispose()
    with pytest.raises(AuditChainContradicted) as refused:
        await _open(database_url, "a-0")
    said = str(refused.value)
    assert "the audit chain a-0" in said and "`[audit] chain_id`" in said, said
    assert "chain b-0 record 2 witnessed its record 4" in said, said
    await _write(database_url, "b-0", 1)  # the others are not held up


async def test_a_lone_chain_s_rows_deleted_under_a_signed_head_are_refused(
    database_url: str, tmp_path: Path
) -> None:
    _HEADS["a-0"] = _heads(tmp_path)
    await _write(database_url, "a-0", 3)
    await _publish_head(tmp_path, database_url, "a-0")
    r, i, h = audit_records.c, audit_index.c, audit_chains.c
    engine = open_audit_engine(database_of(database_url, "a-0"), chain_files=False)
    try:
        async with engine.begin() as conn:
            await conn.execute(delete(audit_records).where(r.chain == "a-0"))
            await conn.execute(delete(audit_index).where(i.chain == "a-0"))
            await conn.execute(delete(audit_chains).where(h.chain == "a-0"))
    finally:
        await engine.dispose()
    with pytest.raises(AuditChainContradicted, match="holds its head of 3 records signed"):
        await _open(database_url, "a-0")


async def test_a_head_row_wound_back_behind_its_records_is_refused(tmp_path: Path) -> None:
    # No witness and no signed head: the chain's own records contradict its head row.
    url, main = _url(tmp_path), tmp_path / "audit.db"
    await _write(url, "a-0", 3)
    with sqlite3.connect(chain_file(main, "a-0")) as db:
        (digest,) = db.execute("SELECT hash FROM audit_records WHERE seq = 1").fetchone()
        db.execute("UPDATE audit_chains SET seq = 1, hash = ?", (digest,))
    with pytest.raises(AuditChainContradicted, match="the head row says record 1, the records"):
        await _open(url, "a-0")


_NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,6}", fullmatch=True)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(_NAMES, min_size=2, max_size=2, unique=True))
@example(names=["a_0", "ab0"])  # "_" would be LIKE's wildcard
@example(names=["a-0", "A-0"])  # SQLite's LIKE ignores case
def test_a_witness_claim_counts_for_its_own_chain_only(tmp_path: Path, names: list[str]) -> None:
    witnessed, other = names
    folder = tmp_path / f"example-{next(_EXAMPLES)}"
    folder.mkdir()
    asyncio.run(_claims_of(_url(folder), witnessed, other))


_EXAMPLES = itertools.count()


async def _claims_of(url: str, witnessed: str, other: str) -> None:
    await _write(url, witnessed, 2)
    by = await _open(url, "witness-by")
    try:
        await by.append(make_entry(1))  # its record 2 names `witnessed` at record 2
        await _write(url, other, 1)  # record 2 of `other` names both
        await by.append(make_entry(2))  # its record 4 names `other` only
    finally:
        await by.aclose()
    # Only witness-by's record 2 names `witnessed` now; its newer record 4 names `other`.
    main = sqlite_path(url)
    assert main is not None
    with sqlite3.connect(chain_file(main, other)) as db:
        db.execute("DELETE FROM audit_records WHERE operation = 'audit.witness'")
    engine = open_audit_engine(url)
    try:
        found = await newest_claim(engine, witnessed), await newest_claim(engine, other)
    finally:
        await engine.dispose()
    assert [(e.seq, e.said) for e in found if e is not None] == [
        (2, "chain witness-by record 2 witnessed its record 2"),
        (2, "chain witness-by record 4 witnessed its record 2"),
    ]
    await _write(url, witnessed, 1)  # and it opens again over its own records
