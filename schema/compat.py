"""The schema against its last release: every breaking change must be on the record.

``python -m schema.compat`` (run by ``make check``) compares the SDL this code builds with
the SDL of the last release (``docs/schema/liandong-<version>.graphql``) using graphql-core's
``find_breaking_changes``. Each breaking change must be written, in graphql-core's own words,
in the schema changelog (``docs/schema/CHANGELOG.md``): a client team reads there what broke
and why, and nothing breaks by accident. Dangerous changes (an enum value added, an optional
argument) are printed, not refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

from graphql import GraphQLSchema, build_schema, find_breaking_changes, find_dangerous_changes

__all__ = ["RELEASED", "SCHEMA_CHANGELOG", "unrecorded_breaks"]

DOCS = Path(__file__).resolve().parents[1] / "docs" / "schema"
RELEASED = DOCS / "liandong-0.1.0.graphql"
SCHEMA_CHANGELOG = DOCS / "CHANGELOG.md"


def unrecorded_breaks(old: GraphQLSchema, new: GraphQLSchema, changelog: str) -> list[str]:
    """The breaking changes from ``old`` to ``new`` that ``changelog`` does not name."""
    return [
        c.description for c in find_breaking_changes(old, new) if c.description not in changelog
    ]


def main() -> int:
    from schema import build_schema as build_ours
    from schema.federation import public_sdl

    old = build_schema(RELEASED.read_text(encoding="utf-8"))
    new = build_schema(public_sdl(build_ours()))
    for change in find_dangerous_changes(old, new):
        print(f"note: {change.description}")
    missing = unrecorded_breaks(old, new, SCHEMA_CHANGELOG.read_text(encoding="utf-8"))
    for description in missing:
        print(f"breaking, not in {SCHEMA_CHANGELOG.name}: {description}", file=sys.stderr)
    if missing:
        print(
            f"{len(missing)} breaking change(s) since {RELEASED.name}: write each, in these"
            f" words and with the reason, under Unreleased in docs/schema/{SCHEMA_CHANGELOG.name}",
            file=sys.stderr,
        )
        return 1
    print(f"schema: no unrecorded breaking change since {RELEASED.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
