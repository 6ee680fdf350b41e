"""Installing the servers the tests need from Debian's packages, once per machine.

Several pytest processes may start at once on a fresh machine; an exclusive lock file makes
the first one install while the others wait, and each re-checks after taking the lock, so
a package is installed at most once. A failed install raises with apt's own output: a test
that needs PostgreSQL fails loudly rather than being skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

__all__ = ["InstallError", "ensure_installed"]

LOCK_FILE = Path(tempfile.gettempdir()) / "liandong-test-servers.lock"
POLICY_RC = Path("/usr/sbin/policy-rc.d")
APT_TIMEOUT_S = 900
_APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}


class InstallError(RuntimeError):
    """A package the tests need could not be installed."""


@contextlib.contextmanager
def install_lock() -> Iterator[None]:
    """Hold the machine-wide lock that serialises installs between pytest processes."""
    with LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _no_service_starts() -> Iterator[None]:
    # Debian's postinst scripts start a system-wide server (listening on localhost, ::1
    # included); the tests start their own, so forbid service starts during the install
    # unless the machine already does (container images usually ship this file).
    if POLICY_RC.exists():
        yield
        return
    POLICY_RC.write_text("#!/bin/sh\nexit 101\n", encoding="utf-8")
    POLICY_RC.chmod(0o755)
    try:
        yield
    finally:
        POLICY_RC.unlink(missing_ok=True)


def _apt(args: Sequence[str]) -> str:
    proc = subprocess.run(
        ["apt-get", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **_APT_ENV},
        timeout=APT_TIMEOUT_S,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise InstallError(f"apt-get {' '.join(args)} failed ({proc.returncode}):\n{output}")
    return output


def ensure_installed(what: str, find: Callable[[], Path | None], packages: Sequence[str]) -> Path:
    """Return ``find()``; if it finds nothing, install ``packages`` with apt-get and retry.

    ``what`` names the thing in errors. Raises ``InstallError`` (with apt's output) when
    installing is impossible or does not produce what ``find`` looks for.
    """
    found = find()
    if found is not None:
        return found
    with install_lock():
        found = find()  # another process may have installed it while we waited
        if found is not None:
            return found
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            raise InstallError(
                f"{what} is not installed and cannot be installed here "
                f"(needs root and apt-get): install {' '.join(packages)}"
            )
        with _no_service_starts():
            log = _apt(["update", "-q"])
            # Wait for another apt (outside our lock, e.g. CI's own install) to finish.
            options = ["-y", "-q", "-o", "DPkg::Lock::Timeout=600", "--no-install-recommends"]
            log += _apt(["install", *options, *packages])
        found = find()
        if found is None:
            raise InstallError(f"installed {' '.join(packages)} but found no {what}:\n{log}")
        return found
