"""A role's ordered provider chain: retries, fallback, circuit breakers, a global cap.

``ProviderChain`` implements ``RoleModel``. For each provider in order it skips one
whose circuit is open, retries per ``RetryPolicy``, and on a final failure moves to
the next. A provider that fails after it already streamed text cannot be replaced
silently (the caller has shown part of the reply), so that error propagates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import replace
from typing import Any

from companion.errors import ProviderError, ProviderUnavailable
from companion.llm.base import (
    ChatProvider,
    ChatRequest,
    Chunk,
    Completion,
    ModelToolCall,
    Role,
    Usage,
)
from companion.llm.policy import CircuitBreaker, RetryPolicy
from companion.llm.recorder import CallRecord, CallRecorder, new_call_id

__all__ = ["ProviderChain"]

Sleep = Callable[[float], Awaitable[None]]


class ProviderChain:
    """The ``RoleModel`` for one role (``chat`` or ``fast``)."""

    def __init__(
        self,
        role: Role,
        providers: Sequence[ChatProvider],
        *,
        semaphore: asyncio.Semaphore,
        recorder: CallRecorder,
        policy: RetryPolicy | None = None,
        breaker_threshold: int = 3,
        breaker_cooldown: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        guard: Callable[[str], None] | None = None,
    ) -> None:
        """``guard`` sees every request's text first and raises to stop the call
        (``llm/models.py`` passes the check that no configured secret is in it)."""
        if not providers:
            raise ValueError(f"the {role} chain needs at least one provider")
        self.role: Role = role
        self.providers = list(providers)
        self.policy = policy or RetryPolicy()
        self.breakers = {
            p.id: CircuitBreaker(threshold=breaker_threshold, cooldown=breaker_cooldown)
            for p in self.providers
        }
        self._semaphore = semaphore
        self._recorder = recorder
        # Injectable so tests can observe the backoff schedule without waiting it out.
        self._sleep = sleep
        self.guard = guard

    @property
    def capable(self) -> bool:
        """Whether the first provider that would be tried now is capable."""
        for provider in self.providers:
            if self.breakers[provider.id].allow():
                return provider.capable
        return False

    @property
    def supports_tools(self) -> bool:
        """Whether the first provider that would be tried now speaks OpenAI tool calls."""
        for provider in self.providers:
            if self.breakers[provider.id].allow():
                return bool(getattr(provider, "supports_tools", False))
        return False

    async def complete(self, request: ChatRequest, *, user_id: str | None = None) -> Completion:
        """The whole reply as a recorded ``Completion``."""
        async for item in self.stream(request, user_id=user_id):
            if isinstance(item, Completion):
                return item
        raise ProviderUnavailable(f"{self.role}: no completion produced")  # pragma: no cover

    async def stream(
        self, request: ChatRequest, *, user_id: str | None = None
    ) -> AsyncIterator[Chunk | Completion]:
        """Stream chunks from the first provider that answers, then the ``Completion``."""
        if self.guard is not None:
            self.guard("\n".join(message.content for message in request.messages))
        failures: list[str] = []
        async with self._semaphore:
            for provider in self.providers:
                if not self.breakers[provider.id].allow():
                    failures.append(f"{provider.id}: circuit open")
                    continue
                try:
                    # aclosing: a caller that stops reading closes the attempt at once,
                    # so the call is recorded then, not whenever it is collected.
                    attempts = self._with_retries(
                        provider, request, fallback=bool(failures), user_id=user_id
                    )
                    async with aclosing(attempts):
                        async for item in attempts:
                            yield item
                    return
                except _StreamBroken as broken:
                    raise broken.error from broken.error.__cause__
                except ProviderError as exc:
                    failures.append(f"{provider.id}: {exc}")
        raise ProviderUnavailable(
            f"every {self.role} provider failed ({'; '.join(failures)})", provider="chain"
        )

    async def _with_retries(
        self, provider: ChatProvider, request: ChatRequest, *, fallback: bool, user_id: str | None
    ) -> AsyncGenerator[Chunk | Completion, None]:
        breaker = self.breakers[provider.id]
        attempt = 0
        while True:
            try:
                attempt_items = self._attempt(provider, request, fallback, user_id)
                async with aclosing(attempt_items):
                    async for item in attempt_items:
                        yield item
                breaker.success()
                return
            except _StreamBroken:
                breaker.failure()
                raise
            except ProviderError as exc:
                delay = self.policy.delay(exc, attempt=attempt)
                if delay is None:
                    breaker.failure()
                    raise
                attempt += 1
                await self._sleep(delay)

    async def _attempt(
        self, provider: ChatProvider, request: ChatRequest, fallback: bool, user_id: str | None
    ) -> AsyncGenerator[Chunk | Completion, None]:
        started = time.perf_counter()
        parts: list[str] = []
        usage: Usage | None = None
        first_ms: float | None = None
        calls: list[ModelToolCall] = []
        call_id = new_call_id()
        try:
            async for chunk in provider.stream(request):
                if first_ms is None:
                    first_ms = (time.perf_counter() - started) * 1000
                    header = self._completion(
                        call_id, provider, started, [], None, fallback, first_ms, []
                    )
                    chunk = replace(chunk, call=header)
                parts.append(chunk.text)
                usage = chunk.usage or usage
                calls.extend(chunk.tool_calls)
                yield chunk
        except GeneratorExit:
            # The caller stopped reading (a looping reply cut, a client gone): the call
            # still happened, so it is recorded with what was streamed until then.
            completion = self._completion(call_id, provider, started, parts, usage, fallback,
                                          first_ms, calls)  # fmt: skip
            self._record(provider, started, completion, fallback, user_id)
            raise
        except Exception as exc:
            error = _as_provider_error(exc, provider)
            self._record(provider, started, None, fallback, user_id, error=error)
            if parts:
                raise _StreamBroken(error) from exc
            raise error from exc
        completion = self._completion(
            call_id, provider, started, parts, usage, fallback, first_ms, calls
        )
        self._record(provider, started, completion, fallback, user_id)
        yield completion

    def _completion(
        self,
        call_id: str,
        provider: ChatProvider,
        started: float,
        parts: list[str],
        usage: Usage | None,
        fallback: bool,
        first_ms: float | None,
        calls: list[ModelToolCall],
    ) -> Completion:
        return Completion(
            id=call_id,
            role=self.role,
            text="".join(parts),
            provider=provider.id,
            model=provider.model_id,
            latency_ms=(time.perf_counter() - started) * 1000,
            usage=usage or Usage(),
            fallback_used=fallback,
            first_token_ms=first_ms,
            tool_calls=calls,
        )

    def _record(
        self,
        provider: ChatProvider,
        started: float,
        completion: Completion | None,
        fallback: bool,
        user_id: str | None,
        *,
        error: ProviderError | None = None,
    ) -> None:
        usage = completion.usage if completion else Usage()
        self._recorder.record(
            CallRecord(
                id=completion.id if completion else new_call_id(),
                role=self.role,
                provider=provider.id,
                model=provider.model_id,
                latency_ms=completion.latency_ms
                if completion
                else (time.perf_counter() - started) * 1000,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                success=completion is not None,
                fallback_used=fallback,
                error=None if error is None else f"{type(error).__name__}: {error}"[:500],
                user_id=user_id,
            )
        )

    def describe(self) -> dict[str, Any]:
        """The chain for /health and doctor: providers, models, circuit and readiness."""
        return {
            "capable": self.capable,
            "available": self.available,
            "providers": [self._state_of(p) for p in self.providers],
        }

    @property
    def available(self) -> bool:
        """Whether some provider could answer now: not broken and its circuit not open."""
        return any(self._state_of(p)["status"] == "up" for p in self.providers)

    def _state_of(self, provider: ChatProvider) -> dict[str, Any]:
        circuit = self.breakers[provider.id].state
        check = getattr(provider, "problem", None)
        problem = check() if callable(check) else None
        if problem is not None:
            status = "down"
        elif circuit == "open":
            status, problem = "down", "circuit open after repeated failures"
        else:
            status = "up"
        state: dict[str, Any] = {
            "id": provider.id,
            "model": provider.model_id,
            "capable": provider.capable,
            "circuit": circuit,
            "status": status,
        }
        if problem is not None:
            state["problem"] = problem
        return state

    async def aclose(self) -> None:
        """Close every provider."""
        for provider in self.providers:
            await provider.aclose()


class _StreamBroken(Exception):
    """A provider failed after streaming text: no retry, no fallback."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


def _as_provider_error(exc: Exception, provider: ChatProvider) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    # Providers map their own errors; this is the safety net for a bug in one.
    return ProviderError(f"{type(exc).__name__}: {exc}", provider=provider.id)
