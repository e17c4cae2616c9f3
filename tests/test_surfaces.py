"""lossbook.surfaces: derivatives, minima, shapes, the loss surfaces of datasets and their minibatches."""
import math

import numpy as np
import pytest

import lossbook as lb
from lossbook import losses as L
from lossbook import surfaces as S
from lossbook.testing import check_gradient, numerical_gradient

# ---------------------------------------------------------------------------
# Every registered surface, a few non-default settings and a few dataset surfaces
# ---------------------------------------------------------------------------

X_LINE, Y_LINE = lb.data.line(n=30, seed=1)
X_BLOBS, Y_BLOBS = lb.data.blobs(n=60, seed=2)


def cases():
    """(id, surface, smooth) triples; ``smooth`` is False where the gradient is not zero at the minimum (kinks)."""
    out = [(name, factory(), True) for name, factory in S.SURFACES.items()]
    out += [
        ("quadratic-rotated", S.quadratic(eigenvalues=(0.5, 8.0), angle=0.7, center=(1.0, -0.5)), True),
        ("rosenbrock-a0.5-b10", S.rosenbrock(a=0.5, b=10.0), True),
        ("rastrigin-A3", S.rastrigin(A=3.0), True),
        ("saddle-scale2.5", S.saddle(scale=2.5), True),
        ("regression-mse", S.regression(X_LINE, Y_LINE, "mse"), True),
        ("regression-mae", S.regression(X_LINE, Y_LINE, "mae"), False),
        ("regression-huber", S.regression(X_LINE, Y_LINE, L.Huber(delta=0.5)), True),
        ("regression-logcosh", S.regression(X_LINE, Y_LINE, "log_cosh"), True),
        ("logistic-bce", S.regression(X_BLOBS[:, 0], Y_BLOBS, model="logistic"), True),
    ]
    return out


CASES = cases()
IDS = [c[0] for c in CASES]
SURFACES = [c[1] for c in CASES]
WITH_MINIMA = [pytest.param(s, smooth, id=i) for i, s, smooth in CASES if len(s.minima)]


def random_points(surface, k=5, seed=0):
    (x0, x1), (y0, y1) = surface.bounds
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)])


# ---------------------------------------------------------------------------
# Derivatives
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_grad_matches_central_differences(surface):
    for p in random_points(surface):
        result = check_gradient(lambda q: float(surface.value(q)), surface.grad, p, rtol=1e-6, atol=1e-7)
        assert result, f"{surface!r} at {p}: {result}"


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_hessian_matches_differences_of_grad(surface):
    for p in random_points(surface, seed=1):
        H = surface.hessian(p)
        numeric = np.stack([numerical_gradient(lambda q, i=i: surface.grad(q)[i], p) for i in range(2)])
        scale = max(1.0, np.abs(numeric).max())
        np.testing.assert_allclose(H, numeric, rtol=1e-5, atol=1e-6 * scale, err_msg=f"{surface!r} at {p}")
        np.testing.assert_array_equal(H, H.T)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_vectorised_shapes_agree_with_single_points(surface):
    points = random_points(surface, k=12, seed=2).reshape(3, 4, 2)
    values, grads, hessians = surface.value(points), surface.grad(points), surface.hessian(points)
    assert values.shape == (3, 4) and grads.shape == (3, 4, 2) and hessians.shape == (3, 4, 2, 2)
    for index in np.ndindex(3, 4):
        p = points[index]
        assert np.ndim(surface.value(p)) == 0 and surface.grad(p).shape == (2,) and surface.hessian(p).shape == (2, 2)
        np.testing.assert_allclose(values[index], surface.value(p), rtol=1e-13)
        np.testing.assert_allclose(grads[index], surface.grad(p), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(hessians[index], surface.hessian(p), rtol=1e-6, atol=1e-9)
    assert surface.value(points[0]).shape == (4,)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_grid_equals_pointwise_evaluation(surface):
    X, Y, Z = surface.grid(n=7)
    assert X.shape == Y.shape == Z.shape == (7, 7)
    (x0, x1), (y0, y1) = surface.bounds
    assert (X.min(), X.max(), Y.min(), Y.max()) == (x0, x1, y0, y1)
    expected = [[float(surface.value([X[i, j], Y[i, j]])) for j in range(7)] for i in range(7)]
    np.testing.assert_allclose(Z, expected, rtol=1e-13)


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 1), ()])
@pytest.mark.parametrize("method", ["value", "grad", "hessian"])
def test_points_must_have_two_coordinates(shape, method):
    for surface in (S.rosenbrock(), SURFACES[IDS.index("regression-mse")]):
        with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\)"):
            getattr(surface, method)(np.zeros(shape))


