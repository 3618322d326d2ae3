import numpy as np
import pytest
import torch

from dlbook import gradcheck


def rosenbrock_torch(theta):
    a, b, c = theta[0], theta[1], theta[2]
    return (1 - a) ** 2 + 100 * (b - a**2) ** 2 + torch.sin(c) * a


def rosenbrock(theta):
    return float(rosenbrock_torch(torch.tensor(theta, dtype=torch.float64)))


def autograd_gradient(theta):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    rosenbrock_torch(t).backward()
    return t.grad.numpy()


@pytest.mark.parametrize("theta", [[0.3, -0.2, 1.0], [-1.2, 1.0, 0.1], [2.0, 3.5, -2.0]])
def test_central_difference_matches_autograd(theta):
    estimate = gradcheck.numerical_gradient(rosenbrock, np.array(theta), h=1e-6)
    exact = autograd_gradient(theta)
    assert gradcheck.relative_error(estimate, exact) < 1e-8


def test_error_orders_of_forward_and_central_differences():
    """Halving h halves the forward error (O(h)) and quarters the central error (O(h²))."""
    f = np.exp  # f' = exp
    x = np.array([0.5])
    exact = np.exp(0.5)
    err = {s: [abs(gradcheck.numerical_gradient(lambda t: f(t[0]), x, h, s)[0] - exact)
               for h in (1e-2, 5e-3)] for s in ("forward", "central")}
    assert err["forward"][0] / err["forward"][1] == pytest.approx(2.0, rel=0.02)
    assert err["central"][0] / err["central"][1] == pytest.approx(4.0, rel=0.02)


def test_does_not_modify_theta_and_accepts_a_scalar():
    theta = np.array([1.0, 2.0])
    before = theta.copy()
    gradcheck.numerical_gradient(lambda t: float(np.sum(t**2)), theta)
    np.testing.assert_array_equal(theta, before)
    estimate = gradcheck.numerical_gradient(lambda t: float(t[0] ** 3), 2.0)
    np.testing.assert_allclose(estimate, [12.0], rtol=1e-8)


def test_relative_error():
    assert gradcheck.relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert gradcheck.relative_error([1.0, 0.0], [1.0, 1e-6]) == pytest.approx(1e-6, rel=1e-6)
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\)"):
        gradcheck.relative_error(np.zeros(2), np.zeros(3))


@pytest.mark.parametrize("kwargs, match", [({"h": 0.0}, "h must be positive"),
                                           ({"scheme": "backward"}, "scheme"),
                                           ({"theta": np.zeros((2, 2))}, r"\(2, 2\)")])
def test_bad_arguments_raise(kwargs, match):
    args = {"theta": np.zeros(2), **kwargs}
    with pytest.raises(ValueError, match=match):
        gradcheck.numerical_gradient(lambda t: float(np.sum(t)), **args)
    with pytest.raises(ValueError, match="one number"):
        gradcheck.numerical_gradient(lambda t: t, np.zeros(2))
