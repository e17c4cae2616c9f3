"""lossbook.losses against the reference implementations: Keras 3 (torch backend) and torch.nn.functional.

Values are compared to float32 precision with Keras (which computes in float32) and to
float64 precision with torch (given float64 tensors).  Gradients are compared with the
autograd gradient of the very same reference expression.
"""
import math
import os

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported anywhere

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

try:
    import keras
    import torch
    import torch.nn.functional as F
    from keras.src.trainers.data_adapters.data_adapter_utils import class_weight_to_sample_weights
except ImportError as err:  # a missing reference is a failure, never a skip
    raise ImportError(
        "the reference tests need keras and torch: /work/main/.venv/bin/pip install -r requirements-test.txt"
    ) from err

from lossbook import losses as L
from test_losses import CONFIGS, N_CLASSES, sample

assert keras.backend.backend() == "torch", "keras was imported before KERAS_BACKEND could be set to 'torch'"

KERAS_CONFIGS = [(i, l) for i, l in CONFIGS if l.keras_name and getattr(l, "class_weight", None) is None]


def keras_twin(loss):
    """The keras.losses object configured like ``loss``."""
    kwargs = dict(loss.settings)
    if np.ndim(kwargs.get("alpha", 0.0)):
        kwargs["alpha"] = list(kwargs["alpha"])
    for flag in ("from_logits", "apply_class_balancing"):
        if hasattr(loss, flag):
            kwargs[flag] = getattr(loss, flag)
    return getattr(keras.losses, loss.keras_name)(reduction=loss.reduction, **kwargs)


def keras_value_and_grad(loss, y_true, y_pred, sample_weight=None):
    p = torch.tensor(y_pred, dtype=torch.float32, requires_grad=True)
    value = keras_twin(loss)(y_true, p, sample_weight=sample_weight)
    value.backward()
    return float(value.detach()), p.grad.numpy().astype(np.float64)


def assert_matches_keras(loss, y_true, y_pred, sample_weight=None, where=""):
    ours, our_grad = loss.value_and_grad(y_true, y_pred, sample_weight)
    theirs, their_grad = keras_value_and_grad(loss, y_true, y_pred, sample_weight)
    assert ours == pytest.approx(theirs, rel=2e-5, abs=1e-6), f"{loss} {where}: value {ours} vs keras {theirs}"
    scale = max(1e-3, float(np.abs(their_grad).max()))
    np.testing.assert_allclose(our_grad, their_grad, rtol=2e-4, atol=1e-6 * max(1.0, scale),
                               err_msg=f"{loss} {where}: gradient")


@pytest.mark.parametrize("loss", [l for _, l in KERAS_CONFIGS], ids=[i for i, _ in KERAS_CONFIGS])
@pytest.mark.parametrize("shape", [(N_CLASSES,), (6, N_CLASSES), (2, 3, N_CLASSES)], ids=str)
def test_value_and_gradient_match_keras(loss, shape):
    y_true, y_pred = sample(loss, 21, shape)
    assert_matches_keras(loss, y_true, y_pred, where="unweighted")
    sw = np.random.default_rng(22).uniform(0.0, 2.0, shape[:-1]) if len(shape) > 1 else 0.7
    assert_matches_keras(loss, y_true, y_pred, sw, where="weighted")


def test_keras_shape_rules_and_scalar_losses():
    rng = np.random.default_rng(23)
    y, p = rng.integers(0, 2, 6).astype(float), rng.uniform(0.05, 0.95, (6, 1))
    sw = rng.uniform(0, 2, 6)
    for loss in (L.BinaryCrossentropy(), L.MeanSquaredError(), L.Hinge(), L.BinaryCrossentropy(reduction="sum")):
        assert_matches_keras(loss, y, p, sw, where="(n,) vs (n, 1)")
        assert_matches_keras(loss, y[:, None], p[:, 0], sw[:, None], where="(n, 1) vs (n,)")
    # a 1-D pair is one sample: Keras does not divide a scalar loss by anything, weighted or not
    for reduction in ("sum_over_batch_size", "mean_with_sample_weight"):
        assert_matches_keras(L.MeanAbsoluteError(reduction=reduction), y, p[:, 0], 2.5, where="1-D")
    y3, p3 = rng.integers(0, 2, (3, 2, 1)).astype(float), rng.uniform(0.05, 0.95, (3, 2, 1))
    assert_matches_keras(L.BinaryCrossentropy(), y3, p3[..., 0], rng.uniform(0, 2, 3), where="rank 3 squeeze")


