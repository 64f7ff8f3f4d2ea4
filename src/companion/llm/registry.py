"""Provider presets by id, and how settings turn into each role's ordered chain.

A chain entry is ``id`` or ``id:model`` (e.g. ``chutes:qwen2-72b-instruct``). An empty
CHAT_PROVIDERS / FAST_PROVIDERS takes the seed defaults from the keys present:
Chutes Qwen3-80B-A3B-Instruct then qwen2-72b-instruct for ``chat``, Groq
llama-4-maverick for ``fast``. Every chain ends with ``local``, the embedded model.
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.errors import ConfigError
from companion.llm.base import Role
from companion.settings import LLMSettings

__all__ = ["PRESETS", "SMALL_MODEL_HINT", "Preset", "ProviderSpec", "builtin_answers", "plan_chain"]

#: Said wherever the built-in model answers (startup, the chat page): what it is, and
#: the one line of settings that points Companion at a better model.
SMALL_MODEL_HINT = (
    "The built-in model (SmolLM2-135M) is small, so its replies are simple. For a better "
    "companion add one line to .env: CHAT_PROVIDERS=ollama (Ollama), "
    "CHAT_PROVIDERS=lmstudio (LM Studio), or a hosted key such as GROQ_API_KEY=…"
)


@dataclass(frozen=True)
class Preset:
    """A known OpenAI-compatible endpoint.

    ``key_field`` is the LLMSettings field holding its key (None: no key needed, a
    server on this machine); ``model_field`` names the field with its default model.
    """

    id: str
    base_url: str
    key_field: str | None
    default_model: str
    model_field: str | None = None
    capable: bool = True


PRESETS: dict[str, Preset] = {
    p.id: p
    for p in (
        Preset("chutes", "https://llm.chutes.ai/v1", "chutes_api_key", "", "primary_llm_model"),
        Preset("groq", "https://api.groq.com/openai/v1", "groq_api_key", "", "scoring_llm_model"),
        Preset("openai", "https://api.openai.com/v1", "openai_api_key", "gpt-4o-mini"),
        Preset(
            "openrouter",
            "https://openrouter.ai/api/v1",
            "openrouter_api_key",
            "meta-llama/llama-4-maverick",
        ),
        Preset("lmstudio", "http://127.0.0.1:1234/v1", None, "local-model"),
        Preset("ollama", "http://127.0.0.1:11434/v1", None, "llama3.2"),
        Preset("vllm", "http://127.0.0.1:8000/v1", None, "default"),
    )
}
LOCAL = "local"


def builtin_answers(chat: object | None) -> bool:
    """Whether chat replies come from the built-in model: no chain, or its first
    provider is the embedded one (the only provider that is not ``capable``)."""
    return chat is None or not bool(getattr(chat, "capable", False))


_ALIASES = {"together": "openai", "lm-studio": "lmstudio", "embedded": LOCAL}


@dataclass(frozen=True)
class ProviderSpec:
    """One resolved chain entry: a hosted endpoint with key and model, or ``local``."""

    id: str
    model: str
    base_url: str = ""
    api_key: str | None = None
    capable: bool = True

    @property
    def is_local(self) -> bool:
        """Whether this is the embedded GGUF model."""
        return self.id == LOCAL


def _variable(role: Role) -> str:
    return "CHAT_PROVIDERS" if role == "chat" else "FAST_PROVIDERS"


def _default_entries(role: Role, settings: LLMSettings) -> list[str]:
    if role == "chat" and settings.chutes_api_key:
        return ["chutes", f"chutes:{settings.fallback_llm_model}"]
    if role == "fast" and settings.groq_api_key:
        return ["groq"]
    return []


def _resolve(entry: str, role: Role, settings: LLMSettings) -> ProviderSpec:
    name, _, model = entry.partition(":")
    name = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if name == LOCAL:
        return ProviderSpec(LOCAL, model=model.strip(), capable=False)
    preset = PRESETS.get(name)
    if preset is None:
        known = ", ".join([*PRESETS, LOCAL])
        raise ConfigError(_variable(role), f"unknown provider {name!r} (known: {known})")
    key = getattr(settings, preset.key_field) if preset.key_field else None
    if preset.key_field and not key:
        raise ConfigError(
            preset.key_field.upper(), f"is required: {_variable(role)} uses the {name} provider"
        )
    default = getattr(settings, preset.model_field) if preset.model_field else preset.default_model
    base_url = preset.base_url
    if name == "openai" and settings.openai_base_url:
        base_url = settings.openai_base_url
    return ProviderSpec(
        name, model=model.strip() or default, base_url=base_url.rstrip("/"), api_key=key
    )


def plan_chain(role: Role, settings: LLMSettings) -> list[ProviderSpec]:
    """The ordered providers of ``role``; raises ``ConfigError`` naming a missing key."""
    raw = settings.chat_providers if role == "chat" else settings.fast_providers
    entries = [e for e in (part.strip() for part in raw.split(",")) if e]
    entries = entries or _default_entries(role, settings)
    specs = [_resolve(entry, role, settings) for entry in entries]
    if not any(spec.is_local for spec in specs):
        specs.append(ProviderSpec(LOCAL, model="", capable=False))
    return specs
