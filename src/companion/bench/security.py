"""Security: detection quality and latency on data nobody here wrote.

Goal (issue 13): TPR ≥ 0.85 at FPR ≤ 1 % on companion chat, p95 ≤ 5 ms per check.
Measures, from ``--data DIR`` (``injection-dev.jsonl`` and ``locomo-dev.json``):

1. stratified k-fold cross-validation by group on the dev corpus outside its hold-out
   (each fold's model trained on the other folds' ``train_ok`` items plus our written
   sets, exactly the shipped recipe): mean and spread;
2. the shipped detector on the dev hold-out (never trained or tuned on);
3. the false-alarm rate on benign companion chat (every LoCoMo turn) apart from the
   benign instructions of the corpus, and on our own benign structured messages
   (``bench/data/security/structured_benign.jsonl``: JSON, code, tables, e-mails);
   and on our own Italian and Portuguese messages (``own_it_pt.jsonl``), both ways;
4. per category, language and source, and the latency per check.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from companion.bench.measure import DATA
from companion.security.classifier import InjectionClassifier
from companion.security.corpus import Example, load_dataset
from companion.security.detector import DECISIVE, DECODED_VIEWS, Detector
from companion.security.devdata import DevItem, chat_turns, is_dev_holdout, load_dev
from companion.security.evaluation import GroupScore, Report, breakdown, evaluate
from companion.security.features import SparseRows, featurise_many
from companion.security.fitting import PRIOR, fit, fit_platt, group_folds, raw_attack_scores
from companion.security.normalise import canonical, views
from companion.security.patterns import score_patterns
from companion.security.trainer import build_training_set

__all__ = ["OWN_IT_PT", "STRUCTURED_BENIGN", "run"]

#: Benign structured messages we wrote (JSON, code, tables, e-mails, markdown, logs):
#: an audit of false alarms on structured text, never trained on.
STRUCTURED_BENIGN = DATA / "security" / "structured_benign.jsonl"
#: Italian and Portuguese attacks and benign chat we wrote, never trained on: the public
#: dev corpus has one Italian attack and no Portuguese one, so this is the only check of
#: those languages (our own set, so a regression figure, not a quality one).
OWN_IT_PT = DATA / "security" / "own_it_pt.jsonl"


def _examples(items: Sequence[DevItem]) -> list[Example]:
    return [Example(i.text, i.label, lang=i.lang) for i in items]


def _summary(name: str, report: Report) -> str:
    return (
        f"| {name} | {report.attacks} | {report.benign} | {report.tpr:.3f} | "
        f"{report.fpr:.4f} | {report.f1:.3f} | {report.percentile_ms(50):.2f} | "
        f"{report.percentile_ms(95):.2f} |"
    )


_SUMMARY_HEAD = [
    "| set | attacks | benign | TPR | FPR | F1 | p50 ms | p95 ms |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
]


def _groups(title: str, scores: list[GroupScore]) -> list[str]:
    lines = [
        f"| {title} | attacks | TPR | benign | FPR | F1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s.name} | {s.attacks} | {s.tpr:.3f} | {s.benign} | {s.fpr:.3f} | {s.f1:.3f} |"
        for s in scores
    ]
    return [*lines, ""]


def _categories(report: Report) -> list[str]:
    lines = ["| category | support | TPR | FPR | F1 |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {c.category} | {c.support} | {c.tpr:.3f} | {c.fpr:.3f} | {c.f1:.3f} |"
        for c in report.categories
    ]
    return [*lines, ""]


def _tables(items: Sequence[DevItem], report: Report) -> list[str]:
    def by(key: Callable[[DevItem], str]) -> list[GroupScore]:
        return breakdown(items, report.flagged, key=key, attack=lambda i: i.attack)

    lines = _categories(report)
    lines += _groups("language", by(lambda i: i.lang))
    lines += _groups("source", by(lambda i: i.source))
    lines += _groups("label", by(lambda i: i.label))
    return lines


def _spread(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


@dataclass(frozen=True)
class _Prepared:
    """Texts with their pattern verdicts and the feature rows the classifier reads."""

    pattern: npt.NDArray[np.float64]  # pattern confidence per text
    rows: SparseRows  # canonical view plus decoded payloads, per text
    owner: npt.NDArray[np.int64]  # the text each row belongs to


def _prepare(texts: Sequence[str]) -> _Prepared:
    """Run the pattern layer once per text (it does not change between folds)."""
    confidence, view_texts, owner = [], [], []
    for index, text in enumerate(texts):
        text_views = views(text)
        confidence.append(score_patterns(text_views).best[1])
        for view in text_views:
            if view is text_views[0] or view.name in DECODED_VIEWS:
                view_texts.append(view.text)
                owner.append(index)
    return _Prepared(
        np.asarray(confidence), featurise_many(view_texts), np.asarray(owner, dtype=np.int64)
    )


def _confidence(prepared: _Prepared, model: InjectionClassifier) -> npt.NDArray[np.float64]:
    """The detector's confidence per text, as ``Detector.classify`` combines it (no judge).

    Decisive patterns decide alone; otherwise the larger of the pattern evidence and the
    calibrated classifier probability of the best view.
    """
    weights, bias = model.weights.astype(np.float64), model.bias.astype(np.float64)
    raw = raw_attack_scores(prepared.rows, weights, bias)
    best = np.full(len(prepared.pattern), -np.inf)
    np.maximum.at(best, prepared.owner, raw)
    a, b = model.platt
    probability = 1 / (1 + np.exp(-(a * best + b)))
    return np.where(
        prepared.pattern >= DECISIVE, prepared.pattern, np.maximum(prepared.pattern, probability)
    )


def _cross_validate(
    dev: list[DevItem], chat: list[str], own: list[Example], folds: int, threshold: float
) -> list[str]:
    pool = [i for i in dev if not is_dev_holdout(i.group)]
    assignment = group_folds([i.group for i in pool], [i.attack for i in pool], folds)
    pool_rows = featurise_many([canonical(i.text) for i in pool])
    prepared = {"pool": _prepare([i.text for i in pool]), "chat": _prepare(chat)}
    prepared["own structured"] = _prepare([e.text for e in own])
    models = []
    for fold in range(folds):
        allowed = [i for i, f in zip(pool, assignment, strict=True) if f != fold and i.train_ok]
        data = build_training_set(allowed)
        models.append(fit(data.rows, data.targets, sample_weight=data.weights))
    raw = np.zeros(len(pool))
    for fold, (weights, bias) in enumerate(models):
        members = np.flatnonzero(assignment == fold)
        raw[members] = raw_attack_scores(pool_rows.take(members), weights, bias)
    attack = np.array([i.attack for i in pool])
    train_ok = np.array([i.train_ok for i in pool])
    per_fold: dict[str, list[float]] = {
        "tpr": [], "fpr_dev": [], "fpr_chat": [], "fpr_own": [], "f1": []
    }  # fmt: skip
    confidence = np.zeros(len(pool))
    for fold, (weights, bias) in enumerate(models):
        # Calibrate on the other folds' out-of-fold scores (two parameters; see BENCHMARKS).
        others = (assignment != fold) & train_ok
        platt = fit_platt(raw[others], attack[others], prior=PRIOR)
        model = InjectionClassifier(weights.astype(np.float32), bias.astype(np.float32), platt)
        members = np.flatnonzero(assignment == fold)
        scores = _confidence(prepared["pool"], model)
        confidence[members] = scores[members]
        flagged = scores[members] > threshold
        hits, alarms = flagged[attack[members]], flagged[~attack[members]]
        per_fold["tpr"].append(float(hits.mean()))
        per_fold["fpr_dev"].append(float(alarms.mean()))
        chat_flags = _confidence(prepared["chat"], model) > threshold
        per_fold["fpr_chat"].append(float(chat_flags.mean()))
        own_flags = _confidence(prepared["own structured"], model) > threshold
        per_fold["fpr_own"].append(float(own_flags.mean()) if len(own_flags) else 0.0)
        tp = int(hits.sum())
        per_fold["f1"].append(2 * tp / (len(hits) + tp + int(alarms.sum())))
    flagged_all = [bool(c > threshold) for c in confidence]
    lines = [
        f"**Cross-validation**: {folds} folds by group over {len(pool)} dev items outside the "
        "hold-out; each fold trained on the other folds' train_ok items plus our written sets "
        "(the pattern layer is run once per text; the combination is the detector's).",
        "",
        "| TPR (dev attacks) | FPR (dev benign) | FPR (LoCoMo chat) | FPR (own structured) | F1 |",
        "|---|---|---|---|---|",
        "| " + " | ".join(_spread(v) for v in per_fold.values()) + " |",
        "",
        "Operating points (pooled over the folds; threshold → TPR / FPR dev benign): "
        + "; ".join(
            f"{line} → {(confidence[attack] > line).mean():.3f} / "
            f"{(confidence[~attack] > line).mean():.4f}"
            for line in (0.5, 0.6, 0.7, 0.8)
        ),
        "",
        "Pooled over the folds:",
        "",
    ]

    def by(key: Callable[[DevItem], str]) -> list[GroupScore]:
        return breakdown(pool, flagged_all, key=key, attack=lambda i: i.attack)

    lines += _groups("language", by(lambda i: i.lang))
    lines += _groups("source", by(lambda i: i.source))
    lines += _groups("label", by(lambda i: i.label))
    return lines


async def _run(data: Path, folds: int, threshold: float, repeats: int, holdout: bool) -> list[str]:
    dev = load_dev(data)
    chat = [Example(text, "benign") for text in chat_turns(data)]
    structured = load_dataset(STRUCTURED_BENIGN) if STRUCTURED_BENIGN.is_file() else []
    shipped = Detector(act_threshold=threshold)
    patterns = Detector(use_classifier=False)
    await evaluate(shipped, chat[:50])  # warm-up: regex compilation, first numpy calls
    meta = shipped.classifier.meta if shipped.classifier else {}
    lines = [
        f"Detector: patterns + classifier `{meta.get('version')}`; action threshold "
        f"{threshold}; no LLM judge; latency = fastest of {repeats} run(s) per check.",
        "",
    ]
    if folds > 1:
        start = time.perf_counter()
        lines += _cross_validate(dev, [e.text for e in chat], structured, folds, threshold)
        lines.append(f"(cross-validation took {time.perf_counter() - start:.0f} s)")
        lines.append("")
    benign_instructions = [i for i in dev if not i.attack and is_dev_holdout(i.group)]
    sets: list[tuple[str, list[Example]]] = [("LoCoMo chat turns (benign)", chat)]
    if structured:
        sets.append(("own structured messages (benign)", structured))
    own_it_pt = load_dataset(OWN_IT_PT) if OWN_IT_PT.is_file() else []
    if own_it_pt:
        sets.append(("own it/pt messages", own_it_pt))
    held = [i for i in dev if is_dev_holdout(i.group)] if holdout else []
    if holdout:
        sets.insert(0, ("dev hold-out (all)", _examples(held)))
        sets.append(("dev hold-out benign prompts only", _examples(benign_instructions)))
    lines += ["**Shipped detector**:", "", *_SUMMARY_HEAD]
    reports = {}
    for name, examples in sets:
        reports[name] = await evaluate(shipped, examples, threshold=threshold, repeats=repeats)
        lines.append(_summary(name, reports[name]))
        lines.append(_summary(f"{name}, patterns only", await evaluate(patterns, examples)))
    lines.append("")
    if own_it_pt:
        flagged = reports["own it/pt messages"].flagged
        lines += _groups(
            "own it/pt set (ours), language",
            breakdown(
                own_it_pt, flagged, key=lambda e: e.lang, attack=lambda e: e.label != "benign"
            ),
        )
    if holdout:
        lines += ["Dev hold-out, shipped detector:", ""]
        lines += _tables(held, reports["dev hold-out (all)"])
    return lines


def run(*, data: Path, folds: int, holdout: bool, threshold: float, repeats: int) -> str:
    """TPR/FPR/F1 per category, language and source; FPR on chat; p95 per check."""
    return "\n".join(asyncio.run(_run(data, folds, threshold, repeats, holdout)))
