"""The case search never takes a personal number, whatever else it is given."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import InvalidInput
from mocks.world import World
from schema.case_list import CaseFilter, case_search


def filter_of(field: str, text: str) -> CaseFilter:
    return CaseFilter(number=text) if field == "number" else CaseFilter(applicant=text)


IDS = World(seed=3, people=40).person_ids()
DIGITS = re.compile(r"[0-9０-９]{6,}")
texts = st.text(alphabet=st.sampled_from("0123456789０１苏执（）号银行张建 -"), max_size=40)


@given(text=texts, field=st.sampled_from(["number", "applicant"]))
def test_a_run_of_six_digits_is_refused_and_anything_shorter_is_searched(
    text: str, field: str
) -> None:
    given_filter = filter_of(field, text)
    if DIGITS.search(text):
        with pytest.raises(InvalidInput) as refused:
            case_search(given_filter)
        assert refused.value.extensions["rule"] == "NO_ID_SEARCH"
        assert text not in refused.value.message  # the term is not echoed back
    else:
        assert getattr(case_search(given_filter), field) == (text.strip() or None)


@given(debtor=st.sampled_from(IDS), start=st.integers(0, 12), size=st.integers(6, 18))
def test_no_part_of_a_resident_id_long_enough_to_name_someone_is_a_term(
    debtor: str, start: int, size: int
) -> None:
    part = debtor[start : start + size]
    if not DIGITS.search(part):
        return  # a tail holding the check letter X and fewer than six digits
    for field in ("number", "applicant"):
        with pytest.raises(InvalidInput):
            case_search(filter_of(field, f"张{part}"))
