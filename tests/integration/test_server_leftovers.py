"""Servers of a test session that was killed outright are stopped by the next session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def test_a_killed_sessions_redis_is_reaped() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    root = Path(child.stdout.readline().strip())
    pid = process_of(root / SERVER_PID, "redis-server")
    assert pid is not None
    child.send_signal(signal.SIGKILL)  # no teardown runs: the server is orphaned
    child.wait(timeout=30)
    child.stdout.close()

    assert reap(PREFIX, _stop_leftover) >= 1
    assert not root.exists()
    deadline = time.monotonic() + 30
    while running(pid):
        assert time.monotonic() < deadline, "the orphaned server is still running"
        time.sleep(0.02)


def running(pid: int) -> bool:
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
