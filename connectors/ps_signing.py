"""Public security's credentials and request signature, shared by look-ups and controls.

Every request is signed with HMAC-SHA256 over method, path, timestamp and the body's
SHA-256 (``mocks/API.md``); ``PublicSecurityConnector`` and ``PublicSecurityControl`` both
sign with ``sign``.
"""

from __future__ import annotations

import hashlib
import hmac

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["PublicSecurityOptions", "sign"]


class PublicSecurityOptions(BaseModel):
    """Credentials the agency issued to this court."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    client_id: str = Field(min_length=1, description="Sent as X-PS-Client.")
    secret: SecretStr = Field(description="HMAC key for X-PS-Signature; never logged.")


def sign(secret: bytes, method: str, path: str, timestamp: int, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``METHOD\\npath\\ntimestamp\\nsha256(body)``."""
    digest = hashlib.sha256(body).hexdigest()
    message = f"{method.upper()}\n{path}\n{timestamp}\n{digest}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
