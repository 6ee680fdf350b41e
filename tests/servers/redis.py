"""A throwaway Redis server on 127.0.0.1, in a temp dir, for one test session.

Nothing is persisted (no RDB snapshots, no append-only file); the server is a child of
the test process and dies with the session.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers.install import require
from tests.servers.leftovers import claim, process_of, reap
from tests.servers.postgres import free_port

__all__ = ["RedisServer", "find_redis_server", "start_redis"]

START_ATTEMPTS = 3
PREFIX = "liandong-redis-"
SERVER_PID = "server.pid"
READY_WAIT_S = 20.0
STOP_POLL_S = 0.02
STOP_POLLS = 500  # 10 s for a leftover server to exit on SIGTERM, then as long on SIGKILL


def find_redis_server() -> Path | None:
    """``redis-server`` on PATH (Debian puts it in /usr/bin)."""
    found = shutil.which("redis-server")
    return Path(found) if found else None


@dataclass
class RedisServer:
    """A running server; ``url(db)`` names one of its numbered databases."""

    process: subprocess.Popen[bytes]
    root: Path
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def _stop_leftover(root: Path) -> None:
    """Stop an orphaned server and return once it is gone, so its directory can go.

    Redis opens its log file anew for every line, its last "bye bye" included: a directory
    deleted while the server was still shutting down (on a busy machine) got that file back
    and outlived the reaping. The server is not our child, so it is polled, not waited for.
    """
    pid = process_of(root / SERVER_PID, "redis-server")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if pid is None:
            return
        os.kill(pid, sig)
        for _ in range(STOP_POLLS):
            if process_of(root / SERVER_PID, "redis-server") != pid:
                return
            time.sleep(STOP_POLL_S)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis() -> RedisServer:
    """Start a Redis server on a free port and wait for PONG."""
    binary = require("Redis (redis-server)", find_redis_server, ["redis-server"])
    reap(PREFIX, _stop_leftover)
    root = Path(tempfile.mkdtemp(prefix=PREFIX))
    claim(root)
    last = ""
    for attempt in range(START_ATTEMPTS):
        port = free_port()
        log = root / f"redis-{attempt}.log"
        argv = [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(root), "--logfile", str(log)]
        argv += ["--protected-mode", "yes"]
        # Output goes to a file, not a pipe: nobody reads a pipe and a full one would block.
        with (root / "output.log").open("ab") as output:
            process = subprocess.Popen(argv, stdout=output, stderr=output)
        deadline = time.monotonic() + READY_WAIT_S
        while time.monotonic() < deadline and process.poll() is None:
            if _answers_ping(port):
                (root / SERVER_PID).write_text(str(process.pid), encoding="ascii")
                return RedisServer(process=process, root=root, port=port)
            time.sleep(0.02)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        last = (root / "output.log").read_text(errors="replace")
        last += log.read_text(errors="replace") if log.exists() else ""
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"Redis did not start:\n{last}")
