"""One audit record per websocket operation and per websocket refusal (graphql-transport-ws).

A websocket carries many operations; each ``subscribe`` is a request of its own, with its
own request id and context (so the agencies it calls are its own), and its record is made
durable before the first message about it leaves: a ``next`` (data or FORBIDDEN), an
``error`` (the document did not validate) or a ``complete``. An operation that ends without
a message (the client stopped it, or went away) is recorded as it ends. While the audit log
is known to be broken no operation starts; if its record then cannot be written, the
connection is closed (1011) and nothing about the operation is sent.

Refusals are records too: a ``connection_init`` without a valid token (closed 4403) or not
in time (4408), a ``subscribe`` before the connection was acknowledged (4401) or under an id
in use (4409), and a message that is not one of the protocol's (4400).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from gateway.errors import AuditUnavailable, BadRequest, LiandongError, Unauthenticated
from gateway.web.audit_pipeline import Exchange, build_entry, request_id_of
from gateway.web.services import Services
from resolvers.context import OperationFacts, RequestContext
from schema.error_codes import with_code
from schema.recorder import error_summary

__all__ = ["TRANSPORT", "AuditedTransportWS", "record_refusal"]

logger = logging.getLogger("liandong.audit")

TRANSPORT = "graphql-transport-ws"
_KEPT = ("code", "agency", "field", "limit", "max", "reason")
# Closing codes of the websocket protocol: a server error (RFC 6455).
_SERVER_ERROR = 1011


@dataclass(slots=True)
class _Pending:
    """An operation whose record is not written yet."""

    context: RequestContext
    query: str
    variables: dict[str, Any]
    name: str | None
    arrived: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)


def _summary(formatted: Mapping[str, Any]) -> dict[str, Any]:
    """What a record keeps of an error already formatted for the client."""
    extensions = formatted.get("extensions") or {}
    summary: dict[str, Any] = {k: extensions[k] for k in _KEPT if k in extensions}
    summary.setdefault("code", "INTERNAL")
    if formatted.get("path"):
        summary["path"] = ".".join(str(p) for p in formatted["path"])
    if summary["code"] != "INTERNAL":
        summary["message"] = formatted.get("message")
    return summary


async def record_refusal(
    services: Services, context: RequestContext, err: LiandongError, close: int
) -> None:
    """The record of a websocket refused before any operation ran (best effort: the
    connection is closed either way, so nothing is served off the record)."""
    if not services.settings.audit.enabled:
        return
    ex = Exchange(
        request_id=request_id_of(),
        arrived=datetime.now(UTC),
        started=time.perf_counter(),
        client=str(context.extra.get("client", "")),
        principal=context.principal,  # known once the connection was acknowledged
        refusal=err.code,
    )
    ex.detail.update({k: v for k, v in err.extensions.items() if k != "code"})
    ex.detail.update({"transport": TRANSPORT, "close": close})
    try:
        await services.audit.append(build_entry(ex, None))
    except Exception:
        logger.exception("audit append failed for a refused websocket")


class AuditedTransportWS(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """strawberry's graphql-transport-ws handler, with the records described above.

    The view gives it ``services`` and ``new_context`` (a fresh per-operation context made
    from the connection's) as attributes.
    """

    services: Services
    new_context: Callable[[RequestContext], RequestContext]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        view: Any = self.view
        self.services = view.services
        self.new_context = view.operation_context
        self._pending: dict[str, _Pending] = {}

    @property
    def _enabled(self) -> bool:
        return self.services.settings.audit.enabled

    async def handle_connection_init_timeout(self) -> None:
        # strawberry's own, with the record written before the close goes out: a client that
        # sees 4408 finds the refusal on the record.
        try:
            await asyncio.sleep(self.connection_init_wait_timeout.total_seconds())
            if self.connection_init_received:
                return
            self.connection_timed_out = True
            late = BadRequest("no connection_init in time", reason="init_timeout")
            await record_refusal(self.services, self.context, late, 4408)
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")
        except Exception as error:  # as strawberry's: logged, never raised
            await self.handle_task_exception(error)

    async def handle_invalid_message(self, error_message: str) -> None:
        bad = BadRequest(error_message, reason="invalid_message")
        await record_refusal(self.services, self.context, bad, 4400)
        await super().handle_invalid_message(error_message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        op_id = message["id"]
        if not self.connection_acknowledged:
            refused = Unauthenticated("subscribe before connection_ack", reason="not_initialised")
            await record_refusal(self.services, self.context, refused, 4401)
        elif op_id in self.operations:
            taken = BadRequest(f"operation id {op_id!r} is in use", reason="duplicate_id")
            await record_refusal(self.services, self.context, taken, 4409)
        elif self._enabled:
            payload = message.get("payload") or {}
            variables = payload.get("variables")
            self._pending[op_id] = _Pending(
                context=self.new_context(self.context),
                query=str(payload.get("query", "")),
                variables=dict(variables) if isinstance(variables, dict) else {},
                name=payload.get("operationName"),
            )
            if not self.services.audit.healthy:
                # Known broken: this operation does not start; the refusal's record is the
                # probe that finds out whether the log has recovered.
                down = AuditUnavailable("the audit log cannot be written; nothing is served")
                await self.send_message(
                    {"id": op_id, "type": "error", "payload": [_formatted(down)]}
                )
                return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[RequestContext, None]) -> None:
        pending = self._pending.get(operation.id)
        if pending is None:
            await super().run_operation(operation)
            return
        # strawberry's run_operation with the operation's own context: which debtors and
        # agencies it touched are its own, not the connection's.
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=pending.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def _handle_pre_execution_error(
        self, operation: Operation[RequestContext, None], result: PreExecutionError
    ) -> None:
        pending = self._pending.pop(operation.id, None)
        if pending is not None:
            errors = [error_summary(with_code(e)) for e in result.errors or []]
            if not await self._record(operation.id, pending, errors, has_data=False):
                return
        await super()._handle_pre_execution_error(operation, result)

    async def send_message(self, message: Message) -> None:
        op_id = message.get("id")
        pending = self._pending.pop(op_id, None) if isinstance(op_id, str) else None
        if pending is not None and isinstance(op_id, str):
            payload: Any = message.get("payload")
            if message["type"] == "error":
                errors, has_data = [_summary(e) for e in payload or []], False
            elif message["type"] == "next":
                errors = [_summary(e) for e in payload.get("errors") or []]
                has_data = payload.get("data") is not None
            else:  # complete: the stream ended without a message
                errors, has_data = [], False
            if not await self._record(op_id, pending, errors, has_data=has_data):
                return
        await super().send_message(message)

    async def cleanup_operation(self, operation_id: str) -> None:
        pending = self._pending.pop(operation_id, None)
        await super().cleanup_operation(operation_id)
        if pending is not None:  # stopped by the client before anything was sent
            await self._record(operation_id, pending, [], has_data=False, ended="client")

    async def shutdown(self) -> None:
        await super().shutdown()
        for op_id, pending in list(self._pending.items()):
            self._pending.pop(op_id, None)
            await self._record(op_id, pending, [], has_data=False, ended="closed")

    async def _record(
        self,
        op_id: str,
        pending: _Pending,
        errors: list[dict[str, Any]],
        *,
        has_data: bool,
        ended: str | None = None,
    ) -> bool:
        """Append the operation's record; False (and the connection closed) if it failed."""
        ctx = pending.context
        ctx.operations[:] = [
            OperationFacts(
                query=pending.query,
                name=pending.name,
                kind=None,
                variables=pending.variables,
                errors=errors,
                has_data=has_data,
            )
        ]
        ex = Exchange(
            request_id=ctx.request_id,
            arrived=pending.arrived,
            started=pending.started,
            client=str(ctx.extra.get("client", "")),
            principal=ctx.principal,
            context=ctx,
        )
        ex.detail.update({"transport": TRANSPORT, "operation_id": op_id})
        if ended is not None:
            ex.detail.update({"stream": True, "ended": ended})
        try:
            await self.services.audit.append(build_entry(ex, None))
        except Exception:
            logger.exception("audit append failed for websocket operation %s", ctx.request_id)
            with contextlib.suppress(Exception):
                await self.websocket.close(_SERVER_ERROR, "the audit log cannot be written")
            return False
        return True


def _formatted(err: LiandongError) -> Any:
    return GraphQLError(err.message, extensions=err.extensions).formatted
