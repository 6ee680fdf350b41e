"""The enforcement console: settings of the ``[console]`` table.

The console (``/console``) is on by default in the dev profile and off in prod unless
``enabled = true``. ``demo_court`` is set by ``liandong demo`` only: the sign-in page then
offers the demo users of that court (officer, judge, auditor, agency), their tokens signed by
the gateway as the page is served. A prod gateway refuses it at start-up.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ConsoleSettings"]


class ConsoleSettings(BaseModel):
    """``/console``: whether it is served, and the court whose demo users it offers."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None  # None: on in the dev profile, off in prod
    demo_court: str = ""  # the demo's court; empty: no demo users on the sign-in page

    def serves(self, profile: str) -> bool:
        """True if ``/console`` is served under ``profile``."""
        return self.enabled if self.enabled is not None else profile == "dev"
