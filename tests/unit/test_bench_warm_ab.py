"""``bench.warm_ab``'s sides: a name, a checkout, and the audit settings it changes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench.warm_ab import Side, parse_side


def test_a_side_names_its_checkout_and_audit_settings() -> None:
    assert parse_side("A=/tmp/before") == Side("A", Path("/tmp/before"), {})
    side = parse_side("T=.,commit_on_loop=false,max_batch=64")
    assert side.name == "T" and side.repo == Path(".").resolve()
    assert side.audit == {"commit_on_loop": False, "max_batch": "64"}


@pytest.mark.parametrize("text", ["A", "=/tmp", "A=", "A=.,commit_on_loop"])
def test_a_malformed_side_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_side(text)
