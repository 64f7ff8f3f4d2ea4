"""The several-companions migration keeps everyone's state, and is reversible.

Rows are written with the schema before it (one companion per user, keyed by
``user_id``), then the migration runs: each user's companion becomes their first and
active one and every personality row belongs to it. Downgrading keeps the active
companion and its rows.
"""

from __future__ import annotations

import pytest
from tests.integration.store.migration_steps import previous_revision, run_sql

from companion.store.migrate import downgrade, upgrade

REVISION = "0015"

_BEFORE = [
    "INSERT INTO users (id) VALUES ('u:ann'), ('u:bob'), ('u:new')",
    "INSERT INTO companions (user_id, name, preset, openness, conscientiousness, extraversion,"
    " agreeableness, neuroticism) VALUES"
    " ('u:ann', 'Ava', 'supportive_friend', 0.6, 0.5, 0.7, 0.8, 0.3),"
    " ('u:bob', 'Max', 'curious_companion', 0.8, 0.4, 0.5, 0.6, 0.4)",
    "INSERT INTO personality_state (user_id, openness, conscientiousness, extraversion,"
    " agreeableness, neuroticism, pleasure, arousal, dominance, is_current, trigger_event)"
    " VALUES ('u:ann', 0.6, 0.5, 0.7, 0.8, 0.3, 0.1, 0.0, 0.0, false, 'created'),"
    " ('u:ann', 0.6, 0.5, 0.7, 0.8, 0.3, -0.4, 0.2, -0.1, true, 'turn'),"
    " ('u:bob', 0.8, 0.4, 0.5, 0.6, 0.4, 0.2, 0.1, 0.0, true, 'created')",
    "INSERT INTO needs (user_id, need_type, current_level) VALUES"
    " ('u:ann', 'social', 0.9), ('u:ann', 'rest', 0.2), ('u:bob', 'social', 0.5)",
    "INSERT INTO quirks (user_id, name, category, description, strength, is_active) VALUES"
    " ('u:ann', 'ellipsis', 'speech_pattern', 'trails off…', 0.7, true)",
    "INSERT INTO style_trait_versions (user_id, version, warmth, curiosity, assertiveness,"
    " humor, emotional_depth, reason, is_current) VALUES"
    " ('u:ann', 1, 70, 60, 50, 50, 60, 'initial', false),"
    " ('u:ann', 2, 75, 60, 50, 50, 60, 'warmer', true)",
    "INSERT INTO memories (id, user_id, memory_type, content, content_hash) VALUES"
    " (gen_random_uuid(), 'u:ann', 'episodic', 'Ann likes tea', 'h1')",
]

_STATE = (
    "SELECT c.user_id, c.name, c.is_active, c.is_private, "
    "(SELECT array_agg(pleasure ORDER BY id) FROM personality_state ps "
    " WHERE ps.companion_id = c.id) AS moods, "
    "(SELECT array_agg(need_type || '=' || current_level ORDER BY need_type) FROM needs n "
    " WHERE n.companion_id = c.id) AS needs, "
    "(SELECT array_agg(name) FROM quirks q WHERE q.companion_id = c.id) AS quirks, "
    "(SELECT array_agg(warmth ORDER BY version) FROM style_trait_versions s "
    " WHERE s.companion_id = c.id) AS warmth "
    "FROM companions c ORDER BY c.user_id, c.id"
)


async def test_existing_companions_become_the_first_active_one(scratch_url: str) -> None:
    await upgrade(scratch_url, vector_dimensions=384, revision=previous_revision(REVISION))
    await run_sql(scratch_url, *_BEFORE)

    await upgrade(scratch_url, vector_dimensions=384, revision=REVISION)
    state = await run_sql(scratch_url, _STATE)
    assert state == [
        (
            "u:ann",
            "Ava",
            True,
            False,
            [0.1, -0.4],
            ["rest=0.2", "social=0.9"],
            ["ellipsis"],
            [70, 75],
        ),
        ("u:bob", "Max", True, False, [0.2], ["social=0.5"], None, None),
    ]
    # Nothing was left without an owner, and memories stay shared.
    orphans = await run_sql(
        scratch_url,
        "SELECT (SELECT count(*) FROM personality_state WHERE companion_id IS NULL) "
        "+ (SELECT count(*) FROM needs WHERE companion_id IS NULL), "
        "(SELECT count(*) FROM memories WHERE companion_id IS NULL)",
    )
    assert orphans == [(0, 1)]

    # A second companion for Ann: allowed now, but only one may be active.
    await run_sql(
        scratch_url,
        "INSERT INTO companions (user_id, name, openness, conscientiousness, extraversion,"
        " agreeableness, neuroticism) VALUES ('u:ann', 'Zed', 0.5, 0.5, 0.5, 0.5, 0.5)",
    )
    with pytest.raises(Exception, match="ux_companions_active"):
        await run_sql(scratch_url, "UPDATE companions SET is_active = true WHERE name = 'Zed'")

    # Downgrade: the active companion and all its rows stay; the extra one goes.
    await downgrade(scratch_url, vector_dimensions=384, revision=previous_revision(REVISION))
    back = await run_sql(
        scratch_url,
        "SELECT c.user_id, c.name, (SELECT count(*) FROM personality_state ps "
        "WHERE ps.user_id = c.user_id), (SELECT count(*) FROM needs n "
        "WHERE n.user_id = c.user_id) FROM companions c ORDER BY c.user_id",
    )
    assert back == [("u:ann", "Ava", 2, 2), ("u:bob", "Max", 1, 1)]
    key = await run_sql(
        scratch_url,
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'companions'::regclass "
        "AND i.indisprimary",
    )
    assert key == [("user_id",)]

    # And up again: the same state as the first time.
    await upgrade(scratch_url, vector_dimensions=384, revision=REVISION)
    assert (await run_sql(scratch_url, _STATE))[0][:3] == ("u:ann", "Ava", True)
