"""``liandong demo``: mock agencies, demo cases and the gateway, in one process.

Everything is embedded: SQLite under the data directory, the in-process cache, the four
mock agencies on the ports the default settings point at. The demo officer is assigned to
every demo case, so the printed token works for all of them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from rich.console import Console
from rich.panel import Panel

from gateway.auth import issue_token
from gateway.migrations.runner import upgrade_all
from gateway.settings import Settings
from gateway.store.cases import CaseIn, Store
from gateway.validation import debtor_id
from gateway.web.app import create_app
from gateway.web.server import start_server
from gateway.web.services import Services
from mocks.records import CaseRecord
from mocks.runner import start_mocks
from mocks.world import World

__all__ = ["DEMO_JUDGE", "DEMO_OFFICER", "DemoWorld", "demo_token", "run_demo", "seed_cases"]

DEMO_OFFICER = "demo-officer"
DEMO_JUDGE = "demo-judge"
DEMO_SEED = 7
DEMO_PEOPLE = 1000
DEMO_CASES = 50


@dataclass(frozen=True, slots=True)
class DemoWorld:
    """The synthetic world and the cases registered from it."""

    world: World
    cases: list[CaseRecord]

    @classmethod
    def make(cls, seed: int = DEMO_SEED, people: int = DEMO_PEOPLE) -> DemoWorld:
        world = World(seed=seed, people=people)
        return cls(world, world.cases(DEMO_CASES))

    @property
    def court(self) -> str:
        return self.cases[0].court


async def seed_cases(
    store: Store, cases: list[CaseRecord], officers: list[str], judges: list[str]
) -> None:
    """Register the demo cases, with the given officers and judges assigned to each."""
    for case in cases:
        await store.upsert_case(
            CaseIn(
                number=case.number,
                court=case.court,
                applicant=case.applicant,
                amount_due=case.amount_due,
                debtor_ids=[debtor_id(d) for d in case.debtor_ids],
                officers=officers,
                judges=judges,
                filed_on=case.filed_on,
            )
        )


def demo_token(
    settings: Settings,
    court: str,
    *,
    officer: str = DEMO_OFFICER,
    roles: tuple[str, ...] = ("officer",),
    scopes: tuple[str, ...] = (),
) -> str:
    """A dev token signed with the local secret."""
    return issue_token(
        settings.jwt_secret(),
        settings=settings.auth,
        subject=officer,
        court=court,
        roles=list(roles),
        scopes=list(scopes),
        name="演示执行员" if "officer" in roles else officer,
    )


def _ports(settings: Settings) -> dict[str, int]:
    return {name: urlsplit(a.base_url).port or 0 for name, a in settings.agencies.items()}


async def run_demo(settings: Settings, *, seed: int = DEMO_SEED, people: int = DEMO_PEOPLE) -> None:
    """Start mocks and gateway, print how to use them, serve until interrupted."""
    console = Console()
    console.print(f"[dim]generating {people} people (seed {seed})…[/dim]")
    demo = await asyncio.to_thread(DemoWorld.make, seed, people)
    mocks = await start_mocks(demo.world, ports=_ports(settings))
    # A data dir left by an earlier version is migrated (``liandong db upgrade``) first.
    await upgrade_all(settings)
    store = await Store.open(settings.database_url)
    await seed_cases(store, demo.cases, [DEMO_OFFICER], [DEMO_JUDGE])
    # The console's sign-in page offers the demo users of the demo court.
    shown = settings.console.model_copy(update={"demo_court": demo.court})
    settings = settings.model_copy(update={"console": shown})
    from gateway.cli.witness import demo_witness

    witness, settings = await demo_witness(settings)  # heads go to a witness mock
    services = await Services.start(settings, store=store)
    server = await start_server(
        create_app(settings, services=services, freeze_gc=True), settings.host, settings.port
    )
    token = demo_token(settings, demo.court)
    first = demo.cases[0]
    kind = debtor_id(first.debtor_ids[0])[1]
    console.print(
        Panel.fit(
            "\n".join(
                [
                    f"Console    [bold]{server.url}/console[/bold]",
                    f"GraphiQL   [bold]{server.url}/graphql[/bold]",
                    f"Agencies   {', '.join(f'{k} {v}' for k, v in mocks.urls.items())}",
                    f"Database   {settings.database_url}",
                    f"Witness    {settings.heads.witness} (signed tree heads)",
                    f"Demo case  {first.number}  debtor {first.debtor_ids[0]} ({kind.value})",
                ]
            ),
            title="liandong demo",
        )
    )
    console.print("Dev token (send it as the header  Authorization: Bearer <token>):")
    # Printed bare, on one line, so that it can be copied whole.
    print(token, flush=True)
    console.print("Try examples/profile.graphql with examples/profile.json. Ctrl-C stops.")
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
        await services.aclose()
        if witness is not None:
            await witness.aclose()
        await mocks.aclose()