def test_one_hot_targets_and_sparse_labels_match_keras():
    rng = np.random.default_rng(24)
    labels = rng.integers(0, N_CLASSES, 8)
    onehot = np.eye(N_CLASSES)[labels]
    probs, logits = rng.dirichlet(np.ones(N_CLASSES), 8), rng.normal(0, 3, (8, N_CLASSES))
    for loss in (L.CategoricalCrossentropy(), L.CategoricalCrossentropy(label_smoothing=0.3),
                 L.CategoricalFocalCrossentropy(), L.CategoricalHinge()):
        assert_matches_keras(loss, onehot, probs)
    for loss in (L.CategoricalCrossentropy(from_logits=True), L.CategoricalFocalCrossentropy(from_logits=True)):
        assert_matches_keras(loss, onehot, logits)
    assert_matches_keras(L.SparseCategoricalCrossentropy(), labels, probs)
    assert_matches_keras(L.SparseCategoricalCrossentropy(from_logits=True), labels[:, None], logits)


def test_probabilities_at_the_clip_match_keras():
    y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
    p = np.array([[0.0, 0.0, 1.0, 1e-9, 0.5]])  # below and at the lower clip; at the upper one a target of 1
    assert_matches_keras(L.BinaryCrossentropy(), y, p)
    assert_matches_keras(L.KLDivergence(), np.array([[0.0, 0.3, 0.7]]), np.array([[0.5, 0.0, 0.5]]))
    assert_matches_keras(L.MeanSquaredLogarithmicError(), np.array([[0.0, 2.0]]), np.array([[-1.0, 3.0]]))
    assert_matches_keras(L.MeanAbsolutePercentageError(), np.array([[0.0, 2.0]]), np.array([[1e-3, 3.0]]))
    # a zero vector: Keras's value is 0; its autograd gives NaN (rsqrt(0) times 0), ours the derivative
    # of the clamped normalisation p / max(|p|, 1e-7), which is -u / 1e-7
    loss, y, p = L.CosineSimilarity(), np.array([[0.0, 0.0], [1.0, 2.0]]), np.array([[1.0, 2.0], [0.0, 0.0]])
    assert loss(y, p) == pytest.approx(keras_value_and_grad(loss, y, p)[0], abs=1e-7)
    np.testing.assert_allclose(loss.grad(y, p)[1], -np.array([1.0, 2.0]) / math.sqrt(5) / 1e-7 / 2)


@pytest.mark.parametrize("cw", [{0: 1.0, 1: 4.0, 2: 0.5}, {2: 3.0}])
def test_class_weight_is_keras_fit_class_weight(cw):
    """Model.fit(class_weight=cw) turns cw into per-sample weights; the loss with class_weight computes the same."""
    rng = np.random.default_rng(25)
    labels = rng.integers(0, 3, 9)
    onehot = np.eye(3)[labels]
    probs = rng.dirichlet(np.ones(3), 9)
    keras_cce = keras.losses.CategoricalCrossentropy()
    for y_true, ours in ((onehot, L.CategoricalCrossentropy(class_weight=cw)),
                         (labels, L.SparseCategoricalCrossentropy(class_weight=cw))):
        sw = class_weight_to_sample_weights(y_true, cw)
        assert ours(y_true, probs) == pytest.approx(float(keras_cce(onehot, probs, sample_weight=sw)), rel=2e-6)
    y = rng.integers(0, 2, (9, 1)).astype(float)
    p = rng.uniform(0.05, 0.95, (9, 1))
    sw = class_weight_to_sample_weights(y, {0: 0.5, 1: 2.0})
    ours = L.BinaryCrossentropy(class_weight={0: 0.5, 1: 2.0})(y, p)
    assert ours == pytest.approx(float(keras.losses.BinaryCrossentropy()(y, p, sample_weight=sw)), rel=2e-6)


