"""Revisions: the ``store`` branch for the store database, ``audit`` for the audit log's."""
