import numpy as np
import pytest

from lossbook import data


def test_line_is_reproducible_and_sorted():
    x1, y1 = data.line(n=25, seed=3)
    x2, y2 = data.line(n=25, seed=3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert np.all(np.diff(x1) >= 0)
    assert x1.shape == y1.shape == (25,)


def test_line_recovers_its_parameters_with_many_points():
    x, y = data.line(n=20000, slope=2.0, intercept=-1.0, noise=0.5, seed=1)
    slope, intercept = np.polyfit(x, y, 1)
    assert slope == pytest.approx(2.0, abs=0.02)
    assert intercept == pytest.approx(-1.0, abs=0.05)


def test_outliers_are_marked_and_shifted():
    x, y, out = data.line_with_outliers(n=30, n_outliers=4, shift=5.0, seed=2)
    x0, y0 = data.line(n=30, seed=2)
    assert out.sum() == 4
    np.testing.assert_allclose(y[out] - y0[out], 5.0)
    np.testing.assert_array_equal(y[~out], y0[~out])


def test_blobs_minority_fraction():
    X, y = data.blobs(n=5000, positive_fraction=0.1, seed=0)
    assert X.shape == (5000, 2)
    assert set(np.unique(y)) == {0.0, 1.0}
    assert y.mean() == pytest.approx(0.1, abs=0.02)


def test_counts_are_nonnegative_integers():
    x, y = data.counts(n=100, seed=0)
    assert np.all(y >= 0) and np.all(y == np.round(y))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.line(n=0), "n must lie in"),
        (lambda: data.line(n=2.5), "n must be an integer"),
        (lambda: data.line(noise=-1), "noise must lie in"),
        (lambda: data.line(x_range=(2, 1)), "x_range must be increasing"),
        (lambda: data.blobs(positive_fraction=1.5), "positive_fraction must lie in"),
        (lambda: data.line_with_outliers(n=10, n_outliers=11), "n_outliers must lie in"),
    ],
)
def test_bad_arguments_name_themselves(call, message):
    with pytest.raises(ValueError, match=message):
        call()