KERAS_NAMES = sorted({l.name for _, l in KERAS_CONFIGS})


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(KERAS_NAMES), shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       seed=st.integers(0, 2**32 - 1), weighted=st.booleans())
def test_property_random_shapes_match_keras(name, shape, seed, weighted):
    loss = L.REGISTRY[name]()
    if loss.min_classes > shape[-1]:
        shape = shape[:-1] + (loss.min_classes,)
    y_true, y_pred = sample(loss, seed, shape)
    sw = np.random.default_rng(seed).uniform(0, 2, shape[:-1]) if weighted and len(shape) > 1 else None
    assert_matches_keras(loss, y_true, y_pred, sw)


def test_keras_strings_resolve_to_the_same_loss():
    rng = np.random.default_rng(26)
    y, p = rng.integers(0, 2, (5, 3)).astype(float), rng.uniform(0.05, 0.95, (5, 3))
    for name in ("mse", "mae", "mape", "msle", "huber", "log_cosh", "poisson", "binary_crossentropy",
                 "categorical_crossentropy", "hinge", "squared_hinge", "categorical_hinge", "kl_divergence",
                 "binary_focal_crossentropy", "categorical_focal_crossentropy", "cosine_similarity"):
        theirs = keras.losses.get(name)
        assert L.get(name)(y, p) == pytest.approx(float(keras.ops.mean(theirs(y, p))), rel=2e-5), name


# ---------------------------------------------------------------------------
# torch.nn.functional, in float64
# ---------------------------------------------------------------------------


def t64(x, grad=False):
    return torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=grad)


def assert_matches_torch(loss, y_true, y_pred, torch_fn, sample_weight=None):
    p = t64(y_pred, grad=True)
    value = torch_fn(p)
    value.backward()
    ours, grad = loss.value_and_grad(y_true, y_pred, sample_weight)
    value = float(value.detach())
    assert ours == pytest.approx(value, rel=1e-11, abs=1e-12), f"{loss}: {ours} vs torch {value}"
    np.testing.assert_allclose(grad, p.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"{loss}: gradient")


def test_regression_losses_match_torch():
    rng = np.random.default_rng(31)
    y, p = rng.normal(size=(7, 3)), rng.normal(scale=2.0, size=(7, 3))
    assert_matches_torch(L.MeanSquaredError(), y, p, lambda q: F.mse_loss(q, t64(y)))
    assert_matches_torch(L.MeanAbsoluteError(), y, p, lambda q: F.l1_loss(q, t64(y)))
    for delta in (0.3, 1.0, 2.5):
        assert_matches_torch(L.Huber(delta), y, p, lambda q: F.huber_loss(q, t64(y), delta=delta))
        # SmoothL1(beta) is Huber(delta=beta) / beta
        assert_matches_torch(L.Huber(delta), y, p, lambda q: delta * F.smooth_l1_loss(q, t64(y), beta=delta))
    counts, rates = rng.poisson(2.0, (7, 3)).astype(float), rng.uniform(0.1, 4.0, (7, 3))
    assert_matches_torch(L.Poisson(), counts, rates,
                         lambda q: F.poisson_nll_loss(q, t64(counts), log_input=False, eps=1e-7))
    assert_matches_torch(L.CosineSimilarity(), y, p, lambda q: -F.cosine_similarity(q, t64(y), dim=-1).mean())


