"""Production settings refuse demo, example and placeholder secrets (issue 14)."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from server.config import Settings, weak_secret_reason

GOOD = secrets.token_urlsafe(48)


def production(**kw: object) -> Settings:
    values: dict[str, object] = {"env": "production", "secret_key": GOOD,
                                 "lookup_pepper": secrets.token_urlsafe(48)}
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "why"), [
    (None, "is not set"),
    ("changeme", "is not set"),
    ("short-" + GOOD[:20], "shorter than 32"),
    ("test-secret-" + "s" * 40, "demo or example"),  # the test suite's own key
    ("e2e-secret-" + "s" * 40, "demo or example"),
    ("Zq" + "s" * 40, "not random"),
    ("gridone-demo-" + GOOD, "demo or example"),
    ("example-" + GOOD, "demo or example"),
    ("a1" * 30, "not random"),
], ids=["none", "changeme", "short", "suite-key", "e2e-key", "repeated", "demo-prefix",
        "example-prefix", "pattern"])  # stable ids: every test worker collects the same tests
def test_production_refuses_weak_secrets(value: str | None, why: str) -> None:
    assert why in (weak_secret_reason(value) or "")
    with pytest.raises(ValidationError, match="GRIDONE_SECRET_KEY"):
        production(secret_key=value)
    with pytest.raises(ValidationError, match="GRIDONE_LOOKUP_PEPPER"):
        production(lookup_pepper=value)


def test_production_accepts_random_secrets_and_dev_does_not_need_them() -> None:
    assert weak_secret_reason(GOOD) is None
    assert production().env == "production"
    assert Settings(env="dev", secret_key="dev").secret_key == "dev"  # dev makes its own


def test_production_refuses_a_weak_metrics_token_and_any_origin() -> None:
    with pytest.raises(ValidationError, match="GRIDONE_METRICS_TOKEN"):
        production(metrics_token="prometheus")
    assert production(metrics_token=secrets.token_urlsafe(32)).metrics_token
    with pytest.raises(ValidationError, match="GRIDONE_CORS_ORIGINS"):
        production(cors_origins=["*"])
    assert production(cors_origins=["https://office.example.cn"]).cors_origins


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDONE_SCHEDULER_INTERVALS", '{"billing-tick": 30}')
    monkeypatch.setenv("GRIDONE_CORS_ORIGINS", '["https://a.example.cn"]')
    monkeypatch.setenv("GRIDONE_LOGIN_USER_MAX_FAILURES", "7")
    s = Settings()
    assert s.scheduler_intervals == {"billing-tick": 30.0}
    assert s.cors_origins == ["https://a.example.cn"]
    assert s.login_user_max_failures == 7
