"""Schema migrations (Alembic) of the store database and the audit log's database.

``liandong db upgrade`` brings both to the newest revision. The migrations live in
``gateway/migrations``: one script directory with two branches, ``store`` and ``audit``,
each with a version table of its own, so the two databases may be one or two. A database
the gateway made itself (the store and the audit log create missing tables when they open)
is adopted: stamped at the revision its tables match, then upgraded.

Revisions are written against the shared ``MetaData`` objects (``gateway.store.tables`` and
the modules that add tables to it; ``gateway.audit.tables``); a test upgrades empty SQLite
and PostgreSQL databases and checks that Alembic finds no difference from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

__all__ = ["DATABASES", "alembic_config", "target", "upgrade", "upgrade_all"]

DATABASES = ("store", "audit")
SCRIPTS = Path(__file__).parent


def target(database: str) -> tuple[MetaData, str]:
    """The ``MetaData`` a database's migrations must produce, and its version table."""
    if database == "store":
        import gateway.store.assistance_tables  # these add their tables to the metadata
        import gateway.store.case_costs
        import gateway.store.org_persons
        import gateway.watch.tables  # noqa: F401
        from gateway.store.tables import metadata

        return metadata, "liandong_store_version"
    if database == "audit":
        from gateway.audit.tables import audit_metadata

        return audit_metadata, "liandong_audit_version"
    raise ValueError(f"unknown database {database!r}; expected one of {DATABASES}")


def alembic_config(database: str) -> Config:
    """An Alembic ``Config`` for ``database``'s branch (no ini file needed)."""
    target(database)  # fail early on an unknown name
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["database"] = database
    return config


# The tables each revision creates, to recognise a database ``create_all`` made (the store
# creates missing tables when it opens) and adopt it at the revision it matches.
_ADOPT = {
    "store": [
        ("store_0002", {"asset_watches", "asset_events"}),
        ("store_0001", {"cases", "restrictions", "assistance_requests", "assistance_events"}),
    ],
    "audit": [
        ("audit_0004", {"audit_debtor_sets"}),
        ("audit_0003", {"audit_chains"}),
        ("audit_0001", {"audit_records", "audit_index"}),
    ],
}


def _upgrade(conn: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = conn
    database = config.attributes["database"]
    _, version_table = target(database)
    tables = set(inspect(conn).get_table_names())
    if version_table not in tables:
        # Made by create_all, never migrated: stamp the newest revision whose tables (and
        # those of every earlier one) are all there, then upgrade from it.
        adopt = _ADOPT[database]
        for i, (rev, _made) in enumerate(adopt):
            if all(made <= tables for _, made in adopt[i:]):
                command.stamp(config, rev)
                break
    command.upgrade(config, revision)


async def upgrade(url: str, database: str, revision: str = "heads") -> None:
    """Migrate the database at ``url`` (``store`` or ``audit``) to ``revision``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    config = alembic_config(database)
    rev = f"{database}@head" if revision == "heads" else revision
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, config, rev)
    finally:
        await engine.dispose()


def _chain_files(url: str) -> list[Path]:
    from gateway.audit.chain_files import chain_files, sqlite_path

    main = sqlite_path(url)
    return [] if main is None else chain_files(main)


async def upgrade_all(settings: Any) -> list[str]:
    """Upgrade the store and the audit databases of ``settings``; say what was done."""
    done = []
    await upgrade(settings.database_url, "store")
    done.append("store")
    if settings.audit.enabled:
        url = settings.audit.database_url
        await upgrade(url, "audit")
        # On SQLite, each writer's chain file beside the main one is an audit database too.
        for path in _chain_files(url):
            await upgrade(make_url(url).set(database=str(path)).render_as_string(False), "audit")
        done.append("audit")
    return done
