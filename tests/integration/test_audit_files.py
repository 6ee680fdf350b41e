"""One SQLite file per writer: each chain in a file of its own, the log read as one.

Writers never share a file (so never a write lock); every reader (search, export, verify)
sees all the files; removing a whole file is a cut that the other chains' witness records
name; a log from before chain files keeps its chains in its one file.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from gateway.audit import opening
from gateway.audit.chain_files import chain_file, chain_files
from gateway.audit.chain_source import SqlChainSource
from gateway.audit.head_keys import load_or_create_key
from gateway.audit.head_publisher import HeadPublisher
from gateway.audit.query import AuditFilter, AuditSearch
from gateway.audit.store import SqlAuditLog, open_audit_engine
from gateway.audit.tables import audit_chains, audit_index, audit_records
from gateway.audit.verify import verify_log
from gateway.audit.witness import WITNESS_OPERATION
from gateway.audit.witnesses import DirectoryWitness
from tests.audit_entries import make_entry
from tests.integration.audit_cli import verify_cli

KEY = b"k" * 32
DEBTOR = "110101199003071234"


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


async def _open(url: str, chain: str, *, files: bool = True) -> SqlAuditLog:
    return await SqlAuditLog.open(
        url, KEY, chain=chain, witness_interval_s=0, file_per_writer=files
    )


async def test_each_writer_appends_to_its_own_file_and_readers_see_all(tmp_path: Path) -> None:
    url, main = _url(tmp_path), tmp_path / "audit.db"
    a, b = await _open(url, "a-0"), await _open(url, "b-0")
    try:
        # Times interleave across the chains: readers merge them by time.
        await asyncio.gather(*(a.append(make_entry(n)) for n in (1, 3, 5)))
        await asyncio.gather(*(b.append(make_entry(n)) for n in (2, 4)))
        await a.append(make_entry(6))  # a-0 now witnesses b-0 too
        search = AuditSearch(a.engine, KEY)
        exported = [r async for r in search.stream(AuditFilter(debtor_id=DEBTOR))]
        page, more = await search.page(AuditFilter(case_number="（2024）苏0312执1234号"), first=4)
        report = await verify_log(a.engine)
    finally:
        await a.aclose()
        await b.aclose()
    assert chain_files(main) == [chain_file(main, "a-0"), chain_file(main, "b-0")]
    assert a.writes_to.endswith("audit.chains/a-0.db") and b.writes_to != a.writes_to
    # Each file holds its own chain and nothing else; the main file holds no record.
    for chain in ("a-0", "b-0"):
        held = _rows(chain_file(main, chain), "SELECT DISTINCT chain FROM audit_chains")
        assert held == [(chain,)]
        assert _rows(chain_file(main, chain), "SELECT DISTINCT chain FROM audit_records") == held
    assert _rows(main, "SELECT count(*) FROM audit_records") == [(0,)]
    assert [r.request_id for r in exported] == [f"req-{n}" for n in range(1, 7)]
    assert [r.request_id for r in page] == ["req-6", "req-5", "req-4", "req-3"] and more
    # Witness records cross the files: each chain vouches for the other's head.
    assert (witnessed_by(main, "a-0"), witnessed_by(main, "b-0")) == ({"b-0"}, {"a-0"})
    assert report.ok, report.breaks
    assert {c.chain: c.size for c in report.chains} == {"a-0": 5, "b-0": 3}  # 1 witness each


def witnessed_by(main: Path, chain: str) -> set[str]:
    """The chains that ``chain``'s witness records name, read from its own file."""
    found = _rows(
        chain_file(main, chain),
        f"SELECT detail FROM audit_records WHERE operation = '{WITNESS_OPERATION}'",
    )
    return {name for (detail,) in found for name in json.loads(str(detail))["witness"]}


