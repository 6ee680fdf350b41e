"""The screening index: who is on the court's lists right now, answered from memory.

Joint-punishment agencies (airlines, rail, banks, registries) screen people against the
dishonest-debtor list and the consumption and exit bans. The answer must follow the
court's restrictions table the moment a restriction is imposed or lifted, and must be
fast (10,000 ids per call, 1,000,000 listed entries). So the index is a dict from debtor
id to the tuple of that debtor's in-force measures, loaded once from the store at
start-up and kept current by the store itself: ``ScreeningIndex`` is a
``RestrictionListener`` that the store calls, synchronously, right after each committed
restriction write — no request can run between the commit and the index update.

Scope: the court's own restrictions table, including the EXIT_BAN rows the court imposed.
Exit bans that public security holds on its side are agency data, never copied here.

Persons behind an organisation (its legal representative, executives and controlling
shareholders, ``gateway.domain.org_persons``) screen with the organisation's consumption bans,
marked as applying through it (法释〔2015〕17号 art. 3 ¶2). Their snapshots come from
``OrganizationPersons``, whose listener this index is too. A listing of the organisation
is not theirs: it names the legal representative but does not list them (法释〔2017〕7号
art. 6); the consumption ban that must follow a listing reaches them.

Per-process: with several gateway processes, a write made in one reaches the others'
indexes only by ``reload`` (or, later, the store's change fan-out).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final, NamedTuple, cast

from sqlalchemy import String, or_, select, type_coerce

from gateway.clock import court_date
from gateway.domain.case_values import RestrictionKind, RestrictionStatus
from gateway.domain.org_persons import BehindPerson
from gateway.store.org_persons import OrganizationPersons
from gateway.store.tables import restrictions

if TYPE_CHECKING:
    from gateway.store.cases import RestrictionRow, Store

__all__ = ["ListedMeasure", "ScreeningIndex", "court_today"]

_LOAD_BATCH = 50_000
# Calling the enum costs microseconds per row; a dict lookup (by value or member) does not.
_KINDS: dict[str, RestrictionKind] = {str(k): k for k in RestrictionKind}


def court_today() -> date:
    """Today's court date (``court_date``), for deciding whether ``until`` passed."""
    return court_date(datetime.now(UTC))


class ListedMeasure(NamedTuple):
    """One in-force restriction of a debtor, as a screening answer carries it.

    Only ``measure``, ``court``, ``case_number``, ``since`` and, for a measure on an
    organisation that reaches the person, ``through`` and ``role`` are ever shown to an
    agency (``public()``); ``until`` and ``restriction_id`` are the index's bookkeeping.
    """

    measure: RestrictionKind
    court: str
    case_number: str
    since: date
    until: date | None
    restriction_id: str
    through: str | None = None  # the organisation's credit code
    role: str | None = None  # the person's capacity in it (BehindRole)

    def in_force(self, today: date) -> bool:
        """True unless the restriction's end date has passed."""
        return self.until is None or self.until >= today

    def public(self) -> dict[str, object]:
        """The measure as a screening response shows it: nothing about the person."""
        shown: dict[str, object] = {
            "measure": str(self.measure),
            "court": self.court,
            "caseNumber": self.case_number,
            "since": self.since.isoformat(),
        }
        if self.through is not None:
            shown["through"] = {"organization": self.through, "role": self.role}
        return shown


# Inside the table a measure is a plain tuple in ListedMeasure's field order: the garbage
# collector stops tracking exact tuples of atoms, but never a NamedTuple, and a million
# tracked objects would make every full collection walk them all. A debtor's slot is one
# entry, or a sorted tuple of entries when there are several (most debtors have one).
_Entry = tuple[RestrictionKind, str, str, date, date | None, str]
_Slot = _Entry | tuple[_Entry, ...]
_CASE: Final = 2
_SINCE: Final = 3
_RID: Final = 5


def _entries(slot: _Slot) -> tuple[_Entry, ...]:
    if type(slot[0]) is tuple:
        return slot
    return (cast(_Entry, slot),)


def _order(entry: _Entry) -> tuple[date, str, str]:
    return entry[_SINCE], entry[_CASE], entry[_RID]


