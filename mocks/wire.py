"""Small serialisers the JSON mocks share: money as text and a control record as an object."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mocks.records import ControlRecord

__all__ = ["control_json", "money_text"]


def money_text(value: Decimal | None) -> str | None:
    """Yuan with two places, as the agencies send it; None stays None."""
    return None if value is None else f"{value:.2f}"


def control_json(c: ControlRecord) -> dict[str, Any]:
    """A seizure or freeze in the camelCase the JSON agencies use."""
    return {
        "court": c.court,
        "caseNumber": c.case_number,
        "since": c.since.isoformat(),
        "until": c.until.isoformat() if c.until else None,
        "queuePosition": c.queue_position,
        "claim": None if c.claim is None else f"{c.claim:.2f}",
    }
