"""How execution errors reach the process log: masked, and tracebacks only for surprises.

Strawberry logs every field error at ERROR with its traceback. Our own errors (an agency
down, a refused look-up) are expected outcomes already in the audit record and the
response, so they are logged at INFO in one line; anything else is a bug and keeps its
traceback. Every message goes through ``mask_text`` first: logs never hold personal numbers.
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.federation import Schema as FederationSchema
from strawberry.types import ExecutionContext

from gateway.errors import LiandongError
from gateway.masking import mask_text
from schema.error_codes import variable_error
from schema.fast.extension_runner import LeanRunnerSchema
from schema.subscriptions_apart import SubscriptionsApart

__all__ = ["LoggedFederationSchema", "LoggedSchema", "log_errors"]

logger = logging.getLogger("liandong.execution")


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Log ``errors`` the way this module's docstring says."""
    context: Any = getattr(execution_context, "context", None)
    request_id = getattr(context, "request_id", "-")
    for error in errors:
        path = ".".join(str(p) for p in error.path or ())
        message = mask_text(error.message)
        original = error.original_error
        if original is None or isinstance(original, LiandongError) or variable_error(error):
            code = (error.extensions or {}).get("code", "-")
            logger.info("request %s: %s at %s: %s", request_id, code, path or "-", message)
        else:
            logger.error(
                "request %s: unexpected error at %s: %s",
                request_id,
                path or "-",
                message,
                exc_info=(type(original), original, original.__traceback__),
            )


class LoggedSchema(SubscriptionsApart, LeanRunnerSchema, strawberry.Schema):
    """``strawberry.Schema`` with our error logging (and the lean extension runner);
    ``execute`` runs no subscription (``schema/subscriptions_apart.py``)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context)


class LoggedFederationSchema(SubscriptionsApart, LeanRunnerSchema, FederationSchema):
    """The federation schema with our error logging (and the lean extension runner)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context)
