"""Small seeded datasets that the chapters share.

Every generator takes a ``seed`` and returns the same arrays on every run,
so numbers printed in a chapter are reproducible.
"""
from __future__ import annotations

import functools
import importlib.util
import os
from typing import NamedTuple

import numpy as np

from .params import Interval, check_scalar

__all__ = ["line", "line_with_outliers", "heteroscedastic", "counts", "blobs", "digits", "Digits"]

_POSITIVE = Interval(0.0, np.inf, False, True)
_NONNEG = Interval(0.0, np.inf, True, True)
_PROBABILITY = Interval(0.0, 1.0, True, True)


def _count(name: str, n) -> int:
    return int(check_scalar(name, n, Interval(1, np.inf), integer=True))


def line(
    n: int = 30, slope: float = 1.5, intercept: float = 0.5, noise: float = 0.6,
    x_range: tuple[float, float] = (0.0, 4.0), seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Points scattered around a line: :math:`y = a x + b + \varepsilon`, :math:`\varepsilon \sim N(0, \sigma^2)`.

    ``x`` is uniform on ``x_range`` and sorted.  Returns ``(x, y)``, each of shape ``(n,)``.
    """
    n = _count("n", n)
    check_scalar("noise", noise, _NONNEG)
    lo, hi = (check_scalar("x_range[0]", x_range[0]), check_scalar("x_range[1]", x_range[1]))
    if not lo < hi:
        raise ValueError(f"x_range must be increasing, got {x_range}")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(lo, hi, n))
    y = slope * x + intercept + noise * rng.standard_normal(n)
    return x, y


def line_with_outliers(
    n: int = 30, n_outliers: int = 3, shift: float = 6.0, seed: int = 0, **kwargs
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`line` data in which ``n_outliers`` points are pushed up by ``shift``.

    Returns ``(x, y, is_outlier)``; the outliers are chosen at random among the
    upper half of ``x`` so that they pull a least-squares line's slope.
    """
    x, y = line(n=n, seed=seed, **kwargs)
    k = int(check_scalar("n_outliers", n_outliers, Interval(0, n), integer=True))
    rng = np.random.default_rng(seed + 1)
    idx = rng.choice(np.arange(n // 2, n), size=k, replace=False) if k else np.array([], dtype=int)
    is_outlier = np.zeros(n, dtype=bool)
    is_outlier[idx] = True
    y = y.copy()
    y[is_outlier] += shift
    return x, y, is_outlier


def heteroscedastic(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Noise that grows with ``x``: :math:`y = 1 + 0.8x + (0.2 + 0.5x)\,\varepsilon` on ``x`` in [0, 4]."""
    n = _count("n", n)
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 4.0, n))
    y = 1.0 + 0.8 * x + (0.2 + 0.5 * x) * rng.standard_normal(n)
    return x, y


def counts(n: int = 200, w: float = 0.6, b: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Poisson counts with a log-linear rate: :math:`y \sim \mathrm{Poisson}(e^{w x + b})`, ``x`` in [0, 4]."""
    n = _count("n", n)
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 4.0, n))
    y = rng.poisson(np.exp(w * x + b)).astype(float)
    return x, y


def blobs(
    n: int = 200, separation: float = 2.0, positive_fraction: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian classes in 2-D, labels 0/1, centres ``separation`` apart along the diagonal.

    ``positive_fraction`` below 0.5 makes class 1 the minority (for the chapters on imbalance).
    Returns ``(X, y)`` with ``X`` of shape ``(n, 2)`` and ``y`` of shape ``(n,)``.
    """
    n = _count("n", n)
    check_scalar("separation", separation, _NONNEG)
    p = check_scalar("positive_fraction", positive_fraction, _PROBABILITY)
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < p).astype(float)
    centre = separation / (2.0 * np.sqrt(2.0))
    X = rng.standard_normal((n, 2)) + np.where(y[:, None] == 1.0, centre, -centre)
    return X, y


class Digits(NamedTuple):
    """The 8x8 digits split into train, validation and test sets (returned by :func:`digits`).

    ``x_*`` have shape ``(n, 64)`` with pixel intensities in [0, 1] (reshape a row to ``(8, 8)``
    to see the image), ``y_*`` are one-hot of shape ``(n, 10)`` and ``labels_*`` the digits 0-9.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    labels_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    labels_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    labels_test: np.ndarray

    @property
    def n_classes(self) -> int:
        """The number of classes, 10."""
        return self.y_train.shape[1]


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    # The 1797 images scikit-learn ships with its package (sklearn.datasets.load_digits, never downloaded).
    # Its CSV is read directly when it is where scikit-learn keeps it, which avoids importing
    # scikit-learn (about a second); otherwise load_digits reads the same file.
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("digits() needs scikit-learn, which ships the data: pip install scikit-learn")
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")
    if os.path.exists(path):
        table = np.loadtxt(path, delimiter=",")
        images, labels = table[:, :-1], table[:, -1].astype(int)
    else:  # pragma: no cover - a scikit-learn that keeps its data elsewhere
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images, labels = bunch.data.astype(np.float64), bunch.target.astype(int)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def digits(val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0) -> Digits:
    r"""The 1797 handwritten digits of scikit-learn (8x8 pixels, 16 grey levels), split three ways.

    Pixels are divided by 16 so they lie in [0, 1].  The split is stratified: within each
    digit a seeded shuffle puts ``round(test_fraction * n_c)`` images into the test set,
    ``round(val_fraction * n_c)`` into the validation set and the rest into the training set,
    so every set has (almost) the proportions of the whole; each set is then shuffled.
    ``val_fraction`` may be 0 (empty validation arrays); the training set may not be empty.
    """
    val = check_scalar("val_fraction", val_fraction, Interval(0.0, 1.0, True, False))
    test = check_scalar("test_fraction", test_fraction, Interval(0.0, 1.0, True, False))
    if val + test >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be below 1 to leave a training set, got {val:g} + {test:g}"
        )
    images, labels = _digits_raw()
    rng = np.random.default_rng(seed)
    parts: tuple[list, list, list] = ([], [], [])
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test, n_val = int(round(test * idx.size)), int(round(val * idx.size))
        if n_test + n_val >= idx.size:
            raise ValueError(f"val_fraction + test_fraction = {val + test:g} leaves no training image of digit {c}")
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test:n_test + n_val])
        parts[0].append(idx[n_test + n_val:])
    arrays = []
    for chunks in parts:
        idx = rng.permutation(np.concatenate(chunks))
        lab = labels[idx].copy()
        arrays += [images[idx] / 16.0, np.eye(10)[lab], lab]
    return Digits(*arrays)
