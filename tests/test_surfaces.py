import numpy as np
import pytest
import torch

from dlbook import optim, surfaces


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 2, 50)
    y = 0.7 * x + 0.3 + rng.normal(0, 0.1, 50)
    return x, y


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_grid_evaluation_equals_a_naive_loop(xy, loss):
    x, y = xy
    w_values, b_values = np.linspace(-1, 2, 7), np.linspace(-0.5, 1, 5)
    W, B, L = surfaces.loss_surface(lambda W, B: surfaces.linear_model_loss(W, B, x, y, loss),
                                    w_values, b_values)
    assert L.shape == (5, 7)
    for i, b in enumerate(b_values):
        for j, w in enumerate(w_values):
            err = y - (b + w * x)
            expected = np.mean(err**2) if loss == "mse" else np.mean(np.abs(err))
            assert L[i, j] == pytest.approx(expected, rel=1e-12)
            assert (W[i, j], B[i, j]) == (w, b)


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_hand_gradient_matches_autograd(xy, loss):
    x, y = xy
    w = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-0.1, dtype=torch.float64, requires_grad=True)
    err = b + w * torch.tensor(x) - torch.tensor(y)
    value = (err**2).mean() if loss == "mse" else err.abs().mean()
    value.backward()
    expected = np.array([w.grad.item(), b.grad.item()])
    np.testing.assert_allclose(surfaces.linear_model_grad(0.2, -0.1, x, y, loss), expected, rtol=1e-12)


def test_bad_shapes_raise_value_errors():
    with pytest.raises(ValueError, match="same length"):
        surfaces.linear_model_loss(1.0, 0.0, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="loss must be"):
        surfaces.linear_model_loss(1.0, 0.0, np.zeros(3), np.zeros(3), "huber")
    with pytest.raises(ValueError, match="at least 2"):
        surfaces.loss_surface(lambda W, B: W, [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="grid's"):
        surfaces.loss_surface(lambda W, B: W.ravel(), [1.0, 2.0], [1.0, 2.0])


# ---------------------------------------------------------------- chapter 3: the Hessian

@pytest.mark.parametrize("bias", [True, False])
def test_linear_model_hessian_matches_autograd(bias):
    rng = np.random.default_rng(2)
    X = rng.normal(3.0, 2.0, size=(40, 3))
    y = rng.normal(size=40)
    H = surfaces.linear_model_hessian(X, bias=bias)
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def mse(theta):
        y_hat = Xt @ theta[:3] + (theta[3] if bias else 0.0)
        return torch.mean((y_hat - yt) ** 2)

    start = torch.zeros(4 if bias else 3, dtype=torch.float64)
    expected = torch.autograd.functional.hessian(mse, start)
    np.testing.assert_allclose(H, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_linear_model_hessian_sets_the_learning_rate_threshold():
    """GD on an MSE converges just below 2/λ_max and diverges just above it."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 5, 30)
    y = 1.5 * x - 2 + rng.normal(0, 0.3, 30)
    lam_max = np.linalg.eigvalsh(surfaces.linear_model_hessian(x)).max()

    def grad(th):
        return surfaces.linear_model_grad(th[0], th[1], x, y)

    ok = optim.gradient_descent(grad, [0.0, 0.0], lr=0.98 * 2 / lam_max, num_steps=5000)
    bad = optim.gradient_descent(grad, [0.0, 0.0], lr=1.02 * 2 / lam_max, num_steps=5000)
    exact = np.linalg.lstsq(np.c_[x, np.ones_like(x)], y, rcond=None)[0]
    np.testing.assert_allclose(ok.final, exact, atol=1e-6)
    assert bad.stopped == "diverged" or np.linalg.norm(bad.final - exact) > 1e3


def test_linear_model_hessian_of_one_feature_and_bad_shapes():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(surfaces.linear_model_hessian(x),
                               2 * np.array([[14 / 3, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match=r"\(2, 2, 2\)"):
        surfaces.linear_model_hessian(np.zeros((2, 2, 2)))
