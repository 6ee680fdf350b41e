"""Log lines to standard error, as text or JSON (``[log]``), with the request and trace ids.

``configure_logging`` is called by ``serve`` (and the worker supervisor), by each worker's
app factory and by ``demo``. Every line carries ``request_id`` and ``trace_id`` (empty
outside a request), read from the context the request pipeline sets, so a caller's code
needs to pass neither. Log messages are written not to hold personal numbers; as a second
line of defence each line is masked (``gateway.masking.mask_text``) and bearer tokens are
cut out before it is written.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from connectors.tracing import REQUEST_ID
from gateway.masking import mask_text
from gateway.telemetry import trace_id
from gateway.telemetry_settings import LogSettings

__all__ = ["JsonFormatter", "RequestIdsFilter", "TextFormatter", "configure_logging"]

_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# ``extra=`` fields that our log calls use and that a JSON line keeps (values are codes
# and names, never ids).
_EXTRAS = ("agency", "facet", "code", "case", "worker")
_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(trace_id)s] %(message)s"


def _clean(text: str) -> str:
    return _BEARER.sub(r"\1[redacted]", mask_text(text))


class RequestIdsFilter(logging.Filter):
    """Adds ``request_id`` and ``trace_id`` to every record (a given ``request_id`` stays)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = REQUEST_ID.get()
        record.trace_id = trace_id() if REQUEST_ID.get() else ""
        return True


class TextFormatter(logging.Formatter):
    """One masked text line a record."""

    def __init__(self) -> None:
        super().__init__(_TEXT)

    def format(self, record: logging.LogRecord) -> str:
        return _clean(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, ids, and known extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": _clean(record.getMessage()),
            "request_id": getattr(record, "request_id", ""),
            "trace_id": getattr(record, "trace_id", ""),
        }
        for key in _EXTRAS:
            value = getattr(record, key, None)
            if isinstance(value, str | int):
                line[key] = value
        if record.exc_info:
            line["exception"] = _clean(self.formatException(record.exc_info))
        return orjson.dumps(line).decode()


def configure_logging(settings: LogSettings, stream: TextIO | None = None) -> logging.Handler:
    """Send the root logger's records at ``settings.level`` and up to ``stream`` (stderr).

    Calling it again replaces the handler it installed before, so tests and a reloaded
    configuration do not write every line twice.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name("liandong")
    handler.addFilter(RequestIdsFilter())
    handler.setFormatter(JsonFormatter() if settings.format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "liandong"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level)
    return handler
