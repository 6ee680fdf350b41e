"""The gateway follows ``execution_shortcuts``: off, a look-up fills none of their caches."""

from __future__ import annotations

from pathlib import Path

import pytest

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from schema.fast.executor import FastExecutionContext
from schema.fast.prepared import ValidatedByText
from tests.harness import PROFILE, PROFILE_VARIABLES, gateway_settings, open_stack


@pytest.mark.parametrize("shortcuts", [True, False])
async def test_the_setting_from_the_environment_reaches_the_schema(
    tmp_path: Path,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    monkeypatch: pytest.MonkeyPatch,
    shortcuts: bool,
) -> None:
    # Set as an operator would; the rest of the suite may itself run with either value.
    monkeypatch.setenv("LIANDONG_EXECUTION_SHORTCUTS", "true" if shortcuts else "false")
    settings = gateway_settings(tmp_path, mocks)
    assert settings.execution_shortcuts is shortcuts
    # Class-level caches, shared by every schema of the process: emptied so that what the
    # one look-up below leaves in them can be counted.
    ValidatedByText._results.clear()
    FastExecutionContext._shared.clear()
    FastExecutionContext._plans.clear()
    async with open_stack(tmp_path, cases, mocks=mocks, settings=settings) as gw:
        status, body = await gw.post(PROFILE, PROFILE_VARIABLES)
        door = gw.app.plain_post  # plain JSON POSTs at the door: one of the shortcuts
        assert (door is not None and door.served == 1) is shortcuts
    assert status == 200 and "errors" not in body, body.get("errors")
    assert body["data"]["debtor"]["identity"]["provenance"]["agency"] == "PUBLIC_SECURITY"
    assert len(ValidatedByText._results) == (1 if shortcuts else 0)
    assert (len(FastExecutionContext._shared) > 0) is shortcuts
    assert (len(FastExecutionContext._plans) > 0) is shortcuts
