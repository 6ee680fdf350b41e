"""Alembic migrations of the store and the audit log (see ``gateway/migrations/runner.py``)."""
