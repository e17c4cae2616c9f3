"""lossbook.optim against torch.optim: every optimizer, step by step, in float64.

Both sides get the very same numpy gradient at each iterate, so only the update rules are
compared.  Every iterate of a 200-step run must agree to rtol 1e-10.
"""
import numpy as np
import pytest

try:
    import torch
except ImportError as err:  # a missing reference is a failure, never a skip
    raise ImportError("the reference tests need torch: /work/main/.venv/bin/pip install -r requirements-test.txt") from err

from lossbook import optim
from lossbook.optim import schedules

STEPS = 200
RTOL, ATOL = 1e-10, 1e-14


@pytest.fixture(autouse=True)
def float64_scalars():
    """torch keeps step counts and NAdam's mu_product in the default dtype: make it float64."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


class Quadratic:
    """0.5 (x - c)^T A (x - c), eigenvalues 1 and 40, axes rotated by 30 degrees."""

    dim = 2
    c = np.array([0.5, -0.25])

    def __init__(self):
        q = np.array([[np.cos(0.5236), -np.sin(0.5236)], [np.sin(0.5236), np.cos(0.5236)]])
        self.A = q @ np.diag([1.0, 40.0]) @ q.T

    def value(self, x):
        d = x - self.c
        return 0.5 * d @ self.A @ d

    def grad(self, x):
        return self.A @ (x - self.c)


class Rosenbrock:
    """(a - x)^2 + b (y - x^2)^2 with a = 1, b = 100."""

    dim = 2

    def value(self, x):
        return (1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2

    def grad(self, x):
        return np.array([-2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] ** 2), 200.0 * (x[1] - x[0] ** 2)])


OBJECTIVES = {"quadratic": (Quadratic(), np.array([-1.5, 1.0])), "rosenbrock": (Rosenbrock(), np.array([-1.2, 1.0]))}

# (id, lossbook factory, torch class, lossbook kwargs, torch kwargs, lr on the quadratic, lr on Rosenbrock)
CASES = [
    ("sgd", optim.sgd, torch.optim.SGD, {}, {}, 0.04, 5e-4),
    ("sgd-momentum", optim.sgd, torch.optim.SGD, {"momentum": 0.9}, {"momentum": 0.9}, 0.01, 1e-4),
    ("sgd-nesterov-wd", optim.sgd, torch.optim.SGD, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
     {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}, 0.01, 1e-4),
    ("sgd-dampening", optim.sgd, torch.optim.SGD, {"momentum": 0.5, "dampening": 0.3},
     {"momentum": 0.5, "dampening": 0.3}, 0.02, 3e-4),
    ("adagrad", optim.adagrad, torch.optim.Adagrad, {}, {}, 0.5, 0.1),
    ("adagrad-decay-init-wd", optim.adagrad, torch.optim.Adagrad,
     {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.05, "eps": 1e-6},
     {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.05, "eps": 1e-6}, 0.5, 0.1),
    ("rmsprop", optim.rmsprop, torch.optim.RMSprop, {}, {}, 0.005, 1e-3),
    ("rmsprop-centered-momentum", optim.rmsprop, torch.optim.RMSprop,
     {"alpha": 0.9, "momentum": 0.8, "centered": True, "weight_decay": 0.01},
     {"alpha": 0.9, "momentum": 0.8, "centered": True, "weight_decay": 0.01}, 0.002, 2e-4),
    ("rmsprop-momentum", optim.rmsprop, torch.optim.RMSprop, {"momentum": 0.9, "eps": 1e-6},
     {"momentum": 0.9, "eps": 1e-6}, 0.005, 5e-4),
    ("adadelta", optim.adadelta, torch.optim.Adadelta, {}, {}, 1.0, 1.0),
    ("adadelta-rho-wd", optim.adadelta, torch.optim.Adadelta, {"rho": 0.95, "eps": 1e-4, "weight_decay": 0.01},
     {"rho": 0.95, "eps": 1e-4, "weight_decay": 0.01}, 0.5, 0.3),
    ("adam", optim.adam, torch.optim.Adam, {}, {}, 0.05, 0.01),
    ("adam-amsgrad-wd", optim.adam, torch.optim.Adam, {"beta1": 0.8, "beta2": 0.99, "amsgrad": True, "weight_decay": 0.1},
     {"betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.1}, 0.05, 0.01),
    ("adam-eps", optim.adam, torch.optim.Adam, {"eps": 1e-3, "beta1": 0.0}, {"eps": 1e-3, "betas": (0.0, 0.999)}, 0.05, 0.01),
    ("adamax", optim.adamax, torch.optim.Adamax, {}, {}, 0.03, 0.01),
    ("adamax-betas-wd", optim.adamax, torch.optim.Adamax, {"beta1": 0.7, "beta2": 0.9, "eps": 1e-4, "weight_decay": 0.1},
     {"betas": (0.7, 0.9), "eps": 1e-4, "weight_decay": 0.1}, 0.01, 0.005),
    ("adamw", optim.adamw, torch.optim.AdamW, {}, {}, 0.03, 0.01),
    ("adamw-amsgrad", optim.adamw, torch.optim.AdamW, {"weight_decay": 0.5, "amsgrad": True, "beta2": 0.95},
     {"weight_decay": 0.5, "amsgrad": True, "betas": (0.9, 0.95)}, 0.05, 0.01),
    ("nadam", optim.nadam, torch.optim.NAdam, {}, {}, 0.05, 0.01),
    ("nadam-decay-wd", optim.nadam, torch.optim.NAdam, {"momentum_decay": 0.02, "beta1": 0.95, "weight_decay": 0.05},
     {"momentum_decay": 0.02, "betas": (0.95, 0.999), "weight_decay": 0.05}, 0.05, 0.01),
]


def torch_path(make_optimizer, objective, x0, steps, make_scheduler=None):
    """Iterates of a torch optimizer fed the objective's numpy gradient."""
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([p])
    sched = make_scheduler(opt) if make_scheduler else None
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        p.grad = torch.from_numpy(objective.grad(p.detach().numpy().copy()))
        opt.step()
        if sched is not None:
            sched.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def test_every_optimizer_is_compared():
    assert {c[1].__name__ for c in CASES} == set(optim.OPTIMIZERS)


