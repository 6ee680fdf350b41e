"""Who may read ``/metrics``: settings of the ``[metrics]`` table.

By default ``/metrics`` is served on the gateway's own port to anyone who can reach it;
where clients can reach that port, either require a bearer token (``token``) or serve the
metrics on an address of their own (``listen``, e.g. ``"10.0.0.5:9100"``, for the
monitoring network only), or both.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = ["MetricsSettings", "split_address"]


def split_address(address: str) -> tuple[str, int]:
    """``"host:port"`` as ``(host, port)``; raises ``ValueError`` naming what is wrong."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected host:port, got {address!r}")
    return host.strip("[]"), int(port)


class MetricsSettings(BaseModel):
    """``/metrics``: a bearer token it requires, and/or an address of its own."""

    model_config = ConfigDict(extra="forbid")

    token: SecretStr | None = Field(default=None, min_length=16)
    listen: str = ""  # "host:port": served there only, and no longer on the gateway's port

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        if value:
            split_address(value)
        return value
