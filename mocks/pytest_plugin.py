"""pytest fixtures for the mock agencies (entry point ``pytest11: liandong_mocks``).

``liandong_world``: a fresh 1,000-person :class:`~mocks.world.World` (seed 7).
``liandong_mocks``: the four agencies serving that world on ephemeral 127.0.0.1 ports, as
:class:`~mocks.runner.RunningMocks`; stopped after the test. They run on the test's own
event loop: call them with an async client (a synchronous one blocks the loop they need to
answer, and hangs).
``liandong_mocks_threaded``: the same agencies on a thread and loop of their own
(:class:`~mocks.threaded.ThreadedMocks`), for plain ``def`` tests and synchronous clients.

pytest imports this module for every run in every environment where liandong is
installed, so it imports only pytest at module level; the world and the servers are
imported when a fixture is first used. The async fixture is declared with
``pytest_asyncio.fixture`` so it works in strict mode as well as auto mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mocks.runner import RunningMocks
    from mocks.threaded import ThreadedMocks
    from mocks.world import World

__all__ = ["liandong_mocks", "liandong_mocks_threaded", "liandong_world"]

#: The demo world the fixtures build.
WORLD_SEED = 7
WORLD_PEOPLE = 1000

_F = TypeVar("_F", bound=Callable[..., Any])


def _async_fixture(func: _F) -> _F:
    """``pytest_asyncio.fixture``, or a fixture that explains it is missing."""
    try:
        import pytest_asyncio
    except ImportError:  # a project without pytest-asyncio must still be able to run pytest

        def missing(*args: Any, **kwargs: Any) -> Any:
            pytest.fail(f"the {func.__name__} fixture needs pytest-asyncio installed")

        missing.__name__ = func.__name__
        return cast(_F, pytest.fixture(missing))
    return cast(_F, pytest_asyncio.fixture(func))


@pytest.fixture
def liandong_world() -> World:
    """A fresh synthetic world: 1,000 people, seed 7 (the mocks may change it, so per test)."""
    from mocks.world import World

    return World(seed=WORLD_SEED, people=WORLD_PEOPLE)


@_async_fixture
async def liandong_mocks(liandong_world: World) -> AsyncIterator[RunningMocks]:
    """The four mock agencies serving ``liandong_world`` on 127.0.0.1; stopped afterwards."""
    from mocks.runner import start_mocks

    running = await start_mocks(liandong_world)
    try:
        yield running
    finally:
        await running.aclose()


@pytest.fixture
def liandong_mocks_threaded(liandong_world: World) -> Iterator[ThreadedMocks]:
    """The four agencies on their own thread and loop, for synchronous tests and clients."""
    from mocks.threaded import ThreadedMocks

    with ThreadedMocks(liandong_world) as running:
        yield running
