"""``companion doctor --production`` as a user runs it, and CORS_ORIGINS on the app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from httpx import ASGITransport, AsyncClient
from tests.conftest import make_settings

from companion.api.app import create_app


def test_doctor_production_prints_one_verdict_per_line(database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("+asyncpg", ""),
        "PUBLIC_URL": "https://companion.example.org",
        "JWT_SECRET_KEY": "9f1c2b7e4d8a6f3b0c5e1d7a2b9c4e8f6a3d0b7c1e5f9a2d",
        "CORS_ORIGINS": "*",
        "BACKUP_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "companion.cli", "doctor", "--production"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    lines = {line.split(":")[0][6:]: line[:4].strip() for line in done.stdout.splitlines()[:6]}
    assert lines == {
        "tls in front": "ok",
        "authentication required": "ok",
        "secrets not default": "ok",
        "no placeholder keys": "ok",
        "cors origins explicit": "fail",
        "backups configured": "fail",
    }
    assert "production readiness: 4/6 ok" in done.stdout


async def test_cors_only_for_listed_origins(runtime, database_url: str) -> None:
    allowed = "https://app.example.org"
    settings = make_settings(database_url, CORS_ORIGINS=f"{allowed}, https://admin.example.org/")
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    app = create_app(settings, runtime=runtime)  # type: ignore[arg-type]
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        ok = await http.options("/api/chat/message", headers={"Origin": allowed, **preflight})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == allowed
        other = await http.options(
            "/api/chat/message", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers
    default = create_app(runtime=runtime)  # type: ignore[arg-type]  # CORS_ORIGINS unset
    async with AsyncClient(transport=ASGITransport(app=default), base_url="http://test") as http:
        health = await http.get("/health", headers={"Origin": allowed})
        assert "access-control-allow-origin" not in health.headers
