"""When a control stops counting: the end of its term (查扣冻规定, 2020, art. 27).

A seizure, freeze or ban that is not renewed (续行) before its ``until`` lapses by itself:
from the day after, it holds nothing, frees the asset for a new control, and can no longer
be renewed. ``has_lapsed`` is the one place that says so; the over-seizure guard, the
duplicate check and the renewal rule all ask it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from connectors.control import ControlAction
from gateway.domain.assistance_rows import AssistanceRow
from gateway.domain.assistance_status import AssistanceStatus
from gateway.errors import InvalidInput

__all__ = [
    "RENEWING_STATUSES",
    "check_renewal_in_time",
    "check_renewal_still_in_time",
    "has_lapsed",
    "renewed_ids",
]

# A renewal in any of these states stands for its control: the control is being kept.
RENEWING_STATUSES = frozenset(
    {
        AssistanceStatus.PENDING_APPROVAL,
        AssistanceStatus.APPROVED,
        AssistanceStatus.SUBMITTED,
        AssistanceStatus.COMPLETED,
    }
)


def has_lapsed(row: AssistanceRow, today: date) -> bool:
    """True once a control's term has ended (查扣冻规定 art. 27): it counts for nothing.

    The term runs through ``until`` inclusive. Lifts have no term, and a control without an
    end date (an exit ban until lifted) never lapses.
    """
    if ControlAction(row.action).is_lift or row.until is None:
        return False
    return row.until < today


def check_renewal_in_time(until: date, today: date, *, field: str) -> None:
    """``RENEWAL_BEFORE_EXPIRY``: a control is renewed before it lapses (查扣冻规定 art. 27,
    art. 29 ¶2: 期限届满前办理续行手续).

    Checked when the renewal is requested, again when it is approved and again when it is
    sent: a renewal approved or sent after the control lapsed would revive a dead control.
    """
    if today > until:
        rule = "RENEWAL_BEFORE_EXPIRY"
        raise InvalidInput(
            field,
            f"the control lapsed after {until.isoformat()}; renew before it expires ({rule})",
            rule=rule,
        )


def renewed_ids(rows: Iterable[AssistanceRow]) -> set[str]:
    """Ids of the controls a live renewal continues (their lapse is being dealt with)."""
    return {
        r.renewal_of for r in rows if r.renewal_of is not None and r.status in RENEWING_STATUSES
    }


def check_renewal_still_in_time(
    renewal: AssistanceRow, rows: Iterable[AssistanceRow], today: date, *, field: str
) -> None:
    """``RENEWAL_BEFORE_EXPIRY`` for a stored renewal whose control has lapsed meanwhile."""
    if renewal.renewal_of is None:
        return
    prior = next((r for r in rows if r.id == renewal.renewal_of), None)
    if prior is not None and prior.until is not None:
        check_renewal_in_time(prior.until, today, field=field)
