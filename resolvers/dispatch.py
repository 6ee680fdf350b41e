"""A DataLoader base that dispatches each batch with one task, at aiodataloader's loop turns.

aiodataloader schedules a batch with two tasks: ``load`` does ``call_soon(ensure_future,
dispatch())``, that task's first step takes the queue and ``ensure_future``s
``dispatch_queue_batch``, whose first step calls ``batch_load_fn``. A task costs several
microseconds (creation, scheduling, its steps, the context copy), and a cold look-up made
seven or eight of these go-betweens. Here the two hops are plain ``call_soon`` callbacks
and only the batch itself is a task:

    load (turn N) -> _hop (N+1) -> _take (N+2: the queue is taken) -> batch (N+3: it starts)

the same turns as aiodataloader's (``call_soon`` -> the dispatch task's first step -> the
batch task's first step), so a batch holds the same keys and an agency gets the same number
of requests. Each callback runs in a copy of the context of the first ``load`` of the batch,
as aiodataloader's tasks do (deadlines and trace ids travel in context variables).

aiodataloader stays the base class: ``load``, its future memo, ``prime``, ``clear`` and
``load_many`` are unchanged, and the batch runs aiodataloader's own ``dispatch_queue_batch``,
so failures settle as they always did (a failing batch clears its keys and fails every
future, an ``Exception`` value fails its key only, a wrong number of values is a
``TypeError``). Only the scheduling between ``load`` and the batch is ours.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable
from typing import Any, TypeVar

from aiodataloader import DataLoader, Loader, dispatch_queue_batch, get_chunks

__all__ = ["OneTaskLoader"]

KeyT = TypeVar("KeyT")
ReturnT = TypeVar("ReturnT")


class OneTaskLoader(DataLoader[KeyT, ReturnT]):
    """aiodataloader's ``DataLoader``, dispatching each batch with one task (see above)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # aiodataloader checks this on every instance; a class's method is checked once.
        fn = cls.__dict__.get("batch_load_fn")
        if fn is not None and not inspect.iscoroutinefunction(fn):
            raise TypeError(f"{cls.__name__}.batch_load_fn must be a coroutine function")

    def __init__(self, **options: Any) -> None:
        if options or getattr(type(self), "batch_load_fn", None) is None:
            super().__init__(**options)
        else:
            # aiodataloader's ``__init__`` without options, less what it redoes per
            # instance: the coroutine check (see ``__init_subclass__``) and a new identity
            # lambda for the cache key. A request makes a loader per agency and facet.
            self.loop = asyncio.get_event_loop()
            self._cache = {}
            self._queue = []
        # The loop keeps only weak references to tasks; a batch waiting on a socket must
        # not be collected, so its task is held here until it ends.
        self._running: set[asyncio.Task[None]] = set()

    @staticmethod
    def get_cache_key(key: Any) -> Any:
        """The key itself, as aiodataloader's default (one function, not one per loader)."""
        return key

    def load_ahead(self, keys: Iterable[KeyT]) -> list[asyncio.Future[ReturnT]]:
        """Start the batch of ``keys`` now, not at the DataLoader's third loop turn.

        Each key not yet asked gets its future in the loader's memo at once, so a later
        ``load`` of it waits for this batch instead of sending another; the batch runs as
        any other (``dispatch_queue_batch``: the same failures, the same settling). For a
        look-up whose fields are known before they are resolved: on a busy loop each of the
        three turns is a wait behind every other request's work. Returns each key's future
        (one already asked: the one in the memo) for a caller that waits for them all.
        """
        if not self.cache:
            return []  # without the memo a later ``load`` could not find the batch
        queue: list[Loader] = []
        futures: list[asyncio.Future[ReturnT]] = []
        memo = self._cache
        for key in dict.fromkeys(keys):
            future = memo.get(key)
            if future is None:
                future = self.loop.create_future()
                memo[key] = future
                queue.append(Loader(key=key, future=future))
            futures.append(future)
        if queue:
            _start(self, queue, ahead=True)
        return futures

    def do_resolve_reject(self, key: KeyT, future: asyncio.Future[ReturnT]) -> None:
        self._queue.append(Loader(key=key, future=future))
        if len(self._queue) == 1:
            if self.batch:
                self.loop.call_soon(_hop, self)
            else:
                _take(self)  # as aiodataloader: a queue of one is dispatched at once


def _hop(loader: OneTaskLoader[Any, Any]) -> None:
    # Stands for aiodataloader's ``ensure_future(dispatch())``: one turn later, the queue.
    loader.loop.call_soon(_take, loader)


def _take(loader: OneTaskLoader[Any, Any]) -> None:
    """Take the queue (in ``max_batch_size`` chunks, as ``dispatch_queue``): a task each."""
    queue = loader._queue
    loader._queue = []
    _start(loader, queue, ahead=False)


def _start(loader: OneTaskLoader[Any, Any], queue: list[Loader], *, ahead: bool) -> None:
    size = loader.max_batch_size
    chunks = get_chunks(queue, size) if size and size < len(queue) else (queue,)
    for chunk in chunks:
        # The task is told its own handle (``asyncio.current_task`` is Python code in 3.11).
        own: list[asyncio.Task[None]] = []
        task = loader.loop.create_task(_run(loader, chunk, own, ahead))
        if not task.done():  # an eager task factory may have run it to its end already
            own.append(task)
            loader._running.add(task)


async def _run(
    loader: OneTaskLoader[Any, Any],
    queue: list[Loader],
    own: list[asyncio.Task[None]],
    ahead: bool,
) -> None:
    try:
        await dispatch_queue_batch(loader, queue)
        if ahead:
            # A key loaded ahead that no field came to ask (its parent failed first) must not
            # be reported at collection as a future whose exception nobody retrieved; those
            # who await it still get the exception.
            for entry in queue:
                if entry.future.done() and not entry.future.cancelled():
                    entry.future.exception()
    finally:
        # Dropped from inside rather than by a done callback (one more loop turn per batch).
        if own:
            loader._running.discard(own[0])
