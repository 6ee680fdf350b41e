"""``store_0007``: assistance requests get an index on their court, on SQLite and PostgreSQL.

The approval inbox and ``agencyWorkload`` select a court's requests; without the index each
is a scan of every court's. A database from before the revision gains it on upgrade, a
database the gateway made itself already has it, and a downgrade drops it.
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.migrations.runner import alembic_config, upgrade
from gateway.store.cases import Store

INDEX = "ix_assistance_requests_court"


async def _court_indexes(url: str) -> list[list[str | None]]:
    def read(conn: Connection) -> list[list[str | None]]:
        found = inspect(conn).get_indexes("assistance_requests")
        return [list(i["column_names"]) for i in found if i["name"] == INDEX]

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()


async def _downgrade(url: str, revision: str) -> None:
    config = alembic_config("store")

    def run(conn: Connection) -> None:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def test_an_older_store_gains_the_court_index_and_loses_it_on_downgrade(
    database_url: str,
) -> None:
    await upgrade(database_url, "store", "store_0006")
    assert await _court_indexes(database_url) == []
    await upgrade(database_url, "store")
    assert await _court_indexes(database_url) == [["court"]]

    await _downgrade(database_url, "store_0006")
    assert await _court_indexes(database_url) == []
    await upgrade(database_url, "store")  # and up again
    assert await _court_indexes(database_url) == [["court"]]


async def test_a_store_the_gateway_made_has_the_index_and_upgrades_cleanly(
    database_url: str,
) -> None:
    store = await Store.open(database_url)  # create_all, as an embedded gateway does
    await store.close()
    assert await _court_indexes(database_url) == [["court"]]
    await upgrade(database_url, "store")  # adopted; store_0007 finds the index there
    assert await _court_indexes(database_url) == [["court"]]
