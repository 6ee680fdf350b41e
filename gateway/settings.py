"""Typed settings: an optional TOML file, then ``LIANDONG_*`` environment variables.

Precedence, highest first: keyword overrides given to ``load_settings``, environment
variables (nested with ``__``: ``LIANDONG_AUTH__ISSUER``), the TOML file, the defaults.
Every model forbids unknown keys, so a typo fails start-up with ``SettingsError`` naming
the key instead of being silently ignored. Secrets are ``SecretStr`` and print as ``**********``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import secrets
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from gateway.console_settings import ConsoleSettings
from gateway.metrics_settings import MetricsSettings
from gateway.response_cache_settings import ResponseCacheSettings
from gateway.settings_sections import (
    DEFAULT_AGENCIES,
    AgencySettings,
    AssistanceSettings,
    SectionModel,
    TreeHeadSettings,
    WatchSettings,
    default_agencies,
)
from gateway.telemetry_settings import LogSettings, TelemetrySettings

__all__ = [
    "AGENCY_NAMES",
    "AgencySettings",
    "AssistanceSettings",
    "AuditSettings",
    "AuthSettings",
    "CacheSettings",
    "EventSettings",
    "LimitSettings",
    "Settings",
    "SettingsError",
    "WatchSettings",
    "load_settings",
]

ENV_PREFIX = "LIANDONG_"
CONFIG_ENV = "LIANDONG_CONFIG"  # path of the TOML file when none is passed explicitly
AGENCY_NAMES = ("public_security", "civil_affairs", "land_registry", "market_regulation")

Algorithm = Literal["HS256", "HS384", "HS512", "RS256", "RS384", "RS512"]

DEFAULT_TTL_S: dict[str, float] = {
    "identity": 3600,
    "organization": 3600,
    "marriage": 3600,
    "company_roles": 1800,
    "assets": 600,
    "exit_bans": 300,
}

# The TOML file of the load in progress; a class attribute would leak between loads.
_config_file: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "liandong_config_file", default=None
)


class SettingsError(ValueError):
    """Settings could not be loaded; ``keys`` names every offending key (dotted)."""

    def __init__(self, message: str, keys: list[str] | None = None) -> None:
        super().__init__(message)
        self.keys = keys or []


def _default_algorithms() -> list[Algorithm]:
    return ["HS256"]


class AuthSettings(SectionModel):
    """JWT verification: HS* with a shared secret and/or RS* with keys from a JWKS."""

    issuer: str = "liandong"
    audience: str = "liandong-gateway"
    algorithms: list[Algorithm] = Field(default_factory=_default_algorithms, min_length=1)
    # RFC 7518 3.2: an HMAC key at least as long as the hash (PyJWT warns below that).
    secret: SecretStr | None = Field(default=None, min_length=32)
    secret_file: Path | None = None  # filled in as data_dir/jwt-secret by Settings
    jwks_file: Path | None = None
    jwks_url: str | None = None
    leeway_s: float = Field(default=30, ge=0)
    token_ttl_s: int = Field(default=8 * 3600, gt=0)


class CacheSettings(SectionModel):
    """The read cache in front of the connectors; TTLs per facet, in seconds."""

    enabled: bool = True
    max_entries: int = Field(default=50_000, ge=0)
    ttl_s: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_TTL_S))
    stale_ttl_s: float = Field(default=86400, ge=0)
    # A Redis shared by every gateway instance, behind the in-process cache (may hold a
    # password); unset: in-process only. See resolvers/cache_redis.py.
    redis_url: str | None = Field(default=None, repr=False)
    redis_timeout_s: float = Field(default=0.5, gt=0)  # a slow Redis counts as a miss

    @model_validator(mode="before")
    @classmethod
    def _merge_ttls(cls, data: Any) -> Any:
        # Setting one facet's TTL must not drop the defaults of the others.
        if isinstance(data, dict) and isinstance(data.get("ttl_s"), dict):
            data = {**data, "ttl_s": {**DEFAULT_TTL_S, **data["ttl_s"]}}
        return data


class LimitSettings(SectionModel):
    """Query cost limits, always enforced."""

    max_depth: int = Field(default=12, gt=0)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=3000, gt=0)
    max_ids: int = Field(default=500, gt=0)
    # Bytes in one request body (a 500-id profile query is about 15 KB); past it, 413.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    rate_per_minute: int = Field(default=600, gt=0)
    # Where the per-principal buckets live. auto: Redis (cache.redis_url) when set, so that
    # instances share one budget per principal; else this process's memory.
    rate_backend: Literal["auto", "local", "redis"] = "auto"
    # How long one request may wait on agencies, retries and back-off included; past it the
    # agencies still out fail with AGENCY_TIMEOUT and the rest of the answer goes out.
    deadline_s: float = Field(default=10.0, gt=0, le=300)


class AuditSettings(SectionModel):
    """The audit log: where it lives, how commits are grouped, the key for debtor look-ups.

    ``enabled = false`` exists only so that benchmarks can measure what the log costs. It
    must never be used in production: nothing is recorded, and the gateway says so loudly
    at start-up.
    """

    enabled: bool = True
    database_url: str = Field(default="", repr=False)  # empty: SQLite at data_dir/audit.db
    max_batch: int = Field(default=256, gt=0)  # records per group commit, at most
    # HMAC key under which debtor ids are indexed (the log never holds them in the clear).
    # Every gateway writing to one log must share it: set it, or share key_file.
    key: SecretStr | None = Field(default=None, min_length=32)
    key_file: Path | None = None  # filled in as data_dir/audit-key by Settings
    # This writer's chain is "<chain_id>-<writer_index>"; without chain_id, an id made once
    # and kept in data_dir/audit-chain-id (see gateway/audit/chain_id.py). `serve --workers`
    # gives each worker its own writer_index.
    chain_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$")
    writer_index: int = Field(default=0, ge=0, le=9999)
    # How often, at most, a chain records the heads it has seen of the other chains.
    witness_interval_s: float = Field(default=0.25, ge=0, le=60)
    # On SQLite, each writer appends to a file of its own beside the main file
    # (gateway/audit/chain_files.py); false: every chain in the main file.
    file_per_writer: bool = True
    # On SQLite, COMMIT (the sync) on the event loop while it stays under the switch
    # interval, rather than on a thread the loop must hand over to and hear back from.
    commit_on_loop: bool = True


class EventSettings(SectionModel):
    """The bus that tells subscriptions of assistance-request changes.

    ``auto``: Redis (``cache.redis_url``) when set, so that a subscriber on one instance
    sees changes made through another; else PostgreSQL's LISTEN/NOTIFY when the store is
    on PostgreSQL (the instances share it); else ``local`` (this process only).
    """

    backend: Literal["auto", "local", "redis", "postgres"] = "auto"


class Settings(BaseSettings):
    """All gateway settings; build with ``load_settings``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
    )

    profile: Literal["dev", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: Path = Path(".liandong")
    database_url: str = Field(default="", repr=False)  # may hold a password; empty: SQLite
    # Also serve /graphql as a Federation v2 subgraph (_service, _entities); off by default
    # so that a gateway no router fronts exposes neither (see schema/federation.py).
    federation: bool = False
    execution_shortcuts: bool = True  # off: plain strawberry execution (schema/__init__.py)
    # The client agency calls go through: "lean" (connectors/lean_transport.py: keep-alive
    # HTTP/1.1 parsed by httptools, a fraction of aiohttp's CPU a call) or "aiohttp".
    agency_http_client: Literal["lean", "aiohttp"] = "lean"
    auth: AuthSettings = Field(default_factory=AuthSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    response_cache: ResponseCacheSettings = Field(default_factory=ResponseCacheSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    heads: TreeHeadSettings = Field(default_factory=TreeHeadSettings)
    assistance: AssistanceSettings = Field(default_factory=AssistanceSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    log: LogSettings = Field(default_factory=LogSettings)
    agencies: dict[str, AgencySettings] = Field(default_factory=default_agencies)

    @model_validator(mode="before")
    @classmethod
    def _merge_agencies(cls, data: Any) -> Any:
        # LIANDONG_AGENCIES__LAND_REGISTRY__BASE_URL must change one value, not replace
        # the whole table (and with it the other three agencies).
        if isinstance(data, dict) and isinstance(data.get("agencies"), dict):
            data = {**data, "agencies": _deep_merge(DEFAULT_AGENCIES, data["agencies"])}
        return data

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        if self.profile == "prod" and self.console.demo_court:
            raise ValueError("console.demo_court: demo users are for the dev profile only")
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'liandong.db'}"
        if self.auth.secret_file is None:
            self.auth = self.auth.model_copy(update={"secret_file": self.data_dir / "jwt-secret"})
        if not self.audit.database_url:
            url = f"sqlite+aiosqlite:///{self.data_dir / 'audit.db'}"
            self.audit = self.audit.model_copy(update={"database_url": url})
        if self.audit.key_file is None:
            self.audit = self.audit.model_copy(update={"key_file": self.data_dir / "audit-key"})
        self.heads = _fill_heads(self.heads, self.data_dir)
        for name, agency in self.agencies.items():
            if agency.connector is None:
                self.agencies[name] = agency.model_copy(update={"connector": name})
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def jwt_secret(self) -> bytes:
        """The HMAC secret: configured, else read from ``secret_file``, else generated there.

        The generated secret is 32 random bytes written as 64 hex characters (so the file
        survives editors and ``cat``), created atomically with mode 0600: several processes
        starting at once all end up with the one secret that won the race.
        """
        if self.auth.secret is not None:
            return self.auth.secret.get_secret_value().encode()
        return _load_or_create_secret(
            self.auth.secret_file or self.data_dir / "jwt-secret", "auth.secret_file"
        )

    def audit_key(self) -> bytes:
        """The audit log's HMAC key: configured, else from ``audit.key_file`` (made if absent)."""
        if self.audit.key is not None:
            return self.audit.key.get_secret_value().encode()
        return _load_or_create_secret(
            self.audit.key_file or self.data_dir / "audit-key", "audit.key_file"
        )


def _load_or_create_secret(path: Path, setting: str) -> bytes:
    """Read the secret at ``path``, generating it there first if the file does not exist."""
    try:
        return _read_secret(path, setting)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32).hex().encode() + b"\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process got there first
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return _read_secret(path, setting)


def _fill_heads(heads: TreeHeadSettings, data_dir: Path) -> TreeHeadSettings:
    defaults = {
        "key_file": data_dir / "tree-head-key",
        "trusted_keys_dir": data_dir / "tree-head-keys",
        "outbox_dir": data_dir / "tree-heads-outbox",
        "witness": str(data_dir / "tree-heads"),
    }
    return heads.model_copy(update={k: v for k, v in defaults.items() if not getattr(heads, k)})


def _deep_merge(base: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in given.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = _deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def _read_secret(path: Path, setting: str) -> bytes:
    value = path.read_bytes().strip()
    if not value:
        raise SettingsError(f"{setting}: {path} is empty", [setting])
    return value


def _unknown_env_keys() -> list[str]:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    bad = []
    for var in os.environ:
        upper = var.upper()
        if not upper.startswith(ENV_PREFIX) or upper == CONFIG_ENV:
            continue
        if upper.split("__", 1)[0] not in known:
            bad.append(var)
    return sorted(bad)


def _error_message(exc: ValidationError) -> tuple[str, list[str]]:
    lines, keys = [], []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "<root>"
        keys.append(key)
        if err["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown setting")
        else:
            lines.append(f"{key}: {err['msg']}")
    return "invalid settings: " + "; ".join(lines), keys


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Load settings from ``config_file`` (or ``$LIANDONG_CONFIG``), the environment and
    ``overrides``; raise ``SettingsError`` naming the offending key on any problem."""
    if config_file is None and os.environ.get(CONFIG_ENV):
        config_file = Path(os.environ[CONFIG_ENV])
    if config_file is not None:
        if not config_file.is_file():
            raise SettingsError(f"config file not found: {config_file}", ["config_file"])
        try:
            tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{config_file}: not valid TOML ({exc})", ["config_file"]) from exc
    unknown = _unknown_env_keys()
    if unknown:
        raise SettingsError(f"unknown environment setting(s): {', '.join(unknown)}", unknown)
    token = _config_file.set(config_file)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        message, keys = _error_message(exc)
        raise SettingsError(message, keys) from None
    finally:
        _config_file.reset(token)
    _check_connectors(settings)
    return settings


def _check_connectors(settings: Settings) -> None:
    # An agency's table name is its connector's name unless it says otherwise, so a typo
    # there would otherwise pass and stop the gateway inside its server's start-up.
    from connectors.registry import names

    known = names()
    bad = {n: a.connector for n, a in settings.agencies.items() if a.connector not in known}
    if bad:
        keys = [f"agencies.{name}.connector" for name in bad]
        which = "; ".join(
            f"agencies.{n}.connector: unknown connector {c!r}" for n, c in bad.items()
        )
        hint = f"known: {', '.join(known)}; is the agency's name misspelt?"
        raise SettingsError(f"invalid settings: {which} ({hint})", keys)