# ---------------------------------------------------------------------------
# Minima, bounds, starts
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("surface, smooth", WITH_MINIMA)
def test_known_minima(surface, smooth):
    values = surface.value(surface.minima)
    np.testing.assert_allclose(values, surface.min_value, rtol=1e-13, atol=1e-15)
    rng = np.random.default_rng(3)
    for m in surface.minima:
        nearby = m + rng.normal(scale=1e-3, size=(50, 2))
        assert np.all(surface.value(nearby) >= surface.min_value - 1e-14)
        if smooth:
            np.testing.assert_allclose(surface.grad(m), 0.0, atol=1e-10)
            assert np.all(np.linalg.eigvalsh(surface.hessian(m)) > 0)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_bounds_contain_start_and_minima_and_start_is_away(surface):
    (x0, x1), (y0, y1) = surface.bounds
    for x, y in np.vstack([surface.minima, surface.stationary, surface.start]):
        assert x0 <= x <= x1 and y0 <= y <= y1
    assert surface.start.shape == (2,) and surface.dim == 2
    if surface.min_value is not None:
        assert surface.value(surface.start) > surface.min_value + 1e-3
    assert np.linalg.norm(surface.grad(surface.start)) > 1e-3
    assert surface.latex and surface.name in repr(surface)


def test_published_minima():
    camel = S.six_hump_camel()
    assert camel.min_value == pytest.approx(-1.0316284534898774, abs=1e-15)
    np.testing.assert_allclose(np.abs(camel.minima), [[0.0898420131, 0.7126564033]] * 2, atol=1e-9)
    himmelblau = S.himmelblau()
    np.testing.assert_allclose(himmelblau.minima, [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                                                   (3.584428, -1.848126)], atol=1e-6)
    assert np.all(himmelblau.value(himmelblau.minima) < 1e-25)
    np.testing.assert_array_equal(S.rosenbrock(a=2.0).minima, [[2.0, 4.0]])
    np.testing.assert_array_equal(S.rosenbrock().start, [-1.2, 1.0])
    np.testing.assert_array_equal(S.beale().minima, [[3.0, 0.5]])
    np.testing.assert_array_equal(S.booth().minima, [[1.0, 3.0]])


def test_saddle_has_a_stationary_point_and_no_minimum():
    s = S.saddle(scale=3.0)
    assert s.minima.shape == (0, 2) and s.min_value is None
    np.testing.assert_array_equal(s.stationary, [[0.0, 0.0]])
    np.testing.assert_array_equal(s.grad(s.stationary), [[0.0, 0.0]])
    np.testing.assert_array_equal(np.linalg.eigvalsh(s.hessian([0.0, 0.0])), [-3.0, 3.0])
    assert s.value([0.0, 10.0]) == -150.0


