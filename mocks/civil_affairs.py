"""Mock civil affairs (民政) API: marriage registration (婚姻登记).

JSON, one id per request, behind a token bucket that answers 429 with ``Retry-After``.
Wire format: ``mocks/API.md``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from mocks.faults import install_faults
from mocks.stats import install_stats, note_keys

if TYPE_CHECKING:
    from mocks.world import World

__all__ = ["CivilAffairsSettings", "TokenBucket", "create_app"]


@dataclass(frozen=True, slots=True)
class CivilAffairsSettings:
    """How the mock behaves; the defaults are the documented API."""

    #: Tokens added per second.
    rate: float = 200.0
    #: Most tokens the bucket holds: the burst a client may send at once.
    burst: int = 50
    #: Seed of the fault RNG (``error_rate``).
    fault_seed: int = 0


class TokenBucket:
    """A token bucket on a monotonic clock: ``take()`` or learn how long to wait."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def take(self) -> float:
        """Take one token; return 0.0 on success, else the seconds until one is due."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status)


def create_app(world: World, settings: CivilAffairsSettings | None = None) -> web.Application:
    """Return the civil affairs mock serving ``world``."""
    cfg = settings or CivilAffairsSettings()
    bucket = TokenBucket(cfg.rate, cfg.burst)
    app = web.Application()
    install_stats(app)
    install_faults(app, _error, seed=cfg.fault_seed)

    async def marriage(request: web.Request) -> web.Response:
        wait = bucket.take()
        if wait:
            response = _error(429, "rate_limited")
            # Whole seconds, rounded up, never 0: a client that waits this long gets through.
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        note_keys(request, 1)
        record = world.marriage(request.match_info["id"])
        if record is None:
            return _error(404, "not_found")
        return web.json_response(
            {
                "id": record.id,
                "status": record.status,
                "spouseId": record.spouse_id,
                "spouseName": record.spouse_name,
                "registeredOn": record.registered_on.isoformat() if record.registered_on else None,
                "office": record.office,
            }
        )

    app.router.add_get("/ca/v2/marriage/{id}", marriage)
    return app
