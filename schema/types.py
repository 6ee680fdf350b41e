"""Object types for agency facts: identity, organization, companies, controls, restrictions.

Each is built from a connector's domain record with ``from_domain``; personal numbers are
masked there unless the request may unmask them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import strawberry
from strawberry.types import Info

from connectors import domain as d
from gateway.masking import mask_id
from gateway.store.cases import RestrictionRow
from resolvers.context import RequestContext
from resolvers.handles import handles
from schema.closed_sets import (
    CompanyRoleKind,
    CompanyStatus,
    IdentityStatus,
    RestrictionStatus,
    Sex,
    closed,
)
from schema.node import Node
from schema.scalars import Money

__all__ = [
    "Agency",
    "Company",
    "CompanyRole",
    "Control",
    "ControlKind",
    "DebtorKind",
    "Identity",
    "Mortgage",
    "Organization",
    "Provenance",
    "Restriction",
    "RestrictionKind",
]

# The domain enums are the GraphQL enums: registered in place, used by their own names.
DebtorKind = d.DebtorKind
ControlKind = d.ControlKind
strawberry.enum(d.DebtorKind, description="A natural person or an organization.")
strawberry.enum(d.ControlKind, description="How an asset is held by a court.")


@strawberry.enum(description="The agencies linked to the court.")
class Agency(enum.Enum):
    PUBLIC_SECURITY = "public_security"
    CIVIL_AFFAIRS = "civil_affairs"
    LAND_REGISTRY = "land_registry"
    MARKET_REGULATION = "market_regulation"


@strawberry.enum(description="Measures that restrict a debtor.")
class RestrictionKind(enum.Enum):
    EXIT_BAN = "EXIT_BAN"
    HIGH_CONSUMPTION_BAN = "HIGH_CONSUMPTION_BAN"
    DISHONEST_LIST = "DISHONEST_LIST"


_PS, _MR = "public_security", "market_regulation"


def agency_of(name: str) -> Agency:
    return Agency(name)


@strawberry.type(description="Where a fact came from and how fresh it is.")
class Provenance:
    agency: Agency
    fetched_at: datetime
    cached: bool
    stale: bool

    @staticmethod
    def of(fact: d.Fetched) -> Provenance:
        return Provenance(
            agency=agency_of(fact.agency),
            fetched_at=fact.fetched_at,
            cached=fact.cached,
            stale=fact.stale,
        )


@strawberry.type(description="户籍: a person's registration at public security.")
class Identity:
    id_number: str
    name: str
    sex: Sex
    birth_date: date
    address: str
    status: IdentityStatus
    provenance: Provenance

    @staticmethod
    def from_domain(value: d.Identity, prov: Provenance, unmask: bool) -> Identity:
        return Identity(
            id_number=value.id if unmask else mask_id(value.id),
            name=value.name,
            sex=closed(Sex, value.sex, _PS, "sex"),
            birth_date=value.birth_date,
            address=value.address,
            status=closed(IdentityStatus, value.status, _PS, "identity status"),
            provenance=prov,
        )


@strawberry.type(description="A registered company (market regulation).")
class Company:
    code: str
    name: str
    status: CompanyStatus
    legal_representative: str
    registered_capital: Money | None
    address: str
    established_on: date | None

    @staticmethod
    def from_domain(value: d.CompanyInfo) -> Company:
        return Company(
            code=value.code,
            name=value.name,
            status=closed(CompanyStatus, value.status, _MR, "company status"),
            legal_representative=value.legal_representative,
            registered_capital=value.registered_capital,
            address=value.address,
            established_on=value.established_on,
        )


@strawberry.type(description="An organization debtor's registration at market regulation.")
class Organization(Company):
    provenance: Provenance

    @staticmethod
    def from_fact(value: d.CompanyInfo, prov: Provenance) -> Organization:
        base = Company.from_domain(value)
        return Organization(**{**base.__dict__, "provenance": prov})


@strawberry.type(description="A person's role in a company.")
class CompanyRole:
    company: Company
    role: CompanyRoleKind
    share_ratio: float | None = strawberry.field(
        description="The share held, 0 to 1 (four places, as registered); shareholders only. "
        "A float: it is shown and compared, never summed into money (amounts are Money)."
    )
    provenance: Provenance

    @staticmethod
    def from_domain(value: d.CompanyRole, prov: Provenance) -> CompanyRole:
        ratio = value.share_ratio
        return CompanyRole(
            company=Company.from_domain(value.company),
            role=closed(CompanyRoleKind, value.role, _MR, "company role"),
            share_ratio=None if ratio is None else float(ratio),
            provenance=prov,
        )


@strawberry.type(description="A freeze or seizure on an asset, by any court.")
class Control:
    court: str
    case_number: str
    kind: ControlKind
    since: date
    until: date | None
    queue_position: int = strawberry.field(
        description="0 for an effective control; n >= 1 for the n-th queued seizure (轮候)."
    )
    claim: Money | None = strawberry.field(
        default=None,
        description="The sum the seizing case enforces, where the agency records it: it ranks "
        "ahead of later seizures in the asset's net value.",
    )

    @staticmethod
    def from_domain(value: d.Control) -> Control:
        return Control(
            court=value.court,
            case_number=value.case_number,
            kind=value.kind,
            since=value.since,
            until=value.until,
            queue_position=value.queue_position,
            claim=value.claim,
        )


@strawberry.type(description="A mortgage registered on real estate.")
class Mortgage:
    creditor: str
    amount: Money
    registered_on: date

    @staticmethod
    def from_domain(value: d.Mortgage) -> Mortgage:
        return Mortgage(
            creditor=value.creditor, amount=value.amount, registered_on=value.registered_on
        )


@strawberry.type(description="A measure restricting a debtor: exit ban, consumption ban, list.")
class Restriction(Node):
    # What the node id is sealed from: the case it was seen through (the legal basis of
    # fetching it again), the debtor, where the record lives and its id there.
    seen_in: strawberry.Private[str]
    debtor_id: strawberry.Private[str]
    source: strawberry.Private[str]  # "court" (the store) or "agency" (an exit ban)
    record_id: strawberry.ID = strawberry.field(
        description="The record's own id: the court's, or the agency's for an exit ban "
        "(an exit ban's assistance request names it as its `reference`)."
    )
    kind: RestrictionKind
    case_number: str
    court: str
    ground: str | None
    since: date
    until: date | None
    status: RestrictionStatus
    lift_reason: str | None
    provenance: Provenance | None = strawberry.field(
        description="Set when the fact comes from an agency; null for the court's own record."
    )

    @strawberry.field(
        description="The restriction's node id: opaque, stable for the debtor in the case it "
        "was seen through; `node(id:)` takes it."
    )
    def id(self, info: Info[RequestContext, None]) -> strawberry.ID:
        codec = handles(info.context)
        return strawberry.ID(
            codec.seal_node(
                "Restriction", self.seen_in, self.debtor_id, self.source, self.record_id
            )
        )

    @staticmethod
    def from_exit_ban(
        value: d.ExitBan, prov: Provenance, debtor_id: str, seen_in: str
    ) -> Restriction:
        return Restriction(
            seen_in=seen_in,
            debtor_id=debtor_id,
            source="agency",
            record_id=strawberry.ID(value.id),
            kind=RestrictionKind.EXIT_BAN,
            case_number=value.case_number,
            court=value.court,
            ground=None,
            since=value.since,
            until=value.until,
            status=closed(RestrictionStatus, value.status, _PS, "exit ban status"),
            lift_reason=value.lift_reason,
            provenance=prov,
        )

    @staticmethod
    def from_row(row: RestrictionRow, seen_in: str | None = None) -> Restriction:
        return Restriction(
            seen_in=seen_in or row.case_number,
            debtor_id=row.debtor_id,
            source="court",
            record_id=strawberry.ID(row.id),
            kind=RestrictionKind(row.kind.value),
            case_number=row.case_number,
            court=row.court,
            ground=row.ground,
            since=row.since,
            until=row.until,
            status=row.status,
            lift_reason=row.lift_reason,
            provenance=None,
        )
