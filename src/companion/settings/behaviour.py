"""Tuning of personality, memory, proactive messaging and the scheduler."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from companion.settings._base import Section

__all__ = ["BehaviourSettings"]


class BehaviourSettings(Section):
    """PAD_*, QUIRK_*, MAX_PROACTIVE_PER_DAY, MAX_REFLECTION_BATCH_SIZE and friends."""

    default_personality_preset: str = "curious_companion"
    pad_drift_rate: float = Field(default=0.01, gt=0.0, le=0.1)
    pad_half_life_minutes: float = Field(default=90.0, gt=0.0)
    quirk_decay_rate: float = Field(default=0.05, ge=0.01, le=0.2)
    quirk_reinforcement_rate: float = Field(default=0.05, ge=0.01, le=0.2)
    style_evolution_speed: Literal["slow", "medium", "fast"] = "medium"
    short_term_turns: int = Field(default=10, ge=1, le=100)
    short_term_ttl_seconds: int = Field(default=86_400, ge=60)
    max_message_chars: int = Field(default=4000, ge=1, le=100_000)
    max_proactive_per_day: int = Field(default=3, ge=0, le=24)
    proactive_min_gap_hours: float = Field(default=4.0, ge=0.0)
    proactive_threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    default_quiet_hours: str = Field(
        default="23-08", pattern=r"^\d{1,2}(:\d{2})?-\d{1,2}(:\d{2})?$"
    )
    proactive_webhook_url: str | None = None
    proactive_webhook_secret: str | None = None
    scheduler_enabled: bool = True
    proactive_check_minutes: int = Field(default=5, ge=1)
    #: How long a message queued for a bot in another process may wait before it expires.
    outbound_ttl_minutes: int = Field(default=360, ge=1, le=10080)
    max_reflection_batch_size: int = Field(default=50, ge=1, le=10_000)
    #: A client gone mid-reply: "finish" generates and stores the whole reply,
    #: "stop" stops and stores the partial reply marked interrupted.
    turn_on_disconnect: Literal["finish", "stop"] = "finish"
    #: Post-turn work queue: worker tasks per process, and how long a claimed item
    #: stays claimed without a heartbeat (a killed worker's items return after it).
    queue_workers: int = Field(default=2, ge=1, le=64)
    queue_lease_seconds: float = Field(default=30.0, ge=1.0, le=3600.0)
    #: Items a worker task claims at once: the memory work of a batch reads its turns
    #: once, embeds their texts in one call and writes them in one transaction (cheaper
    #: per item when the queue is behind; when it is not, a claim finds one or two).
    queue_batch: int = Field(default=32, ge=1, le=256)
    #: Whether ``companion serve`` runs queue workers itself; false when ``companion
    #: worker`` processes do the post-turn work (the gateway's cores go to turns).
    queue_workers_in_serve: bool = True
