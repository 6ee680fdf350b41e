"""Arbitrary bodies at a running gateway: whatever arrives, the answer is 2xx or 4xx with a
code, every request leaves exactly one audit record, and no agency is asked anything unless
the request was a valid, authorised look-up.

One production-profile gateway serves every example; the examples run in a worker thread
over one kept-alive HTTP connection, reading the audit log and the mock agencies' counters
directly after each answer.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_reading import chain_holder
from tests.harness import Gateway, open_stack

EXAMPLES = 2000
DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"
QUERIES = [
    DEBTOR,
    "{ __typename }",
    "query A { __typename } query B { __typename }",
    "query($n: Int) { auditRecords(first: $n) { edges { node { seq } } } }",
    "{ debtor(",
    "mutation { __typename }",
    "subscription { __typename }",
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/graphql",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    None,
]
ACCEPTS = [None, "*/*", "application/json", "application/graphql-response+json", "text/html"]

# Text with everything a client can put in a JSON string: lone surrogates, NUL, controls.
texts = st.text(
    alphabet=st.characters(categories=("Cs", "Cc", "Ll", "Lu", "Lo", "Nd", "Po", "Zs")),
    max_size=12,
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


@dataclass
class Attempt:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]
    valid: bool  # a well-formed, authorised look-up: agencies may be asked


@st.composite
def attempts(draw: st.DrawFn, token: str, case: CaseRecord) -> Attempt:
    headers: dict[str, str] = {}
    auth = draw(st.sampled_from(["valid", "none", "garbage"]))
    if auth == "valid":
        headers["Authorization"] = f"Bearer {token}"
    elif auth == "garbage":
        headers["Authorization"] = "Bearer " + draw(st.text(max_size=20).map(ascii))
    accept = draw(st.sampled_from(ACCEPTS))
    if accept is not None:
        headers["Accept"] = accept
    kind = draw(
        st.sampled_from(["lookup", "poisoned", "object", "value", "bytes", "deep", "mangled"])
    )
    lookup: dict[str, Any] = {
        "query": DEBTOR,
        "variables": {"id": case.debtor_ids[0], "c": case.number},
    }
    if draw(st.booleans()) and kind in ("lookup", "poisoned", "object"):
        # A GET: the parameters in the query string, variables as JSON.
        params = lookup if kind == "lookup" else draw(_request_objects(lookup))
        query = {
            k: v if isinstance(v, str) else json.dumps(v)
            for k, v in params.items()
            if isinstance(k, str)
        }
        encoded = urllib.parse.urlencode(query, encoding="utf-8", errors="surrogatepass")
        valid = kind == "lookup" and auth == "valid"
        return Attempt("GET", "/graphql?" + encoded, None, headers, valid)
    method = draw(st.sampled_from(["POST"] * 6 + ["PUT", "DELETE", "PATCH", "OPTIONS"]))
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if content_type is not None:
        headers["Content-Type"] = content_type
    body: bytes
    if kind == "lookup":
        body = json.dumps(lookup).encode()
    elif kind in ("poisoned", "object"):
        payload = draw(_request_objects(lookup)) if kind == "poisoned" else draw(_any_object())
        raw = draw(st.booleans())  # raw surrogates (not UTF-8) or JSON escapes
        text = json.dumps(payload, ensure_ascii=not raw)
        body = text.encode("utf-8", "surrogatepass")
    elif kind == "value":
        body = json.dumps(draw(json_values)).encode("utf-8", "surrogatepass")
    elif kind == "bytes":
        body = draw(st.binary(max_size=64))
    elif kind == "deep":
        depth = draw(st.integers(min_value=1, max_value=5000))
        nested = "[" * depth + "]" * depth
        body = f'{{"query": "{{ __typename }}", "variables": {{"x": {nested}}}}}'.encode()
    else:  # a valid look-up with a few bytes overwritten
        mangled = bytearray(json.dumps(lookup).encode())
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            at = draw(st.integers(min_value=0, max_value=len(mangled) - 1))
            mangled[at] = draw(st.integers(min_value=0, max_value=255))
        body = bytes(mangled)
    valid = kind == "lookup" and auth == "valid" and method == "POST"
    return Attempt(method, "/graphql", body, headers, valid and "json" in (content_type or ""))


def _request_objects(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A look-up with one parameter (or one variable) replaced by anything at all."""
    return st.builds(
        lambda where, value, name: (
            {**base, "variables": {**base["variables"], name: value}}
            if where == "variable"
            else {**base, where: value}
        ),
        st.sampled_from(["variable", "query", "operationName", "extensions", "variables"]),
        json_values,
        st.sampled_from(["id", "c", "extra"]) | texts,
    )


def _any_object() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "query": st.sampled_from(QUERIES) | json_values,
            "variables": st.dictionaries(texts, json_values, max_size=3) | json_values,
            "operationName": st.sampled_from(["A", "B"]) | json_values,
            "extensions": json_values,
        },
    )


class Probe:
    """The running gateway as the worker thread sees it."""

    def __init__(self, gw: Gateway, mocks: RunningMocks) -> None:
        url = urllib.parse.urlsplit(gw.base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        database = make_url(gw.settings.audit.database_url).database
        assert database is not None
        # The gateway's chain is in a file of its own beside the log's main file.
        held = chain_holder(Path(database))
        # Made here, used by the worker thread only (one at a time).
        self.log = sqlite3.connect(f"file:{held}?mode=ro", uri=True, check_same_thread=False)
        self.mocks = mocks

    def records(self) -> int:
        return int(self.log.execute("SELECT COUNT(*) FROM audit_records").fetchone()[0])

    def agency_requests(self) -> int:
        return sum(sum(list(self.mocks.stats(a).requests.values())) for a in self.mocks.urls)

    def send(self, attempt: Attempt) -> tuple[int, str, bytes, str | None]:
        self.conn.request(attempt.method, attempt.path, body=attempt.body, headers=attempt.headers)
        resp = self.conn.getresponse()
        body = resp.read()
        if resp.will_close:
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        return (
            resp.status,
            resp.getheader("Content-Type") or "",
            body,
            resp.getheader("X-Request-Id"),
        )

    def close(self) -> None:
        self.conn.close()
        self.log.close()


def check_every_attempt(probe: Probe, token: str, case: CaseRecord) -> None:
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(attempt=attempts(token, case))
    def one(attempt: Attempt) -> None:
        nonlocal sent
        records, asked = probe.records(), probe.agency_requests()
        status, content_type, body, request_id = probe.send(attempt)
        sent += 1
        assert 200 <= status < 500, (status, body[:300])
        assert request_id
        if "json" in content_type:
            answer = json.loads(body)
            errors = answer.get("errors") or []
            assert status < 400 or errors, answer
            for error in errors:
                assert error["extensions"]["code"], error
        else:
            assert status < 400, (status, content_type, body[:300])
        assert probe.records() == records + 1, "exactly one record per request"
        if not attempt.valid:
            assert probe.agency_requests() == asked, attempt

    one()
    assert sent >= EXAMPLES


async def test_arbitrary_requests_are_answered_recorded_and_reach_no_agency(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    limits = {"rate_per_minute": 10_000_000}
    async with open_stack(tmp_path, cases, mocks=mocks, profile="prod", limits=limits) as gw:
        probe = Probe(gw, mocks)
        try:
            await asyncio.to_thread(check_every_attempt, probe, gw.token(), cases[0])
        finally:
            probe.close()
