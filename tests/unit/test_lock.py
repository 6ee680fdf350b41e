"""``requirements.lock`` pins every declared dependency inside its range, with hashes."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# The two libraries whose internals the execution shortcuts use (see pyproject.toml).
INTERNALS_USED = ("strawberry-graphql", "graphql-core")
# ``name==version[ ; marker] \`` then one ``--hash=`` line per file.
_ENTRY = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)[^\\\n]*((?:\\\n\s+--hash=\S+\s*)*)", re.M
)


def _lock() -> dict[str, tuple[str, int]]:
    """Canonical name -> (pinned version, number of hashes)."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {
        canonicalize_name(m.group(1)): (m.group(2), m.group(3).count("--hash=sha256:"))
        for m in _ENTRY.finditer(text)
    }


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": "dev"})]


def test_every_declared_dependency_is_pinned_inside_its_range() -> None:
    pins = _lock()
    outside = {
        str(req): pins.get(canonicalize_name(req.name), ("missing", 0))[0]
        for req in _declared()
        if not req.specifier.contains(
            pins.get(canonicalize_name(req.name), ("0.dev0", 0))[0], prereleases=True
        )
        or canonicalize_name(req.name) not in pins
    }
    assert outside == {}, "run `make lock`"


def test_every_pin_carries_hashes() -> None:
    pins = _lock()
    assert len(pins) > len(_declared())  # the transitive ones are there too
    assert [name for name, (_, hashes) in pins.items() if hashes == 0] == []


@pytest.mark.parametrize("name", INTERNALS_USED)
def test_libraries_whose_internals_are_used_are_bounded_and_installed_as_locked(
    name: str,
) -> None:
    req = next(r for r in _declared() if canonicalize_name(r.name) == name)
    assert {s.operator for s in req.specifier} >= {">=", "<"}, str(req)
    installed = metadata.version(name)
    assert installed in req.specifier
    assert installed == _lock()[name][0], "reinstall: make install"
