"""The response cache's parts on their own: which documents are kept, how a kept answer
reads, and the bounded, tagged, expiring store of answers."""

from __future__ import annotations

import time

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.response_cache.answers import Answer, AnswerCache
from gateway.response_cache.documents import cacheable_document, mark_cached
from tests.harness import PROFILE

LOOKUP = "query Q($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { id } }"


@pytest.mark.parametrize(
    ("query", "name", "kept"),
    [
        (PROFILE, "Profile", True),
        (LOOKUP, None, True),
        ('{ debtors(ids: [], caseNumber: "x") { id } __typename }', None, True),
        ("mutation { registerCase { number } }", None, False),
        ('subscription { assistanceRequestUpdated(caseNumber: "x") { id } }', None, False),
        ('{ case(number: "x") { number } }', None, False),
        ('{ debtor(id: "1", caseNumber: "x") { id } agencies { name } }', None, False),
        ("{ myAccessLog { edges { cursor } } }", None, False),
        ('{ debtor(id: "1", caseNumber: "x") { assistanceRequests { id } } }', None, False),
        (
            '{ debtor(id: "1", caseNumber: "x") { identity { provenance { c: cached } } } }',
            None,
            False,
        ),
        ('{ ...F } fragment F on Query { debtor(id: "1", caseNumber: "x") { id } }', None, False),
        ("query A { debtor(id: 1, caseNumber: 2) { id } } mutation B { x }", "A", True),
        ("query A { debtor(id: 1, caseNumber: 2) { id } } mutation B { x }", "B", False),
        ("query A { debtor(id: 1, caseNumber: 2) { id } } query B { x }", None, False),
        ("{ debtor(", None, False),
    ],
)
def test_which_documents_are_kept(query: str, name: str | None, kept: bool) -> None:
    assert cacheable_document(query, name) is kept


@given(
    st.recursive(
        st.none() | st.booleans() | st.text() | st.integers(-(2**53), 2**53),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_a_kept_answer_differs_only_in_cached(value: object) -> None:
    body = orjson.dumps({"data": value, "p": {"cached": False, "fetchedAt": "t"}})
    marked = orjson.loads(mark_cached(body))
    expected = orjson.loads(body)
    expected["p"]["cached"] = True
    _set_cached(expected["data"])
    assert marked == expected


def _set_cached(value: object) -> None:
    # What a ``cached: false`` anywhere in the data becomes; strings are never touched.
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "cached" and v is False:
                value[k] = True
            else:
                _set_cached(v)
    elif isinstance(value, list):
        for item in value:
            _set_cached(item)


def answer(
    body: bytes = b"{}",
    debtors: tuple[str, ...] = ("d1",),
    cases: tuple[str, ...] = ("c1",),
    ttl: float = 60.0,
) -> Answer:
    return Answer(
        body=body,
        expires_at=time.monotonic() + ttl,
        query=LOOKUP,
        operation=None,
        variables={},
        debtors=frozenset(debtors),
        cases=cases,
        parties={c: frozenset(debtors) for c in cases},
        facts=(),
    )


def test_answers_are_dropped_by_debtor_and_by_case() -> None:
    cache = AnswerCache(1 << 20)
    assert cache.put(b"k1", answer(debtors=("d1", "d2")), cache.generation)
    assert cache.put(b"k2", answer(debtors=("d3",), cases=("c2",)), cache.generation)
    assert cache.drop_debtors(["d2"]) == 1 and cache.get(b"k1") is None
    assert cache.get(b"k2") is not None
    assert cache.drop_cases(["c2"]) == 1 and len(cache) == 0
    assert cache.dropped == 2


def test_a_build_that_began_before_a_drop_is_not_kept() -> None:
    cache = AnswerCache(1 << 20)
    began = cache.generation
    cache.drop_debtors(["d1"])
    assert not cache.put(b"k", answer(), began)
    assert cache.put(b"k", answer(), cache.generation)


def test_expired_answers_are_gone_and_the_byte_bound_evicts() -> None:
    cache = AnswerCache(100)
    assert not cache.put(b"old", answer(ttl=-1.0), cache.generation)
    assert not cache.put(b"huge", answer(body=b"x" * 101), cache.generation)
    for n in range(5):
        assert cache.put(b"k%d" % n, answer(body=b"x" * 40), cache.generation)
    assert len(cache) == 2 and cache.evicted == 3 and cache.bytes_held == 80
    cache.clear()
    assert len(cache) == 0 and cache.evicted == 3
