import numpy as np
import pytest
import torch

from dlbook import surfaces


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


def test_gradient_descent_converges_to_least_squares(xy):
    x, y = xy
    A = np.c_[x, np.ones_like(x)]
    exact = np.linalg.lstsq(A, y, rcond=None)[0]
    run = surfaces.gradient_descent(lambda th: surfaces.linear_model_grad(th[0], th[1], x, y),
                                    [0.0, 0.0], lr=0.2, num_steps=5000, tol=1e-12)
    np.testing.assert_allclose(run.final, exact, atol=1e-8)
    assert run.stopped == "small_gradient"


def test_gradient_descent_multivariate_least_squares():
    rng = np.random.default_rng(1)
    A = np.c_[rng.normal(size=(100, 3)), np.ones(100)]
    y = A @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.normal(0, 0.05, 100)
    exact = np.linalg.lstsq(A, y, rcond=None)[0]

    def grad(theta):
        return 2 / len(y) * A.T @ (A @ theta - y)

    def loss(theta):
        return np.mean((A @ theta - y) ** 2)

    run = surfaces.gradient_descent(grad, np.zeros(4), lr=0.1, num_steps=3000, loss_fn=loss)
    np.testing.assert_allclose(run.final, exact, atol=1e-8)
    assert run.params.shape == (run.num_steps + 1, 4)
    assert np.all(np.diff(run.losses) <= 1e-15)  # small enough steps never increase an MSE


def test_gradient_descent_records_path_and_detects_divergence():
    run = surfaces.gradient_descent(lambda t: 2 * t, 1.0, lr=0.25, num_steps=3)
    np.testing.assert_allclose(run.params[:, 0], [1.0, 0.5, 0.25, 0.125])
    assert run.stopped == "max_steps"
    blowup = surfaces.gradient_descent(lambda t: 2 * t, 1.0, lr=1.5, num_steps=5000)
    assert blowup.stopped == "diverged"
    assert blowup.num_steps < 5000


@pytest.mark.parametrize(
    "kwargs, match",
    [({"lr": 0.0}, "lr"), ({"num_steps": -1}, "num_steps"), ({"tol": -1.0}, "tol"),
     ({"num_steps": 2.5}, "num_steps")],
)
def test_gradient_descent_rejects_bad_arguments(kwargs, match):
    args = {"lr": 0.1, "num_steps": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        surfaces.gradient_descent(lambda t: t, [1.0], **args)


def test_bad_shapes_raise_value_errors():
    with pytest.raises(ValueError, match="same length"):
        surfaces.linear_model_loss(1.0, 0.0, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="loss must be"):
        surfaces.linear_model_loss(1.0, 0.0, np.zeros(3), np.zeros(3), "huber")
    with pytest.raises(ValueError, match="at least 2"):
        surfaces.loss_surface(lambda W, B: W, [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="grid's"):
        surfaces.loss_surface(lambda W, B: W.ravel(), [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="expected"):
        surfaces.gradient_descent(lambda t: np.zeros(3), [1.0, 2.0], lr=0.1, num_steps=1)
