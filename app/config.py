"""Every knob of the service, in one ``Settings`` class read from the environment."""

from __future__ import annotations

import ipaddress
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_log_format() -> Literal["json", "text"]:
    """Text for a person at a terminal (``make run``), JSON for anything that collects logs."""
    return "text" if sys.stdout.isatty() else "json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="THERAPY_KB_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'therapy-kb.sqlite3'}",
        validation_alias=AliasChoices("THERAPY_KB_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL; sqlite:///… (default) or postgresql+psycopg://…",
    )
    seed_dir: Path = Field(default=PROJECT_ROOT / "seed", description="Seed directory to load.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    db_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Connect and statement timeout for database calls."
    )
    db_pool_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a request may wait for a database connection (queued) before 503.",
    )
    queue_limit: int = Field(
        default=500,
        ge=0,
        description="Requests per worker that may wait for a database connection; "
        "any beyond are refused at once with 503 and Retry-After.",
    )
    log_sql: bool = Field(default=False, description="Log every SQL statement (development).")
    db_pool_size: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Pooled connections; as many requests run their queries at once.",
    )
    db_max_overflow: int = Field(
        default=5,
        ge=0,
        le=100,
        description="Connections beyond the pool, for the release check and preloading.",
    )
    graceful_shutdown_seconds: int = Field(
        default=20, ge=1, description="On SIGTERM, how long in-flight requests may finish."
    )
    cache_max_age: int = Field(
        default=300, ge=0, description="Cache-Control max-age, in seconds, on successful GETs."
    )
    release_check_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often the in-memory response cache asks which release is loaded.",
    )
    response_cache_entries: int = Field(
        default=4096, ge=0, description="Responses kept in memory per worker; 0 turns it off."
    )
    preload_mb: int = Field(
        default=256,
        ge=0,
        description="Megabytes of modality records each worker loads into memory per release, "
        "so that they are never read from the database per request; 0 turns it off.",
    )
    log_format: Literal["json", "text"] = Field(
        default_factory=default_log_format,
        description="json: one JSON object per line; text: for development. Unset: text when "
        "stdout is a terminal, else json.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    rate_limit: str | None = Field(
        default=None,
        description="Requests per client address, e.g. '100/minute'; unset means no limit.",
    )
    cors_origins: list[str] = Field(
        default=["*"], description="Origins allowed to read the API from a browser."
    )
    read_only: bool = Field(
        default=False,
        description="A node that only serves (one reading a streaming replica): 'migrate' "
        "and 'seed' refuse to run, and every PostgreSQL connection is read-only "
        "(default_transaction_read_only), so no write reaches a database from it.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[A-Za-z0-9.\-\[\]:]+$",
        description="The public origin the service is known by (scheme://host[:port], no "
        "path): FHIR canonical URLs are built on it, the same whichever address a client used.",
    )
    trusted_proxies: list[str] = Field(
        default=[],
        description="Addresses or networks of proxies whose X-Forwarded-Proto and "
        "X-Forwarded-Host name the origin in the API's links; '*' trusts any peer.",
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str | None) -> str | None:
        if not value:
            return None
        from limits import parse

        parse(value)  # raises ValueError on a malformed limit
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: list[str]) -> list[str]:
        for proxy in value:
            if proxy != "*":
                ipaddress.ip_network(proxy, strict=False)  # ValueError names the bad entry
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` or override it."""
    return Settings()
