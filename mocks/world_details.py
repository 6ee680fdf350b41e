"""The synthetic world's records, each made on first access from the seed and its index.

The population's skeleton (who exists, who owns what) is ``mocks.world_skeleton``; the lookups
and the records the mocks add at run time are ``mocks.world``.
"""

from __future__ import annotations

import random
import zlib
from array import array
from bisect import bisect_right
from datetime import date, timedelta
from decimal import Decimal

from mocks import world_pools as wp
from mocks.records import (
    CompanyRecord,
    ControlRecord,
    ExitBanRecord,
    MarriageRecord,
    MortgageRecord,
    PersonRecord,
    PropertyRecord,
    RoleRecord,
    VehicleRecord,
)
from mocks.world_skeleton import (
    CERT_SPACE,
    DIVORCED,
    MARRIED,
    MULT,
    PERSON_STATUSES,
    SHOWCASE,
    SINGLE,
    VIN_SPACE,
    YEAR,
    Skeleton,
    day,
    plus_years,
    weighted_region,
)

__all__ = ["Details"]

AS_OF = wp.AS_OF

_CENT = Decimal("0.01")
_RATIO = Decimal("0.0001")
_CAPITALS = (100_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 50_000_000)


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


class Details(Skeleton):
    """Record makers over the skeleton, memoised: the same index gives the same record."""

    def __init__(self, seed: int = 7, people: int = 1000) -> None:
        super().__init__(seed, people)
        self._pools = wp.pools()
        self._person_memo: dict[int, PersonRecord] = {}
        self._marriage_memo: dict[int, MarriageRecord] = {}
        self._company_memo: dict[int, CompanyRecord] = {}
        self._roles_memo: dict[int, list[RoleRecord]] = {}
        self._property_memo: dict[int, PropertyRecord] = {}
        self._vehicle_memo: dict[int, VehicleRecord] = {}
        self._ban_memo: dict[int, list[ExitBanRecord]] = {}

    # -- details, generated on first access -------------------------------------------------

    def _rng(self, kind: str, index: int) -> random.Random:
        return random.Random(f"{self.seed}:{kind}:{index}")

    def _address(self, rng: random.Random, region: wp.Region, use: str) -> str:
        street = f"{region.place}{rng.choice(self._pools.streets)}{rng.randint(1, 399)}号"
        estate = rng.choice(self._pools.estates)
        if use == "住宅":
            room = f"{rng.randint(1, 30)}{rng.randint(1, 4):02d}"
            return f"{street}{estate}{rng.randint(1, 40)}栋{rng.randint(1, 4)}单元{room}室"
        if use == "工业":
            return f"{street}{region.city_short}工业园{rng.randint(1, 20)}号厂房"
        return f"{street}{estate}{rng.randint(1, 30)}层{rng.randint(1, 40):02d}号"

    def _control(
        self, rng: random.Random, first: date, years: int, queue: int = 0, avoid: str = ""
    ) -> ControlRecord:
        court = rng.choice(wp.COURTS)
        while court.code == avoid:
            court = rng.choice(wp.COURTS)
        since = day(rng, first, AS_OF - timedelta(days=5))
        number = wp.case_number(court, since.year - (rng.random() < 0.3), rng.randint(1, 4000))
        # The claim is derived from the case number, not drawn: the RNG's sequence (and so
        # every later record) stays what it was before claims were given.
        claim = Decimal(50_000 + zlib.crc32(number.encode()) % 950_000)
        return ControlRecord(court.name, number, since, plus_years(since, years), queue, claim)

    def _person_at(self, i: int) -> PersonRecord:
        if (rec := self._person_memo.get(i)) is None:
            rng = self._rng("person", i)
            pool = self._pools.male_names if self._male[i] else self._pools.female_names
            address = self._address(rng, wp.REGIONS[self._region[i]], "住宅")
            rec = PersonRecord(
                id=self._ids[i],
                name=rng.choice(pool),
                sex="M" if self._male[i] else "F",
                birth_date=date.fromordinal(self._birth[i]),
                address=address,
                status=PERSON_STATUSES[self._status[i]],
            )
            self._person_memo[i] = rec
        return rec

    def _marriage_at(self, i: int) -> MarriageRecord:
        if (rec := self._marriage_memo.get(i)) is not None:
            return rec
        status, pid = self._marital[i], self._ids[i]
        if status == SINGLE:
            rec = MarriageRecord(pid, "SINGLE", None, None, None, None)
        elif status == MARRIED:
            s = self._spouse[i]
            first = min(i, s)  # both sides draw from the couple's one RNG
            rng = self._rng("marriage", first)
            man, woman = (i, s) if self._male[i] else (s, i)
            earliest = max(self._birth[man] + 22 * YEAR, self._birth[woman] + 20 * YEAR)
            start = date.fromordinal(int(earliest) + 1)
            registered = day(rng, start, min(plus_years(start, 12), AS_OF))
            office = wp.REGIONS[self._region[first]].marriage_office
            name = self._person_at(s).name
            rec = MarriageRecord(pid, "MARRIED", self._ids[s], name, registered, office)
        else:
            # The former or late spouse is not in the world: a name, no id.
            rng = self._rng("marriage", i)
            pool = self._pools.female_names if self._male[i] else self._pools.male_names
            start = date.fromordinal(self._birth[i] + int(23 * YEAR))
            registered = day(rng, start, AS_OF - timedelta(days=30))
            office = wp.REGIONS[self._region[i]].marriage_office
            label = "DIVORCED" if status == DIVORCED else "WIDOWED"
            rec = MarriageRecord(pid, label, None, rng.choice(pool), registered, office)
        self._marriage_memo[i] = rec
        return rec

    def _owner_of(self, k: int, starts: array[int], cstarts: array[int]) -> tuple[int, int]:
        """(person index, -1) or (-1, company index) owning generated asset ``k``."""
        if k < starts[-1]:
            return bisect_right(starts, k, 0, self.people) - 1, -1
        return -1, bisect_right(cstarts, k, 0, len(self._codes)) - 1

    def _property_at(self, k: int) -> PropertyRecord:
        if (rec := self._property_memo.get(k)) is not None:
            return rec
        rng = self._rng("property", k)
        person, company = self._owner_of(k, self._props, self._cprops)
        home = self._region[person] if person >= 0 else self._company_region[company]
        region = wp.REGIONS[home if rng.random() < 0.8 else weighted_region(rng)]
        showcase = person == SHOWCASE and k == self._props[SHOWCASE]
        if person >= 0:
            use = rng.choices(("住宅", "商业", "办公"), weights=(85, 10, 5))[0]
        else:
            use = rng.choices(("办公", "商业", "工业"), weights=(40, 30, 30))[0]
        use = "住宅" if showcase else use
        low, high, factor = {
            "住宅": (55, 180, 1.0),
            "商业": (30, 300, 1.3),
            "办公": (60, 500, 0.9),
            "工业": (500, 5000, 0.08),
        }[use]
        area = rng.uniform(low, high)
        value = area * region.price_sqm * factor * rng.uniform(0.8, 1.2)
        if use == "住宅":
            value = min(max(value, 500_000.0), 5_000_000.0)
        bought = day(rng, date(2005, 1, 1), AS_OF - timedelta(days=60))
        place = region.city if region.city != region.province else region.district
        serial = (k * MULT + self._cert_offset) % CERT_SPACE
        owners = [self._ids[person] if person >= 0 else self._codes[company]]
        spouse = self._spouse[person] if person >= 0 else -1
        if spouse >= 0 and (rng.random() < 0.5 or showcase):
            owners.append(self._ids[spouse])
        rec = PropertyRecord(
            certificate_no=f"{region.abbr}({bought.year}){place}不动产权第{serial:07d}号",
            owner_ids=owners,
            address=self._address(rng, region, use),
            area_sqm=None if rng.random() < 0.02 else _money(area),
            use=None if rng.random() < 0.01 else use,
            assessed_value=None if rng.random() < 0.05 else _money(round(value, -2)),
        )
        if rng.random() < 0.3 or showcase:
            rec.mortgages.append(self._mortgage(rng, region, value, bought))
            if rng.random() < 0.08:
                rec.mortgages.append(self._mortgage(rng, region, value * 0.3, bought))
        if rng.random() < 0.08 or showcase:
            # A showcase seizure by the demo case's own court would not be "another court".
            avoid = wp.REGIONS[self._region[SHOWCASE]].court.code if showcase else ""
            first = AS_OF - timedelta(days=3 * 365 - 30)  # still in force at AS_OF
            rec.seizures.append(self._control(rng, first, 3, avoid=avoid))
            queued = 1 if showcase else rng.choice((0, 0, 1, 2))
            for position in range(1, queued + 1):
                since = rec.seizures[-1].since
                rec.seizures.append(self._control(rng, since, 3, position, avoid))
        self._property_memo[k] = rec
        return rec

    def _mortgage(
        self, rng: random.Random, region: wp.Region, value: float, after: date
    ) -> MortgageRecord:
        if rng.random() < 0.15:
            creditor = f"{region.city}住房公积金管理中心"
        else:
            creditor = f"{rng.choice(wp.BANKS)}{region.city_short}分行"
        amount = _money(round(value * rng.uniform(0.3, 0.7), -3))
        registered = day(rng, after, min(after + timedelta(days=400), AS_OF))
        return MortgageRecord(creditor, amount, registered)

    def _vehicle_at(self, k: int) -> VehicleRecord:
        if (rec := self._vehicle_memo.get(k)) is not None:
            return rec
        rng = self._rng("vehicle", k)
        person, company = self._owner_of(k, self._vehs, self._cvehs)
        home = self._region[person] if person >= 0 else self._company_region[company]
        region = wp.REGIONS[home if rng.random() < 0.85 else weighted_region(rng)]
        models = [m for m in wp.VEHICLE_MODELS if person < 0 or not m.commercial]
        model = rng.choice(models)
        registered = day(rng, date(2010, 1, 1), AS_OF - timedelta(days=30))
        s = (k * MULT + self._vin_offset) % VIN_SPACE
        head = model.wmi + "".join(rng.choice(wp.VIN_CHARS) for _ in range(5))
        plant, number = divmod(s, 10**6)
        tail = f"{wp.vin_year_code(registered.year)}{wp.VIN_CHARS[plant]}{number:06d}"
        plate = f"{(k * MULT + self._plate_offset) % 10**5:05d}"
        if k >= 10**5:  # beyond 100,000 plates a letter keeps them distinct
            plate = "ABCDEFGHJKLMNPQRSTUVWXYZ"[(k // 10**5 - 1) % 24] + plate[1:]
        age = AS_OF.year - registered.year
        showcase = person == SHOWCASE and k == self._vehs[SHOWCASE]
        scrapped = age > 10 and rng.random() < 0.25 and not showcase
        value = model.price * 0.85**age * rng.uniform(0.9, 1.1)
        value = min(max(value, 30_000.0), 500_000.0)
        rec = VehicleRecord(
            owner_id=self._ids[person] if person >= 0 else self._codes[company],
            plate=f"{region.abbr}{rng.choice(region.plate_letters)}{plate}",
            vin=head + wp.vin_check_digit(f"{head}0{tail}") + tail,
            model=model.name,
            registered_on=registered,
            status="SCRAPPED" if scrapped else "NORMAL",
            estimated_value=None if scrapped or rng.random() < 0.03 else _money(round(value, -2)),
        )
        if not scrapped and not showcase and rng.random() < 0.06:
            rec.seizures.append(self._control(rng, AS_OF - timedelta(days=2 * 365 - 30), 2))
            rec.status = "SEIZED"
        self._vehicle_memo[k] = rec
        return rec

    def _company_at(self, c: int) -> CompanyRecord:
        if (rec := self._company_memo.get(c)) is None:
            rng = self._rng("company", c)
            region = wp.REGIONS[self._company_region[c]]
            trade = rng.choice(self._pools.trade_names)
            name = f"{region.city_short}{trade}{rng.choice(self._pools.industries)}有限公司"
            status = rng.choices(("ACTIVE", "REVOKED", "DEREGISTERED"), weights=(90, 6, 4))[0]
            legal = self._members[c][0]
            rec = CompanyRecord(
                code=self._codes[c],
                name=name,
                status="ACTIVE" if c == 0 else status,
                legal_representative_id=self._ids[legal],
                legal_representative=self._person_at(legal).name,
                registered_capital=_money(rng.choice(_CAPITALS)),
                address=self._address(rng, region, "办公"),
                established_on=day(rng, date(2000, 1, 1), AS_OF - timedelta(days=90)),
            )
            self._company_memo[c] = rec
        return rec

    def _roles_at(self, c: int) -> list[RoleRecord]:
        if (roles := self._roles_memo.get(c)) is not None:
            return roles
        rng = self._rng("roles", c)
        legal, holders, execs = self._members[c]
        company = self._company_at(c)
        code, capital = company.code, company.registered_capital
        weights = [rng.uniform(1.0, 10.0) for _ in holders]
        ratios = [Decimal(w / sum(weights)).quantize(_RATIO) for w in weights]
        ratios[0] += Decimal(1) - sum(ratios)  # rounding remainder: the sum is exactly 1
        roles = [RoleRecord(self._ids[legal], code, "LEGAL_REPRESENTATIVE")]
        for holder, ratio in zip(holders, ratios, strict=True):
            subscribed = (capital * ratio).quantize(_CENT)
            worth = 0.2 if company.status != "ACTIVE" else rng.uniform(0.4, 3.0)
            stake = RoleRecord(
                person_id=self._ids[holder],
                company_code=code,
                role="SHAREHOLDER",
                share_ratio=ratio,
                subscribed_capital=subscribed,
                estimated_value=_money(float(subscribed) * worth),
            )
            if rng.random() < 0.06:
                first = AS_OF - timedelta(days=3 * 365 - 30)
                stake.freezes.append(self._control(rng, first, 3))
            roles.append(stake)
        roles += [RoleRecord(self._ids[e], code, "EXECUTIVE") for e in execs]
        roles.sort(key=lambda r: (r.person_id, r.role))
        self._roles_memo[c] = roles
        return roles

    def _bans_at(self, i: int) -> list[ExitBanRecord]:
        if (bans := self._ban_memo.get(i)) is not None:
            return bans
        bans = []
        if i in self._bans:
            first, count = self._bans[i]
            rng = self._rng("bans", i)
            for j in range(count):
                court = wp.REGIONS[self._region[i]].court
                court = court if rng.random() < 0.6 else rng.choice(wp.COURTS)
                since = day(rng, date(2019, 1, 1), AS_OF - timedelta(days=7))
                number = wp.case_number(court, since.year, rng.randint(1, 4000))
                lifted = rng.random() < 0.3 and not (i == SHOWCASE and j == 0)
                until: date | None = None
                if lifted:
                    until = day(rng, since + timedelta(days=30), AS_OF)
                elif rng.random() < 0.2:
                    until = day(rng, AS_OF + timedelta(days=30), AS_OF + timedelta(days=730))
                status = "LIFTED" if lifted else "ACTIVE"
                ban = ExitBanRecord(
                    f"EB{first + j:08d}", self._ids[i], court.name, number, since, until, status
                )
                bans.append(ban)
        self._ban_memo[i] = bans
        return bans
