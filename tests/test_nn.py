"""lossbook.nn: backpropagation against finite differences and torch autograd, training against torch.optim,
and the digits loader of lossbook.data.

torch runs in float64 here, so forward passes, gradients and Adam steps must agree to ~1e-12.
"""
import time

import numpy as np
import pytest

try:
    import torch
    import torch.nn.functional as F
except ImportError as err:  # a missing reference is a failure, never a skip
    raise ImportError(
        "the reference tests need torch: /work/main/.venv/bin/pip install -r requirements-test.txt"
    ) from err

import lossbook as lb
from lossbook import losses as L
from lossbook.nn import Dense, EarlyStopping, Sequential, fit

RTOL = 1e-10


# ---------------------------------------------------------------------------
# Architectures, each with a loss and targets that suit it
# ---------------------------------------------------------------------------


def _onehot(rng, n, k):
    return np.eye(k)[rng.integers(0, k, n)]


def _targets(kind, rng, n, k):
    if kind == "onehot":
        return _onehot(rng, n, k)
    if kind == "index":
        return rng.integers(0, k, n).astype(float)
    if kind == "binary":
        return rng.integers(0, 2, (n, k)).astype(float)
    if kind == "sign":
        return rng.choice([-1.0, 1.0], (n, k))
    return rng.normal(size=(n, k))


# (id, layers, loss, target kind)
CASES = [
    ("tanh-softmax-cce", [Dense(5, "tanh"), Dense(3, "softmax")], L.CategoricalCrossentropy(), "onehot"),
    ("relu-linear-cce-logits", [Dense(6, "relu"), Dense(4, "linear")], L.CategoricalCrossentropy(from_logits=True),
     "onehot"),
    ("sigmoid-softmax-sparse", [Dense(4, "sigmoid"), Dense(3, "softmax")], L.SparseCategoricalCrossentropy(), "index"),
    ("tanh-sigmoid-bce", [Dense(3, "tanh"), Dense(2, "sigmoid")], L.BinaryCrossentropy(), "binary"),
    ("deep-relu-mse", [Dense(5, "relu"), Dense(4, "tanh"), Dense(2, "linear")], L.MeanSquaredError(), "real"),
    ("sigmoid-huber", [Dense(4, "sigmoid"), Dense(2)], L.Huber(delta=0.5), "real"),
    ("softmax-mse", [Dense(4, "tanh"), Dense(3, "softmax")], L.MeanSquaredError(), "onehot"),
    ("tanh-hinge", [Dense(4, "relu"), Dense(1, "tanh")], L.Hinge(), "sign"),
    ("smoothed-cce", [Dense(5, "tanh"), Dense(3, "softmax")], L.CategoricalCrossentropy(label_smoothing=0.1), "onehot"),
]
IDS = [c[0] for c in CASES]


def make_case(case, n=7, d=3, seed=0):
    _, layers, loss, kind = case
    rng = np.random.default_rng(seed)
    model = Sequential(layers, input_dim=d, seed=seed)
    # move the biases off zero, so every term of the gradient is exercised
    model.set_flat(model.get_flat() + 0.3 * rng.normal(size=model.n_params))
    x = rng.normal(size=(n, d))
    y = _targets(kind, rng, n, model.output_dim)
    return model, x, y, loss


# ---------------------------------------------------------------------------
# Gradients against finite differences
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_parameter_gradients_match_finite_differences(case, fused, l2):
    model, x, y, loss = make_case(case)
    theta0 = model.get_flat()

    def f(theta):
        model.set_flat(theta)
        return model.evaluate(x, y, loss, l2=l2, fused=fused)["loss"]

    def g(theta):
        model.set_flat(theta)
        return model.loss_and_grad(x, y, loss, l2=l2, fused=fused)[1]

    check = lb.check_gradient(f, g, theta0, h=1e-5, rtol=1e-6, atol=1e-9)
    assert check, check


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_input_gradients_match_finite_differences(case):
    model, x, y, loss = make_case(case)

    def f(flat_x):
        return model.evaluate(flat_x.reshape(x.shape), y, loss)["loss"]

    def g(flat_x):
        return model.input_grad(flat_x.reshape(x.shape), y, loss).ravel()

    check = lb.check_gradient(f, g, x.ravel(), h=1e-5, rtol=1e-6, atol=1e-9)
    assert check, check


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_is_the_chain_rule_from_the_output(case):
    """backward(dL/d output) equals loss_and_grad without fusion."""
    model, x, y, loss = make_case(case)
    out = model.forward(x)
    grads = model.backward(loss.grad(y, out))
    np.testing.assert_allclose(grads, model.loss_and_grad(x, y, loss, fused=False)[1], rtol=1e-12, atol=1e-15)


