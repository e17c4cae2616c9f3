"""lossbook.optim: pure transforms, composition, the registry, run() and divergence, and the linear theory."""
import copy
import inspect
import math
import warnings

import numpy as np
import pytest

import lossbook as lb
from lossbook import optim
from lossbook.optim import schedules, theory


class Quadratic:
    """f(x) = 0.5 (x - c)^T diag(eigs) (x - c)."""

    def __init__(self, eigs, c=None):
        self.eigs = np.asarray(eigs, dtype=float)
        self.c = np.zeros_like(self.eigs) if c is None else np.asarray(c, dtype=float)
        self.dim = self.eigs.size

    def value(self, x):
        d = x - self.c
        return 0.5 * float(np.sum(self.eigs * d * d))

    def grad(self, x):
        return self.eigs * (x - self.c)


NAMES = ["sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamax", "adamw", "nadam"]

# Every optimizer in the settings that switch on each of its code paths.
CONFIGS = [
    ("sgd", optim.sgd(0.1)),
    ("sgd-momentum", optim.sgd(0.1, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    ("sgd-nesterov", optim.sgd(0.1, momentum=0.9, nesterov=True)),
    ("adagrad", optim.adagrad(0.1, lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.1)),
    ("rmsprop", optim.rmsprop(0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("adadelta", optim.adadelta(weight_decay=0.1)),
    ("adam", optim.adam(0.01, amsgrad=True, weight_decay=0.1)),
    ("adamax", optim.adamax(0.01, weight_decay=0.1)),
    ("adamw", optim.adamw(schedules.cosine(0.01, 10), amsgrad=True)),
    ("nadam", optim.nadam(0.01, weight_decay=0.1)),
]
IDS = [c[0] for c in CONFIGS]


def arrays_of(tree):
    """Every numpy array inside a (nested) state."""
    if isinstance(tree, np.ndarray):
        return [tree]
    if isinstance(tree, (tuple, list)):
        return [a for t in tree for a in arrays_of(t)]
    return []


def states_equal(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, tuple):
        return type(a) is type(b) and len(a) == len(b) and all(states_equal(x, y) for x, y in zip(a, b))
    return a == b


# -- purity ------------------------------------------------------------------------


@pytest.mark.parametrize("opt", [c[1] for c in CONFIGS], ids=IDS)
def test_update_is_pure(opt):
    rng = np.random.default_rng(0)
    params = rng.normal(size=3)
    state = opt.init(params)
    for _ in range(3):  # a state with history
        _, state = opt.update(rng.normal(size=3), state, params)
    grads = rng.normal(size=3)
    saved = (params.copy(), grads.copy(), copy.deepcopy(state))
    u1, s1 = opt.update(grads, state, params)
    assert np.array_equal(params, saved[0]) and np.array_equal(grads, saved[1])
    assert states_equal(state, saved[2]), "update changed the state it was given"
    u2, s2 = opt.update(grads, state, params)
    assert np.array_equal(u1, u2) and states_equal(s1, s2)
    # the outputs share no memory with the inputs
    for out in [u1, *arrays_of(s1)]:
        for inp in [params, grads, *arrays_of(state)]:
            assert not np.shares_memory(out, inp)
    # and a caller writing into the outputs cannot change a later result
    u1 += 1.0
    for a in arrays_of(s1):
        a += 1.0
    u3, _ = opt.update(grads, state, params)
    assert np.array_equal(u3, u2)


def test_init_does_not_alias_params():
    params = np.array([1.0, 2.0])
    state = optim.adagrad(0.1, initial_accumulator_value=0.3).init(params)
    params[:] = 7.0
    assert np.array_equal(state[0].sum_of_squares, [0.3, 0.3])


# -- composition ----------------------------------------------------------------------


def test_chain_equals_applying_its_parts_in_turn():
    parts = [optim.add_l2(0.1), optim.scale_by_adam(0.8, 0.9), optim.trace(0.5), optim.scale_by_learning_rate(0.05)]
    chained = optim.chain(*parts)
    rng = np.random.default_rng(1)
    params = rng.normal(size=4)
    state, states = chained.init(params), [p.init(params) for p in parts]
    for _ in range(5):
        g = rng.normal(size=4)
        u, state = chained.update(g, state, params)
        v = g
        for i, p in enumerate(parts):
            v, states[i] = p.update(v, states[i], params)
        assert np.array_equal(u, v)
        params = optim.apply_updates(params, u)
    assert all(states_equal(a, b) for a, b in zip(state, states))


def test_sgd_with_momentum_is_the_heavy_ball_by_hand():
    f = Quadratic([1.0, 5.0])
    lr, beta, wd = 0.05, 0.8, 0.1
    run = optim.run(optim.sgd(lr, momentum=beta, weight_decay=wd), f, [1.0, -1.0], 30)
    x, prev = np.array([1.0, -1.0]), np.array([1.0, -1.0])
    for k in range(30):
        g = f.grad(x) + wd * x
        x, prev = x - lr * g + beta * (x - prev), x
        np.testing.assert_allclose(run.points[k + 1], x, rtol=1e-12, atol=1e-15)


def test_first_momentum_buffer_is_the_undampened_gradient():
    t = optim.trace(0.9, dampening=0.5)
    s = t.init(np.zeros(2))
    u, s = t.update(np.array([1.0, 2.0]), s, None)
    assert np.array_equal(u, [1.0, 2.0])  # torch: buf = g on the first step
    u, s = t.update(np.array([1.0, 0.0]), s, None)
    assert np.allclose(u, [0.9 + 0.5, 1.8])


def test_adamw_differs_from_adam_only_where_the_decay_sits():
    decoupled = optim.chain(optim.scale_by_adam(), optim.add_decayed_weights(0.1), optim.scale_by_learning_rate(0.01))
    coupled = optim.chain(optim.add_l2(0.1), optim.scale_by_adam(), optim.scale_by_learning_rate(0.01))
    f = Quadratic([1.0, 3.0], c=[1.0, 1.0])
    assert np.array_equal(optim.run(optim.adamw(0.01, weight_decay=0.1), f, [0.0, 0.0], 50).points,
                          optim.run(decoupled, f, [0.0, 0.0], 50).points)
    assert np.array_equal(optim.run(optim.adam(0.01, weight_decay=0.1), f, [0.0, 0.0], 50).points,
                          optim.run(coupled, f, [0.0, 0.0], 50).points)
    # decoupled: one step shrinks the weights by exactly 1 - lr * wd beyond the Adam step
    p = np.array([2.0, -3.0])
    g = np.array([0.5, 0.25])
    plain = optim.apply_updates(p, optim.adam(0.01).update(g, optim.adam(0.01).init(p), p)[0])
    w = optim.adamw(0.01, weight_decay=0.1)
    decayed = optim.apply_updates(p, w.update(g, w.init(p), p)[0])
    np.testing.assert_allclose(decayed, plain - 0.01 * 0.1 * p, rtol=1e-14)


def test_a_schedule_is_a_learning_rate():
    f = Quadratic([1.0, 2.0])
    a = optim.run(optim.sgd(schedules.constant(0.1)), f, [1.0, 1.0], 20).points
    b = optim.run(optim.sgd(0.1), f, [1.0, 1.0], 20).points
    assert np.array_equal(a, b)
    # the k-th update (k = 0, 1, ...) uses lr(k): with lr(k) = 0 for k >= 1 only one step is taken
    one = optim.run(optim.sgd(lambda k: 0.5 if k == 0 else 0.0), f, [1.0, 1.0], 5).points
    assert np.array_equal(one[1], [0.5, 0.0]) and np.all(one[1:] == one[1])


def test_scale_by_learning_rate_counts_from_zero():
    seen = []
    t = optim.scale_by_learning_rate(lambda k: seen.append(k) or 1.0)
    s = t.init(np.zeros(1))
    for _ in range(3):
        u, s = t.update(np.array([2.0]), s, None)
    assert seen == [0, 1, 2] and np.array_equal(u, [-2.0]) and s.count == 3


def test_apply_updates_returns_a_new_array():
    p = np.array([1.0, 2.0])
    q = optim.apply_updates(p, np.array([0.5, -0.5]))
    assert np.array_equal(q, [1.5, 1.5]) and np.array_equal(p, [1.0, 2.0])
    with pytest.raises(ValueError, match="updates have shape"):
        optim.apply_updates(p, np.zeros(3))


# -- repr ------------------------------------------------------------------------------


def test_repr_lists_the_chain():
    assert repr(optim.adam(0.01)) == (
        "chain(scale_by_adam(beta1=0.9, beta2=0.999, eps=1e-08, amsgrad=False), scale_by_learning_rate(lr=0.01))"
    )
    assert repr(optim.sgd(0.1)) == "chain(scale_by_learning_rate(lr=0.1))"
    assert repr(optim.sgd(0.1, momentum=0.9, weight_decay=1e-4)) == (
        "chain(add_l2(weight_decay=0.0001), trace(momentum=0.9, dampening=0.0, nesterov=False), "
        "scale_by_learning_rate(lr=0.1))"
    )
    assert str(optim.adamw(0.001)) == (
        "chain(\n"
        "    scale_by_adam(beta1=0.9, beta2=0.999, eps=1e-08, amsgrad=False),\n"
        "    add_decayed_weights(weight_decay=0.01),\n"
        "    scale_by_learning_rate(lr=0.001),\n"
        ")"
    )
    assert "scale_by_learning_rate(lr=cosine(lr=0.1, total_steps=10, min_lr=0.0))" in repr(
        optim.rmsprop(schedules.cosine(0.1, 10)))
    assert repr(copy.deepcopy(optim.nadam(0.01))) == repr(optim.nadam(0.01))
    nested = optim.chain(optim.chain(optim.add_l2(0.5)), optim.scale_by_learning_rate(1.0))
    assert str(nested) == (
        "chain(\n    chain(\n        add_l2(weight_decay=0.5),\n    ),\n    scale_by_learning_rate(lr=1.0),\n)"
    )


def test_optimizers_are_plain_gradient_transformations():
    opt = optim.nadam(0.01)
    assert isinstance(opt, optim.GradientTransformation)
    init, update = opt  # still an (init, update) pair
    assert callable(init) and callable(update)
    custom = optim.GradientTransformation(lambda p: (), lambda g, s, p=None: (-g, s))
    assert optim.run(optim.chain(custom), Quadratic([0.5]), [1.0], 3).points[-1] == pytest.approx(0.125)


# -- registry ----------------------------------------------------------------------------


def test_registry_has_all_eight():
    assert list(optim.OPTIMIZERS) == NAMES
    for name in NAMES:
        assert optim.OPTIMIZERS[name] is getattr(optim, name)
        assert isinstance(optim.get(name), optim.GradientTransformation)


@pytest.mark.parametrize("name", NAMES)
def test_declared_params_match_the_signature(name):
    factory = optim.OPTIMIZERS[name]
    params = optim.params_of(name)
    assert params is factory.params and params[0].name == "lr" and params[0].scale == "log"
    signature = inspect.signature(factory).parameters
    for p in params:
        assert isinstance(p, lb.Param)
        assert p.name in signature, p.name
        default = signature[p.name].default
        if default is not inspect.Parameter.empty:
            assert p.default == default, p.name
        p.check(p.default)
        factory(**{"lr": params[0].default, p.name: p.low})  # every slider position is valid
        factory(**{"lr": params[0].default, p.name: p.high})
    numeric = {n for n, s in signature.items() if not isinstance(s.default, bool)}
    assert {p.name for p in params} == numeric


def test_get_builds_with_hyperparameters():
    assert repr(optim.get("adam", lr=0.5, beta1=0.5)) == repr(optim.adam(0.5, beta1=0.5))
    assert repr(optim.get("adadelta")) == repr(optim.adadelta())
    assert "lr=0.001" in repr(optim.get("adam"))
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'; known names: sgd, adagrad"):
        optim.get("adamm")
    with pytest.raises(TypeError, match="unexpected keyword argument 'betas'"):
        optim.get("adam", betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.params_of("lbfgs")


# -- convergence -------------------------------------------------------------------------


LRS = {"sgd": 0.3, "adagrad": 1.0, "rmsprop": 0.01, "adadelta": 1.0, "adam": 0.05, "adamax": 0.05,
       "adamw": 0.05, "nadam": 0.05}


@pytest.mark.parametrize("name", NAMES)
def test_reaches_the_minimum_of_a_well_conditioned_quadratic(name):
    f = Quadratic([1.0, 2.0, 3.0], c=[1.0, -2.0, 0.5])
    extra = {"weight_decay": 0.0} if name == "adamw" else {}
    run = optim.run(optim.get(name, lr=LRS[name], **extra), f, np.zeros(3), 1500)
    assert not run.diverged and run.steps == 1500
    assert np.abs(run.final - f.c).max() < 1e-6
    assert run.values[-1] < 1e-10 < run.values[0]


def test_weight_decay_moves_the_minimum_as_predicted():
    # coupled L2: the minimum of f + wd/2 |x|^2 is c * eig / (eig + wd)
    f = Quadratic([1.0, 2.0], c=[1.0, 1.0])
    run = optim.run(optim.sgd(0.2, weight_decay=0.5), f, [0.0, 0.0], 500)
    np.testing.assert_allclose(run.final, [1 / 1.5, 2 / 2.5], rtol=1e-10)


def test_gradient_descent_stability_limit():
    eigs = [1.0, 4.0, 10.0]
    f = Quadratic(eigs)
    limit = theory.gd_stability_limit(eigs)
    assert limit == pytest.approx(0.2)
    above = optim.run(optim.sgd(1.01 * limit), f, [1.0, 1.0, 1.0], 3000)
    below = optim.run(optim.sgd(0.99 * limit), f, [1.0, 1.0, 1.0], 3000)
    assert above.diverged and above.steps < 3000 and np.abs(above.final).max() > 1e6
    assert not below.diverged and below.steps == 3000 and np.abs(below.final).max() < 1e-20


# -- run and Trajectory --------------------------------------------------------------------


def test_trajectory_shape_and_contents():
    f = Quadratic([1.0, 3.0])
    x0 = np.array([1.0, -2.0])
    run = optim.run(optim.sgd(0.1), f, x0, 25)
    assert run.points.shape == (26, 2) and run.values.shape == (26,)
    assert np.array_equal(run.points[0], x0) and run.values[0] == f.value(x0)
    assert run.steps == 25 and np.array_equal(run.final, run.points[-1]) and not run.diverged
    assert run.states is None
    assert all(run.values[k] == f.value(run.points[k]) for k in range(26))
    assert np.array_equal(x0, [1.0, -2.0])  # x0 untouched
    assert repr(run).startswith("Trajectory(steps=25, final=[")
    zero = optim.run(optim.sgd(0.1), f, (1.0, -2.0), 0)
    assert zero.points.shape == (1, 2) and zero.steps == 0


def test_keep_state():
    f = Quadratic([1.0, 3.0])
    opt = optim.adam(0.1)
    run = optim.run(opt, f, [1.0, 1.0], 10, keep_state=True)
    assert len(run.states) == 11
    assert states_equal(run.states[0], opt.init(np.array([1.0, 1.0])))
    assert run.states[-1][0].count == 10


class Noisy(Quadratic):
    """A stochastic objective: its gradients carry seeded noise, replayed after reset()."""

    def __init__(self):
        super().__init__([1.0, 2.0])
        self.resets = 0
        self.reset()

    def reset(self):
        self.resets += 1
        self.rng = np.random.default_rng(42)

    def grad(self, x):
        return super().grad(x) + self.rng.normal(size=2)


def test_run_resets_a_stochastic_objective():
    f = Noisy()
    a = optim.run(optim.sgd(0.1), f, [1.0, 1.0], 20)
    b = optim.run(optim.sgd(0.1), f, [1.0, 1.0], 20)
    assert f.resets == 3 and np.array_equal(a.points, b.points)


def _no_warnings(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()


def test_a_run_beyond_the_bound_stops_and_keeps_that_point():
    f = Quadratic([1.0, 10.0])
    run = _no_warnings(lambda: optim.run(optim.sgd(0.5), f, [1.0, 1.0], 1000))
    assert run.diverged and run.steps < 1000
    assert np.abs(run.final).max() > 1e6 and np.all(np.abs(run.points[:-1]) <= 1e6)
    assert np.all(np.isfinite(run.points)) and len(run.values) == len(run.points)
    assert not optim.run(optim.sgd(0.5), f, [1.0, 1.0], 1000, bound=math.inf).points[-1].max() > 1e300


def test_a_run_that_overflows_stops_without_warnings():
    f = Quadratic([1.0, 10.0])
    run = _no_warnings(lambda: optim.run(optim.sgd(0.5), f, [1.0, 1.0], 5000, bound=math.inf))
    assert run.diverged and run.steps < 5000
    assert np.all(np.isfinite(run.points))  # the first non-finite point is left out


class Bounded:
    """f(x) = sum(tanh(x)): finite everywhere, even at infinity."""

    dim = 2

    def value(self, x):
        return float(np.sum(np.tanh(x)))

    def grad(self, x):
        return 1.0 - np.tanh(x) ** 2 + 1.0


def test_a_point_that_overflows_is_left_out_even_if_its_value_is_finite():
    blow_up = optim.GradientTransformation(lambda p: (), lambda g, s, p: (p * 1e100, s))
    run = _no_warnings(lambda: optim.run(blow_up, Bounded(), [1.0, -1.0], 10, bound=math.inf))
    assert run.diverged and run.steps == 3  # 1e300 is kept, 1e400 is not
    assert np.all(np.isfinite(run.points)) and np.isfinite(run.values).all()


class Steep:
    """f(x) = s x, with gradients so large that their squares overflow."""

    dim = 1

    def value(self, x):
        return 1e200 * float(x[0])

    def grad(self, x):
        return np.array([1e200])


def test_overflow_inside_an_optimizer_raises_no_warning():
    run = _no_warnings(lambda: optim.run(optim.adam(0.1), Steep(), [1.0], 10))
    assert np.all(np.isfinite(run.points)) and run.steps == 10  # g^2 = inf, so Adam's step is 0


class Cliff:
    """Finite values and gradients except beyond x = 1, where both are nan."""

    dim = 1

    def value(self, x):
        return np.nan if x[0] > 1 else float(-x[0])

    def grad(self, x):
        return np.array([np.nan if x[0] > 1 else -1.0])


def test_a_nan_value_stops_the_run():
    run = _no_warnings(lambda: optim.run(optim.sgd(0.3), Cliff(), [0.0], 10))
    assert run.diverged and run.steps == 4
    assert np.isnan(run.values[-1]) and run.final == pytest.approx([1.2])


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: optim.sgd(0.0), ValueError, "lr must lie in"),
        (lambda: optim.sgd(-0.1), ValueError, "lr must lie in"),
        (lambda: optim.adam("0.1"), ValueError, "lr must be a real number"),
        (lambda: optim.adam(math.inf), ValueError, "lr must lie in"),
        (lambda: optim.adam(0.1, beta1=1.0), ValueError, "beta1 must lie in \\[0, 1\\)"),
        (lambda: optim.adam(0.1, beta2=-0.1), ValueError, "beta2 must lie in"),
        (lambda: optim.nadam(0.1, eps=0.0), ValueError, "eps must lie in"),
        (lambda: optim.nadam(0.1, momentum_decay=-1), ValueError, "momentum_decay must lie in"),
        (lambda: optim.adamw(0.1, weight_decay=-0.01), ValueError, "weight_decay must lie in"),
        (lambda: optim.sgd(0.1, momentum=1.0), ValueError, "momentum must lie in"),
        (lambda: optim.sgd(0.1, dampening=1.5), ValueError, "dampening must lie in"),
        (lambda: optim.sgd(0.1, nesterov=True), ValueError, "nesterov=True requires momentum > 0"),
        (lambda: optim.sgd(0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError, "nesterov=True requires"),
        (lambda: optim.sgd(0.1, momentum=0.9, nesterov=1), TypeError, "nesterov must be True or False"),
        (lambda: optim.adam(0.1, amsgrad="yes"), TypeError, "amsgrad must be True or False"),
        (lambda: optim.rmsprop(0.1, centered=None), TypeError, "centered must be True or False"),
        (lambda: optim.rmsprop(0.1, alpha=1.0), ValueError, "alpha must lie in"),
        (lambda: optim.adadelta(rho=1.2), ValueError, "rho must lie in"),
        (lambda: optim.adagrad(0.1, lr_decay=-1), ValueError, "lr_decay must lie in"),
        (lambda: optim.adagrad(0.1, initial_accumulator_value=-1), ValueError, "initial_accumulator_value must lie in"),
        (lambda: optim.adamax(0.1, beta1=math.nan), ValueError, "beta1 must be a real number"),
        (lambda: optim.trace(0.5, nesterov=True, dampening=0.5), ValueError, "nesterov=True requires"),
        (lambda: optim.scale_by_schedule(0.5), TypeError, "schedule must be callable"),
        (lambda: optim.chain(optim.add_l2(0.1), "sgd"), TypeError, "argument 1 is 'sgd'"),
    ],
)
def test_bad_hyperparameters_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_weight_decay_needs_params():
    t = optim.add_l2(0.1)
    with pytest.raises(ValueError, match="add_l2 needs the current params"):
        t.update(np.ones(2), t.init(np.ones(2)), None)


class NoGrad:
    def value(self, x):
        return 0.0


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(optimizer=(lambda p: None, lambda g, s, p: (g, s))), TypeError, "optimizer must be a GradientTransformation"),
        (dict(objective=NoGrad()), TypeError, "NoGrad lacks grad"),
        (dict(objective=object()), TypeError, "lacks value and grad"),
        (dict(steps=-1), ValueError, "steps must lie in"),
        (dict(steps=2.5), ValueError, "steps must be an integer"),
        (dict(steps="10"), ValueError, "steps must be a real number"),
        (dict(x0=[[1.0, 2.0]]), ValueError, "x0 must be a non-empty 1-D array"),
        (dict(x0=[]), ValueError, "x0 must be a non-empty 1-D array"),
        (dict(x0=[1.0, np.nan]), ValueError, "x0 must be finite"),
        (dict(x0=[1.0, 2.0, 3.0]), ValueError, "x0 has 3 coordinates but the objective takes points of dimension 2"),
        (dict(x0=["a", "b"]), ValueError, "x0 must be a 1-D array of real numbers"),
        (dict(bound=0), ValueError, "bound must lie in"),
        (dict(keep_state="no"), TypeError, "keep_state must be True or False"),
    ],
)
def test_bad_run_arguments(kwargs, error, match):
    args = dict(optimizer=optim.sgd(0.1), objective=Quadratic([1.0, 2.0]), x0=[1.0, 1.0], steps=10)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        optim.run(args.pop("optimizer"), args.pop("objective"), args.pop("x0"), args.pop("steps"), **args)


def test_an_objective_without_dim_is_checked_through_its_gradient():
    class Flat:
        def value(self, x):
            return 0.0

        def grad(self, x):
            return np.zeros(3)

    with pytest.raises(ValueError, match=r"objective.grad\(x0\) has shape \(3,\) but x0 has shape \(2,\)"):
        optim.run(optim.sgd(0.1), Flat(), [1.0, 1.0], 5)


def test_a_start_where_the_objective_overflows_is_refused():
    with pytest.raises(ValueError, match="value or gradient at x0"):
        _no_warnings(lambda: optim.run(optim.sgd(0.1), Quadratic([1.0]), [1e200], 5))


def test_steps_from_an_integer_slider_may_be_floats():
    assert optim.run(optim.sgd(0.1), Quadratic([1.0]), [1.0], 4.0).steps == 4


# -- theory ----------------------------------------------------------------------------------


def observed_rate(points, start=100):
    """Slope of log |(x_t, x_{t-1})| after ``start`` steps: the asymptotic linear rate (minimum at 0)."""
    pairs = np.hstack([points[1:], points[:-1]])
    norms = np.abs(pairs).max(axis=1)[start:]  # max-norm: squares of tiny iterates would underflow
    slope = np.polyfit(np.arange(norms.size), np.log(norms), 1)[0]
    return math.exp(slope)


EIGS = [1.0, 4.0, 10.0]


@pytest.mark.parametrize("lr", [0.05, 0.1, 0.15, 0.19])
def test_gd_rate_is_observed(lr):
    run = optim.run(optim.sgd(lr), Quadratic(EIGS), [1.0, 1.0, 1.0], 400)
    assert observed_rate(run.points) == pytest.approx(theory.gd_rate(lr, EIGS), rel=1e-2)


@pytest.mark.parametrize("lr,beta", [(0.1, 0.5), (0.05, 0.9), (0.2, 0.3), (0.3, 0.6), (0.02, 0.2), (0.25, 0.45)])
def test_momentum_rate_is_observed(lr, beta):
    run = optim.run(optim.sgd(lr, momentum=beta), Quadratic(EIGS), [1.0, 1.0, 1.0], 800)
    predicted = theory.momentum_rate(lr, beta, EIGS)
    assert predicted < 1 and not run.diverged
    assert observed_rate(run.points) == pytest.approx(predicted, rel=1e-2)


def test_momentum_beyond_its_limit_diverges():
    lr, beta = 0.4, 0.95  # lr * lam_max = 4 > 2 (1 + beta): unstable
    assert theory.momentum_rate(lr, beta, EIGS) > 1
    assert optim.run(optim.sgd(lr, momentum=beta), Quadratic(EIGS), [1.0, 1.0, 1.0], 2000).diverged


def test_optimal_parameters():
    eigs = [1.0, 4.0, 100.0]
    kappa = 100.0
    assert theory.optimal_step(eigs) == pytest.approx(2 / 101)
    assert theory.gd_rate(theory.optimal_step(eigs), eigs) == pytest.approx((kappa - 1) / (kappa + 1))
    lr, beta = theory.optimal_momentum(eigs)
    assert lr == pytest.approx((2 / 11) ** 2) and beta == pytest.approx((9 / 11) ** 2)
    assert theory.momentum_rate(lr, beta, eigs) == pytest.approx(9 / 11, rel=1e-6)
    # nearby settings are slower
    assert theory.momentum_rate(lr * 1.05, beta, eigs) > 9 / 11
    assert theory.momentum_rate(lr, beta * 0.95, eigs) > 9 / 11
    # and the optimal heavy ball beats the optimal plain step, as observed
    run = optim.run(optim.sgd(lr, momentum=beta * 1.01), Quadratic(eigs), [1.0, 1.0, 1.0], 600)
    assert observed_rate(run.points) < 0.85 < (kappa - 1) / (kappa + 1)


def test_rate_maps_are_vectorised():
    lrs = np.linspace(0.01, 0.3, 7)
    betas = np.linspace(0.0, 0.95, 5)
    grid = theory.momentum_rate(lrs[:, None], betas[None, :], EIGS)
    assert grid.shape == (7, 5)
    for i, lr in enumerate(lrs):
        for j, beta in enumerate(betas):
            assert grid[i, j] == theory.momentum_rate(lr, beta, EIGS)
    np.testing.assert_allclose(theory.momentum_rate(lrs, 0.0, EIGS), theory.gd_rate(lrs, EIGS), rtol=1e-12)
    assert theory.gd_rate(lrs, EIGS).shape == (7,) and isinstance(theory.gd_rate(0.1, EIGS), float)
    # complex roots: the rate is sqrt(beta) whatever the step
    assert theory.momentum_rate(0.1, 0.9, EIGS) == pytest.approx(math.sqrt(0.9))


@pytest.mark.parametrize(
    "fn,match",
    [
        (lambda: theory.gd_stability_limit([]), "eigenvalues must not be empty"),
        (lambda: theory.optimal_step([1.0, 0.0]), "eigenvalues must be positive"),
        (lambda: theory.optimal_momentum([-1.0, 2.0]), "eigenvalues must be positive"),
        (lambda: theory.gd_rate(0.1, [1.0, np.inf]), "eigenvalues must be finite"),
    ],
)
def test_theory_validates_eigenvalues(fn, match):
    with pytest.raises(ValueError, match=match):
        fn()


def test_public_names():
    for name in optim.__all__:
        assert hasattr(optim, name), name
    assert lb.optim is optim


def test_run_asks_an_objective_with_value_and_grad_once_per_step():
    from lossbook.optim import run, sgd

    class Counted:
        calls = {"value": 0, "grad": 0, "both": 0}

        def value(self, x):
            self.calls["value"] += 1
            return 0.5 * float(x @ x)

        def grad(self, x):
            self.calls["grad"] += 1
            return x.copy()

        def value_and_grad(self, x):
            self.calls["both"] += 1
            return 0.5 * float(x @ x), x.copy()

    class Plain:
        def value(self, x):
            return 0.5 * float(x @ x)

        def grad(self, x):
            return x.copy()

    counted = Counted()
    fast = run(sgd(0.1), counted, np.array([1.0, -2.0]), 25)
    slow = run(sgd(0.1), Plain(), np.array([1.0, -2.0]), 25)
    np.testing.assert_array_equal(fast.points, slow.points)
    np.testing.assert_array_equal(fast.values, slow.values)
    assert counted.calls["both"] == 25 and counted.calls["value"] <= 1 and counted.calls["grad"] <= 1
