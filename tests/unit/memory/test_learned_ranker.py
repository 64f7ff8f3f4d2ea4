"""The learned ranker: its per-candidate numbers, its fit, its weights file, its use."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from companion.bench.memory_ranker import cut_pool
from companion.memory import learned, retrieval
from companion.memory.search import Hit

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def hit(
    content: str,
    *,
    at: int | None,
    sim: float | None = None,
    bm25: float | None = None,
    kind: str = "episodic",
    speaker: str | None = None,
    event_at: datetime | None = None,
    created_at: datetime | None = None,
) -> Hit:
    return Hit(
        id=uuid.uuid4(), content=content, memory_type=kind, importance=0.5,
        created_at=created_at or NOW - timedelta(days=400), valid_from=None, invalid_at=None,
        event_at=event_at, source_message_ids=[] if at is None else [at],
        source_external_ids=[] if at is None else [f"m{at}"], speaker=speaker,
        document_id=None, vector=None, similarity=sim, text_rank=bm25,
    )  # fmt: skip


def row(rows: list[list[float]], index: int) -> dict[str, float]:
    return dict(zip(learned.FEATURES, rows[index], strict=True))


def test_one_row_per_candidate_with_every_feature() -> None:
    hits = [hit("Ana: I adopted a puppy", at=1, sim=0.6, bm25=2.0), hit("x", at=5, sim=0.1)]
    rows = learned.features(hits, query="When did Ana adopt a puppy?", now=NOW)
    assert len(rows) == 2 and all(len(r) == len(learned.FEATURES) for r in rows)
    assert all(np.isfinite(rows[0])) and all(np.isfinite(rows[1]))


def test_both_sides_ranks_and_gaps() -> None:
    hits = [
        hit("a", at=1, sim=0.8, bm25=4.0),
        hit("b", at=10, sim=0.5),
        hit("c", at=20, bm25=2.0),
    ]
    rows = learned.features(hits, query="anything", now=NOW)
    first, dense_only, sparse_only = row(rows, 0), row(rows, 1), row(rows, 2)
    assert first["both_sides"] == 1.0 and dense_only["both_sides"] == 0.0
    assert first["dense_rrf"] == pytest.approx(1.0) and first["sparse_rrf"] == pytest.approx(1.0)
    assert dense_only["sparse_rrf"] == 0.0 and sparse_only["dense_rrf"] == 0.0
    assert dense_only["similarity_gap"] == pytest.approx(-0.3)
    assert sparse_only["bm25"] == pytest.approx(0.5)
    # A side that missed the candidate puts it past the end of its list.
    assert sparse_only["log_dense_rank"] > dense_only["log_dense_rank"]


def test_neighbours_lend_their_clues_to_the_adjacent_turn_only() -> None:
    hits = [
        hit("Did you go to the concert?", at=10, sim=0.9, bm25=5.0),
        hit("Yes, loved it!", at=11, sim=0.1),
        hit("Unrelated", at=13, sim=0.1),
        hit("A fact read from turn 12", at=12, sim=0.2, kind="semantic"),
    ]
    rows = learned.features(hits, query="concert", now=NOW)
    reply, far = row(rows, 1), row(rows, 2)
    assert reply["neighbour_rrf"] == pytest.approx(1.0)
    assert reply["neighbour_similarity"] == pytest.approx(0.9)
    assert reply["neighbour_coverage"] == 1.0
    assert far["neighbour_rrf"] == 0.0  # turn 12 is a fact: facts lend nothing
    assert far["second_neighbour_rrf"] == pytest.approx(reply["dense_rrf"] / 2)
    assert row(rows, 3)["fact"] == 1.0


def test_question_clues_speaker_coverage_dates_and_kind() -> None:
    dated = NOW - timedelta(days=30)
    hits = [
        hit("I travelled to Lisbon", at=1, sim=0.5, speaker="Maya", event_at=dated),
        hit("Are you coming?", at=5, sim=0.4, speaker="Tom"),
    ]
    when = learned.features(hits, query="When did Maya travel to Lisbon?", now=NOW)
    assert row(when, 0)["speaker_named"] == 1.0 and row(when, 1)["speaker_named"] == 0.0
    # "travel"/"travelled" share a stem, "lisbon" is there, "maya" only as the speaker.
    assert row(when, 0)["coverage"] == pytest.approx(2 / 3)
    assert row(when, 1)["coverage"] == 0.0
    assert row(when, 0)["dated_for_when"] == 1.0
    assert row(when, 0)["when_x_similarity"] == pytest.approx(0.5)
    assert row(when, 1)["question_turn"] == 1.0
    would = learned.features(hits, query="Would Maya enjoy Porto?", now=NOW)
    assert row(would, 0)["would_x_similarity"] == pytest.approx(0.5)
    assert row(would, 0)["dated_for_when"] == 0.0


def test_listwise_fit_learns_which_feature_marks_the_evidence() -> None:
    rng = np.random.default_rng(7)
    lists = []
    for _ in range(60):
        x = rng.normal(size=(30, len(learned.FEATURES)))
        y = np.zeros(30)
        y[int(np.argmax(x[:, 2] + 0.3 * rng.normal(size=30)))] = 1.0
        lists.append((x, y))
    weights = learned.fit_listwise(lists, l2=1.0)
    coef = np.asarray(weights.coef)
    assert int(np.argmax(coef)) == 2 and coef[2] > 5 * np.abs(np.delete(coef, 2)).max()
    x, y = lists[0]
    assert int(np.argmax(learned.apply(x, weights))) == int(np.argmax(y))


def test_pointwise_fit_agrees_in_sign() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2000, len(learned.FEATURES)))
    y = (x[:, 0] - x[:, 1] + 0.5 * rng.normal(size=2000) > 1.0).astype(float)
    weights = learned.fit(x, y, l2=1.0)
    assert weights.coef[0] > 0 > weights.coef[1]


def test_weights_round_trip_and_refuse_other_features(tmp_path: Path) -> None:
    n = len(learned.FEATURES)
    weights = learned.Weights(learned.FEATURES, (0.0,) * n, (1.0,) * n, (0.5,) * n, 0.1)
    assert learned.Weights.from_json(json.loads(json.dumps(weights.to_json()))) == weights
    other = weights.to_json() | {"features": ["something", "else"]}
    with pytest.raises(ValueError):
        learned.Weights.from_json(other)
    (tmp_path / "w.json").write_text(json.dumps(other))
    assert learned.load_weights(tmp_path / "w.json") is None
    assert learned.load_weights(tmp_path / "missing.json") is None


def test_the_shipped_weights_are_numbers_for_these_features() -> None:
    data = json.loads(learned.WEIGHTS_FILE.read_text())
    assert data["features"] == list(learned.FEATURES)
    for key in ("mean", "scale", "coef"):
        assert len(data[key]) == len(learned.FEATURES)
        assert all(isinstance(v, int | float) for v in data[key])
    assert learned.load_weights() is not None


def test_the_search_serves_by_learned_score_one_per_source() -> None:
    hits = [
        hit("low", at=1, sim=0.2),
        hit("high", at=2, sim=0.3),
        hit("the fact of turn 2", at=2, sim=0.1, kind="semantic"),
    ]
    ranked = retrieval.serve_learned(hits, [0.0, 2.0, 1.0], query="x", now=NOW, k=10)
    # "high" wins its source, and its fact is served in its place (see the test below).
    assert [h.content for h in ranked] == ["the fact of turn 2", "low"]
    assert ranked[0].score == pytest.approx(1.001 * ranking_weighted(1.0, hits[1]))
    assert ranked[1].score < ranked[0].score
    assert any(r.startswith("learned score") for r in ranked[0].reasons)


def ranking_weighted(relevance: float, h: Hit) -> float:
    from companion.memory import ranking

    age = (NOW - h.created_at).total_seconds() / 86400
    return ranking.weighted(relevance, importance=h.importance, recency_score=ranking.recency(age))


def test_the_asked_time_window_still_lifts_a_memory() -> None:
    yesterday = NOW - timedelta(days=1)
    hits = [hit("old", at=1, sim=0.5), hit("yesterday's", at=2, sim=0.4, created_at=yesterday)]
    ranked = retrieval.serve_learned(
        hits, [0.2, 0.0], query="what did I do yesterday", now=NOW, k=2
    )
    assert ranked[0].content == "yesterday's"
    assert "in the asked time window" in ranked[0].reasons


def test_rank_uses_the_learned_weights_unless_told_rank_fusion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hits = [hit("a", at=1, sim=0.9, bm25=1.0), hit("b", at=5, sim=0.2, bm25=3.0)]
    ranked = retrieval._rank([*hits], query="a b", now=NOW, k=2)
    assert any(r.startswith("learned score") for r in ranked[0].reasons)
    monkeypatch.setattr(retrieval, "RANKER", "rrf")
    ranked = retrieval._rank([*hits], query="a b", now=NOW, k=2)
    assert not any(r.startswith("learned score") for h in ranked for r in h.reasons)


@pytest.mark.parametrize(
    ("query", "learned_used"),
    [
        ("Where does Ana work now?", False),
        ("Which city is she currently in?", False),
        ("Where did Ana work when she met Tom?", True),
        ("What did Ana say about knowing the city?", True),  # "know" is not "now"
    ],
)
def test_questions_about_the_present_are_ranked_by_fusion(query: str, learned_used: bool) -> None:
    hits = [hit("a", at=1, sim=0.9, bm25=1.0), hit("b", at=5, sim=0.2, bm25=3.0)]
    ranked = retrieval._rank([*hits], query=query, now=NOW, k=2)
    used = any(r.startswith("learned score") for h in ranked for r in h.reasons)
    assert used is learned_used


def test_cut_pool_keeps_each_sides_top_n() -> None:
    hits = [
        hit("d1", at=1, sim=0.9),
        hit("d2", at=2, sim=0.8, bm25=1.0),
        hit("d3", at=3, sim=0.7, bm25=3.0),
        hit("s1", at=4, bm25=2.0),
    ]
    cut = {h.content: h for h in cut_pool(hits, 2)}
    assert set(cut) == {"d1", "d2", "d3", "s1"}
    assert cut["d2"].similarity == 0.8 and cut["d2"].text_rank is None  # third on BM25
    assert cut["d3"].similarity is None and cut["d3"].text_rank == 3.0  # third on dense
    assert len(cut_pool(hits, 1)) == 2  # d1 and d3
    assert hits[2].similarity == 0.7  # the cache is not changed


def test_rank_fusion_is_blended_in_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    def pair() -> list[Hit]:
        return [
            hit("strong on both sides", at=1, sim=0.9, bm25=5.0),
            hit("weak", at=9, sim=0.1),
        ]

    monkeypatch.setattr(retrieval, "FUSION_BLEND", 0.0)
    alone = retrieval.serve_learned(pair(), [0.0, 0.2], query="x", now=NOW, k=2)
    assert alone[0].content == "weak"
    monkeypatch.setattr(retrieval, "FUSION_BLEND", 0.3)
    blended = retrieval.serve_learned(pair(), [0.0, 0.2], query="x", now=NOW, k=2)
    assert blended[0].content == "strong on both sides"
    assert any(r.startswith("learned score") for r in blended[0].reasons)


def test_a_fact_is_served_in_place_of_the_turn_it_was_read_from() -> None:
    turn = hit("Maya: I work at Spotify now.", at=2, sim=0.5)
    fact = hit("Maya works at Spotify", at=2, sim=0.4, kind="semantic")
    other = hit("Maya: hello", at=7, sim=0.3)
    ranked = retrieval.serve_learned([turn, fact, other], [1.0, 0.0, 0.5], query="x", now=NOW, k=3)
    assert [h.content for h in ranked] == ["Maya works at Spotify", "Maya: hello"]
    assert "as strong as the turn it was read from" in ranked[0].reasons
