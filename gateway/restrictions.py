"""Restrictions the court imposes itself: consumption bans and the dishonest-debtor list.

A high-consumption ban (限制消费令) and a dishonest-list entry (失信名单) are decisions of the
court, so they are recorded here at once — by a judge of the case's court or by the court's
own system — with their legal ground, dates and, when lifted, the reason. Exit bans are
carried out by public security and go through assistance requests instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from stdnum.cn import ric

from connectors.domain import DebtorKind
from gateway.assistance_effects import Actor, AssistanceEffects
from gateway.assistance_rules import clean_text, is_judge_of
from gateway.case_rules import check_measure_case
from gateway.clock import Clock
from gateway.errors import Conflict, Forbidden, InvalidInput, NotFound
from gateway.legal import check_dishonest_listing
from gateway.store import CaseRow, RestrictionIn, RestrictionRow, Store
from gateway.store_schema import RestrictionKind, RestrictionStatus, restrictions

__all__ = ["COURT_SIDE", "RestrictionService", "RestrictionSpec"]

COURT_SIDE = frozenset({RestrictionKind.HIGH_CONSUMPTION_BAN, RestrictionKind.DISHONEST_LIST})


@dataclass(frozen=True, slots=True)
class RestrictionSpec:
    """A court-side restriction as the client gave it."""

    debtor_id: str
    debtor_kind: DebtorKind
    kind: RestrictionKind
    ground: str | None
    since: date | None = None
    until: date | None = None
    extension_reason: str | None = None


def _may_decide(actor: Actor, case: CaseRow) -> bool:
    return is_judge_of(actor, case) or (
        actor.has_role("court_system") and actor.court == case.court
    )


class RestrictionService:
    """Impose and lift court-side restrictions, each step audited."""

    def __init__(self, store: Store, effects: AssistanceEffects, clock: Clock) -> None:
        self.store = store
        self.effects = effects
        self.clock = clock

    async def impose(self, actor: Actor, case: CaseRow, spec: RestrictionSpec) -> RestrictionRow:
        """Record the restriction, after the legal checks; ``CONFLICT`` if one is active."""
        if spec.kind not in COURT_SIDE:
            raise InvalidInput("input.kind", "exit bans are requested from public security")
        check_measure_case(case.number, restriction=True)
        if not _may_decide(actor, case):
            raise Forbidden(
                "a judge of the case's court decides restrictions", rule="JUDGE_DECIDES"
            )
        if not case.has_debtor(spec.debtor_id):
            raise Forbidden(
                f"the debtor is not a party to case {case.number}", field="input.debtorId"
            )
        ground = clean_text(spec.ground, "input.ground", required=True)
        assert ground is not None
        today = self.clock.today()
        since = spec.since or today
        if since < today:
            raise InvalidInput("input.since", "cannot start in the past", rule="START_NOT_IN_PAST")
        until = spec.until
        if spec.kind is RestrictionKind.DISHONEST_LIST:
            birth = None
            if spec.debtor_kind is DebtorKind.PERSON:
                birth = ric.get_birth_date(spec.debtor_id)
            _ground, until = check_dishonest_listing(
                ground, since, until, birth, extension_reason=spec.extension_reason
            )
        elif until is not None and until <= since:
            raise InvalidInput("input.until", "must be after the start date")
        current = (await self.store.restrictions_of([spec.debtor_id]))[spec.debtor_id]
        if any(
            r.kind is spec.kind
            and r.case_number == case.number
            and r.status is RestrictionStatus.ACTIVE
            for r in current
        ):
            raise Conflict(f"the debtor already has an active {spec.kind.value} in this case")
        row = await self.store.add_restriction(
            RestrictionIn(
                debtor_id=spec.debtor_id,
                kind=spec.kind,
                case_number=case.number,
                court=case.court,
                since=since,
                ground=ground,
                until=until,
            )
        )
        await self.effects.record(
            actor,
            "restriction.impose",
            case_number=case.number,
            debtor_id=spec.debtor_id,
            detail={
                "restriction": row.id,
                "kind": row.kind.value,
                "ground": ground,
                "since": since.isoformat(),
                "until": until.isoformat() if until else None,
                "extensionReason": spec.extension_reason,
            },
        )
        return row

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
        row = await self._get(restriction_id)
        if row is None or row.case_number != case.number or row.kind not in COURT_SIDE:
            raise NotFound(
                f"no restriction {restriction_id} of case {case.number}", field="input.id"
            )
        if row.status is not RestrictionStatus.ACTIVE:
            raise Conflict("the restriction is already lifted")
        lifted = await self.store.lift_restriction(row.id, text)
        await self.effects.record(
            actor,
            "restriction.lift",
            case_number=case.number,
            debtor_id=row.debtor_id,
            detail={"restriction": row.id, "kind": row.kind.value, "reason": text},
        )
        return lifted

    async def _get(self, restriction_id: str) -> RestrictionRow | None:
        async with self.store.engine.connect() as conn:
            found = (
                await conn.execute(select(restrictions).where(restrictions.c.id == restriction_id))
            ).first()
        if found is None:
            return None
        rows = (await self.store.restrictions_of([found.debtor_id]))[found.debtor_id]
        return next((r for r in rows if r.id == restriction_id), None)
