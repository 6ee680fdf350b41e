"""What the test servers need from the machine, and the lock around installing the composer.

Installing Debian packages is not a test's job: it needs root, takes minutes and changes the
machine. ``make servers`` (which ``make test`` and CI run first) installs PostgreSQL, Redis
and Node.js; a test that finds a binary missing fails with one line naming that command.
The npm packages of the federation composer are the tests' own (``tests/servers/node.py``):
several pytest processes may start at once on a fresh machine, so an exclusive lock file
makes the first one install them while the others wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

__all__ = ["INSTALL_COMMAND", "InstallError", "install_lock", "require"]

LOCK_FILE = Path(tempfile.gettempdir()) / "liandong-test-servers.lock"
INSTALL_COMMAND = "make servers"


class InstallError(RuntimeError):
    """Something the tests install for themselves (the composer's npm packages) failed."""


@contextlib.contextmanager
def install_lock() -> Iterator[None]:
    """Hold the machine-wide lock that serialises installs between pytest processes."""
    with LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def require(what: str, find: Callable[[], Path | None], packages: Sequence[str]) -> Path:
    """Return ``find()``, or fail the test in one line naming the command that installs it."""
    found = find()
    if found is None:
        pytest.fail(
            f"{what} is not installed: run `{INSTALL_COMMAND}` "
            f"(as root: apt-get install {' '.join(packages)})",
            pytrace=False,
        )
    return found
