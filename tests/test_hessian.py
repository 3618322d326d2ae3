"""dlbook.hessian against PyTorch and known answers: the Hessian by hand, by torch.func, by
Hessian-vector products, and its extreme eigenvalues by Lanczos against a dense eigensolver."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlbook import hessian


@pytest.fixture(autouse=True)
def float64_one_thread():
    """Float64 for tight tolerances; one thread, because these tensors are tiny and thread
    synchronization would cost more than the arithmetic (a lot more on a busy machine)."""
    old_dtype, old_threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(old_dtype)
    torch.set_num_threads(old_threads)


def small_problem(seed=0, hidden=5):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(6, hidden), torch.nn.Tanh(),
                              torch.nn.Linear(hidden, 3))
    X = torch.randn(40, 6)
    y = torch.randint(0, 3, (40,))
    return net, X, y


def test_flat_loss_equals_the_modules_loss_and_leaves_it_unchanged():
    net, X, y = small_problem()
    loss_at, theta = hessian.flat_loss(net, F.cross_entropy, X, y)
    assert theta.shape == (sum(p.numel() for p in net.parameters()),)
    assert loss_at(theta).item() == pytest.approx(F.cross_entropy(net(X), y).item(), rel=1e-14)
    shifted = loss_at(theta + 0.1)
    assert shifted.item() != pytest.approx(loss_at(theta).item())
    assert torch.equal(torch.cat([p.detach().reshape(-1) for p in net.parameters()]), theta)
    with pytest.raises(ValueError, match=r"shape \(53,\)"):
        loss_at(theta[:-1])


def test_notes_example_hessian_by_hand_and_by_torch():
    """L(w1, w2) = (1 - w1 w2)^2 (y = w1 w2 x, x = 1, label 1): H(0) = [[0, -2], [-2, 0]]."""
    def loss_at(w):
        return (1 - w[0] * w[1] * 1.0) ** 2

    origin = torch.zeros(2)
    H = hessian.hessian_dense(loss_at, origin)
    torch.testing.assert_close(H, torch.tensor([[0.0, -2.0], [-2.0, 0.0]]), rtol=0, atol=1e-15)
    torch.testing.assert_close(hessian.hessian_by_hvp(loss_at, origin), H, rtol=0, atol=1e-15)
    lam, U = np.linalg.eigh(H.numpy())
    np.testing.assert_allclose(lam, [-2.0, 2.0], atol=1e-14)
    np.testing.assert_allclose(np.abs(U[:, 0]), [2**-0.5, 2**-0.5], atol=1e-14)
    assert hessian.classify_critical_point(lam) == "saddle point"
    assert hessian.minimum_ratio(lam) == 0.5
    # a point of the valley w1 w2 = 1: H = 2 [w2, w1]^T [w2, w1], one zero eigenvalue
    w = torch.tensor([2.0, 0.5])
    H_valley = hessian.hessian_dense(loss_at, w)
    torch.testing.assert_close(H_valley, 2 * torch.outer(w.flip(0), w.flip(0)))
    lam_valley = np.linalg.eigvalsh(H_valley.numpy())
    assert hessian.classify_critical_point(lam_valley, tol=1e-12) == "undecided"


def test_dense_hessian_equals_hvp_columns_on_a_network():
    net, X, y = small_problem()
    loss_at, theta = hessian.flat_loss(net, F.cross_entropy, X, y)
    H = hessian.hessian_dense(loss_at, theta)
    assert H.shape == (53, 53)
    torch.testing.assert_close(hessian.hessian_by_hvp(loss_at, theta), H, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(H, H.T, rtol=0, atol=1e-12)
    v = torch.randn(53)
    torch.testing.assert_close(hessian.hvp(loss_at, theta, v), H @ v, rtol=1e-10, atol=1e-12)
    _, torch_hv = torch.func.jvp(torch.func.grad(loss_at), (theta,), (v,))
    torch.testing.assert_close(hessian.hvp(loss_at, theta, v), torch_hv, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_lanczos_extreme_eigenvalues_agree_with_the_dense_ones(seed):
    net, X, y = small_problem(seed, hidden=8)
    loss_at, theta = hessian.flat_loss(net, F.cross_entropy, X, y)
    dense = np.linalg.eigvalsh(hessian.hessian_dense(loss_at, theta).numpy())
    found = hessian.hessian_eigen(loss_at, theta, k=3, tol=1e-12)
    np.testing.assert_allclose(found["largest"], dense[-3:], rtol=1e-6)
    np.testing.assert_allclose(found["smallest"], dense[:3], rtol=1e-6)
    assert found["num_hvp"] > 0
    only_top = hessian.hessian_eigen(loss_at, theta, which="largest")
    assert set(only_top) == {"largest", "num_hvp"}
    np.testing.assert_allclose(only_top["largest"], dense[-1:], rtol=1e-6)


def test_quadratic_model_is_exact_for_a_quadratic_and_second_order_otherwise():
    A = np.array([[3.0, 1.0], [1.0, -2.0]])
    b = np.array([0.5, -1.0])

    def quad(w):
        return 0.5 * w @ torch.tensor(A) @ w + torch.tensor(b) @ w + 4.0

    w0 = torch.tensor([0.3, -0.7])
    g = torch.func.grad(quad)(w0)
    H = hessian.hessian_dense(quad, w0)
    model = hessian.quadratic_model(quad(w0).item(), g.numpy(), H.numpy(), w0.numpy())
    grid = np.random.default_rng(0).normal(size=(5, 4, 2))
    exact = np.array([[quad(torch.tensor(p)).item() for p in row] for row in grid])
    np.testing.assert_allclose(model(grid), exact, rtol=1e-12)

    def cubic(w):
        return torch.sin(w[0]) * torch.exp(w[1])

    g = torch.func.grad(cubic)(w0)
    H = hessian.hessian_dense(cubic, w0)
    model = hessian.quadratic_model(cubic(w0).item(), g.numpy(), H.numpy(), w0.numpy())
    errors = []
    for r in (1e-1, 1e-2):
        p = w0 + r * torch.tensor([0.6, 0.8])
        errors.append(abs(model(p.numpy()) - cubic(p).item()))
    assert 500 < errors[0] / errors[1] < 2000  # the error shrinks like r^3


def test_classification_and_ratio():
    assert hessian.classify_critical_point([1.0, 2.0]) == "local minimum"
    assert hessian.classify_critical_point([-1.0, -2.0]) == "local maximum"
    assert hessian.classify_critical_point([-1.0, 2.0]) == "saddle point"
    assert hessian.classify_critical_point([0.0, 2.0]) == "undecided"
    assert hessian.minimum_ratio([1.0, -1.0, 2.0, 3.0]) == 0.75


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="1-D"):
        hessian.hessian_dense(lambda w: w.sum(), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="floating"):
        hessian.hvp_operator(lambda w: w.sum(), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="shape"):
        hessian.hvp(lambda w: (w**2).sum(), torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="which"):
        hessian.hessian_eigen(lambda w: (w**2).sum(), torch.zeros(3), which="middle")
    with pytest.raises(ValueError, match="k must be"):
        hessian.hessian_eigen(lambda w: (w**2).sum(), torch.zeros(3), k=3)
    with pytest.raises(ValueError, match="non-empty"):
        hessian.minimum_ratio([])
    with pytest.raises(ValueError, match="tol"):
        hessian.classify_critical_point([1.0], tol=-1)
    with pytest.raises(ValueError, match=r"\(P, P\)"):
        hessian.quadratic_model(0.0, np.zeros(2), np.zeros((3, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="first dimension"):
        hessian.flat_loss(torch.nn.Linear(2, 1), F.mse_loss, torch.zeros(3, 2), torch.zeros(4, 1))
