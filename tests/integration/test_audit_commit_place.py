"""Where the SQLite audit writer runs ``COMMIT``: on the event loop while it is fast, on its
thread for a while after a slow one, or always on the thread when told so."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit import sqlite_writer
from gateway.audit.sqlite_writer import SqliteWriter
from gateway.audit.store import SqlAuditLog
from gateway.audit.verify import verify_log
from tests.audit_entries import make_entry

KEY = b"k" * 32


async def _log(tmp_path: Path, *, on_loop: bool = True) -> tuple[SqlAuditLog, SqliteWriter]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    log = await SqlAuditLog.open(
        url, KEY, chain="a-0", file_per_writer=True, commit_on_loop=on_loop
    )
    writer = log._batches
    assert isinstance(writer, SqliteWriter)
    return log, writer


async def test_commits_run_on_the_loop_until_one_is_slow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # However loaded the machine, no COMMIT counts as slow at first.
    monkeypatch.setattr(sqlite_writer, "_LOOP_COMMIT_MAX_S", 600.0)
    log, writer = await _log(tmp_path)
    try:
        for n in range(5):
            await log.append(make_entry(n))
        assert (writer.loop_commits, writer.thread_commits, writer.slow_commits) == (5, 0, 0)
        # Every COMMIT counts as slow now: the first one on the loop sends the commits of
        # the spell after it to the thread.
        monkeypatch.setattr(sqlite_writer, "_LOOP_COMMIT_MAX_S", 0.0)
        monkeypatch.setattr(sqlite_writer, "_THREAD_SPELL_S", 600.0)
        for n in range(5, 10):
            await log.append(make_entry(n))
        assert (writer.loop_commits, writer.thread_commits, writer.slow_commits) == (6, 4, 1)
        report = await verify_log(log.engine)
    finally:
        await log.aclose()
    assert report.ok and report.checked == 10 and log.commits == 10


async def test_commit_on_loop_off_keeps_every_commit_on_the_thread(tmp_path: Path) -> None:
    log, writer = await _log(tmp_path, on_loop=False)
    try:
        for n in range(3):
            await log.append(make_entry(n))
    finally:
        await log.aclose()
    assert (writer.loop_commits, writer.thread_commits) == (0, 3)
