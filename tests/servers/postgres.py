"""A throwaway PostgreSQL server on 127.0.0.1, in a temp dir, for one test session.

PostgreSQL refuses to run as root, so when the tests run as root the data directory is
given to the ``postgres`` user and ``initdb`` / ``pg_ctl`` run through ``runuser``. The
server trusts local connections (it listens on 127.0.0.1 only and lives as long as the
session) and trades durability for speed: ``fsync`` off, since a crash loses nothing a
test needs.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.audit_sweep import sweep_postgres
from tests.servers.install import require
from tests.servers.leftovers import claim, reap

__all__ = ["PostgresServer", "find_pg_bin", "start_postgres"]

SUPERUSER = "postgres"
PREFIX = "liandong-pg-"
START_ATTEMPTS = 3
_INITDB_OPTIONS = ("--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
_SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=300",
)


def find_pg_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding ``pg_ctl``, else ``pg_ctl`` on PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", path.parent.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=version)
    if candidates:
        return candidates[-1].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the server may still lose a race for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pg(bindir: Path, tool: str, *args: str) -> list[str]:
    """The argv running a PostgreSQL tool, as the ``postgres`` user when we are root."""
    as_user = ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []
    return [*as_user, str(bindir / tool), *args]


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")


@dataclass
class PostgresServer:
    """A running server; ``database()`` makes a fresh database for one test."""

    bindir: Path
    root: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` (asyncpg driver)."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """Create an empty database, yield its URL, and drop it (and its sessions) after."""
        name = f"t_{uuid.uuid4().hex}"
        admin = create_async_engine(self.url(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                yield self.url(name)
            finally:
                try:
                    # Its audit records are searched before they go (tests/audit_sweep.py).
                    await sweep_postgres(self.url(name))
                finally:
                    async with admin.connect() as conn:
                        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            await admin.dispose()

    def stop(self) -> None:
        """Stop the server at once and delete its files."""
        subprocess.run(
            _pg(self.bindir, "pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"),
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """Init and start a PostgreSQL server on a free port."""
    bindir = require("PostgreSQL (pg_ctl)", find_pg_bin, ["postgresql"])

    def stop_leftover(root: Path) -> None:
        PostgresServer(bindir=bindir, root=root, port=0).stop()

    reap(PREFIX, stop_leftover)
    root = Path(tempfile.mkdtemp(prefix=PREFIX))
    claim(root)
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam(SUPERUSER)
        for path in (root, sock):
            os.chown(path, user.pw_uid, user.pw_gid)
    try:
        _run(
            _pg(bindir, "initdb", "-D", str(data), "-U", SUPERUSER, *_INITDB_OPTIONS),
            "initdb",
        )
        last = ""
        for _attempt in range(START_ATTEMPTS):
            port = free_port()
            options = " ".join([f"-p {port}", f"-k {sock}", *_SERVER_OPTIONS])
            log_to = ("-l", str(root / "server.log"), "start")
            proc = subprocess.run(
                _pg(bindir, "pg_ctl", "-D", str(data), "-w", "-t", "60", "-o", options, *log_to),
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            if proc.returncode == 0:
                return PostgresServer(bindir=bindir, root=root, port=port)
            log = root / "server.log"
            last = proc.stdout + proc.stderr + (log.read_text() if log.exists() else "")
        raise RuntimeError(f"PostgreSQL did not start:\n{last}")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
