"""Settings of the ``[telemetry]`` (traces) and ``[log]`` tables.

Tracing is off unless ``telemetry.otlp_endpoint`` names an OTLP/HTTP traces endpoint
(``http://collector:4318/v1/traces``); off, a request costs one context-variable check
per agency batch and nothing else. Logs go to standard error, as text or one JSON object
a line, at ``log.level`` and above.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["LogSettings", "TelemetrySettings"]


class TelemetrySettings(BaseModel):
    """OpenTelemetry traces: where spans are exported, and as which service."""

    model_config = ConfigDict(extra="forbid")

    otlp_endpoint: str = ""  # OTLP over HTTP (protobuf); empty: no traces at all
    service_name: str = Field(default="liandong", min_length=1)
    export_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("otlp_endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value


class LogSettings(BaseModel):
    """What is logged (``level``) and how (``format``: ``text`` or ``json``)."""

    model_config = ConfigDict(extra="forbid")

    # WARNING by default: the command line's own output stays clean (migrations, for one,
    # log each step at INFO).
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
