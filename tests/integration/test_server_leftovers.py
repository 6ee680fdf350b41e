"""Servers of a test session that was killed outright are stopped by the next session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.servers.leftovers import process_of, reap
from tests.servers.redis import PREFIX, SERVER_PID, _stop_leftover

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import time
from tests.servers.redis import start_redis
server = start_redis()
print(server.root, flush=True)
time.sleep(120)
"""


def test_a_killed_sessions_redis_is_reaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A temp dir of its own: other test sessions on the machine reap the shared one too,
    # and one of them could take this leftover first.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)},
    )
    assert child.stdout is not None
    root = Path(child.stdout.readline().strip())
    assert root.parent == tmp_path
    pid = process_of(root / SERVER_PID, "redis-server")
    assert pid is not None
    child.send_signal(signal.SIGKILL)  # no teardown runs: the server is orphaned
    child.wait(timeout=30)
    child.stdout.close()

    assert reap(PREFIX, _stop_leftover) == 1
    # Stopped before its directory goes: Redis opens its log file anew for every line, its
    # last one included, so a directory deleted under a server still shutting down came back.
    assert not running(pid)
    assert not root.exists()
    assert list(tmp_path.iterdir()) == []


def running(pid: int) -> bool:
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
