"""Settings: the only place that reads the environment (prefix ``GRIDONE_``)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "dev", "development"}
#: Words that mark a value copied from a demo, a test or an example: never a real secret.
_DEMO_MARKERS = ("demo", "test", "example", "changeme", "change-me", "placeholder", "secret-",
                 "gridone", "xxxx")
#: A random secret of 32+ characters uses many different characters; "s" * 40 does not.
_MIN_DISTINCT_CHARS = 12


def weak_secret_reason(value: str | None) -> str | None:
    """Why ``value`` is not fit to be a production secret (None: it is)."""
    if value is None or value.strip().lower() in _PLACEHOLDERS:
        return "is not set"
    if len(value) < 32:
        return "is shorter than 32 characters"
    lowered = value.lower()
    marker = next((m for m in _DEMO_MARKERS if m in lowered), None)
    if marker:
        return f"looks like a demo or example value (contains {marker!r})"
    if len(set(value)) < _MIN_DISTINCT_CHARS:
        return "is not random (too few different characters)"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDONE_", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in data_dir")
    secret_key: str | None = Field(
        default=None, description="JWT signing key; dev: random, persisted in data_dir")
    lookup_pepper: str | None = Field(
        default=None, description="Key for ID-card / certificate lookup digests")
    photo_dir: Path | None = None
    # -- photo and document storage (issue 14) ---------------------------------------------
    storage: Literal["local", "s3"] = Field(
        default="local", description="Where photo/document bytes live: local (photo_dir) or "
        "s3 (an S3-compatible object store: AWS S3, MinIO, Ceph …)")
    s3_bucket: str | None = Field(default=None, description="Bucket (storage=s3)")
    s3_prefix: str = Field(default="photos/", description="Key prefix inside the bucket")
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible service (MinIO, Ceph); "
        "none: AWS")
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    max_body_bytes: int = 1_000_000
    stalled_check: bool = True
    #: warm the sync download and push up at start-up: their statements compiled, the
    #: heap grown (``server.sync.pull.warm_up``, ``server.sync.bulk.warm_up``)
    warm_up: bool = True
    # -- HTTP: CORS and security headers --------------------------------------------------
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser "
        "(exact, e.g. https://office.example.cn); empty: no cross-origin calls")
    cors_allow_credentials: bool = False
    security_headers: bool = True
    hsts_seconds: int = Field(
        default=0, ge=0, description="Strict-Transport-Security max-age; set it (e.g. "
        "31536000) when the server is only reached over HTTPS")
    trusted_proxies: list[str] = Field(
        default_factory=list, description="Addresses of reverse proxies whose "
        "X-Forwarded-For is believed (the client address rate limits count by)")
    # -- operations ------------------------------------------------------------------------
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    metrics_token: str | None = Field(
        default=None, description="Bearer token /metrics asks for; production: /metrics is "
        "off unless this is set")
    metrics_multiproc_dir: Path | None = Field(
        default=None, description="Prometheus multiprocess folder (set by `gridone serve "
        "--workers N`); None: this process's own counters")
    # -- scheduler (issue 10) --------------------------------------------------------------
    scheduler_enabled: bool | None = Field(
        default=None, description="Run the in-process scheduler; default: on, except in "
        "env=test")
    scheduler_intervals: dict[str, float] = Field(
        default_factory=dict, description="Seconds between runs per job name, overriding "
        "the job's default, e.g. {\"billing-tick\": 30}")
    # -- rate limits (kept in the database: they hold across workers) ---------------------
    rate_limits: bool = True
    login_user_max_failures: int = Field(default=5, ge=1)
    login_address_max_failures: int = Field(default=30, ge=1)
    login_failure_window_s: int = Field(default=900, ge=1)
    login_lockout_s: int = Field(default=900, ge=1)
    login_lockout_max_s: int = Field(default=4 * 3600, ge=1)
    sync_push_per_minute: int = Field(default=120, ge=1, description="Push requests per "
                                      "device and budget window")
    sync_pull_per_minute: int = Field(default=600, ge=1, description="Pull pages per device "
                                      "and budget window")
    sync_budget_window_s: int = Field(default=60, ge=1)
    sync_push_path: Literal["bulk", "per_op"] = Field(
        default="bulk", description="How a push is decided: set-wise per chunk "
        "(server.sync.bulk) or op by op (server.sync.push, the reference)")
    map_tile_url: str | None = Field(
        default=None, description="XYZ tile template for the office map, e.g. "
        "https://tiles.example/{z}/{x}/{y}.png; none: markers on a plain background")
    webapp_dir: Path = Field(
        default=Path("dist/app"), description="The installable device app "
        "(`python -m mobile.web.build`), served at /app/")
    office_url: str | None = Field(
        default=None, description="Where the office desk (the app at /office) is served; "
        "the API's /office redirects there")

    @model_validator(mode="after")
    def _storage_is_complete(self) -> Settings:
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("GRIDONE_STORAGE=s3 needs GRIDONE_S3_BUCKET")
        return self

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.env == "production":
            for name in ("secret_key", "lookup_pepper"):
                reason = weak_secret_reason(getattr(self, name))
                if reason:
                    raise ValueError(
                        f"GRIDONE_{name.upper()} {reason}: production needs a random value "
                        "of at least 32 characters (e.g. python -c 'import secrets; "
                        "print(secrets.token_urlsafe(48))')")
            if self.metrics_token is not None and weak_secret_reason(self.metrics_token):
                raise ValueError("GRIDONE_METRICS_TOKEN "
                                 f"{weak_secret_reason(self.metrics_token)}")
            if "*" in self.cors_origins:
                raise ValueError("GRIDONE_CORS_ORIGINS may not be '*' in production: "
                                 "list the office's origins")
        return self

    # -- derived values -------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gridone.db').resolve()}"

    @property
    def runs_scheduler(self) -> bool:
        if self.scheduler_enabled is not None:
            return self.scheduler_enabled
        return self.env != "test"

    @property
    def resolved_photo_dir(self) -> Path:
        return self.photo_dir or self.data_dir / "photos"

    def resolved_secret(self, name: Literal["secret_key", "lookup_pepper"]) -> str:
        """The configured secret, or (outside production) one made once and kept in data_dir."""
        value = getattr(self, name)
        if value:
            return str(value)
        path = self.data_dir / f".{name}"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value
