"""The executor's shortcuts change nothing: same data, same errors, as graphql-core's path."""

from __future__ import annotations

import asyncio
import enum
import gc
from typing import Any

import pytest
import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.permission import BasePermission

from schema.fast.executor import FastExecutionContext
from schema.fast.lean_resolvers import lean_with_args, use_lean_resolvers
from schema.fast.prepared import ParsedInPath, ValidatedByText


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Deny(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.interface
class Thing:
    label: str


@strawberry.type
class Box(Thing):
    size: int

    @strawberry.field
    async def later_size(self) -> int:
        await asyncio.sleep(0)
        return None if self.size == 1 else self.size  # type: ignore[return-value]


@strawberry.type
class Bag(Thing):
    colour: Colour


@strawberry.type
class Leafy:
    name: str
    maybe: str | None
    count: int
    colour: Colour
    tags: list[str]
    broken: str  # set to None: a null for a non-null field
    wrong: int  # set to a string: serialising fails
    things: list[Thing]
    # A plain attribute behind a permission class: no shortcut may read it directly.
    hidden: str = strawberry.field(default="secret", permission_classes=[Deny])

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.name.upper() * times

    @strawberry.field
    def boom(self) -> str | None:
        raise ValueError("boom")

    @strawberry.field
    def mixed(self) -> list[Box | None]:
        # An object, a missing item and a failed one: each item's own answer or error.
        return [Box(label="m", size=self.count), None, ValueError("bad item")]  # type: ignore[list-item]

    @strawberry.field
    def strict(self) -> list[Box]:
        # A missing item in a list of non-null items: the list itself is null.
        return [Box(label="s", size=1), None] if self.count == 1 else []  # type: ignore[list-item]

    @strawberry.field
    def pending(self) -> list[Box | None]:
        async def later(size: int) -> Box | None:
            await asyncio.sleep(0)
            if size == 2:
                raise ValueError("later item")
            return Box(label="p", size=size)

        # Awaitable items beside plain ones.
        return [Box(label="q", size=0), later(1), later(2)]  # type: ignore[list-item]

    @strawberry.field
    def colours(self) -> list[Colour]:
        # A member, and a plain value the enum knows (strawberry's fallback answers it).
        return [Colour.BLUE, "red"] if self.count % 2 else [Colour.RED]  # type: ignore[list-item]

    @strawberry.field
    def tupled(self) -> list[str] | None:
        # An iterable that is not a list, and a bare string: graphql-core's own errors.
        return ("a", "b") if self.count % 2 else "ab"  # type: ignore[return-value]

    @strawberry.field
    def grid(self) -> list[list[Box | None]]:
        # Lists of lists, with a failed item and a non-null label left null deep inside.
        bad = Box(label=None, size=self.count)  # type: ignore[arg-type]
        return [[Box(label="g", size=self.count), None], [ValueError("cell"), bad]]  # type: ignore[list-item]

    @strawberry.field
    def flags(self) -> list[bool | None]:
        return [True, 1, None]  # type: ignore[list-item]

    @strawberry.field
    async def late(self) -> str | None:
        await asyncio.sleep(0)
        raise ValueError("late")

    @strawberry.field
    async def late_things(self, times: int = 1) -> list[Thing]:
        await asyncio.sleep(0)
        # A non-null label left null: the error propagates from an item completed later.
        return [Box(label=None if self.count == 1 else "b", size=times)]  # type: ignore[arg-type]


@strawberry.type
class Query:
    @strawberry.field
    def items(self, n: int) -> list[Leafy]:
        return [
            Leafy(
                name=f"n{i}",
                maybe=None if i % 2 else f"m{i}",
                count=i,
                colour=Colour.RED if i % 2 else Colour.BLUE,
                tags=[f"t{i}"] * i,
                broken=None if i == 1 else "ok",  # type: ignore[arg-type]
                wrong="x" if i == 2 else i,  # type: ignore[arg-type]
                things=[Box(label=f"box{i}", size=i), Bag(label=f"bag{i}", colour=Colour.RED)],
            )
            for i in range(n)
        ]


FAST = strawberry.Schema(
    query=Query, types=[Box, Bag], execution_context_class=FastExecutionContext
)
PLAIN = strawberry.Schema(query=Query, types=[Box, Bag])
# As the gateway builds it: the executor's plans and direct resolvers, with arguments.
LEAN = strawberry.Schema(
    query=Query, types=[Box, Bag], execution_context_class=FastExecutionContext
)
assert use_lean_resolvers(LEAN) > 0

QUERIES = [
    "{ items(n: 3) { name maybe count colour tags shout(times: 2) boom } }",
    "{ items(n: 3) { name broken } }",
    "{ items(n: 4) { count wrong } }",
    "query($s: Boolean!) { items(n: 2) { name @skip(if: $s) count @include(if: $s) } }",
    "{ items(n: 2) { ...F } } fragment F on Leafy { name colour __typename }",
    "{ a: items(n: 1) { name } b: items(n: 2) { n: name name } }",
    # One field's details, two object types: each gets its own sub-selection.
    "{ items(n: 3) { things { label __typename ... on Box { size } ... on Bag { colour } } } }",
    "{ items(n: 2) { things { ... on Bag { colour label } ... on Box { label } } } }",
    "{ items(n: 2) { name hidden } }",
    "{ items(n: 2) { hidden } }",
    "{ items(n: 3) { count mixed { label size } } }",
    "{ items(n: 3) { count strict { label } } }",
    "{ items(n: 3) { colours tupled flags grid { label size } } }",
    "{ items(n: 2) { grid { __typename } things { label } colours } }",
]


def _run(schema: strawberry.Schema, query: str, variables: dict[str, Any]) -> Any:
    result = schema.execute_sync(query, variable_values=variables)
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("skip", [True, False])
def test_same_answer_as_graphql_core(query: str, skip: bool) -> None:
    variables = {"s": skip} if "$s" in query else {}
    for _ in range(2):  # the second run reads the shared selections
        assert _run(FAST, query, variables) == _run(PLAIN, query, variables)
        assert _run(LEAN, query, variables) == _run(PLAIN, query, variables)


ASYNC_QUERIES = [
    "{ items(n: 3) { name late count } }",
    "{ items(n: 3) { lateThings { label ... on Box { size } } } }",
    "{ items(n: 3) { lateThings(times: 2) { __typename label } name } }",
    # A list at hand whose items finish later: one of them fails after the field returned.
    "{ items(n: 3) { name things { label ... on Box { laterSize } } } }",
    "{ items(n: 3) { name pending { label size } mixed { size } } }",
    "{ items(n: 3) { pending { laterSize } } }",
    "query($t: Int!) { items(n: 3) { shout(times: $t) lateThings(times: $t) { label } } }",
]


async def _run_async(schema: strawberry.Schema, query: str) -> Any:
    result = await schema.execute(query, variable_values={"t": 3} if "$t" in query else None)
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors


@pytest.mark.parametrize("query", ASYNC_QUERIES)
async def test_awaited_fields_same_answer_as_graphql_core(query: str) -> None:
    for _ in range(2):  # the second run reads the shared selections and their plans
        assert await _run_async(FAST, query) == await _run_async(PLAIN, query)
        assert await _run_async(LEAN, query) == await _run_async(PLAIN, query)


def test_fields_with_arguments_get_a_direct_resolver() -> None:
    fields = LEAN._schema.type_map["Leafy"].fields  # type: ignore[attr-defined]
    assert lean_with_args(fields["shout"]) is not None
    assert lean_with_args(fields["lateThings"]) is not None
    assert lean_with_args(fields["hidden"]) is None  # a permission class: strawberry's path


def test_selections_depending_on_variables_are_not_shared() -> None:
    query = QUERIES[3]
    assert _run(FAST, query, {"s": True})[0] == {"items": [{"count": 0}, {"count": 1}]}
    assert _run(FAST, query, {"s": False})[0] == {"items": [{"name": "n0"}, {"name": "n1"}]}


@settings(max_examples=60, deadline=None)
@given(
    fields=st.lists(
        st.sampled_from(
            [
                "name",
                "maybe",
                "count",
                "colour",
                "tags",
                "broken",
                "wrong",
                "boom",
                "__typename",
                "alias: count",
                "alias: name",
                "colours",
                "tupled",
                "flags",
                "grid { label size }",
                "mixed { __typename label }",
                "strict { label }",
                "things { label ... on Bag { colour } }",
            ]
        ),
        min_size=1,
        max_size=6,
    ),
    n=st.integers(min_value=0, max_value=4),
)
def test_any_selection_same_answer(fields: list[str], n: int) -> None:
    query = "{ items(n: " + str(n) + ") { " + " ".join(fields) + " } }"
    assert _run(FAST, query, {}) == _run(PLAIN, query, {})
    assert _run(LEAN, query, {}) == _run(PLAIN, query, {})


def test_objects_of_plain_scalars_take_no_call_per_field(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    execute_field = FastExecutionContext.execute_field

    def counted(self: FastExecutionContext, parent_type: Any, *args: Any) -> Any:
        calls.append(parent_type.name)
        return execute_field(self, parent_type, *args)

    monkeypatch.setattr(FastExecutionContext, "execute_field", counted)
    query = "{ items(n: 3) { name maybe count colour __typename } }"
    for _ in range(2):
        calls.clear()
        assert _run(FAST, query, {}) == _run(PLAIN, query, {})
    assert calls == ["Query"]  # the items themselves: one plan each, no field calls
    calls.clear()
    broken = "{ items(n: 3) { name broken } }"
    # Item 1's broken is null: that field alone goes down graphql-core's path, to its error.
    assert _run(FAST, broken, {}) == _run(PLAIN, broken, {})
    assert calls.count("Leafy") == 1


def test_planned_lists_and_leaves_are_completed_without_graphql_cores_dispatch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    complete_value = FastExecutionContext.complete_value

    def counted(self: FastExecutionContext, return_type: Any, *args: Any) -> Any:
        calls.append(str(return_type))
        return complete_value(self, return_type, *args)

    monkeypatch.setattr(FastExecutionContext, "complete_value", counted)
    query = "{ items(n: 3) { colours mixed { label size } } }"
    for _ in range(2):
        calls.clear()
        assert _run(LEAN, query, {}) == _run(PLAIN, query, {})
    # The root field's list and its three items (the root is not planned), then only what
    # graphql-core must decide: the missing and the failed item of each ``mixed`` and the
    # plain "red" among item 1's ``colours``. Lists, boxes and enum members take no call.
    assert calls.count("[Leafy!]!") == calls.count("[Leafy!]") == 1
    assert calls.count("Leafy!") == calls.count("Leafy") == 3
    assert calls.count("Box") == 6
    assert calls.count("Colour!") == calls.count("Colour") == 1
    assert len(calls) == 16


async def test_an_operation_leaves_no_reference_cycles() -> None:
    # Each request's objects must go when it ends, not wait for a garbage collection.
    # (Parsing and validating make cycles of their own: the gateway caches both.)
    cached = strawberry.Schema(
        query=Query,
        types=[Box, Bag],
        execution_context_class=FastExecutionContext,
        extensions=[lambda: ParsedInPath(maxsize=8), ValidatedByText],
    )
    query = "{ items(n: 3) { name colour things { label ... on Box { size } } } }"
    assert (await cached.execute(query)).errors is None
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            result = await cached.execute(query)
            assert result.errors is None
        del result
        assert gc.collect() == 0
    finally:
        gc.enable()
