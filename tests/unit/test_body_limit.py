"""The body limit: a receive that stops at the first chunk past the limit, and only then."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers
from starlette.types import Message

from gateway.errors import LimitExceeded
from gateway.web.body_limit import check_declared, limited_receive
from gateway.web.door import read_body


def _messages(sizes: list[int]) -> list[Message]:
    last = len(sizes) - 1
    body: list[Message] = [
        {"type": "http.request", "body": b"x" * n, "more_body": i < last}
        for i, n in enumerate(sizes)
    ]
    return [*body, {"type": "http.disconnect"}]


@given(sizes=st.lists(st.integers(0, 300), min_size=1, max_size=12), limit=st.integers(0, 1500))
def test_chunks_pass_until_the_total_passes_the_limit(sizes: list[int], limit: int) -> None:
    messages = _messages(sizes)
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0)

    async def drain() -> list[Message]:
        bounded = limited_receive(receive, limit)
        return [await bounded() for _ in messages]

    first_over = next((i for i in range(len(sizes)) if sum(sizes[: i + 1]) > limit), None)
    if first_over is None:
        assert asyncio.run(drain()) == messages  # the disconnect too, unchanged
    else:
        with pytest.raises(LimitExceeded) as info:
            asyncio.run(drain())
        assert info.value.extensions == {"code": "LIMIT_EXCEEDED", "field": "body", "limit": limit}
        assert len(pending) == len(messages) - first_over - 1  # nothing read past that chunk


@given(
    sizes=st.lists(st.integers(0, 300), min_size=1, max_size=12),
    limit=st.integers(0, 1500),
    declared=st.none() | st.integers(0, 3000).map(str) | st.sampled_from(["", "12a", "-1"]),
)
def test_the_fast_path_reads_exactly_the_bodies_the_normal_path_accepts(
    sizes: list[int], limit: int, declared: str | None
) -> None:
    # The door (response-cache hits, plain POSTs) reads a body before the normal path does; whatever it takes
    # as a whole body must be one the normal path would not refuse, and the reverse.
    async def refused_by_normal_path() -> bool:
        pending = _messages(sizes)

        async def receive() -> Message:
            return pending.pop(0)

        bounded = limited_receive(receive, limit)
        try:
            check_declared(Headers({} if declared is None else {"content-length": declared}), limit)
            for _ in sizes:
                await bounded()
        except LimitExceeded:
            return True
        return False

    async def passed_on_by_the_door() -> bool:
        pending = _messages(sizes)

        async def receive() -> Message:
            return pending.pop(0)

        headers = {} if declared is None else {b"content-length": declared}
        return await read_body(headers, receive, [], limit) is None

    assert asyncio.run(refused_by_normal_path()) == asyncio.run(passed_on_by_the_door())
