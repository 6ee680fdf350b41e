"""The look-ahead reads a paged ``restrictions`` like a whole one, and no other argument;
its reading of a selection is remembered unless a variable under it could change it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse
from strawberry.types.nodes import SelectedField, convert_selections

from resolvers.prefetch import selected_names, selections_of


def field(name: str, **arguments: Any) -> SelectedField:
    return SelectedField(name=name, directives={}, arguments=arguments, selections=[])


def test_a_page_of_restrictions_is_loaded_ahead_like_all_of_them() -> None:
    assert selected_names([field("restrictions")]) == {"restrictions"}
    assert selected_names([field("restrictions", first=5, after="x")]) == {"restrictions"}
    # An argument that may narrow what is loaded still leaves the field to its resolver.
    assert selected_names([field("restrictions", first=5, other=1)]) == set()


def _raw_info(document: str) -> SimpleNamespace:
    """What the look-ahead reads of graphql-core's info: the root field node, the fragments."""
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = operation.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    return SimpleNamespace(field_nodes=[root], fragments=fragments, variable_values={}, schema=None)


class _Info:
    """What ``selections_of`` reads of strawberry's ``Info``; counts selection rebuilds."""

    def __init__(self, document: str) -> None:
        self._raw_info = _raw_info(document)
        self.builds = 0
        self.kinds: Any = ["VEHICLE"]

    @property
    def selected_fields(self) -> list[SelectedField]:
        self.builds += 1
        assets = field("assets", kinds=self.kinds)
        return [SelectedField("debtors", {}, {}, [assets])]


def test_the_root_fields_own_variables_do_not_stop_the_selection_being_remembered() -> None:
    info = _Info(
        "query($ids: [ID!]!, $c: String!) "
        "{ debtors(ids: $ids, caseNumber: $c) { assets(kinds: [VEHICLE]) { id } } }"
    )
    first = selections_of(info)[0]  # type: ignore[arg-type]
    again = selections_of(info)[0]  # type: ignore[arg-type]
    assert first == again == {"assets:VEHICLE"}
    assert info.builds == 1


def test_kinds_from_a_variable_are_worked_out_on_every_request() -> None:
    info = _Info(
        "query($ids: [ID!]!, $k: [AssetKind!]) "
        '{ debtors(ids: $ids, caseNumber: "x") { ...F } } '
        "fragment F on Debtor { assets(kinds: $k) { id } }"
    )
    assert selections_of(info)[0] == {"assets:VEHICLE"}  # type: ignore[arg-type]
    info.kinds = ["EQUITY"]
    assert selections_of(info)[0] == {"assets:EQUITY"}  # type: ignore[arg-type]
    assert info.builds == 2


class _Document:
    """``selections_of``'s view of a document: strawberry's selection of its root field."""

    def __init__(self, document: str) -> None:
        raw = self._raw_info = _raw_info(document)
        self.selected_fields = convert_selections(raw, raw.field_nodes)  # type: ignore[arg-type]


def test_the_spouses_fields_are_read_through_fragments() -> None:
    info = _Document(
        '{ debtor(id: "x", caseNumber: "c") { identity { name } marriage { status ...M } } }'
        " fragment M on Marriage { spouse { maskedId ... on Debtor { identity { name } } } }"
    )
    names, spouse = selections_of(info)  # type: ignore[arg-type]
    assert names == {"identity", "marriage"}
    assert spouse == {"maskedId", "identity"}


def test_no_spouse_is_looked_ahead_under_a_directive_or_without_marriage() -> None:
    skipped = _Document(
        'query($s: Boolean!) { debtor(id: "x", caseNumber: "c") '
        "{ marriage { spouse @include(if: $s) { identity { name } } } } }"
    )
    assert selections_of(skipped) == (frozenset({"marriage"}), frozenset())  # type: ignore[arg-type]
    none = _Document('{ debtor(id: "x", caseNumber: "c") { identity { name } } }')
    assert selections_of(none) == (frozenset({"identity"}), frozenset())  # type: ignore[arg-type]
