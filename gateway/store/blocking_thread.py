"""One thread of its own for blocking work, handed jobs with as little machinery as can be.

``loop.run_in_executor`` builds a ``concurrent.futures.Future`` (with its ``Condition``),
chains it to an asyncio future and goes through the pool's work queue for every call;
on a warm look-up, which makes two short SQLite reads, that showed as ~7% of the CPU.
Here a job is a tuple on a ``SimpleQueue`` and its answer one ``call_soon_threadsafe``.
Jobs run one at a time, in order: that is what a single SQLite connection needs anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["WorkerThread"]

T = TypeVar("T")

_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the awaiting task was cancelled meanwhile
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class WorkerThread:
    """A daemon thread running the jobs it is given, one at a time."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()
        self._closed = False

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, loop, future = job
            try:
                result, error = fn(), None
            except BaseException as exc:  # handed to the awaiting task
                result, error = None, exc
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle, future, result, error)

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the thread; its result, or its exception, comes back here."""
        if self._closed:
            raise RuntimeError(f"{self._thread.name} is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, loop, future))
        return await future

    async def aclose(self, last: Callable[[], Any] | None = None) -> None:
        """Run ``last`` (say, closing a connection) after the queued jobs, then stop."""
        if self._closed:
            return
        if last is not None:
            await self.run(last)
        self._closed = True
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)
