"""The one error a tool raises: a message safe to show the model, the user and admins."""

from __future__ import annotations

__all__ = ["ToolError", "ToolUnavailable"]


class ToolError(Exception):
    """A tool call failed in a way the model may be told about (bad arguments, quota)."""

    outcome = "error"


class ToolUnavailable(ToolError):
    """The tool cannot run here (bubblewrap missing, no search engine reachable)."""

    outcome = "unavailable"
