"""Market regulation's ``{code, msg, data}`` envelope: its data, or the error it carries.

The agency answers HTTP 200 with a non-zero ``code`` for its errors, busy ones included
(``mocks/API.md``). Codes of 50000 and up are the agency failing (retried, and counted by the
circuit breaker, through ``failure_in``); the others are refusals of the request itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from connectors.parsing import Record, error_for_status, json_body
from gateway.errors import AgencyError, AgencyRejected, AgencyUnavailable

if TYPE_CHECKING:
    from connectors.http import HttpReply

__all__ = ["AGENCY", "envelope_code", "failure_in", "reply_data", "unwrap"]

AGENCY = "market_regulation"
_FAILING = 50000  # codes from here up: the agency failed, not the request


def _error(envelope: Record, code: int) -> AgencyError:
    msg = (envelope.raw("msg") if isinstance(envelope.raw("msg"), str) else "") or "error"
    message = f"code {code}: {str(msg)[:200]}"  # the agency's msg only, never its data
    if code >= _FAILING:
        return AgencyUnavailable(AGENCY, message, agencyCode=str(code))
    return AgencyRejected(AGENCY, message, agencyCode=str(code))


def unwrap(body: object) -> Record:
    """The envelope's ``data``; a non-zero ``code`` becomes the matching ``AgencyError``."""
    envelope = Record(AGENCY, body, "")
    code = envelope.integer("code")
    if code != 0:
        raise _error(envelope, code)
    return envelope.record("data")


def _code(body: bytes) -> tuple[Record, int] | None:
    try:
        envelope = Record(AGENCY, orjson.loads(body), "")
        return envelope, envelope.integer("code")
    except (orjson.JSONDecodeError, AgencyError):
        return None  # not an envelope: ``unwrap`` will say what is wrong with it


def failure_in(reply: HttpReply) -> AgencyUnavailable | None:
    """The agency failing inside an HTTP 200 (code 50000 and up), for ``AgencyHttp``."""
    found = _code(reply.body)
    if found is None or found[1] < _FAILING:
        return None
    error = _error(*found)
    assert isinstance(error, AgencyUnavailable)
    return error


def envelope_code(reply: HttpReply) -> str | None:
    """The envelope's ``code`` of an HTTP error reply, if its body is an envelope."""
    found = _code(reply.body)
    return None if found is None else str(found[1])


def reply_data(reply: HttpReply) -> Record:
    """The ``data`` of ``reply``, or the error its HTTP status or its envelope carries."""
    if not 200 <= reply.status < 300:
        # Only faults answer with an HTTP error; keep the envelope's code if it has one.
        error = error_for_status(reply, AGENCY, envelope_code(reply))
        if error is not None:
            raise error
    return unwrap(json_body(reply, AGENCY))
