"""Every optimizer of dlbook.optim against torch.optim, step by step on the same problem, and the
gradient clipping functions against torch.nn.utils."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlbook import optim, surfaces

RTOL = 1e-6  # relative agreement asked of every parameter after every step (float64)


@pytest.fixture(autouse=True)
def float64_one_thread():
    old_dtype, old_threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # tiny tensors: threads would only add synchronization
    yield
    torch.set_default_dtype(old_dtype)
    torch.set_num_threads(old_threads)


PAIRS = {
    "sgd": (lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "momentum": (lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
                 lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "nesterov": (lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                 lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    "adagrad": (lambda p: optim.Adagrad(p, lr=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1)),
    "adagrad_decay": (lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.05, eps=1e-6),
                      lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.05, eps=1e-6)),
    "rmsprop": (lambda p: optim.RMSprop(p, lr=0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
    "rmsprop_fast": (lambda p: optim.RMSprop(p, lr=0.003, alpha=0.9, eps=1e-6),
                     lambda p: torch.optim.RMSprop(p, lr=0.003, alpha=0.9, eps=1e-6)),
    "adadelta": (lambda p: optim.Adadelta(p), lambda p: torch.optim.Adadelta(p)),
    "adam": (lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam_betas": (lambda p: optim.Adam(p, lr=0.003, betas=(0.5, 0.9), eps=1e-6),
                   lambda p: torch.optim.Adam(p, lr=0.003, betas=(0.5, 0.9), eps=1e-6)),
}


def problem(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    X = torch.randn(50, 4)
    y = torch.randint(0, 3, (50,))
    return net, X, y


@pytest.mark.parametrize("name", list(PAIRS))
def test_matches_torch_optim_step_by_step(name):
    ours_cls, torch_cls = PAIRS[name]
    net, X, y = problem()
    twin = copy.deepcopy(net)
    ours, theirs = ours_cls(net.parameters()), torch_cls(twin.parameters())
    gen = torch.Generator().manual_seed(1)
    for step in range(60):
        idx = torch.randint(0, 50, (10,), generator=gen)  # the same mini-batch for both
        for model, opt in ((net, ours), (twin, theirs)):
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
        for a, b in zip(net.parameters(), twin.parameters()):
            torch.testing.assert_close(a, b, rtol=RTOL, atol=1e-12, msg=f"{name}, step {step}")
    moved = [not torch.equal(a, b) for a, b in zip(net.parameters(), problem()[0].parameters())]
    assert all(moved)


@pytest.mark.parametrize("name", ["momentum", "adam", "rmsprop"])
def test_follows_a_torch_scheduler_like_torch(name):
    ours_cls, torch_cls = PAIRS[name]
    net, X, y = problem(2)
    twin = copy.deepcopy(net)
    pairs = []
    for model, make in ((net, ours_cls), (twin, torch_cls)):
        opt = make(model.parameters())
        pairs.append((model, opt, torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)))
    for _ in range(20):
        for model, opt, sched in pairs:
            opt.zero_grad()
            F.cross_entropy(model(X), y).backward()
            opt.step()
            sched.step()
    for a, b in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=RTOL, atol=1e-12)


def test_momentum_is_the_notes_movement_form():
    """m <- lam m - lr g, theta <- theta + m (the notes) walks the same path as v <- lam v + g."""
    def loss_fn(w):
        return (w[0] ** 2 - 1) ** 2 + 3 * w[1] ** 2

    path = optim.optimize_path(lambda p: optim.SGD(p, lr=0.02, momentum=0.8), loss_fn,
                               [0.2, 1.0], 40).params
    theta, m, by_hand = np.array([0.2, 1.0]), np.zeros(2), [np.array([0.2, 1.0])]
    for _ in range(40):
        g = np.array([4 * theta[0] * (theta[0] ** 2 - 1), 6 * theta[1]])
        m = 0.8 * m - 0.02 * g
        theta = theta + m
        by_hand.append(theta)
    np.testing.assert_allclose(path, np.array(by_hand), rtol=1e-12, atol=1e-14)


def test_optimize_path_records_and_detects_divergence():
    def loss_fn(w):
        return 0.5 * (w**2).sum()

    run = optim.optimize_path(lambda p: torch.optim.SGD(p, lr=0.5), loss_fn, [1.0, -2.0], 3)
    np.testing.assert_allclose(run.params, [[1, -2], [0.5, -1], [0.25, -0.5], [0.125, -0.25]])
    np.testing.assert_allclose(run.losses, 0.5 * (run.params**2).sum(axis=1))
    assert run.stopped == "max_steps"
    lrs = []
    optim.optimize_path(lambda p: optim.SGD(p, lr=1.0), loss_fn, [1.0], 4,
                        lr_at=lambda t: lrs.append(0.1 * (t + 1)) or lrs[-1])
    assert lrs == pytest.approx([0.1, 0.2, 0.3, 0.4])
    blown = optim.optimize_path(lambda p: optim.SGD(p, lr=1e200), lambda w: (w**4).sum(),
                                [10.0], 50)
    assert blown.stopped == "diverged" and blown.num_steps < 50


def grads_of(seed):
    torch.manual_seed(seed)
    params = [torch.randn(3, 4, requires_grad=True), torch.randn(5, requires_grad=True)]
    for p in params:
        p.grad = torch.randn_like(p) * 3
    return params


@pytest.mark.parametrize("max_norm", [0.5, 2.0, 1e3])
def test_clip_grad_norm_matches_torch(max_norm):
    ours, theirs = grads_of(0), grads_of(0)
    n1 = optim.clip_grad_norm_(ours, max_norm)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    torch.testing.assert_close(n1, n2, rtol=1e-12, atol=0)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-12, atol=0)
    after = torch.sqrt(sum((p.grad**2).sum() for p in ours))
    assert after.item() <= max_norm * (1 + 1e-12) or max_norm > n1.item()


def test_clip_grad_value_matches_torch():
    ours, theirs = grads_of(1), grads_of(1)
    optim.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for a, b in zip(ours, theirs):
        assert torch.equal(a.grad, b.grad)
        assert a.grad.abs().max() <= 1.5


@pytest.mark.parametrize("make, match", [
    (lambda p: optim.SGD(p, lr=0.0), "lr"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=1.0), "momentum"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.Adagrad(p, eps=-1.0), "eps"),
    (lambda p: optim.RMSprop(p, alpha=1.5), "alpha"),
    (lambda p: optim.Adadelta(p, eps=0.0), "eps"),
    (lambda p: optim.Adam(p, betas=(0.9,)), "betas"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "beta2"),
    (lambda p: optim.Adam(p, lr="fast"), "lr"),
])
def test_bad_hyperparameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make([torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="max_norm"):
        optim.clip_grad_norm_([torch.zeros(2, requires_grad=True)], 0.0)


# ---------------------------------------------------------------- gradient descent on NumPy parameters

@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 2, 50)
    y = 0.7 * x + 0.3 + rng.normal(0, 0.1, 50)
    return x, y


def test_gradient_descent_converges_to_least_squares(xy):
    x, y = xy
    A = np.c_[x, np.ones_like(x)]
    exact = np.linalg.lstsq(A, y, rcond=None)[0]
    run = optim.gradient_descent(lambda th: surfaces.linear_model_grad(th[0], th[1], x, y),
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

    run = optim.gradient_descent(grad, np.zeros(4), lr=0.1, num_steps=3000, loss_fn=loss)
    np.testing.assert_allclose(run.final, exact, atol=1e-8)
    assert run.params.shape == (run.num_steps + 1, 4)
    assert np.all(np.diff(run.losses) <= 1e-15)  # small enough steps never increase an MSE


def test_gradient_descent_records_path_and_detects_divergence():
    run = optim.gradient_descent(lambda t: 2 * t, 1.0, lr=0.25, num_steps=3)
    np.testing.assert_allclose(run.params[:, 0], [1.0, 0.5, 0.25, 0.125])
    assert run.stopped == "max_steps"
    blowup = optim.gradient_descent(lambda t: 2 * t, 1.0, lr=1.5, num_steps=5000)
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
        optim.gradient_descent(lambda t: t, [1.0], **args)


def test_gradient_descent_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match="expected"):
        optim.gradient_descent(lambda t: np.zeros(3), [1.0, 2.0], lr=0.1, num_steps=1)


# ---------------------------------------------------------------- gradient descent: stopping rules

def test_gradient_descent_stops_on_small_loss_change():
    # L(t) = t² with η = 0.25 halves t at every update; the loss falls by 3/4 of its value each
    # time, so the change drops below 1e-3 after a few updates and the run must stop right there.
    run = optim.gradient_descent(lambda t: 2 * t, 1.0, lr=0.25, num_steps=100,
                                 loss_fn=lambda t: float(t[0] ** 2), loss_tol=1e-3)
    assert run.stopped == "small_loss_change"
    changes = np.abs(np.diff(run.losses))
    assert changes[-1] <= 1e-3 and np.all(changes[:-1] > 1e-3)
    np.testing.assert_allclose(run.params[:, 0], 0.5 ** np.arange(run.num_steps + 1))


def test_loss_tol_needs_a_loss_and_must_be_non_negative():
    with pytest.raises(ValueError, match="needs loss_fn"):
        optim.gradient_descent(lambda t: t, [1.0], lr=0.1, num_steps=3, loss_tol=1e-3)
    with pytest.raises(ValueError, match="loss_tol"):
        optim.gradient_descent(lambda t: t, [1.0], lr=0.1, num_steps=3, loss_tol=-1.0,
                               loss_fn=lambda t: 0.0)
