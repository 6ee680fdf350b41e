"""The gateway's sense of time, injectable: deadlines and terms are decided by a ``Clock``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """Now, as an aware UTC datetime."""

    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class ManualClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def advance(self, **delta: float) -> None:
        """Move forward by ``timedelta(**delta)``."""
        self._now += timedelta(**delta)
