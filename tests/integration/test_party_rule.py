"""Issue 15, item 4: "the debtor is a party to the case" has one answer on every entry point.

Whatever names a case and a debtor together (root look-ups, federation keys, control
actions, restrictions, watches) refuses a debtor who is not a party to the case alike:
``FORBIDDEN``, rule ``DEBTOR_IS_PARTY``, before any agency is asked, and on the record.
A repeated idempotency key is answered by the assistance service from the store, again
without asking any agency.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from graphql import GraphQLInputObjectType, get_named_type

from gateway.cli.demo import seed_cases
from gateway.debtor_handle import DebtorHandles
from gateway.masking import mask_id
from gateway.store.cases import Store
from mocks.records import CaseRecord
from mocks.runner import start_mocks
from mocks.world import World
from schema import SchemaOptions, build_schema
from tests.audit_reading import one_record
from tests.harness import JUDGE, OFFICER, Gateway, gateway_settings, start_gateway, stop_gateway

ON_THE_STACK = pytest.mark.asyncio(loop_scope="module")  # one gateway for the module

DEBTOR = "query($c: String!, $d: ID!) { debtor(id: $d, caseNumber: $c) { handle } }"
DEBTORS = "query($c: String!, $ds: [ID!]!) { debtors(ids: $ds, caseNumber: $c) { handle } }"
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Debtor { caseNumber } } }"""
REQUEST = """mutation($input: AssistanceRequestInput!) {
  requestAssistance(input: $input) { replayed request { id target targetValue } } }"""
IMPOSE = """mutation($input: ImposeRestrictionInput!) {
  imposeRestriction(input: $input) { decision { id } assistanceRequest { id } } }"""
LIFT = """mutation($input: LiftRestrictionInput!) {
  liftRestriction(input: $input) { assistanceRequest { id } } }"""
WATCH = """mutation($c: String!, $d: ID!) {
  watchDebtor(caseNumber: $c, debtorId: $d) { intervalSeconds } }"""
UNWATCH = "mutation($c: String!, $d: ID!) { unwatchDebtor(caseNumber: $c, debtorId: $d) }"


@dataclass(frozen=True)
class Stack:
    gw: Gateway
    world: World
    case: CaseRecord  # the case every call names
    person: str  # a person who is a debtor of another case, not of this one
    organization: str  # an organisation that is no party to this case


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, world: World, cases: list[CaseRecord]
) -> AsyncIterator[Stack]:
    mocks = await start_mocks(world)
    # No read cache: a second look-up at the agency would show in the mocks' counters.
    settings = gateway_settings(
        tmp_path_factory.mktemp("party"), mocks, federation=True, cache={"enabled": False}
    )
    store = await Store.open(settings.database_url)
    try:
        await seed_cases(store, cases, [OFFICER], [JUDGE])
    finally:
        await store.close()
    gw = await start_gateway(settings, mocks, court=cases[0].court)
    case = cases[0]
    person = next(d for c in cases[1:] for d in c.debtor_ids if d not in case.debtor_ids)
    organization = next(c for c in world.company_codes() if c not in case.debtor_ids)
    try:
        yield Stack(gw, world, case, person, organization)
    finally:
        await stop_gateway(gw)
        await mocks.aclose()


def _assistance(kind: str, target: str | None) -> Callable[[Stack, str], dict[str, Any]]:
    def variables(s: Stack, outsider: str) -> dict[str, Any]:
        order = {
            "caseNumber": s.case.number,
            "debtorId": outsider,
            "action": kind,
            "documentNumber": f"（2026）苏0311执{kind}号",
        }
        return {"input": order if target is None else {**order, "target": target}}

    return variables


def _restriction(kind: str) -> Callable[[Stack, str], dict[str, Any]]:
    def variables(s: Stack, outsider: str) -> dict[str, Any]:
        return {
            "input": {
                "caseNumber": s.case.number,
                "debtorId": outsider,
                "kind": kind,
                "ground": "EVADES_ENFORCEMENT",
                "documentNumber": "（2026）苏0311执限1号",
            }
        }

    return variables


def _entities(s: Stack, outsider: str) -> dict[str, Any]:
    # A handle sealed with the deployment's key for this case, naming someone who is no
    # party to it (as one made before the case's parties changed would): opening it is not
    # a right to look.
    handle = DebtorHandles(s.gw.settings.audit_key()).seal(s.case.number, outsider)
    return {"r": [{"__typename": "Debtor", "caseNumber": s.case.number, "handle": handle}]}


def _lift_exit_ban(s: Stack, outsider: str) -> dict[str, Any]:
    return {
        "input": {
            "caseNumber": s.case.number,
            "debtorId": outsider,
            "kind": "EXIT_BAN",
            "id": "EB-1",
            "reason": "已履行完毕",
            "documentNumber": "（2026）苏0311执解1号",
        }
    }


