"""Sizing the embedded PostgreSQL for the machine, and writing its settings file."""

from __future__ import annotations

from pathlib import Path

from companion.store.embedded_tuning import CONF_NAME, server_settings, write_settings

GIB = 1024**3


def test_buffers_follow_memory_within_bounds() -> None:
    assert server_settings(GIB // 4)["shared_buffers"] == "128MB"
    assert server_settings(1 * GIB)["shared_buffers"] == "256MB"
    assert server_settings(24 * GIB)["shared_buffers"] == "6144MB"
    assert server_settings(256 * GIB)["shared_buffers"] == "8192MB"
    assert server_settings(24 * GIB)["effective_cache_size"] == "12288MB"
    assert server_settings(24 * GIB)["jit"] == "off"


def test_settings_file_is_included_once_and_rewritten_only_on_change(tmp_path: Path) -> None:
    main = tmp_path / "postgresql.conf"
    main.write_text("max_connections = 100\n")
    settings = server_settings(8 * GIB)
    assert write_settings(tmp_path, settings) is True
    assert write_settings(tmp_path, settings) is False
    assert main.read_text().count(f"include_if_exists = '{CONF_NAME}'") == 1
    assert "shared_buffers = '2048MB'" in (tmp_path / CONF_NAME).read_text()
    assert write_settings(tmp_path, server_settings(16 * GIB)) is True
    assert "shared_buffers = '4096MB'" in (tmp_path / CONF_NAME).read_text()


def test_nothing_is_written_before_initdb(tmp_path: Path) -> None:
    assert write_settings(tmp_path, server_settings(8 * GIB)) is False
    assert not (tmp_path / CONF_NAME).exists()


def test_autoprewarm_is_preloaded_only_when_asked() -> None:
    warm = server_settings(24 * GIB, autoprewarm=True)
    assert warm["shared_preload_libraries"] == "pg_prewarm"
    assert warm["pg_prewarm.autoprewarm"] == "on"
    assert "shared_preload_libraries" not in server_settings(24 * GIB)