def test_quadratic_eigenvalues_rotation_and_condition_number():
    eig, angle, c = (2.0, 50.0), 0.3, np.array([0.5, -1.0])
    q = S.quadratic(eigenvalues=eig, angle=angle, center=c)
    assert isinstance(q, S.Quadratic)
    np.testing.assert_array_equal(q.eigenvalues, eig)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.H), sorted(eig))
    assert q.condition_number == pytest.approx(25.0)
    u = np.array([math.cos(angle), math.sin(angle)])  # the direction of the first eigenvalue
    v = np.array([-u[1], u[0]])
    np.testing.assert_allclose(q.H @ u, eig[0] * u, atol=1e-12)
    np.testing.assert_allclose(q.H @ v, eig[1] * v, atol=1e-12)
    assert q.value(c + 0.7 * u) == pytest.approx(0.5 * eig[0] * 0.49, rel=1e-12)
    assert q.value(c - 0.7 * v) == pytest.approx(0.5 * eig[1] * 0.49, rel=1e-12)
    points = random_points(q, k=6)
    np.testing.assert_allclose(q.grad(points), (points - c) @ q.H, atol=1e-12)
    np.testing.assert_allclose(q.hessian(points), np.broadcast_to(q.H, (6, 2, 2)), atol=1e-14)
    np.testing.assert_allclose(q.value(points), 0.5 * np.einsum("ki,ij,kj->k", points - c, q.H, points - c))
    assert S.quadratic(eigenvalues=(3.0, 3.0)).condition_number == 1.0


# ---------------------------------------------------------------------------
# Loss surfaces of datasets
# ---------------------------------------------------------------------------

DATASET = [pytest.param(s, id=i) for i, s, _ in CASES if s.risk is not None]


@pytest.mark.parametrize("surface", DATASET)
def test_dataset_surface_is_the_loss_of_the_predictions(surface):
    risk = surface.risk
    for w, b in random_points(surface, k=4, seed=4):
        pred = w * risk.x + b
        assert surface.value([w, b]) == pytest.approx(risk.loss(risk.y, pred), rel=1e-13)
        dpred = risk.loss.grad(risk.y, pred)  # chain rule with the loss's own exact gradient
        np.testing.assert_allclose(surface.grad([w, b]), [dpred @ risk.x, dpred.sum()], rtol=1e-12, atol=1e-15)


def test_mse_minimum_is_least_squares():
    s = S.regression(X_LINE, Y_LINE)
    np.testing.assert_allclose(s.minima[0], np.polyfit(X_LINE, Y_LINE, 1), rtol=1e-12)
    w, b = s.minima[0]
    assert s.min_value == pytest.approx(np.mean((w * X_LINE + b - Y_LINE) ** 2), rel=1e-13)
    n = X_LINE.size
    H = 2.0 / n * np.array([[X_LINE @ X_LINE, X_LINE.sum()], [X_LINE.sum(), n]])
    np.testing.assert_allclose(s.hessian(random_points(s, k=3)), np.broadcast_to(H, (3, 2, 2)), rtol=1e-13)


def test_mae_minimum_is_the_least_absolute_deviations_line():
    # an optimal LAD line passes through two data points: try every pair
    s = S.regression(X_LINE, Y_LINE, "mae")
    i, j = np.triu_indices(X_LINE.size, 1)
    w = (Y_LINE[j] - Y_LINE[i]) / (X_LINE[j] - X_LINE[i])
    values = s.value(np.column_stack([w, Y_LINE[i] - w * X_LINE[i]]))
    assert s.min_value == pytest.approx(values.min(), rel=1e-12)


def test_logistic_uses_logits():
    default = S.regression(X_BLOBS[:, 0], Y_BLOBS, model="logistic")
    named = S.regression(X_BLOBS[:, 0], Y_BLOBS, "binary_crossentropy", model="logistic")
    for s in (default, named):
        assert isinstance(s.risk.loss, L.BinaryCrossentropy) and s.risk.loss.from_logits
    np.testing.assert_allclose(named.minima, default.minima)
    w, b = default.minima[0]
    z = w * X_BLOBS[:, 0] + b
    p = 1.0 / (1.0 + np.exp(-z))
    # at the maximum-likelihood fit the predicted probabilities match the labels on average
    assert p.mean() == pytest.approx(Y_BLOBS.mean(), abs=1e-12)
    assert (p * X_BLOBS[:, 0]).mean() == pytest.approx((Y_BLOBS * X_BLOBS[:, 0]).mean(), abs=1e-12)
    with pytest.raises(ValueError, match="from_logits"):
        S.regression(X_BLOBS[:, 0], Y_BLOBS, L.BinaryCrossentropy(), model="logistic")


def test_logistic_on_separable_classes_has_no_minimum():
    s = S.regression([0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 1.0, 1.0], model="logistic")
    assert s.minima.shape == (0, 2) and s.min_value is None
    assert np.isfinite(s.grid(n=5)[2]).all()


