"""Every request to /graphql leaves one durable record before its response; none without."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gateway.audit.chain_files import database_of
from gateway.audit.record import debtor_key
from gateway.audit.store import open_audit_engine
from gateway.audit.verify import verify_log
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_reading import audit_chain_names, audit_records, one_record
from tests.harness import OFFICER, OUTSIDER, PROFILE, PROFILE_VARIABLES, Gateway, open_stack

DEBTOR = (
    "query One($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"
)


def log_files(data_dir: Path) -> dict[str, bytes]:
    """The audit database's files (main file, WAL, each writer's chain file) and their
    bytes."""
    paths = [*data_dir.glob("audit.db*"), *data_dir.glob("audit.chains/*")]
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in paths}


@pytest.fixture
async def gw(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> AsyncIterator[Gateway]:
    async with open_stack(tmp_path, cases, mocks=mocks) as started:
        yield started


async def send(
    gw: Gateway,
    rid: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    auth: bool = True,
) -> tuple[int, dict[str, Any], str]:
    headers = {"X-Request-Id": rid}
    if auth:
        headers["Authorization"] = f"Bearer {token or gw.token()}"
    async with gw.session.post(
        gw.url, json={"query": query, "variables": variables or {}}, headers=headers
    ) as resp:
        return resp.status, await resp.json(content_type=None), resp.headers["X-Request-Id"]


async def test_each_request_has_exactly_one_record_with_its_outcome(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    case = cases[0]
    pid = case.debtor_ids[0]
    attempts = [
        ("ok", DEBTOR, {"id": pid, "c": case.number}, None, True, 200, "ok", None),
        ("unauth", DEBTOR, {}, None, False, 401, "refused", "UNAUTHENTICATED"),
        (
            "forbidden",
            DEBTOR,
            {"id": pid, "c": case.number},
            gw.token(officer=OUTSIDER),
            True,
            200,
            "refused",
            "FORBIDDEN",
        ),
        (
            "invalid",
            DEBTOR,
            {"id": "12345", "c": case.number},
            None,
            True,
            200,
            "refused",
            "INVALID_INPUT",
        ),
        ("syntax", "{ debtor(", {}, None, True, 200, "refused", "GRAPHQL_PARSE_FAILED"),
        ("unknown-field", "{ nope }", {}, None, True, 200, "refused", "GRAPHQL_VALIDATION_FAILED"),
    ]
    for rid, query, variables, token, auth, status, outcome, code in attempts:
        got_status, body, echoed = await send(gw, rid, query, variables, token, auth)
        assert got_status == status, body
        assert echoed != rid  # the server's own id; the client's is kept beside it
        record = await one_record(gw.settings, echoed)
        assert record.client_request_id == rid
        assert (record.outcome, record.code, record.http_status) == (outcome, code, status)
        if code is not None:
            assert body["errors"][0]["extensions"]["code"] == code
    assert len(await audit_records(gw.settings)) == len(attempts)
    ok = await one_record(gw.settings, "ok")
    assert ok.principal == OFFICER and ok.roles == ("officer",) and ok.court == gw.court
    assert ok.operation == "One" and ok.document_hash == hashlib.sha256(DEBTOR.encode()).hexdigest()
    assert ok.case_number == case.number
    assert [(a["agency"], a["status"]) for a in ok.agencies] == [("public_security", "ok")]
    unauth = await one_record(gw.settings, "unauth")
    assert unauth.principal == "" and unauth.detail["reason"] == "missing_token"


async def test_nothing_personal_is_stored_in_the_clear(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    pid, case = PROFILE_VARIABLES["id"], PROFILE_VARIABLES["caseNumber"]
    token = gw.token(scopes=["unmask"])
    status, body, _ = await send(gw, "profile", PROFILE, dict(PROFILE_VARIABLES), token)
    assert status == 200 and body["data"]["debtor"]["maskedId"] == pid  # the response may unmask
    spouse = body["data"]["debtor"]["marriage"]["spouse"]["maskedId"]
    record = await one_record(gw.settings, "profile")
    masked = pid[:6] + "*" * 8 + pid[-4:]
    assert record.variables == {"id": masked, "caseNumber": case}
    assert masked in record.debtors and len(record.debtors) == 2, "the spouse was touched too"
    assert {a["agency"] for a in record.agencies} == set(gw.mocks.urls)
    found = await audit_records(gw.settings, debtor_id=spouse)
    assert [r.client_request_id for r in found] == ["profile"]
    assert debtor_key(gw.settings.audit_key(), pid) in record.debtor_keys
    files = await asyncio.to_thread(log_files, gw.settings.data_dir)
    assert any(name.startswith("audit.chains/") for name in files), files.keys()
    for name, raw in files.items():
        assert pid.encode() not in raw and spouse.encode() not in raw, name


async def test_a_failing_agency_makes_the_record_partial(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    await gw.set_faults("civil_affairs", {"outage": True})
    status, body, _ = await send(gw, "partial", PROFILE, dict(PROFILE_VARIABLES))
    assert status == 200 and body["data"]["debtor"]["identity"] is not None
    record = await one_record(gw.settings, "partial")
    assert record.outcome == "partial" and record.code is not None
    assert record.code.startswith("AGENCY_") or record.code == "CIRCUIT_OPEN"
    civil = [a for a in record.agencies if a["agency"] == "civil_affairs"]
    assert civil and civil[0]["status"] == record.code
    assert any(a["status"] == "ok" for a in record.agencies)


async def test_request_ids_are_the_servers_and_the_clients_is_kept_beside(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    given_ids = ["abc-123", "abc-123", "bad id with spaces", "x" * 129, ""]
    made: list[str] = []
    for given in given_ids:
        headers = {"Authorization": f"Bearer {gw.token()}"}
        if given:
            headers["X-Request-Id"] = given
        async with gw.session.post(
            gw.url, json={"query": "{ __typename }"}, headers=headers
        ) as resp:
            made.append(resp.headers["X-Request-Id"])
    assert len(set(made)) == len(given_ids)  # two requests never share an id
    assert not set(made) & set(given_ids)
    kept = []
    for rid in made:
        found = await audit_records(gw.settings, request_id=rid)
        assert len(found) == 1 and found[0].outcome == "ok"
        kept.append(found[0].client_request_id)
    # Up to 128 safe characters are kept as the client's id; anything else is not.
    assert kept == ["abc-123", "abc-123", None, None, None]
    assert len(await audit_records(gw.settings, client_request_id="abc-123")) == 2


async def test_get_requests_are_audited_too(gw: Gateway, cases: list[CaseRecord]) -> None:
    async with gw.session.get(
        gw.url,
        params={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {gw.token()}", "X-Request-Id": "via-get"},
    ) as resp:
        assert resp.status == 200
    assert (await one_record(gw.settings, "via-get")).outcome == "ok"


async def test_no_data_leaves_while_the_log_cannot_be_written(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    case = cases[0]
    variables = {"id": case.debtor_ids[0], "c": case.number}
    url = gw.settings.audit.database_url
    # The chain's own file (on SQLite) is where its writer looks for its head row.
    holder = open_audit_engine(database_of(url, (await audit_chain_names(url))[0]))
    engine = open_audit_engine(url)
    try:
        async with holder.begin() as conn:
            await conn.execute(text("ALTER TABLE audit_chains RENAME TO audit_chains_gone"))
        status, body, _ = await send(gw, "lost", DEBTOR, variables)
        assert status == 503 and body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
        # Known broken now: the next request is refused before any agency is asked.
        await gw.reset_stats()
        status, body, _ = await send(gw, "refused", DEBTOR, variables)
        assert status == 503 and body["data"] is None
        assert await gw.total_requests() == 0
        async with holder.begin() as conn:
            await conn.execute(text("ALTER TABLE audit_chains_gone RENAME TO audit_chains"))
        # The first request after the repair is still refused, but its record gets written,
        # which tells the gateway the log is back; the one after it is served.
        status, _, _ = await send(gw, "probe", DEBTOR, variables)
        assert status == 503
        status, body, _ = await send(gw, "served", DEBTOR, variables)
        assert status == 200 and body["data"]["debtor"]["identity"] is not None
        assert [r.client_request_id for r in await audit_records(gw.settings)] == [
            "probe",
            "served",
        ]
        probe = await one_record(gw.settings, "probe")
        assert (probe.outcome, probe.code) == ("refused", "AUDIT_UNAVAILABLE")
        assert (await verify_log(engine)).ok
    finally:
        await holder.dispose()
        await engine.dispose()


async def test_switched_off_it_records_nothing_and_says_so_loudly(
    tmp_path: Path,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with open_stack(tmp_path, cases, mocks=mocks, audit={"enabled": False}) as gw:
        status, _, echoed = await send(gw, "unrecorded", "{ __typename }")
        assert status == 200 and echoed != "unrecorded"  # the gateway names its requests
    assert not await asyncio.to_thread(log_files, tmp_path)
    warnings = [r for r in caplog.records if r.name == "liandong.audit"]
    assert any("AUDIT LOG IS DISABLED" in r.getMessage() for r in warnings)
