"""The eager, cheap part of ``mocks.world``: who exists and who holds how much.

``Skeleton(seed, people)`` draws, in a few sequential passes of seeded RNGs, every resident
id, each marriage pairing, the number of properties, vehicles and exit bans per owner, and
each company's members. It keeps them in flat arrays (a few bytes per person) so that a
100,000-person world builds in about a second; ``mocks.world.World`` adds the details.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right
from datetime import date

from mocks import world_pools as wp
from mocks.world_pools import AS_OF

__all__ = [
    "CERT_SPACE",
    "DIVORCED",
    "MARRIED",
    "MULT",
    "PERSON_STATUSES",
    "SHOWCASE",
    "SINGLE",
    "VIN_SPACE",
    "WIDOWED",
    "YEAR",
    "Skeleton",
    "day",
    "plus_years",
    "weighted_region",
]

SINGLE, MARRIED, DIVORCED, WIDOWED = range(4)  # marital status codes
PERSON_STATUSES = ("NORMAL", "DECEASED", "EMIGRATED")
SHOWCASE = 0  # forced to have every kind of record; index 1 is forced to be the spouse
BIRTH_FIRST = date(1955, 1, 1).toordinal()
BIRTH_LAST = date(2004, 12, 31).toordinal()
YEAR = 365.25  # days; ages and legal marriage ages are computed on ordinals
# A prime coprime to every modulus scrambled below, so each map is a bijection; large, so
# that neighbouring indices get unrelated-looking serials.
MULT = 2_654_435_761
CERT_SPACE = 10**7
VIN_SPACE = len(wp.VIN_CHARS) * 10**6
USCC_SPACE = len(wp.USCC_ALPHABET) ** 6


def day(rng: random.Random, first: date, last: date) -> date:
    """A uniformly drawn date from ``first`` to ``last`` (``first`` if ``last`` is earlier)."""
    return date.fromordinal(rng.randint(first.toordinal(), max(first, last).toordinal()))


def plus_years(d: date, years: int) -> date:
    """``d`` moved by whole years; 29 February becomes the 28th."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def weighted_region(rng: random.Random) -> int:
    """An index into ``REGIONS``, drawn by the regions' weights."""
    return bisect_right(wp.REGION_CUM_WEIGHTS, rng.random() * wp.REGION_CUM_WEIGHTS[-1])


