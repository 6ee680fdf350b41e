"""Enums for the closed sets agencies report in: sex, statuses, company roles.

Each value is the agency's own code, so the enum is the agency's vocabulary made explicit.
A code outside the set is the agency's malformed data, not ours to pass on as a string:
``closed`` turns it into ``AGENCY_BAD_RESPONSE`` for that fact alone (its field is null,
the rest of the answer stands), which is how every other malformed agency answer ends.
"""

from __future__ import annotations

import enum
import logging
from typing import TypeVar, cast

import strawberry

from connectors.tracing import REQUEST_ID
from gateway.domain.case_values import RestrictionStatus
from gateway.errors import AgencyBadResponse
from schema.outside_enums import enum_with_values

__all__ = [
    "CompanyRoleKind",
    "CompanyStatus",
    "IdentityStatus",
    "MarriageStatus",
    "RestrictionStatus",
    "Sex",
    "VehicleStatus",
    "closed",
]

E = TypeVar("E", bound=enum.Enum)
log = logging.getLogger("liandong.agency")
_v = strawberry.enum_value


@strawberry.enum(description="Sex as registered at public security (户籍).")
class Sex(enum.Enum):
    MALE = _v("M", description="男.")
    FEMALE = _v("F", description="女.")


@strawberry.enum(description="A person's household registration status (户籍状态).")
class IdentityStatus(enum.Enum):
    NORMAL = _v("NORMAL", description="Registered and living (正常).")
    DECEASED = _v("DECEASED", description="Registration cancelled on death (死亡注销).")
    EMIGRATED = _v("EMIGRATED", description="Registration cancelled on settling abroad.")


@strawberry.enum(description="A person's marital status at civil affairs (婚姻登记).")
class MarriageStatus(enum.Enum):
    MARRIED = _v("MARRIED", description="Married: joint property may be enforced against.")
    DIVORCED = _v("DIVORCED", description="Divorced: the record is the divorce's.")
    WIDOWED = _v("WIDOWED", description="The spouse died: the record is the marriage's.")
    SINGLE = _v("SINGLE", description="No marriage registered.")


@strawberry.enum(description="A company's registration status at market regulation.")
class CompanyStatus(enum.Enum):
    ACTIVE = _v("ACTIVE", description="存续: in business.")
    REVOKED = _v("REVOKED", description="吊销: business licence revoked.")
    DEREGISTERED = _v("DEREGISTERED", description="注销: deregistered, no longer exists.")


@strawberry.enum(description="A person's role in a company.")
class CompanyRoleKind(enum.Enum):
    LEGAL_REPRESENTATIVE = _v("LEGAL_REPRESENTATIVE", description="法定代表人.")
    SHAREHOLDER = _v("SHAREHOLDER", description="股东: holds a share (`shareRatio`).")
    EXECUTIVE = _v("EXECUTIVE", description="董事、监事或高级管理人员.")


@strawberry.enum(description="A vehicle's registration status at public security.")
class VehicleStatus(enum.Enum):
    NORMAL = _v("NORMAL", description="Registered, no seizure mark.")
    SEIZED = _v("SEIZED", description="Carries a seizure mark (查封).")
    SCRAPPED = _v("SCRAPPED", description="Scrapped (报废): no longer on the road.")


enum_with_values(
    RestrictionStatus,
    description="Whether a restriction is in force.",
    values={"ACTIVE": "In force.", "LIFTED": "Lifted; `liftReason` says why."},
)


def closed(kind: type[E], code: str, agency: str, what: str) -> E:
    """The member of ``kind`` an agency's ``code`` stands for; ``AGENCY_BAD_RESPONSE`` else."""
    # The enum's own value map first: ``kind(code)`` costs several times more, on every
    # fact an agency sends.
    found = kind._value2member_map_.get(code) if isinstance(code, str) else None
    if found is not None:
        return cast(E, found)
    try:
        return kind(code)
    except ValueError:
        error = AgencyBadResponse(agency, f"{what}: a code outside the known set")
        request_id = REQUEST_ID.get()
        # Logged like every other failed agency answer; the code itself is not logged (it
        # is the agency's data, and could be anything).
        log.warning(
            "request %s: %s sent %s outside the known set",
            request_id or "-",
            agency,
            what,
            extra={"request_id": request_id, "agency": agency, "code": error.code},
        )
        raise error from None
