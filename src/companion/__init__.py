"""Companion: a self-hosted AI companion with memory, personality and proactive messaging."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
