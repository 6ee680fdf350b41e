"""The breaking-change check of ``make check`` (``schema/compat.py``)."""

from __future__ import annotations

from graphql import build_schema

from schema.compat import RELEASED, SCHEMA_CHANGELOG, main, unrecorded_breaks

OLD = build_schema("type Query { case(number: String!): Case }  type Case { status: String! }")
NEW = build_schema("type Query { case(number: String!): Case }  type Case { status: Int! }")
BREAK = "Case.status changed type from String! to Int!."


def test_an_unrecorded_break_is_named() -> None:
    [found] = unrecorded_breaks(OLD, NEW, "## Unreleased\n")
    assert BREAK in found


def test_a_break_written_in_the_changelog_passes() -> None:
    assert unrecorded_breaks(OLD, NEW, f"- Field {BREAK}\n  Because.\n") == []


def test_the_schema_has_no_unrecorded_break_since_the_release() -> None:
    assert RELEASED.is_file() and SCHEMA_CHANGELOG.is_file()
    assert main() == 0
