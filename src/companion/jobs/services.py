"""What the jobs need from a process: the services they run over, named as a protocol.

The composition root's ``Runtime`` satisfies it without the jobs importing the root, so
the arrows point down: the root builds the scheduler, the scheduler never reaches up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from companion.conversation.ports import PersonalityPort
    from companion.settings import Settings
    from companion.store.database import Database

__all__ = ["JobServices"]


class JobServices(Protocol):
    """Settings, database, models, personality and proactive service (read-only)."""

    @property
    def settings(self) -> Settings:
        """The process settings (periods, batch sizes, backup directory)."""

    @property
    def db(self) -> Database:
        """The database every job reads and writes."""

    @property
    def models(self) -> Any:
        """The models (``fast`` judges consolidation), or ``None``."""

    @property
    def personality(self) -> PersonalityPort | None:
        """The personality service (needs, drift, quirks, style)."""

    @property
    def proactive(self) -> Any:
        """The proactive service (``run_check``), or ``None``."""
