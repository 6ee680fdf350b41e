"""HMAC request signing for the public security API (see ``mocks/API.md``).

One implementation shared by the mock, which verifies, and the gateway's connector, which
signs, so the two can never disagree about the canonical string.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

__all__ = [
    "DEFAULT_PS_SECRET",
    "MAX_CLOCK_SKEW_S",
    "sign",
    "signed_headers",
    "verify",
]

#: The shared secret of the demo set-up; real deployments configure their own.
DEFAULT_PS_SECRET = b"liandong-demo-ps-secret"

#: A timestamp further than this from the verifier's clock is rejected (replay window).
MAX_CLOCK_SKEW_S = 300


def _canonical(method: str, path: str, timestamp: int, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{digest}".encode()


def sign(secret: bytes, method: str, path: str, timestamp: int, body: bytes) -> str:
    """Return the lowercase hex HMAC-SHA256 of the request's canonical string."""
    return hmac.new(secret, _canonical(method, path, timestamp, body), hashlib.sha256).hexdigest()


def signed_headers(  # noqa: PLR0917 (the signature the connector is written against)
    client_id: str,
    secret: bytes,
    method: str,
    path: str,
    body: bytes,
    now: float | None = None,
) -> dict[str, str]:
    """Return the ``X-PS-*`` headers that authenticate one request.

    ``now`` (unix seconds) defaults to the current time; pass it to sign for another clock.
    """
    timestamp = int(time.time() if now is None else now)
    return {
        "X-PS-Client": client_id,
        "X-PS-Timestamp": str(timestamp),
        "X-PS-Signature": sign(secret, method, path, timestamp, body),
    }


def verify(
    secret: bytes,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
) -> bool:
    """Return whether ``headers`` carry a fresh, valid signature for this request.

    ``headers`` maps the ``X-PS-*`` names to their values (pass the request's
    case-insensitive headers as they are); any missing, empty or malformed one fails.
    """
    client = headers.get("X-PS-Client", "")
    raw_ts = headers.get("X-PS-Timestamp", "")
    signature = headers.get("X-PS-Signature", "")
    if not client or not signature:
        return False
    # Only plain decimal digits: int() would also accept "+12", " 12" or "1_2".
    if not raw_ts.isascii() or not raw_ts.isdigit():
        return False
    timestamp = int(raw_ts)
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > MAX_CLOCK_SKEW_S:
        return False
    expected = sign(secret, method, path, timestamp, body)
    return hmac.compare_digest(expected, signature)
