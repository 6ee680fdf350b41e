"""Domain records that connectors return: the agencies' facts, normalised.

Connectors turn each agency's wire format into these frozen dataclasses; resolvers and the
schema only ever see these. Money is ``Decimal`` (yuan, two places), never float.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

__all__ = [
    "Asset",
    "AssetKind",
    "CompanyInfo",
    "CompanyRole",
    "Control",
    "ControlKind",
    "DebtorKind",
    "EquityStake",
    "ExitBan",
    "Facet",
    "Fetched",
    "Identity",
    "Marriage",
    "Mortgage",
    "OrganizationPerson",
    "RealEstate",
    "Vehicle",
]


class Facet(enum.StrEnum):
    """What kind of fact a connector can look up for a debtor id."""

    IDENTITY = "identity"  # -> Identity | None
    ORGANIZATION = "organization"  # -> CompanyInfo | None
    MARRIAGE = "marriage"  # -> Marriage | None
    COMPANY_ROLES = "company_roles"  # -> tuple[CompanyRole, ...]
    ASSETS = "assets"  # -> tuple[RealEstate | Vehicle | EquityStake, ...]
    EXIT_BANS = "exit_bans"  # -> tuple[ExitBan, ...]
    # by credit code -> tuple[OrganizationPerson, ...]
    ORGANIZATION_PERSONS = "organization_persons"


class DebtorKind(enum.StrEnum):
    PERSON = "PERSON"
    ORGANIZATION = "ORGANIZATION"


class AssetKind(enum.StrEnum):
    REAL_ESTATE = "REAL_ESTATE"
    VEHICLE = "VEHICLE"
    EQUITY = "EQUITY"


class ControlKind(enum.StrEnum):
    SEIZURE = "SEIZURE"  # 查封
    QUEUED_SEIZURE = "QUEUED_SEIZURE"  # 轮候查封
    FREEZE = "FREEZE"  # 冻结


@dataclass(frozen=True, slots=True)
class Identity:
    """户籍: a natural person's registration at public security."""

    id: str
    name: str
    sex: str  # "M" | "F"
    birth_date: date
    address: str
    status: str  # NORMAL | DECEASED | EMIGRATED


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    """A registered organization at market regulation."""

    code: str  # unified social credit code
    name: str
    status: str  # ACTIVE | REVOKED | DEREGISTERED
    legal_representative: str
    registered_capital: Decimal | None
    address: str
    established_on: date | None


@dataclass(frozen=True, slots=True)
class Marriage:
    """婚姻登记: the current registration; ``spouse_id`` links to another debtor."""

    id: str
    status: str  # MARRIED | DIVORCED | WIDOWED | SINGLE
    spouse_id: str | None
    spouse_name: str | None
    registered_on: date | None
    office: str | None


@dataclass(frozen=True, slots=True)
class CompanyRole:
    """A person's role in a company: legal representative, shareholder, executive."""

    company: CompanyInfo
    role: str  # LEGAL_REPRESENTATIVE | SHAREHOLDER | EXECUTIVE
    share_ratio: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrganizationPerson:
    """A person market regulation's register names for an organisation."""

    company_code: str
    person_id: str
    name: str | None
    role: str  # LEGAL_REPRESENTATIVE | SHAREHOLDER | EXECUTIVE
    share_ratio: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Control:
    """Someone else's (or our own) freeze or seizure on an asset."""

    court: str
    case_number: str
    kind: ControlKind
    since: date
    until: date | None
    queue_position: int = 0
    claim: Decimal | None = None  # the sum the seizing case enforces, where the agency says


@dataclass(frozen=True, slots=True)
class Mortgage:
    creditor: str
    amount: Decimal
    registered_on: date


@dataclass(frozen=True, slots=True)
class RealEstate:
    """不动产: one property under one certificate."""

    id: str  # the certificate number
    certificate_number: str
    address: str
    area_sqm: float | None
    use: str | None
    co_owners: tuple[str, ...]
    mortgages: tuple[Mortgage, ...]
    controls: tuple[Control, ...]
    estimated_value: Decimal | None
    kind: AssetKind = field(default=AssetKind.REAL_ESTATE, init=False)


@dataclass(frozen=True, slots=True)
class Vehicle:
    """机动车: registered at public security."""

    id: str  # the VIN
    plate_number: str
    vin: str
    model: str | None
    registered_on: date | None
    status: str  # NORMAL | SEIZED | SCRAPPED
    controls: tuple[Control, ...]
    estimated_value: Decimal | None
    kind: AssetKind = field(default=AssetKind.VEHICLE, init=False)


@dataclass(frozen=True, slots=True)
class EquityStake:
    """股权: a shareholding registered at market regulation."""

    id: str  # the company's credit code: one stake per holder and company
    company: CompanyInfo
    share_ratio: Decimal  # 0..1
    subscribed_capital: Decimal | None
    controls: tuple[Control, ...]
    estimated_value: Decimal | None
    kind: AssetKind = field(default=AssetKind.EQUITY, init=False)


Asset = RealEstate | Vehicle | EquityStake


@dataclass(frozen=True, slots=True)
class ExitBan:
    """限制出境 as recorded at public security."""

    id: str
    court: str
    case_number: str
    since: date
    until: date | None
    status: str  # ACTIVE | LIFTED
    lift_reason: str | None = None  # the lifting court's written reason


@dataclass(frozen=True, slots=True)
class Fetched:
    """A value with when it was fetched from its agency (for ``Provenance``)."""

    value: object
    agency: str
    fetched_at: datetime
    cached: bool = False
    stale: bool = False
