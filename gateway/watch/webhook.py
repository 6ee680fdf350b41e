"""Delivering ``AssetDiscovered`` events to a court system's webhook, signed.

Each event is POSTed as JSON; ``X-Liandong-Signature: sha256=<hex>`` is HMAC-SHA256 of the
exact body under the configured secret, so the receiver can check who sent it and that it
was not altered. A delivery is retried with back-off within a pass; what still failed stays
undelivered in the store and is tried again at the next pass (at least once delivery: the
receiver de-duplicates on the event's ``id``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging

import aiohttp
import orjson

from gateway.watch.store import AssetEventRow

__all__ = ["SIGNATURE_HEADER", "Webhook", "sign"]

SIGNATURE_HEADER = "X-Liandong-Signature"

log = logging.getLogger("liandong.watch")


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class Webhook:
    """One receiving URL and its secret."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        attempts: int = 3,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.secret = secret
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def deliver(self, session: aiohttp.ClientSession, event: AssetEventRow) -> int:
        """Send ``event``; return the attempts it took, or ``-attempts`` if all failed."""
        body = orjson.dumps(event.as_json(), option=orjson.OPT_SORT_KEYS)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)}
        for attempt in range(1, self.attempts + 1):
            try:
                async with session.post(
                    self.url, data=body, headers=headers, timeout=self.timeout
                ) as resp:
                    await resp.read()
                    if 200 <= resp.status < 300:
                        return attempt
                    reason = f"HTTP {resp.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = type(exc).__name__
            log.warning("webhook delivery of event %d failed (%s)", event.id, reason)
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        return -self.attempts