def test_binary_crossentropy_matches_torch_even_at_extreme_logits():
    rng = np.random.default_rng(32)
    y = rng.integers(0, 2, (6, 4)).astype(float)
    z = rng.normal(scale=3.0, size=(6, 4))
    z[0] = [1e4, -1e4, 800.0, -800.0]
    assert_matches_torch(L.BinaryCrossentropy(from_logits=True), y, z,
                         lambda q: F.binary_cross_entropy_with_logits(q, t64(y)))
    p = rng.uniform(0.01, 0.99, (6, 4))
    assert_matches_torch(L.BinaryCrossentropy(), y, p, lambda q: F.binary_cross_entropy(q, t64(y)))
    # the logistic margin loss is torch's soft margin loss, which however overflows for margins below about -709
    signs = 2 * y - 1
    assert_matches_torch(L.get("logistic"), signs[1:], z[1:], lambda q: F.soft_margin_loss(q, t64(signs[1:])))
    assert not math.isfinite(F.soft_margin_loss(t64(z[:1]), t64(signs[:1])).item())
    assert math.isfinite(L.get("logistic")(signs[:1], z[:1]))


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_categorical_crossentropy_matches_torch_cross_entropy(smoothing):
    rng = np.random.default_rng(33)
    labels = rng.integers(0, 5, 8)
    z = rng.normal(scale=4.0, size=(8, 5))
    z[0, 0], z[1, 3] = 1e4, -1e4
    onehot = np.eye(5)[labels]
    assert_matches_torch(L.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing), onehot, z,
                         lambda q: F.cross_entropy(q, torch.tensor(labels), label_smoothing=smoothing))
    soft = rng.dirichlet(np.ones(5), 8)
    assert_matches_torch(L.CategoricalCrossentropy(from_logits=True), soft, z, lambda q: F.cross_entropy(q, t64(soft)))
    probs = rng.dirichlet(np.ones(5) * 3, 8)
    assert_matches_torch(L.SparseCategoricalCrossentropy(), labels, probs,
                         lambda q: F.nll_loss(torch.log(q / q.sum(-1, keepdim=True)), torch.tensor(labels)))


def test_torch_class_weights_are_a_weighted_mean():
    rng = np.random.default_rng(34)
    labels = rng.integers(0, 3, 10)
    z = rng.normal(size=(10, 3))
    w = np.array([1.0, 3.0, 0.2])
    ours = L.SparseCategoricalCrossentropy(from_logits=True, class_weight=w, reduction="mean_with_sample_weight")
    assert_matches_torch(ours, labels, z, lambda q: F.cross_entropy(q, torch.tensor(labels), weight=t64(w)))


def test_kl_divergence_matches_torch_kl_div():
    rng = np.random.default_rng(35)
    t, p = rng.dirichlet(np.ones(4), 6), rng.dirichlet(np.ones(4), 6)
    assert_matches_torch(L.KLDivergence(), t, p, lambda q: F.kl_div(torch.log(q), t64(t), reduction="batchmean"))


def test_focal_logits_agree_with_keras_until_keras_clips():
    """With logits, Keras squashes then clips at 1e-7; ours stays exact. They agree until the clip bites."""
    y = np.array([[1.0, 0.0, 1.0]])
    moderate = np.array([[3.0, -4.0, 9.0]])
    assert_matches_keras(L.BinaryFocalCrossentropy(from_logits=True, gamma=0.0), y, moderate)
    extreme = np.array([[-30.0, 0.0, 0.0]])
    ours = L.BinaryFocalCrossentropy(from_logits=True, gamma=0.0)(y, extreme)
    theirs = float(keras.losses.BinaryFocalCrossentropy(from_logits=True, gamma=0.0)(y, extreme))
    exact = (30.0 + math.log1p(math.exp(-30.0)) + 2 * math.log(2.0)) / 3
    assert ours == pytest.approx(exact, rel=1e-12)
    assert theirs < ours - 4  # Keras's clipped value stops near -log(1e-7) = 16.1 for the first entry
