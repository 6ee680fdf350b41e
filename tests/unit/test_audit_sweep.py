"""The suite-wide audit sweep finds what it looks for, and nothing else."""

from __future__ import annotations

from gateway.masking import mask_id
from mocks.world import World
from tests.audit_sweep import Sweep, offences

IDS = World(seed=5, people=20).person_ids()


def test_a_clear_resident_id_is_found_wherever_it_sits() -> None:
    for text in (IDS[0], f'{{"r": [{{"id": "{IDS[1]}"}}]}}', f"officer looked at {IDS[2]}."):
        assert offences(text) != []


def test_masked_ids_hashes_and_other_numbers_are_not_offences() -> None:
    wrong_check = IDS[0][:17] + ("0" if IDS[0][17] != "0" else "1")
    inside_a_hash = "3fa9" + IDS[1] + "c0de"  # a hex digest may hold a run of 18 digits
    card = IDS[2] + "7"  # a longer number (a bank card) is not an id
    for text in (mask_id(IDS[0]), wrong_check, inside_a_hash, card, "2026-12-05T19:55:00"):
        assert offences(text) == [], text


def test_a_printed_framework_object_is_found() -> None:
    assert offences("{'r': [{'info': Info(_raw_info=GraphQLResolveInfo(...))}]}") == ["Info("]


def test_the_sweep_names_each_offending_record() -> None:
    sweep = Sweep()
    sweep.check("audit.db", [(1, mask_id(IDS[0])), (2, IDS[3]), (3, "Info(x)")])
    assert (sweep.logs, sweep.records) == (1, 3)
    assert [o.split(":")[0] for o in sweep.offending] == ["audit.db seq 2", "audit.db seq 3"]
