"""The GraphiQL page (dev profile): our own page around GraphiQL's pinned files.

Everything the page loads comes from this gateway under ``ASSETS_PATH``, each script and
stylesheet with its integrity value (``gateway/console/assets.py``), so the page works on a
court intranet with no internet. Without a token the page says where it goes instead of
showing ``UNAUTHENTICATED``; the query it holds is kept in ``?q=`` so that a reload or a
shared link opens it again.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from gateway.console.assets import VENDOR_DIR, pinned_assets, verify

__all__ = ["ASSETS_PATH", "graphiql_html", "graphiql_routes"]

ASSETS_PATH = "/graphiql-assets"
_TEMPLATE = Path(__file__).parent / "static" / "graphiql.html"


@cache
def graphiql_html() -> str:
    """The page, with a tag per pinned script and stylesheet."""
    styles, scripts = [], []
    for asset in pinned_assets():
        url = html.escape(f"{ASSETS_PATH}/{asset.url_path}")
        sri = html.escape(asset.integrity)
        if asset.path.endswith(".css"):
            styles.append(f'<link rel="stylesheet" href="{url}" integrity="{sri}" />')
        elif asset.path.endswith(".js"):
            scripts.append(f'<script src="{url}" integrity="{sri}"></script>')
    page = _TEMPLATE.read_text(encoding="utf-8")
    return page.replace("{{STYLES}}", "\n    ".join(styles)).replace(
        "{{SCRIPTS}}", "\n    ".join(scripts)
    )


def graphiql_routes() -> list[BaseRoute]:
    """The route serving the pinned files; refuses to start if one is missing or altered."""
    problems = verify()
    if problems:
        raise RuntimeError(
            "GraphiQL's pinned files do not match gateway/console/static/vendor/ASSETS.json: "
            + "; ".join(problems)
            + " (make graphiql-assets restores them)"
        )
    return [Mount(ASSETS_PATH, StaticFiles(directory=VENDOR_DIR), name="graphiql-assets")]