def test_bounds_and_start_can_be_given():
    s = S.regression(X_LINE, Y_LINE, bounds=((-1, 3), (-2, 2)), start=(0.0, -1.5))
    assert s.bounds == ((-1.0, 3.0), (-2.0, 2.0))
    np.testing.assert_array_equal(s.start, [0.0, -1.5])
    with pytest.raises(ValueError, match="bounds"):
        S.regression(X_LINE, Y_LINE, bounds=((3, -1), (-2, 2)))


def test_big_grid_and_divergent_parameters():
    x, y = lb.data.line(n=200, seed=3)
    s = S.regression(x, y)
    X, Y, Z = s.grid(n=160)
    assert Z.shape == (160, 160) and np.isfinite(Z).all()
    np.testing.assert_allclose(Z[17, 93], s.value([X[17, 93], Y[17, 93]]), rtol=1e-13)
    # a run that blows up gets NaN back, not an exception
    assert np.isnan(s.value([np.inf, 0.0])) and np.isnan(s.grad([[1e308, 1e308], [1.0, 1.0]])[0]).all()


# ---------------------------------------------------------------------------
# Minibatches
# ---------------------------------------------------------------------------

MSE = S.regression(X_LINE, Y_LINE)


def draws(mb, k):
    """The indices of the next ``k`` batches, concatenated."""
    return np.concatenate([mb.next_batch() for _ in range(k)])


@pytest.mark.parametrize("replace", [False, True])
def test_minibatch_is_seeded_and_reset_replays(replace):
    a, b = MSE.minibatch(7, seed=3, replace=replace), MSE.minibatch(7, seed=3, replace=replace)
    first = draws(a, 12)
    np.testing.assert_array_equal(first, draws(b, 12))
    assert not np.array_equal(first, draws(MSE.minibatch(7, seed=4, replace=replace), 12))
    a.reset()
    assert a.step == 0 and a.epoch == 0 and a.batch is None
    p = MSE.start
    grads = [a.grad(p) for _ in range(12)]
    a.reset()
    np.testing.assert_array_equal(grads, [a.grad(p) for _ in range(12)])
    np.testing.assert_array_equal(a.batch, first[-len(a.batch):])


def test_without_replacement_every_epoch_visits_every_example_once():
    n = X_LINE.size
    mb = MSE.minibatch(7)
    assert mb.batches_per_epoch == 5
    epochs = []
    for e in range(3):
        assert mb.epoch == e
        batches = [mb.next_batch() for _ in range(mb.batches_per_epoch)]
        assert [len(b) for b in batches] == [7, 7, 7, 7, 2]
        seen = np.concatenate(batches)
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
        epochs.append(seen)
    assert mb.epoch == 3 and mb.step == 15
    assert not np.array_equal(epochs[0], epochs[1])


def test_minibatch_gradient_is_the_gradient_on_the_batch():
    mb = MSE.minibatch(6, seed=1)
    points = random_points(MSE, k=3)
    grads = mb.grad(points)  # one batch for all the points
    batch = mb.batch
    on_batch = S.regression(X_LINE[batch], Y_LINE[batch])
    np.testing.assert_allclose(grads, on_batch.grad(points), rtol=1e-12)
    np.testing.assert_array_equal(mb.value(points), MSE.value(points))
    assert mb.step == 1


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_minibatch_gradients_average_to_the_full_gradient_over_an_epoch(loss):
    surface = S.regression(X_LINE, Y_LINE, loss)
    p = np.array([0.3, -0.8])
    mb = surface.minibatch(6, seed=5)  # 6 divides n = 30
    mean = np.mean([mb.grad(p) for _ in range(mb.batches_per_epoch)], axis=0)
    np.testing.assert_allclose(mean, surface.grad(p), rtol=1e-12, atol=1e-15)
    full = surface.minibatch(X_LINE.size)
    for _ in range(3):
        np.testing.assert_allclose(full.grad(p), surface.grad(p), rtol=1e-12, atol=1e-15)


