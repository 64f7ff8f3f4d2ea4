"""Every example message of the Discord design is classified as it says."""

from __future__ import annotations

import pytest

from companion.security import Detector, training

SEEDS = [
    e
    for e in training()
    if e.kind == "seed"
    or e.kind in {"harmless_roleplay", "personality_curiosity", "normal_conversation"}
]
MALICIOUS = [e for e in SEEDS if e.label != "benign"]
BENIGN = [e for e in SEEDS if e.label == "benign"]


def test_the_seed_lists_are_all_there() -> None:
    assert len(MALICIOUS) == 15
    assert len(BENIGN) == 15


@pytest.mark.parametrize("example", MALICIOUS, ids=lambda e: e.text[:40])
async def test_seed_attack_is_flagged_with_its_category(example: object) -> None:
    detection = await Detector().classify(example.text)  # type: ignore[attr-defined]
    assert detection.flagged(0.7)
    assert detection.category == example.label  # type: ignore[attr-defined]


@pytest.mark.parametrize("example", BENIGN, ids=lambda e: e.text[:40])
async def test_seed_benign_message_is_not_flagged(example: object) -> None:
    detection = await Detector().classify(example.text)  # type: ignore[attr-defined]
    assert not detection.flagged(0.6)