def _put(table: dict[str, _Slot], debtor_id: str, entry: _Entry) -> None:
    slot = table.get(debtor_id)
    if slot is None:
        table[debtor_id] = entry
        return
    others = [e for e in _entries(slot) if e[_RID] != entry[_RID]]
    table[debtor_id] = tuple(sorted((*others, entry), key=_order)) if others else entry


class ScreeningIndex:
    """Debtor id → in-force measures; a ``RestrictionListener`` of the store."""

    def __init__(self) -> None:
        self._by_debtor: dict[str, _Slot] = {}
        # Courts and dates repeat across hundreds of thousands of rows: share one object each.
        # Dates are keyed by what the driver gave (an ISO string from SQLite, a date from
        # PostgreSQL), so each distinct day is parsed once.
        self._shared_courts: dict[str, str] = {}
        self._shared_dates: dict[str | date, date] = {}
        # Changes that arrive while a reload streams the table, replayed on its result.
        self._pending: list[RestrictionRow] | None = None
        # Person id -> ((organisation, role), ...), and each organisation's snapshot.
        self._behind: dict[str, tuple[tuple[str, str], ...]] = {}
        self._persons_of: dict[str, tuple[BehindPerson, ...]] = {}
        self._pending_persons: list[tuple[str, tuple[BehindPerson, ...]]] | None = None
        # Restrictions seen lifted. Lifting is final, so an active version of one arriving
        # later is a read from before the lift (a sync message that raced the lift's own
        # notice) and must not list the debtor again.
        self._lifted: set[str] = set()

    def __len__(self) -> int:
        """The number of listed debtors."""
        return len(self._by_debtor)

    @property
    def entries(self) -> int:
        """The number of listed measures (a debtor may have several)."""
        return sum(len(_entries(slot)) for slot in self._by_debtor.values())

    # --- keeping it current -------------------------------------------------------------

    def on_restriction_changed(self, row: RestrictionRow) -> None:
        """The store's hook: called after every committed restriction write."""
        if self._pending is not None:
            self._pending.append(row)
        self.apply(row)

    def apply(self, row: RestrictionRow, today: date | None = None) -> None:
        """Make the index agree with ``row``: listed if active and in force, else not."""
        day = today or court_today()
        if row.status != RestrictionStatus.ACTIVE:
            self._lifted.add(row.id)
            self.remove(row.debtor_id, row.id)
        elif row.id in self._lifted:
            return
        elif row.until is None or row.until >= day:
            self.add(row)
        else:
            self.remove(row.debtor_id, row.id)

    def add(self, row: RestrictionRow) -> None:
        """List ``row`` (replacing an earlier version of the same restriction)."""
        entry = self._entry(row.id, row.kind, row.case_number, row.court, row.since, row.until)
        _put(self._by_debtor, row.debtor_id, entry)

    def remove(self, debtor_id: str, restriction_id: str) -> None:
        """Unlist one restriction; unknown ids are ignored (removal is idempotent)."""
        slot = self._by_debtor.get(debtor_id)
        if slot is None:
            return
        current = _entries(slot)
        kept = tuple(e for e in current if e[_RID] != restriction_id)
        if not kept:
            del self._by_debtor[debtor_id]
        elif len(kept) != len(current):
            self._by_debtor[debtor_id] = kept if len(kept) > 1 else kept[0]

    def on_persons_changed(self, organization_id: str, persons: tuple[BehindPerson, ...]) -> None:
        """``OrganizationPersons``' hook: the persons now behind ``organization_id``."""
        if self._pending_persons is not None:
            self._pending_persons.append((organization_id, persons))
        self._set_persons(organization_id, persons)

    def _set_persons(self, organization_id: str, persons: tuple[BehindPerson, ...]) -> None:
        for old in self._persons_of.pop(organization_id, ()):
            kept = tuple(b for b in self._behind.get(old.person_id, ()) if b[0] != organization_id)
            if kept:
                self._behind[old.person_id] = kept
            else:
                self._behind.pop(old.person_id, None)
        if persons:
            self._persons_of[organization_id] = persons
        for person in persons:
            link = (organization_id, str(person.role))
            self._behind[person.person_id] = (*self._behind.get(person.person_id, ()), link)

    def lift(self, row: RestrictionRow) -> None:
        """Unlist a lifted restriction (``apply`` does the same for a LIFTED row)."""
        self.remove(row.debtor_id, row.id)

    def _entry(  # noqa: PLR0917 - the columns of one row, in the table's order
        self,
        rid: str,
        kind: str,
        case_number: str,
        court: str,
        since: str | date,
        until: str | date | None,
    ) -> _Entry:
        return (
            _KINDS[kind],
            self._shared_courts.setdefault(court, court),
            case_number,
            self._date(since),
            None if until is None else self._date(until),
            rid,
        )

    def _date(self, value: str | date) -> date:
        shared = self._shared_dates.get(value)
        if shared is None:
            shared = value if isinstance(value, date) else date.fromisoformat(value)
            self._shared_dates[value] = shared
        return shared

    # --- loading ------------------------------------------------------------------------

    @classmethod
    async def load(cls, store: Store, today: date | None = None) -> ScreeningIndex:
        """A new index holding every active, unexpired restriction in ``store``."""
        index = cls()
        await index.reload(store, today)
        return index

    async def reload(self, store: Store, today: date | None = None) -> int:
        """Rebuild from the store; returns the number of measures loaded.

        Writes committed while the table streams reach ``on_restriction_changed``; they
        are replayed onto the new table before it replaces the old one, so none is lost
        whichever side of the read snapshot they fell on (each carries its row's whole
        state, so replaying one twice is harmless).
        """
        day = today or court_today()
        table: dict[str, _Slot] = {}
        loaded = 0
        query = (
            select(
                restrictions.c.debtor_id,
                restrictions.c.id,
                restrictions.c.kind,
                restrictions.c.case_number,
                restrictions.c.court,
                # Raw from the driver: SQLAlchemy's per-row date parsing costs more than
                # the rest of the load; _date parses each distinct day once instead.
                type_coerce(restrictions.c.since, String),
                type_coerce(restrictions.c.until, String),
            )
            .where(restrictions.c.status == str(RestrictionStatus.ACTIVE))
            .where(or_(restrictions.c.until.is_(None), restrictions.c.until >= day))
            .execution_options(yield_per=_LOAD_BATCH)
        )
        entry = self._entry
        self._pending = []
        self._pending_persons = []
        try:
            async with store.engine.connect() as conn:
                result = await conn.stream(query)
                async for batch in result.partitions():
                    for debtor, rid, kind, case_number, court, since, until in batch:
                        made = entry(rid, kind, case_number, court, since, until)
                        if debtor in table:
                            _put(table, debtor, made)
                        else:
                            table[debtor] = made
                    loaded += len(batch)
            snapshots = await OrganizationPersons(store.engine).everything()
            pending = self._pending
            pending_persons = self._pending_persons
        finally:
            self._pending = None
            self._pending_persons = None
        self._by_debtor = table
        self._behind, self._persons_of = {}, {}
        for organization, persons in (*snapshots.items(), *pending_persons):
            self._set_persons(organization, persons)
        for row in pending:
            self.apply(row, day)
        return loaded

    # --- answering ----------------------------------------------------------------------

    def lookup(self, debtor_id: str, today: date | None = None) -> tuple[ListedMeasure, ...]:
        """The in-force measures of a normalised debtor id (empty if not listed): its own,
        then the consumption bans of organisations it stands behind."""
        slot = self._by_debtor.get(debtor_id)
        behind = self._behind.get(debtor_id)
        if slot is None and behind is None:
            return ()
        day = today or court_today()
        found = []
        for entry in () if slot is None else _entries(slot):
            until = entry[4]
            if until is None or until >= day:
                found.append(ListedMeasure(*entry))
        for organization, role in behind or ():
            org_slot = self._by_debtor.get(organization)
            for entry in () if org_slot is None else _entries(org_slot):
                until = entry[4]
                if entry[0] is RestrictionKind.HIGH_CONSUMPTION_BAN and (
                    until is None or until >= day
                ):
                    found.append(ListedMeasure(*entry, through=organization, role=role))
        return tuple(found)
