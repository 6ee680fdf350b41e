"""The look-ahead reads a paged ``restrictions`` like a whole one, and no other argument."""

from __future__ import annotations

from typing import Any

from strawberry.types.nodes import SelectedField

from resolvers.prefetch import selected_names


def field(name: str, **arguments: Any) -> SelectedField:
    return SelectedField(name=name, directives={}, arguments=arguments, selections=[])


def test_a_page_of_restrictions_is_loaded_ahead_like_all_of_them() -> None:
    assert selected_names([field("restrictions")]) == {"restrictions"}
    assert selected_names([field("restrictions", first=5, after="x")]) == {"restrictions"}
    # An argument that may narrow what is loaded still leaves the field to its resolver.
    assert selected_names([field("restrictions", first=5, other=1)]) == set()
