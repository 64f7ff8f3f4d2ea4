"""``companion security train``: the shipped classifier from the data it may be trained on.

Training data: the ``train_ok`` items of the public development corpus outside its
dev hold-out (``devdata.py``), plus every set we wrote (``corpus.TRAINING_FILES``,
with our own de/fr/es/it/pt translations) and the messages composed from our own
attack grammar in sixteen languages (``augment.py``). Items with ``train_ok: false`` are never
trained on (licences); they are only measured. The result is written as a small npz
(``classifier.py``) and loads without network.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from companion.security.augment import compose
from companion.security.classifier import CLASSES, InjectionClassifier
from companion.security.corpus import Example, training, written_lines
from companion.security.devdata import DevItem, chat_turns, is_dev_holdout
from companion.security.features import SparseRows, featurise_many
from companion.security.fitting import train
from companion.security.normalise import canonical
from companion.security.overlap import Overlap, find_overlaps

__all__ = [
    "MODEL_VERSION",
    "TrainingSet",
    "build_training_set",
    "language_weights",
    "source_weights",
    "train_shipped",
    "wording_overlaps",
]

MODEL_VERSION = "injection-classifier-7"
#: Largest up-weighting of a source's benign items (see ``source_weights``).
_SOURCE_WEIGHT_CAP = 4.0
#: Weight of an attack written in another language than English (see ``language_weights``).
_OTHER_LANGUAGE_ATTACK_WEIGHT = 3.0


@dataclass(frozen=True)
class TrainingSet:
    """Feature rows, class targets and split groups of everything trained on."""

    rows: SparseRows
    targets: npt.NDArray[np.int64]
    groups: list[str]
    origins: Counter[str]
    weights: npt.NDArray[np.float64]


def source_weights(
    sources: Sequence[str], attack: Sequence[bool], *, cap: float = _SOURCE_WEIGHT_CAP
) -> npt.NDArray[np.float64]:
    """Up-weight the benign items of a source that holds more attacks than benign ones.

    Public sets pair attacks with clean twins (an e-mail with and without a smuggled
    instruction); when a source holds more attacks, its layout (headers, "Can you help
    me with this email?") becomes evidence of an attack. Weighting its benign items up
    to the attack count (at most ``cap`` times) makes the source itself carry no signal,
    so only the difference between the twins does.
    """
    counts = Counter(zip(sources, attack, strict=True))
    result = np.ones(len(sources))
    for index, (source, hit) in enumerate(zip(sources, attack, strict=True)):
        attacks, benign = counts[(source, True)], counts[(source, False)]
        if not hit and attacks > benign > 0:
            result[index] = min(cap, attacks / benign)
    return result


def language_weights(
    langs: Sequence[str], attack: Sequence[bool], *, factor: float = _OTHER_LANGUAGE_ATTACK_WEIGHT
) -> npt.NDArray[np.float64]:
    """Weight the attacks written in a language other than English ``factor`` times.

    Almost every public attack we may train on is English; the other languages have
    only the attacks we wrote. Weighting those up makes a German or French attack
    count like the English ones it stands in for (chosen by cross-validation: 1 → 2
    lifted non-English recall by 3–4 points for +0.4 points of benign false alarms;
    2 → 3, with classifier-4's grammar, de/fr/es by another 2–4 points for +0.4).
    """
    return np.array(
        [
            factor if hit and lang not in ("", "en", "und") else 1.0
            for lang, hit in zip(langs, attack, strict=True)
        ]
    )


def build_training_set(dev: Sequence[DevItem], own: Sequence[Example] | None = None) -> TrainingSet:
    """Train-allowed dev items (outside the dev hold-out) plus our written sets."""
    allowed = [i for i in dev if i.train_ok and not is_dev_holdout(i.group)]
    written = [*training(), *compose()] if own is None else list(own)
    texts = [i.text for i in allowed] + [e.text for e in written]
    labels = [i.label for i in allowed] + [e.label for e in written]
    groups = [f"dev:{i.group}" for i in allowed]
    groups += [f"own:{e.group}" if e.group else f"own:{e.text}" for e in written]
    origins: Counter[str] = Counter(i.source for i in allowed)
    origins["companion-written"] = len(written)
    sources = [i.source for i in allowed] + ["companion-written"] * len(written)
    langs = [i.lang for i in allowed] + [e.lang for e in written]
    attack = [label != "benign" for label in labels]
    return TrainingSet(
        rows=featurise_many([canonical(t) for t in texts]),
        targets=np.array([CLASSES.index(label) for label in labels], dtype=np.int64),
        groups=groups,
        origins=origins,
        weights=source_weights(sources, attack) * language_weights(langs, attack),
    )


def wording_overlaps(dev: Sequence[DevItem], data_dir: Path) -> list[Overlap]:
    """Runs of words our written training text shares with the dev corpus.

    Every dev item counts (hold-out and ``train_ok: false`` ones too), and so do the
    LoCoMo chat turns when ``locomo-dev.json`` is in ``data_dir``: the chat false-alarm
    rate is measured on them, so our benign messages must not repeat them either.
    """
    texts = [item.text for item in dev]
    if (data_dir / "locomo-dev.json").is_file():
        texts += chat_turns(data_dir)
    return find_overlaps(written_lines(), texts)


def train_shipped(dev: Sequence[DevItem], out: Path) -> InjectionClassifier:
    """Train on the allowed data, calibrate on out-of-fold scores and save to ``out``."""
    start = time.perf_counter()
    data = build_training_set(dev)
    model = train(
        data.rows,
        data.targets,
        data.groups,
        sample_weight=data.weights,
        meta={
            "version": MODEL_VERSION,
            "trained_on": dict(sorted(data.origins.items())),
            "attacks": int((data.targets > 0).sum()),
            "benign": int((data.targets == 0).sum()),
        },
    )
    model.meta["training_seconds"] = round(time.perf_counter() - start, 1)
    model.save(out)
    return model
