"""Checking an assistance request's target against the agencies' own records.

Before a request is stored, the target must be what the agency says it is: an asset of the
debtor of the right kind (for a control), an asset this case controls (for a lift), or an
active exit ban of this case (for lifting one). The look-up goes through the request's
DataLoaders and the read cache like any other; the control itself never does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import cast

from connectors import domain as d
from connectors.control import ControlAction
from gateway.assistance.rules import TargetFacts
from gateway.domain.org_persons import exit_ban_person
from gateway.errors import InvalidInput, NotFound
from gateway.runtime.assistance import AssistanceRuntime
from gateway.store.cases import CaseRow
from gateway.validation import resident_id
from resolvers.context import RequestContext
from resolvers.facts import load_all
from resolvers.org_persons import persons_behind

__all__ = ["check_target", "runtime"]


def runtime(ctx: RequestContext) -> AssistanceRuntime:
    """The process's assistance runtime; ``NotFound`` where the gateway runs without one."""
    if ctx.assistance is None:
        raise NotFound("assistance requests are not available on this gateway")
    return ctx.assistance


async def check_target(
    ctx: RequestContext,
    case: CaseRow,
    action: ControlAction,
    *,
    debtor: tuple[str, d.DebtorKind],
    target: str | None,
    path: Sequence[str | int],
    person: str | None = None,
) -> tuple[str, TargetFacts]:
    """The target's id and what it is worth; ``INVALID_INPUT`` naming ``input.target``.

    An exit ban's target is the person banned: the debtor, or for an organisation the
    person behind it (``target`` names them; the legal representative by default). Lifting
    an organisation's exit ban names that person in ``person``: the ban is theirs.
    """
    debtor_id, kind = debtor
    if action is ControlAction.EXIT_BAN:
        if kind is d.DebtorKind.ORGANIZATION:
            # 执行程序解释 art. 24: placed on the organisation's legal representative (or a
            # person in charge it names), never on the organisation.
            persons = await persons_behind(ctx, debtor_id, path)
            return exit_ban_person(persons, target).person_id, TargetFacts(value=None)
        if target not in (None, "", debtor_id):
            raise InvalidInput("input.target", "an exit ban's target is the debtor; omit it")
        return debtor_id, TargetFacts(value=None)
    if not target:
        raise InvalidInput("input.target", f"{action.value} needs a target")
    if action is ControlAction.LIFT_EXIT_BAN:
        holder = debtor_id
        if kind is d.DebtorKind.ORGANIZATION:
            if not person:
                raise InvalidInput("input.personId", "name the person the exit ban is on")
            holder = resident_id(person, "input.personId")
        facts = await load_all(ctx, d.Facet.EXIT_BANS, holder, path)
        bans = [b for f in facts for b in cast(tuple[d.ExitBan, ...], f.value)]
        ban = next((b for b in bans if b.id == target), None)
        if ban is None or ban.case_number != case.number or ban.status != "ACTIVE":
            raise InvalidInput(
                "input.target",
                "not an active exit ban of this case at public security",
                rule="NOT_CONTROLLED_BY_CASE",
            )
        return target, TargetFacts(value=None)
    asset_kind = action.asset_kind
    assert asset_kind is not None
    facts = await load_all(ctx, d.Facet.ASSETS, debtor_id, path, kinds={asset_kind})
    assets = [a for f in facts for a in cast(tuple[d.Asset, ...], f.value)]
    asset = next((a for a in assets if a.kind is asset_kind and a.id == target), None)
    if asset is None:
        raise InvalidInput(
            "input.target",
            f"the debtor has no {asset_kind.value.lower().replace('_', ' ')} {target}",
        )
    if action.is_lift and not any(c.case_number == case.number for c in asset.controls):
        raise InvalidInput(
            "input.target",
            "the asset is not under a control of this case",
            rule="NOT_CONTROLLED_BY_CASE",
        )
    value: Decimal | None = asset.estimated_value
    today = runtime(ctx).clock.today()
    return target, TargetFacts(value=value, encumbrance=encumbrance(asset, case.number, today))


def encumbrance(asset: d.Asset, case_number: str, today: date) -> Decimal:
    """What ranks ahead of this case's control on ``asset`` (查扣冻规定 art. 19's 价额 is
    what is left for the case): registered mortgages and the claims of other cases'
    seizures and freezes still in force, effective or queued ahead."""
    ahead = sum(
        (
            c.claim
            for c in asset.controls
            if c.case_number != case_number
            and c.claim is not None
            and (c.until is None or c.until >= today)
        ),
        Decimal("0.00"),
    )
    if isinstance(asset, d.RealEstate):
        ahead += sum((m.amount for m in asset.mortgages), Decimal("0.00"))
    return ahead
