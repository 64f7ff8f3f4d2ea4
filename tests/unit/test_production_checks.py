"""``doctor --production``: each check passes on a sound configuration and fails on the
mistake it exists for."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from companion.ops import production_checks
from companion.ops.production import looks_like_placeholder
from companion.settings import Settings, load_settings

GOOD = {
    "PUBLIC_URL": "https://companion.example.org",
    "REQUIRE_AUTHENTICATION": "true",
    "JWT_SECRET_KEY": "9f1c2b7e4d8a6f3b0c5e1d7a2b9c4e8f6a3d0b7c1e5f9a2d",
    "DATABASE_URL": "postgresql://companion:Zq8vN3kLp0Xr@db:5432/companion",
    "CHUTES_API_KEY": "cpk_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "CORS_ORIGINS": "https://app.example.org",
}


def _settings(monkeypatch: pytest.MonkeyPatch, backup_dir: Path, **env: str) -> Settings:
    for key in list(os.environ):
        if key in GOOD or key in env:
            monkeypatch.delenv(key, raising=False)
    for key, value in {**GOOD, "BACKUP_DIR": str(backup_dir), **env}.items():
        monkeypatch.setenv(key, value)
    return load_settings(None)


def _verdicts(settings: Settings, now: datetime | None = None) -> dict[str, bool]:
    return {c.name: c.ok for c in production_checks(settings, now=now)}


def test_a_sound_configuration_passes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "companion-20261130-030000.dump").write_bytes(b"PGDMP")
    verdicts = _verdicts(_settings(monkeypatch, tmp_path))
    assert verdicts == {
        "tls in front": True,
        "authentication required": True,
        "secrets not default": True,
        "no placeholder keys": True,
        "cors origins explicit": True,
        "backups configured": True,
    }


@pytest.mark.parametrize(
    ("env", "failing"),
    [
        ({"PUBLIC_URL": "http://companion.example.org"}, "tls in front"),
        ({"PUBLIC_URL": ""}, "tls in front"),
        ({"REQUIRE_AUTHENTICATION": "false"}, "authentication required"),
        ({"JWT_SECRET_KEY": "changeme-changeme-changeme-changeme-1"}, "secrets not default"),
        ({"DATABASE_URL": "postgresql://companion:postgres@db/companion"}, "secrets not default"),
        ({"CHUTES_API_KEY": "your_chutes_api_key_here"}, "no placeholder keys"),
        ({"GROQ_API_KEY": "<GROQ_API_KEY>"}, "no placeholder keys"),
        ({"CORS_ORIGINS": "*"}, "cors origins explicit"),
        ({"CORS_ORIGINS": "http://app.example.org"}, "cors origins explicit"),
        ({"BACKUP_DIR": ""}, "backups configured"),
    ],
)
def test_each_mistake_fails_its_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], failing: str
) -> None:
    (tmp_path / "companion-20261130-030000.dump").write_bytes(b"PGDMP")
    verdicts = _verdicts(_settings(monkeypatch, tmp_path, **env))
    assert [name for name, ok in verdicts.items() if not ok] == [failing]


def test_backups_must_be_recent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _settings(monkeypatch, tmp_path)
    assert not _verdicts(settings)["backups configured"]  # the folder is empty
    dump = tmp_path / "companion-20261101-030000.dump"
    dump.write_bytes(b"PGDMP")
    later = datetime.now(UTC) + timedelta(days=3)
    assert not _verdicts(settings, now=later)["backups configured"]
    assert _verdicts(settings)["backups configured"]


def test_placeholders_are_told_from_real_keys() -> None:
    for fake in ("changeme", "xxx", "sk-xxxx", "your-api-key", "<token>", "${OPENAI_API_KEY}"):
        assert looks_like_placeholder(fake), fake
    for real in ("gsk_8f7a6b5c4d3e2f1a0b9c", "sk-proj-4Fq9Zk2LmN8pR", "MTA5.Gx7.kq9"):
        assert not looks_like_placeholder(real), real
