"""lossbook.optim.schedules against torch.optim.lr_scheduler (and Keras for inverse-time decay)."""
import math
import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported anywhere

import numpy as np
import pytest

try:
    import keras
    import torch
    from torch.optim import lr_scheduler as S
except ImportError as err:  # a missing reference is a failure, never a skip
    raise ImportError(
        "the reference tests need torch and keras: /work/main/.venv/bin/pip install -r requirements-test.txt"
    ) from err

from lossbook.optim import schedules

LR = 0.1


def torch_lrs(make_scheduler, steps, lr=LR):
    """``get_last_lr()`` before each of ``steps`` updates, the scheduler stepped after each."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    sched = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return np.array(out)


# (id, our schedule, torch's scheduler, number of steps compared)
CASES = [
    ("step_decay", schedules.step_decay(LR, 7, gamma=0.5), lambda o: S.StepLR(o, 7, gamma=0.5), 120),
    ("step_decay-default", schedules.step_decay(LR, 30), lambda o: S.StepLR(o, 30), 150),
    ("exponential", schedules.exponential(LR, 0.97), lambda o: S.ExponentialLR(o, 0.97), 150),
    ("constant", schedules.constant(LR), lambda o: S.LambdaLR(o, lambda k: 1.0), 100),
    ("cosine", schedules.cosine(LR, 120, min_lr=0.004), lambda o: S.CosineAnnealingLR(o, 120, eta_min=0.004), 121),
    ("cosine-to-zero", schedules.cosine(LR, 100), lambda o: S.CosineAnnealingLR(o, 100), 101),
    ("restarts", schedules.cosine_restarts(LR, 15), lambda o: S.CosineAnnealingWarmRestarts(o, 15), 130),
    ("restarts-mult", schedules.cosine_restarts(LR, 10, period_mult=2, min_lr=0.01),
     lambda o: S.CosineAnnealingWarmRestarts(o, 10, T_mult=2, eta_min=0.01), 200),
    ("restarts-mult3", schedules.cosine_restarts(LR, 4, period_mult=3),
     lambda o: S.CosineAnnealingWarmRestarts(o, 4, T_mult=3), 170),
    ("linear_warmup", schedules.linear_warmup(LR, 40, start_factor=0.05),
     lambda o: S.LinearLR(o, 0.05, total_iters=40), 110),
    ("linear_warmup-default", schedules.linear_warmup(LR, 5), lambda o: S.LinearLR(o), 100),
    ("warmup-then-cosine", schedules.linear_warmup(schedules.cosine(LR, 80), 20, start_factor=0.1),
     lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=20), S.CosineAnnealingLR(o, 80)], [20]), 101),
    ("one_cycle", schedules.one_cycle(LR, 120), lambda o: S.OneCycleLR(o, LR, 120, cycle_momentum=False), 120),
    ("one_cycle-linear", schedules.one_cycle(LR, 150, pct_start=0.25, div_factor=10.0, final_div_factor=100.0,
                                             anneal="linear"),
     lambda o: S.OneCycleLR(o, LR, 150, pct_start=0.25, div_factor=10.0, final_div_factor=100.0,
                            anneal_strategy="linear", cycle_momentum=False), 150),
]


@pytest.mark.parametrize("ours,theirs,steps", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_values_as_torch(ours, theirs, steps):
    assert steps >= 100
    expected = torch_lrs(theirs, steps)
    got = ours(np.arange(steps))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert [ours(k) for k in range(steps)] == pytest.approx(list(expected), rel=1e-12, abs=1e-15)


def test_every_schedule_is_compared():
    compared = {c[1].name for c in CASES} | {"inverse_time"}
    assert compared == set(schedules.SCHEDULES)


def test_inverse_time_as_keras():
    steps = np.arange(150)
    for rate, every in [(0.5, 1), (0.1, 10), (2.0, 7)]:
        ref = keras.optimizers.schedules.InverseTimeDecay(LR, every, rate)
        expected = np.array([float(ref(int(k))) for k in steps])
        np.testing.assert_allclose(schedules.inverse_time(LR, rate, every)(steps), expected, rtol=1e-6)  # Keras is float32


def test_inverse_time_is_adagrad_lr_decay():
    # torch's Adagrad divides lr by 1 + (t - 1) lr_decay at its t-th step, t from 1
    s = schedules.inverse_time(0.3, 0.02)
    assert [s(k) for k in range(5)] == pytest.approx([0.3 / (1 + k * 0.02) for k in range(5)], rel=1e-15)


def test_schedules_past_their_end():
    assert schedules.cosine(LR, 10, min_lr=0.01)(np.array([10, 11, 500])) == pytest.approx([0.01] * 3)
    oc = schedules.one_cycle(LR, 50)
    assert oc(49) == pytest.approx(LR / 25 / 1e4)
    assert oc(60) == oc(49)
    assert schedules.linear_warmup(LR, 10)(10) == LR


# -- vectorised calls ---------------------------------------------------------


ALL = [c[1] for c in CASES] + [schedules.inverse_time(LR, 0.3, 4)]


@pytest.mark.parametrize("schedule", ALL, ids=repr)
def test_vectorised_call_equals_scalar_calls(schedule):
    k = np.arange(400)
    values = schedule(k)
    assert isinstance(values, np.ndarray) and values.shape == (400,) and values.dtype == np.float64
    scalars = [schedule(int(i)) for i in k]
    assert all(type(v) is float for v in scalars)
    np.testing.assert_allclose(values, scalars, rtol=1e-14, atol=0)  # numpy's SIMD pow may differ in the last bit
    grid = k.reshape(20, 20)[:, ::-1]
    assert np.array_equal(schedule(grid), values[grid])
    assert schedule(np.int64(7)) == scalars[7] and schedule(7.0) == scalars[7]
    assert np.all(values >= 0)


def test_a_plain_function_inside_a_warmup():
    s = schedules.linear_warmup(lambda k: 0.1 / (1 + k), 4, start_factor=0.5)
    assert list(s(np.arange(7))) == pytest.approx([0.05, 0.0625, 0.075, 0.0875, 0.1, 0.05, 0.1 / 3])


# -- repr ----------------------------------------------------------------------


def test_repr_shows_the_call():
    assert repr(schedules.step_decay(0.1, 30)) == "step_decay(lr=0.1, step_size=30, gamma=0.1)"
    assert repr(schedules.cosine(0.5, 100)) == "cosine(lr=0.5, total_steps=100, min_lr=0.0)"
    assert (repr(schedules.linear_warmup(schedules.exponential(0.1, 0.9), 5, start_factor=0.5))
            == "linear_warmup(schedule_or_lr=exponential(lr=0.1, gamma=0.9), warmup_steps=5, start_factor=0.5)")
    assert repr(schedules.linear_warmup(0.2, 3, 0.5)) == "linear_warmup(schedule_or_lr=0.2, warmup_steps=3, start_factor=0.5)"


# -- validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: schedules.constant(0.0), "lr must lie in"),
        (lambda: schedules.constant(-1), "lr must lie in"),
        (lambda: schedules.constant(math.nan), "lr must be a real number"),
        (lambda: schedules.constant("0.1"), "lr must be a real number"),
        (lambda: schedules.step_decay(0.1, 0), "step_size must lie in"),
        (lambda: schedules.step_decay(0.1, 2.5), "step_size must be an integer"),
        (lambda: schedules.step_decay(0.1, 10, gamma=0.0), "gamma must lie in"),
        (lambda: schedules.exponential(0.1, 1.5), "gamma must lie in"),
        (lambda: schedules.inverse_time(0.1, -0.1), "decay_rate must lie in"),
        (lambda: schedules.inverse_time(0.1, 0.1, decay_steps=0), "decay_steps must lie in"),
        (lambda: schedules.cosine(0.1, 0), "total_steps must lie in"),
        (lambda: schedules.cosine(0.1, 10, min_lr=0.2), "min_lr must lie in"),
        (lambda: schedules.cosine(0.1, 10, min_lr=-0.01), "min_lr must lie in"),
        (lambda: schedules.cosine_restarts(0.1, 0), "period must lie in"),
        (lambda: schedules.cosine_restarts(0.1, 10, period_mult=1.5), "period_mult must be an integer"),
        (lambda: schedules.cosine_restarts(0.1, 10, period_mult=0), "period_mult must lie in"),
        (lambda: schedules.linear_warmup(0.0, 10), "schedule_or_lr must lie in"),
        (lambda: schedules.linear_warmup(0.1, -1), "warmup_steps must lie in"),
        (lambda: schedules.linear_warmup(0.1, 5, start_factor=1.5), "start_factor must lie in"),
        (lambda: schedules.one_cycle(0.1, 1), "total_steps must lie in"),
        (lambda: schedules.one_cycle(0.1, 100, pct_start=1.0), "pct_start must lie in"),
        (lambda: schedules.one_cycle(0.1, 100, pct_start=0.005), "pct_start \\* total_steps must exceed 1"),
        (lambda: schedules.one_cycle(0.1, 100, div_factor=0), "div_factor must lie in"),
        (lambda: schedules.one_cycle(0.1, 100, final_div_factor=-1), "final_div_factor must lie in"),
        (lambda: schedules.one_cycle(0.1, 100, anneal="exp"), "anneal must be 'cos' or 'linear'"),
    ],
)
def test_bad_arguments_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("step,match", [(-1, "non-negative"), (1.5, "integers"), (True, "non-negative integer"),
                                         (np.array([0, -2]), "non-negative"), ("3", "non-negative integer"),
                                         (np.nan, "integers")])
def test_bad_steps(step, match):
    with pytest.raises(ValueError, match=match):
        schedules.cosine(0.1, 10)(step)
