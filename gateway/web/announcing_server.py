"""A uvicorn server that says it is serving only once it is.

``liandong serve`` used to print its "serving" line before uvicorn ran the app's start-up,
so a gateway that refused to start (``AUDIT_CHAIN_CONTRADICTED``) had first said it was
serving. Here ``announce`` runs after the lifespan's start-up has succeeded and the socket
is being served; a refused start exits before it. One worker prints the line itself; each
of ``--workers N`` tells its supervisor, which prints it once all N have started
(``gateway/web/worker_processes.py``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

__all__ = ["AnnouncingServer"]


class AnnouncingServer(uvicorn.Server):
    """``uvicorn.Server`` that calls ``announce`` once its start-up has succeeded."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's start-up (which exits on a failed lifespan), then the announcement."""
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self._announce()
