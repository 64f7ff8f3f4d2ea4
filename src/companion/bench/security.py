"""Security: detection quality and latency on data nobody here wrote.

Goal (issue 13): TPR ≥ 0.85 at FPR ≤ 1 % on companion chat, p95 ≤ 5 ms per check.
Measures, from ``--data DIR`` (``injection-dev.jsonl`` and ``locomo-dev.json``):

1. stratified k-fold cross-validation by group on the dev corpus outside its hold-out
   (each fold's model trained on the other folds' ``train_ok`` items plus our written
   sets, exactly the shipped recipe): mean and spread;
2. the shipped detector on the dev hold-out (never trained or tuned on);
3. the false-alarm rate on benign companion chat (every LoCoMo turn) apart from the
   benign instructions of the corpus;
4. per category, language and source, and the latency per check.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from companion.security.classifier import InjectionClassifier
from companion.security.corpus import Example
from companion.security.detector import Detector
from companion.security.devdata import DevItem, chat_turns, is_dev_holdout, load_dev
from companion.security.evaluation import CategoryScore, GroupScore, Report, breakdown, evaluate
from companion.security.features import featurise_many
from companion.security.fitting import PRIOR, fit, fit_platt, group_folds, raw_attack_scores
from companion.security.normalise import canonical
from companion.security.trainer import build_training_set

__all__ = ["run"]


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


async def _cross_validate(
    dev: list[DevItem], chat: list[Example], folds: int, threshold: float
) -> list[str]:
    pool = [i for i in dev if not is_dev_holdout(i.group)]
    assignment = group_folds([i.group for i in pool], [i.attack for i in pool], folds)
    rows = featurise_many([canonical(i.text) for i in pool])
    models = []
    for fold in range(folds):
        allowed = [i for i, f in zip(pool, assignment, strict=True) if f != fold and i.train_ok]
        data = build_training_set(allowed)
        models.append(fit(data.rows, data.targets, sample_weight=data.weights))
    raw = np.zeros(len(pool))
    for fold, (weights, bias) in enumerate(models):
        members = np.flatnonzero(assignment == fold)
        raw[members] = raw_attack_scores(rows.take(members), weights, bias)
    attack = np.array([i.attack for i in pool])
    train_ok = np.array([i.train_ok for i in pool])
    per_fold: dict[str, list[float]] = {"tpr": [], "fpr_dev": [], "fpr_chat": [], "f1": []}
    pooled_items: list[DevItem] = []
    pooled = Report(0, 0, 0, 0, 0)
    for fold, (weights, bias) in enumerate(models):
        # Calibrate on the other folds' out-of-fold scores (two parameters; see BENCHMARKS).
        others = (assignment != fold) & train_ok
        platt = fit_platt(raw[others], attack[others], prior=PRIOR)
        model = InjectionClassifier(weights.astype(np.float32), bias.astype(np.float32), platt)
        detector = Detector(classifier=model, act_threshold=threshold)
        fold_items = [i for i, f in zip(pool, assignment, strict=True) if f == fold]
        report = await evaluate(detector, _examples(fold_items), threshold=threshold)
        chat_report = await evaluate(detector, chat, threshold=threshold)
        per_fold["tpr"].append(report.tpr)
        per_fold["fpr_dev"].append(report.fpr)
        per_fold["fpr_chat"].append(chat_report.fpr)
        per_fold["f1"].append(report.f1)
        pooled_items += fold_items
        pooled.flagged += report.flagged
        pooled.categories = _merge_categories(pooled.categories, report)
    lines = [
        f"**Cross-validation**: {folds} folds by group over {len(pool)} dev items outside the "
        "hold-out; each fold trained on the other folds' train_ok items plus our written sets.",
        "",
        "| TPR (dev attacks) | FPR (dev benign) | FPR (LoCoMo chat) | F1 |",
        "|---|---|---|---|",
        f"| {_spread(per_fold['tpr'])} | {_spread(per_fold['fpr_dev'])} | "
        f"{_spread(per_fold['fpr_chat'])} | {_spread(per_fold['f1'])} |",
        "",
        "Pooled over the folds:",
        "",
    ]
    return lines + _tables(pooled_items, pooled)


def _merge_categories(current: list[CategoryScore], report: Report) -> list[CategoryScore]:
    if not current:
        return list(report.categories)
    return [
        CategoryScore(
            old.category,
            old.support + new.support,
            old.tp + new.tp,
            old.fp + new.fp,
            old.fn + new.fn,
            old.negatives + new.negatives,
        )
        for old, new in zip(current, report.categories, strict=True)
    ]


async def _run(data: Path, folds: int, threshold: float, repeats: int, holdout: bool) -> list[str]:
    dev = load_dev(data)
    chat = [Example(text, "benign") for text in chat_turns(data)]
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
        lines += await _cross_validate(dev, chat, folds, threshold)
        lines.append(f"(cross-validation took {time.perf_counter() - start:.0f} s)")
        lines.append("")
    benign_instructions = [i for i in dev if not i.attack and is_dev_holdout(i.group)]
    sets: list[tuple[str, list[Example]]] = [("LoCoMo chat turns (benign)", chat)]
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
    if holdout:
        lines += ["Dev hold-out, shipped detector:", ""]
        lines += _tables(held, reports["dev hold-out (all)"])
    return lines


def run(*, data: Path, folds: int, holdout: bool, threshold: float, repeats: int) -> str:
    """TPR/FPR/F1 per category, language and source; FPR on chat; p95 per check."""
    return "\n".join(asyncio.run(_run(data, folds, threshold, repeats, holdout)))
