"""Settings: the only place that reads the environment (prefix ``GRIDONE_``)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "dev", "development"}


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
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    max_body_bytes: int = 1_000_000
    stalled_check: bool = True
    cors_origins: list[str] = Field(default_factory=list)
    map_tile_url: str | None = Field(
        default=None, description="XYZ tile template for the office map, e.g. "
        "https://tiles.example/{z}/{x}/{y}.png; none: markers on a plain background")
    office_url: str | None = Field(
        default=None, description="Where the office desk (the app at /office) is served; "
        "the API's /office redirects there")

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.env == "production":
            for name in ("secret_key", "lookup_pepper"):
                value = getattr(self, name)
                if value is None or value.strip().lower() in _PLACEHOLDERS or len(value) < 32:
                    raise ValueError(
                        f"GRIDONE_{name.upper()} must be set to a random value of at least "
                        "32 characters in production")
        return self

    # -- derived values -------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gridone.db').resolve()}"

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
