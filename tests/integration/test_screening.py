"""``POST /v1/screen`` over HTTP: exactly the listed ids, only what an agency may see."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from starlette.requests import Request

from gateway.audit.chain import StoredRecord
from gateway.audit.query import AuditFilter
from gateway.auth import issue_token
from gateway.errors import LimitExceeded
from gateway.screening.index import court_today
from gateway.settings import Settings
from gateway.store.cases import RestrictionIn, RestrictionKind, RestrictionRow, Store
from gateway.web.body_limit import read_body
from gateway.web.screen_route import MAX_SCREEN_BODY_BYTES
from gateway.web.services import Services
from mocks.runner import RunningMocks
from mocks.world import World
from tests.harness import SECRET, Stack, StackFactory, gateway_settings

COURT = "江苏省徐州市泉山区人民法院"
GROUND = "有履行能力而拒不履行生效法律文书确定义务"
PUBLIC_MEASURE_KEYS = {"measure", "court", "caseNumber", "since"}


@dataclass
class Screening:
    stack: Stack

    @property
    def services(self) -> Services:
        return self.stack.require_services()

    @property
    def session(self) -> aiohttp.ClientSession:
        return self.stack.session

    @property
    def settings(self) -> Settings:
        return self.stack.settings

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    @property
    def url(self) -> str:
        return self.base_url + "/v1/screen"

    @property
    def store(self) -> Store:
        return self.services.store

    async def audit_records(self, debtor_id: str | None = None) -> list[StoredRecord]:
        search = self.services.audit_search
        assert search is not None
        return [r async for r in search.stream(AuditFilter(debtor_id=debtor_id))]

    def token(self, roles: Sequence[str] = ("agency",)) -> str:
        return issue_token(
            SECRET.encode(),
            settings=self.settings.auth,
            subject="airline-1",
            court="",
            roles=list(roles),
        )

    async def screen(
        self, ids: Sequence[object], *, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token or self.token()}"}
        async with self.session.post(self.url, json={"ids": list(ids)}, headers=headers) as r:
            return r.status, orjson.loads(await r.read())

    async def impose(
        self, debtor: str, kind: RestrictionKind, n: int, until: date | None = None
    ) -> RestrictionRow:
        return await self.store.add_restriction(
            RestrictionIn(
                debtor_id=debtor,
                kind=kind,
                case_number=f"（2025）苏0311执{n}号",
                court=COURT,
                since=date(2025, 1, 1) + timedelta(days=n),
                ground=GROUND,
                until=until,
            )
        )


@pytest.fixture
async def screening(mocks: RunningMocks, database_url: str, make_stack: StackFactory) -> Screening:
    # Parametrised through database_url: SQLite and PostgreSQL (dates come back differently).
    return Screening(await make_stack(mocks=mocks, database_url=database_url, services=True))


async def test_a_mixed_batch_returns_exactly_the_listed_ids_and_nothing_more(
    screening: Screening, world: World
) -> None:
    people = list(world.person_ids()[:300])
    orgs = list(world.company_codes()[:20])
    listed: dict[str, list[RestrictionRow]] = {}
    kinds = list(RestrictionKind)
    for n, debtor in enumerate(people[:40] + orgs[:5]):
        listed[debtor] = [await screening.impose(debtor, kinds[n % 3], n + 1)]
    # A second measure for one person; an expired one and a lifted one that must not show.
    listed[people[0]].append(await screening.impose(people[0], RestrictionKind.EXIT_BAN, 900))
    await screening.impose(people[50], RestrictionKind.DISHONEST_LIST, 901, until=date(2020, 1, 1))
    lifted = await screening.impose(people[51], RestrictionKind.DISHONEST_LIST, 902)
    await screening.store.lift_restriction(lifted.id, "履行完毕")

    batch: list[object] = [*people, *orgs, "12345", 42, people[3].lower()]
    status, body = await screening.screen(batch)

    assert status == 200, body
    assert set(body) == {"hits", "invalid", "checked", "received"}
    assert {hit["id"] for hit in body["hits"]} == set(listed)
    assert (body["checked"], body["received"]) == (len(people) + len(orgs), len(batch))
    assert [(bad["index"], bad["id"]) for bad in body["invalid"]] == [
        (len(people) + len(orgs), "12345"),
        (len(people) + len(orgs) + 1, None),
    ]
    assert all(bad["code"] == "INVALID_INPUT" for bad in body["invalid"])
    for hit in body["hits"]:
        assert set(hit) == {"id", "measures"}
        rows = sorted(listed[hit["id"]], key=lambda r: r.since)
        assert hit["measures"] == [
            {
                "measure": str(r.kind),
                "court": r.court,
                "caseNumber": r.case_number,
                "since": r.since.isoformat(),
            }
            for r in rows
        ]
    text = orjson.dumps(body).decode()
    # Nothing else about the person: no ground, no end date, no ids of ours, no names.
    assert GROUND not in text and "until" not in text and lifted.id not in text
    assert world.person(people[0]) is not None
    assert world.person(people[0]).name not in text  # type: ignore[union-attr]
    assert listed[people[0]][0].id not in text
    # The id is shown as sent: unmasked, since the agency already holds it.
    assert people[0] in text


async def test_a_lifted_restriction_stops_matching_at_once(
    screening: Screening, world: World
) -> None:
    debtor = world.person_ids()[7]
    assert (await screening.screen([debtor]))[1]["hits"] == []
    row = await screening.impose(debtor, RestrictionKind.HIGH_CONSUMPTION_BAN, 3)
    status, body = await screening.screen([debtor])
    assert status == 200 and [h["id"] for h in body["hits"]] == [debtor]
    await screening.store.lift_restriction(row.id, "和解履行")
    status, body = await screening.screen([debtor])
    assert status == 200 and body["hits"] == []
    assert body["checked"] == 1


async def test_ndjson_in_ndjson_out(screening: Screening, world: World) -> None:
    a, b, c = world.person_ids()[10:13]
    await screening.impose(a, RestrictionKind.DISHONEST_LIST, 1)
    await screening.impose(c, RestrictionKind.EXIT_BAN, 2)
    lines = [
        f'"{a}"',
        "",
        orjson.dumps({"id": b}).decode(),
        "{not json",
        orjson.dumps({"id": c}).decode(),
    ]
    payload = "\n".join(lines).encode() + b"\n"
    headers = {
        "Authorization": f"Bearer {screening.token()}",
        "Content-Type": "application/x-ndjson",
    }
    async with screening.session.post(screening.url, data=payload, headers=headers) as r:
        assert r.status == 200
        assert r.headers["content-type"].startswith("application/x-ndjson")
        answer = [orjson.loads(line) for line in (await r.read()).splitlines()]
    assert answer[0]["id"] == a and answer[1]["id"] == c
    assert answer[0]["measures"][0]["measure"] == "DISHONEST_LIST"
    assert answer[2] == {
        "invalid": {
            "index": 2,
            "id": None,
            "code": "INVALID_INPUT",
            "message": "ids[2]: not a JSON value",
        }
    }
    assert answer[3] == {"checked": 3, "received": 4}


async def test_only_agencies_may_screen(screening: Screening, world: World) -> None:
    ids = [world.person_ids()[0]]
    async with screening.session.post(screening.url, json={"ids": ids}) as r:
        assert r.status == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert (await r.json())["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for roles in (("officer",), ("judge", "auditor"), ()):
        status, body = await screening.screen(ids, token=screening.token(roles))
        assert status == 403
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "hits" not in body
    async with screening.session.get(screening.url) as r:
        assert r.status == 405


async def test_limits_and_unreadable_bodies(screening: Screening, world: World) -> None:
    ten_thousand = [world.person_ids()[i % 1000] for i in range(10_000)]
    status, body = await screening.screen(ten_thousand)
    assert status == 200 and body["received"] == 10_000 and body["checked"] == 1000
    status, body = await screening.screen([*ten_thousand, ten_thousand[0]])
    assert status == 413
    assert body["errors"][0]["extensions"] == {
        "code": "LIMIT_EXCEEDED",
        "field": "ids",
        "limit": 10_000,
        "received": 10_001,
    }
    headers = {"Authorization": f"Bearer {screening.token()}"}
    for data, field_name in ((b"{", "body"), (b'{"ids": "x"}', "ids"), (b"[]", "ids")):
        async with screening.session.post(screening.url, data=data, headers=headers) as r:
            assert r.status == 400
            error = (await r.json())["errors"][0]["extensions"]
            assert error == {"code": "INVALID_INPUT", "field": field_name}


async def test_each_call_is_audited_with_a_digest_and_the_listed_ids_only(
    screening: Screening, world: World
) -> None:
    ids = list(world.person_ids()[20:25])
    await screening.impose(ids[0], RestrictionKind.DISHONEST_LIST, 1)
    await screening.screen([*ids, "bad"])
    await screening.screen(ids, token=screening.token(("officer",)))
    ok, refused = [r for r in await screening.audit_records() if r.operation == "screen"]
    assert (ok.outcome, ok.principal, ok.http_status) == ("ok", "airline-1", 200)
    assert ok.detail["received"] == 6 and ok.detail["checked"] == 5
    assert ok.detail["hits"] == 1 and ok.detail["invalid"] == 1
    digest = hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()
    assert ok.detail["ids_sha256"] == digest
    # The listed person can find the screening in their access log; nobody is in clear.
    assert len(ok.debtors) == 1 and ok.debtors[0] != ids[0]
    assert not any(i in repr(ok) for i in ids)
    assert [r.seq for r in await screening.audit_records(debtor_id=ids[0])] == [ok.seq]
    assert await screening.audit_records(debtor_id=ids[1]) == []
    assert (refused.outcome, refused.code, refused.http_status) == ("refused", "FORBIDDEN", 403)


async def test_the_index_is_loaded_from_the_store_at_start_up(
    tmp_path: Path,
    mocks: RunningMocks,
    world: World,
    database_url: str,
    make_stack: StackFactory,
) -> None:
    settings = gateway_settings(tmp_path, mocks, database_url=database_url)
    listed, expired = world.person_ids()[30:32]
    store = await Store.open(settings.database_url)
    try:
        for debtor, until in ((listed, court_today()), (expired, court_today() - timedelta(1))):
            await store.add_restriction(
                RestrictionIn(
                    debtor,
                    RestrictionKind.EXIT_BAN,
                    "（2025）苏0311执9号",
                    COURT,
                    date(2025, 2, 1),
                    until=until,
                )
            )
    finally:
        await store.close()
    gw = await make_stack(mocks=mocks, settings=settings, services=True)
    assert gw.require_services().screening.entries == 1
    token = issue_token(
        SECRET.encode(),
        settings=settings.auth,
        subject="bank-1",
        court="",
        roles=["agency"],
    )
    async with gw.session.post(
        gw.base_url + "/v1/screen",
        json={"ids": [listed, expired]},
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        body = await r.json()
    assert [h["id"] for h in body["hits"]] == [listed]
    assert body["hits"][0]["measures"][0]["since"] == "2025-02-01"


class _Body:
    """An ASGI receive that delivers ``chunks`` one message at a time."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __call__(self) -> dict[str, Any]:
        chunk = self.chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}


def _request(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> Request:
    scope = {"type": "http", "method": "POST", "path": "/v1/screen", "headers": headers}
    return Request(scope, _Body(chunks))


async def test_an_oversized_body_is_refused_while_it_streams_or_by_its_length() -> None:
    mib = b"x" * (1024 * 1024)
    with pytest.raises(LimitExceeded) as info:
        await read_body(_request([], [mib] * 6), MAX_SCREEN_BODY_BYTES)
    assert info.value.extensions["field"] == "body"
    declared = [(b"content-length", str(MAX_SCREEN_BODY_BYTES + 1).encode())]
    with pytest.raises(LimitExceeded):
        await read_body(_request(declared, [b""]), MAX_SCREEN_BODY_BYTES)
    assert (
        await read_body(_request([], [mib, mib, b"end"]), MAX_SCREEN_BODY_BYTES)
        == mib + mib + b"end"
    )
