"""Alembic migrations of the store and the audit log (see ``gateway/migrate.py``)."""
