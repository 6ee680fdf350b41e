"""Import target for ``uvicorn --factory gateway.web.asgi:app_factory`` (settings from env/TOML)."""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.settings import load_settings
from gateway.web.app import create_app

__all__ = ["app_factory"]


def app_factory() -> Starlette:
    """The gateway with settings from ``$LIANDONG_CONFIG`` and ``LIANDONG_*`` variables."""
    return create_app(load_settings(), freeze_gc=True)
