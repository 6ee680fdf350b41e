"""The request's ids and tracer, as seen by everything below the request pipeline.

The pipeline (``gateway/telemetry.py``) sets the request id for the log lines and, when
tracing is on, the tracer of the request's span. ``agency_span`` then makes one child span
per agency batch (one ``FactLoader`` batch: one agency, one facet), and the shared HTTP
client notes each attempt on it. With tracing off, ``agency_span`` is one context-variable
look-up and ``note_attempt`` another: the warm look-up path pays nothing else.

Spans carry counts and codes only, never a key: keys are personal numbers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry.trace import Span, Status, StatusCode, Tracer

__all__ = [
    "REQUEST_ID",
    "TRACER",
    "AgencySpan",
    "agency_span",
    "note_attempt",
]

# The id of the request being served ("" outside one): log lines and trace ids use it.
REQUEST_ID: ContextVar[str] = ContextVar("liandong_request_id", default="")
# The tracer of the request's span, or None when tracing is off or outside a request.
TRACER: ContextVar[Tracer | None] = ContextVar("liandong_tracer", default=None)
_CALL: ContextVar[AgencySpan | None] = ContextVar("liandong_agency_span", default=None)


@dataclass(slots=True)
class AgencySpan:
    """What one agency batch did, written onto its span when it ends."""

    span: Span
    attempts: int = 0
    retries: int = 0
    last_status: int = 0  # HTTP status of the last attempt answered (0: none)

    def finish(self, *, keys_sent: int, cache_hits: int, errors: int, code: str | None) -> None:
        """Record the batch's outcome: counts of keys, hits and errors, and its error code."""
        span = self.span
        span.set_attribute("liandong.keys_sent", keys_sent)
        span.set_attribute("liandong.cache_hits", cache_hits)
        span.set_attribute("liandong.cache_hit", keys_sent == 0)
        span.set_attribute("liandong.errors", errors)
        span.set_attribute("liandong.attempts", self.attempts)
        span.set_attribute("liandong.retries", self.retries)
        if self.last_status:
            span.set_attribute("http.response.status_code", self.last_status)
        span.set_attribute("liandong.status", code or "ok")
        if code is not None:
            span.set_status(Status(StatusCode.ERROR, code))


@contextlib.contextmanager
def agency_span(agency: str, facet: str, keys: int) -> Iterator[AgencySpan | None]:
    """A child span of the request's for one agency batch of ``keys`` keys (None: off)."""
    tracer = TRACER.get()
    if tracer is None:
        yield None
        return
    attributes: dict[str, str | int] = {
        "liandong.agency": agency,
        "liandong.facet": facet,
        "liandong.keys": keys,
    }
    with tracer.start_as_current_span(
        f"agency {agency} {facet}", attributes=attributes, record_exception=False
    ) as span:
        call = AgencySpan(span)
        token = _CALL.set(call)
        try:
            yield call
        finally:
            _CALL.reset(token)


def note_attempt(*, retry: bool, status: int = 0) -> None:
    """Count one attempt sent on behalf of the current agency span, if there is one."""
    call = _CALL.get()
    if call is None:
        return
    call.attempts += 1
    call.retries += retry
    if status:
        call.last_status = status
