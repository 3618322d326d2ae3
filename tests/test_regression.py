"""dlbook.regression: closed-form ridge against scikit-learn and PyTorch, on known answers."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from dlbook import regression


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(10, 600, 40)
    y = 1.8 * x + 20 + rng.normal(0, 15, 40)
    return x, y


def test_polynomial_features_are_scaled_powers():
    X = regression.polynomial_features([2.0, 4.0], degree=3, scale=2.0)
    np.testing.assert_array_equal(X, [[1, 1, 1, 1], [1, 2, 4, 8]])


def test_least_squares_matches_torch_lstsq(data):
    x, y = data
    X = regression.polynomial_features(x, 3, scale=600.0)
    theta = regression.fit_ridge(X, y, lam=0.0)
    expected = torch.linalg.lstsq(torch.tensor(X), torch.tensor(y)[:, None]).solution[:, 0].numpy()
    np.testing.assert_allclose(theta, expected, rtol=1e-7, atol=1e-6)


@pytest.mark.parametrize("lam", [1e-4, 1e-2, 1.0])
def test_ridge_matches_sklearn_with_unpenalized_intercept(data, lam):
    # sklearn minimizes ||y - Xw - b||² + α||w||² (a sum) and never penalizes the intercept:
    # our mean-squared objective with λ is the same problem with α = N λ.
    x, y = data
    X = regression.polynomial_features(x, 4, scale=600.0)
    theta = regression.fit_ridge(X, y, lam=lam)
    sk = Ridge(alpha=len(y) * lam, solver="cholesky").fit(X[:, 1:], y)
    np.testing.assert_allclose(theta, np.r_[sk.intercept_, sk.coef_], rtol=1e-6, atol=1e-6)


def test_ridge_solution_zeroes_the_autograd_gradient(data):
    x, y = data
    X = regression.polynomial_features(x, 2, scale=600.0)
    lam = 0.05
    theta = torch.tensor(regression.fit_ridge(X, y, lam=lam), requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    loss = torch.mean((Xt @ theta - yt) ** 2) + lam * (theta[1:] ** 2).sum()
    loss.backward()
    assert theta.grad.abs().max().item() < 1e-8


def test_bias_unpenalized_makes_predictions_shift_with_the_labels(data):
    x, y = data
    m1 = regression.fit_polynomial(x, y, 3, lam=0.1)
    m2 = regression.fit_polynomial(x, y + 100.0, 3, lam=0.1)
    np.testing.assert_allclose(m2.predict(x) - m1.predict(x), 100.0, rtol=1e-9)
    X = regression.polynomial_features(x, 3, m1.scale)
    t1 = regression.fit_ridge(X, y, 0.1, unpenalized=())
    t2 = regression.fit_ridge(X, y + 100.0, 0.1, unpenalized=())
    assert abs(np.mean(X @ t2 - X @ t1) - 100.0) > 1.0  # a penalized bias does not follow


def test_training_error_never_rises_with_the_degree(data):
    x, y = data
    errors = [np.mean((y - regression.fit_polynomial(x, y, d).predict(x)) ** 2) for d in range(1, 6)]
    assert all(b <= a + 1e-9 for a, b in zip(errors, errors[1:]))


def test_errors_and_bad_input():
    assert regression.mean_absolute_error([1, 2], [2, 4]) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="degree"):
        regression.polynomial_features([1.0], -1)
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        regression.fit_ridge(np.ones((5, 2)), np.ones(4))
    with pytest.raises(ValueError, match="lam"):
        regression.fit_ridge(np.ones((5, 2)), np.ones(5), lam=-1)
    with pytest.raises(ValueError, match="one shape"):
        regression.mean_absolute_error([1, 2], [1, 2, 3])


@pytest.mark.parametrize("n,d", [(50, 8), (8, 50)])  # the primal and the dual (N × N) system
def test_fit_ridge_with_several_targets_matches_scikit_learn(n, d):
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(1)
    Z, T = rng.normal(size=(n, d)), rng.normal(size=(n, 3))
    theta = regression.fit_ridge(np.c_[np.ones(n), Z], T, lam=0.7 / n)  # scikit-learn sums the squares
    sk = Ridge(alpha=0.7).fit(Z, T)
    np.testing.assert_allclose(theta[1:], sk.coef_.T, atol=1e-10, rtol=1e-8)
    np.testing.assert_allclose(theta[0], sk.intercept_, atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("n,d", [(40, 4), (6, 30)])
def test_fit_ridge_with_weights_matches_lstsq_and_scikit_learn(n, d):
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(3)
    Z, t, w = rng.normal(size=(n, d)), rng.normal(size=n), rng.uniform(0.1, 1.0, n)
    A = np.c_[np.ones(n), Z]
    if n > d:  # unpenalized: weighted least squares
        theta = regression.fit_ridge(A, t, 0.0, weights=w)
        ref = np.linalg.lstsq(A * np.sqrt(w)[:, None], t * np.sqrt(w), rcond=None)[0]
        np.testing.assert_allclose(theta, ref, atol=1e-10, rtol=1e-10)
    theta = regression.fit_ridge(A, t, 0.5 / n, weights=w)
    sk = Ridge(alpha=0.5).fit(Z, t, sample_weight=w)
    np.testing.assert_allclose(theta[1:], sk.coef_, atol=1e-9, rtol=1e-8)
    assert theta[0] == pytest.approx(sk.intercept_, abs=1e-9)
    with pytest.raises(ValueError, match="weights"):
        regression.fit_ridge(A, t, 0.1, weights=-w)

