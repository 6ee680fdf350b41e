"""An _entities record lists each reference by index into its own cases and debtors."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.entities import EntityReference
from gateway.audit.record import debtor_key, prepare
from gateway.masking import mask_id
from mocks.world import World
from tests.audit_entries import make_entry

KEY = b"k" * 32
IDS = World(seed=11, people=40).person_ids()
CASES = ("（2024）苏0508执8157号", "（2023）苏0508执2356号", "（2025）京0105执12号")
CODES = (None, "FORBIDDEN", "INVALID_INPUT")

references = st.builds(
    EntityReference,
    typename=st.sampled_from(("Debtor", "Case", "?")),
    case_number=st.none() | st.sampled_from(CASES),
    debtor_id=st.none() | st.sampled_from(IDS),
    code=st.sampled_from(CODES),
)


@given(st.lists(references, min_size=1, max_size=60), st.lists(st.sampled_from(IDS), max_size=5))
def test_each_reference_maps_back_to_its_case_and_debtor(
    refs: list[EntityReference], touched: list[str]
) -> None:
    stored = prepare(make_entry(references=tuple(refs), debtors=tuple(touched)), KEY)
    rows = stored["detail"]["entities"]["rows"]
    assert len(rows) == len(refs)
    for ref, (typename, case, debtor, code) in zip(refs, rows, strict=True):
        assert (typename, code) == (ref.typename, ref.code)
        assert (None if case is None else stored["cases"][case]) == ref.case_number
        if ref.debtor_id is None:
            assert debtor is None
        else:
            assert stored["debtors"][debtor] == mask_id(ref.debtor_id)
            assert stored["debtor_keys"][debtor] == debtor_key(KEY, ref.debtor_id)


def test_the_list_survives_a_detail_cut_to_its_digest() -> None:
    refs = tuple(EntityReference("Debtor", CASES[0], i, "FORBIDDEN") for i in IDS)
    errors = [
        {"code": "FORBIDDEN", "message": "x" * 1000, "path": f"_entities.{i}"} for i in range(40)
    ]
    stored = prepare(make_entry(references=refs, detail={"errors": errors}), KEY)
    assert stored["detail"]["truncated"] is True
    assert len(stored["detail"]["entities"]["rows"]) == len(IDS)


class Info:
    """Stands for a framework object whose printed form holds the whole request."""

    def __repr__(self) -> str:
        return f"Info(context={IDS[0]})"


def test_no_framework_object_is_printed_into_a_record() -> None:
    stored = prepare(make_entry(variables={"r": [{"info": Info()}]}, detail={"x": Info()}), KEY)
    assert stored["variables"] == {"r": [{"info": "<Info>"}]}
    assert stored["detail"] == {"x": "<Info>"}
