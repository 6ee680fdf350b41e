"""Import target for ``uvicorn --factory gateway.web.asgi:app_factory`` (settings from env/TOML)."""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.log_setup import configure_logging
from gateway.settings import load_settings
from gateway.web.app import create_app

__all__ = ["app_factory"]


def app_factory() -> Starlette:
    """The gateway with settings from ``$LIANDONG_CONFIG`` and ``LIANDONG_*`` variables."""
    settings = load_settings()
    configure_logging(settings.log)  # each worker process sets up its own
    return create_app(settings, freeze_gc=True)
