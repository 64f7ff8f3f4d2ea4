"""Who may use tools: admins always; listed users; everyone when public."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["ToolAccess"]


@dataclass(frozen=True)
class ToolAccess:
    """TOOLS_ENABLED, TOOLS_USERS and TOOLS_PUBLIC as one rule."""

    enabled: bool = True
    public: bool = False
    users: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, enabled: bool, public: bool, users: Iterable[str]) -> ToolAccess:
        """From settings values."""
        return cls(enabled, public, frozenset(users))

    def allows(self, user_id: str, *, is_admin: bool) -> bool:
        """Whether this user's turns may use tools."""
        if not self.enabled:
            return False
        return is_admin or self.public or user_id in self.users
