"""What an asset watch remembers of a debtor's assets, and what changed between two runs.

A snapshot keeps, per asset, only what a watch reports on: that the asset exists, who
controls it (seizures, freezes, queued seizures) and its mortgages. Estimated values move
with the market and are left out, so that they never raise an event on their own.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from connectors.domain import Control, EquityStake, Mortgage, RealEstate, Vehicle

__all__ = ["AssetChange", "ChangeKind", "Snapshot", "diff", "snapshot", "snapshot_hash"]

Snapshot = dict[str, dict[str, Any]]  # asset id -> {"kind", "controls", "mortgages"}


class ChangeKind(enum.StrEnum):
    """What an ``AssetDiscovered`` event reports."""

    NEW_ASSET = "NEW_ASSET"
    ENCUMBRANCE_CHANGED = "ENCUMBRANCE_CHANGED"  # a new control, a mortgage changed
    SEIZURE_LIFTED = "SEIZURE_LIFTED"  # a control (often another court's) is gone
    ASSET_GONE = "ASSET_GONE"  # no longer the debtor's: sold, transferred, scrapped


@dataclass(frozen=True, slots=True)
class AssetChange:
    asset_id: str
    asset_kind: str
    change: ChangeKind
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _control(c: Control) -> str:
    until = c.until.isoformat() if c.until else ""
    return f"{c.kind.value}|{c.court}|{c.case_number}|{c.since.isoformat()}|{until}"


def _mortgage(m: Mortgage) -> str:
    return f"{m.creditor}|{m.amount}|{m.registered_on.isoformat()}"


def snapshot(assets: Iterable[object]) -> Snapshot:
    """The canonical form of one debtor's assets, from every agency that holds some."""
    out: Snapshot = {}
    for asset in assets:
        if not isinstance(asset, RealEstate | Vehicle | EquityStake):
            continue
        mortgages = asset.mortgages if isinstance(asset, RealEstate) else ()
        out[f"{asset.kind.value}:{asset.id}"] = {
            "kind": asset.kind.value,
            "id": asset.id,
            "controls": sorted({_control(c) for c in asset.controls}),
            "mortgages": sorted({_mortgage(m) for m in mortgages}),
        }
    return out


def snapshot_hash(snap: Snapshot) -> str:
    return hashlib.sha256(orjson.dumps(snap, option=orjson.OPT_SORT_KEYS)).hexdigest()


def diff(before: Snapshot, after: Snapshot) -> list[AssetChange]:
    """The changes from ``before`` to ``after``, ordered by asset."""
    changes: list[AssetChange] = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        kinds: list[ChangeKind] = []
        if old is None:
            kinds.append(ChangeKind.NEW_ASSET)
        elif new is None:
            kinds.append(ChangeKind.ASSET_GONE)
        else:
            if set(old["controls"]) - set(new["controls"]):
                kinds.append(ChangeKind.SEIZURE_LIFTED)
            added = set(new["controls"]) - set(old["controls"])
            if added or old["mortgages"] != new["mortgages"]:
                kinds.append(ChangeKind.ENCUMBRANCE_CHANGED)
        ref = new or old or {}
        changes.extend(AssetChange(ref["id"], ref["kind"], k, old, new) for k in kinds)
    return changes
