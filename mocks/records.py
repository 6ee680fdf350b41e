"""The synthetic world's records, as the mock agencies keep them.

These are the mocks' own data, independent of the gateway's domain types: each mock
serialises them in its agency's wire format (see ``mocks/API.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = [
    "CaseRecord",
    "CompanyRecord",
    "ControlRecord",
    "ExitBanRecord",
    "MarriageRecord",
    "MortgageRecord",
    "PersonRecord",
    "PropertyRecord",
    "RoleRecord",
    "VehicleRecord",
]


@dataclass(slots=True)
class PersonRecord:
    id: str  # 18-digit resident id, valid check digit
    name: str
    sex: str  # "M" | "F"
    birth_date: date
    address: str
    status: str = "NORMAL"  # NORMAL | DECEASED | EMIGRATED


@dataclass(slots=True)
class MarriageRecord:
    id: str
    status: str  # MARRIED | DIVORCED | WIDOWED | SINGLE
    spouse_id: str | None
    spouse_name: str | None
    registered_on: date | None
    office: str | None


@dataclass(slots=True)
class CompanyRecord:
    code: str  # unified social credit code, valid check character
    name: str
    status: str  # ACTIVE | REVOKED | DEREGISTERED
    legal_representative_id: str
    legal_representative: str
    registered_capital: Decimal
    address: str
    established_on: date


@dataclass(slots=True)
class ControlRecord:
    court: str
    case_number: str
    since: date
    until: date | None
    queue_position: int = 0  # 0: effective; n >= 1: n-th in the queue (轮候)
    claim: Decimal | None = None  # the sum the seizing case enforces (ranks by since)


@dataclass(slots=True)
class RoleRecord:
    person_id: str
    company_code: str
    role: str  # LEGAL_REPRESENTATIVE | SHAREHOLDER | EXECUTIVE
    share_ratio: Decimal | None = None  # SHAREHOLDER only, 0..1 with 4 places
    subscribed_capital: Decimal | None = None
    estimated_value: Decimal | None = None
    freezes: list[ControlRecord] = field(default_factory=list)


@dataclass(slots=True)
class MortgageRecord:
    creditor: str
    amount: Decimal
    registered_on: date


@dataclass(slots=True)
class PropertyRecord:
    certificate_no: str
    owner_ids: list[str]  # the first is the main owner; all are co-owners
    address: str
    area_sqm: Decimal | None
    use: str | None  # 住宅 | 商业 | 办公 | 工业
    assessed_value: Decimal | None
    mortgages: list[MortgageRecord] = field(default_factory=list)
    seizures: list[ControlRecord] = field(default_factory=list)


@dataclass(slots=True)
class VehicleRecord:
    owner_id: str
    plate: str
    vin: str  # 17 characters with a valid ISO 3779 check digit
    model: str
    registered_on: date
    status: str  # NORMAL | SEIZED | SCRAPPED
    estimated_value: Decimal | None
    seizures: list[ControlRecord] = field(default_factory=list)


@dataclass(slots=True)
class ExitBanRecord:
    ban_id: str
    person_id: str
    court: str
    case_number: str
    since: date
    until: date | None
    status: str  # ACTIVE | LIFTED
    lift_reason: str | None = None


@dataclass(slots=True)
class CaseRecord:
    """An enforcement case a court would register with the gateway (for the demo)."""

    number: str  # （2024）苏0312执1234号
    court: str
    applicant: str
    amount_due: Decimal
    debtor_ids: list[str]
    filed_on: date
