"""The response cache's key of a request: what it asks and in which scope, not how it was sent.

A GET and a JSON POST that carry the same document, operation name, variables and
extensions, asked in the same scope, have one key. Both are read as the GraphQL view reads
them: a POST's body with orjson (``gateway/web/request_input.py``), a GET's query string
with starlette's ``QueryParams`` (the last of a repeated name) and its ``variables`` and
``extensions`` with orjson again. The four parameters are then written once more in one
canonical form (object keys sorted, no whitespace), so key order and spacing do not split
the cache, while any difference in a value does (``1`` and ``1.0`` included).

Equal keys mean equal parsed parameters, which is all that the view executes; the method
itself is left out, because a kept answer is always of a query, which a GET may ask too.
A request whose parameters do not parse cleanly, or are of the wrong type, gets no key: it
goes the normal way, which refuses it, or builds it without keeping the answer.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import orjson
from starlette.datastructures import QueryParams

from gateway.auth import Principal

__all__ = ["canonical_params", "request_key"]


def request_key(method: str, raw: bytes, principal: Principal) -> bytes | None:
    """The key of a GET's query string or a JSON POST's body ``raw``, asked by ``principal``;
    ``None`` if the request is not one the cache can ever answer."""
    params = _params_digest(method, raw)
    if params is None:
        return None
    digest = hashlib.blake2b(digest_size=32)
    digest.update(_prefix(principal.court, principal.roles, principal.scopes))
    digest.update(params)
    return digest.digest()


def canonical_params(method: str, raw: bytes) -> bytes | None:
    """The request's query, operation name, variables and extensions in one canonical form."""
    if method == "POST":
        return _canonical(_from_body(raw))
    if method == "GET":
        return _canonical(_from_query_string(raw))
    return None


# Reading and writing back the parameters costs several times hashing the bytes they came
# in (a full profile's POST body ~4 us, its GET query string ~30 us: unquoting), and every
# hit pays it at the door; clients send the same few requests over and over. So the digest
# of the canonical form is remembered under the digest of the bytes and the method: 64 bytes
# and a dict slot an entry, the oldest let go first.
_REMEMBERED = 8192  # entries
_REMEMBERED_RAW = 16384  # bytes: a longer request is read every time
_digests: dict[bytes, bytes | None] = {}


def _params_digest(method: str, raw: bytes) -> bytes | None:
    if len(raw) > _REMEMBERED_RAW or method not in ("GET", "POST"):
        return _digest_of(canonical_params(method, raw))
    seen = hashlib.blake2b(raw, digest_size=32, person=method.encode()).digest()
    try:
        return _digests[seen]
    except KeyError:
        pass
    found = _digest_of(canonical_params(method, raw))
    if len(_digests) >= _REMEMBERED:
        del _digests[next(iter(_digests))]
    _digests[seen] = found
    return found


def _digest_of(params: bytes | None) -> bytes | None:
    return None if params is None else hashlib.blake2b(params, digest_size=32).digest()


def _canonical(found: list[Any] | None) -> bytes | None:
    if found is None:
        return None
    try:
        return orjson.dumps(found, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


@functools.lru_cache(maxsize=1024)
def _prefix(court: str, roles: frozenset[str], scopes: frozenset[str]) -> bytes:
    # The same few scopes ask over and over: joined once, not on every hit.
    scope = "\x1f".join((court, ",".join(sorted(roles)), ",".join(sorted(scopes))))
    return scope.encode() + b"\x00"


def _loads(data: str | bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        # Lone surrogates, NaN, a byte-order mark: the view refuses these or reads them
        # another way (``decode_json``); either way there is nothing kept to serve.
        return None


def _from_body(raw: bytes) -> list[Any] | None:
    body = _loads(raw)
    if not isinstance(body, dict):
        return None  # not JSON, a batch, or a bare value: never kept
    return _checked(
        body.get("query"), body.get("operationName"), body.get("variables"), body.get("extensions")
    )


def _from_query_string(raw: bytes) -> list[Any] | None:
    # Exactly what strawberry's ``parse_query_params`` sees through starlette's request.
    params = dict(QueryParams(raw))
    parsed: dict[str, Any] = {}
    for name in ("variables", "extensions"):
        text = params.get(name)
        # Present but empty is passed on as "" by the view, and refused there.
        parsed[name] = _loads(text) if text else text
        if text and parsed[name] is None:
            return None
    return _checked(
        params.get("query"), params.get("operationName"), parsed["variables"], parsed["extensions"]
    )


def _checked(query: Any, name: Any, variables: Any, extensions: Any) -> list[Any] | None:
    if not isinstance(query, str) or not isinstance(name, str | None):
        return None
    if not isinstance(variables, dict | None) or not isinstance(extensions, dict | None):
        return None
    return [query, name, variables, extensions]
