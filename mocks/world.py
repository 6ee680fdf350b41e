"""The deterministic synthetic world that the four mock agencies serve.

``World(seed, people)`` builds a cheap skeleton eagerly: resident ids, marriages, how many
properties, vehicles and exit bans each person has, company memberships. Each record's
details are generated on first access from an RNG keyed by ``(seed, kind, index)`` and
memoised. So the same ``(seed, people)`` gives the same data in any process and in any
access order, a 100,000-person world starts in about a second, and changes made through
the mocks' control endpoints (a seizure appended to a record, ``add_property``) stick for
the lifetime of the ``World``.

Certificate numbers and VINs carry their record's index through an invertible affine
scramble, so ``property(cert)`` and ``vehicle(vin)`` need no index over all assets.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar

from mocks import world_pools as wp
from mocks.records import (
    CaseRecord,
    CompanyRecord,
    ExitBanRecord,
    MarriageRecord,
    PersonRecord,
    PropertyRecord,
    RoleRecord,
    VehicleRecord,
)
from mocks.world_details import Details
from mocks.world_skeleton import (
    CERT_SPACE,
    MULT,
    SHOWCASE,
    VIN_SPACE,
    day,
)

__all__ = ["AS_OF", "World"]

AS_OF = wp.AS_OF

_CERT_SERIAL = re.compile(r"第(\d{7})号$")
_R = TypeVar("_R")


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


class World(Details):
    """A synthetic population with marriages, real estate, vehicles, companies and bans.

    Lookups return the memoised records themselves: mutating one (appending a seizure)
    changes what every later lookup sees.
    """

    def __init__(self, seed: int = 7, people: int = 1000) -> None:
        super().__init__(seed, people)
        self._added_bans: dict[str, ExitBanRecord] = {}
        self._added_properties: dict[str, PropertyRecord] = {}
        self._added_vehicles: dict[str, VehicleRecord] = {}
        self._added_property_owners: dict[str, list[str]] = {}
        self._added_vehicle_owners: dict[str, list[str]] = {}

    # -- public lookups -----------------------------------------------------------------------
    def person_ids(self) -> Sequence[str]:
        """All resident ids, in index order (index 0 is the showcase)."""
        return self._ids

    def company_codes(self) -> Sequence[str]:
        """All unified social credit codes, in index order."""
        return self._codes

    def person(self, pid: str) -> PersonRecord | None:
        """The household registration (户籍) record, or None for an unknown id."""
        i = self._index.get(pid)
        return None if i is None else self._person_at(i)

    def company(self, code: str) -> CompanyRecord | None:
        """The company registered under ``code``, or None."""
        c = self._company_index.get(code)
        return None if c is None else self._company_at(c)

    def marriage(self, pid: str) -> MarriageRecord | None:
        """The marriage registration; SINGLE for the unmarried, None only for unknown ids.

        DIVORCED carries the divorce's date and office, WIDOWED the marriage's; the former
        or late spouse is named but has no id.
        """
        i = self._index.get(pid)
        return None if i is None else self._marriage_at(i)

    def roles_of(self, pid: str) -> list[RoleRecord]:
        """Legal representative, shareholder and executive roles, by (company code, role)."""
        i = self._index.get(pid)
        if i is None:
            return []
        roles = [r for c in self._roles_by_person.get(i, ()) for r in self._roles_at(c)]
        return sorted(
            (r for r in roles if r.person_id == pid), key=lambda r: (r.company_code, r.role)
        )

    def members_of(self, code: str) -> list[RoleRecord]:
        """The persons a company's register names: legal representative, shareholders,
        executives (主要人员), by (person id, role); [] for an unknown code."""
        c = self._company_index.get(code)
        return [] if c is None else list(self._roles_at(c))

    def properties_of(self, owner_id: str) -> list[PropertyRecord]:
        """Real estate of a resident or organisation, including co-owned property."""
        indices: list[int] = []
        if (i := self._index.get(owner_id)) is not None:
            indices += range(self._props[i], self._props[i + 1])
            if (s := self._spouse[i]) >= 0:  # the spouse's flats may list ``owner_id`` too
                indices += range(self._props[s], self._props[s + 1])
        elif (c := self._company_index.get(owner_id)) is not None:
            indices += range(self._cprops[c], self._cprops[c + 1])
        found = [self._property_at(k) for k in indices]
        found += [
            self._added_properties[cert] for cert in self._added_property_owners.get(owner_id, ())
        ]
        return _dedupe_owned(found, owner_id, lambda r: r.certificate_no, lambda r: r.owner_ids)

    def property(self, certificate_no: str) -> PropertyRecord | None:
        """The property registered under ``certificate_no``, or None."""
        if (rec := self._added_properties.get(certificate_no)) is not None:
            return rec
        k = self._generated_property(certificate_no)
        return None if k is None else self._property_at(k)

    def vehicles_of(self, owner_id: str) -> list[VehicleRecord]:
        """Motor vehicles registered to a resident or organisation."""
        indices: range = range(0)
        if (i := self._index.get(owner_id)) is not None:
            indices = range(self._vehs[i], self._vehs[i + 1])
        elif (c := self._company_index.get(owner_id)) is not None:
            indices = range(self._cvehs[c], self._cvehs[c + 1])
        found = [self._vehicle_at(k) for k in indices]
        found += [self._added_vehicles[vin] for vin in self._added_vehicle_owners.get(owner_id, ())]
        return _dedupe_owned(found, owner_id, lambda r: r.vin, lambda r: [r.owner_id])

    def vehicle(self, vin: str) -> VehicleRecord | None:
        """The vehicle with this VIN, or None."""
        if (rec := self._added_vehicles.get(vin)) is not None:
            return rec
        k = self._generated_vehicle(vin)
        return None if k is None else self._vehicle_at(k)

    def exit_bans_of(self, pid: str) -> list[ExitBanRecord]:
        """Exit bans (限制出境) on a resident, active and lifted."""
        i = self._index.get(pid)
        return [] if i is None else list(self._bans_at(i))

    def showcase_id(self) -> str:
        """A married resident with mortgaged and seized real estate, a vehicle, a
        shareholding and an active exit ban: the demo's example debtor."""
        return self._ids[SHOWCASE]

    def cases(self, count: int = 50) -> list[CaseRecord]:
        """Deterministic enforcement cases against residents and companies of the world.

        The first case's first debtor is ``showcase_id()``, in the showcase's home court.
        """
        rng = random.Random(f"{self.seed}:cases")
        numbers: set[str] = set()
        out: list[CaseRecord] = []
        for j in range(count):
            if j == 0 or rng.random() >= 0.15:
                i = SHOWCASE if j == 0 else self._pick(rng, set())
                debtors = [self._ids[i]]
                if j > 0 and self._spouse[i] >= 0 and rng.random() < 0.3:
                    debtors.append(self._ids[self._spouse[i]])  # a joint marital debt
                court = wp.REGIONS[self._region[i]].court
            else:
                c = rng.randrange(len(self._codes))
                debtors = [self._codes[c]]
                if rng.random() < 0.5:
                    debtors.append(self._ids[self._members[c][0]])  # personal guarantee
                court = wp.REGIONS[self._company_region[c]].court
            year = rng.randint(AS_OF.year - 3, AS_OF.year)
            filed = day(rng, date(year, 1, 1), min(date(year, 12, 31), AS_OF))
            number = wp.case_number(court, year, rng.randint(1, 9999))
            while number in numbers:
                number = wp.case_number(court, year, rng.randint(1, 9999))
            numbers.add(number)
            amount = _money(math.exp(rng.uniform(math.log(20_000), math.log(5_000_000))))
            out.append(
                CaseRecord(number, court.name, self._applicant(rng, court), amount, debtors, filed)
            )
        return out

    def _applicant(self, rng: random.Random, court: wp.Court) -> str:
        x = rng.random()
        if x < 0.4:
            city = next(r for r in wp.REGIONS if r.court.code[:3] == court.code[:3])
            return f"{rng.choice(wp.BANKS)}股份有限公司{city.city_short}分行"
        if x < 0.7:
            return self._company_at(rng.randrange(len(self._codes))).name
        return rng.choice(self._pools.male_names + self._pools.female_names)

    # -- mutation hooks -----------------------------------------------------------------------

    def add_property(self, record: PropertyRecord) -> None:
        """Register ``record``, replacing any property with the same certificate number."""
        cert = record.certificate_no
        if (k := self._generated_property(cert)) is not None:
            self._property_memo[k] = record
        self._added_properties[cert] = record
        for owner in record.owner_ids:
            certs = self._added_property_owners.setdefault(owner, [])
            if cert not in certs:
                certs.append(cert)

    def add_exit_ban(self, record: ExitBanRecord) -> None:
        """Record an exit ban on a resident of the world (``ValueError`` for anyone else)."""
        i = self._index.get(record.person_id)
        if i is None:
            raise ValueError("exit bans are recorded against residents of the world")
        self._bans_at(i).append(record)
        self._added_bans[record.ban_id] = record

    def added_exit_ban(self, ban_id: str) -> ExitBanRecord | None:
        """An exit ban recorded through ``add_exit_ban`` (a court's order), by its id."""
        return self._added_bans.get(ban_id)

    def add_vehicle(self, record: VehicleRecord) -> None:
        """Register ``record``, replacing any vehicle with the same VIN."""
        if (k := self._generated_vehicle(record.vin)) is not None:
            self._vehicle_memo[k] = record
        self._added_vehicles[record.vin] = record
        vins = self._added_vehicle_owners.setdefault(record.owner_id, [])
        if record.vin not in vins:
            vins.append(record.vin)

    def _generated_property(self, cert: str) -> int | None:
        match = _CERT_SERIAL.search(cert)
        if match is None:
            return None
        k = _unscramble(int(match.group(1)), self._cert_offset, CERT_SPACE)
        if k >= self._cprops[-1] or self._property_at(k).certificate_no != cert:
            return None
        return k

    def _generated_vehicle(self, vin: str) -> int | None:
        if len(vin) != 17 or vin[10] not in wp.VIN_CHARS or not vin[11:].isdigit():
            return None
        s = wp.VIN_CHARS.index(vin[10]) * 10**6 + int(vin[11:])
        k = _unscramble(s, self._vin_offset, VIN_SPACE)
        if k >= self._cvehs[-1] or self._vehicle_at(k).vin != vin:
            return None
        return k


def _unscramble(value: int, offset: int, space: int) -> int:
    return ((value - offset) * pow(MULT, -1, space)) % space


def _dedupe_owned(
    found: list[_R], owner: str, key: Callable[[_R], str], owners: Callable[[_R], list[str]]
) -> list[_R]:
    """``found`` without duplicates or records that no longer list ``owner``.

    A replaced or re-registered record may have dropped the owner its index slot had.
    """
    seen: set[str] = set()
    out: list[_R] = []
    for rec in found:
        if key(rec) not in seen and owner in owners(rec):
            seen.add(key(rec))
            out.append(rec)
    return out