@pytest.mark.parametrize("surface", list(OBJECTIVES))
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_same_iterates_as_torch(case, surface):
    _, factory, torch_cls, ours, theirs, lr_quadratic, lr_rosenbrock = case
    objective, x0 = OBJECTIVES[surface]
    lr = lr_quadratic if surface == "quadratic" else lr_rosenbrock
    run = optim.run(factory(lr, **ours), objective, x0, STEPS)
    assert not run.diverged and run.steps == STEPS
    expected = torch_path(lambda ps: torch_cls(ps, lr=lr, foreach=False, **theirs), objective, x0, STEPS)
    assert np.all(np.isfinite(expected))
    np.testing.assert_allclose(run.points, expected, rtol=RTOL, atol=ATOL)
    # the run moved: a test of a standing start would prove nothing
    assert np.abs(run.points[-1] - x0).max() > 1e-2


def test_rosenbrock_runs_make_progress():
    objective, x0 = OBJECTIVES["rosenbrock"]
    for case in CASES:
        run = optim.run(case[1](case[6], **case[3]), objective, x0, STEPS)
        assert run.values[-1] < run.values[0], case[0]


# -- schedules driving the learning rate ----------------------------------------

S = torch.optim.lr_scheduler
# (id, our schedule as a function of the base lr, torch's scheduler as a function of the optimizer and that lr)
SCHEDULED = [
    ("step", lambda lr: schedules.step_decay(lr, 30, gamma=0.5), lambda o, lr: S.StepLR(o, 30, gamma=0.5)),
    ("exponential", lambda lr: schedules.exponential(lr, 0.99), lambda o, lr: S.ExponentialLR(o, 0.99)),
    ("cosine", lambda lr: schedules.cosine(lr, STEPS, min_lr=lr / 20),
     lambda o, lr: S.CosineAnnealingLR(o, STEPS, eta_min=lr / 20)),
    ("restarts", lambda lr: schedules.cosine_restarts(lr, 20, period_mult=2, min_lr=lr / 10),
     lambda o, lr: S.CosineAnnealingWarmRestarts(o, 20, T_mult=2, eta_min=lr / 10)),
    ("one_cycle", lambda lr: schedules.one_cycle(lr, STEPS + 1),
     lambda o, lr: S.OneCycleLR(o, lr, STEPS + 1, cycle_momentum=False)),
    ("linear", lambda lr: schedules.linear_warmup(lr, 25, start_factor=0.1),
     lambda o, lr: S.LinearLR(o, 0.1, total_iters=25)),
]


