"""Holding an instance's event-bus listener away, so that a test can make a change while it
cannot hear it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from gateway.events.shared_bus import Deliver, SharedEventBus


def hold_listener(bus: SharedEventBus, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Keep ``bus``'s listener from linking again (once its link is cut) until the returned
    event is set."""
    reopen = asyncio.Event()
    listen = bus.relay.listen

    async def held_back(deliver: Deliver, subscribed: Callable[[], None]) -> None:
        await reopen.wait()
        await listen(deliver, subscribed)

    monkeypatch.setattr(bus.relay, "listen", held_back)
    return reopen
