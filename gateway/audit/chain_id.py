"""Which chain this writer appends to: a name that survives restarts.

The name is ``<base>-<writer_index>``. ``base`` is ``audit.chain_id`` when set, else an id
made once at random and kept in ``data_dir/audit-chain-id`` (so a restarted gateway carries
on its own chain, and instances with their own data dirs never share one). ``serve
--workers N`` sets ``audit.writer_index`` to 0..N-1, one per worker, and a restarted worker
gets the index of the one it replaces. A process id would change at every restart and
leave a trail of one-off chains.

Two processes given the same name still write correctly (each commit locks the chain's head
row), only no longer side by side.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from pathlib import Path

from gateway.settings import Settings, SettingsError

__all__ = ["CHAIN_NAME", "writer_chain"]

CHAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_FILE = "audit-chain-id"


def _instance_id(data_dir: Path) -> str:
    path = data_dir / _FILE
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=f".{_FILE}-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"w{secrets.token_hex(6)}\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # workers starting together: one wins
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return _read(path)


def _read(path: Path) -> str:
    value = path.read_text().strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,40}", value):
        raise SettingsError(f"audit.chain_id: {path} does not hold a chain id", ["audit.chain_id"])
    return value


def writer_chain(settings: Settings) -> str:
    """This writer's chain name (may create ``data_dir/audit-chain-id``; blocking I/O)."""
    base = settings.audit.chain_id or _instance_id(settings.data_dir)
    return f"{base}-{settings.audit.writer_index}"
