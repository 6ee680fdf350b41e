"""Restrictions the court imposes itself: consumption bans and the dishonest-debtor list.

A high-consumption ban (限制消费令) and a dishonest-list entry (失信名单) are decisions of the
court. A judge of the case's court (or the court's own system) makes the written decision,
with its document number; it takes effect only when the court's president signs it
(``PRESIDENT_SIGNS``), and a listing brings the consumption ban the law makes mandatory with
it. Exit bans are carried out by public security and go through assistance requests instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import uuid4

from sqlalchemy import select
from stdnum.cn import ric

from connectors.domain import DebtorKind
from gateway.assistance.effects import Actor, AssistanceEffects
from gateway.assistance.rules import clean_text, is_judge_of
from gateway.clock import Clock
from gateway.domain.case_types import check_measure_case
from gateway.domain.case_values import (
    CaseStatus,
    DecisionStatus,
    RestrictionKind,
    RestrictionStatus,
)
from gateway.domain.dishonest import (
    DishonestGround,
    ExtensionBasis,
    Listing,
    check_dishonest_listing,
    check_listing_allowed,
)
from gateway.domain.overseizure import controlled_value
from gateway.domain.parties import check_parties
from gateway.errors import Conflict, Forbidden, InvalidInput, NotFound
from gateway.store.assistance import AssistanceStore
from gateway.store.cases import CaseRow, RestrictionRow, Store
from gateway.store.decisions import DecisionIn, DecisionRow, DecisionStore
from gateway.store.tables import restrictions

__all__ = ["COURT_SIDE", "FOLLOWS_LISTING", "RestrictionService", "RestrictionSpec"]

COURT_SIDE = frozenset({RestrictionKind.HIGH_CONSUMPTION_BAN, RestrictionKind.DISHONEST_LIST})
FOLLOWS_LISTING = "FOLLOWS_DISHONEST_LISTING"  # the ground of the ban a listing brings


@dataclass(frozen=True, slots=True)
class RestrictionSpec:
    """A court-side restriction as the client gave it."""

    debtor_id: str
    debtor_kind: DebtorKind
    kind: RestrictionKind
    grounds: tuple[str, ...]
    document_number: str | None = None
    since: date | None = None
    until: date | None = None
    extension_basis: ExtensionBasis | None = None
    extension_reason: str | None = None


def _may_decide(actor: Actor, case: CaseRow) -> bool:
    return is_judge_of(actor, case) or (
        actor.has_role("court_system") and actor.court == case.court
    )


def may_sign(actor: Actor, case: CaseRow) -> bool:
    """Rule ``PRESIDENT_SIGNS``: the president (院长) of the case's court signs the decision.

    法释〔2017〕7号 art. 5 (the listing's 决定书 "由院长签发") and 法释〔2015〕17号 art. 5 (the
    限制消费令 "由人民法院院长签发"). The president holds the ``president`` role.
    """
    return actor.has_role("president") and actor.court == case.court


def _document(value: str | None) -> str:
    """Rule ``DECISION_DOCUMENT``: a listing or a ban is imposed by a written decision with its
    number (法释〔2017〕7号 art. 5: 决定书; 法释〔2015〕17号 art. 5: 限制消费令)."""
    text = clean_text(value, "input.documentNumber", required=False)
    if text is None:
        raise InvalidInput(
            "input.documentNumber",
            "a listing or a consumption ban needs its written decision's number "
            "(DECISION_DOCUMENT)",
            rule="DECISION_DOCUMENT",
        )
    if len(text) > 100:
        raise InvalidInput("input.documentNumber", "at most 100 characters")
    return text


def refuse_closed(case: CaseRow) -> None:
    """Rule ``CASE_CLOSED``: nothing new is imposed in a case paid in full or terminated."""
    if case.status in (CaseStatus.FULLY_PERFORMED, CaseStatus.TERMINATED):
        raise Conflict(
            f"case {case.number} is {case.status.value}: no new restriction", rule="CASE_CLOSED"
        )


class RestrictionService:
    """Decide, sign and lift court-side restrictions, each step audited."""

    def __init__(
        self, store: Store, requests: AssistanceStore, effects: AssistanceEffects, clock: Clock
    ) -> None:
        self.store = store
        self.requests = requests
        self.decisions = DecisionStore(store)
        self.effects = effects
        self.clock = clock

    async def impose(self, actor: Actor, case: CaseRow, spec: RestrictionSpec) -> DecisionRow:
        """Record the written decision, after the legal checks; it awaits the signature."""
        if spec.kind not in COURT_SIDE:
            raise InvalidInput("input.kind", "exit bans are requested from public security")
        check_measure_case(case.number, restriction=True)
        if not _may_decide(actor, case):
            raise Forbidden(
                "a judge of the case's court decides restrictions", rule="JUDGE_DECIDES"
            )
        check_parties(case, [spec.debtor_id], "input.debtorId")
        refuse_closed(case)
        document = _document(spec.document_number)
        today = self.clock.today()
        since = spec.since or today
        if since < today:
            raise InvalidInput("input.since", "cannot start in the past", rule="START_NOT_IN_PAST")
        if spec.kind is RestrictionKind.DISHONEST_LIST:
            listing = await self._check_listing(case, spec.debtor_kind, spec, since)
            grounds = listing.ground_text
        else:
            if spec.extension_basis is not None or spec.extension_reason:
                raise InvalidInput("input.extensionBasis", "only a listing is extended")
            grounds = clean_text(",".join(spec.grounds), "input.grounds", required=True) or ""
            if spec.until is not None and spec.until <= since:
                raise InvalidInput("input.until", "must be after the start date")
        await self._refuse_duplicate(case, spec.debtor_id, spec.kind)
        row = await self.decisions.add(
            DecisionIn(
                case_number=case.number,
                court=case.court,
                debtor_id=spec.debtor_id,
                debtor_kind=spec.debtor_kind,
                kind=spec.kind,
                grounds=grounds,
                document_number=document,
                decided_by=actor.officer_id,
                since=spec.since,
                until=spec.until,
                extension_basis=spec.extension_basis,
                extension_reason=spec.extension_reason,
            ),
            self.clock.now(),
        )
        await self.effects.record(
            actor,
            "restriction.decide",
            case_number=case.number,
            debtor_id=spec.debtor_id,
            detail={
                "decision": row.id,
                "kind": row.kind.value,
                "grounds": grounds,
                "documentNumber": document,
                "extensionBasis": None
                if spec.extension_basis is None
                else str(spec.extension_basis),
                "extensionReason": spec.extension_reason,
            },
        )
        return row

    async def sign(self, actor: Actor, decision_id: str) -> list[RestrictionRow]:
        """The president signs: the restriction (and a listing's mandatory ban) takes effect.

        The rules are checked again as of the signing day: the decision takes effect from
        it, and assets seized meanwhile may have made a listing unlawful (art. 3).
        """
        decision = await self.decisions.get(decision_id)
        case = None if decision is None else await self.store.get_case(decision.case_number)
        if decision is None or case is None:
            raise NotFound(f"no restriction decision {decision_id}", field="id")
        if not may_sign(actor, case):
            raise Forbidden(
                "the court's president signs listings and consumption bans",
                rule="PRESIDENT_SIGNS",
            )
        if decision.decided_by == actor.officer_id:
            raise Forbidden(
                "a decision is signed by someone other than its maker", rule="FOUR_EYES"
            )
        if decision.status is not DecisionStatus.PENDING_SIGNOFF:
            raise Conflict(f"the decision is {decision.status.value}, not awaiting signature")
        refuse_closed(case)
        since = max(decision.since or self.clock.today(), self.clock.today())
        until = decision.until
        if decision.kind is RestrictionKind.DISHONEST_LIST:
            spec = RestrictionSpec(
                debtor_id=decision.debtor_id,
                debtor_kind=decision.debtor_kind,
                kind=decision.kind,
                grounds=tuple(decision.grounds.split(",")),
                since=since,
                until=decision.until,
                extension_basis=(
                    None
                    if decision.extension_basis is None
                    else ExtensionBasis(decision.extension_basis)
                ),
                extension_reason=decision.extension_reason,
            )
            until = (await self._check_listing(case, decision.debtor_kind, spec, since)).until
        await self._refuse_duplicate(case, decision.debtor_id, decision.kind, pending=False)
        follows = await self._mandatory_ban(case, decision, since)
        written = await self.decisions.sign(
            decision, actor.officer_id, self.clock.now(), follows, since=since, until=until
        )
        if written is None:
            raise Conflict("the decision changed meanwhile; look again")
        await self.effects.record(
            actor,
            "restriction.sign",
            case_number=case.number,
            debtor_id=decision.debtor_id,
            detail={"decision": decision.id, "documentNumber": decision.document_number},
        )
        for row in written:
            await self.effects.record(
                actor,
                "restriction.impose",
                case_number=case.number,
                debtor_id=row.debtor_id,
                detail={
                    "restriction": row.id,
                    "kind": row.kind.value,
                    "ground": row.ground,
                    "since": row.since.isoformat(),
                    "until": row.until.isoformat() if row.until else None,
                    "documentNumber": decision.document_number,
                },
            )
        return written

    async def lift(
        self, actor: Actor, case: CaseRow, restriction_id: str, reason: str
    ) -> RestrictionRow:
        """Lift one of the case's active court-side restrictions, with a reason."""
        if not _may_decide(actor, case):
            raise Forbidden(
                "a judge of the case's court decides restrictions", rule="JUDGE_DECIDES"
            )
        text = clean_text(reason, "input.reason", required=True)
        assert text is not None
        row = await self.get(restriction_id)
        if row is None or row.case_number != case.number or row.kind not in COURT_SIDE:
            raise NotFound(
                f"no restriction {restriction_id} of case {case.number}", field="input.id"
            )
        if row.status is not RestrictionStatus.ACTIVE:
            raise Conflict("the restriction is already lifted")
        return await self.lift_row(actor, row, text)

    async def lift_row(
        self, actor: Actor, row: RestrictionRow, reason: str, **detail: object
    ) -> RestrictionRow:
        """Lift ``row`` (already checked) and audit it."""
        lifted = await self.store.lift_restriction(row.id, reason)
        await self.effects.record(
            actor,
            "restriction.lift",
            case_number=row.case_number,
            debtor_id=row.debtor_id,
            detail={"restriction": row.id, "kind": row.kind.value, "reason": reason, **detail},
        )
        return lifted

    async def get(self, restriction_id: str) -> RestrictionRow | None:
        """The restriction with this id, or None."""
        async with self.store.engine.connect() as conn:
            found = (
                await conn.execute(select(restrictions).where(restrictions.c.id == restriction_id))
            ).first()
        if found is None:
            return None
        rows = (await self.store.restrictions_of([found.debtor_id]))[found.debtor_id]
        return next((r for r in rows if r.id == restriction_id), None)

    async def _check_listing(
        self, case: CaseRow, kind: DebtorKind, spec: RestrictionSpec, since: date
    ) -> Listing:
        birth = ric.get_birth_date(spec.debtor_id) if kind is DebtorKind.PERSON else None
        listing = check_dishonest_listing(
            spec.grounds,
            since,
            spec.until,
            birth,
            extension_basis=spec.extension_basis,
            extension_reason=spec.extension_reason,
        )
        if DishonestGround.ABLE_BUT_REFUSES in listing.grounds:
            held = controlled_value(await self.requests.of_case(case.number), since)
            check_listing_allowed(
                listing.grounds, case.amount_due, controlled=held, security=case.security
            )
        return listing

    async def _refuse_duplicate(
        self, case: CaseRow, debtor_id: str, kind: RestrictionKind, *, pending: bool = True
    ) -> None:
        current = (await self.store.restrictions_of([debtor_id]))[debtor_id]
        if any(
            r.kind is kind and r.case_number == case.number and r.status is RestrictionStatus.ACTIVE
            for r in current
        ):
            raise Conflict(f"the debtor already has an active {kind.value} in this case")
        if pending and any(
            d.debtor_id == debtor_id
            and d.kind is kind
            and d.status is DecisionStatus.PENDING_SIGNOFF
            for d in await self.decisions.of_case(case.number)
        ):
            raise Conflict(f"a {kind.value} decision for the debtor awaits signature")

    async def _mandatory_ban(
        self, case: CaseRow, decision: DecisionRow, since: date
    ) -> list[tuple[DecisionIn, RestrictionRow]]:
        """法释〔2015〕17号 art. 1 ¶2: a listed debtor is barred from high consumption.

        Rule ``BAN_FOLLOWS_LISTING``: signing a listing imposes the ban under the same
        decision, unless one is already in force in the case.
        """
        if decision.kind is not RestrictionKind.DISHONEST_LIST:
            return []
        current = (await self.store.restrictions_of([decision.debtor_id]))[decision.debtor_id]
        if any(
            r.kind is RestrictionKind.HIGH_CONSUMPTION_BAN
            and r.case_number == case.number
            and r.status is RestrictionStatus.ACTIVE
            for r in current
        ):
            return []
        follow = DecisionIn(
            case_number=case.number,
            court=case.court,
            debtor_id=decision.debtor_id,
            debtor_kind=decision.debtor_kind,
            kind=RestrictionKind.HIGH_CONSUMPTION_BAN,
            grounds=FOLLOWS_LISTING,
            document_number=decision.document_number,
            decided_by=decision.decided_by,
            since=since,
            follows=decision.id,
        )
        ban = RestrictionRow(
            id=str(uuid4()),
            debtor_id=decision.debtor_id,
            kind=RestrictionKind.HIGH_CONSUMPTION_BAN,
            case_number=case.number,
            court=case.court,
            ground=FOLLOWS_LISTING,
            since=since,
            until=None,
            status=RestrictionStatus.ACTIVE,
            lift_reason=None,
            created_at=self.clock.now(),
        )
        return [(follow, ban)]
