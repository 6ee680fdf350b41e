"""Cleaning up after test sessions that died without stopping their servers.

A session killed outright (a CI time-out, a SIGKILL) cannot run its teardown, and
PostgreSQL daemonises: its server would outlive the session. Every server directory
records the pid of the session that owns it; a new session stops the servers of owners
that no longer run, by the server's own pid or data directory, never by name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["claim", "process_of", "reap"]

OWNER_FILE = "owner.pid"


def claim(root: Path) -> None:
    """Mark ``root`` as belonging to this process."""
    (root / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(prefix: str, stop: Callable[[Path], None]) -> int:
    """Stop (``stop(root)``) and delete every ``<tmp>/<prefix>*`` whose owner is gone."""
    reaped = 0
    for root in Path(tempfile.gettempdir()).glob(prefix + "*"):
        try:
            owner = int((root / OWNER_FILE).read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue  # still being set up, or not ours
        if _alive(owner):
            continue
        with contextlib.suppress(OSError):
            stop(root)
        shutil.rmtree(root, ignore_errors=True)
        reaped += 1
    return reaped


def process_of(pid_file: Path, command: str) -> int | None:
    """The pid in ``pid_file`` if that process still runs ``command`` (pids get reused)."""
    try:
        pid = int(pid_file.read_text(encoding="ascii").split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if command.encode() in cmdline else None
