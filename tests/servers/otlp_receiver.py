"""A small OTLP/HTTP trace receiver on 127.0.0.1 for the tests.

The OpenTelemetry Collector is a Go binary that no package source of ours ships, and no
maintained receiver is packaged for PyPI, npm or Debian; this one speaks the protocol's
HTTP/protobuf binding (``POST /v1/traces``, an ``ExportTraceServiceRequest``) and decodes
it with the official message definitions (``opentelemetry-proto``), so the exporter under
test is the real one, talking to a real server over a socket.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

__all__ = ["OtlpReceiver", "ReceivedSpan", "otlp_receiver"]

PROTOBUF = "application/x-protobuf"


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as it arrived: ids in hex, attributes as plain values."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    status_code: int
    service: str
    attributes: dict[str, str | int | float | bool]

    @property
    def is_server(self) -> bool:
        return self.kind == Span.SpanKind.SPAN_KIND_SERVER


def _plain(value: AnyValue) -> str | int | float | bool:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    raise AssertionError(f"unexpected attribute value kind {kind}")


@dataclass
class OtlpReceiver:
    """Spans received so far, and how many export requests brought them."""

    url: str = ""
    spans: list[ReceivedSpan] = field(default_factory=list)
    exports: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_type != PROTOBUF:
            return web.Response(status=415)
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        self.exports += 1
        for resource_spans in message.resource_spans:
            service = next(
                (
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                ),
                "",
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            kind=span.kind,
                            status_code=span.status.code,
                            service=service,
                            attributes={a.key: _plain(a.value) for a in span.attributes},
                        )
                    )
        body = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=body, content_type=PROTOBUF)


@contextlib.asynccontextmanager
async def otlp_receiver() -> AsyncIterator[OtlpReceiver]:
    """A receiver listening on an ephemeral port of 127.0.0.1 until the block ends."""
    receiver = OtlpReceiver()
    app = web.Application()
    app.router.add_post("/v1/traces", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    # Bound here, port 0, and the real port read back from the socket.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield receiver
    finally:
        await runner.cleanup()
