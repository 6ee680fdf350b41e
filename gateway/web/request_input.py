"""Decoding a GraphQL request's JSON strictly, before anything acts on it.

Python's ``json`` takes what cannot be acted on safely: a lone surrogate (``"\\ud800"``)
becomes a ``str`` that no later ``.encode()``, ``orjson.dumps`` or database write accepts,
and nesting 100,000 deep raises ``RecursionError``. Found late, either left a request
that had already reached agencies without a record of it. So the body is refused here, as
the client's mistake (``BAD_REQUEST``, 400), when it is

- not UTF-8 (``reason: invalid_utf8``), or not JSON (``invalid_json``; ``NaN`` included),
- nested deeper than ``MAX_DEPTH`` (``too_deep``),
- holding a lone surrogate in any string (``invalid_unicode``), with ``field`` naming where:
  a variable's name (then ``INVALID_INPUT``), ``query``, ``operationName`` or ``extensions``,
- not a JSON object (``not_an_object``), or has a parameter of the wrong JSON type
  (``wrong_type``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from gateway.errors import BadRequest, InvalidInput, LiandongError
from gateway.masking import escaped

__all__ = ["MAX_DEPTH", "check_params", "decode_json", "first_problem"]

# Deep enough for any input object of the schema; graphql-core coerces values recursively,
# so a few hundred levels would already end in RecursionError there.
MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(data: str | bytes) -> Any:
    """The JSON value of ``data``; raises ``BadRequest`` for anything but plain JSON.

    Lone surrogates in strings are let through here, to be refused by ``check_params``,
    which can say which variable holds one.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        # orjson refuses lone surrogates (and nesting past 1024); the standard library
        # decodes them, so that the refusal can name the variable.
        value = _stdlib_loads(data)
        plain = False
    else:
        # What orjson took holds no lone surrogate, and JSON nests no deeper than it has
        # brackets (those inside strings only count too many): then there is nothing to walk.
        opened = data.count(b"[") + data.count(b"{") if isinstance(data, bytes) else None
        plain = opened is not None and opened <= MAX_DEPTH
    if not isinstance(value, dict | list):
        # A request (or its variables or extensions) is a JSON object; a list is a batch.
        raise BadRequest("a GraphQL request is a JSON object", reason="not_an_object")
    problem = None if plain else first_problem(value)
    if problem is not None and problem[0] == "too_deep":
        raise BadRequest(
            f"the request's JSON is nested deeper than {MAX_DEPTH} levels",
            reason="too_deep",
            limit=MAX_DEPTH,
        )
    return value


def _stdlib_loads(data: str | bytes) -> Any:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest("the request body is not UTF-8", reason="invalid_utf8") from exc
    else:
        text = data
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise BadRequest(
            f"the request's JSON is nested deeper than {MAX_DEPTH} levels",
            reason="too_deep",
            limit=MAX_DEPTH,
        ) from exc
    except ValueError as exc:
        raise BadRequest("the request body is not JSON", reason="invalid_json") from exc


def first_problem(value: Any, max_depth: int = MAX_DEPTH) -> tuple[str, tuple[Any, ...]] | None:
    """``("too_deep" | "invalid_unicode", path)`` of the first problem in ``value``, or None.

    Walks with an explicit stack: the value may be nested far past Python's recursion limit.
    """
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) > max_depth:
            return "too_deep", path
        if isinstance(item, str):
            # An ASCII string (known in O(1)) holds no surrogate: most of a query's text.
            if not item.isascii() and _SURROGATE.search(item) is not None:
                return "invalid_unicode", path
        elif isinstance(item, dict):
            for key, sub in item.items():
                if not key.isascii() and _SURROGATE.search(key) is not None:
                    return "invalid_unicode", (*path, key)
                stack.append((sub, (*path, key)))
        elif isinstance(item, list):
            stack.extend((sub, (*path, i)) for i, sub in enumerate(item))
    return None


_TYPES: dict[str, tuple[type, ...]] = {
    "query": (str,),
    "operationName": (str,),
    "variables": (dict,),
    "extensions": (dict,),
}


def check_params(query: Any, operation_name: Any, variables: Any, extensions: Any) -> None:
    """Raise unless a request's four parameters, as sent, can be acted on.

    A parameter of the wrong type is ``BAD_REQUEST`` with ``reason: wrong_type``; a lone
    surrogate is ``INVALID_INPUT`` naming the variable, or ``BAD_REQUEST`` naming the
    parameter.
    """
    params = {
        "query": query,
        "operationName": operation_name,
        "variables": variables,
        "extensions": extensions,
    }
    for name, types in _TYPES.items():
        value = params.get(name)
        if value is not None and not isinstance(value, types):
            wanted = "a string" if types == (str,) else "an object"
            raise BadRequest(f"{name} must be {wanted} or null", field=name, reason="wrong_type")
    for name in _TYPES:
        problem = first_problem(params.get(name))
        if problem is None:
            continue
        kind, path = problem
        if kind == "too_deep":
            raise BadRequest(
                f"{name} is nested deeper than {MAX_DEPTH} levels",
                field=name,
                reason="too_deep",
                limit=MAX_DEPTH,
            )
        raise _bad_unicode(name, path)


def _bad_unicode(name: str, path: tuple[Any, ...]) -> LiandongError:
    message = "holds a lone surrogate (invalid Unicode)"
    if name == "variables" and path:
        variable = escaped(str(path[0]))
        return InvalidInput(variable, message, reason="invalid_unicode")
    return BadRequest(f"{name} {message}", field=name, reason="invalid_unicode")
