import math

import numpy as np
import pytest

import lossbook as lb
from lossbook.params import Interval, Param, check_scalar


def test_interval_membership_and_text():
    open_unit = Interval(0, 1, False, False)
    assert 0.5 in open_unit
    assert 0 not in open_unit and 1 not in open_unit
    assert 0 in Interval(0, 1)
    assert math.inf not in Interval(0, math.inf, True, False)
    assert str(open_unit) == "(0, 1)"


def test_check_scalar_messages():
    assert check_scalar("delta", 2) == 2.0
    with pytest.raises(ValueError, match=r"delta must lie in \(0, inf\], got -1"):
        check_scalar("delta", -1, Interval(0, math.inf, False, True))
    with pytest.raises(ValueError, match="lr must be a real number, got nan"):
        check_scalar("lr", float("nan"))
    with pytest.raises(ValueError, match="must be a real number"):
        check_scalar("q", "0.5")
    with pytest.raises(ValueError, match="must be a real number"):
        check_scalar("flag", True)
    with pytest.raises(ValueError, match="steps must be an integer"):
        check_scalar("steps", 2.5, integer=True)


def test_param_grid_linear_log_integer():
    p = Param("delta", 1.0, 0.0, 2.0, step=0.5)
    np.testing.assert_allclose(p.grid(), [0, 0.5, 1, 1.5, 2])
    lr = Param("lr", 0.01, 1e-4, 1.0, scale="log")
    g = lr.grid(5)
    np.testing.assert_allclose(g, [1e-4, 1e-3, 1e-2, 1e-1, 1])
    steps = Param("steps", 10, 0, 50, integer=True)
    assert np.all(steps.grid(7) == np.round(steps.grid(7)))


def test_param_rejects_inconsistent_definitions():
    with pytest.raises(ValueError, match="default 5 outside slider range"):
        Param("x", 5, 0, 1)
    with pytest.raises(ValueError, match="log-scale slider needs low > 0"):
        Param("lr", 0.1, 0, 1, scale="log")


def test_numerical_gradient_is_fourth_order_accurate():
    f = lambda x: float(np.sin(x[0]) * np.exp(x[1]) + x[0] ** 4)
    grad = lambda x: np.array([np.cos(x[0]) * np.exp(x[1]) + 4 * x[0] ** 3, np.sin(x[0]) * np.exp(x[1])])
    x = np.array([0.7, -0.3])
    err = [np.abs(lb.numerical_gradient(f, x, h=h) - grad(x)).max() for h in (1e-2, 5e-3)]
    # Halving h divides a fourth-order error by about 16.
    assert 10 < err[0] / err[1] < 22


def test_check_gradient_catches_a_wrong_gradient():
    f = lambda x: float(np.sum(x**2))
    assert lb.check_gradient(f, lambda x: 2 * x, [1.0, -2.0, 3.0])
    bad = lb.check_gradient(f, lambda x: 2.01 * x, [1.0, -2.0, 3.0])
    assert not bad
    assert "FAILED" in repr(bad)
    with pytest.raises(ValueError, match="grad\\(x\\) has shape"):
        lb.check_gradient(f, lambda x: x[:2], [1.0, 2.0, 3.0])
