"""Attempts to get in: each is refused with a stable code, is on the audit record, and reaches
no agency (every mock's counters stay at zero)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from gateway.auth import issue_token
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_support import one_record, running_gateway, unsigned_token
from tests.harness import OFFICER, OUTSIDER, SECRET, Gateway
from tests.security.conftest import KID, RsaKeys

DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"
AUDIT = "{ auditRecords { edges { node { seq } } } }"


def claims(gw: Gateway, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": gw.settings.auth.issuer,
        "aud": gw.settings.auth.audience,
        "sub": OFFICER,
        "court": gw.court,
        "roles": ["officer"],
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    base.update(changes)
    return base


TokenMaker = Callable[[Gateway, RsaKeys], str | None]

TOKENS: dict[str, tuple[TokenMaker, str]] = {
    "no-token": (lambda gw, keys: None, "missing_token"),
    "expired": (
        lambda gw, keys: issue_token(
            SECRET.encode(),
            settings=gw.settings.auth,
            subject=OFFICER,
            court=gw.court,
            roles=["officer"],
            ttl_s=60,
            now=datetime.now(UTC) - timedelta(hours=2),
        ),
        "expired",
    ),
    "wrong-audience": (
        lambda gw, keys: issue_token(
            SECRET.encode(),
            settings=gw.settings.auth.model_copy(update={"audience": "someone-else"}),
            subject=OFFICER,
            court=gw.court,
            roles=["officer"],
        ),
        "wrong_audience",
    ),
    "forged-signature": (
        lambda gw, keys: issue_token(
            b"not-the-secret-0123456789abcdef012345",
            settings=gw.settings.auth,
            subject=OFFICER,
            court=gw.court,
            roles=["officer"],
        ),
        "bad_signature",
    ),
    "alg-none": (
        lambda gw, keys: unsigned_token({"alg": "none", "typ": "JWT"}, claims(gw), None),
        "alg_not_allowed",
    ),
    # The RSA public key is public: signing HS256 with it must not pass for the court's key.
    "hs-rs-confusion": (
        lambda gw, keys: unsigned_token(
            {"alg": "HS256", "typ": "JWT", "kid": KID}, claims(gw), keys.public_pem
        ),
        "bad_signature",
    ),
    "rs-signed-by-stranger": (
        lambda gw, keys: jwt.encode(
            claims(gw),
            keys.stranger,
            algorithm="RS256",
            headers={"kid": KID},
        ),
        "bad_signature",
    ),
}


@pytest.mark.parametrize("name", list(TOKENS))
async def test_bad_tokens_are_refused_and_recorded(
    prod_gateway: Gateway, cases: list[CaseRecord], rsa_keys: RsaKeys, name: str
) -> None:
    gw = prod_gateway
    make, reason = TOKENS[name]
    token = make(gw, rsa_keys)
    case = cases[0]
    headers = {"X-Request-Id": f"sec-{name}"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {"query": DEBTOR, "variables": {"id": case.debtor_ids[0], "c": case.number}}
    async with gw.session.post(gw.url, json=body, headers=headers) as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"] == "Bearer"
        answer = await resp.json()
    ext = answer["errors"][0]["extensions"]
    assert (ext["code"], ext["reason"]) == ("UNAUTHENTICATED", reason)
    assert answer["data"] is None
    record = await one_record(gw.settings, f"sec-{name}")
    assert (record.outcome, record.code, record.http_status) == ("refused", "UNAUTHENTICATED", 401)
    assert record.detail["reason"] == reason
    assert await gw.total_requests() == 0


async def test_a_good_rs256_token_gets_in(
    prod_gateway: Gateway, cases: list[CaseRecord], rsa_keys: RsaKeys
) -> None:
    gw, case = prod_gateway, cases[0]
    token = jwt.encode(claims(gw), rsa_keys.private, algorithm="RS256", headers={"kid": KID})
    status, body = await gw.post(DEBTOR, {"id": case.debtor_ids[0], "c": case.number}, token=token)
    assert status == 200 and "errors" not in body, body


def deep_query(levels: int) -> str:
    inner = "identity { name }"
    for _ in range(levels):
        inner = f"marriage {{ spouse {{ {inner} }} }}"
    return "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { " + inner + " } }"


def aliases(n: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }"


Variables = Callable[[CaseRecord, CaseRecord], dict[str, Any]]

# name -> (query, variables from (case, other case), token options, code, extensions subset)
ATTEMPTS: dict[str, tuple[str, Variables, dict[str, Any], str, dict[str, Any]]] = {
    "officer-not-on-the-case": (
        DEBTOR,
        lambda c, o: {"id": c.debtor_ids[0], "c": c.number},
        {"officer": OUTSIDER},
        "FORBIDDEN",
        {"field": "caseNumber"},
    ),
    "debtor-not-a-party": (
        DEBTOR,
        lambda c, o: {"id": o.debtor_ids[0], "c": c.number},
        {},
        "FORBIDDEN",
        {"field": "id"},
    ),
    "auditor-asks-for-a-debtor": (
        DEBTOR,
        lambda c, o: {"id": c.debtor_ids[0], "c": c.number},
        {"roles": ["auditor"]},
        "FORBIDDEN",
        {},
    ),
    "admin-asks-for-a-debtor": (
        DEBTOR,
        lambda c, o: {"id": c.debtor_ids[0], "c": c.number},
        {"roles": ["admin"]},
        "FORBIDDEN",
        {},
    ),
    "officer-asks-for-the-audit-log": (AUDIT, lambda c, o: {}, {}, "FORBIDDEN", {"reason": "role"}),
    "too-deep": (
        deep_query(8),
        lambda c, o: {"id": c.debtor_ids[0], "c": c.number},
        {},
        "LIMIT_EXCEEDED",
        {"limit": "depth", "max": 12},
    ),
    "too-many-aliases": (
        aliases(31),
        lambda c, o: {},
        {},
        "LIMIT_EXCEEDED",
        {"limit": "aliases", "max": 30},
    ),
    "too-many-tokens": (
        "{ " + "__typename " * 3001 + "}",
        lambda c, o: {},
        {},
        "LIMIT_EXCEEDED",
        {"limit": "tokens", "max": 3000},
    ),
    "too-many-ids": (
        "query($ids: [ID!]!, $c: String!) { debtors(ids: $ids, caseNumber: $c) { id } }",
        lambda c, o: {"ids": [c.debtor_ids[0]] * 501, "c": c.number},
        {},
        "LIMIT_EXCEEDED",
        {"limit": "ids", "max": 500, "field": "ids"},
    ),
    "introspection-in-prod": (
        "{ __schema { types { name } } }",
        lambda c, o: {},
        {},
        "FORBIDDEN",
        {"reason": "introspection_disabled"},
    ),
}


@pytest.mark.parametrize("name", list(ATTEMPTS))
async def test_requests_beyond_the_rights_or_limits_are_refused_and_recorded(
    prod_gateway: Gateway, cases: list[CaseRecord], name: str
) -> None:
    gw = prod_gateway
    query, variables, token_options, code, extensions = ATTEMPTS[name]
    rid = f"sec-{name}"
    status, body = await gw.post(
        query,
        variables(cases[0], cases[1]),
        token=gw.token(**token_options),
        headers={"X-Request-Id": rid},
    )
    assert status == 200
    errors = body["errors"]
    ext = errors[0]["extensions"]
    assert ext["code"] == code, errors
    assert extensions.items() <= ext.items(), ext
    assert not any(v for v in (body.get("data") or {}).values()), body
    record = await one_record(gw.settings, rid)
    assert (record.outcome, record.code) == ("refused", code)
    assert await gw.total_requests() == 0


async def test_over_the_rate_limit_is_429_with_retry_after(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    async with running_gateway(tmp_path, mocks, cases, limits={"rate_per_minute": 2}) as gw:
        token = gw.token()
        for i in range(2):
            status, _ = await gw.post("{ __typename }", token=token)
            assert status == 200, i
        async with gw.session.post(
            gw.url,
            json={
                "query": DEBTOR,
                "variables": {"id": cases[0].debtor_ids[0], "c": cases[0].number},
            },
            headers={"Authorization": f"Bearer {token}", "X-Request-Id": "sec-rate"},
        ) as resp:
            assert resp.status == 429
            assert int(resp.headers["Retry-After"]) >= 1
            body = await resp.json()
        ext = body["errors"][0]["extensions"]
        assert ext["code"] == "RATE_LIMITED" and ext["retryAfter"] >= 1
        record = await one_record(gw.settings, "sec-rate")
        assert (record.outcome, record.code, record.http_status) == ("refused", "RATE_LIMITED", 429)
        status, _ = await gw.post("{ __typename }", token=gw.token(officer=OUTSIDER))
        assert status == 200, "the limit is per principal"
        # Failed sign-ins count against the client's address.
        statuses = [(await gw.post("{ __typename }", token="not.a.token"))[0] for _ in range(3)]
        assert statuses == [401, 401, 429]
        assert await gw.total_requests() == 0


async def test_a_body_over_the_limit_is_413_by_its_length_or_as_it_streams(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    limit = 4096
    async with running_gateway(tmp_path, mocks, cases, limits={"max_body_bytes": limit}) as gw:
        variables = {"id": cases[0].debtor_ids[0], "c": cases[0].number}
        headers = {
            "Authorization": f"Bearer {gw.token()}",
            "Content-Type": "application/json",
        }

        def body(size: int) -> bytes:
            # The query, padded with spaces up to ``size`` bytes: still a valid request.
            raw = json.dumps({"query": DEBTOR, "variables": variables}).encode()
            return raw[:-1] + b" " * (size - len(raw)) + b"}"

        async def chunked(data: bytes) -> AsyncIterator[bytes]:
            for start in range(0, len(data), 1000):
                yield data[start : start + 1000]

        ok = body(limit)
        async with gw.session.post(gw.url, data=ok, headers=headers) as resp:
            assert resp.status == 200 and "errors" not in await resp.json()
        asked = await gw.total_requests()
        assert asked > 0
        big = body(limit + 1)
        sends = {"declared": big, "chunked": chunked(big)}
        for name, data in sends.items():
            rid = f"sec-body-{name}"
            async with gw.session.post(
                gw.url, data=data, headers={**headers, "X-Request-Id": rid}
            ) as resp:
                assert resp.status == 413, name
                sent = resp.request_info.headers
                assert ("Content-Length" in sent) == (name == "declared")
                ext = (await resp.json())["errors"][0]["extensions"]
                trace = resp.headers["X-Request-Id"]  # the request's own id, not the client's
            assert ext == {
                "code": "LIMIT_EXCEEDED",
                "field": "body",
                "limit": limit,
                "traceId": trace,
            }
            record = await one_record(gw.settings, rid)
            assert (record.outcome, record.code, record.http_status) == (
                "refused",
                "LIMIT_EXCEEDED",
                413,
            )
        assert await gw.total_requests() == asked, "no agency was asked for a refused body"
