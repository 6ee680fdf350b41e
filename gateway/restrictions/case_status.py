"""A case's status and what the law makes follow from it.

- ``FULLY_PERFORMED`` (执行完毕): the debtor's listing in the case is deleted
  (法释〔2017〕7号 art. 10: within three working days — here at once, the deadline kept on
  the record), the consumption ban lifted (法释〔2015〕17号 art. 9), the exit ban lifted
  through public security (a LIFT_EXIT_BAN request per ban, approved as any control), and
  decisions never signed withdrawn. Rule ``PAYMENT_ENDS_RESTRICTIONS``.
- ``DORMANT`` (终结本次执行程序): the debtors' assets are looked up again every six months
  for five years (法〔2016〕373号 art. 9 ¶2), by an asset watch that ends with the five years.
  Rule ``DORMANT_REQUERY_6M_5Y``.
- ``FULLY_PERFORMED`` and ``TERMINATED`` are final (``CASE_CLOSED``).

Every effect is its own audit record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import update

from connectors.control import ControlAction
from gateway.assistance.effects import Actor, AssistanceEffects
from gateway.assistance.replay import known_target
from gateway.assistance.rules import RequestSpec, TargetFacts, clean_text, may_approve
from gateway.assistance.service import AssistanceService
from gateway.clock import Clock, court_day_end
from gateway.domain.assistance_status import ACTIVE_STATUSES, AssistanceStatus
from gateway.domain.case_values import CaseStatus, DecisionStatus, RestrictionStatus
from gateway.domain.terms import add_years
from gateway.errors import Conflict, Forbidden, InvalidInput
from gateway.restrictions.service import COURT_SIDE, RestrictionService, refuse_closed
from gateway.store.assistance import AssistanceRow, AssistanceStore
from gateway.store.cases import CaseRow, RestrictionRow, Store
from gateway.store.tables import cases
from gateway.watch.store import WatchStore

__all__ = [
    "DELETE_WITHIN_WORKING_DAYS",
    "DORMANT_INTERVAL",
    "DORMANT_YEARS",
    "CaseStatusService",
    "StatusChange",
    "add_working_days",
]

DELETE_WITHIN_WORKING_DAYS = 3
# Six months, never later: the shortest six calendar months (1 Sep -> 1 Mar) are 181 days.
DORMANT_INTERVAL = timedelta(days=181)
DORMANT_YEARS = 5
_MOVES = {
    CaseStatus.ACTIVE: {CaseStatus.DORMANT, CaseStatus.FULLY_PERFORMED, CaseStatus.TERMINATED},
    CaseStatus.DORMANT: {CaseStatus.ACTIVE, CaseStatus.FULLY_PERFORMED, CaseStatus.TERMINATED},
}


def add_working_days(day: date, days: int) -> date:
    """``day`` plus ``days`` working days, Monday to Friday.

    Public holidays and the weekends worked in their place (调休) are set each year by the
    State Council and are not known here: the date is an outer bound on weekdays only.
    """
    current = day
    left = days
    while left:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


@dataclass(slots=True)
class StatusChange:
    """What a status change did."""

    case: CaseRow
    lifted: list[RestrictionRow] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    requests: list[AssistanceRow] = field(default_factory=list)
    watched: list[str] = field(default_factory=list)
    delete_by: date | None = None


def _may_set(actor: Actor, case: CaseRow) -> bool:
    return may_approve(actor, case) or (
        actor.has_role("court_system") and actor.court == case.court
    )


class CaseStatusService:
    """Change a case's status and carry out its effects."""

    def __init__(
        self,
        store: Store,
        *,
        restrictions: RestrictionService,
        assistance: AssistanceService,
        requests: AssistanceStore,
        effects: AssistanceEffects,
        clock: Clock,
    ) -> None:
        self.store = store
        self.restrictions = restrictions
        self.assistance = assistance
        self.requests = requests
        self.effects = effects
        self.clock = clock

    async def set_status(
        self,
        actor: Actor,
        case: CaseRow,
        status: CaseStatus,
        *,
        reason: str | None,
        document_number: str | None,
        watches: WatchStore | None,
    ) -> StatusChange:
        """Move ``case`` to ``status`` (the case's judge, the bureau head or the court system)."""
        if not _may_set(actor, case):
            raise Forbidden(
                "the case's judge or the enforcement bureau's head changes its status",
                rule="JUDGE_DECIDES",
            )
        if status is case.status:
            raise Conflict(f"case {case.number} is already {status.value}")
        refuse_closed(case)
        if status not in _MOVES[case.status]:
            raise InvalidInput("input.status", f"{case.status.value} cannot become {status.value}")
        text = clean_text(reason, "input.reason", required=True)
        bans = await self._exit_bans(case) if status is CaseStatus.FULLY_PERFORMED else []
        document = clean_text(document_number, "input.documentNumber", required=bool(bans))
        today = self.clock.today()
        async with self.store.engine.begin() as conn:
            moved = await conn.execute(
                update(cases)
                .where(cases.c.number == case.number, cases.c.status == str(case.status))
                .values(status=str(status), status_since=today)
            )
        if moved.rowcount != 1:
            raise Conflict("the case changed meanwhile; look again")
        await self.effects.record(
            actor,
            "case.status",
            case_number=case.number,
            debtor_id=None,
            detail={"from": case.status.value, "to": status.value, "reason": text},
        )
        now_case = await self.store.get_case(case.number)
        assert now_case is not None
        change = StatusChange(now_case)
        if status is CaseStatus.FULLY_PERFORMED:
            await self._paid(actor, change, bans, document=document or "", reason=text or "")
        if status in (CaseStatus.FULLY_PERFORMED, CaseStatus.TERMINATED) and watches:
            for debtor_id, _kind in case.debtor_ids:
                await watches.unwatch(case.number, debtor_id)
        if status is CaseStatus.DORMANT and watches is not None:
            await self._dormant(actor, now_case, change, watches)
        return change

    async def _paid(
        self,
        actor: Actor,
        change: StatusChange,
        bans: list[AssistanceRow],
        *,
        document: str,
        reason: str,
    ) -> None:
        """Rule ``PAYMENT_ENDS_RESTRICTIONS`` (法释〔2017〕7号 art. 10, 法释〔2015〕17号 art. 9)."""
        case = change.case
        change.delete_by = add_working_days(self.clock.today(), DELETE_WITHIN_WORKING_DAYS)
        lift_reason = f"履行完毕: {reason}"
        for decision in await self.restrictions.decisions.of_case(case.number):
            if decision.status is DecisionStatus.PENDING_SIGNOFF and (
                await self.restrictions.decisions.withdraw(decision.id)
            ):
                change.withdrawn.append(decision.id)
                await self.effects.record(
                    actor,
                    "restriction.withdraw",
                    case_number=case.number,
                    debtor_id=decision.debtor_id,
                    detail={"decision": decision.id, "reason": lift_reason},
                )
        held = await self.store.restrictions_of([d for d, _ in case.debtor_ids])
        for rows in held.values():
            for row in rows:
                if (
                    row.case_number == case.number
                    and row.kind in COURT_SIDE
                    and row.status is RestrictionStatus.ACTIVE
                ):
                    change.lifted.append(
                        await self.restrictions.lift_row(
                            actor,
                            row,
                            lift_reason,
                            rule="PAYMENT_ENDS_RESTRICTIONS",
                            deleteBy=change.delete_by.isoformat(),
                        )
                    )
        for ban in bans:
            assert ban.reference is not None
            spec = RequestSpec(
                case_number=case.number,
                debtor_id=ban.debtor_id,
                action=ControlAction.LIFT_EXIT_BAN,
                target=ban.reference,
                document_number=document,
                reason=lift_reason,
            )
            lift, _created = await self.assistance.request(
                actor, case, spec, known_target(spec.target, TargetFacts(value=None))
            )
            change.requests.append(lift)

    async def _exit_bans(self, case: CaseRow) -> list[AssistanceRow]:
        """The case's exit bans in force at public security that no lift is on its way for."""
        rows = await self.requests.of_case(case.number)
        lifting = {
            r.target
            for r in rows
            if r.action == ControlAction.LIFT_EXIT_BAN.value
            and (r.status in ACTIVE_STATUSES or r.status is AssistanceStatus.COMPLETED)
        }
        return [
            r
            for r in rows
            if r.action == ControlAction.EXIT_BAN.value
            and r.status is AssistanceStatus.COMPLETED
            and r.reference is not None
            and r.reference not in lifting
        ]

    async def _dormant(
        self, actor: Actor, case: CaseRow, change: StatusChange, watches: WatchStore
    ) -> None:
        """Rule ``DORMANT_REQUERY_6M_5Y`` (法〔2016〕373号 art. 9): a baseline now, then every
        six months until five years have passed (art. 9 ¶2)."""
        now = self.clock.now()
        # The five years are counted in the court's days (COURT_DAY_CST) and run to the end
        # of the day five years on: from 16:00 UTC the court is already on the next day.
        ends = court_day_end(add_years(self.clock.today(), DORMANT_YEARS))
        for debtor_id, _kind in case.debtor_ids:
            await watches.watch(
                case_number=case.number,
                court=case.court,
                debtor_id=debtor_id,
                interval_s=int(DORMANT_INTERVAL.total_seconds()),
                next_due=now,
                officer=actor.officer_id,
                now=now,
                ends_at=ends,
            )
            change.watched.append(debtor_id)
        await self.effects.record(
            actor,
            "case.dormant_schedule",
            case_number=case.number,
            debtor_id=None,
            detail={
                "rule": "DORMANT_REQUERY_6M_5Y",
                "debtors": len(change.watched),
                "intervalDays": DORMANT_INTERVAL.days,
                "endsAt": ends.isoformat(),
            },
        )
