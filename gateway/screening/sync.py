"""Restriction writes made through other instances, applied to this one's screening index.

The store tells the local index of its own writes at once (``gateway/store/change_events.py``).
With several instances on one database, ``ScreeningSync`` also sends every write on the
shared event bus (topic ``restrictions``; the message names the *debtor*), and on hearing
one reads that debtor's restrictions from the store and applies them to the index. Like
the assistance messages, a notification carries no state: a duplicate or a late one
re-applies what the store holds, which is harmless.

The persons behind an organisation (``OrganizationPersons``) travel the same way: a new
snapshot is announced under the organisation's id, and a message makes the hearer read both
the organisation's restrictions and its snapshot.

Only worth running over a shared bus (Redis or PostgreSQL). A message sent while this
instance's listener was away is lost to it, so each time the listener links again the
index is reloaded from the store (in the background; the old index answers meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from gateway.events.bus import Change, EventBus
from gateway.events.shared_bus import SharedEventBus
from gateway.store.org_persons import OrganizationPersons

if TYPE_CHECKING:
    from gateway.domain.org_persons import BehindPerson
    from gateway.screening.index import ScreeningIndex
    from gateway.store.cases import RestrictionRow, Store

__all__ = ["TOPIC", "ScreeningSync"]

log = logging.getLogger("liandong.screening")

TOPIC = "restrictions"


class ScreeningSync:
    """A ``RestrictionListener`` that publishes, and a subscriber that applies."""

    def __init__(self, store: Store, index: ScreeningIndex, bus: EventBus) -> None:
        self.store = store
        self.index = index
        self.bus = bus
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._sending: set[asyncio.Task[None]] = set()
        self._persons = OrganizationPersons(store.engine)
        self.applied = 0  # debtors re-read on a message, for tests and metrics
        self.reloads = 0  # whole reloads after the bus's listener linked again
        self._reloading: asyncio.Task[None] | None = None
        self._reload_wanted = False
        self._first_link = 0
        if isinstance(bus, SharedEventBus):
            # The link made at start-up (or already made) comes before the index was read.
            self._first_link = bus.subscriptions + (0 if bus.listening else 1)
            bus.on_subscribed.append(self._on_subscribed)

    def _on_subscribed(self) -> None:
        assert isinstance(self.bus, SharedEventBus)
        if self.bus.subscriptions <= self._first_link:
            return
        self._reload_wanted = True
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.get_running_loop().create_task(
                self._reload(), name="screening-reload"
            )

    async def _reload(self) -> None:
        # Links lost and made again while reading run one more reload, never two at once.
        while self._reload_wanted:
            self._reload_wanted = False
            try:
                await self.index.reload(self.store)
            except Exception:
                log.exception("screening sync: could not reload the index after a new link")
                return
            self.reloads += 1

    def on_restriction_changed(self, row: RestrictionRow) -> None:
        # Called synchronously after a commit: queue the publish, never block the writer.
        self._announce(row.debtor_id)

    def on_persons_changed(self, organization_id: str, persons: tuple[BehindPerson, ...]) -> None:
        """``OrganizationPersons``' hook: announce the organisation's new snapshot."""
        self._announce(organization_id)

    def _announce(self, debtor_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self.bus.publish(TOPIC, Change(debtor_id, 0)))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def start(self) -> None:
        """Subscribe, then listen on (returns once subscribed)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="screening-sync")
            await self._ready.wait()

    async def aclose(self) -> None:
        """Send what is queued, then stop listening."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        if isinstance(self.bus, SharedEventBus) and self._on_subscribed in self.bus.on_subscribed:
            self.bus.on_subscribed.remove(self._on_subscribed)
        for task in (self._task, self._reloading):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._reloading = None

    async def _run(self) -> None:
        async with self.bus.subscribe(TOPIC) as changes:
            self._ready.set()
            async for change in changes:
                debtor = change.request_id
                try:
                    rows = (await self.store.restrictions_of([debtor]))[debtor]
                    persons = (await self._persons.of([debtor]))[debtor]
                except Exception:
                    log.exception("screening sync: could not read restrictions")
                    continue
                self.index.on_persons_changed(debtor, persons)
                for row in rows:
                    self.index.apply(row)
                self.applied += 1