class Skeleton:
    """Ids, pairings and counts for ``people`` residents and ``people // 10`` companies.

    Assets are numbered: person ``i`` owns properties ``_props[i]`` up to ``_props[i + 1]``;
    company ``c`` owns ``_cprops[c]`` up to ``_cprops[c + 1]``, numbered after all persons'
    (likewise vehicles). Index 0 is the showcase and index 1 its spouse.
    """

    seed: int
    people: int

    def __init__(self, seed: int, people: int) -> None:
        if people < 10:
            raise ValueError(f"people must be at least 10, got {people}")
        self.seed = seed
        self.people = people
        # The agencies' today: which controls are in force, when a queued one takes effect.
        # Data is generated as of AS_OF; a test may move this on to let controls lapse.
        self.today: date = AS_OF
        offsets = random.Random(f"{seed}:offsets")
        # One offset per kind, so that a certificate, VIN and plate never share digits.
        self._cert_offset, self._vin_offset, self._uscc_offset, self._plate_offset = (
            offsets.randrange(CERT_SPACE) for _ in range(4)
        )
        self._build_people()
        self._build_marriages()
        self._build_holdings()
        self._build_companies()

    def _build_people(self) -> None:
        rng = random.Random(f"{self.seed}:people")
        n = self.people
        self._male = bytearray(n)
        self._region = bytearray(n)
        self._birth = array("i", [0]) * n
        ids: list[str] = []
        index: dict[str, int] = {}
        for i in range(n):
            male = rng.random() < 0.5
            born = rng.randint(BIRTH_FIRST, BIRTH_LAST)
            region = weighted_region(rng)
            if i <= 1:  # the showcase couple lives in the demo court's district
                male, region = i == 0, 0
                born = date(1985, 5, 16).toordinal() if male else date(1987, 9, 3).toordinal()
            seq = rng.randrange(1, 500) * 2 - male  # GB 11643: odd for men
            birth = date.fromordinal(born)
            code = wp.id_region_code(wp.REGIONS[region], birth.year)
            pid = wp.resident_id(code, birth, seq)
            while pid in index:
                seq = (seq + 2) % 1000  # keeps the parity, hence the sex
                pid = wp.resident_id(code, birth, seq)
            ids.append(pid)
            index[pid] = i
            self._male[i], self._region[i], self._birth[i] = male, region, born
        self._ids = tuple(ids)
        self._index = index

    def _build_marriages(self) -> None:
        rng = random.Random(f"{self.seed}:marriages")
        n = self.people
        self._marital = bytearray(n)
        self._spouse = array("i", [-1]) * n
        self._status = bytearray(n)
        today = AS_OF.toordinal()
        men: list[int] = []
        women: list[int] = []
        for i in range(2, n):
            age = (today - self._birth[i]) / YEAR
            x = rng.random()
            if age < (23 if self._male[i] else 21):  # legal marriage age is 22 / 20
                continue
            if x < 0.55:
                (men if self._male[i] else women).append(i)
            elif x < 0.65:
                self._marital[i] = DIVORCED
            elif x < 0.72 and age >= 55:
                self._marital[i] = WIDOWED
        # Pairing in birth order gives couples of similar age; leftovers stay single.
        men.sort(key=self._birth.__getitem__)
        women.sort(key=self._birth.__getitem__)
        for a, b in [(SHOWCASE, SHOWCASE + 1), *zip(men, women, strict=False)]:
            self._marital[a] = self._marital[b] = MARRIED
            self._spouse[a], self._spouse[b] = b, a
        for i in range(2, n):
            x = rng.random()
            # The dead and the emigrated are kept out of marriages so both sides agree.
            if self._marital[i] != MARRIED and x < 0.015:
                self._status[i] = 1 if x < 0.01 else 2

    def _build_holdings(self) -> None:
        rng = random.Random(f"{self.seed}:holdings")
        n = self.people
        self._props = array("i", [0]) * (n + 1)
        self._vehs = array("i", [0]) * (n + 1)
        self._bans: dict[int, tuple[int, int]] = {}  # person -> (first ban serial, count)
        p = v = b = 0
        for i in range(n):
            props = 1 + (rng.random() < 0.35) + (rng.random() < 0.15)
            props *= rng.random() < 0.33  # co-owned flats lift the share of owners to ~40%
            vehs = (1 + (rng.random() < 0.2)) * (rng.random() < 0.35)
            bans = (1 + (rng.random() < 0.1)) * (rng.random() < 0.03)
            if i == SHOWCASE:
                props, vehs, bans = max(props, 2), max(vehs, 1), max(bans, 1)
            self._props[i], self._vehs[i] = p, v
            if bans:
                self._bans[i] = (b, bans)
            p, v, b = p + props, v + vehs, b + bans
        self._props[n], self._vehs[n] = p, v

    def _build_companies(self) -> None:
        rng = random.Random(f"{self.seed}:companies")
        m = max(2, self.people // 10)
        self._company_region = bytearray(m)
        self._members: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = []
        self._roles_by_person: dict[int, list[int]] = {}
        self._cprops = array("i", [self._props[-1]]) * (m + 1)
        self._cvehs = array("i", [self._vehs[-1]]) * (m + 1)
        codes: list[str] = []
        for c in range(m):
            region = weighted_region(rng)
            self._company_region[c] = region
            serial = (c * MULT + self._uscc_offset) % USCC_SPACE
            codes.append(wp.credit_code(wp.REGIONS[region].code, serial))
            taken = {SHOWCASE} if c == 0 else set()
            legal = self._pick(rng, taken)
            want = rng.choices((1, 2, 3, 4), weights=(30, 35, 25, 10))[0]
            holders = [legal] if rng.random() < 0.7 else []
            if c == 0:  # the showcase is a shareholder, not the legal representative
                holders.insert(0, SHOWCASE)
            while len(holders) < want:
                holders.append(self._pick(rng, taken))
            execs = tuple(self._pick(rng, taken) for _ in range(rng.choice((0, 0, 1, 2))))
            self._members.append((legal, tuple(holders), execs))
            for person in {legal, *holders, *execs}:
                self._roles_by_person.setdefault(person, []).append(c)
            props = (1 + (rng.random() < 0.4)) * (rng.random() < 0.15)
            vehs = (1 + (rng.random() < 0.5) + (rng.random() < 0.3)) * (rng.random() < 0.2)
            self._cprops[c + 1] = self._cprops[c] + props
            self._cvehs[c + 1] = self._cvehs[c] + vehs
        self._codes = tuple(codes)
        self._company_index = {code: c for c, code in enumerate(codes)}

    def _pick(self, rng: random.Random, taken: set[int]) -> int:
        """A living resident not in ``taken`` (which it then joins)."""
        for _ in range(64):
            i = rng.randrange(self.people)
            if i not in taken and self._status[i] == 0:
                break
        else:  # tiny worlds only; people >= 10 guarantees a free index
            i = next(i for i in range(self.people) if i not in taken)
        taken.add(i)
        return i
