"""The response cache's request key (gateway/response_cache/request_key.py)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.auth import Principal
from gateway.response_cache.request_key import canonical_params, request_key

OFFICER = Principal(
    subject="officer-1",
    officer_id="officer-1",
    court="C1",
    roles=frozenset({"officer"}),
    scopes=frozenset(),
    name="officer",
)
QUERY = "query Q($id: ID!) { debtor(id: $id, caseNumber: $c) { id } }"

_CHARS = st.characters(exclude_categories=["Cs"])  # no lone surrogates
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(_CHARS, max_size=6)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)
_VARIABLES = st.dictionaries(st.text(_CHARS), _VALUES)


def _shuffled(draw: st.DrawFn, item: Any) -> Any:
    if isinstance(item, dict):
        return {k: _shuffled(draw, item[k]) for k in draw(st.permutations(list(item)))}
    if isinstance(item, list):
        return [_shuffled(draw, x) for x in item]
    return item


@st.composite
def _spelled(draw: st.DrawFn, value: dict[str, Any]) -> str:
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :\t")]))
    indent = draw(st.sampled_from([None, 1, "\t"]))
    return json.dumps(
        _shuffled(draw, value),
        separators=separators,
        indent=indent,
        ensure_ascii=draw(st.booleans()),
    )


def _post(variables: str, name: str | None = None) -> bytes:
    body = '{"query": %s, "operationName": %s, "variables": %s}'
    return (body % (json.dumps(QUERY), json.dumps(name), variables)).encode()


def _get(variables: str, name: str | None = None) -> bytes:
    params = {"query": QUERY, "variables": variables}
    if name is not None:
        params["operationName"] = name
    return urlencode(params).encode()


def _key(method: str, raw: bytes, principal: Principal = OFFICER) -> bytes | None:
    return request_key(method, raw, principal)


@given(variables=_VARIABLES, data=st.data())
def test_variables_equal_as_json_share_one_key_by_either_method(
    variables: dict[str, Any], data: st.DataObject
) -> None:
    first, second = data.draw(_spelled(variables)), data.draw(_spelled(variables))
    keys = {
        _key("POST", _post(first)),
        _key("GET", _get(second)),
        _key("GET", _get(first)),
        _key("POST", _post(second)),
    }
    assert len(keys) == 1 and None not in keys


@given(one=_VARIABLES, other=_VARIABLES, method=st.sampled_from(["GET", "POST"]))
def test_different_variables_never_share(
    one: dict[str, Any], other: dict[str, Any], method: str
) -> None:
    # Equal as JSON (by orjson's reading, where 1 and 1.0 and True differ) or not shared.
    same = orjson.dumps(one, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        other, option=orjson.OPT_SORT_KEYS
    )
    encode = _post if method == "POST" else _get
    assert (_key("GET", _get(json.dumps(one))) == _key(method, encode(json.dumps(other)))) is same


def test_the_scope_and_the_operation_name_are_part_of_the_key() -> None:
    variables = json.dumps({"id": "x"})
    base = _key("POST", _post(variables))
    others = [
        _key("POST", _post(variables), replace(OFFICER, court="C2")),
        _key("POST", _post(variables), replace(OFFICER, roles=frozenset({"judge"}))),
        _key("POST", _post(variables), replace(OFFICER, scopes=frozenset({"unmask"}))),
        _key("POST", _post(variables, "Q")),
        _key("POST", _post(variables, "")),
    ]
    assert base is not None and len({base, *others}) == 6
    # Absent and null are the same to the view: no operation name either way.
    assert _key("GET", _get(variables)) == base
    assert _key("GET", _get(variables, "Q")) == _key("POST", _post(variables, "Q"))
    # Another officer of the same scope shares (each passes the case check before a hit).
    colleague = replace(OFFICER, subject="o2", officer_id="o2")
    assert _key("POST", _post(variables), colleague) == base


@pytest.mark.parametrize(
    ("method", "raw"),
    [
        ("POST", b"not json"),
        ("POST", b'[{"query": "{ a }"}]'),  # a batch
        ("POST", b'{"query": 1}'),
        ("POST", b'{"query": "{ a }", "variables": [1]}'),
        ("POST", b'{"query": "{ a }", "operationName": 2}'),
        ("POST", b'{"query": "{ a }", "variables": {"s": "\\ud800"}}'),  # a lone surrogate
        ("GET", b"query=%7B+a+%7D&variables="),  # present but empty: refused by the view
        ("GET", b"query=%7B+a+%7D&variables=null"),
        ("GET", b"query=%7B+a+%7D&variables=%5B1%5D"),
        ("GET", b"query=%7B+a+%7D&extensions=nope"),
        ("GET", b"variables=%7B%7D"),  # no query
        ("PUT", b'{"query": "{ a }"}'),
    ],
)
def test_requests_the_view_refuses_or_reads_otherwise_have_no_key(method: str, raw: bytes) -> None:
    assert _key(method, raw) is None


def test_a_repeated_get_parameter_is_read_as_the_view_reads_it() -> None:
    # starlette's query parameters keep the last of a repeated name; so does the key.
    twice = b"query=%7B+b+%7D&query=%7B+a+%7D"
    assert _key("GET", twice) == _key("POST", b'{"query": "{ a }"}')
    assert _key("GET", twice) != _key("POST", b'{"query": "{ b }"}')


def test_a_long_query_string_is_read_the_same_as_a_short_one() -> None:
    # Short query strings' readings are remembered; longer ones are read each time.
    long_value = "执" * 3000
    variables = json.dumps({"id": long_value})
    assert len(_get(variables)) > 8192
    assert _key("GET", _get(variables)) == _key("POST", _post(variables)) is not None
    assert _key("GET", _get(variables)) == _key("GET", _get(variables))


def _read_anew(method: str, raw: bytes) -> bytes | None:
    # The key as reading the parameters every time makes it, memo or no memo.
    params = canonical_params(method, raw)
    if params is None:
        return None
    digest = hashlib.blake2b(digest_size=32)
    digest.update(b"C1\x1fofficer\x1f\x00")
    digest.update(hashlib.blake2b(params, digest_size=32).digest())
    return digest.digest()


@given(
    raws=st.lists(
        st.tuples(
            st.sampled_from(["GET", "POST"]),
            st.binary(max_size=64) | _VARIABLES.map(lambda v: _post(json.dumps(v))),
        ),
        max_size=12,
    )
)
def test_a_remembered_reading_gives_the_key_a_fresh_one_gives(
    raws: list[tuple[str, bytes]],
) -> None:
    # Each request twice (the second from the memo), the same bytes by both methods too:
    # a query string and a body that happen to be the same bytes are read apart.
    for method, raw in raws * 2:
        for asked in (method, "GET" if method == "POST" else "POST"):
            assert _key(asked, raw) == _read_anew(asked, raw)