def test_sampling_with_replacement():
    mb = MSE.minibatch(45, seed=2, replace=True)  # larger than n is fine with replacement
    batches = [mb.next_batch() for _ in range(4)]
    assert all(b.shape == (45,) and b.min() >= 0 and b.max() < X_LINE.size for b in batches)
    assert any(len(np.unique(b)) < 45 for b in batches)
    assert mb.batches_per_epoch == 1 and mb.epoch == 4


def test_minibatch_forwards_the_surface():
    mb = MSE.minibatch(5)
    assert mb.bounds == MSE.bounds and mb.min_value == MSE.min_value and mb.name == MSE.name
    np.testing.assert_array_equal(mb.minima, MSE.minima)
    np.testing.assert_array_equal(mb.start, MSE.start)
    assert "batch_size=5" in repr(mb)
    with pytest.raises(AttributeError):
        mb.hessian


def test_runs_on_a_minibatch_objective_are_reproducible():
    mb = MSE.minibatch(5, seed=7)
    first = lb.optim.run(lb.optim.sgd(0.05), mb, MSE.start, 40)
    second = lb.optim.run(lb.optim.sgd(0.05), mb, MSE.start, 40)
    np.testing.assert_array_equal(first.points, second.points)
    exact = lb.optim.run(lb.optim.sgd(0.05), MSE, MSE.start, 40)
    assert not np.allclose(first.points, exact.points)


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=31), "batch_size"),
    (dict(batch_size=2.5), "batch_size"),
    (dict(batch_size=0, replace=True), "batch_size"),
    (dict(batch_size=4, seed=-1), "seed"),
    (dict(batch_size=4, replace="yes"), "replace"),
])
def test_bad_minibatch_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MSE.minibatch(**kwargs)


def test_minibatch_needs_a_dataset():
    with pytest.raises(ValueError, match="minibatch needs the loss surface of a dataset"):
        S.rosenbrock().minibatch(4)


# ---------------------------------------------------------------------------
# Registry and argument validation
# ---------------------------------------------------------------------------


def test_registry():
    assert S.names() == list(S.SURFACES)
    for name in S.names():
        s = S.get(name)
        assert isinstance(s, S.Surface) and s.name == name
        assert "math" in S.SURFACES[name].__doc__
    assert S.get("rosenbrock", b=10.0).settings == {"a": 1.0, "b": 10.0}
    assert repr(S.get("quadratic")) == "Quadratic('quadratic', eigenvalues=(1.0, 10.0), angle=0.0, center=(0.0, 0.0))"


@pytest.mark.parametrize("build, match", [
    (lambda: S.get("camel"), "unknown surface name 'camel'"),
    (lambda: S.quadratic(eigenvalues=(1.0, 0.0)), r"eigenvalues\[1\]"),
    (lambda: S.quadratic(eigenvalues=(-2.0, 1.0)), r"eigenvalues\[0\]"),
    (lambda: S.quadratic(eigenvalues=(1.0, 2.0, 3.0)), "eigenvalues"),
    (lambda: S.quadratic(angle=float("nan")), "angle"),
    (lambda: S.quadratic(center=(0.0,)), "center"),
    (lambda: S.rosenbrock(b=0.0), "b must lie in"),
    (lambda: S.rastrigin(A=-1.0), "A must lie in"),
    (lambda: S.saddle(scale=0.0), "scale"),
    (lambda: S.rosenbrock().grid(n=1), "n must lie in"),
    (lambda: S.regression(X_LINE, Y_LINE, model="quadratic"), "model must be one of"),
    (lambda: S.regression(X_LINE, Y_LINE[:-1]), "same length"),
    (lambda: S.regression(np.ones(5), np.arange(5.0)), "x must hold at least two distinct values"),
    (lambda: S.regression(X_LINE, Y_LINE, model="logistic"), "y must hold 0/1 labels"),
    (lambda: S.regression(X_LINE, Y_LINE, "no_such_loss"), "unknown loss"),
])
def test_bad_arguments_name_the_argument(build, match):
    with pytest.raises(ValueError, match=match):
        build()
