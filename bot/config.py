"""Runtime configuration from the environment (and `.env` when present).

Names follow DESIGN.md; secrets only ever come from here, never from the repo.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = REPO_ROOT / "var"


def owner_only_file(path: Path) -> Path:
    """Create (or tighten) a data file readable by its owner only, in an owner-only folder under var/.

    Citizens' complaints live in these files (UU 27/2022): no other local account may read them.
    SQLite gives its -wal/-shm files the database file's mode.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.parent == VAR_DIR or VAR_DIR in path.parents:
        os.chmod(VAR_DIR, 0o700)
        os.chmod(path.parent, 0o700)
    if path.exists():
        os.chmod(path, 0o600)
    else:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return path


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite:///var/aduan.db", alias="ADUAN_DATABASE_URL")
    tracker_database_url: str | None = Field(None, alias="ADUAN_TRACKER_STORE_URL")
    rasa_url: str = Field("http://127.0.0.1:5005", alias="ADUAN_RASA_URL")
    """One Rasa server, or several separated by commas (scaled profile: sticky per sender, failover)."""
    action_server_url: str = Field("http://127.0.0.1:5055", alias="ADUAN_ACTION_SERVER_URL")
    """The action server of each Rasa server, in the same order (or one shared by all)."""
    rasa_token: SecretStr | None = Field(None, alias="ADUAN_RASA_TOKEN")
    """Rasa's `--auth-token`: required whenever Rasa listens beyond loopback; the gateway sends it."""
    lock_store_url: str | None = Field(None, alias="ADUAN_LOCK_STORE_URL")
    """redis://host:port/db: Rasa's lock store, so several Rasa servers can share one tracker store."""
    telegram_polling: bool = Field(True, alias="ADUAN_TELEGRAM_POLLING")
    """False on every gateway replica but one: Telegram allows a single long-polling consumer."""
    http_host: str = Field("127.0.0.1", alias="ADUAN_HTTP_HOST")
    http_port: int = Field(8080, alias="ADUAN_HTTP_PORT")
    data_dir: Path = Field(REPO_ROOT / "data", alias="ADUAN_DATA_DIR")
    media_dir: Path = Field(REPO_ROOT / "var" / "media", alias="ADUAN_MEDIA_DIR")
    media_secret: SecretStr | None = Field(None, alias="ADUAN_MEDIA_SECRET")
    public_base_url: str | None = Field(None, alias="ADUAN_PUBLIC_BASE_URL")
    timezone: str = Field("Asia/Jakarta", alias="ADUAN_TIMEZONE")
    retention_days: int = Field(90, alias="ADUAN_RETENTION_DAYS")
    sla_interval_seconds: float = Field(60.0, alias="ADUAN_SLA_INTERVAL_SECONDS")
    """How often the gateway runs a scheduler pass; 0 turns it off (cron runs `aduan sla tick` instead)."""

    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field("https://api.telegram.org", alias="TELEGRAM_API_BASE_URL")
    telegram_webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")

    line_channel_secret: SecretStr | None = Field(None, alias="LINE_CHANNEL_SECRET")
    line_channel_access_token: SecretStr | None = Field(None, alias="LINE_CHANNEL_ACCESS_TOKEN")
    line_api_base_url: str = Field("https://api.line.me", alias="LINE_API_BASE_URL")

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET: unsigned webhooks are refused")
        return self

    @model_validator(mode="after")
    def _servers_pair_up(self) -> Settings:
        rasa, actions = split_urls(self.rasa_url), split_urls(self.action_server_url)
        if not rasa:
            raise ValueError("ADUAN_RASA_URL is empty")
        if len(actions) not in (1, len(rasa)):
            raise ValueError(
                "ADUAN_ACTION_SERVER_URL needs one URL or one per Rasa server in ADUAN_RASA_URL "
                f"({len(actions)} action servers for {len(rasa)} Rasa servers)"
            )
        return self

    @property
    def rasa_urls(self) -> list[str]:
        return split_urls(self.rasa_url)

    @property
    def action_server_urls(self) -> list[str]:
        """One action server per Rasa server (the same one repeated when a single URL is given)."""
        urls = split_urls(self.action_server_url)
        return urls * len(self.rasa_urls) if len(urls) == 1 else urls

    @property
    def rasa_auth(self) -> dict[str, str]:
        """Query parameters every call to Rasa carries (Rasa's `--auth-token` reads `?token=`)."""
        return {"token": self.rasa_token.get_secret_value()} if self.rasa_token else {}

    @property
    def sqlalchemy_url(self) -> str:
        """Relative SQLite paths are resolved against the repo root so every process shares one file."""
        url = self.database_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            path = owner_only_file(REPO_ROOT / url.removeprefix(prefix))
            url = prefix + str(path)
        return url

    @property
    def tracker_store_url(self) -> str:
        """SQLAlchemy URL (this env's drivers) of Rasa's tracker store; it follows the ticket store.

        PostgreSQL tickets -> the same database, schema `rasa_tracker` (or `<schema>_rasa` when the
        ticket URL pins a search_path schema); SQLite tickets -> `rasa/tracker.db` beside the ticket file.
        ADUAN_TRACKER_STORE_URL overrides both. The retention purge and /healthz read it too.
        """
        if self.tracker_database_url:
            url = self.tracker_database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return derive_tracker_url(self.sqlalchemy_url)


def split_urls(value: str) -> list[str]:
    return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]


def derive_tracker_url(ticket_url: str) -> str:
    """The tracker store URL that goes with a ticket store URL (see Settings.tracker_store_url)."""
    from sqlalchemy.engine import make_url

    url = make_url(ticket_url)
    if url.get_backend_name() == "postgresql":
        options = url.query.get("options") or ""
        if isinstance(options, tuple):
            options = " ".join(options)
        kept = [part for part in options.split() if not part.startswith("-csearch_path=")]
        pinned = [part.removeprefix("-csearch_path=") for part in options.split() if part.startswith("-csearch_path=")]
        schema = f"{pinned[0].split(',')[0]}_rasa" if pinned else "rasa_tracker"
        query = dict(url.query)
        query["options"] = " ".join([*kept, f"-csearch_path={schema}"])
        return url.set(query=query).render_as_string(hide_password=False)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return f"sqlite:///{Path(url.database).resolve().parent / 'rasa' / 'tracker.db'}"
    return f"sqlite:///{REPO_ROOT / 'var' / 'rasa' / 'tracker.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