@pytest.mark.parametrize("name,ours,theirs", SCHEDULED, ids=[s[0] for s in SCHEDULED])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_scheduled_learning_rate_as_torch(name, ours, theirs, opt):
    objective, x0 = OBJECTIVES["quadratic"]
    if opt == "sgd":
        lr = 0.04
        mine = optim.sgd(ours(lr), momentum=0.5)
        torch_opt = lambda ps: torch.optim.SGD(ps, lr=lr, momentum=0.5, foreach=False)  # noqa: E731
    else:
        lr = 0.05
        mine = optim.adam(ours(lr))
        torch_opt = lambda ps: torch.optim.Adam(ps, lr=lr, foreach=False)  # noqa: E731
    run = optim.run(mine, objective, x0, STEPS)
    expected = torch_path(torch_opt, objective, x0, STEPS, lambda o: theirs(o, lr))
    np.testing.assert_allclose(run.points, expected, rtol=RTOL, atol=ATOL)


def test_adamw_decay_follows_the_scheduled_lr():
    objective, x0 = OBJECTIVES["rosenbrock"]
    run = optim.run(optim.adamw(schedules.exponential(0.01, 0.98), weight_decay=0.3), objective, x0, STEPS)
    expected = torch_path(lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.3, foreach=False), objective, x0,
                          STEPS, lambda o: S.ExponentialLR(o, 0.98))
    np.testing.assert_allclose(run.points, expected, rtol=RTOL, atol=ATOL)


def test_adagrad_lr_decay_on_top_of_a_schedule():
    objective, x0 = OBJECTIVES["quadratic"]
    run = optim.run(optim.adagrad(schedules.step_decay(0.5, 40), lr_decay=0.05), objective, x0, STEPS)
    expected = torch_path(lambda ps: torch.optim.Adagrad(ps, lr=0.5, lr_decay=0.05, foreach=False), objective, x0,
                          STEPS, lambda o: S.StepLR(o, 40))
    np.testing.assert_allclose(run.points, expected, rtol=RTOL, atol=ATOL)


def test_warmup_then_cosine_as_sequential_lr():
    objective, x0 = OBJECTIVES["quadratic"]
    sched = schedules.linear_warmup(schedules.cosine(0.05, 150), 50, start_factor=0.2)
    run = optim.run(optim.adam(sched), objective, x0, STEPS)

    def torch_sched(o):
        warm = S.LinearLR(o, 0.2, total_iters=50)
        cos = S.CosineAnnealingLR(o, 150)
        return S.SequentialLR(o, [warm, cos], milestones=[50])

    expected = torch_path(lambda ps: torch.optim.Adam(ps, lr=0.05, foreach=False), objective, x0, STEPS, torch_sched)
    np.testing.assert_allclose(run.points, expected, rtol=RTOL, atol=ATOL)
