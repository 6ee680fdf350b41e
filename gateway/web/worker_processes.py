"""``liandong serve --workers N``: N worker processes, each listening on the port itself.

uvicorn's own supervisor hands one listening socket to all its workers, and each new
connection goes to whichever worker accepts first. Keep-alive connections opened together
(a court system's pool, a proxy's upstream pool, the bench's 32) then pile onto one
process: measured with two workers, 32 connections landed 32/0, 30/2 and 22/10, and the
busy worker's core did nearly all the work while the other idled. Here every worker binds
the port with ``SO_REUSEPORT``, and the kernel spreads connections over the workers'
sockets by their addresses.

The supervisor says it is serving only once every worker has started (each sets its own
``ready`` event after its lifespan's start-up), so a worker that refuses to start never
follows a "serving" line. It restarts a worker that dies, stops when a worker fails to
start (a broken config would fail the same way every time), and on SIGINT or SIGTERM stops
the workers (each finishes its lifespan, so the audit log is flushed) before it exits.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType

import uvicorn

from gateway.web.announcing_server import AnnouncingServer
from gateway.web.server import bind

__all__ = ["can_share_port", "serve_workers"]

logger = logging.getLogger("liandong.workers")

APP = "gateway.web.asgi:app_factory"
_POLL_S = 0.5  # how often the supervisor looks at its workers
_STARTING_POLL_S = 0.05  # and while it waits for them all to start, to say so soon after
_STOP_S = 30.0  # how long a stopping worker may take before it is killed
WRITER_INDEX_ENV = "LIANDONG_AUDIT__WRITER_INDEX"  # the setting audit.writer_index
STARTUP_FAILURE = 3  # uvicorn's exit status for an app that failed to start


def can_share_port() -> bool:
    """Whether this platform lets several sockets listen on one port (Linux, BSDs)."""
    return hasattr(socket, "SO_REUSEPORT")


def _worker(app: str, host: str, port: int, index: int, ready: Event) -> None:
    """One worker: its own socket, one uvicorn server, ``app`` (a factory's import string);
    ``ready`` is set once the app has started."""
    # Each worker appends to an audit chain of its own, named by its index: a worker started
    # in place of one that died carries on that one's chain (gateway/audit/chain_id.py).
    os.environ[WRITER_INDEX_ENV] = str(index)
    sock = bind(host, port, reuse_port=True)
    config = uvicorn.Config(app, factory=True, log_level="warning", access_log=False)
    AnnouncingServer(config, ready.set).run(sockets=[sock])


class _Supervisor:
    def __init__(
        self, app: str, host: str, port: int, workers: int, announce: Callable[[], None]
    ) -> None:
        self.app, self.host, self.port, self.count = app, host, port, workers
        self.stop = threading.Event()
        self.failed = False
        self._context = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess] = []
        # One per worker index: a worker started in place of a dead one finds it set.
        self._ready = [self._context.Event() for _ in range(workers)]
        self._announce: Callable[[], None] | None = announce

    def _start_one(self, index: int) -> BaseProcess:
        process = self._context.Process(
            target=_worker,
            args=(self.app, self.host, self.port, index, self._ready[index]),
            name=f"liandong-worker-{index}",
        )
        process.start()
        return process

    def _announce_once_started(self) -> None:
        if self._announce is not None and all(e.is_set() for e in self._ready):
            announce, self._announce = self._announce, None
            announce()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("received %s, stopping the workers", signal.Signals(signum).name)
        self.stop.set()

    def _look_after(self) -> None:
        for i, process in enumerate(self.processes):
            if process.is_alive() or self.stop.is_set():
                continue
            if process.exitcode == STARTUP_FAILURE:
                logger.error("worker %s failed to start; stopping", process.pid)
                self.failed = True
                self.stop.set()
                return
            logger.warning(
                "worker %s died (exit %s); starting another", process.pid, process.exitcode
            )
            self.processes[i] = self._start_one(i)

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn shuts down gracefully
        for process in self.processes:
            process.join(_STOP_S)
            if process.is_alive():
                process.kill()
                process.join()

    def run(self) -> int:
        previous: dict[signal.Signals, Callable[[int, FrameType | None], object] | int | None] = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self.processes = [self._start_one(i) for i in range(self.count)]
            while not self.stop.wait(_POLL_S if self._announce is None else _STARTING_POLL_S):
                self._look_after()
                if not self.stop.is_set():
                    self._announce_once_started()
        finally:
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return 1 if self.failed else 0


def serve_workers(
    host: str,
    port: int,
    workers: int,
    app: str = APP,
    announce: Callable[[str], None] | None = None,
) -> int:
    """Run ``workers`` processes serving ``app`` on ``host:port`` until SIGINT or SIGTERM.

    ``app`` names an app factory (``module:function``); the gateway's by default. Port 0
    picks a free port once, for all of them; once every worker has started, the URL goes to
    ``announce`` (else the log). Returns the exit status.
    """
    # A bound socket that never listens holds the port's number and its SO_REUSEPORT group
    # while the workers come and go, and gets no connections itself.
    holder = bind(host, port, reuse_port=True, listen=False)
    try:
        port = holder.getsockname()[1]
        url = f"http://{host}:{port}"

        def started() -> None:
            if announce is not None:
                announce(url)
            else:
                logger.warning("%s serving on %s with %s workers", app, url, workers)

        return _Supervisor(app, host, port, workers, started).run()
    finally:
        holder.close()
