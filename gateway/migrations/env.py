"""Alembic's environment: run on the connection ``gateway.migrations.runner`` opened.

Two databases, one script directory: the ``store`` branch migrates the store (cases,
restrictions, assistance requests, ...), the ``audit`` branch the audit log. Each keeps its
own version table, so they may share one database or live in two.
"""

from __future__ import annotations

from alembic import context

from gateway.migrations.runner import target

config = context.config
connection = config.attributes["connection"]
metadata, version_table = target(config.attributes["database"])
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=version_table,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
