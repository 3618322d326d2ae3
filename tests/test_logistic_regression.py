"""dlbook.logistic_regression: hand gradients against autograd, solutions against PyTorch's
losses and scikit-learn's solver."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression

from dlbook import logistic_regression as lr_mod


@pytest.fixture
def binary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 + rng.normal(0, 1.0, 80) > 0).astype(float)
    return X, y


def test_sigmoid_is_stable_and_matches_torch():
    z = np.array([-800.0, -5.0, 0.0, 3.0, 800.0])
    np.testing.assert_allclose(lr_mod.sigmoid(z), torch.sigmoid(torch.tensor(z)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_loss_and_hand_gradient_match_torch(binary, loss):
    X, y = binary
    w0, b0 = np.array([0.2, -0.1, 0.4]), -0.3
    w = torch.tensor(w0, requires_grad=True)
    b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
    z = torch.tensor(X) @ w + b
    if loss == "cross_entropy":
        value = F.binary_cross_entropy_with_logits(z, torch.tensor(y))
    else:
        value = F.mse_loss(torch.sigmoid(z), torch.tensor(y))
    value.backward()
    assert lr_mod.logistic_loss(w0, b0, X, y, loss) == pytest.approx(value.item(), rel=1e-12)
    gw, gb = lr_mod.logistic_grad(w0, b0, X, y, loss)
    np.testing.assert_allclose(gw, w.grad.numpy(), rtol=1e-10)
    assert gb == pytest.approx(b.grad.item(), rel=1e-10)


def test_gradient_descent_reaches_sklearn_solution(binary):
    X, y = binary
    fit = lr_mod.fit_logistic(X, y, lr=1.0, num_steps=3000)
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(fit.w, sk.coef_[0], atol=1e-5)
    assert fit.b == pytest.approx(sk.intercept_[0], abs=1e-5)
    assert np.all(np.diff(fit.losses) <= 1e-12)


def test_square_error_stalls_far_from_the_target(binary):
    X, y = binary
    w0 = -5 * np.array([1.0, -2.0, 0.5])  # confidently wrong
    ce = lr_mod.fit_logistic(X, y, lr=0.5, num_steps=200, loss="cross_entropy", w0=w0)
    se = lr_mod.fit_logistic(X, y, lr=0.5, num_steps=200, loss="mse", w0=w0)
    assert ce.accuracy(X, y) > 0.8 > se.accuracy(X, y)


def test_softmax_loss_and_gradient_match_torch():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, 30)
    W0, b0 = rng.normal(size=(4, 3)), rng.normal(size=3)
    W = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    value = F.cross_entropy(torch.tensor(X) @ W + b, torch.tensor(y))
    value.backward()
    assert lr_mod.softmax_loss(W0, b0, X, y) == pytest.approx(value.item(), rel=1e-12)
    gW, gb = lr_mod.softmax_grad(W0, b0, X, y)
    np.testing.assert_allclose(gW, W.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gb, b.grad.numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(lr_mod.softmax(X @ W0 + b0), torch.softmax(torch.tensor(X @ W0 + b0), 1).numpy())


def test_softmax_with_two_classes_is_logistic_regression(binary):
    X, y = binary
    W, b, _ = lr_mod.fit_softmax(X, y.astype(int), 2, lr=1.0, num_steps=500)
    fit = lr_mod.fit_logistic(X, y, lr=2.0, num_steps=500)  # the score difference learns twice as fast
    np.testing.assert_allclose(W[:, 1] - W[:, 0], fit.w, rtol=1e-8)


def test_bad_input(binary):
    X, y = binary
    with pytest.raises(ValueError, match="0 or 1"):
        lr_mod.logistic_loss(np.zeros(3), 0.0, X, y + 1)
    with pytest.raises(ValueError, match="loss"):
        lr_mod.logistic_grad(np.zeros(3), 0.0, X, y, "hinge")
    with pytest.raises(ValueError, match=r"\(3,\)"):
        lr_mod.fit_logistic(X, y, 0.1, 10, w0=np.zeros(2))
    with pytest.raises(ValueError, match="class indices"):
        lr_mod.softmax_loss(np.zeros((3, 2)), np.zeros(2), X, np.full(80, 2))
