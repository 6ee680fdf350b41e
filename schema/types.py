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
from schema.outside_enums import enum_with_values
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
enum_with_values(
    d.DebtorKind,
    description="A natural person or an organization.",
    values={
        "PERSON": "A natural person (18-digit resident ID).",
        "ORGANIZATION": "An organization (unified social credit code).",
    },
)
enum_with_values(
    d.ControlKind,
    description="How an asset is held by a court.",
    values={
        "SEIZURE": "查封 or 扣押, in effect.",
        "QUEUED_SEIZURE": "轮候查封: takes effect when the ones ahead are lifted.",
        "FREEZE": "冻结 (equity).",
    },
)


@strawberry.enum(description="The agencies linked to the court.")
class Agency(enum.Enum):
    _value_: str  # strawberry.enum unwraps each enum_value(...): .value is the plain value

    PUBLIC_SECURITY = strawberry.enum_value(
        "public_security", description="公安: identity (户籍), vehicles, exit bans."
    )
    CIVIL_AFFAIRS = strawberry.enum_value(
        "civil_affairs", description="民政: marriage registration."
    )
    LAND_REGISTRY = strawberry.enum_value(
        "land_registry", description="不动产登记: real estate, mortgages, seizures."
    )
    MARKET_REGULATION = strawberry.enum_value(
        "market_regulation", description="市场监管: companies, shareholdings, equity freezes."
    )


@strawberry.enum(description="Measures that restrict a debtor.")
class RestrictionKind(enum.Enum):
    EXIT_BAN = strawberry.enum_value(
        "EXIT_BAN", description="限制出境, carried out by public security."
    )
    HIGH_CONSUMPTION_BAN = strawberry.enum_value("HIGH_CONSUMPTION_BAN", description="限制高消费.")
    DISHONEST_LIST = strawberry.enum_value("DISHONEST_LIST", description="失信被执行人名单.")


_PS, _MR = "public_security", "market_regulation"
_AGENCY_BY_NAME: dict[str, Agency] = {member.value: member for member in Agency}


def agency_of(name: str) -> Agency:
    """The ``Agency`` named ``name`` (by dict: ``Enum.__call__`` costs more, a few per field)."""
    found = _AGENCY_BY_NAME.get(name)
    return found if found is not None else Agency(name)


@strawberry.type(description="Where a fact came from and how fresh it is.")
class Provenance:
    agency: Agency = strawberry.field(description="The agency the fact came from.")
    fetched_at: datetime = strawberry.field(description="When the agency gave it.")
    cached: bool = strawberry.field(
        description="Served from the gateway's cache rather than asked now."
    )
    stale: bool = strawberry.field(
        description="Served past its freshness because the agency failed."
    )

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
    id_number: str = strawberry.field(
        description="Resident ID, masked unless you hold the `unmask` scope."
    )
    name: str = strawberry.field(description="Name as registered.")
    sex: Sex = strawberry.field(description="Sex as registered.")
    birth_date: date = strawberry.field(description="Date of birth.")
    address: str = strawberry.field(description="Registered address (户籍地址).")
    status: IdentityStatus = strawberry.field(
        description="Registration status: living, deceased, emigrated."
    )
    provenance: Provenance = strawberry.field(
        description="Which agency said so, when, and whether from the cache."
    )

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
    code: str = strawberry.field(description="Unified social credit code.")
    name: str = strawberry.field(description="Registered name.")
    status: CompanyStatus = strawberry.field(description="Registration status.")
    legal_representative: str = strawberry.field(description="The legal representative's name.")
    registered_capital: Money | None = strawberry.field(description="Registered capital, in yuan.")
    address: str = strawberry.field(description="Registered address.")
    established_on: date | None = strawberry.field(description="When it was established.")

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
    provenance: Provenance = strawberry.field(
        description="Which agency said so, when, and whether from the cache."
    )

    @staticmethod
    def from_fact(value: d.CompanyInfo, prov: Provenance) -> Organization:
        base = Company.from_domain(value)
        return Organization(**{**base.__dict__, "provenance": prov})


@strawberry.type(description="A person's role in a company.")
class CompanyRole:
    company: Company = strawberry.field(description="The company.")
    role: CompanyRoleKind = strawberry.field(description="The person's role in it.")
    share_ratio: float | None = strawberry.field(
        description="The share held, 0 to 1 (four places, as registered); shareholders only. "
        "A float: it is shown and compared, never summed into money (amounts are Money)."
    )
    provenance: Provenance = strawberry.field(
        description="Which agency said so, when, and whether from the cache."
    )

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
    court: str = strawberry.field(description="The court that holds the asset.")
    case_number: str = strawberry.field(description="That court's case.")
    kind: ControlKind = strawberry.field(description="Seizure, queued seizure or freeze.")
    since: date = strawberry.field(description="When it started.")
    until: date | None = strawberry.field(description="When its term ends; null for no fixed term.")
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
    creditor: str = strawberry.field(description="Who holds the mortgage.")
    amount: Money = strawberry.field(description="The secured claim, in yuan.")
    registered_on: date = strawberry.field(description="When it was registered.")

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
    kind: RestrictionKind = strawberry.field(description="The measure.")
    case_number: str = strawberry.field(description="The case it was imposed in.")
    court: str = strawberry.field(description="The court that imposed it.")
    ground: str | None = strawberry.field(description="Why it was imposed, if recorded.")
    since: date = strawberry.field(description="When it took effect.")
    until: date | None = strawberry.field(description="When it ends; null for no fixed end.")
    status: RestrictionStatus = strawberry.field(description="In force or lifted.")
    lift_reason: str | None = strawberry.field(description="Why it was lifted.")
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
