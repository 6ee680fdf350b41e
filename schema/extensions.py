"""Schema extensions of our own, at operation level only (never per field: that is costly)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.errors import LiandongError
from schema.error_codes import variable_error

__all__ = ["PartialErrors", "is_unexpected"]


class PartialErrors(SchemaExtension):
    """Adds the errors of agencies that failed inside an otherwise answered list field."""

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        context = self.execution_context.context
        extra: list[GraphQLError] = list(getattr(context, "partial_errors", ()) or ())
        if result is None or not extra or not hasattr(result, "errors"):
            return
        result.errors = [*(result.errors or []), *extra]


def is_unexpected(error: GraphQLError) -> bool:
    """True for errors that are not ours on purpose: they are masked in responses."""
    original = error.original_error
    if original is None or isinstance(original, LiandongError):
        return False
    return variable_error(error) is None  # a variable that did not coerce: the client's
