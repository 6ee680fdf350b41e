"""What the scenarios stand on: gateway config files, cases in the store, tokens, queries.

Each gateway the bench starts gets a TOML file of its own (data dir in a temp dir, the mocks'
URLs, a fixed JWT secret, cache and audit settings) and a SQLite store seeded with the cases
its scenario needs, before it starts. The queries are the README's profile query
(``examples/profile.graphql``) and the same selection over ``debtors(ids:)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from bench.processes import REPO
from connectors.domain import DebtorKind
from gateway.auth import issue_token
from gateway.settings import AuthSettings, Settings, load_settings
from gateway.store.cases import CaseIn, Store
from mocks.signing import DEFAULT_PS_SECRET

__all__ = [
    "COURT",
    "IDENTITY_MANY",
    "OFFICER",
    "PROFILE",
    "PROFILE_MANY",
    "GatewayConfig",
    "audit_available",
    "bench_token",
    "person_cases",
    "prepare_audit_log",
    "seed_cases",
    "toml_dumps",
    "write_jsonl",
]

SECRET = "bench-secret-0123456789abcdef0123456789"
OFFICER = "bench-officer"
COURT = "江苏省徐州市泉山区人民法院"
COURT_CODE = "苏0311"
# Long enough that nothing the bench cached expires while it runs (the defaults go down to
# 300 s for exit bans, which a slow run could outlast between warm-up and measurement).
TTL_S = 7200.0
FACETS = ("identity", "organization", "marriage", "company_roles", "assets", "exit_bans")

PROFILE = (REPO / "examples" / "profile.graphql").read_text(encoding="utf-8")
PROFILE_MANY = PROFILE.replace("$id: ID!", "$ids: [ID!]!").replace(
    "debtor(id: $id,", "debtors(ids: $ids,"
)
assert PROFILE_MANY != PROFILE and "$id:" not in PROFILE_MANY, "examples/profile.graphql changed"
IDENTITY_MANY = """query Identities($ids: [ID!]!, $caseNumber: String!) {
  debtors(ids: $ids, caseNumber: $caseNumber) { identity { name } }
}"""


def audit_available() -> bool:
    """Whether the settings have ``audit.enabled`` (the switch the audit-cost scenario needs)."""
    audit = Settings.model_fields.get("audit")
    model = getattr(audit, "annotation", None)
    fields = getattr(model, "model_fields", {})
    return "enabled" in fields


@dataclass
class GatewayConfig:
    """One gateway's settings file, as the bench varies it."""

    data_dir: Path
    mock_urls: Mapping[str, str]
    cache: bool = True
    max_entries: int = 50_000
    audit: bool | None = True  # None: leave the setting out (it may not exist yet)
    audit_file_per_writer: bool | None = None  # None: the default layout
    audit_commit_on_loop: bool | None = None  # None: the default
    # Off unless a scenario is about it: the warm, audit and memory rows measure building an
    # answer from the fact cache (comparable across releases); with the response cache a
    # repeated query is served from bytes, which the peer scenario measures against Hive's.
    response_cache: bool = False
    ca_concurrency: int = 4
    profile: str = "prod"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.data_dir / 'liandong.db'}"

    def as_dict(self) -> dict[str, Any]:
        agencies: dict[str, Any] = {name: {"base_url": url} for name, url in self.mock_urls.items()}
        agencies["public_security"]["options"] = {
            "client_id": "bench",
            "secret": DEFAULT_PS_SECRET.decode(),
        }
        agencies["civil_affairs"]["max_concurrency"] = self.ca_concurrency
        config: dict[str, Any] = {
            "profile": self.profile,
            "host": "127.0.0.1",
            "data_dir": str(self.data_dir),
            "auth": {"secret": SECRET},
            "cache": {
                "enabled": self.cache,
                "max_entries": self.max_entries,
                "ttl_s": dict.fromkeys(FACETS, TTL_S),
            },
            # The bench is one officer sending thousands of requests: no per-user throttle.
            "limits": {"rate_per_minute": 100_000_000},
            "agencies": agencies,
        }
        if self.audit is not None:
            config["audit"] = {"enabled": self.audit}
            if self.audit_file_per_writer is not None:
                config["audit"]["file_per_writer"] = self.audit_file_per_writer
            if self.audit_commit_on_loop is not None:
                config["audit"]["commit_on_loop"] = self.audit_commit_on_loop
        config["response_cache"] = {"enabled": self.response_cache}
        config.update(self.extra)
        return config

    def write(self, path: Path) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(toml_dumps(self.as_dict()), encoding="utf-8")
        return path


def toml_dumps(data: Mapping[str, Any], prefix: str = "") -> str:
    """A TOML document for nested dicts of strings, numbers and booleans."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            tables.append((f"{prefix}{key}", value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for name, table in tables:
        out += f"\n[{name}]\n" + toml_dumps(table, f"{name}.")
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are valid TOML
    raise TypeError(f"no TOML for {type(value).__name__}")


def person_cases(ids: Sequence[str], per_case: int, first_seq: int) -> list[CaseIn]:
    """Cases of ``per_case`` debtors each over ``ids``, numbered from ``first_seq``."""
    return [
        CaseIn(
            number=f"（2026）{COURT_CODE}执{first_seq + n}号",
            court=COURT,
            applicant="某银行股份有限公司徐州分行",
            amount_due=Decimal("1000000.00"),
            # The world's ids are valid resident ids; checking 100,000 of them would only
            # slow the set-up down.
            debtor_ids=[(pid, DebtorKind.PERSON) for pid in ids[i : i + per_case]],
            officers=[OFFICER],
        )
        for n, i in enumerate(range(0, len(ids), per_case))
    ]


async def seed_cases(database_url: str, cases: Iterable[CaseIn]) -> None:
    """Register ``cases`` in the store at ``database_url`` (the gateway is not running yet)."""
    store = await Store.open(database_url)
    try:
        for case in cases:
            await store.upsert_case(case)
    finally:
        await store.close()


async def prepare_audit_log(config: Path) -> None:
    """Create the audit log's tables before the gateway's workers start.

    Two workers opening a new SQLite audit database at once race its ``CREATE TABLE``, and
    the loser stops the whole gateway (seen on this machine; the case store serialises its
    DDL, the audit store does not yet). Opening it once here, as a deployment would at
    install time, keeps that start-up race out of the figures.
    """
    from gateway.audit.store import open_audit_log

    settings = load_settings(config)
    if settings.audit.enabled:
        log = await open_audit_log(settings)
        await log.aclose()


def bench_token() -> str:
    """An officer's token the bench's gateways accept (signed with the config's secret)."""
    return issue_token(
        SECRET.encode(),
        settings=AuthSettings(),
        subject=OFFICER,
        court=COURT,
        roles=["officer"],
        ttl_s=3600,
    )


def write_jsonl(path: Path, items: Iterable[object]) -> Path:
    """One JSON document per line."""
    path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
    return path
