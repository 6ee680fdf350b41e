"""``Schema.execute`` runs queries and mutations only; subscriptions have ``subscribe``.

Strawberry lets ``execute`` take a subscription when the caller allows it (an HTTP POST
does), and then runs the subscription's resolver as a plain field: its async generator is
no value, the field fails with an unexpected error (logged with a traceback, answered
``INTERNAL``, recorded as an error of ours). A subscription sent over HTTP is the client's
mistake: refused here, it is a 400 ``BAD_REQUEST`` ("subscriptions are not allowed when using
POST"), recorded as refused. Subscriptions are served over graphql-transport-ws.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

__all__ = ["SubscriptionsApart"]


class SubscriptionsApart:
    """Mixin for a ``strawberry.Schema`` subclass: ``execute`` never runs a subscription."""

    async def execute(  # noqa: PLR0917  (strawberry's own signature)
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        allowed = set(
            DEFAULT_ALLOWED_OPERATION_TYPES
            if allowed_operation_types is None
            else allowed_operation_types
        )
        allowed.discard(OperationType.SUBSCRIPTION)
        result: ExecutionResult = await super().execute(  # type: ignore[misc]
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )
        return result
