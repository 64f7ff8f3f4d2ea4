"""Fitting the injection classifier (numpy only): softmax regression, Platt scaling, folds.

``fit`` trains a class-balanced, L2-regularised multinomial logistic regression on
sparse hashed features with L-BFGS (scipy sparse matrices at training time only;
deterministic: it starts from zero).
``out_of_fold`` gives every training example a score from a model that did not see
its group, and ``fit_platt`` maps those raw scores to calibrated probabilities for a
stated prior: by default attacks and benign messages weigh the same (``PRIOR``), so
the probability does not depend on how many of each the training set happens to hold.
``group_folds`` splits by group, stratified by label, so parallel translations and
minimal pairs never sit on both sides of a split.
"""

from __future__ import annotations

import math
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from companion.security.classifier import CLASSES, InjectionClassifier
from companion.security.features import BUCKETS, SparseRows

__all__ = [
    "PRIOR",
    "fit",
    "fit_platt",
    "group_folds",
    "out_of_fold",
    "prior_weights",
    "raw_attack_scores",
    "train",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_L2 = 3e-5
_STEPS = 300
#: The attack share the calibration assumes: equal weight to attacks and benign
#: messages, whatever the mix of the training set.
PRIOR = 0.5


def _matrix(rows: SparseRows) -> Any:
    from scipy.sparse import csr_matrix  # training only; inference is plain numpy

    return csr_matrix(
        (rows.values.astype(np.float64), rows.indices, rows.offsets), shape=(len(rows), BUCKETS)
    )


def _softmax(logits: FloatArray) -> FloatArray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    result: FloatArray = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def fit(
    rows: SparseRows,
    targets: IntArray,
    *,
    sample_weight: FloatArray | None = None,
    l2: float = _L2,
    steps: int = _STEPS,
) -> tuple[FloatArray, FloatArray]:
    """Weights ``(BUCKETS, classes)`` and bias of a softmax regression (L-BFGS).

    Benign and attack halves weigh the same in the loss (so the raw scores are not
    calibrated: ``fit_platt`` does that on out-of-fold scores). Deterministic: it
    starts from zero.
    """
    classes = len(CLASSES)
    onehot = np.eye(classes)[targets]
    attack = targets > 0
    balance = np.where(attack, 0.5 / max(attack.sum(), 1), 0.5 / max((~attack).sum(), 1))
    sample = balance * (sample_weight if sample_weight is not None else 1.0)
    sample = sample / sample.sum()
    columns = np.unique(rows.indices)
    matrix = _matrix(rows)[:, columns].tocsr()
    transposed = matrix.T.tocsr()
    size = len(columns) * classes

    def loss_and_gradient(theta: FloatArray) -> tuple[float, FloatArray]:
        weights, bias = theta[:size].reshape(len(columns), classes), theta[size:]
        logits = matrix @ weights + bias
        top = logits.max(axis=1, keepdims=True)
        log_norm = top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
        log_probs = logits - log_norm
        loss = -float((sample * (onehot * log_probs).sum(axis=1)).sum())
        loss += 0.5 * l2 * float((weights * weights).sum())
        residual = (np.exp(log_probs) - onehot) * sample[:, None]
        grad_w = transposed @ residual + l2 * weights
        return loss, np.concatenate([np.asarray(grad_w).ravel(), residual.sum(axis=0)])

    theta = _lbfgs(loss_and_gradient, np.zeros(size + classes), steps)
    weights = np.zeros((BUCKETS, classes))
    weights[columns] = theta[:size].reshape(len(columns), classes)
    return weights, theta[size:]


def _lbfgs(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    start: FloatArray,
    steps: int,
    *,
    memory: int = 10,
    tolerance: float = 1e-7,
) -> FloatArray:
    """Unconstrained L-BFGS with a backtracking (Armijo) line search.

    Written out because scipy's L-BFGS-B spends ~0.5 s per iteration on its bound
    bookkeeping at a million parameters; this costs a few vector operations each.
    Dot products avoid BLAS: its threads spin badly on a loaded 2-core machine.
    """
    x = start
    value, gradient = objective(x)
    history: list[tuple[FloatArray, FloatArray, float]] = []
    for _ in range(steps):
        direction = gradient.copy()
        alphas = []
        for s, y, rho in reversed(history):
            alpha = rho * _dot(s, direction)
            direction -= alpha * y
            alphas.append(alpha)
        if history:
            s, y, _ = history[-1]
            direction *= _dot(s, y) / _dot(y, y)
        else:
            direction /= max(_dot(gradient, gradient) ** 0.5, 1e-12)
        for (s, y, rho), alpha in zip(history, reversed(alphas), strict=True):
            direction += s * (alpha - rho * _dot(y, direction))
        direction = -direction
        slope = _dot(gradient, direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            history.clear()
            direction = -gradient / max(_dot(gradient, gradient) ** 0.5, 1e-12)
            slope = _dot(gradient, direction)
        step = 1.0
        while True:
            candidate = x + step * direction
            new_value, new_gradient = objective(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, y = candidate - x, new_gradient - gradient
        curvature = _dot(s, y)
        if curvature > 1e-12:
            history.append((s, y, 1.0 / curvature))
            del history[:-memory]
        x, value, gradient = candidate, new_value, new_gradient
        if _dot(gradient, gradient) ** 0.5 < tolerance:
            break
    return x


def _dot(a: FloatArray, b: FloatArray) -> float:
    return float(np.multiply(a, b).sum())


def raw_attack_scores(rows: SparseRows, weights: FloatArray, bias: FloatArray) -> FloatArray:
    """``log(P(attack) / P(benign))`` per row: the score Platt scaling calibrates."""
    probs = _softmax(_matrix(rows) @ weights + bias)
    benign = np.clip(probs[:, 0], 1e-9, 1.0)
    result: FloatArray = np.log(np.clip(1.0 - benign, 1e-9, 1.0)) - np.log(benign)
    return result


def prior_weights(labels: npt.NDArray[np.bool_], prior: float | None) -> FloatArray:
    """Per-example weights giving attacks a total share ``prior`` (ones when ``None``)."""
    if prior is None:
        return np.ones(len(labels))
    positives, negatives = max(int(labels.sum()), 1), max(int((~labels).sum()), 1)
    result: FloatArray = np.where(
        labels, prior * len(labels) / positives, (1 - prior) * len(labels) / negatives
    )
    return result


def fit_platt(
    scores: FloatArray, labels: npt.NDArray[np.bool_], *, prior: float | None = None
) -> tuple[float, float]:
    """``(a, b)`` with ``sigmoid(a * score + b)`` ≈ P(attack), by Newton's method.

    With ``prior`` the examples are weighted so that attacks make up that share: the
    probability is then the one for a stream with that share of attacks. Uses Platt's
    smoothed targets so that a perfectly separated set does not push the slope to
    infinity.
    """
    positives, negatives = int(labels.sum()), int((~labels).sum())
    target = np.where(labels, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    weight = prior_weights(labels, prior)
    a, b = 1.0, 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-(a * scores + b)))
        gradient = np.array([(weight * (p - target) * scores).sum(), (weight * (p - target)).sum()])
        w = weight * p * (1 - p) + 1e-12
        hessian = np.array(
            [[(w * scores * scores).sum(), (w * scores).sum()], [(w * scores).sum(), w.sum()]]
        )
        step = np.linalg.solve(hessian + 1e-9 * np.eye(2), gradient)
        a, b = a - float(step[0]), b - float(step[1])
        if abs(step).max() < 1e-9:
            break
    return a, b


def _stable(text: str) -> int:
    return zlib.crc32(text.encode())


def group_folds(
    groups: Sequence[str], labels: Sequence[bool], folds: int, *, seed: int = 0
) -> IntArray:
    """A fold number per item: whole groups per fold, attacks and benign spread evenly."""
    members: dict[str, list[int]] = defaultdict(list)
    for index, group in enumerate(groups):
        members[group].append(index)
    assignment = np.zeros(len(groups), dtype=np.int64)
    for wanted in (True, False):
        chosen = [g for g, idx in members.items() if labels[idx[0]] == wanted]
        chosen.sort(key=lambda g: (_stable(f"{seed}:{g}"), g))
        for order, group in enumerate(chosen):
            assignment[members[group]] = order % folds
    return assignment


def out_of_fold(
    rows: SparseRows,
    targets: IntArray,
    groups: Sequence[str],
    *,
    folds: int = 5,
    sample_weight: FloatArray | None = None,
    steps: int = _STEPS,
) -> FloatArray:
    """Raw attack scores for every row from a model that never saw its group."""
    assignment = group_folds(groups, [bool(t > 0) for t in targets], folds)
    scores = np.zeros(len(rows))
    for fold in range(folds):
        train_idx = np.flatnonzero(assignment != fold)
        test_idx = np.flatnonzero(assignment == fold)
        weights, bias = fit(
            rows.take(train_idx),
            targets[train_idx],
            sample_weight=None if sample_weight is None else sample_weight[train_idx],
            steps=steps,
        )
        scores[test_idx] = raw_attack_scores(rows.take(test_idx), weights, bias)
    return scores


def train(
    rows: SparseRows,
    targets: IntArray,
    groups: Sequence[str],
    *,
    sample_weight: FloatArray | None = None,
    meta: dict[str, object] | None = None,
    steps: int = _STEPS,
    prior: float | None = PRIOR,
) -> InjectionClassifier:
    """The shippable classifier: Platt on out-of-fold scores, weights on everything."""
    scores = out_of_fold(rows, targets, groups, sample_weight=sample_weight, steps=steps)
    platt = fit_platt(scores, targets > 0, prior=prior)
    weights, bias = fit(rows, targets, sample_weight=sample_weight, steps=steps)
    calibrated = 1 / (1 + np.exp(-(platt[0] * scores + platt[1])))
    info = dict(meta or {})
    info["calibration_bins"] = _reliability(calibrated, targets > 0, prior)
    info["calibration_prior"] = prior
    info["training_rows"] = len(rows)
    return InjectionClassifier(weights.astype(np.float32), bias.astype(np.float32), platt, info)


def _reliability(
    probabilities: FloatArray, labels: npt.NDArray[np.bool_], prior: float | None = None
) -> list[dict[str, float]]:
    """Out-of-fold reliability table: per probability decile, mean predicted vs observed.

    With ``prior`` the observed attack rate is the one of the reweighted stream the
    calibration promises (attacks making up ``prior`` of it); ``count`` stays the
    number of training messages in the decile, ``weight`` their reweighted total.
    """
    weight = prior_weights(labels, prior)
    table = []
    for low in np.arange(0.0, 1.0, 0.1):
        mask = (probabilities >= low) & (probabilities < low + 0.1 + (1e-9 if low >= 0.9 else 0))
        if mask.sum():
            w = weight[mask]
            table.append(
                {
                    "low": round(float(low), 1),
                    "count": int(mask.sum()),
                    "weight": round(float(w.sum()), 2),
                    "predicted": round(float((probabilities[mask] * w).sum() / w.sum()), 4),
                    "observed": round(float((labels[mask] * w).sum() / w.sum()), 4),
                }
            )
    return table


def logit(p: float) -> float:
    """The inverse of the sigmoid (for thresholds on the raw scale)."""
    return math.log(p / (1 - p))
