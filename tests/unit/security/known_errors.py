"""Known errors of the shipped classifier, marked in a test's cases rather than left out."""

from __future__ import annotations

import pytest


def marked(text: str, known: tuple[str, ...], reason: str) -> object:
    """``text`` as a case, a strict expected failure when it starts with one of ``known``."""
    if text.startswith(known):
        return pytest.param(text, marks=pytest.mark.xfail(reason=reason, strict=True))
    return text
