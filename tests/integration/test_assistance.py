"""Assistance requests end to end: approval, exactly-once delivery, the guard, the registry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.clock import ManualClock
from mocks.records import CaseRecord
from tests.harness import JUDGE, OFFICER, OUTSIDER
from tests.integration.assistance_helpers import (
    AssistanceGateway,
    assistance_gateway,
    wait_for,
)

PS_CONTROLS = "POST /ps/v1/controls"
ASSETS = """query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) {
  assets { __typename id ... on RealEstate { certificateNumber } controls { caseNumber queuePosition }
  provenance { cached } } } }"""


def showcase(cases: list[CaseRecord]) -> tuple[str, str]:
    return cases[0].number, cases[0].debtor_ids[0]


def seize(
    ag: AssistanceGateway, cases: list[CaseRecord], action: str, target: str, **extra: Any
) -> dict[str, Any]:
    number, debtor = showcase(cases)
    return {
        "caseNumber": number,
        "debtorId": debtor,
        "action": action,
        "target": target,
        "documentNumber": extra.pop("documentNumber", f"DOC-{action}-{target}"),
        **extra,
    }


def vehicle_of(ag: AssistanceGateway, cases: list[CaseRecord]) -> str:
    return ag.world.vehicles_of(showcase(cases)[1])[0].vin


def free_property(ag: AssistanceGateway, cases: list[CaseRecord]) -> str:
    props = ag.world.properties_of(showcase(cases)[1])
    return next(p.certificate_no for p in props if not p.seizures)


def seized_property(ag: AssistanceGateway, cases: list[CaseRecord]) -> str:
    props = ag.world.properties_of(showcase(cases)[1])
    return next(p.certificate_no for p in props if p.seizures)


async def test_nothing_is_sent_without_approval(tmp_path: Path, cases: list[CaseRecord]) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        rid = await ag.request_ok(seize(ag, cases, "SEIZE_VEHICLE", vehicle_of(ag, cases)))
        worker = ag.services.assistance.worker  # type: ignore[union-attr]
        assert worker is not None
        for _ in range(5):
            await worker.run_once()
        assert (await ag.state(rid))["status"] == "PENDING_APPROVAL"
        assert await ag.route_count("public_security", PS_CONTROLS) == 0
        assert await ag.executions("public_security") == {}
        # The officer who asked cannot approve, nor can a judge approve their own request.
        _, body = await ag.gw.post(
            "mutation($id: ID!) { approveAssistance(id: $id) { status } }", {"id": rid}
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        body = await ag.approve(rid)
        assert body["data"]["approveAssistance"]["status"] == "APPROVED"
        done = await ag.settle(rid, {"COMPLETED"})
        assert [e["status"] for e in done["events"]][:3] == [
            "PENDING_APPROVAL",
            "APPROVED",
            "SUBMITTED",
        ]
        assert await ag.executions("public_security") == {"SEIZE_VEHICLE": 1}


async def test_lost_responses_and_client_retries_execute_once(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        number, debtor = showcase(cases)
        # Look first (the look-up is cached), then lose every public security answer.
        await ag.gw.post(ASSETS, {"id": debtor, "c": number})
        await ag.gw.set_faults("public_security", {"lost_response": True})
        order = seize(ag, cases, "SEIZE_VEHICLE", vehicle_of(ag, cases), idempotencyKey="k-lost-1")
        ids = set()
        replays = []
        for _ in range(3):  # the client retries the same request three times
            status, body = await ag.request(order)
            assert status == 200 and "errors" not in body, body
            ids.add(body["data"]["requestAssistance"]["request"]["id"])
            replays.append(body["data"]["requestAssistance"]["replayed"])
        assert len(ids) == 1 and replays == [False, True, True]
        (rid,) = ids
        await ag.approve(rid)
        # Executed once, every answer lost: the worker keeps resending with the same key.
        await wait_for(lambda: ag.route_count("public_security", PS_CONTROLS), lambda n: n >= 4)
        retried = await ag.state(rid)
        assert retried["status"] == "SUBMITTED"
        assert any(e["kind"] == "RETRY" for e in retried["events"])
        assert await ag.executions("public_security") == {"SEIZE_VEHICLE": 1}
        await ag.gw.set_faults("public_security", {"lost_response": False})
        done = await ag.settle(rid, {"COMPLETED"})
        assert done["reference"]
        assert await ag.executions("public_security") == {"SEIZE_VEHICLE": 1}
        _, listed = await ag.gw.post(
            "query($c: String!) { assistanceRequests(caseNumber: $c) { edges { node { id } } } }",
            {"c": cases[0].number},
        )
        edges = listed["data"]["assistanceRequests"]["edges"]
        assert [e["node"]["id"] for e in edges] == [rid]


async def test_twenty_concurrent_duplicates_store_and_execute_once(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        order = seize(ag, cases, "SEIZE_VEHICLE", vehicle_of(ag, cases))  # derived key
        answers = await asyncio.gather(*(ag.request(order) for _ in range(20)))
        assert all(status == 200 and "errors" not in body for status, body in answers), answers
        ids = {body["data"]["requestAssistance"]["request"]["id"] for _, body in answers}
        created = [not body["data"]["requestAssistance"]["replayed"] for _, body in answers]
        assert len(ids) == 1 and sum(created) == 1
        (rid,) = ids
        approvals = await asyncio.gather(*(ag.approve(rid) for _ in range(5)))
        assert all(a["data"]["approveAssistance"]["status"] for a in approvals)
        await ag.settle(rid, {"COMPLETED"})
        assert await ag.executions("public_security") == {"SEIZE_VEHICLE": 1}
        assert await ag.route_count("public_security", PS_CONTROLS) == 1


async def test_over_seizure_refused_and_judge_override_audited(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        number, debtor = showcase(cases)
        # 30,000 of 235,026.63 held; a flat worth 2 million is one indivisible asset, taken
        # whole only where no other property will do (art. 19): a judge says so in writing.
        car = await ag.request_ok(seize(ag, cases, "SEIZE_VEHICLE", vehicle_of(ag, cases)))
        await ag.approve(car)
        await ag.settle(car, {"COMPLETED"})
        judge = ag.gw.token(officer=JUDGE, roles=["judge"])
        whole = seize(ag, cases, "SEIZE_REAL_ESTATE", free_property(ag, cases))
        _, refused = await ag.request(whole)
        assert refused["errors"][0]["extensions"]["rule"] == "INDIVISIBLE_ASSET_EXCEEDS"
        no_other = "被执行人无其他可供执行的财产，该房产为不可分物"
        flat = await ag.request_ok({**whole, "overrideReason": no_other}, token=judge)
        await ag.approve(flat, token=ag.head())  # the judge made it: another approves it
        await ag.settle(flat, {"COMPLETED"})
        _, body = await ag.gw.post(
            "query($n: String!) { case(number: $n) { amountDue controlledValue } }", {"n": number}
        )
        assert body["data"]["case"]["controlledValue"] == "2121200.00"
        stake = ag.world.roles_of(debtor)[0].company_code
        equity = seize(ag, cases, "FREEZE_EQUITY", stake)
        _, refused = await ag.request(equity)
        err = refused["errors"][0]
        assert err["extensions"]["code"] == "OVER_SEIZURE"
        assert err["extensions"]["amountDue"] == "235026.63"
        # An officer may not override; a judge may, in writing.
        _, body = await ag.request({**equity, "overrideReason": "价值不足"})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        reason = "房产存在在先抵押，实际可供执行价值不足"
        status, body = await ag.request({**equity, "overrideReason": reason}, token=judge)
        assert status == 200 and "errors" not in body, body
        rid = body["data"]["requestAssistance"]["request"]["id"]
        await ag.approve(rid, token=ag.head())  # the judge made it: another approves it
        await ag.settle(rid, {"COMPLETED"})
        assert await ag.executions("market_regulation") == {"FREEZE_EQUITY": 1}
        auditor = ag.gw.token(officer="auditor-1", roles=["auditor"])
        _, log = await ag.gw.post(
            """query($c: String!) { auditRecords(filter: {caseNumber: $c}, first: 200) {
                 edges { node { operation outcome code officer detail } } } }""",
            {"c": number},
            token=auditor,
        )
        nodes = [e["node"] for e in log["data"]["auditRecords"]["edges"]]
        refusals = [n for n in nodes if n["operation"] == "assistance.overseizure_refused"]
        assert len(refusals) == 2 and {r["code"] for r in refusals} == {"OVER_SEIZURE"}
        assert {r["officer"] for r in refusals} == {OFFICER}
        overrides = [n for n in nodes if n["operation"] == "assistance.override"]
        assert sorted(o["detail"]["reason"] for o in overrides) == sorted([no_other, reason])
        assert {o["officer"] for o in overrides} == {JUDGE}
        steps = {n["operation"] for n in nodes}
        assert {"assistance.request", "assistance.approve", "assistance.submit"} <= steps
        assert "assistance.completed" in steps


async def test_land_registry_seizure_completes_by_polling_and_shows_in_assets(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases, pending_polls=2) as ag:
        number, debtor = showcase(cases)
        cert = free_property(ag, cases)
        _, before = await ag.gw.post(ASSETS, {"id": debtor, "c": number})
        _, cached = await ag.gw.post(ASSETS, {"id": debtor, "c": number})
        estate = next(
            a for a in cached["data"]["debtor"]["assets"] if a.get("certificateNumber") == cert
        )
        assert estate["provenance"]["cached"] and estate["controls"] == []
        rid = await ag.request_whole(seize(ag, cases, "SEIZE_REAL_ESTATE", cert))
        await ag.approve(rid)
        done = await ag.settle(rid, {"COMPLETED"})
        kinds = [e["kind"] for e in done["events"]]
        assert "TICKET" in kinds and kinds[-1] == "COMPLETED"
        assert done["queuePosition"] == 0
        stats = await ag.gw.stats("land_registry")
        polls = sum(n for r, n in stats["requests"].items() if r.startswith("GET /lr/tickets"))
        assert polls >= 3 and stats["executions"] == {"SEIZE_REAL_ESTATE": 1}
        _, after = await ag.gw.post(ASSETS, {"id": debtor, "c": number})
        estate = next(
            a for a in after["data"]["debtor"]["assets"] if a.get("certificateNumber") == cert
        )
        assert not estate["provenance"]["cached"]
        assert estate["controls"] == [{"caseNumber": number, "queuePosition": 0}]
        del before


async def test_already_seized_elsewhere_ends_queued(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        rid = await ag.request_whole(
            seize(ag, cases, "SEIZE_REAL_ESTATE", seized_property(ag, cases))
        )
        await ag.approve(rid)
        done = await ag.settle(rid, {"QUEUED", "COMPLETED"})
        assert done["status"] == "QUEUED" and done["queuePosition"] >= 1
        _, body = await ag.gw.post(
            "query($n: String!) { case(number: $n) { controlledValue } }", {"n": cases[0].number}
        )
        assert body["data"]["case"]["controlledValue"] == "0.00"


async def test_agency_refusal_ends_rejected_and_lift_releases(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        vin = vehicle_of(ag, cases)
        rid = await ag.request_ok(seize(ag, cases, "SEIZE_VEHICLE", vin))
        await ag.approve(rid)
        await ag.settle(rid, {"COMPLETED"})
        lift = await ag.request_ok(seize(ag, cases, "LIFT_VEHICLE_SEIZURE", vin))
        await ag.approve(lift)
        await ag.settle(lift, {"COMPLETED"})
        first = await ag.state(rid)
        assert first["events"][-1]["kind"] == "LIFTED"
        assert await ag.executions("public_security") == {
            "SEIZE_VEHICLE": 1,
            "LIFT_VEHICLE_SEIZURE": 1,
        }
        # A lift of what the case no longer holds is refused before anything is stored.
        _, body = await ag.request(
            seize(ag, cases, "LIFT_VEHICLE_SEIZURE", vin, documentNumber="D2")
        )
        assert body["errors"][0]["extensions"]["rule"] == "NOT_CONTROLLED_BY_CASE"


async def test_input_is_checked_with_named_fields_and_rules(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        vin = vehicle_of(ag, cases)
        bad: list[tuple[dict[str, Any], str, str | None]] = [
            (seize(ag, cases, "SEIZE_VEHICLE", "LSVNOTAVIN000000"), "input.target", None),
            (
                seize(ag, cases, "SEIZE_VEHICLE", vin, documentNumber=" "),
                "input.documentNumber",
                None,
            ),
            (
                seize(ag, cases, "SEIZE_VEHICLE", vin, until="2099-01-01"),
                "input.until",
                "MAX_TERM_MOVABLE_2Y",
            ),
            (
                seize(ag, cases, "SEIZE_VEHICLE", vin, since="2001-01-01"),
                "input.since",
                "START_NOT_IN_PAST",
            ),
            ({**seize(ag, cases, "SEIZE_VEHICLE", vin), "debtorId": "123"}, "input.debtorId", None),
            (
                {**seize(ag, cases, "SEIZE_VEHICLE", vin), "caseNumber": "nope"},
                "input.caseNumber",
                None,
            ),
        ]
        for variables, field, rule in bad:
            status, body = await ag.request(variables)
            assert status == 200, body
            ext = body["errors"][0]["extensions"]
            assert ext["code"] == "INVALID_INPUT" and ext["field"] == field, (field, body)
            if rule:
                assert ext["rule"] == rule
            assert "Traceback" not in str(body)
        assert await ag.route_count("public_security", PS_CONTROLS) == 0


async def test_a_failed_request_still_counts_until_a_resend_learns_its_outcome(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases, max_attempts=2) as ag:
        number, debtor = showcase(cases)
        await ag.gw.post(ASSETS, {"id": debtor, "c": number})  # the flat's value, cached
        await ag.gw.set_faults("land_registry", {"lost_response": True})
        flat = await ag.request_whole(
            seize(ag, cases, "SEIZE_REAL_ESTATE", free_property(ag, cases))
        )
        await ag.approve(flat)
        failed = await ag.settle(flat, {"FAILED"})
        assert failed["attempts"] == 2
        # The registry took the order (it hands out a ticket at once and carries the order
        # out later); only its answers were lost. Two sends of two tries each (the
        # connector retries once with the key).
        assert await ag.route_count("land_registry", "POST /lr/controls") == 4
        # So the flat (worth more than the amount due) still counts: no second seizure.
        stake = ag.world.roles_of(debtor)[0].company_code
        _, refused = await ag.request(seize(ag, cases, "FREEZE_EQUITY", stake))
        assert refused["errors"][0]["extensions"]["code"] == "OVER_SEIZURE", refused
        resend = "mutation($id: ID!) { resendAssistance(id: $id) { status attempts } }"
        outsider = ag.gw.token(officer=OUTSIDER)
        _, body = await ag.gw.post(resend, {"id": flat}, token=outsider)
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "NOT_FOUND"}, body
        await ag.gw.set_faults("land_registry", {"lost_response": False})
        _, body = await ag.gw.post(resend, {"id": flat})
        assert body["data"]["resendAssistance"] == {"status": "SUBMITTED", "attempts": 0}, body
        done = await ag.settle(flat, {"COMPLETED"})
        kinds = [e["kind"] for e in done["events"]]
        assert kinds.index("FAILED") < kinds.index("RESENT") < kinds.index("COMPLETED")
        # Sent five times in all under one key, carried out once.
        assert await ag.route_count("land_registry", "POST /lr/controls") == 5
        assert await ag.executions("land_registry") == {"SEIZE_REAL_ESTATE": 1}
        _, again = await ag.gw.post(resend, {"id": flat})
        assert again["errors"][0]["extensions"]["code"] == "CONFLICT", again
        _, body = await ag.gw.post(
            "query($n: String!) { case(number: $n) { controlledValue } }", {"n": number}
        )
        assert body["data"]["case"]["controlledValue"] != "0.00"
        auditor = ag.gw.token(officer="auditor-1", roles=["auditor"])
        _, log = await ag.gw.post(
            """query($c: String!) { auditRecords(filter: {caseNumber: $c}, first: 200) {
                 edges { node { operation officer } } } }""",
            {"c": number},
            token=auditor,
        )
        steps = [e["node"] for e in log["data"]["auditRecords"]["edges"]]
        assert {"operation": "assistance.resend", "officer": OFFICER} in steps
        assert "assistance.fail" in {s["operation"] for s in steps}


async def test_a_request_past_its_deadline_is_marked_overdue_once(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    # The clock moves only when told: the land registry's ticket stays unpolled meanwhile.
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    async with assistance_gateway(
        tmp_path, cases, clock=clock, deadline_s={"land_registry": 3600.0}
    ) as ag:
        number, _ = showcase(cases)
        rid = await ag.request_whole(
            seize(ag, cases, "SEIZE_REAL_ESTATE", free_property(ag, cases))
        )
        await ag.approve(rid)
        waiting = await wait_for(
            lambda: ag.state(rid), lambda s: any(e["kind"] == "TICKET" for e in s["events"])
        )
        assert waiting["status"] == "SUBMITTED" and not waiting["overdue"]
        clock.advance(hours=2)
        late = await wait_for(lambda: ag.state(rid), lambda s: s["overdue"])
        assert late["status"] == "SUBMITTED"
        worker = ag.services.assistance.worker  # type: ignore[union-attr]
        assert worker is not None
        # Scans racing each other (two workers, two instances) still mark it once.
        await asyncio.gather(*(worker.run_once() for _ in range(3)))
        kinds = [e["kind"] for e in (await ag.state(rid))["events"]]
        assert kinds.count("OVERDUE") == 1
        clock.advance(seconds=10)  # the ticket's next poll is due: the registry is done
        done = await ag.settle(rid, {"COMPLETED"})
        assert done["overdue"], "it was late, and stays on record as late"
        auditor = ag.gw.token(officer="auditor-1", roles=["auditor"])
        _, log = await ag.gw.post(
            """query($c: String!) { auditRecords(filter: {caseNumber: $c}, first: 200) {
                 edges { node { operation } } } }""",
            {"c": number},
            token=auditor,
        )
        steps = [e["node"]["operation"] for e in log["data"]["auditRecords"]["edges"]]
        assert steps.count("assistance.overdue") == 1


async def test_a_renewal_continues_the_seizure_without_counting_it_twice(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        number, debtor = showcase(cases)
        vin = vehicle_of(ag, cases)
        first = await ag.request_ok(seize(ag, cases, "SEIZE_VEHICLE", vin))
        await ag.approve(first)
        await ag.settle(first, {"COMPLETED"})
        value = "query($n: String!) { case(number: $n) { controlledValue } }"
        _, held = await ag.gw.post(value, {"n": number})
        # Only a completed control of this case, same action and target, can be renewed.
        _, wrong = await ag.request(
            seize(
                ag, cases, "SEIZE_VEHICLE", vin, renewalOf="no-such-request", documentNumber="续-0"
            )
        )
        assert wrong["errors"][0]["extensions"]["field"] == "input.renewalOf", wrong
        renewal = await ag.request_ok(
            seize(ag, cases, "SEIZE_VEHICLE", vin, renewalOf=first, documentNumber="续-1")
        )
        await ag.approve(renewal)
        await ag.settle(renewal, {"COMPLETED"})
        assert await ag.executions("public_security") == {"SEIZE_VEHICLE": 2}
        _, after = await ag.gw.post(value, {"n": number})
        assert after["data"]["case"]["controlledValue"] == held["data"]["case"]["controlledValue"]
        _, assets = await ag.gw.post(
            """query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) {
                 assets { ... on Vehicle { vin } controls { caseNumber since until queuePosition } } } }""",
            {"id": debtor, "c": number},
        )
        (car,) = [a for a in assets["data"]["debtor"]["assets"] if a.get("vin") == vin]
        ours = [c for c in car["controls"] if c["caseNumber"] == number]
        # One control, still effective, now running to the renewal's end.
        _, requests = await ag.gw.post(
            "query($id: ID!) { assistanceRequest(id: $id) { since until } }", {"id": renewal}
        )
        renewed = requests["data"]["assistanceRequest"]
        assert len(ours) == 1 and ours[0]["queuePosition"] == 0, car["controls"]
        assert ours[0]["until"] == renewed["until"]
