"""Every audit record the suite wrote, read back and searched for what must never be there.

A pytest plugin (loaded by ``tests/conftest.py``). Gateways in the suite write their audit
logs into the session's temporary directory (SQLite, in-process or in a child process) or
into a database on the session's PostgreSQL server, which is dropped when its test ends.
So the PostgreSQL databases are swept just before they are dropped
(``tests/servers/postgres.py`` calls ``sweep_postgres``), and at the end of the session
every SQLite file under the session's temporary directory that holds an ``audit_records``
table is swept. The session then fails (an error at the teardown of its last test) if any
record holds a clear resident id (18 characters, a valid GB 11643 number, not part of a
longer run of letters and digits such as a hash) or a printed framework object (``Info(``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from stdnum.cn import ric

from gateway.masking import mask_id

__all__ = ["SWEEP", "Sweep", "offences", "sweep_postgres"]

TABLE = "audit_records"
_CLEAR_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_FRAMEWORK = ("Info(",)
_SHOWN = 20  # offending records named in the failure, at most


def _valid_resident_id(number: str) -> bool:
    try:
        return bool(ric.is_valid(number))
    except KeyError:  # stdnum's region table has gaps that raise instead of failing
        return False


def offences(text_of_record: str) -> list[str]:
    """What in one record's text must not be on record: clear ids, framework objects."""
    # Named masked, once each: the failure message is a log too.
    found = [mask_id(m) for m in _CLEAR_ID.findall(text_of_record) if _valid_resident_id(m)]
    found += [word for word in _FRAMEWORK if word in text_of_record]
    return list(dict.fromkeys(found))


@dataclass
class Sweep:
    """What was read, and what was found, over the session."""

    logs: int = 0
    records: int = 0
    offending: list[str] = field(default_factory=list)

    def check(self, where: str, rows: Iterable[tuple[object, ...]]) -> None:
        """Search each row (every column, as text) of one audit log."""
        self.logs += 1
        for row in rows:
            self.records += 1
            found = offences(" ".join("" if v is None else str(v) for v in row))
            if found:
                self.offending.append(f"{where} seq {row[0]}: {', '.join(found)}")

    def report(self) -> str:
        return (
            f"audit sweep: {self.records} records in {self.logs} audit logs, "
            f"{len(self.offending)} holding a clear resident id or a framework object"
        )


SWEEP = Sweep()


def _sqlite_rows(path: Path) -> Iterator[tuple[object, ...]] | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        has = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
        ).fetchone()
        rows = conn.execute(f"SELECT * FROM {TABLE} ORDER BY seq").fetchall() if has else None
    except sqlite3.DatabaseError:  # not a database, or not one of ours
        return None
    finally:
        conn.close()
    return None if rows is None else iter(rows)


def sweep_sqlite(root: Path) -> None:
    """Sweep every SQLite file under ``root`` that holds an audit log."""
    for path in sorted(root.rglob("*.db")):
        rows = _sqlite_rows(path)
        if rows is not None:
            SWEEP.check(str(path.relative_to(root)), rows)


async def sweep_postgres(url: str) -> None:
    """Sweep the audit log in the PostgreSQL database at ``url``, if it holds one."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            has = await conn.run_sync(lambda c: inspect(c).has_table(TABLE))
            if has:
                result = await conn.execute(text(f"SELECT * FROM {TABLE} ORDER BY seq"))
                SWEEP.check(url.rsplit("/", 1)[-1], (tuple(r) for r in result))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def audit_sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    """Fails the session if any audit record it wrote holds what must not be there."""
    yield SWEEP
    sweep_sqlite(tmp_path_factory.getbasetemp())
    if SWEEP.offending:
        shown = "\n".join(SWEEP.offending[:_SHOWN])
        pytest.fail(f"{SWEEP.report()}:\n{shown}", pytrace=False)


_WORKER_OUTPUT = "liandong_audit_sweep"


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under pytest-xdist each worker sweeps what its own tests wrote (and fails its own last
    # test for it); what it read goes to the controller, whose summary adds them up.
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output[_WORKER_OUTPUT] = {
            "logs": SWEEP.logs,
            "records": SWEEP.records,
            "offending": list(SWEEP.offending),
        }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist's hook on the controller, as each worker ends: its sweep's counts."""
    swept = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
    if swept:
        SWEEP.logs += int(swept["logs"])
        SWEEP.records += int(swept["records"])
        SWEEP.offending += [str(o) for o in swept["offending"]]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SWEEP.logs:
        terminalreporter.write_line(SWEEP.report())
