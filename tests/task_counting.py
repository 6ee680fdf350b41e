"""A task factory that counts the tasks a loop makes, by the name of their coroutine."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine, Generator
from typing import Any

TaskFactory = Any  # asyncio's and uvloop's task factories differ in their typing


def counting_tasks(tasks: Counter[str]) -> TaskFactory:
    """A factory for ``loop.set_task_factory`` adding one to ``tasks`` for each task made."""

    def counting(
        loop: asyncio.AbstractEventLoop,
        coro: Generator[Any, None, Any] | Coroutine[Any, Any, Any],
        **options: Any,  # uvloop passes the context
    ) -> asyncio.Future[Any]:
        tasks[getattr(coro, "__qualname__", "?")] += 1
        return asyncio.Task(coro, loop=loop, **options)

    return counting
