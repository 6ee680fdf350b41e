"""The mock agencies on a thread and event loop of their own.

``start_mocks`` serves on the caller's event loop: a test that then calls the agencies (or a
gateway in front of them) with a *synchronous* client blocks that loop, and the request
never gets an answer. ``ThreadedMocks`` runs them on their own loop in a daemon thread, so
synchronous clients (``urllib``, ``requests``, a subprocess) and async tests alike can use
them. Stats and faults are plain objects: read or set them from the test between requests.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mocks.runner import RunningMocks, start_mocks

if TYPE_CHECKING:
    from mocks.world import World

__all__ = ["ThreadedMocks"]

_START_TIMEOUT_S = 60.0


class ThreadedMocks:
    """The four agencies serving ``world`` from their own thread; a context manager."""

    def __init__(self, world: World, **options: Any) -> None:
        self._world = world
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._running: RunningMocks | None = None

    @property
    def mocks(self) -> RunningMocks:
        """The running agencies (``urls``, ``stats()``, ``faults()``)."""
        if self._running is None:
            raise RuntimeError("the mock agencies are not started")
        return self._running

    @property
    def urls(self) -> dict[str, str]:
        """Agency name -> base URL."""
        return self.mocks.urls

    def start(self) -> ThreadedMocks:
        """Start the thread and the agencies; returns once they accept connections."""
        self._thread.start()
        started: Future[RunningMocks] = asyncio.run_coroutine_threadsafe(
            start_mocks(self._world, **self._options), self._loop
        )
        self._running = started.result(_START_TIMEOUT_S)
        return self

    def close(self) -> None:
        """Stop the agencies, then the loop and its thread."""
        if self._running is not None:
            running, self._running = self._running, None
            asyncio.run_coroutine_threadsafe(running.aclose(), self._loop).result(_START_TIMEOUT_S)
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(_START_TIMEOUT_S)
        self._loop.close()

    def __enter__(self) -> ThreadedMocks:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
