"""A per-request deadline, carried by a context variable down to every agency call.

The gateway opens ``deadline_after(limits.deadline_s)`` around each GraphQL request; every
task, DataLoader batch and connector call made inside it inherits the context, so
``AgencyHttp`` can bound its timeouts, retries, back-off sleeps and bulkhead waits by what
is left. Outside any scope (a CLI job, a unit test) there is no deadline and the per-agency
timeouts alone apply. Nested scopes can only shorten the deadline, never extend it.

Times are ``time.monotonic()`` seconds; callers get relative ``remaining()`` seconds, so the
event loop's own clock never has to agree with ours.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

__all__ = ["current", "deadline_after", "remaining"]

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "liandong_deadline", default=None
)


def current() -> float | None:
    """The deadline in force (``time.monotonic()`` seconds), or ``None``."""
    return _deadline.get()


def remaining() -> float | None:
    """Seconds left until the deadline (zero or less once passed), or ``None`` without one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


@contextlib.contextmanager
def deadline_after(seconds: float | None) -> Iterator[float | None]:
    """Run the block under a deadline ``seconds`` from now (``None``: keep the current one).

    Yields the deadline in force inside the block.
    """
    if seconds is None:
        yield _deadline.get()
        return
    wanted = time.monotonic() + seconds
    outer = _deadline.get()
    effective = wanted if outer is None else min(outer, wanted)
    token = _deadline.set(effective)
    try:
        yield effective
    finally:
        _deadline.reset(token)
