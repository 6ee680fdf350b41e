"""A running gateway signs its log's tree heads: the key file made on first start (and
refused once others may read it), and heads that keep being signed while the witness is
down and all reach it once it is back, with no request held up meanwhile."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.audit.chain_id import writer_chain
from gateway.audit.head_keys import load_or_create_key, public_key_file
from gateway.audit.heads_setup import start_head_publisher
from gateway.audit.signed_head import TreeHead, key_id, sign_head
from gateway.audit.witnesses import HttpWitness, WitnessRefused
from gateway.cli.demo import seed_cases
from gateway.settings import SettingsError
from gateway.store.cases import Store
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from mocks.witness import create_app, start_witness
from tests.harness import JUDGE, OFFICER, gateway_settings, start_gateway, stop_gateway
from tests.integration.test_audit_cli import cli

HEADS = "{ auditHeads { chain size root time keyId signature } }"
DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"


async def eventually(what: Callable[[], bool], *, limit_s: float = 60.0) -> None:
    """Wait for ``what`` to hold; the limit only stops a broken test from hanging."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not what():
        assert loop.time() < deadline, "gave up waiting"
        await asyncio.sleep(0.02)


def sizes(folder: Path) -> set[int]:
    return {int(p.name.split("-", 1)[0]) for p in folder.glob("*.json")}


async def test_heads_are_kept_while_the_witness_is_down_and_delivered_after(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord], database_url: str
) -> None:
    load_or_create_key(tmp_path / "tree-head-key")  # the witness is told the key up front
    pem = public_key_file(tmp_path / "tree-head-key").read_bytes()
    first = await start_witness(create_app([pem]))
    port = first.runner.addresses[0][1]
    await first.aclose()  # down before the gateway even starts
    heads = {"witness": first.url, "every_records": 1, "poll_s": 0.02, "retry_max_s": 0.05}
    settings = gateway_settings(tmp_path, mocks, database_url=database_url, heads=heads)
    store = await Store.open(settings.database_url)
    try:
        await seed_cases(store, cases, [OFFICER], [JUDGE])
    finally:
        await store.close()
    chain = writer_chain(settings)  # the gateway's own chain, the one it signs
    outbox = tmp_path / "tree-heads-outbox" / chain
    case = cases[0]
    gw = await start_gateway(settings, mocks, court=case.court)
    try:
        for n in range(1, 6):
            status, body = await gw.post(DEBTOR, {"id": case.debtor_ids[0], "c": case.number})
            assert status == 200 and "errors" not in body  # the witness holds no request up
            await eventually(lambda n=n: len(sizes(outbox)) >= n)  # type: ignore[misc]
        waiting = sizes(outbox)
        again = await start_witness(create_app([pem]), port=port)
        try:
            await eventually(lambda: not sizes(outbox))
            kept = {h["size"] for h in again.state.heads[chain]}
            assert waiting <= kept
            assert again.state.counts["kept"] == len(kept) >= 5
            assert sum(again.state.counts[k] for k in ("refused_400", "refused_403")) == 0
        finally:
            await again.aclose()
    finally:
        await stop_gateway(gw)


async def test_the_key_is_made_0600_at_first_start_and_refused_when_others_may_read(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    settings = gateway_settings(tmp_path, mocks, heads={"poll_s": 0.02, "every_records": 1})
    key = tmp_path / "tree-head-key"
    assert not key.exists()
    store = await Store.open(settings.database_url)
    try:
        await seed_cases(store, cases, [OFFICER], [JUDGE])
    finally:
        await store.close()
    gw = await start_gateway(settings, mocks, court=cases[0].court)
    try:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        status, _ = await gw.post(DEBTOR, {"id": cases[0].debtor_ids[0], "c": cases[0].number})
        assert status == 200
        chain = writer_chain(settings)
        await eventually(lambda: bool(sizes(tmp_path / "tree-heads" / chain)))
        auditor = gw.token("aud-1", roles=["auditor"])
        status, body = await gw.post(HEADS, token=auditor)
        (head,) = body["data"]["auditHeads"]
        assert head["chain"] == chain and head["size"] >= 1 and len(head["root"]) == 64
        assert head["keyId"] == key_id(load_or_create_key(key).public_key())
        _, body = await gw.post(HEADS)  # an officer is not an auditor
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    finally:
        await stop_gateway(gw)  # signs a last head over everything recorded
    assert sizes(tmp_path / "tree-heads" / chain)
    config = tmp_path / "liandong.toml"
    config.write_text(f"data_dir = {str(tmp_path)!r}\n", encoding="utf-8")
    code, out, err = await cli("audit", "verify", "--config", str(config))
    assert code == 0 and "signed tree heads OK" in out, err

    os.chmod(key, 0o644)
    with pytest.raises(SettingsError, match=r"^heads\.key_file: .* has mode 0644"):
        await start_head_publisher(settings)
    code, out, err = await cli("config", "check", str(config))
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and "heads.key_file" in err


async def test_the_witness_command_trusts_the_key_it_is_given(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "tree-head-key")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli.main",
        "mocks",
        "witness",
        "--port",
        "0",
        "--trust",
        str(public_key_file(tmp_path / "tree-head-key")),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        line = (await proc.stdout.readline()).decode()
        assert line.startswith("witness http://127.0.0.1:")
        witness = HttpWitness(line.split()[1])
        head = TreeHead("w-0", 1, "ab" * 32, datetime.now(UTC))
        await witness.publish(sign_head(head, key))
        with pytest.raises(WitnessRefused):  # same size, another root
            await witness.publish(sign_head(TreeHead("w-0", 1, "cd" * 32, head.time), key))
        assert [h.root for h in await witness.newest()] == ["ab" * 32]
        await witness.aclose()
    finally:
        proc.send_signal(signal.SIGINT)
        await proc.wait()
