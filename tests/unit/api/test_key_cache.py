"""The per-process memory of live API keys: forgotten on revocation, never past expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from companion.api.key_cache import ApiKeyCache


def test_remembers_a_live_key_by_its_secret_only() -> None:
    cache = ApiKeyCache(ttl=60)
    cache.put("ck_one", key_id=1, user_id="ana", is_admin=True, expires_at=None)
    found = cache.get("ck_one")
    assert found is not None and (found.user_id, found.is_admin, found.key_id) == ("ana", True, 1)
    assert cache.get("ck_other") is None


def test_forgetting_a_key_refuses_it_from_the_next_lookup() -> None:
    cache = ApiKeyCache(ttl=60)
    cache.put("ck_one", key_id=1, user_id="ana", is_admin=False, expires_at=None)
    cache.put("ck_two", key_id=2, user_id="ben", is_admin=False, expires_at=None)
    cache.forget(1)
    assert cache.get("ck_one") is None
    assert cache.get("ck_two") is not None  # other keys stay


def test_an_expired_or_expiring_key_is_not_remembered_past_its_expiry() -> None:
    cache = ApiKeyCache(ttl=60)
    past = datetime.now(UTC) - timedelta(seconds=1)
    cache.put("ck_gone", key_id=3, user_id="cy", is_admin=False, expires_at=past)
    assert cache.get("ck_gone") is None


def test_ttl_zero_turns_the_cache_off() -> None:
    cache = ApiKeyCache(ttl=0)
    cache.put("ck_one", key_id=1, user_id="ana", is_admin=False, expires_at=None)
    assert cache.get("ck_one") is None
