"""Fixtures of the store tests."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
async def scratch_url(embedded_pg):  # type: ignore[no-untyped-def]
    """A new empty database on the embedded server, dropped after the test."""
    name = f"mig_{uuid.uuid4().hex[:8]}"
    embedded_pg.create_database(name)
    yield embedded_pg.url(name)
    embedded_pg.drop_database(name)
