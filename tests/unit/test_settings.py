"""Settings: defaults, cross-field checks, production refusals, clear one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from companion.errors import ConfigError
from companion.settings import load_settings


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    return monkeypatch


def test_defaults_are_embedded_and_local() -> None:
    settings = load_settings(None)
    assert settings.db.database_url is None
    assert settings.db.redis_url is None
    assert settings.llm.vector_dimensions == 384
    assert settings.behaviour.max_proactive_per_day == 3


def test_bad_integer_names_the_variable(env: pytest.MonkeyPatch) -> None:
    env.setenv("DB_POOL_MAX_SIZE", "lots")
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    assert info.value.variable == "DB_POOL_MAX_SIZE"
    assert "integer" in info.value.problem


def test_cross_field_pool_sizes(env: pytest.MonkeyPatch) -> None:
    env.setenv("DB_POOL_MIN_SIZE", "30")
    env.setenv("DB_POOL_MAX_SIZE", "10")
    with pytest.raises(ConfigError, match="DB_POOL_MIN_SIZE: must not exceed DB_POOL_MAX_SIZE"):
        load_settings(None)


def test_cross_field_security_thresholds(env: pytest.MonkeyPatch) -> None:
    env.setenv("SECURITY_INCIDENT_THRESHOLD", "0.9")
    with pytest.raises(ConfigError, match="SECURITY_INCIDENT_THRESHOLD"):
        load_settings(None)


def test_database_url_must_be_postgres(env: pytest.MonkeyPatch) -> None:
    env.setenv("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ConfigError, match="DATABASE_URL: must be a postgresql:// URL"):
        load_settings(None)


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"REQUIRE_AUTHENTICATION": "false", "JWT_SECRET_KEY": "x" * 40}, "REQUIRE_AUTHENTICATION"),
        ({}, "JWT_SECRET_KEY"),
        (
            {
                "JWT_SECRET_KEY": "x" * 40,
                "DATABASE_URL": "postgresql://companion:changeme@db/companion",
            },
            "DATABASE_URL",
        ),
    ],
)
def test_production_refuses_unsafe(
    env: pytest.MonkeyPatch, extra: dict[str, str], variable: str
) -> None:
    env.setenv("ENVIRONMENT", "production")
    for key, value in extra.items():
        env.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    assert info.value.variable == variable


def test_production_accepts_safe(env: pytest.MonkeyPatch) -> None:
    env.setenv("ENVIRONMENT", "production")
    env.setenv("JWT_SECRET_KEY", "k" * 48)
    env.setenv("DATABASE_URL", "postgresql://companion:S3cure-and-long@db/companion")
    assert load_settings(None).is_production


def test_discord_bot_token_alias(env: pytest.MonkeyPatch) -> None:
    env.setenv("DISCORD_BOT_TOKEN", "abc")
    env.setenv("DISCORD_ADMIN_IDS", "1, 2")
    settings = load_settings(None)
    assert settings.channels.discord_token == "abc"
    assert settings.channels.discord_admin_ids == [1, 2]


def test_env_file_is_read(tmp_path: os.PathLike[str]) -> None:
    from pathlib import Path

    path = Path(tmp_path) / ".env"
    path.write_text("MAX_PROACTIVE_PER_DAY=1\n")
    assert load_settings(path).behaviour.max_proactive_per_day == 1


def test_cli_exits_2_with_one_line() -> None:
    env = {**os.environ, "GATEWAY_PORT": "99999"}
    result = subprocess.run(
        [sys.executable, "-m", "companion.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("configuration error: GATEWAY_PORT:")


def test_env_example_documents_every_variable() -> None:
    from pathlib import Path

    from companion.settings import Settings

    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    documented = {
        line.split("=", 1)[0].strip()
        for line in example.splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    expected = {
        name.upper()
        for section in Settings.model_fields.values()
        for name in section.annotation.model_fields  # type: ignore[union-attr]
    }
    assert expected - documented == set()
    assert documented - expected == set()
