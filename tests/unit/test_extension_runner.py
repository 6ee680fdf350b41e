"""The lean extension runner against strawberry's own: same hooks, same order, same errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import OperationContextManager
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from schema import build_schema
from schema.fast.extension_runner import LeanExtensionsRunner, _Stage

STAGES = ("operation", "parsing", "validation", "executing")
HOOKS = {
    "operation": "on_operation",
    "parsing": "on_parse",
    "validation": "on_validate",
    "executing": "on_execute",
}


def context() -> ExecutionContext:
    # The runners keep the context for extensions; these hooks never look at it.
    return ExecutionContext(query="{ a }", schema=None, allowed_operations=())  # type: ignore[arg-type]


class Boom(Exception):
    pass


class Logging(SchemaExtension):
    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log


def make_extension(index: int, stage: str, behaviour: str) -> type[Logging]:
    """An extension hooking ``stage`` that logs, and fails or swallows as ``behaviour`` says."""

    def hook(self: Logging) -> Iterator[None]:
        log: list[str] = self.log
        log.append(f"{index} enter")
        if behaviour == "fail-enter":
            raise Boom(f"{index} enter")
        try:
            yield
        except Boom as exc:
            log.append(f"{index} saw {exc}")
            if behaviour != "swallow":
                raise
        log.append(f"{index} leave")
        if behaviour == "fail-leave":
            raise Boom(f"{index} leave")

    return type(f"Ext{index}", (Logging,), {HOOKS[stage]: hook})


_extensions = st.lists(
    st.tuples(
        st.sampled_from(STAGES),
        st.sampled_from(["plain", "fail-enter", "fail-leave", "swallow"]),
    ),
    max_size=5,
)


async def run(
    runner_class: type[SchemaExtensionsRunner],
    specs: list[tuple[str, str]],
    stage: str,
    body_fails: bool,
) -> list[str]:
    log: list[str] = []
    extensions: list[SchemaExtension] = [
        make_extension(i, s, b)(log) for i, (s, b) in enumerate(specs)
    ]
    runner = runner_class(context(), extensions)
    try:
        async with getattr(runner, stage)():
            log.append("body")
            if body_fails:
                raise Boom("body")
    except Boom as exc:
        log.append(f"raised {exc}")
    return log


@settings(max_examples=200, deadline=None)
@given(specs=_extensions, stage=st.sampled_from(STAGES), body_fails=st.booleans())
async def test_same_calls_and_outcome_as_strawberry(
    specs: list[tuple[str, str]], stage: str, body_fails: bool
) -> None:
    # Strawberry leaves hooks entered before a failing one suspended; ours leaves them at
    # once. Apart from that (the extra "saw"/"leave" lines), the logs must match.
    ours = await run(LeanExtensionsRunner, specs, stage, body_fails)
    theirs = await run(SchemaExtensionsRunner, specs, stage, body_fails)
    assert ours == theirs


def test_async_hooks_are_left_to_strawberry() -> None:
    class AsyncHook(SchemaExtension):
        async def on_operation(self) -> AsyncIterator[None]:
            yield

    runner = LeanExtensionsRunner(context(), [AsyncHook()])
    assert isinstance(runner.operation(), OperationContextManager)
    assert isinstance(runner.parsing(), _Stage)


async def test_the_gateway_schema_uses_it_and_answers_as_strawberry_does() -> None:
    ours = build_schema()
    assert isinstance(ours.create_extensions_runner(None, []), LeanExtensionsRunner)  # type: ignore[arg-type]

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self) -> str:
            return "world"

    for schema in (
        strawberry.Schema(query=Query, extensions=list(ours.extensions)),
        type(ours)(query=Query, extensions=list(ours.extensions)),
    ):
        ok = await schema.execute("{ hello }")
        assert ok.data == {"hello": "world"} and not ok.errors
        bad = await schema.execute("{ nope }")
        assert bad.errors is not None
        assert bad.errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
