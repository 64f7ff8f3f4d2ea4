"""One answer at a time per user: the shared ``UserGate`` (see ``channels.gate``)."""

from __future__ import annotations

from companion.channels.gate import UserGate

__all__ = ["UserGate"]
