"""OpenTelemetry traces: one span per HTTP request to ``/graphql``, one child per agency batch.

Tracing is on when ``[telemetry] otlp_endpoint`` is set: spans are batched and exported
over OTLP/HTTP by the SDK's own thread, off the event loop. Each gateway has a tracer
provider of its own (never the process-wide one), so several gateways in one process —
tests do that — keep their spans apart.

A request's trace id is its request id (both are 128 random bits) unless the caller sent
a W3C ``traceparent``, whose trace the request then joins. ``trace_id()`` is the id that
error ``extensions.traceId`` and log lines carry; with tracing off it is the request id,
the id a trace would have had.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import (
    INVALID_SPAN,
    Span,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    get_current_span,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from connectors.tracing import REQUEST_ID, TRACER
from gateway.telemetry_settings import TelemetrySettings

__all__ = ["Telemetry", "trace_id"]

_PROPAGATOR = TraceContextTextMapPropagator()


class _RequestIdGenerator(RandomIdGenerator):
    """Trace ids are request ids, so that one id finds a request's record, logs and trace."""

    def generate_trace_id(self) -> int:
        request_id = REQUEST_ID.get()
        if len(request_id) == 32:
            with contextlib.suppress(ValueError):
                value = int(request_id, 16)
                if value:
                    return value
        return super().generate_trace_id()


def trace_id() -> str:
    """The current request's trace id (32 hex digits), or ``""`` outside a request."""
    context = get_current_span().get_span_context()
    if context.is_valid:
        return format(context.trace_id, "032x")
    return REQUEST_ID.get()


class Telemetry:
    """The gateway's tracer (None when tracing is off) and its exporting provider."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self.provider = provider
        self.tracer: Tracer | None = (
            provider.get_tracer("liandong") if provider is not None else None
        )

    @classmethod
    def from_settings(cls, settings: TelemetrySettings) -> Telemetry:
        """Traces exported to ``settings.otlp_endpoint``, or none when it is empty."""
        if not settings.otlp_endpoint:
            return cls()
        provider = TracerProvider(
            resource=Resource.create({"service.name": settings.service_name}),
            id_generator=_RequestIdGenerator(),
        )
        exporter = OTLPSpanExporter(
            endpoint=settings.otlp_endpoint, timeout=settings.export_timeout_s
        )
        provider.add_span_processor(BatchSpanProcessor(exporter))
        return cls(provider)

    @contextlib.contextmanager
    def request(
        self, request_id: str, method: str, route: str, headers: Mapping[str, str]
    ) -> Iterator[Span | None]:
        """The scope of one request: its id for log lines and, when on, its server span."""
        id_token = REQUEST_ID.set(request_id)
        try:
            if self.tracer is None:
                yield None
                return
            parent = _PROPAGATOR.extract(headers) if "traceparent" in headers else None
            with self.tracer.start_as_current_span(
                f"{method} {route}",
                context=parent,
                kind=SpanKind.SERVER,
                attributes={
                    "http.request.method": method,
                    "http.route": route,
                    "liandong.request_id": request_id,
                },
                record_exception=False,
            ) as span:
                tracer_token = TRACER.set(self.tracer)
                try:
                    yield span
                finally:
                    TRACER.reset(tracer_token)
        finally:
            REQUEST_ID.reset(id_token)

    @staticmethod
    def end_request(
        span: Span | None, status: int, code: str | None, operations: Sequence[Any]
    ) -> None:
        """Put the answer on the request's span: HTTP status, operation names, error code."""
        if span is None or span is INVALID_SPAN:
            return
        span.set_attribute("http.response.status_code", status)
        names = [op.name for op in operations if op.name]
        if names:
            span.set_attribute("graphql.operation.name", ",".join(names))
        if code is not None:
            span.set_attribute("liandong.code", code)
        if status >= 500 or code == "INTERNAL":
            span.set_status(Status(StatusCode.ERROR, code or str(status)))

    def flush(self, timeout_ms: int = 10_000) -> bool:
        """Export every ended span now (blocking: call it from a thread)."""
        return self.provider.force_flush(timeout_ms) if self.provider is not None else True

    async def aclose(self) -> None:
        """Export what is left and stop the exporter, in a thread (the export blocks)."""
        if self.provider is not None:
            await asyncio.to_thread(self.provider.shutdown)
