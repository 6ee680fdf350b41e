"""A stable ``extensions.code`` on every error, including graphql-core's and the limiters'.

Errors we raise carry their code already (``gateway/errors.py``). The rest are translated
here, in one place, by what graphql-core and strawberry's limiters say:

    LIMIT_EXCEEDED             depth, aliases or tokens over the limit (``limit``, ``max``)
    FORBIDDEN                  introspection asked for where it is off (``reason``)
    GRAPHQL_PARSE_FAILED       the document does not parse
    INVALID_INPUT              a variable does not fit its type (``field`` names it)
    GRAPHQL_VALIDATION_FAILED  any other validation rule
    INTERNAL                   anything unexpected (its message is masked in production)

The limiter messages are matched as worded by strawberry 0.24x–0.34x and graphql-core 3.2+;
tests/security pins each one, so a changed wording fails there rather than losing the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from gateway.errors import LiandongError

__all__ = ["ErrorCodes", "MaskInternal", "variable_error", "with_code"]

_TOKENS = re.compile(r"Syntax Error: Document contains more than (\d+) tokens")
_DEPTH = re.compile(r"'.*' exceeds maximum operation depth of (\d+)$", re.DOTALL)
_ALIASES = re.compile(r"(\d+) aliases found\. Allowed: (\d+)$")
_INTROSPECTION = "GraphQL introspection has been disabled"
_VARIABLE = re.compile(r"Variable '\$(\w+)'")
# graphql-core's hint at names ("Did you mean the enum value 'X'?") in a coercion error.
_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


def variable_error(error: GraphQLError) -> str | None:
    """The variable's name if ``error`` is a variable that did not coerce, else None.

    Such an error is the client's (an ``Int`` given ``"abc"``, a missing ``Int!``), even
    though graphql-core keeps the scalar's own exception as its ``original_error``.
    """
    if error.path is not None:
        return None
    match = _VARIABLE.match(error.message)
    return match.group(1) if match else None


def _extensions(error: GraphQLError) -> dict[str, Any]:
    if (name := variable_error(error)) is not None:
        return {"code": "INVALID_INPUT", "field": name}
    original = error.original_error
    if original is not None and not isinstance(original, LiandongError):
        return {"code": "INTERNAL"}
    message = error.message
    if match := _TOKENS.match(message):
        return {"code": "LIMIT_EXCEEDED", "limit": "tokens", "max": int(match.group(1))}
    if match := _DEPTH.match(message):
        return {"code": "LIMIT_EXCEEDED", "limit": "depth", "max": int(match.group(1))}
    if match := _ALIASES.match(message):
        return {"code": "LIMIT_EXCEEDED", "limit": "aliases", "max": int(match.group(2))}
    if message.startswith(_INTROSPECTION):
        return {"code": "FORBIDDEN", "reason": "introspection_disabled"}
    if message.startswith("Syntax Error"):
        return {"code": "GRAPHQL_PARSE_FAILED"}
    if match := _VARIABLE.match(message):
        return {"code": "INVALID_INPUT", "field": match.group(1)}
    return {"code": "GRAPHQL_VALIDATION_FAILED"}


def with_code(error: GraphQLError, *, hide_suggestions: bool = False) -> GraphQLError:
    """``error`` with an ``extensions.code``; errors that have one are returned as they are."""
    if error.extensions and "code" in error.extensions:
        return error
    client_side = variable_error(error) is not None
    message = error.message
    if client_side and hide_suggestions:
        message = _SUGGESTION.sub("", message)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        # Without its scalar's exception a coercion error is no longer "unexpected": it is
        # neither masked in production nor logged with a traceback.
        original_error=None if client_side else error.original_error,
        extensions={**(error.extensions or {}), **_extensions(error)},
    )


class ErrorCodes(SchemaExtension):
    """Gives every error of the operation's result a code (operation level, never per field).

    With ``hide_suggestions`` (production) a coercion error does not hint at names either;
    validation errors are made without hints in the first place (``ValidatedByText``).
    """

    def __init__(self, hide_suggestions: bool = False) -> None:
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            hide = self.hide_suggestions
            result.errors = [with_code(e, hide_suggestions=hide) for e in errors]


class MaskInternal(MaskErrors):
    """``MaskErrors`` whose masked errors still say ``extensions.code = INTERNAL``."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL"}
        return masked
