"""Look-ups answer the same with the execution shortcuts on and off: data, nulls and errors.

Two gateways over the same mocks, one with ``execution_shortcuts`` (the executor's plans,
lean resolvers) and one on strawberry's and graphql-core's own paths. hypothesis draws the
debtor's selection (every field the look-up queries use, with aliases, repeats and written-
out arguments), one debtor or a list (with an id that is no party to the case), and the
agencies' state (healthy, one down, one answering garbage, errors inside a 200); both
gateways get the same request and must send the same answer, once the two things that differ
by request on purpose are set aside: each fact's ``fetchedAt`` and each error's ``traceId``
(the two share an audit key, so their handles and node ids agree).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import Stack, StackFactory, gateway_settings

PIECES = [
    "id",
    "maskedId",
    "kind",
    "handle",
    "caseNumber",
    "identity { name sex birthDate address status idNumber "
    "provenance { agency fetchedAt cached stale } }",
    "organization { name provenance { agency } }",
    "marriage { status registeredOn office spouseName provenance { agency cached } "
    "spouse { id maskedId identity { name status provenance { agency fetchedAt } } } }",
    "companies { role shareRatio company { code name status legalRepresentative } "
    "provenance { agency cached } }",
    "assets { __typename id kind estimatedValue "
    "controls { court caseNumber kind since until queuePosition } "
    "provenance { agency cached stale } "
    "... on Vehicle { plateNumber vin model status } "
    "... on EquityStake { company { code name } shareRatio subscribedCapital } "
    "... on RealEstate { certificateNumber address areaSqm coOwners "
    "mortgages { creditor amount registeredOn } } }",
    "cars: assets(kinds: [VEHICLE]) { id ... on Vehicle { plateNumber } }",
    "restrictions(first: 100) { edges { node { kind court caseNumber since until status "
    "provenance { agency fetchedAt } } } pageInfo { hasNextPage endCursor } }",
    "few: restrictions(first: 1) { edges { cursor node { kind } } pageInfo { hasNextPage } }",
    "a: identity { name }",
]

# Faults per agency: what the mocks do to every request while a request is asked.
STATES: list[dict[str, dict[str, Any]]] = [
    {},
    {"civil_affairs": {"outage": True}},
    {"public_security": {"malformed": True}},
    {"market_regulation": {"errors_in_body": True}},
    {"land_registry": {"outage": True}, "civil_affairs": {"malformed": True}},
]

NOT_A_PARTY = "110101199003074477"


def _plain(value: Any) -> Any:
    """The answer without what differs by request on purpose."""
    if isinstance(value, dict):
        return {k: "-" if k in {"fetchedAt", "traceId"} else _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def _ask(gw: Stack, faults: dict[str, dict[str, Any]], query: str, vars_: Any) -> Any:
    await gw.clear_faults()
    for agency, fault in faults.items():
        await gw.set_faults(agency, fault)
    status, body = await gw.post(query, vars_)
    assert status == 200, body
    return _plain(body)


async def test_lookups_answer_the_same_with_shortcuts_on_and_off(
    tmp_path: Path,
    roomy_mocks: RunningMocks,
    cases: list[CaseRecord],
    make_stack: StackFactory,
) -> None:
    # No retries, no breaker and no cache: each answer depends on the request and the
    # agencies' state alone, not on what the other requests did before it.
    agencies = {n: {"max_retries": 0, "breaker_threshold": 10_000} for n in roomy_mocks.urls}
    # One audit key: handles and node ids are sealed under a key derived from it.
    audit = {"key": "k" * 40}
    common: dict[str, Any] = {"agencies": agencies, "cache": {"enabled": False}, "audit": audit}
    stacks = []
    for shortcuts in (True, False):
        made = gateway_settings(
            tmp_path / str(shortcuts), roomy_mocks, execution_shortcuts=shortcuts, **common
        )
        assert made.execution_shortcuts is shortcuts
        stacks.append(await make_stack(cases, mocks=roomy_mocks, settings=made))
    fast, plain = stacks
    loop = asyncio.get_running_loop()
    seen = {"errors": 0, "nulls": 0, "asked": 0}

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=6),
        case=st.sampled_from(cases[:5]),
        many=st.booleans(),
        stranger=st.booleans(),
        state=st.sampled_from(STATES),
    )
    def one(
        pieces: list[str], case: CaseRecord, many: bool, stranger: bool, state: dict[str, Any]
    ) -> None:
        selection = " ".join(pieces)
        if many:
            ids = case.debtor_ids[:3] + ([NOT_A_PARTY] if stranger else [])
            query = (
                "query($ids: [ID!]!, $c: String!) { debtors(ids: $ids, caseNumber: $c) { "
                + selection
                + " } }"
            )
            variables: dict[str, Any] = {"ids": ids, "c": case.number}
        else:
            query = (
                "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { "
                + selection
                + " } }"
            )
            pid = NOT_A_PARTY if stranger else case.debtor_ids[0]
            variables = {"id": pid, "c": case.number}
        answers = [
            asyncio.run_coroutine_threadsafe(_ask(gw, state, query, variables), loop).result()
            for gw in (fast, plain)
        ]
        assert answers[0] == answers[1], (query, variables, state)
        seen["asked"] += 1
        seen["errors"] += bool(answers[0].get("errors"))
        seen["nulls"] += "None" in repr(answers[0].get("data"))

    await asyncio.to_thread(one)
    await fast.clear_faults()
    # The comparison covered answers with errors and with nulls, not only clean ones.
    assert seen["asked"] >= 20 and seen["errors"] > 0 and seen["nulls"] > 0, seen
