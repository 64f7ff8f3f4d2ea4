"""Pure rules: retry schedule, circuit breaker states, chains planned from settings."""

from __future__ import annotations

import pytest

from companion.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
)
from companion.llm.policy import CircuitBreaker, RetryPolicy
from companion.llm.providers.errors import MALFORMED
from companion.llm.registry import plan_chain
from companion.settings import LLMSettings


def test_retry_schedule_follows_seed_000() -> None:
    policy = RetryPolicy(backoff_base=1.0)
    limited = ProviderRateLimited("429", status=429)
    assert [policy.delay(limited, attempt=n) for n in range(3)] == [1.0, 2.0, None]
    server = ProviderError("500", status=500)
    assert [policy.delay(server, attempt=n) for n in range(2)] == [1.0, None]
    timeout = ProviderTimeout("t")
    assert [policy.delay(timeout, attempt=n) for n in range(2)] == [0.0, None]
    assert policy.delay(ProviderAuthError("401", status=401), attempt=0) is None
    assert policy.delay(ProviderError("bad json", status=MALFORMED), attempt=0) is None
    assert RetryPolicy(backoff_base=0.01).delay(limited, attempt=1) == pytest.approx(0.02)


def test_breaker_opens_then_half_opens_after_cooldown() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=10.0, clock=lambda: now[0])
    breaker.failure()
    assert breaker.allow()
    breaker.failure()
    assert (breaker.state, breaker.allow()) == ("open", False)
    now[0] = 10.0
    assert (breaker.state, breaker.allow()) == ("half-open", True)
    breaker.failure()  # the trial call failed: open again for a full cooldown
    assert breaker.state == "open"
    now[0] = 20.0
    breaker.success()
    assert breaker.state == "closed" and breaker.failures == 0


def _settings(**values: object) -> LLMSettings:
    return LLMSettings(_env_file=None, **values)  # type: ignore[call-arg]


def test_seed_defaults_follow_the_keys_present() -> None:
    none = _settings()
    assert [s.id for s in plan_chain("chat", none)] == ["local"]
    keyed = _settings(chutes_api_key="c", groq_api_key="g")
    chat = plan_chain("chat", keyed)
    assert [(s.id, s.model) for s in chat] == [
        ("chutes", "Qwen/Qwen3-80B-A3B-Instruct"),
        ("chutes", "qwen2-72b-instruct"),
        ("local", ""),
    ]
    assert chat[0].api_key == "c" and chat[0].base_url == "https://llm.chutes.ai/v1"
    fast = plan_chain("fast", keyed)
    assert [s.id for s in fast] == ["groq", "local"]
    assert fast[0].model == "meta-llama/llama-4-maverick-17b-128e-instruct"
    assert [s.capable for s in fast] == [True, False]


def test_explicit_chain_with_models_and_base_url() -> None:
    settings = _settings(
        chat_providers="openai:my-model, ollama",
        openai_api_key="k",
        openai_base_url="http://127.0.0.1:9/v1/",
    )
    chain = plan_chain("chat", settings)
    assert [(s.id, s.model, s.base_url) for s in chain[:2]] == [
        ("openai", "my-model", "http://127.0.0.1:9/v1"),
        ("ollama", "llama3.2", "http://127.0.0.1:11434/v1"),
    ]
    assert chain[-1].is_local


def test_configured_provider_without_key_names_the_variable() -> None:
    with pytest.raises(ConfigError) as error:
        plan_chain("fast", _settings(fast_providers="groq"))
    assert error.value.variable == "GROQ_API_KEY"
    assert "FAST_PROVIDERS" in str(error.value)


def test_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        plan_chain("chat", _settings(chat_providers="nonesuch"))
    assert error.value.variable == "CHAT_PROVIDERS"
