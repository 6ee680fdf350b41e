"""The GraphQL-over-HTTP response media types, chosen by the request's ``Accept``.

``application/graphql-response+json`` is what the specification asks servers to speak:
a request error (the document does not parse or validate, a variable does not coerce) is
answered 4xx with no ``data`` entry. ``application/json`` is kept for clients that ask for
it, for ``*/*`` and for requests without ``Accept`` (the specification's rules for the
legacy type): those get 200 with the errors, as before.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

__all__ = [
    "GRAPHQL_RESPONSE",
    "JSON",
    "content_type",
    "error_body",
    "is_request_error",
    "negotiate",
    "to_media",
]

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_JSON_RANGES = (JSON, "application/*", "*/*")


def negotiate(accept: str | None) -> str:
    """``GRAPHQL_RESPONSE`` if the client prefers it at least as much as JSON, else ``JSON``."""
    if not accept or GRAPHQL_RESPONSE not in accept:
        return JSON
    wanted = 0.0
    json_q = 0.0
    for item in accept.split(","):
        kind, _, params = item.strip().partition(";")
        q = _quality(params)
        kind = kind.strip().lower()
        if kind == GRAPHQL_RESPONSE:
            wanted = max(wanted, q)
        elif kind in _JSON_RANGES:
            json_q = max(json_q, q)
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= json_q else JSON


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def content_type(media: str) -> str:
    """The ``Content-Type`` header value of a response in ``media``."""
    return f"{media}; charset=utf-8"


def error_body(media: str, errors: list[dict[str, Any]]) -> bytes:
    """A response of errors only: no ``data`` entry in the GraphQL response type."""
    body: dict[str, Any] = {"errors": errors}
    if media == JSON:
        body = {"data": None, **body}
    return orjson.dumps(body)


def is_request_error(has_data: bool, errors: list[dict[str, Any]]) -> bool:
    """True for a result without data whose errors are all about the request as a whole.

    Parse, validation and variable coercion errors have no ``path``; a field error does,
    and a null ``data`` it caused is still an execution result (2xx).
    """
    return not has_data and bool(errors) and all("path" not in e for e in errors)


def to_media(response: Response, media: str, request_error: bool) -> Response:
    """``response`` (the GraphQL view's JSON answer) as ``media``.

    In ``GRAPHQL_RESPONSE``, a request error becomes 400 with no ``data`` entry.
    """
    if media == JSON:
        return response
    body = bytes(response.body)
    status = response.status_code
    if request_error and status == 200:
        parsed = orjson.loads(body)
        parsed.pop("data", None)
        body = orjson.dumps(parsed)
        status = 400
    headers = {
        k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")
    }
    return Response(body, status_code=status, headers=headers, media_type=content_type(media))
