"""The CLI as a user runs it: keys, doctor (including pgvector missing), migrate."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select

from companion.store.models import ApiKey


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "companion.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _plain_url(database_url: str) -> str:
    return database_url.replace("+asyncpg", "")


async def test_keys_create_prints_key_last_and_stores_hash(runtime, database_url) -> None:
    result = _cli(
        "keys", "create", "--user", "api:alice", "--admin", DATABASE_URL=_plain_url(database_url)
    )
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("ck_") and len(secret) > 30
    async with runtime.db.transaction() as s:
        row = await s.scalar(select(ApiKey).where(ApiKey.user_id == "api:alice"))
    assert row is not None and row.is_admin
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in row.key_hash


def test_doctor_ok_on_embedded(database_url: str) -> None:
    result = _cli("doctor", DATABASE_URL=_plain_url(database_url))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pgvector" in result.stdout and "0.8" in result.stdout


def _system_pg_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _system_pg_up(), reason="the machine's PostgreSQL 15 is not running")
def test_doctor_detects_missing_pgvector() -> None:
    result = _cli("doctor", DATABASE_URL="postgresql://postgres@127.0.0.1:5432/postgres")
    assert result.returncode == 1
    assert "no pgvector extension" in " ".join(result.stdout.split())


def test_doctor_fails_when_database_unreachable() -> None:
    result = _cli("doctor", DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    assert "FAIL" in result.stdout


def test_migrate_is_idempotent(database_url: str) -> None:
    first = _cli("migrate", DATABASE_URL=_plain_url(database_url))
    second = _cli("migrate", DATABASE_URL=_plain_url(database_url))
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert "database migrated" in second.stdout
