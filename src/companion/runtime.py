"""The composition root: builds every service once per process, in dependency order.

Phase 1: settings, database, key-value store. Later phases (models, memory,
personality, security, the turn pipeline, the scheduler) attach to the same object,
so adapters (API, bots, CLI) receive one ``Runtime`` and never construct services.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from companion.conversation.build import build_conversation
from companion.conversation.ports import MemoryPort, PersonalityPort, SecurityPort
from companion.jobs import build_scheduler
from companion.llm import build_models
from companion.memory import build_memory
from companion.personality import build_personality
from companion.proactive import build_proactive
from companion.security import build_security
from companion.security.prompt_safety import assert_prompt_safe, secret_values
from companion.settings import Settings, get_settings
from companion.store.database import Database
from companion.store.kv import MemoryStore, RedisStore, create_store
from companion.store.migrate import upgrade
from companion.tools.build import build_tools

__all__ = ["Runtime"]

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a process needs, built by ``Runtime.start`` and torn down by ``close``."""

    settings: Settings
    db: Database
    kv: RedisStore | MemoryStore
    #: Filled by each domain's builder in ``start`` (see "wiring" below).
    models: Any = None
    memory: MemoryPort | None = None
    personality: PersonalityPort | None = None
    security: SecurityPort | None = None
    conversation: Any = None
    proactive: Any = None
    scheduler: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def start(cls, settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
        """Connect to storage (starting the embedded database if needed) and migrate."""
        settings = settings or get_settings()
        db = Database.from_settings(settings)
        await db.check()
        if migrate:
            await upgrade(
                db.engine.url.render_as_string(hide_password=False),
                vector_dimensions=settings.llm.vector_dimensions,
            )
        await db.warm(settings.db.db_pool_min_size)
        kv = create_store(settings.db.redis_url, prefix=settings.db.redis_key_prefix)
        runtime = cls(settings=settings, db=db, kv=kv)
        await runtime._wire()
        log.info(
            "runtime ready",
            extra={"database": db.url, "embedded": db.embedded is not None, "kv": kv.name},
        )
        return runtime

    async def _wire(self) -> None:
        """Build the domain services in dependency order (store, then models, then domains).

        Phase 2 models; phase 3 memory, personality, security; phase 4 the pipeline,
        proactive messaging and the scheduler (started only by serve and worker).
        """
        settings, db, kv = self.settings, self.db, self.kv
        secrets = secret_values(settings)

        def guard(prompt: str) -> None:  # no prompt carries a configured secret
            assert_prompt_safe(prompt, secrets)

        self.models = models = await build_models(settings=settings, db=db, kv=kv, guard=guard)
        self.memory = await build_memory(settings=settings.behaviour, db=db, kv=kv, models=models)
        self.personality = await build_personality(
            settings=settings.behaviour, db=db, models=models
        )
        self.security = await build_security(
            settings=settings.security, db=db, kv=kv, models=models
        )
        self.conversation = await build_conversation(
            settings=settings,
            db=db,
            kv=kv,
            models=models,
            memory=self.memory,
            personality=self.personality,
            security=self.security,
            tools=await build_tools(
                settings=settings, db=db, models=models, memory=self.memory, security=self.security
            ),
        )
        self.proactive = await build_proactive(
            settings=settings, db=db, models=models, memory=self.memory
        )
        self.scheduler = await build_scheduler(self)

    async def close(self) -> None:
        """Close pools; the embedded database stops when the last process lets go."""
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.proactive is not None:
            await self.proactive.close()
        if self.conversation is not None:
            await self.conversation.aclose()
        if self.models is not None:
            await self.models.aclose()
        await self.kv.close()
        await self.db.close()
