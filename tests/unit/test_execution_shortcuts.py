"""One setting turns every execution shortcut off, and the limits answer the same either way."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from strawberry.extensions.runner import SchemaExtensionsRunner

from gateway.settings import load_settings
from schema import SchemaOptions, build_schema
from schema.fast.executor import FastExecutionContext
from schema.fast.extension_runner import LeanExtensionsRunner
from schema.fast.lean_mask import LeanMaskInternal
from schema.fast.prepared import OperationRules, ParsedInPath, ValidatedByText

_SHORTCUT_EXTENSIONS = (ParsedInPath, ValidatedByText, OperationRules, LeanMaskInternal)


def _lean_fields(schema: strawberry.Schema) -> int:
    """How many fields resolve through ``lean_resolvers`` instead of strawberry's wrapper."""
    return sum(
        1
        for gql_type in schema._schema.type_map.values()
        for field in getattr(gql_type, "fields", {}).values()
        if getattr(field, "resolve", None) is not None
        and field.resolve.__qualname__.startswith("lean_resolver.")
    )


def _extension_types(schema: strawberry.Schema) -> set[type]:
    made = (e if isinstance(e, type) else type(e()) for e in schema.extensions)
    return set(made)


@pytest.mark.parametrize("federation", [False, True])
@pytest.mark.parametrize("shortcuts", [True, False])
def test_the_setting_decides_every_shortcut(shortcuts: bool, federation: bool) -> None:
    schema = build_schema(
        SchemaOptions(shortcuts=shortcuts, federation=federation, mask_errors=True)
    )
    assert (schema.execution_context_class is FastExecutionContext) is shortcuts
    assert (_lean_fields(schema) > 0) is shortcuts
    runner = schema.create_extensions_runner(None, [])  # type: ignore[arg-type]
    assert isinstance(runner, SchemaExtensionsRunner)
    assert isinstance(runner, LeanExtensionsRunner) is shortcuts
    used = _extension_types(schema) & set(_SHORTCUT_EXTENSIONS)
    # Off, validation still runs through ValidatedByText (no suggestions in production,
    # "{}" refused), but with its cache off: the promise stays, the shortcut goes.
    expected = set(_SHORTCUT_EXTENSIONS) if shortcuts else {ValidatedByText}
    assert used == expected
    validators = [
        made
        for made in (e() if not isinstance(e, type) else None for e in schema.extensions)
        if isinstance(made, ValidatedByText)
    ]
    assert [v.cache for v in validators] == [shortcuts]


def test_the_shortcuts_are_on_unless_the_settings_say_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIANDONG_EXECUTION_SHORTCUTS", raising=False)
    assert load_settings().execution_shortcuts is True
    assert SchemaOptions().shortcuts is True
    monkeypatch.setenv("LIANDONG_EXECUTION_SHORTCUTS", "false")
    assert load_settings().execution_shortcuts is False


_DEEP = (
    "{ " + 'case(number: "x") { debtors { marriage { spouse { ' * 4 + "kind" + " } } } }" * 4 + " }"
)
_ALIASED = "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"
_LONG = "{ " + " ".join("__typename" for _ in range(3100)) + " }"
_OPERATIONS = [
    pytest.param(_DEEP, None, id="too-deep"),
    pytest.param(_ALIASED, None, id="too-many-aliases"),
    pytest.param(_LONG, None, id="too-many-tokens"),
    pytest.param("{ __schema { queryType { name } } }", None, id="introspection"),
    pytest.param("{ case(number: ", None, id="syntax"),
    pytest.param("{ nope }", None, id="unknown-field"),
    pytest.param(
        "query($n: String!) { case(number: $n) { number } }", {"n": 12}, id="bad-variable"
    ),
    pytest.param("{ __typename }", None, id="answered"),
]


async def _answer(shortcuts: bool, query: str, variables: dict[str, Any] | None) -> Any:
    schema = build_schema(SchemaOptions(shortcuts=shortcuts, introspection=False))
    result = await schema.execute(query, variable_values=variables)
    errors = [(e.message, e.extensions) for e in result.errors or ()]
    return result.data, errors


@pytest.mark.parametrize(("query", "variables"), _OPERATIONS)
async def test_limits_and_codes_are_the_same_without_the_shortcuts(
    query: str, variables: dict[str, Any] | None
) -> None:
    fast = await _answer(True, query, variables)
    plain = await _answer(False, query, variables)
    assert plain == fast
    data, errors = plain
    assert (data is not None) == (not errors)
    assert all(ext and "code" in ext for _, ext in errors)


def test_a_copied_executor_builds_its_own_resolve_info_tail() -> None:
    # graphql-core copies an executor for each subscription event, with that event as its
    # root value: the copy must not reuse the info fields read for its original.
    from copy import copy

    from schema.fast.executor import FastExecutionContext

    original = object.__new__(FastExecutionContext)
    vars(original).update(root_value="first", _info_tail=("first",))
    made = copy(original)
    assert made is not original and made.root_value == "first"
    assert made._info_tail is None and original._info_tail == ("first",)


def test_a_datetime_is_serialised_once_per_object_and_never_for_an_equal_one() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from schema import build_schema
    from schema.fast.executor import FastExecutionContext

    scalar = build_schema()._schema.type_map["DateTime"]
    ctx = object.__new__(FastExecutionContext)
    vars(ctx).update(_leaf_memo=None)
    utc = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
    beijing = utc.astimezone(timezone(timedelta(hours=8)))
    assert utc == beijing  # equal instants that serialise differently
    assert ctx.complete_leaf_value(scalar, utc) == "2026-12-06T06:00:00+00:00"
    assert ctx.complete_leaf_value(scalar, beijing) == "2026-12-06T14:00:00+08:00"
    assert ctx.complete_leaf_value(scalar, utc) == "2026-12-06T06:00:00+00:00"
    assert ctx._leaf_memo is not None and len(ctx._leaf_memo) == 2
