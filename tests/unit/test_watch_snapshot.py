"""What an asset watch reports between two snapshots, and the budget of its transports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.domain import Control, ControlKind, Mortgage, RealEstate
from connectors.http import HttpClient, HttpSettings
from gateway.errors import AgencyUnavailable
from gateway.watch.scheduler import BudgetedHttp
from gateway.watch.snapshot import ChangeKind, diff, snapshot, snapshot_hash

SEIZURE = Control("某法院", "（2024）苏0312执1号", ControlKind.SEIZURE, date(2024, 1, 2), None)
MORTGAGE = Mortgage("某银行", Decimal("100000.00"), date(2020, 5, 1))


def _house(cert: str, *, controls: tuple[Control, ...] = (), value: str = "1.00") -> RealEstate:
    return RealEstate(
        id=cert,
        certificate_number=cert,
        address="某路1号",
        area_sqm=90.0,
        use="住宅",
        co_owners=(),
        mortgages=(MORTGAGE,),
        controls=controls,
        estimated_value=Decimal(value),
    )


def test_changes_between_snapshots() -> None:
    before = snapshot([_house("A", controls=(SEIZURE,)), _house("B")])
    assert diff(before, before) == []
    # Market value alone is no news.
    assert snapshot_hash(
        snapshot([_house("A", controls=(SEIZURE,), value="9.00"), _house("B")])
    ) == (snapshot_hash(before))
    after = snapshot([_house("A"), _house("B", controls=(SEIZURE,)), _house("C")])
    found = [(c.asset_id, c.change) for c in diff(before, after)]
    assert found == [
        ("A", ChangeKind.SEIZURE_LIFTED),
        ("B", ChangeKind.ENCUMBRANCE_CHANGED),
        ("C", ChangeKind.NEW_ASSET),
    ]
    assert [c.change for c in diff(after, snapshot([]))] == [ChangeKind.ASSET_GONE] * 3


async def test_budgeted_transport_refuses_before_sending() -> None:
    async with HttpClient() as client:
        gate = BudgetedHttp("land_registry", HttpSettings(base_url="http://127.0.0.1:9"), client)
        with pytest.raises(AgencyUnavailable):
            await gate.request("GET", "/anything")
        assert gate.sent == 0