async def _tamper(log: SqlAuditLog, how: str) -> None:
    """Change chain ``log.chain`` in its own file, as someone with write access could."""
    r, i = audit_records.c, audit_index.c
    engine = open_audit_engine(log.writes_to, chain_files=False)
    try:
        async with engine.begin() as conn:
            if how == "edit":
                await conn.execute(update(audit_records).where(r.seq == 2).values(principal="x"))
            else:  # cut the tail after record 2, and wind the head back to match
                kept = (await conn.execute(select(r.hash).where(r.seq == 2))).scalar_one()
                await conn.execute(delete(audit_records).where(r.seq > 2))
                await conn.execute(delete(audit_index).where(i.seq > 2))
                await conn.execute(update(audit_chains).values(seq=2, hash=kept))
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("edit", "BROKEN at chain a-0 record 2:"),
        ("cut", "BROKEN at chain a-0 record 4: missing: cut from the tail"),
        ("remove", "BROKEN at chain a-0 record 4: the chain is gone"),
    ],
)
async def test_verify_names_an_edit_a_cut_and_a_removed_file(
    tmp_path: Path, how: str, said: str
) -> None:
    url, main = _url(tmp_path), tmp_path / "audit.db"
    a, b = await _open(url, "a-0"), await _open(url, "b-0")
    try:
        for n in range(4):
            await a.append(make_entry(n))
        await b.append(make_entry(10))  # b-0 witnesses a-0 at record 4
        code, text = await verify_cli(tmp_path, _url(tmp_path))
        assert code == 0 and "audit log OK" in text, text
        if how == "remove":
            await a.aclose()
            for path in chain_folder_files(main, "a-0"):
                path.unlink()
        else:
            await _tamper(a, how)
    finally:
        await a.aclose()
        await b.aclose()
    code, text = await verify_cli(tmp_path, _url(tmp_path))
    assert code == 1, text
    assert said in text, text
    if how != "edit":
        assert "chain b-0 record 2 witnessed it" in text, text


def chain_folder_files(main: Path, chain: str) -> list[Path]:
    """A chain's file with its WAL and shared-memory files: what removing it takes."""
    base = chain_file(main, chain)
    return [p for p in base.parent.iterdir() if p.name.startswith(base.name)]


async def test_a_one_file_log_keeps_its_chains_and_new_writers_get_files(tmp_path: Path) -> None:
    url, main = _url(tmp_path), tmp_path / "audit.db"
    old = await _open(url, "a-0", files=False)  # as an earlier version wrote it
    try:
        for n in range(3):
            await old.append(make_entry(n))
    finally:
        await old.aclose()
    a, b = await _open(url, "a-0"), await _open(url, "b-0")
    try:
        await b.append(make_entry(10))
        await a.append(make_entry(11))
        report = await verify_log(a.engine)
        exported = [r async for r in AuditSearch(a.engine, KEY).stream(AuditFilter())]
    finally:
        await a.aclose()
        await b.aclose()
    # a-0 carries on in the one file, where its records are; b-0 begins in a file of its own.
    assert a.writes_to == url and chain_files(main) == [chain_file(main, "b-0")]
    assert _rows(main, "SELECT DISTINCT chain FROM audit_records") == [("a-0",)]
    assert report.ok, report.breaks
    sizes = {c.chain: c.size for c in report.chains}
    assert sizes == {"a-0": 5, "b-0": 2}  # each with one witness record of the other
    assert [r.request_id for r in exported] == ["req-0", "req-1", "req-2", "req-10", "req-11"]


