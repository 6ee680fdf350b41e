"""Notes what each operation was and how it ended, for the request's audit record.

An operation-level extension (never per field): once the operation is over it appends an
``OperationFacts`` to the context — the document, its name and kind, the variables, and a
summary of each error taken before production masking, so the record keeps the code of an
internal error and its exception type while the client sees only "Internal error.".
The audit pipeline (``gateway/web/audit_pipeline.py``) turns these into the record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.context import OperationFacts, RequestContext

__all__ = ["OperationRecorder", "error_summary"]

_KEPT = ("code", "agency", "field", "limit", "max", "reason")


def error_summary(error: GraphQLError) -> dict[str, Any]:
    """The parts of an error an audit record keeps: code, location, and why."""
    extensions = error.extensions or {}
    summary: dict[str, Any] = {k: extensions[k] for k in _KEPT if k in extensions}
    summary.setdefault("code", "INTERNAL")
    if error.path:
        summary["path"] = ".".join(str(p) for p in error.path)
    if summary["code"] == "INTERNAL":
        if error.original_error is not None:
            summary["type"] = type(error.original_error).__name__
    else:
        summary["message"] = error.message
    return summary


class OperationRecorder(SchemaExtension):
    """Appends the operation's ``OperationFacts`` to ``RequestContext.operations``."""

    def on_operation(self) -> Iterator[None]:
        yield
        ec = self.execution_context
        context = ec.context
        if not isinstance(context, RequestContext):
            return
        result = ec.result
        errors = getattr(result, "errors", None) or ec.pre_execution_errors or []
        try:
            kind: str | None = ec.operation_type.value
        except Exception:  # no document, or an operation name it does not hold
            kind = None
        context.operations.append(
            OperationFacts(
                query=ec.query,
                name=ec.operation_name,
                kind=kind,
                variables=dict(ec.variables or {}),
                errors=[error_summary(e) for e in errors],
                has_data=getattr(result, "data", None) is not None,
            )
        )