def test_fused_softmax_cross_entropy_gives_p_minus_y_even_when_saturated():
    """A confidently wrong network: the fused gradient at the logits is (p - y) / N; the clipped one vanishes."""
    model = Sequential([Dense(3, "softmax")], input_dim=2, seed=0)
    W, b = model.params[0]
    W[...] = [[40.0, 0.0, -40.0], [0.0, 0.0, 0.0]]
    x = np.array([[1.0, 0.0]])
    y = np.array([[0.0, 0.0, 1.0]])  # the class with probability ~ e^-80
    loss = L.CategoricalCrossentropy()
    p = model.forward(x)
    _, g_fused = model.loss_and_grad(x, y, loss)
    _, g_clip = model.loss_and_grad(x, y, loss, fused=False)
    db_fused = model.unflatten(g_fused)[0][1]
    db_clip = model.unflatten(g_clip)[0][1]
    np.testing.assert_allclose(db_fused, (p - y)[0], rtol=1e-12, atol=1e-300)
    assert np.abs(db_clip).max() < 1e-20
    assert model.fuses(loss) and not model.fuses(L.CategoricalCrossentropy(from_logits=True))
    assert not model.fuses(L.MeanSquaredError())


# ---------------------------------------------------------------------------
# torch autograd on the same weights
# ---------------------------------------------------------------------------

TORCH_ACT = {"linear": lambda z: z, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
             "softmax": lambda z: torch.softmax(z, dim=-1)}


def torch_forward(model, weights, x):
    """The same network in torch; returns (output, last logits)."""
    a = torch.tensor(x, dtype=torch.float64)
    for (W, b), layer in zip(weights, model.layers):
        z = a @ W + b
        a = TORCH_ACT[layer.activation](z)
    return a, z


def torch_loss(name, out, z, y):
    """The reference loss in torch, with Keras's semantics (as lossbook computes it, fused)."""
    yt = torch.tensor(y, dtype=torch.float64)
    if name == "tanh-softmax-cce" or name == "relu-linear-cce-logits":
        return -(yt * torch.log_softmax(z, dim=-1)).sum(-1).mean()
    if name == "sigmoid-softmax-sparse":
        return F.cross_entropy(z, yt.long())
    if name == "tanh-sigmoid-bce":
        return F.binary_cross_entropy_with_logits(z, yt)
    if name == "deep-relu-mse" or name == "softmax-mse":
        return F.mse_loss(out, yt)
    if name == "sigmoid-huber":
        return F.huber_loss(out, yt, delta=0.5)
    if name == "tanh-hinge":
        return torch.clamp(1.0 - yt * out, min=0.0).mean()
    if name == "smoothed-cce":
        return F.cross_entropy(z, yt, label_smoothing=0.1)
    raise KeyError(name)


