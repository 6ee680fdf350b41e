"""The ``Asset`` interface and its kinds: real estate, vehicles, equity stakes."""

from __future__ import annotations

from datetime import date

import strawberry

from connectors import domain as d
from schema.closed_sets import VehicleStatus, closed
from schema.node import Node
from schema.outside_enums import enum_with_values
from schema.scalars import Money
from schema.types import Company, Control, Mortgage, Provenance

__all__ = ["Asset", "AssetKind", "EquityStake", "RealEstate", "Vehicle", "asset_from_domain"]

AssetKind = d.AssetKind
enum_with_values(
    d.AssetKind,
    description="Kinds of asset an agency registers.",
    values={
        "REAL_ESTATE": "不动产, at the land registry.",
        "VEHICLE": "机动车, at public security.",
        "EQUITY": "股权, at market regulation.",
    },
)


@strawberry.interface(description="Something of value registered to a debtor at an agency.")
class Asset(Node):
    node_id: strawberry.Private[str]
    kind: AssetKind = strawberry.field(description="Real estate, vehicle or equity.")
    estimated_value: Money | None = strawberry.field(
        description="The agency's estimate in yuan, where it gives one."
    )
    controls: list[Control] = strawberry.field(
        description="Seizures and freezes on it, by any court, effective or queued."
    )
    provenance: Provenance = strawberry.field(
        description="Which agency said so, when, and whether from the cache."
    )

    @strawberry.field(
        description="The asset's node id: opaque, stable for this debtor in this case; "
        "`node(id:)` takes it. The agency's own number is `certificateNumber`, `vin` or "
        "`company.code`."
    )
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.node_id)


@strawberry.type(description="不动产: registered at the land registry.")
class RealEstate(Asset):
    certificate_number: str = strawberry.field(
        description="The property certificate number (不动产权证号)."
    )
    address: str = strawberry.field(description="Where the property is.")
    area_sqm: float | None = strawberry.field(description="Floor area, in square metres.")
    use: str | None = strawberry.field(description="Registered use (住宅, 商业, ...).")
    co_owners: list[str] = strawberry.field(description="Other owners' names (共有人).")
    mortgages: list[Mortgage] = strawberry.field(description="Mortgages registered on it.")


@strawberry.type(description="机动车: registered at public security.")
class Vehicle(Asset):
    plate_number: str = strawberry.field(description="Licence plate.")
    vin: str = strawberry.field(description="Vehicle identification number.")
    model: str | None = strawberry.field(description="Make and model.")
    registered_on: date | None = strawberry.field(description="When it was registered.")
    status: VehicleStatus = strawberry.field(description="Registration status.")


@strawberry.type(description="股权: a shareholding registered at market regulation.")
class EquityStake(Asset):
    company: Company = strawberry.field(description="The company the stake is in.")
    share_ratio: float = strawberry.field(
        description="The share held, 0 to 1 (four places, as registered). A float: it is "
        "shown and compared, never summed into money (amounts are Money)."
    )
    subscribed_capital: Money | None = strawberry.field(description="Capital subscribed, in yuan.")


def asset_from_domain(value: d.Asset, prov: Provenance, node_id: str) -> Asset:
    """Turn a connector's asset record into its GraphQL type, with its node id."""
    controls = [Control.from_domain(c) for c in value.controls]
    if isinstance(value, d.RealEstate):
        return RealEstate(
            node_id=node_id,
            kind=value.kind,
            estimated_value=value.estimated_value,
            controls=controls,
            provenance=prov,
            certificate_number=value.certificate_number,
            address=value.address,
            area_sqm=value.area_sqm,
            use=value.use,
            co_owners=list(value.co_owners),
            mortgages=[Mortgage.from_domain(m) for m in value.mortgages],
        )
    if isinstance(value, d.Vehicle):
        return Vehicle(
            node_id=node_id,
            kind=value.kind,
            estimated_value=value.estimated_value,
            controls=controls,
            provenance=prov,
            plate_number=value.plate_number,
            vin=value.vin,
            model=value.model,
            registered_on=value.registered_on,
            status=closed(VehicleStatus, value.status, "public_security", "vehicle status"),
        )
    return EquityStake(
        node_id=node_id,
        kind=value.kind,
        estimated_value=value.estimated_value,
        controls=controls,
        provenance=prov,
        company=Company.from_domain(value.company),
        share_ratio=float(value.share_ratio),
        subscribed_capital=value.subscribed_capital,
    )
