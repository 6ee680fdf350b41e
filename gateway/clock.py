"""The gateway's sense of time, injectable: deadlines and terms are decided by a ``Clock``.

Instants are UTC; the legal day is the court's. A court's calendar runs on China Standard
Time (Asia/Shanghai, UTC+8, no daylight saving), so between 16:00 and 24:00 UTC the court is
already on the next day. Every rule that compares a date with "today" takes that day from
``court_date`` (``Clock.today``), never from an instant's UTC ``.date()``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["COURT_ZONE", "Clock", "ManualClock", "SystemClock", "court_date", "court_day_end"]

# The zone's data comes from the system, or from the tzdata package where a system has none.
COURT_ZONE = ZoneInfo("Asia/Shanghai")


def court_date(instant: datetime) -> date:
    """``COURT_DAY_CST``: the court's calendar date at ``instant`` (Asia/Shanghai).

    A naive instant is refused: guessing its zone is how a day goes wrong.
    """
    if instant.tzinfo is None:
        raise ValueError("court_date needs an aware datetime")
    return instant.astimezone(COURT_ZONE).date()


def court_day_end(day: date) -> datetime:
    """The last instant (UTC) of the court's ``day``: a period's last day ends at 24:00
    there (民法典 art. 203), which is 16:00 UTC."""
    next_day = datetime.combine(day + timedelta(days=1), time(), tzinfo=COURT_ZONE)
    return next_day.astimezone(UTC) - timedelta(microseconds=1)


class Clock(Protocol):
    """Now, as an aware UTC datetime; today, as the court's calendar date."""

    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return court_date(self.now())


class ManualClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return court_date(self._now)

    def advance(self, **delta: float) -> None:
        """Move forward by ``timedelta(**delta)``."""
        self._now += timedelta(**delta)
