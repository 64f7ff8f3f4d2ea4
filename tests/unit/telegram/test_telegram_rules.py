"""The channel's rules without Telegram: roles, public limits, texts, command arguments."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from companion.channels.telegram import PublicLimiter, Role, account_of, role_of, user_id_for
from companion.channels.telegram.handlers.memories import _target
from companion.channels.telegram.handlers.proactive import changes_from
from companion.channels.telegram.texts import slow_down, too_long
from companion.errors import InvalidInput, RateLimited
from companion.logs import JsonFormatter, TextFormatter
from companion.settings.channels import ChannelSettings
from companion.store.kv import MemoryStore


def _settings(**values: object) -> ChannelSettings:
    return ChannelSettings.model_validate({"telegram_admin_ids": "1,2", **values})


def test_roles_follow_the_admin_list_and_the_public_switch() -> None:
    assert role_of(1, _settings()) is Role.ADMIN
    assert role_of(3, _settings()) is Role.PUBLIC
    assert role_of(3, _settings(telegram_public=False)) is Role.REFUSED
    assert role_of(2, _settings(telegram_public=False)) is Role.ADMIN


def test_settings_check_the_api_url_and_the_secret() -> None:
    assert _settings(telegram_api_url="http://127.0.0.1:8081/").telegram_api_url == (
        "http://127.0.0.1:8081"
    )
    with pytest.raises(ValueError, match="TELEGRAM_API_URL"):
        _settings(telegram_api_url="api.telegram.org")
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        _settings(telegram_webhook_secret="has spaces!")
    with pytest.raises(ValueError, match="https"):
        _settings(telegram_webhook_url="http://plain.example/telegram/webhook")


def test_a_webhook_needs_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from companion.errors import ConfigError
    from companion.settings import load_settings

    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://companion.example/telegram/webhook")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings(None)


async def test_public_limits_are_seed_003s() -> None:
    limiter = PublicLimiter(MemoryStore())
    start = 7_200.0  # the start of a 10 s, a minute and an hour window
    for second in range(5):
        await limiter.hit("telegram:9", now=start + second)
    with pytest.raises(RateLimited) as burst:
        await limiter.hit("telegram:9", now=start + 5)
    assert burst.value.retry_after == 5  # the 10-second window ends at start + 10
    await limiter.hit("telegram:8", now=start + 5)  # each user separately

    for second in range(10, 15):  # the next 10 seconds: 5 more make 10 this minute
        await limiter.hit("telegram:9", now=start + second)
    with pytest.raises(RateLimited) as minute:
        await limiter.hit("telegram:9", now=start + 20)
    assert minute.value.retry_after == 40

    hourly = PublicLimiter(MemoryStore())
    for minute_ in range(10):
        for second in range(0, 50, 10):  # 5 a minute, spread out: 50 in 10 minutes
            await hourly.hit("telegram:7", now=start + minute_ * 60 + second)
    for minute_ in range(10, 20):
        for second in range(0, 50, 10):
            await hourly.hit("telegram:7", now=start + minute_ * 60 + second)
    with pytest.raises(RateLimited) as hour:
        await hourly.hit("telegram:7", now=start + 20 * 60)
    assert hour.value.retry_after == 3600 - 20 * 60


def test_the_slow_down_reply_names_when_to_write_again() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert slow_down(42, now=now).endswith("write again in 42 seconds (at 12:00:42 UTC).")
    assert "in 2 minutes (at 12:01:30 UTC)" in slow_down(90, now=now)
    assert "1 second " in slow_down(1, now=now)
    assert "4,001" in too_long(4001)


def test_user_ids_and_accounts() -> None:
    assert user_id_for(42) == "telegram:42"
    assert account_of("telegram:42") == 42
    assert account_of("discord:42") is None and account_of("telegram:abc") is None


def test_command_arguments() -> None:
    assert changes_from([]) == {}
    assert changes_from(["ON"]) == {"enabled": True}
    assert changes_from(["quiet", "22-08"]) == {"quiet_hours": "22-08"}
    assert changes_from(["timezone", "Europe/Paris"]) == {"timezone": "Europe/Paris"}
    assert changes_from(["quiet"]) is None and changes_from(["sometimes"]) is None
    assert _target([]) is None and _target(["ALL"]) == "all"
    memory = "0b7e3a4c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"
    assert _target([memory.upper()]) == memory
    with pytest.raises(InvalidInput, match="not a memory id"):
        _target(["12"])


def test_bot_tokens_never_reach_the_logs() -> None:
    url = "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe"
    record = logging.LogRecord("telegram", logging.WARNING, __file__, 1, "POST %s", (url,), None)
    for formatter in (JsonFormatter(), TextFormatter("%(message)s")):
        line = formatter.format(record)
        assert "AAHdqTcv" not in line and "bot123456789:…/getMe" in line
