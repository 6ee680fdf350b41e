"""The memo of verified tokens: bounded in count, each honoured for its time only."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway import auth
from gateway.auth import Principal

_P = Principal(subject="s", officer_id="o", court="c", roles=frozenset(), scopes=frozenset())

_steps = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.sampled_from("abcdef")),
        st.tuples(st.just("get"), st.sampled_from("abcdef")),
        st.tuples(st.just("wait"), st.floats(0, 4)),
    ),
    max_size=60,
)


@given(steps=_steps)
def test_it_honours_what_a_model_of_it_honours(steps: list[tuple[str, object]]) -> None:
    now = [0.0]
    memo = auth._Remembered(maxsize=3, ttl=5.0, clock=lambda: now[0])
    model: dict[str, float] = {}  # token -> when it was put, oldest first
    for step, arg in steps:
        if step == "wait":
            assert isinstance(arg, float)
            now[0] += arg
        elif step == "put":
            assert isinstance(arg, str)
            memo.put(arg, (_P, now[0]))
            model.pop(arg, None)
            while len(model) >= 3:
                del model[next(iter(model))]
            model[arg] = now[0]
        else:
            assert isinstance(arg, str)
            put = model.get(arg)
            expected = None if put is None or now[0] >= put + 5.0 else (_P, put)
            assert memo.get(arg) == expected
        assert len(memo) <= 3
