"""Assistance requests (协助执行) as the court's staff make and decide them.

Officers on a case (and the court's own system) make requests; the case's judge or the
court's enforcement bureau head approves or rejects them (never the request's maker), and
only a judge may override the over-seizure guard, in writing. Nothing reaches an agency
from here: approval only moves the request to APPROVED, and the lifecycle worker sends it.

A request is stored once per idempotency key — the client's, or one derived from the case,
action, target and document number — so retries and double clicks return the first one.
The same key with a different order is a ``CONFLICT``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from connectors.control import ControlAction, control_connector
from gateway.assistance.effects import Actor, AssistanceEffects
from gateway.assistance.replay import TargetLookup, target_of
from gateway.assistance.rules import (
    RequestSpec,
    TargetFacts,
    clean_text,
    derive_key,
    fingerprint,
    is_judge_of,
    may_approve,
    may_request,
    refuse_duplicate,
)
from gateway.clock import Clock
from gateway.domain.assistance_status import AssistanceStatus, EventKind
from gateway.domain.case_types import check_measure_case
from gateway.domain.control_lapse import check_renewal_still_in_time
from gateway.domain.overseizure import check_guard, committed_value, net_value
from gateway.domain.parties import check_parties
from gateway.domain.terms import PriorControl, check_control_term
from gateway.errors import Conflict, Forbidden, InvalidInput, NotFound, OverSeizure
from gateway.store.assistance import AssistanceRow, AssistanceStore, NewRequest
from gateway.store.case_costs import costs_of
from gateway.store.cases import CaseRow, Store

__all__ = ["AssistanceService"]


class AssistanceService:
    """Making, approving, rejecting, cancelling and resending requests; the worker does the
    rest."""

    def __init__(
        self,
        store: Store,
        requests: AssistanceStore,
        *,
        connectors: dict[str, object],
        effects: AssistanceEffects,
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.requests = requests
        self.connectors = connectors
        self.effects = effects
        self.clock = clock
        self.wake = wake

    async def request(
        self, actor: Actor, case: CaseRow, spec: RequestSpec, look: TargetLookup
    ) -> tuple[AssistanceRow, bool]:
        """Store a new request (PENDING_APPROVAL); return it and whether it is new. ``look``
        asks the agency about the target, only once all else passed and for a new key."""
        if not may_request(actor, case):
            raise Forbidden(f"no right to request assistance in case {case.number}")
        if not spec.action.is_lift:
            check_measure_case(case.number, restriction=spec.action is ControlAction.EXIT_BAN)
        override = clean_text(spec.override_reason, "input.overrideReason", required=False)
        if override and not is_judge_of(actor, case):
            raise Forbidden("only a judge may override the over-seizure guard", rule="OVERRIDE")
        check_parties(case, [spec.debtor_id], "input.debtorId")
        document = clean_text(spec.document_number, "input.documentNumber", required=True)
        assert document is not None
        # Only lifts carry a reason (liftRestriction requires one for an exit ban).
        reason = clean_text(spec.reason, "input.reason", required=spec.reason is not None)
        if reason is not None and not spec.action.is_lift:
            raise InvalidInput("input.reason", "only a lift carries a reason")
        connector = control_connector(spec.action, self.connectors.values())
        if connector is None:
            raise InvalidInput("input.action", f"no running agency carries out {spec.action.value}")
        spec, target = await target_of(self.requests, case, spec, look)
        prior = await self._prior(case, spec)
        since, until = check_control_term(
            spec.action, spec.since, spec.until, self.clock.today(), prior, field="input"
        )
        owed = (await costs_of(self.store.engine, case.number)).owed(case.amount_due)
        amount = await self._amount(case, spec, target, owed)
        key = (spec.idempotency_key or "").strip() or derive_key(
            case.number, spec.action.value, spec.target, document
        )
        if len(key) > 200:
            raise InvalidInput("input.idempotencyKey", "at most 200 characters")
        new = NewRequest(
            case_number=case.number,
            court=case.court,
            debtor_id=spec.debtor_id,
            agency=connector.agency,
            action=spec.action.value,
            target=spec.target,
            target_value=target.value,
            encumbrance=target.encumbrance,
            amount=amount,
            document_number=document,
            since=since,
            until=until,
            renewal_of=spec.renewal_of,
            idempotency_key=key,
            fingerprint=fingerprint(spec),
            requested_by=actor.officer_id,
            override_reason=override,
            reason=reason,
        )
        overridden: list[bool] = []

        today = self.clock.today()

        def guard(_current: AssistanceRow | None, rows: list[AssistanceRow]) -> None:
            refuse_duplicate(spec, rows, today)
            result = check_guard(
                spec.action,
                owed,
                rows,
                today,
                value=net_value(target.value, target.encumbrance),
                override_reason=override,
                renewal=prior is not None,
            )
            overridden.append(result.overridden)

        try:
            row, created = await self.requests.create(new, self.clock.now(), guard)
        except OverSeizure as err:
            await self._refused(actor, case, spec, err)
            raise
        if created:
            detail = {} if row.reason is None else {"reason": row.reason}
            await self.effects.record_step(actor, "assistance.request", row, **detail)
            if overridden and overridden[-1]:
                await self.effects.record_step(
                    actor, "assistance.override", row, reason=override, stage="request"
                )
            await self.effects.publish(row)
        return row, created

    async def approve(
        self, actor: Actor, request_id: str, override_reason: str | None = None
    ) -> AssistanceRow:
        """PENDING_APPROVAL -> APPROVED, by the case's judge or the bureau head, not the maker."""
        row, case = await self._load(request_id)
        if not may_approve(actor, case):
            raise Forbidden(
                "only the case's judge or the enforcement bureau's head may approve",
                rule="JUDGE_APPROVES",
            )
        if row.requested_by == actor.officer_id:
            raise Forbidden(
                "a request is approved by someone other than its maker", rule="FOUR_EYES"
            )
        if row.status is not AssistanceStatus.PENDING_APPROVAL:
            if row.approved_by == actor.officer_id:
                return row  # a repeated approval: the first one stands
            raise Conflict(f"the request is {row.status.value}, not pending approval")
        given = clean_text(override_reason, "overrideReason", required=False)
        override = given or row.override_reason
        overridden: list[bool] = []
        today = self.clock.today()
        owed = (await costs_of(self.store.engine, case.number)).owed(case.amount_due)

        def guard(current: AssistanceRow | None, rows: list[AssistanceRow]) -> None:
            # The control a renewal continues may have lapsed since it was requested.
            check_renewal_still_in_time(current or row, rows, today, field="id")
            result = check_guard(
                ControlAction(row.action),
                owed,
                rows,
                today,
                value=net_value(row.target_value, row.encumbrance),
                override_reason=override,
                exclude=row.id,
                renewal=row.renewal_of is not None,
            )
            overridden.append(result.overridden)

        values: dict[str, object] = {"approved_by": actor.officer_id}
        if given:
            values["override_reason"] = given
        try:
            moved = await self.requests.transition(
                row.id,
                [AssistanceStatus.PENDING_APPROVAL],
                AssistanceStatus.APPROVED,
                EventKind.APPROVED,
                actor=actor.officer_id,
                now=self.clock.now(),
                values=values,
                check=guard,
            )
        except OverSeizure as err:
            await self.effects.record_step(
                actor,
                "assistance.overseizure_refused",
                row,
                outcome="refused",
                code=err.code,
                stage="approval",
                **{k: v for k, v in err.extra.items() if k != "rule"},
            )
            raise
        if moved is None:
            now = await self.requests.get(row.id)
            if now is not None and now.approved_by == actor.officer_id:
                return now  # a concurrent approval by the same judge won: the same outcome
            raise Conflict("the request changed meanwhile; look again")
        await self.effects.record_step(
            actor, "assistance.approve", moved, overrideReason=moved.override_reason
        )
        if given and overridden and overridden[-1]:
            # The approving judge overrode the guard themselves (a request's own override
            # was recorded when it was made).
            await self.effects.record_step(
                actor, "assistance.override", moved, reason=override, stage="approval"
            )
        await self.effects.publish(moved)
        self.wake()
        return moved

    async def reject(self, actor: Actor, request_id: str, reason: str) -> AssistanceRow:
        """PENDING_APPROVAL -> REJECTED, by a judge, with a reason."""
        row, case = await self._load(request_id)
        if not may_approve(actor, case):
            raise Forbidden(
                "only the case's judge or the enforcement bureau's head may reject",
                rule="JUDGE_APPROVES",
            )
        text = clean_text(reason, "reason", required=True)
        return await self._end(
            actor,
            row,
            [AssistanceStatus.PENDING_APPROVAL],
            AssistanceStatus.REJECTED,
            kind=EventKind.REJECTED,
            operation="assistance.reject",
            reason=text,
        )

    async def cancel(self, actor: Actor, request_id: str, reason: str | None) -> AssistanceRow:
        """PENDING_APPROVAL or APPROVED -> CANCELLED, before anything is sent."""
        row, case = await self._load(request_id)
        if not (may_request(actor, case) or row.requested_by == actor.officer_id):
            raise Forbidden(f"no right to cancel requests of case {case.number}")
        text = clean_text(reason, "reason", required=False)
        return await self._end(
            actor,
            row,
            [AssistanceStatus.PENDING_APPROVAL, AssistanceStatus.APPROVED],
            AssistanceStatus.CANCELLED,
            kind=EventKind.CANCELLED,
            operation="assistance.cancel",
            reason=text,
        )

    async def resend(self, actor: Actor, request_id: str) -> AssistanceRow:
        """FAILED -> SUBMITTED: send it again with the same idempotency key.

        A FAILED request got no answer; the agency may have carried it out. Sent again under
        its key, it is executed at most once: the agency answers with the first execution's
        result, or executes it now. Its attempts start again from zero.
        """
        row, case = await self._load(request_id)
        if not may_request(actor, case):
            raise Forbidden(f"no right to resend requests of case {case.number}")
        if row.status is not AssistanceStatus.FAILED:
            raise Conflict(f"the request is {row.status.value}; only a FAILED one is resent")
        moved = await self.requests.transition(
            row.id,
            [AssistanceStatus.FAILED],
            AssistanceStatus.SUBMITTED,
            EventKind.RESENT,
            actor=actor.officer_id,
            now=self.clock.now(),
            note=None,
            values={
                "attempts": 0,
                "next_attempt_at": None,
                "lease_owner": None,
                "lease_until": None,
            },
        )
        if moved is None:
            raise Conflict("the request changed meanwhile (it may have been resent already)")
        await self.effects.record_step(actor, "assistance.resend", moved)
        await self.effects.publish(moved)
        self.wake()
        return moved

    async def _end(
        self,
        actor: Actor,
        row: AssistanceRow,
        from_statuses: list[AssistanceStatus],
        to: AssistanceStatus,
        *,
        kind: EventKind,
        operation: str,
        reason: str | None,
    ) -> AssistanceRow:
        if row.status not in from_statuses:
            raise Conflict(
                f"the request is {row.status.value}; it can no longer be {to.value.lower()}"
            )
        moved = await self.requests.transition(
            row.id,
            from_statuses,
            to,
            kind,
            actor=actor.officer_id,
            now=self.clock.now(),
            note=reason,
            values={"reply": reason} if reason else None,
        )
        if moved is None:
            raise Conflict("the request changed meanwhile (it may already be with the agency)")
        await self.effects.record_step(actor, operation, moved, reason=reason)
        await self.effects.publish(moved)
        return moved

    async def _load(self, request_id: str) -> tuple[AssistanceRow, CaseRow]:
        row = await self.requests.get(request_id)
        case = None if row is None else await self.store.get_case(row.case_number)
        if row is None or case is None:
            raise NotFound(f"no assistance request {request_id}", field="id")
        return row, case

    async def _prior(self, case: CaseRow, spec: RequestSpec) -> PriorControl | None:
        if spec.renewal_of is None:
            return None
        prior = await self.requests.get(spec.renewal_of)
        if (
            prior is None
            or prior.case_number != case.number
            or prior.action != spec.action.value
            or prior.target != spec.target
            or prior.status is not AssistanceStatus.COMPLETED
            or prior.lifted_by is not None
            or prior.until is None
        ):
            raise InvalidInput(
                "input.renewalOf",
                "must name a completed, unlifted control of this case on the same target",
                rule="RENEWAL_OF_CONTROL",
            )
        return PriorControl(until=prior.until)

    async def _amount(
        self, case: CaseRow, spec: RequestSpec, target: TargetFacts, owed: Decimal
    ) -> Decimal | None:
        net = net_value(target.value, target.encumbrance)
        if spec.amount is None:
            if spec.action is not ControlAction.FREEZE_EQUITY or net is None:
                return None
            # Equity is divisible: freeze what the judgment still needs (due, costs and
            # interest), not the whole stake (partial seizure, 查扣冻规定 art. 19).
            rows = await self.requests.of_case(case.number)
            remainder = owed - committed_value(rows, self.clock.today())
            return remainder if Decimal(0) < remainder < net else None
        if spec.action is not ControlAction.FREEZE_EQUITY:
            raise InvalidInput("input.amount", "only an equity freeze takes an amount")
        if spec.amount <= 0 or (target.value is not None and spec.amount > target.value):
            raise InvalidInput("input.amount", "must be positive and at most the stake's value")
        return spec.amount

    async def _refused(
        self, actor: Actor, case: CaseRow, spec: RequestSpec, err: OverSeizure
    ) -> None:
        await self.effects.record(
            actor,
            "assistance.overseizure_refused",
            case_number=case.number,
            debtor_id=spec.debtor_id,
            outcome="refused",
            code=err.code,
            detail={
                "action": spec.action.value,
                "target": spec.target,
                "stage": "request",
                **{k: v for k, v in err.extra.items() if k != "rule"},
            },
        )