def torch_weights(model):
    return [(torch.tensor(W.copy(), requires_grad=True), torch.tensor(b.copy(), requires_grad=True))
            for W, b in model.params]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_and_gradients_match_torch_autograd(case):
    model, x, y, loss = make_case(case, n=9, d=4, seed=3)
    weights = torch_weights(model)
    out, z = torch_forward(model, weights, x)
    np.testing.assert_allclose(model.predict(x), out.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(model.logits(x), z.detach().numpy(), rtol=1e-13, atol=1e-15)
    value_t = torch_loss(case[0], out, z, y)
    value_t.backward()
    value, grads = model.loss_and_grad(x, y, loss)
    assert value == pytest.approx(float(value_t.detach()), rel=1e-12)
    for (dW, db), (W_t, b_t) in zip(model.unflatten(grads), weights):
        np.testing.assert_allclose(dW, W_t.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db, b_t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_input_gradient_matches_torch_autograd():
    model, x, y, loss = make_case(CASES[0], n=6, d=4, seed=5)
    xt = torch.tensor(x, requires_grad=True)
    a = xt
    for (W, b), layer in zip(model.params, model.layers):
        z = a @ torch.tensor(W) + torch.tensor(b)
        a = TORCH_ACT[layer.activation](z)
    (-(torch.tensor(y) * torch.log_softmax(z, dim=-1)).sum(-1).mean()).backward()
    np.testing.assert_allclose(model.input_grad(x, y, loss), xt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_unfused_softmax_cross_entropy_matches_torch_through_the_clip():
    """fused=False differentiates Keras's clipped probabilities, as Keras's torch backend does."""
    model, x, y, loss = make_case(CASES[0], n=9, d=4, seed=3)
    model.params[-1][0][...] *= 25.0  # saturate some probabilities beyond the clip
    weights = torch_weights(model)
    out, _ = torch_forward(model, weights, x)
    q = out / out.sum(-1, keepdim=True)
    p = torch.clamp(q, 1e-7, 1 - 1e-7)
    value_t = -(torch.tensor(y) * torch.log(p)).sum(-1).mean()
    value_t.backward()
    value, grads = model.loss_and_grad(x, y, loss, fused=False)
    assert value == pytest.approx(float(value_t.detach()), rel=1e-12)
    np.testing.assert_allclose(grads, np.concatenate([t.grad.numpy().ravel() for pair in weights for t in pair]),
                               rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("steps", [1, 5])
def test_adam_steps_match_torch_adam(steps):
    """lb.optim.adam on the flat vector equals torch.optim.Adam on the torch replica, batch by batch."""
    rng = np.random.default_rng(11)
    model = Sequential([Dense(8, "relu"), Dense(4, "softmax")], input_dim=5, seed=2)
    weights = torch_weights(model)
    torch_opt = torch.optim.Adam([t for pair in weights for t in pair], lr=0.01)
    opt = lb.optim.adam(0.01)
    theta = model.get_flat()
    state = opt.init(theta)
    loss = L.CategoricalCrossentropy()
    for _ in range(steps):
        x, y = rng.normal(size=(16, 5)), _onehot(rng, 16, 4)
        _, grads = model.loss_and_grad(x, y, loss)
        updates, state = opt.update(grads, state, theta)
        theta = lb.optim.apply_updates(theta, updates)
        model.set_flat(theta)
        torch_opt.zero_grad()
        _, z = torch_forward(model, weights, x)
        F.cross_entropy(z, torch.tensor(y)).backward()
        torch_opt.step()
    for (W, b), (W_t, b_t) in zip(model.params, weights):
        np.testing.assert_allclose(W, W_t.detach().numpy(), rtol=RTOL, atol=1e-13)
        np.testing.assert_allclose(b, b_t.detach().numpy(), rtol=RTOL, atol=1e-13)


def test_fit_equals_a_torch_training_loop():
    """Two epochs of fit with Adam equal torch's loop over the same minibatches (fit's seeded order)."""
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(50, 6)), _onehot(rng, 50, 3)
    model = Sequential([Dense(10, "tanh"), Dense(3, "softmax")], input_dim=6, seed=1)
    weights = torch_weights(model)
    fit(model, x, y, loss="categorical_crossentropy", optimizer=lb.optim.adam(0.02), epochs=2, batch_size=16, seed=9)
    torch_opt = torch.optim.Adam([t for pair in weights for t in pair], lr=0.02)
    order_rng = np.random.default_rng(9)  # fit draws one permutation per epoch from default_rng(seed)
    for _ in range(2):
        order = order_rng.permutation(50)
        for start in range(0, 50, 16):
            idx = order[start:start + 16]
            torch_opt.zero_grad()
            a = torch.tensor(x[idx])
            for (W, b), layer in zip(weights, model.layers):
                z = a @ W + b
                a = TORCH_ACT[layer.activation](z)
            F.cross_entropy(z, torch.tensor(y[idx])).backward()
            torch_opt.step()
    for (W, b), (W_t, b_t) in zip(model.params, weights):
        np.testing.assert_allclose(W, W_t.detach().numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, b_t.detach().numpy(), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------
# The model: parameters, flat vector, initialisation
# ---------------------------------------------------------------------------


def test_params_are_views_of_the_flat_vector():
    model = Sequential([Dense(4, "relu"), Dense(2, "linear")], input_dim=3, seed=0)
    assert model.n_params == 3 * 4 + 4 + 4 * 2 + 2
    assert [W.shape for W, _ in model.params] == [(3, 4), (4, 2)]
    v = np.arange(model.n_params, dtype=float)
    model.set_flat(v)
    np.testing.assert_array_equal(model.params[0][0].ravel(), v[:12])
    np.testing.assert_array_equal(model.params[1][1], v[-2:])
    np.testing.assert_array_equal(model.flatten(model.unflatten(v)), v)
    model.params[0][1][...] = -1.0  # writing a view writes the vector
    assert np.all(model.get_flat()[12:16] == -1.0)
    flat = model.get_flat()
    flat[0] = 99.0  # get_flat is a copy
    assert model.params[0][0][0, 0] == 0.0


def test_copy_is_independent():
    model = Sequential([Dense(3, "tanh")], input_dim=2, seed=0)
    twin = model.copy()
    twin.params[0][0][...] = 0.0
    assert np.abs(model.params[0][0]).sum() > 0
    np.testing.assert_array_equal(twin.get_flat()[:6], 0.0)


def test_glorot_uniform_initialisation_is_seeded_with_keras_limits():
    a = Sequential([Dense(64, "relu"), Dense(10, "softmax")], input_dim=64, seed=7)
    b = Sequential([Dense(64, "relu"), Dense(10, "softmax")], input_dim=64, seed=7)
    c = Sequential([Dense(64, "relu"), Dense(10, "softmax")], input_dim=64, seed=8)
    np.testing.assert_array_equal(a.get_flat(), b.get_flat())
    assert not np.array_equal(a.get_flat(), c.get_flat())
    for (W, bias), (n_in, n_out) in zip(a.params, a.shapes):
        limit = np.sqrt(6.0 / (n_in + n_out))
        assert np.abs(W).max() <= limit and np.abs(W).max() > 0.95 * limit
        assert W.std() == pytest.approx(limit / np.sqrt(3.0), rel=0.1)  # the std of U(-l, l)
        np.testing.assert_array_equal(bias, 0.0)


def test_summary_and_repr():
    model = Sequential([Dense(64, "relu"), Dense(10, "softmax")], input_dim=64)
    assert "total params: 4,810" in model.summary()
    assert repr(model) == (
        "Sequential([Dense(64, activation='relu'), Dense(10, activation='softmax')], input_dim=64, n_params=4810)"
    )
    assert Dense(3, None).activation == "linear"


def test_objective_is_the_full_batch_loss_and_leaves_the_model_alone():
    model, x, y, loss = make_case(CASES[0])
    before = model.get_flat()
    obj = model.objective(x, y, loss)
    theta = before + 0.1
    value, grads = model.copy().objective(x, y, loss).value(theta), obj.grad(theta)
    twin = model.copy()
    twin.set_flat(theta)
    ref_value, ref_grads = twin.loss_and_grad(x, y, loss)
    assert value == pytest.approx(ref_value, rel=1e-14)
    np.testing.assert_allclose(grads, ref_grads, rtol=1e-14)
    np.testing.assert_array_equal(model.get_flat(), before)
    stacked = obj.value(np.stack([[before, theta]] * 2))
    assert stacked.shape == (2, 2) and stacked[0, 1] == pytest.approx(ref_value, rel=1e-14)
    run = lb.optim.run(lb.optim.sgd(0.5), obj, before, steps=20)
    assert run.values[-1] < run.values[0] and not run.diverged


# ---------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, 4))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 0.5)
    return x, np.eye(3)[labels]


def test_fit_is_deterministic_under_a_seed_and_depends_on_it():
    x, y = small_problem()
    runs = []
    for seed in (3, 3, 4):
        model = Sequential([Dense(8, "relu"), Dense(3, "softmax")], input_dim=4, seed=0)
        h = fit(model, x, y, loss="categorical_crossentropy", optimizer=lb.optim.adam(0.01), epochs=3,
                batch_size=8, seed=seed)
        runs.append((model.get_flat(), h.history["loss"]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_full_batch_sgd_epoch_is_one_gradient_step():
    x, y = small_problem()
    model = Sequential([Dense(5, "tanh"), Dense(3, "softmax")], input_dim=4, seed=0)
    theta0 = model.get_flat()
    _, g = model.loss_and_grad(x, y, "categorical_crossentropy", l2=0.01)
    h = fit(model, x, y, loss="categorical_crossentropy", optimizer=lb.optim.sgd(0.3), epochs=1, batch_size=len(x),
            l2=0.01)
    np.testing.assert_allclose(model.get_flat(), theta0 - 0.3 * g, rtol=1e-13, atol=1e-15)
    assert h.steps_per_epoch == 1


def test_history_keys_lengths_and_keras_averaging():
    x, y = small_problem()
    xv, yv = small_problem(seed=1)
    model = Sequential([Dense(6, "relu"), Dense(3, "softmax")], input_dim=4, seed=0)
    h = fit(model, x, y, loss=L.CategoricalCrossentropy(), optimizer=lb.optim.adam(0.01), epochs=4, batch_size=25,
            validation_data=(xv, yv), record_params=True)
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(v) == 4 for v in h.history.values()) and h.epoch == [0, 1, 2, 3]
    assert h.steps_per_epoch == 3 and h.step_loss.shape == (12,)
    # Keras's "loss": the batch losses of the epoch averaged with the batch sizes (25, 25, 10) as weights
    sizes = np.array([25, 25, 10])
    assert h.history["loss"][1] == pytest.approx(np.sum(h.step_loss[3:6] * sizes) / 60, rel=1e-13)
    assert h.history["val_loss"][-1] == pytest.approx(model.evaluate(xv, yv, "categorical_crossentropy")["loss"])
    assert h.trajectory.shape == (13, model.n_params)
    np.testing.assert_array_equal(h.trajectory[-1], model.get_flat())
    assert 0.0 <= h.history["accuracy"][-1] <= 1.0 and "History(epochs=4" in repr(h)

    reg = fit(Sequential([Dense(2)], input_dim=4), x, y[:, :2], loss="mse", optimizer=lb.optim.sgd(0.1), epochs=2)
    assert list(reg.history) == ["loss"] and reg.trajectory is None


def test_accuracy_for_sparse_binary_and_sign_targets():
    x, y = small_problem()
    labels = y.argmax(1)
    sparse = Sequential([Dense(3, "softmax")], input_dim=4, seed=0)
    one_hot = sparse.copy()
    a = sparse.evaluate(x, labels, "sparse_categorical_crossentropy")["accuracy"]
    b = one_hot.evaluate(x, y, "categorical_crossentropy")["accuracy"]
    assert a == b == np.mean(sparse.predict(x).argmax(1) == labels)
    binary = (labels > 0).astype(float)[:, None]
    logit_model = Sequential([Dense(1)], input_dim=4, seed=0)
    z = logit_model.predict(x)
    acc = logit_model.evaluate(x, binary, L.BinaryCrossentropy(from_logits=True))["accuracy"]
    assert acc == np.mean((z > 0) == (binary > 0.5))
    sign = 2.0 * binary - 1.0
    assert logit_model.evaluate(x, sign, "hinge")["accuracy"] == acc
    assert "accuracy" not in logit_model.evaluate(x, binary, "mse")


def test_early_stopping_stops_and_restores():
    x, y = small_problem()
    xv, yv = small_problem(seed=1)
    model = Sequential([Dense(32, "relu"), Dense(3, "softmax")], input_dim=4, seed=0)
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = fit(model, x, y, loss="categorical_crossentropy", optimizer=lb.optim.adam(0.1), epochs=200, batch_size=8,
            validation_data=(xv, yv), early_stopping=stop)
    assert h.stopped_epoch is not None and h.stopped_epoch == h.best_epoch + 2
    assert len(h.history["val_loss"]) == h.stopped_epoch + 1
    best = min(h.history["val_loss"])
    assert h.history["val_loss"][h.best_epoch] == best
    assert model.evaluate(xv, yv, "categorical_crossentropy")["loss"] == pytest.approx(best, rel=1e-12)


def test_divergence_stops_quietly():
    x, y = small_problem()
    model = Sequential([Dense(8, "relu"), Dense(3, "linear")], input_dim=4, seed=0)
    h = fit(model, x * 100, y, loss="mse", optimizer=lb.optim.sgd(50.0), epochs=50, batch_size=10,
            validation_data=(x, y), record_params=True)
    assert h.diverged
    assert len({len(v) for v in h.history.values()}) == 1
    assert len(h.history["loss"]) < 50
    assert h.trajectory.shape[0] == h.step_loss.size + 1


def test_digits_network_trains_fast_and_well():
    d = lb.data.digits()
    model = Sequential([Dense(64, "relu"), Dense(10, "softmax")], input_dim=64, seed=0)
    start = time.perf_counter()
    h = fit(model, d.x_train, d.y_train, loss="categorical_crossentropy", optimizer=lb.optim.adam(1e-3), epochs=20,
            batch_size=32, validation_data=(d.x_val, d.y_val))
    assert time.perf_counter() - start < 2.0
    assert h.history["val_accuracy"][-1] > 0.9
    assert h.history["loss"][-1] < h.history["loss"][0]


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def _model():
    return Sequential([Dense(3, "relu"), Dense(2, "softmax")], input_dim=4, seed=0)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: Dense(3, "swish"), ValueError, "unknown activation 'swish'"),
        (lambda: Dense(0), ValueError, "units must lie in"),
        (lambda: Dense(2.5), ValueError, "units must be an integer"),
        (lambda: Sequential([], input_dim=3), ValueError, "at least one Dense layer"),
        (lambda: Sequential([Dense(2), "relu"], input_dim=3), TypeError, "layer 1 must be a Dense layer"),
        (lambda: Sequential([Dense(2)], input_dim=0), ValueError, "input_dim must lie in"),
        (lambda: _model().forward(np.ones((5, 3))), ValueError, r"x must have shape \(n_examples, 4\)"),
        (lambda: _model().forward(np.ones(4)), ValueError, r"one example\? use x\[None, :\]"),
        (lambda: _model().forward(np.full((2, 4), np.nan)), ValueError, "x must be finite"),
        (lambda: _model().set_flat(np.ones(3)), ValueError, r"expected a vector of shape \(23,\)"),
        (lambda: _model().unflatten(np.ones(24)), ValueError, r"expected a vector of shape \(23,\)"),
        (lambda: _model().flatten([(np.ones((4, 3)), np.ones(3))]), ValueError, r"expected 2 \(W, b\) pairs"),
        (lambda: _model().backward(np.ones((5, 2))), ValueError, "call forward"),
        (lambda: _model().loss_and_grad(np.ones((5, 4)), np.ones((5, 3)), "categorical_crossentropy"), ValueError,
         "y_true has shape"),
        (lambda: _model().loss_and_grad(np.ones((5, 4)), np.ones((5, 2)), 42), TypeError,
         "loss must be a lossbook loss"),
        (lambda: _model().loss_and_grad(np.ones((5, 4)), np.ones((5, 2)), "mse", l2=-1), ValueError, "l2 must lie in"),
        (lambda: fit(_model(), np.ones((5, 4)), np.ones((4, 2)), loss="mse", optimizer=lb.optim.sgd(0.1)),
         ValueError, "x has 5 examples but y has shape"),
        (lambda: fit(_model(), np.ones((5, 4)), np.ones((5, 2)), loss="mse", optimizer="adam"), TypeError,
         "optimizer must be a lossbook.optim optimizer"),
        (lambda: fit(_model(), np.ones((5, 4)), np.ones((5, 2)), loss="mse", optimizer=lb.optim.sgd(0.1),
                     batch_size=0), ValueError, "batch_size must lie in"),
        (lambda: fit(_model(), np.ones((5, 4)), np.ones((5, 2)), loss="mse", optimizer=lb.optim.sgd(0.1),
                     validation_data=np.ones((5, 4))), ValueError, "validation_data must be a pair"),
        (lambda: fit(_model(), np.ones((5, 4)), np.ones((5, 2)), loss="mse", optimizer=lb.optim.sgd(0.1),
                     early_stopping=EarlyStopping()), ValueError, "needs validation_data"),
        (lambda: EarlyStopping(monitor="val_acc"), ValueError, "monitor must be"),
        (lambda: fit("model", np.ones((5, 4)), np.ones((5, 2)), loss="mse", optimizer=lb.optim.sgd(0.1)), TypeError,
         "model must be a lossbook.nn.Sequential"),
    ],
)
def test_errors_are_clear(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_backward_checks_the_shape():
    model = _model()
    model.forward(np.ones((5, 4)))
    with pytest.raises(ValueError, match=r"grad_out must have the shape of the last output, \(5, 2\)"):
        model.backward(np.ones((5, 3)))


# ---------------------------------------------------------------------------
# lb.data.digits
# ---------------------------------------------------------------------------


def test_digits_are_scikit_learns():
    from sklearn.datasets import load_digits

    from lossbook.data import _digits_raw

    bunch = load_digits()
    images, labels = _digits_raw()
    np.testing.assert_array_equal(images, bunch.data)
    np.testing.assert_array_equal(labels, bunch.target)


def test_digits_split_shapes_scaling_and_one_hot():
    d = lb.data.digits()
    sizes = [len(d.x_train), len(d.x_val), len(d.x_test)]
    assert sum(sizes) == 1797 and d.n_classes == 10
    for x, y, lab in [(d.x_train, d.y_train, d.labels_train), (d.x_val, d.y_val, d.labels_val),
                      (d.x_test, d.y_test, d.labels_test)]:
        assert x.shape == (len(lab), 64) and y.shape == (len(lab), 10)
        assert x.min() == 0.0 and x.max() == 1.0
        np.testing.assert_array_equal(y.argmax(1), lab)
        np.testing.assert_array_equal(y.sum(1), 1.0)
    assert sizes[1] == sizes[2] and abs(sizes[1] - 0.2 * 1797) < 6


def test_digits_split_is_stratified_disjoint_and_seeded():
    _, labels = lb.data._digits_raw()
    whole = np.bincount(labels) / labels.size
    d = lb.data.digits(val_fraction=0.25, test_fraction=0.15, seed=3)
    for lab in (d.labels_train, d.labels_val, d.labels_test):
        assert np.abs(np.bincount(lab, minlength=10) - whole * lab.size).max() <= 2.5
    # the three sets together are the whole dataset, each image once
    all_x = np.concatenate([d.x_train, d.x_val, d.x_test]) * 16
    images, _ = lb.data._digits_raw()
    key = lambda a: np.sort(a.view([("", a.dtype)] * a.shape[1]).ravel())  # noqa: E731 - rows as records
    np.testing.assert_array_equal(key(np.ascontiguousarray(all_x)), key(np.ascontiguousarray(images)))
    again = lb.data.digits(val_fraction=0.25, test_fraction=0.15, seed=3)
    other = lb.data.digits(val_fraction=0.25, test_fraction=0.15, seed=4)
    np.testing.assert_array_equal(d.x_train, again.x_train)
    assert not np.array_equal(d.labels_train, other.labels_train)
    assert len(lb.data.digits(val_fraction=0.0).x_val) == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(val_fraction=-0.1), "val_fraction must lie in"),
        (dict(test_fraction=1.0), "test_fraction must lie in"),
        (dict(val_fraction=0.5, test_fraction=0.5), "must be below 1"),
        (dict(val_fraction="a"), "val_fraction must be a real number"),
    ],
)
def test_digits_rejects_bad_fractions(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lb.data.digits(**kwargs)
