"""lossbook.losses: gradients, minima, sample weights, numerics and the registry, over every loss."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossbook import losses as L
from lossbook.losses import margin
from lossbook.testing import check_gradient, numerical_gradient

# ---------------------------------------------------------------------------
# Every loss in a few settings, and valid random inputs for each (shared with the reference tests)
# ---------------------------------------------------------------------------

N_CLASSES = 4


def configurations():
    """(id, loss) pairs: every registered loss at its defaults plus the settings that change its code path."""
    out = [(name, cls()) for name, cls in L.REGISTRY.items()]
    out += [
        ("huber-delta0.4", L.Huber(delta=0.4)),
        ("quantile-0.9", L.Quantile(q=0.9)),
        ("quantile-0.1", L.Quantile(0.1)),
        ("bce-logits", L.BinaryCrossentropy(from_logits=True)),
        ("bce-smooth", L.BinaryCrossentropy(label_smoothing=0.2)),
        ("bce-logits-smooth", L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)),
        ("bce-class-weight", L.BinaryCrossentropy(class_weight={0: 1.0, 1: 3.0})),
        ("bfce-gamma0", L.BinaryFocalCrossentropy(gamma=0.0)),
        ("bfce-logits", L.BinaryFocalCrossentropy(from_logits=True)),
        ("bfce-balanced", L.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5,
                                                    label_smoothing=0.1)),
        ("bfce-logits-balanced", L.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=0.5, from_logits=True)),
        ("cce-logits", L.CategoricalCrossentropy(from_logits=True)),
        ("cce-smooth", L.CategoricalCrossentropy(label_smoothing=0.1)),
        ("cce-logits-smooth", L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)),
        ("cce-class-weight", L.CategoricalCrossentropy(class_weight=[1.0, 2.0, 0.5, 3.0])),
        ("scce-logits", L.SparseCategoricalCrossentropy(from_logits=True)),
        ("scce-class-weight", L.SparseCategoricalCrossentropy(class_weight={1: 2.0, 3: 0.5})),
        ("cfce-logits", L.CategoricalFocalCrossentropy(from_logits=True)),
        ("cfce-gamma0.5-smooth", L.CategoricalFocalCrossentropy(gamma=0.5, label_smoothing=0.1)),
        ("cfce-alpha-per-class", L.CategoricalFocalCrossentropy(alpha=[0.1, 0.2, 0.3, 0.4], gamma=1.0)),
        ("cfce-logits-gamma0", L.CategoricalFocalCrossentropy(gamma=0.0, from_logits=True)),
        ("mse-sum", L.MeanSquaredError(reduction="sum")),
        ("bce-mean-with-weight", L.BinaryCrossentropy(reduction="mean_with_sample_weight")),
    ]
    out += [(f"robust-alpha{a:g}", L.GeneralRobust(alpha=a, scale=1.7)) for a in (2.0, 1.0, 0.0, -2.0, -math.inf, 0.5, 3.0)]
    return out


CONFIGS = configurations()
IDS = [c[0] for c in CONFIGS]
LOSSES = [c[1] for c in CONFIGS]
SHAPES = [(4,), (6, N_CLASSES), (2, 3, N_CLASSES)]


def sample_true(loss, rng, shape):
    kind = loss.y_true_kind
    if loss.sparse:
        return rng.integers(0, shape[-1], size=shape[:-1]).astype(float)
    if kind == "real":
        return rng.normal(0.0, 1.5, shape)
    if kind == "nonnegative":
        return rng.poisson(2.0, shape).astype(float)
    if kind == "sign":
        return rng.choice([-1.0, 1.0], size=shape)
    if kind == "probability" and loss.elementwise:
        return rng.integers(0, 2, size=shape).astype(float)
    if kind == "probability":
        return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    raise AssertionError(f"no sampler for y_true kind {kind}")


def sample_pred(loss, rng, shape):
    kind = loss._pred_kind()
    if kind == "real":
        return rng.normal(0.0, 2.0, shape)
    if kind == "nonnegative":
        return rng.uniform(0.1, 4.0, shape)
    if kind == "probability":
        return rng.uniform(0.02, 0.98, shape)
    if kind == "distribution":
        return rng.uniform(0.05, 1.0, shape)  # unnormalised on purpose: Keras renormalises
    raise AssertionError(f"no sampler for y_pred kind {kind}")


def sample(loss, seed, shape):
    rng = np.random.default_rng(seed)
    return sample_true(loss, rng, shape), sample_pred(loss, rng, shape)


def per_sample_shape(shape):
    return shape[:-1]


# ---------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_gradient_matches_fourth_order_central_differences(loss, shape):
    y_true, y_pred = sample(loss, 1, shape)
    rng = np.random.default_rng(2)
    weights = rng.uniform(0.2, 2.0, per_sample_shape(shape)) if len(shape) > 1 else 1.7
    for sw in (None, weights):
        result = check_gradient(lambda p: loss(y_true, p, sw), lambda p: loss.grad(y_true, p, sw), y_pred,
                                rtol=1e-5, atol=1e-8)
        assert result, f"{loss} shape {shape} sample_weight={'yes' if sw is not None else 'no'}: {result}"


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_value_and_grad_agree_with_separate_calls(loss):
    y_true, y_pred = sample(loss, 3, (5, N_CLASSES))
    value, grad = loss.value_and_grad(y_true, y_pred)
    assert value == loss(y_true, y_pred)
    np.testing.assert_array_equal(grad, loss.grad(y_true, y_pred))


@pytest.mark.parametrize("loss", [l for l in LOSSES if l.elementwise], ids=[i for i, l in CONFIGS if l.elementwise])
def test_pointwise_grad_is_the_derivative_of_each_entry(loss):
    y_true, y_pred = sample(loss, 4, (7, 3))
    # the sum of the entries' losses has the entries' derivatives as its gradient
    numeric = numerical_gradient(lambda p: loss.pointwise(y_true, p).sum(), y_pred)
    np.testing.assert_allclose(loss.pointwise_grad(y_true, y_pred), numeric, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(loss.pointwise(y_true, y_pred).mean(axis=-1), loss.per_sample(y_true, y_pred))


# ---------------------------------------------------------------------------
# Minimum at the perfect prediction
# ---------------------------------------------------------------------------

MINIMAL = [(i, l) for i, l in CONFIGS if l.minimal_at_target]


@pytest.mark.parametrize("loss", [l for _, l in MINIMAL], ids=[i for i, _ in MINIMAL])
def test_minimum_at_the_perfect_prediction(loss):
    rng = np.random.default_rng(5)
    shape = (6, N_CLASSES)
    y_true = sample_true(loss, rng, shape)
    if loss.y_true_kind == "real":
        y_true = rng.uniform(0.5, 3.0, shape)  # positive, so MSLE and MAPE are not at a clip
    best = loss(y_true, y_true)
    for _ in range(20):
        other = y_true + rng.normal(0.0, 0.3, shape)
        if loss.y_pred_kind == "probability":
            other = rng.dirichlet(np.ones(shape[-1]), size=shape[0])
        assert loss(y_true, other) >= best
    grad = loss.grad(y_true, y_true)
    if isinstance(loss, L.KLDivergence):
        # a constrained minimum on the simplex: only the component along the simplex vanishes
        grad = grad - grad.mean(axis=-1, keepdims=True)
    np.testing.assert_allclose(grad, 0.0, atol=1e-12)


def test_minimal_flags_are_not_vacuous():
    names = {l.name for _, l in MINIMAL}
    assert {"mean_squared_error", "huber", "quantile", "general_robust", "hinge", "kl_divergence"} <= names
    # margin losses with no finite minimiser say so
    assert not margin.Logistic.minimal_at_target and not margin.Exponential.minimal_at_target


# ---------------------------------------------------------------------------
# Reduction and sample weights, as in Keras 3
# ---------------------------------------------------------------------------


def test_default_reduction_is_mean_over_last_axis_then_over_batch():
    y_true = np.array([[0.0, 1.0], [2.0, 3.0], [1.0, 1.0]])
    y_pred = np.array([[1.0, 1.0], [0.0, 3.0], [1.0, 4.0]])
    per_sample = np.array([0.5, 2.0, 4.5])
    np.testing.assert_allclose(L.MeanSquaredError().per_sample(y_true, y_pred), per_sample)
    assert L.MeanSquaredError()(y_true, y_pred) == pytest.approx(per_sample.mean())
    sw = np.array([1.0, 0.0, 2.0])
    # sum_over_batch_size divides by the number of samples, not by the summed weights
    assert L.MeanSquaredError()(y_true, y_pred, sw) == pytest.approx((0.5 + 9.0) / 3)
    assert L.MeanSquaredError(reduction="sum")(y_true, y_pred, sw) == pytest.approx(9.5)
    assert L.MeanSquaredError(reduction="mean_with_sample_weight")(y_true, y_pred, sw) == pytest.approx(9.5 / 3)
    assert L.MeanSquaredError()(y_true, y_pred, 2.0) == pytest.approx(2 * per_sample.mean())
    assert L.MeanSquaredError()(y_true, y_pred, np.zeros(3)) == 0.0
    # all-zero weights with mean_with_sample_weight: Keras's divide_no_nan gives 0, and so does the gradient
    loss = L.MeanSquaredError(reduction="mean_with_sample_weight")
    assert loss(y_true, y_pred, np.zeros(3)) == 0.0
    assert not np.any(loss.grad(y_true, y_pred, np.zeros(3)))


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_sample_weight_is_a_weighted_sum_over_the_batch_size(loss):
    shape = (5, 2, N_CLASSES)
    y_true, y_pred = sample(loss, 6, shape)
    sw = np.random.default_rng(7).uniform(0.0, 3.0, (5, 2))
    values = loss.per_sample(y_true, y_pred)
    assert values.shape == (5, 2)
    divisor = {"sum": 1.0, "mean_with_sample_weight": sw.sum()}.get(loss.reduction, values.size)
    assert loss(y_true, y_pred, sw) == pytest.approx((values * sw).sum() / divisor, rel=1e-12)
    # a weight per batch row, given with a trailing 1, broadcasts over the remaining axes
    row = sw[:, :1]
    divisor = {"sum": 1.0, "mean_with_sample_weight": row.sum()}.get(loss.reduction, values.size)
    assert loss(y_true, y_pred, row) == pytest.approx((values * row).sum() / divisor, rel=1e-12)


def test_rank_one_targets_against_column_predictions_follow_keras():
    """(n,) against (n, 1) becomes (n, 1) against (n, 1): n samples, weighted one by one."""
    y_true = np.array([0.0, 1.0, 1.0, 0.0])
    y_pred = np.array([[0.2], [0.6], [0.9], [0.4]])
    bce = L.BinaryCrossentropy()
    sw = np.array([1.0, 2.0, 0.0, 1.0])
    assert bce(y_true, y_pred, sw) == pytest.approx(bce(y_true[:, None], y_pred, sw))
    assert bce(y_pred[:, 0] > 0.5, y_pred) == pytest.approx(bce((y_pred > 0.5).astype(float), y_pred))
    assert bce.grad(y_true, y_pred, sw).shape == (4, 1)
    # a 1-D pair is a single sample: Keras averages its entries
    assert L.MeanAbsoluteError().per_sample([1.0, 2.0], [2.0, 4.0]).shape == ()


def test_weighting_a_rank_one_pair_elementwise_is_refused_with_advice():
    with pytest.raises(ValueError, match=r"sample_weight has shape \(3,\).*shape \(\).*\(n, 1\)"):
        L.MeanSquaredError()([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], [1.0, 1.0, 2.0])


def test_class_weight_equals_sample_weight_of_the_class():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 3, 10)
    onehot = np.eye(3)[labels]
    probs = rng.dirichlet(np.ones(3), 10)
    cw = {0: 1.0, 1: 4.0, 2: 0.5}
    per = np.array([cw[c] for c in labels])
    plain, weighted = L.CategoricalCrossentropy(), L.CategoricalCrossentropy(class_weight=cw)
    assert weighted(onehot, probs) == pytest.approx(plain(onehot, probs, per))
    np.testing.assert_allclose(weighted.grad(onehot, probs), plain.grad(onehot, probs, per))
    sparse = L.SparseCategoricalCrossentropy(class_weight=[1.0, 4.0, 0.5])
    assert sparse(labels, probs) == pytest.approx(plain(onehot, probs, per))
    y = rng.integers(0, 2, (10, 1)).astype(float)
    p = rng.uniform(0.05, 0.95, (10, 1))
    bce_w = L.BinaryCrossentropy(class_weight={1: 5.0})
    assert bce_w(y, p) == pytest.approx(L.BinaryCrossentropy()(y, p, np.where(y[:, 0] == 1, 5.0, 1.0)))


# ---------------------------------------------------------------------------
# Exact values, numerics and the special cases
# ---------------------------------------------------------------------------


def test_hand_computed_values():
    assert L.MeanAbsoluteError()([[1.0, -1.0]], [[0.0, 1.0]]) == pytest.approx(1.5)
    assert L.Huber(delta=1.0)([[0.0]], [[3.0]]) == pytest.approx(2.5)
    assert L.Quantile(q=0.9)([[1.0, 1.0]], [[0.0, 2.0]]) == pytest.approx((0.9 + 0.1) / 2)
    assert L.Poisson()([[2.0]], [[1.0]]) == pytest.approx(1.0 - 2.0 * math.log(1.0 + 1e-7))
    assert L.BinaryCrossentropy()([[1.0]], [[0.25]]) == pytest.approx(math.log(4.0))
    assert L.CategoricalCrossentropy()([[0, 1, 0]], [[0.2, 0.4, 0.2]]) == pytest.approx(math.log(2.0))
    assert L.SparseCategoricalCrossentropy(from_logits=True)([2], [[0.0, 0.0, math.log(2.0)]]) == pytest.approx(
        math.log(2.0))
    assert L.KLDivergence()([[0.5, 0.5]], [[0.25, 0.75]]) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3))
    assert L.CosineSimilarity()([[1.0, 0.0]], [[3.0, 3.0]]) == pytest.approx(-math.sqrt(0.5))
    assert L.CategoricalHinge()([[0, 1, 0]], [[0.5, 0.7, -1.0]]) == pytest.approx(0.8)
    assert L.Hinge()([[0.0, 1.0]], [[0.5, 0.5]]) == pytest.approx((1.5 + 0.5) / 2)  # 0 -> -1
    assert L.MeanAbsolutePercentageError()([[2.0, -4.0]], [[1.0, -5.0]]) == pytest.approx(37.5)
    assert L.MeanSquaredLogarithmicError()([[math.e - 1]], [[-3.0]]) == pytest.approx((1.0 - math.log1p(1e-7)) ** 2)
    assert L.LogCosh()([[0.0, 0.0]], [[1.0, -30.0]]) == pytest.approx((math.log(math.cosh(1.0)) + 30 - math.log(2)) / 2)


def test_probability_paths_clip_at_keras_epsilon_with_zero_derivative_beyond():
    bce = L.BinaryCrossentropy()
    assert bce([[0.0]], [[1.0]]) == pytest.approx(-math.log(1e-7))
    assert bce.grad([[0.0]], [[1.0]])[0, 0] == 0.0
    assert bce.grad([[1.0]], [[0.0]])[0, 0] == 0.0
    kld = L.KLDivergence()
    assert kld([[1.0, 0.0]], [[0.0, 1.0]]) == pytest.approx(-math.log(1e-7) + 1e-7 * math.log(1e-7))
    assert kld.grad([[1.0, 0.0]], [[0.0, 1.0]])[0, 0] == 0.0
    msle = L.MeanSquaredLogarithmicError()
    assert msle.grad([[1.0]], [[-2.0]])[0, 0] == 0.0


LOGIT_LOSSES = [
    L.BinaryCrossentropy(from_logits=True),
    L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    L.BinaryFocalCrossentropy(from_logits=True),
    L.BinaryFocalCrossentropy(from_logits=True, gamma=0.5, apply_class_balancing=True),
    L.CategoricalCrossentropy(from_logits=True),
    L.CategoricalFocalCrossentropy(from_logits=True, gamma=0.5),
    L.SparseCategoricalCrossentropy(from_logits=True),
]


@pytest.mark.parametrize("loss", LOGIT_LOSSES, ids=repr)
def test_logits_of_ten_thousand_stay_exact_and_finite(loss):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [3.0, 1e4, -1e4]])
    if loss.sparse:
        y_true = np.array([1, 1, 2])
    elif loss.elementwise:
        y_true = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    else:
        y_true = np.eye(3)[[1, 1, 2]]
    value, grad = loss.value_and_grad(y_true, z)
    assert math.isfinite(value) and np.all(np.isfinite(grad))
    if isinstance(loss, (L.CategoricalCrossentropy, L.SparseCategoricalCrossentropy)):
        # -log softmax: 2e4 for the first row, 0 for the second, 2e4 for the third
        assert value == pytest.approx(4e4 / 3, rel=1e-12)
    if type(loss) is L.BinaryCrossentropy and not loss.label_smoothing:
        terms = np.array([[1e4, 0.0, math.log(2)], [1e4, 0.0, 5.0 + math.log1p(math.exp(-5.0))],
                          [math.log1p(math.exp(-3.0)), 1e4, 0.0]])
        assert value == pytest.approx(terms.mean(), rel=1e-12)
        assert grad[0, 0] == pytest.approx(1.0 / 9)


def test_focal_losses_reduce_to_cross_entropy():
    rng = np.random.default_rng(9)
    y, p = rng.integers(0, 2, (6, 3)).astype(float), rng.uniform(0.05, 0.95, (6, 3))
    assert L.BinaryFocalCrossentropy(gamma=0.0)(y, p) == pytest.approx(L.BinaryCrossentropy()(y, p))
    z = rng.normal(size=(6, 3))
    assert L.BinaryFocalCrossentropy(gamma=0.0, from_logits=True)(y, z) == pytest.approx(
        L.BinaryCrossentropy(from_logits=True)(y, z))
    onehot = np.eye(3)[rng.integers(0, 3, 6)]
    assert L.CategoricalFocalCrossentropy(gamma=0.0, alpha=1.0, from_logits=True)(onehot, z) == pytest.approx(
        L.CategoricalCrossentropy(from_logits=True)(onehot, z))
    assert L.CategoricalFocalCrossentropy(gamma=0.0)(onehot, p) == pytest.approx(
        0.25 * L.CategoricalCrossentropy()(onehot, p))
    # focusing only ever lowers the loss of an example
    assert np.all(L.BinaryFocalCrossentropy(gamma=2.0).pointwise(y, p) <= L.BinaryCrossentropy().pointwise(y, p))


def test_smooth_l1_is_huber_over_beta():
    rng = np.random.default_rng(10)
    y, p = rng.normal(size=(8, 2)), rng.normal(scale=3.0, size=(8, 2))
    beta = 0.7
    r = np.abs(p - y)
    smooth_l1 = np.where(r < beta, 0.5 * r**2 / beta, r - 0.5 * beta).mean()
    assert L.Huber(delta=beta)(y, p) / beta == pytest.approx(smooth_l1)


def test_quantile_half_is_half_the_absolute_error_and_pulls_towards_the_quantile():
    rng = np.random.default_rng(11)
    y, p = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    assert L.Quantile(0.5)(y, p) == pytest.approx(0.5 * L.MeanAbsoluteError()(y, p))
    data = rng.normal(size=(1, 501))
    grid = np.linspace(-3, 3, 1201)
    for q in (0.1, 0.5, 0.9):
        best = grid[np.argmin([L.Quantile(q)(data, np.full_like(data, c)) for c in grid])]
        assert best == pytest.approx(np.quantile(data, q), abs=0.02)


# -- Barron's general robust loss ----------------------------------------------

X = np.linspace(-6.0, 6.0, 121)
SPECIAL_CASES = [
    (2.0, lambda z: 0.5 * z**2),
    (1.0, lambda z: np.sqrt(z**2 + 1.0) - 1.0),
    (0.0, lambda z: np.log(0.5 * z**2 + 1.0)),
    (-2.0, lambda z: 2.0 * z**2 / (z**2 + 4.0)),
    (-math.inf, lambda z: 1.0 - np.exp(-0.5 * z**2)),
]


@pytest.mark.parametrize("alpha,closed_form", SPECIAL_CASES, ids=["L2", "Charbonnier", "Cauchy", "Geman-McClure", "Welsch"])
@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_general_robust_special_cases(alpha, closed_form, scale):
    loss = L.GeneralRobust(alpha=alpha, scale=scale)
    np.testing.assert_allclose(loss.pointwise(np.zeros_like(X), X), closed_form(X / scale), rtol=1e-12, atol=1e-15)
    numeric = np.array([numerical_gradient(lambda v: closed_form(v / scale).sum(), np.array([x]))[0] for x in X])
    np.testing.assert_allclose(loss.pointwise_grad(np.zeros_like(X), X), numeric, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("alpha", [2.0, 0.0])
@pytest.mark.parametrize("offset", [1e-3, 1e-6, -1e-3, -1e-6, 1e-9])
def test_general_robust_is_continuous_at_its_special_values(alpha, offset):
    at, near = L.barron_rho(X, alpha), L.barron_rho(X, alpha + offset)
    np.testing.assert_allclose(near, at, rtol=20 * abs(offset) * max(1.0, np.log(X.max() ** 2 + 1)) + 1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(L.barron_drho(X, alpha + offset), L.barron_drho(X, alpha), rtol=50 * abs(offset) + 1e-12,
                               atol=1e-14)


def test_general_robust_approaches_welsch_for_very_negative_alpha():
    np.testing.assert_allclose(L.barron_rho(X, -1e7), L.barron_rho(X, -math.inf), atol=1e-5)


# -- margin losses -------------------------------------------------------------

MARGINS = np.array([-3.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])


def test_margin_losses_by_hand():
    expected = {
        margin.ZeroOne: [1, 1, 1, 1, 1, 0, 0, 0],
        margin.Perceptron: [3, 1.5, 1, 0.5, 0, 0, 0, 0],
        margin.Hinge: [4, 2.5, 2, 1.5, 1, 0.5, 0, 0],
        margin.SquaredHinge: [16, 6.25, 4, 2.25, 1, 0.25, 0, 0],
        margin.Logistic: np.log1p(np.exp(-MARGINS)),
        margin.Exponential: np.exp(-MARGINS),
        margin.ModifiedHuber: [12, 6, 4, 2.25, 1, 0.25, 0, 0],
    }
    assert set(expected) == set(L.MARGIN_LOSSES)
    for cls, values in expected.items():
        np.testing.assert_allclose(cls().margin_value(MARGINS), values, rtol=1e-12, err_msg=cls.__name__)


@pytest.mark.parametrize("cls", L.MARGIN_LOSSES, ids=lambda c: c.__name__)
def test_margin_derivatives_away_from_kinks(cls):
    loss = cls()
    m = np.array([-2.7, -1.3, -0.6, 0.3, 0.8, 1.6, 2.4])
    numeric = numerical_gradient(lambda v: loss.margin_value(v).sum(), m)
    np.testing.assert_allclose(loss.margin_derivative(m), numeric, rtol=1e-7, atol=1e-10)


def test_margin_losses_as_keras_style_losses():
    y01 = np.array([[1.0, 0.0, 1.0]])
    f = np.array([[0.3, 0.4, -2.0]])
    # labels {0, 1} are read as {-1, 1}; the logistic loss is binary cross-entropy on logits
    assert margin.Logistic()(y01, f) == pytest.approx(L.BinaryCrossentropy(from_logits=True)(y01, f))
    assert margin.Hinge()(y01, f) == pytest.approx(np.mean([0.7, 1.4, 3.0]))
    assert margin.Hinge is L.Hinge
    # the exponential loss of a hopeless margin is an honest infinity, not a warning or a NaN
    assert L.get("exponential")([[1.0]], [[-1000.0]]) == math.inf


# ---------------------------------------------------------------------------
# Property-based tests over random shapes and values
# ---------------------------------------------------------------------------

SMOOTH = ["mean_squared_error", "log_cosh", "poisson", "general_robust", "cosine_similarity", "logistic",
          "exponential", "squared_hinge"]
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(L.REGISTRY)), shape=shapes, seed=st.integers(0, 2**32 - 1),
       scale=st.floats(0.01, 100.0))
def test_property_finite_value_and_gradient_of_the_right_shape(name, shape, seed, scale):
    loss = L.REGISTRY[name]()
    if loss.min_classes > shape[-1]:
        shape = shape[:-1] + (loss.min_classes,)
    y_true, y_pred = sample(loss, seed, shape)
    if loss._pred_kind() == "real":
        y_pred = y_pred * scale
    value, grad = loss.value_and_grad(y_true, y_pred)
    assert isinstance(value, float) and math.isfinite(value)
    assert grad.shape == np.shape(y_pred) and np.all(np.isfinite(grad))
    # positive homogeneity in the sample weight
    assert loss(y_true, y_pred, 3.0) == pytest.approx(3.0 * value, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(loss.grad(y_true, y_pred, 3.0), 3.0 * grad, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(SMOOTH), shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_property_gradient_of_smooth_losses(name, shape, seed):
    loss = L.REGISTRY[name]()
    y_true, y_pred = sample(loss, seed, shape)
    sw = np.random.default_rng(seed).uniform(0, 2, shape[:-1]) if len(shape) > 1 else None
    result = check_gradient(lambda p: loss(y_true, p, sw), lambda p: loss.grad(y_true, p, sw), y_pred,
                            rtol=1e-5, atol=1e-8)
    assert result, result


@settings(max_examples=40, deadline=None)
@given(alpha=st.one_of(st.floats(-20.0, 10.0), st.sampled_from([2.0, 0.0, -math.inf])),
       scale=st.floats(0.05, 10.0), x=st.floats(-1e3, 1e3))
def test_property_general_robust_is_an_even_bowl(alpha, scale, x):
    rho = float(L.barron_rho(np.array(x), alpha, scale))
    assert rho >= 0.0 and math.isfinite(rho)
    assert float(L.barron_rho(np.array(-x), alpha, scale)) == rho
    assert float(L.barron_rho(np.array(0.0), alpha, scale)) == 0.0
    # grows with |x| and is never steeper than the L2 bowl
    bigger = float(L.barron_rho(np.array(2.0 * x), alpha, scale))
    assert bigger >= rho
    if alpha <= 2:
        assert rho <= 0.5 * (x / scale) ** 2 * (1 + 1e-12) + 1e-300


@settings(max_examples=30, deadline=None)
@given(z=st.floats(-1e4, 1e4), y=st.sampled_from([0.0, 1.0]))
def test_property_binary_crossentropy_on_logits_is_softplus(z, y):
    value = L.BinaryCrossentropy(from_logits=True)([[y]], [[z]])
    expected = max(z, 0.0) + math.log1p(math.exp(-abs(z))) - y * z
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-300)


# ---------------------------------------------------------------------------
# Bad input: a ValueError that names the argument and shows what was wrong
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [L.MeanSquaredError(), L.BinaryCrossentropy(), L.CategoricalCrossentropy()], ids=repr)
def test_shapes_that_differ_are_refused_never_broadcast(loss):
    with pytest.raises(ValueError, match=r"y_true has shape \(4,\) and y_pred has shape \(1, 4\)"):
        loss(np.full(4, 0.5), np.full((1, 4), 0.25))
    with pytest.raises(ValueError, match=r"y_true has shape \(3, 2\) and y_pred has shape \(3, 3\)"):
        loss(np.full((3, 2), 0.5), np.full((3, 3), 0.25))
    with pytest.raises(ValueError, match=r"y_true has shape \(2, 3, 1\) and y_pred has shape \(2, 4\)"):
        loss(np.full((2, 3, 1), 0.5), np.full((2, 4), 0.25))


@pytest.mark.parametrize("arg", ["y_true", "y_pred", "sample_weight"])
def test_empty_input_is_refused(arg):
    args = {"y_true": np.ones((2, 1)), "y_pred": np.ones((2, 1)), "sample_weight": None}
    args[arg] = np.ones((0,))
    if arg == "y_true":
        args["y_pred"] = np.ones((0,))
    with pytest.raises(ValueError, match=rf"{arg if arg != 'y_true' else 'y_(true|pred)'} is empty"):
        L.MeanSquaredError()(**args)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("arg", ["y_true", "y_pred", "sample_weight"])
def test_nan_and_inf_are_refused(arg, bad):
    args = {"y_true": np.ones((3, 1)), "y_pred": np.ones((3, 1)), "sample_weight": np.ones(3)}
    args[arg] = args[arg].copy()
    args[arg][1] = bad
    with pytest.raises(ValueError, match=rf"{arg} must be finite; found {bad} at index \(1"):
        L.Huber()(**args)


def test_scalars_and_non_numbers_are_refused():
    with pytest.raises(ValueError, match=r"y_pred must have at least 1 dimension\(s\), got shape \(\)"):
        L.MeanSquaredError()(1.0, 2.0)
    with pytest.raises(TypeError, match="y_true must hold real numbers, got an array of dtype <U1"):
        L.MeanSquaredError()(["a"], [1.0])
    with pytest.raises(ValueError, match="y_pred is not a rectangular array"):
        L.MeanSquaredError()([[1.0], [1.0]], [[1.0], [1.0, 2.0]])


@pytest.mark.parametrize("loss", [L.BinaryCrossentropy(), L.BinaryFocalCrossentropy(), L.KLDivergence(),
                                  L.CategoricalCrossentropy(), L.CategoricalFocalCrossentropy()], ids=repr)
@pytest.mark.parametrize("value", [1.5, -0.1])
def test_probabilities_outside_the_unit_interval_are_refused(loss, value):
    y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
    y_pred = np.array([[0.3, 0.7], [value, 0.5]])
    with pytest.raises(ValueError, match=rf"y_pred must hold probabilities in \[0, 1\].*found {value:g} at index \(1, 0\)"):
        loss(y_true, y_pred)
    with pytest.raises(ValueError, match=rf"y_true must hold probabilities in \[0, 1\].*found {value:g}"):
        loss(y_pred, np.full((2, 2), 0.5))
    # logits may be any real number
    if hasattr(loss, "from_logits"):
        type(loss)(from_logits=True)(y_true, y_pred * 10)


def test_a_row_of_zero_probabilities_is_refused():
    with pytest.raises(ValueError, match=r"y_pred must hold .*positive sum.*row at index \(1,\) sums to 0"):
        L.CategoricalCrossentropy()(np.eye(2), [[0.5, 0.5], [0.0, 0.0]])


@pytest.mark.parametrize("from_logits", [False, True])
def test_class_indices_out_of_range_or_non_integer_are_refused(from_logits):
    loss = L.SparseCategoricalCrossentropy(from_logits=from_logits)
    y_pred = np.full((3, 4), 0.25)
    with pytest.raises(ValueError, match=r"y_true holds class index 4, out of range for y_pred with 4 classes"):
        loss([0, 4, 1], y_pred)
    with pytest.raises(ValueError, match=r"y_true must hold integer class indices.*found -1 at index \(2,\)"):
        loss([0, 1, -1], y_pred)
    with pytest.raises(ValueError, match=r"y_true must hold integer class indices.*non-integer value 1.5"):
        loss([0, 1.5, 1], y_pred)
    with pytest.raises(ValueError, match=r"y_true has shape \(2,\) and y_pred has shape \(3, 4\)"):
        loss([0, 1], y_pred)
    assert loss([[0], [3], [1]], y_pred) == pytest.approx(loss([0, 3, 1], y_pred))


def test_negative_poisson_targets_and_rates_are_refused():
    with pytest.raises(ValueError, match=r"y_true must hold non-negative numbers for Poisson; found -1 at index \(0, 1\)"):
        L.Poisson()([[2.0, -1.0]], [[1.0, 1.0]])
    with pytest.raises(ValueError, match=r"y_pred must hold non-negative numbers for Poisson; found -0.5"):
        L.Poisson()([[2.0, 1.0]], [[1.0, -0.5]])


def test_hinge_labels_must_be_signs():
    with pytest.raises(ValueError, match=r"y_true must hold labels in \{-1, 1\}.*found 0.5"):
        L.Hinge()([[1.0, 0.5]], [[1.0, 1.0]])
    with pytest.raises(ValueError, match=r"found both 0 and -1"):
        L.SquaredHinge()([[1.0, 0.0, -1.0]], [[1.0, 1.0, 1.0]])


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: L.Quantile(q=0.0), r"q must lie in \(0, 1\), got 0"),
        (lambda: L.Quantile(q=1.2), r"q must lie in \(0, 1\), got 1.2"),
        (lambda: L.Huber(delta=0.0), r"delta must lie in \(0, inf\), got 0"),
        (lambda: L.Huber(delta=-1), r"delta must lie in \(0, inf\), got -1"),
        (lambda: L.Huber(delta=math.nan), r"delta must be a real number, got nan"),
        (lambda: L.GeneralRobust(scale=0.0), r"scale must lie in \(0, inf\), got 0"),
        (lambda: L.GeneralRobust(alpha=11.0), r"alpha must lie in \[-inf, 10\], got 11"),
        (lambda: L.BinaryCrossentropy(label_smoothing=1.5), r"label_smoothing must lie in \[0, 1\], got 1.5"),
        (lambda: L.BinaryFocalCrossentropy(gamma=-1.0), r"gamma must lie in \[0, inf\), got -1"),
        (lambda: L.BinaryFocalCrossentropy(alpha=2.0), r"alpha must lie in \[0, 1\], got 2"),
        (lambda: L.CategoricalFocalCrossentropy(alpha=[0.5, -0.1]), r"alpha must be a number or a 1-D sequence"),
        (lambda: L.CategoricalCrossentropy(class_weight=[1.0, -2.0]), r"class_weight must be non-negative, found -2"),
        (lambda: L.CategoricalCrossentropy(class_weight={"a": 1.0}), r"class_weight keys must be non-negative integer"),
        (lambda: L.MeanSquaredError(reduction="none"), r"reduction must be one of .*got 'none'"),
    ],
)
def test_bad_parameters_are_refused_with_their_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_flags_and_unknown_parameters_are_type_errors():
    with pytest.raises(TypeError, match="from_logits must be True or False, got 'yes'"):
        L.BinaryCrossentropy(from_logits="yes")
    with pytest.raises(TypeError, match="Huber has no parameter 'beta'"):
        L.Loss.__init__(L.Huber(), beta=1.0)


def test_negative_or_misshapen_sample_weights_are_refused():
    y = np.ones((3, 2))
    with pytest.raises(ValueError, match="sample_weight must be non-negative, found -1"):
        L.MeanSquaredError()(y, y, [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match=r"sample_weight has shape \(2,\) but the loss has one value per sample of shape \(3,\)"):
        L.MeanSquaredError()(y, y, [1.0, 1.0])
    with pytest.raises(ValueError, match=r"sample_weight has shape \(3, 3\)"):
        L.MeanSquaredError()(y, y, np.ones((3, 3)))


def test_too_few_classes_and_mismatched_per_class_alpha_are_refused():
    with pytest.raises(ValueError, match=r"y_pred must have at least 2 classes.*shape \(3, 1\)"):
        L.CategoricalCrossentropy()(np.ones((3, 1)), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"alpha has 3 class weights but y_pred has 2 classes"):
        L.CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5])(np.eye(2), np.full((2, 2), 0.5))


# ---------------------------------------------------------------------------
# Registry, names, parameters and the text the reference page is made from
# ---------------------------------------------------------------------------

KERAS_CLASSES = [
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Huber",
    "LogCosh", "Poisson", "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "CategoricalFocalCrossentropy", "Hinge", "SquaredHinge", "CategoricalHinge",
    "KLDivergence", "CosineSimilarity",
]


def test_every_keras_loss_is_present_under_its_keras_name():
    by_keras = {cls.keras_name: cls for cls in L.REGISTRY.values() if cls.keras_name}
    assert sorted(by_keras) == sorted(KERAS_CLASSES)
    for name in KERAS_CLASSES:
        assert getattr(L, name) is by_keras[name]


@pytest.mark.parametrize(
    "identifier,cls",
    [("mse", L.MeanSquaredError), ("mean_squared_error", L.MeanSquaredError), ("MSE", L.MeanSquaredError),
     ("mae", L.MeanAbsoluteError), ("mape", L.MeanAbsolutePercentageError), ("msle", L.MeanSquaredLogarithmicError),
     ("huber", L.Huber), ("log_cosh", L.LogCosh), ("logcosh", L.LogCosh), ("poisson", L.Poisson),
     ("binary_crossentropy", L.BinaryCrossentropy), ("bce", L.BinaryCrossentropy),
     ("categorical_crossentropy", L.CategoricalCrossentropy),
     ("sparse_categorical_crossentropy", L.SparseCategoricalCrossentropy),
     ("binary_focal_crossentropy", L.BinaryFocalCrossentropy),
     ("categorical_focal_crossentropy", L.CategoricalFocalCrossentropy), ("hinge", L.Hinge),
     ("squared_hinge", L.SquaredHinge), ("categorical_hinge", L.CategoricalHinge), ("kl_divergence", L.KLDivergence),
     ("kld", L.KLDivergence), ("cosine_similarity", L.CosineSimilarity), ("CategoricalCrossentropy", L.CategoricalCrossentropy),
     ("quantile", L.Quantile), ("general_robust", L.GeneralRobust), ("modified_huber", margin.ModifiedHuber)],
)
def test_get_resolves_keras_strings(identifier, cls):
    assert type(L.get(identifier)) is cls


def test_get_passes_instances_through_and_lists_known_names_on_error():
    huber = L.Huber(delta=0.3)
    assert L.get(huber) is huber
    assert isinstance(L.get(L.Poisson), L.Poisson)
    with pytest.raises(ValueError, match=r"unknown loss 'mean_sqaured_error'; known names: .*mean_squared_error.*mse"):
        L.get("mean_sqaured_error")
    with pytest.raises(TypeError, match="a loss identifier must be a string or a Loss"):
        L.get(3)
    assert "categorical_crossentropy" in L.names()


@pytest.mark.parametrize("cls", list(L.REGISTRY.values()), ids=list(L.REGISTRY))
def test_every_loss_describes_itself(cls):
    assert cls.latex and cls.convention and cls.__doc__
    assert cls.name and (cls.keras_name is None or cls.keras_name == cls.__name__)
    loss = cls()
    for p in cls.params:
        assert p.low <= p.default <= p.high
        assert p.check(p.default) == getattr(loss, p.name)
        # every slider value is accepted by the constructor
        for v in p.grid(5):
            setattr(loss, p.name, p.check(v))
    assert cls.y_true_kind in L.KINDS and loss._pred_kind() in L.KINDS


def test_tunable_parameters_are_declared():
    declared = {cls.__name__: [p.name for p in cls.params] for cls in L.REGISTRY.values()}
    assert declared["Huber"] == ["delta"]
    assert declared["Quantile"] == ["q"]
    assert declared["GeneralRobust"] == ["alpha", "scale"]
    assert declared["BinaryFocalCrossentropy"] == ["gamma", "alpha", "label_smoothing"]
    assert "label_smoothing" in declared["CategoricalCrossentropy"]


def test_catalogue_lists_every_loss_once_with_its_family():
    rows = L.catalogue()
    assert [r["name"] for r in rows] == list(L.REGISTRY)
    families = {r["name"]: r["family"] for r in rows}
    assert families["huber"] == "regression" and families["general_robust"] == "robust"
    assert families["categorical_crossentropy"] == "classification" and families["hinge"] == "margin"
    assert all(r["latex"] and r["convention"] for r in rows)
