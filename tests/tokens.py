"""JSON Web Tokens put together by hand, for attempts a real issuer would never make."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

__all__ = ["b64url", "unsigned_token"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A JWT put together by hand (for alg=none and algorithm-confusion attempts)."""
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    signing_input = f"{head}.{body}".encode()
    signature = b"" if key is None else hmac.new(key, signing_input, hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"
