"""Strawberry's schema-extension hooks, found once per extension class instead of per request.

For every stage of every request (operation, parse, validation, execution) strawberry asks
each extension whether it has the hook, checks what kind of function it is and wraps it
in a new ``contextmanager``: for our seven extensions that was ~48 µs of every look-up,
with nothing in it that can change between requests. Here the answer is kept per
(extension class, hook): a generator hook is wrapped once and the stage enters the
wrapped hooks on an ``ExitStack``, the same way and in the same order as strawberry does,
so exceptions travel through the hooks as they did. A stage whose hooks are anything
else (async generators, plain callables) is left to strawberry's own manager.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

__all__ = ["LeanExtensionsRunner", "LeanRunnerSchema"]

_Enter = Callable[[SchemaExtension], contextlib.AbstractContextManager[None]]
_UNSUPPORTED = object()  # a hook this module leaves to strawberry
_wrapped: dict[tuple[type[SchemaExtension], str], Any] = {}


def _hook(cls: type[SchemaExtension], name: str) -> Any:
    """The wrapped generator hook ``name`` of ``cls``, None if it has none, or unsupported."""
    key = (cls, name)
    found = _wrapped.get(key, _UNSUPPORTED)
    if found is not _UNSUPPORTED:
        return found
    fn = getattr(cls, name)
    if fn is getattr(SchemaExtension, name):
        found = None
    elif inspect.isgeneratorfunction(fn):
        found = contextlib.contextmanager(fn)
    else:
        found = _UNSUPPORTED
    _wrapped[key] = found
    return found


class _Stage:
    """One stage's hooks, entered in the extensions' order and left in reverse."""

    __slots__ = ("hooks", "stack")

    def __init__(self, hooks: list[tuple[_Enter, SchemaExtension]]) -> None:
        self.hooks = hooks
        self.stack: contextlib.ExitStack | None = None

    def __enter__(self) -> None:
        # As in strawberry: a hook failing here leaves those entered before it suspended.
        stack = self.stack = contextlib.ExitStack()
        for enter, extension in self.hooks:
            stack.enter_context(enter(extension))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        # Like strawberry's managers, a stage never swallows the exception it ends with,
        # even when a hook does (its code after ``yield`` still runs).
        stack, self.stack = self.stack, None
        if stack is not None:
            stack.__exit__(exc_type, exc_val, exc_tb)

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc_val, exc_tb)


class LeanExtensionsRunner(SchemaExtensionsRunner):
    """``SchemaExtensionsRunner`` whose stages use the hooks found once per class."""

    def _stage(self, manager: type[ExtensionContextManagerBase]) -> Any:
        # ``manager`` is strawberry's manager for the stage: it names the hook, and it is
        # what the stage falls back to.
        hooks: list[tuple[_Enter, SchemaExtension]] = []
        for extension in self.extensions:
            enter = _hook(type(extension), manager.HOOK_NAME)
            if enter is _UNSUPPORTED:
                return manager(self.extensions)
            if enter is not None:
                hooks.append((enter, extension))
        return _Stage(hooks)

    def operation(self) -> OperationContextManager:
        stage: OperationContextManager = self._stage(OperationContextManager)
        return stage

    def validation(self) -> ValidationContextManager:
        stage: ValidationContextManager = self._stage(ValidationContextManager)
        return stage

    def parsing(self) -> ParsingContextManager:
        stage: ParsingContextManager = self._stage(ParsingContextManager)
        return stage

    def executing(self) -> ExecutingContextManager:
        stage: ExecutingContextManager = self._stage(ExecutingContextManager)
        return stage


class LeanRunnerSchema:
    """Mixin for a ``strawberry.Schema`` subclass: run its extensions with the lean runner.

    ``lean_extensions=False`` keeps strawberry's own runner (the shortcuts turned off).
    """

    def __init__(self, *args: Any, lean_extensions: bool = True, **kwargs: Any) -> None:
        self.lean_extensions = lean_extensions
        super().__init__(*args, **kwargs)

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        if not self.lean_extensions:
            runner: SchemaExtensionsRunner = super().create_extensions_runner(  # type: ignore[misc]
                execution_context, extensions
            )
            return runner
        return LeanExtensionsRunner(execution_context=execution_context, extensions=extensions)
