"""Direct resolvers answer exactly as strawberry's wrapped ones; masking still masks."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.permission import BasePermission
from strawberry.types import Info

from gateway.errors import InvalidInput
from schema.error_codes import MaskInternal
from schema.extensions import is_unexpected
from schema.fast.lean_resolvers import use_lean_resolvers


class Never(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Node:
    n: int

    @strawberry.field
    def double(self) -> int:
        return self.n * 2

    @strawberry.field
    def path(self, info: Info) -> str:
        return ".".join(str(p) for p in info.path.as_list())

    @strawberry.field
    def via_root(root: Node) -> int:  # strawberry passes the source as ``root``
        return root.n + 100

    @strawberry.field
    async def later(self) -> int:
        return self.n - 1

    @strawberry.field
    def children(self) -> list[Node]:
        return [Node(n=self.n * 10 + i) for i in range(2)]

    @strawberry.field
    def fails(self) -> int | None:
        raise RuntimeError("unexpected")

    @strawberry.field
    def refuses(self) -> int | None:
        raise InvalidInput("n", "is wrong")

    guarded: int | None = strawberry.field(resolver=lambda root: root.n, permission_classes=[Never])

    @strawberry.field
    def times(self, k: int = 3) -> int:
        return self.n * k


@strawberry.type
class Query:
    @strawberry.field
    def nodes(self, count: int) -> list[Node]:
        return [Node(n=i) for i in range(count)]


def _schema(lean: bool, *, mask: bool = False) -> strawberry.Schema:
    extensions = [lambda: MaskInternal(should_mask_error=is_unexpected)] if mask else []
    schema = strawberry.Schema(query=Query, extensions=extensions)
    if lean:
        use_lean_resolvers(schema)
    return schema


LEAN, PLAIN = _schema(True), _schema(False)
FIELDS = ["n", "double", "path", "viaRoot", "later", "fails", "refuses", "guarded", "times"]


async def _run(schema: strawberry.Schema, query: str) -> Any:
    result = await schema.execute(query)
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors


def test_only_fields_without_arguments_or_extensions_change() -> None:
    changed = use_lean_resolvers(_schema(False))
    # Node: double, path, viaRoot, later, children, fails, refuses (not guarded, times);
    # Query.nodes takes an argument.
    assert changed == 7


@settings(max_examples=50, deadline=None)
@given(
    fields=st.lists(st.sampled_from(FIELDS), min_size=1, max_size=6),
    nested=st.booleans(),
    count=st.integers(min_value=0, max_value=3),
)
async def test_same_answer_as_strawberry(fields: list[str], nested: bool, count: int) -> None:
    selection = " ".join(fields)
    if nested:
        selection += " children { " + selection + " }"
    query = "{ nodes(count: " + str(count) + ") { " + selection + " } }"
    assert await _run(LEAN, query) == await _run(PLAIN, query)


@pytest.mark.parametrize("lean", [True, False])
async def test_unexpected_errors_are_masked_ours_are_not(lean: bool) -> None:
    result = await _schema(lean, mask=True).execute("{ nodes(count: 1) { fails refuses } }")
    by_message = {e.message: e for e in result.errors or []}
    assert set(by_message) == {"Unexpected error.", "n: is wrong"}
    assert by_message["Unexpected error."].extensions == {"code": "INTERNAL"}
    assert result.data == {"nodes": [{"fails": None, "refuses": None}]}