async def test_db_upgrade_reaches_every_chain_file(tmp_path: Path) -> None:
    url, main = _url(tmp_path), tmp_path / "audit.db"
    for chain in ("a-0", "b-0"):
        log = await _open(url, chain)
        await log.append(make_entry(1))
        await log.aclose()
    config = tmp_path / "liandong.toml"
    config.write_text(f"data_dir = {json.dumps(str(tmp_path))}\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "gateway.cli.main", "db", "upgrade", "--config", str(config)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    # Each file a writer made is adopted as an audit database at the newest revision, so
    # a later migration of the audit tables reaches every chain.
    versions = {
        path.name: _rows(path, "SELECT version_num FROM liandong_audit_version")
        for path in [main, *chain_files(main)]
    }
    assert len(versions) == 3 and len({str(v) for v in versions.values()}) == 1, versions
    assert versions["a-0.db"] != [], versions


async def test_a_lone_writer_s_removed_file_fails_against_its_signed_heads(
    tmp_path: Path,
) -> None:
    # No other chain witnessed it: the heads the witness keeps are what know the chain.
    url, main = _url(tmp_path), tmp_path / "audit.db"
    log = await _open(url, "a-0")
    engine = open_audit_engine(url)
    publisher = HeadPublisher(
        SqlChainSource(engine, "a-0"),
        load_or_create_key(tmp_path / "tree-head-key"),
        DirectoryWitness(tmp_path / "tree-heads"),
        tmp_path / "tree-heads-outbox",
        every_records=3,
        on_close=engine.dispose,
    )
    try:
        for n in range(3):
            await log.append(make_entry(n))
        await publisher.tick()
    finally:
        await log.aclose()
        await publisher.aclose()
    assert publisher.delivered == 1
    code, text = await verify_cli(tmp_path, _url(tmp_path))
    assert code == 0 and "audit log OK" in text, text
    for path in chain_folder_files(main, "a-0"):
        path.unlink()
    code, text = await verify_cli(tmp_path, _url(tmp_path))
    assert code == 1, text
    assert "chain a-0, signed head of 3 records" in text and "no such chain" in text, text


async def test_with_files_off_a_chain_keeps_its_file_and_a_new_one_goes_in_the_main_file(
    tmp_path: Path,
) -> None:
    url, main = _url(tmp_path), tmp_path / "audit.db"
    first = await _open(url, "a-0")
    await first.append(make_entry(1))
    await first.aclose()
    a, b = await _open(url, "a-0", files=False), await _open(url, "b-0", files=False)
    try:
        await a.append(make_entry(2))
        await b.append(make_entry(3))
        report = await verify_log(a.engine)
    finally:
        await a.aclose()
        await b.aclose()
    assert a.writes_to.endswith("audit.chains/a-0.db") and b.writes_to == url
    assert _rows(main, "SELECT DISTINCT chain FROM audit_records") == [("b-0",)]
    assert report.ok and {c.chain: c.size for c in report.chains} == {"a-0": 2, "b-0": 2}


async def test_past_the_most_files_sqlite_attaches_a_new_chain_begins_in_the_main_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opening, "MAX_FILES", 1)
    url, main = _url(tmp_path), tmp_path / "audit.db"
    a, b = await _open(url, "a-0"), await _open(url, "b-0")
    try:
        await a.append(make_entry(1))
        await b.append(make_entry(2))
        report = await verify_log(a.engine)
    finally:
        await a.aclose()
        await b.aclose()
    assert chain_files(main) == [chain_file(main, "a-0")] and b.writes_to == url
    assert report.ok and {c.chain: c.size for c in report.chains} == {"a-0": 1, "b-0": 2}


async def test_a_writer_commits_and_witnesses_while_another_holds_its_own_lock(
    tmp_path: Path,
) -> None:
    # No lock is shared by the writers: b-0's write lock held open (a transaction of its
    # writer in progress) neither stops a-0's commit nor its read of b-0's head.
    url, main = _url(tmp_path), tmp_path / "audit.db"
    a, b = await _open(url, "a-0"), await _open(url, "b-0")
    other = sqlite3.connect(chain_file(main, "b-0"), isolation_level=None)
    try:
        await b.append(make_entry(1))
        other.execute("BEGIN IMMEDIATE")
        await asyncio.wait_for(a.append(make_entry(2)), 30)
        other.execute("ROLLBACK")
    finally:
        other.close()
        await a.aclose()
        await b.aclose()
    assert a.lock_waits == 0 and a.commits == 1
    assert witnessed_by(main, "a-0") == {"b-0"}