# name: (document, variables, a judge asks, the field named, the outsider is an organisation)
ENTRY_POINTS: dict[str, tuple[str, Callable[[Stack, str], dict[str, Any]], bool, str, bool]] = {
    "debtor": (DEBTOR, lambda s, d: {"c": s.case.number, "d": d}, False, "id", False),
    "debtors": (
        DEBTORS,
        lambda s, d: {"c": s.case.number, "ds": [s.case.debtor_ids[0], d]},
        False,
        "ids[1]",
        False,
    ),
    "_entities": (ENTITIES, _entities, False, "handle", False),
    "requestAssistance": (
        REQUEST,
        _assistance("SEIZE_VEHICLE", "LSVAB4BJ0AN000001"),
        False,
        "input.debtorId",
        False,
    ),
    "requestAssistance-exit-ban-of-organisation": (
        REQUEST,
        _assistance("EXIT_BAN", None),
        False,
        "input.debtorId",
        True,
    ),
    "imposeRestriction-consumption-ban-of-organisation": (
        IMPOSE,
        _restriction("HIGH_CONSUMPTION_BAN"),
        True,
        "input.debtorId",
        True,
    ),
    "imposeRestriction-listing": (
        IMPOSE,
        _restriction("DISHONEST_LIST"),
        True,
        "input.debtorId",
        False,
    ),
    "imposeRestriction-exit-ban": (
        IMPOSE,
        lambda s, d: {
            "input": {"caseNumber": s.case.number, "debtorId": d, "kind": "EXIT_BAN"}
            | {"documentNumber": "（2026）苏0311执限2号"}
        },
        False,
        "input.debtorId",
        False,
    ),
    "liftRestriction-exit-ban": (LIFT, _lift_exit_ban, False, "input.debtorId", False),
    "watchDebtor": (WATCH, lambda s, d: {"c": s.case.number, "d": d}, False, "debtorId", False),
    "unwatchDebtor": (
        UNWATCH,
        lambda s, d: {"c": s.case.number, "d": d},
        False,
        "debtorId",
        False,
    ),
}


@ON_THE_STACK
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
async def test_a_debtor_not_party_to_the_case_gets_one_answer_everywhere(
    stack: Stack, entry: str
) -> None:
    document, variables, judge, field, organization = ENTRY_POINTS[entry]
    gw = stack.gw
    outsider = stack.organization if organization else stack.person
    token = gw.token(officer=JUDGE, roles=["judge"]) if judge else gw.token()
    await gw.reset_stats()
    request_id = f"party-{entry}"
    status, body = await gw.post(
        document,
        variables(stack, outsider),
        token=token,
        headers={"X-Request-Id": request_id},
    )
    assert status == 200
    assert len(body.get("errors") or []) == 1, body
    extensions = body["errors"][0]["extensions"]
    assert (extensions["code"], extensions["rule"], extensions["field"]) == (
        "FORBIDDEN",
        "DEBTOR_IS_PARTY",
        field,
    ), body
    # Refused before anything was looked up or sent: no agency heard of it.
    assert await gw.total_requests() == 0
    record = await one_record(gw.settings, request_id)
    assert (record.outcome, record.code) == ("refused", "FORBIDDEN")
    assert record.case_number == stack.case.number
    assert mask_id(outsider) in record.debtors


@ON_THE_STACK
async def test_a_replayed_request_asks_no_agency_and_returns_the_first(stack: Stack) -> None:
    gw, case = stack.gw, stack.case
    debtor, vehicle = next(
        (d, v[0].vin) for d in case.debtor_ids if (v := stack.world.vehicles_of(d))
    )
    order = {
        "caseNumber": case.number,
        "debtorId": debtor,
        "action": "SEIZE_VEHICLE",
        "target": vehicle,
        "documentNumber": "（2026）苏0311执重1号",
        "idempotencyKey": "party-replay-1",
    }
    await gw.reset_stats()
    _, first = await gw.post(REQUEST, {"input": order})
    assert "errors" not in first, first
    # The target was checked at public security for the new request.
    asked = await gw.total_requests()
    assert asked > 0
    made = first["data"]["requestAssistance"]
    assert made["replayed"] is False
    await gw.reset_stats()
    for _ in range(2):
        _, again = await gw.post(REQUEST, {"input": order})
        assert "errors" not in again, again
        replay = again["data"]["requestAssistance"]
        assert replay == {"replayed": True, "request": made["request"]}
    assert await gw.total_requests() == 0
    # The same key with another order is a conflict, still without asking anyone.
    _, other = await gw.post(
        REQUEST, {"input": {**order, "documentNumber": "（2026）苏0311执重2号"}}
    )
    assert other["errors"][0]["extensions"]["code"] == "CONFLICT", other
    assert await gw.total_requests() == 0


def test_every_root_field_naming_a_case_and_a_debtor_is_in_the_table() -> None:
    # A new root field that takes a case and a debtor must join ENTRY_POINTS above.
    schema = build_schema(SchemaOptions(federation=True))._schema
    found = {"_entities"}  # its case and handle come inside the representations
    for root in (schema.query_type, schema.mutation_type):
        assert root is not None
        for name, root_field in root.fields.items():
            args = dict(root_field.args)
            for arg in root_field.args.values():
                if isinstance(named := get_named_type(arg.type), GraphQLInputObjectType):
                    args |= named.fields
            # auditRecords filters the log by case and debtor: an auditor looks at no debtor.
            if name == "auditRecords":
                continue
            if "caseNumber" in args and {"id", "ids", "debtorId"} & set(args):
                found.add(name)
    assert found == {key.split("-")[0] for key in ENTRY_POINTS}
