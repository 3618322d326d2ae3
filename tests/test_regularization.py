"""dlbook.regularization: penalties against PyTorch's weight decay, early stopping's bookkeeping."""

import pytest
import torch
from torch import nn

from dlbook import regularization as reg


def small_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1))


def test_penalties_cover_weights_not_biases():
    net = small_net()
    weights = [net[0].weight, net[2].weight]
    assert reg.penalized_weights(net) == weights
    assert torch.allclose(reg.l2_penalty(net), sum((w**2).sum() for w in weights))
    assert torch.allclose(reg.l1_penalty(net), sum(w.abs().sum() for w in weights))


def test_l2_penalty_step_equals_sgd_weight_decay():
    # SGD with weight_decay=wd adds wd * w to the gradient: the gradient of (wd / 2) Σ w².
    X, y = torch.randn(20, 5), torch.randn(20)
    wd, lr = 0.1, 0.05
    a, b = small_net(), small_net()
    opt_a = torch.optim.SGD(a.parameters(), lr=lr)
    loss = torch.mean((a(X).squeeze(1) - y) ** 2) + wd / 2 * reg.l2_penalty(a)
    opt_a.zero_grad()
    loss.backward()
    opt_a.step()
    opt_b = torch.optim.SGD([{"params": reg.penalized_weights(b), "weight_decay": wd},
                             {"params": [b[0].bias, b[2].bias], "weight_decay": 0.0}], lr=lr)
    loss = torch.mean((b(X).squeeze(1) - y) ** 2)
    opt_b.zero_grad()
    loss.backward()
    opt_b.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-6, atol=1e-7)


def test_l1_pushes_weights_to_zero():
    torch.manual_seed(0)
    X = torch.randn(40, 5)
    y = 2 * X[:, 0] + torch.randn(40)  # only the first feature matters; noisy labels
    plain, sparse = nn.Linear(5, 1), nn.Linear(5, 1)
    sparse.load_state_dict(plain.state_dict())
    for net, l1 in ((plain, 0.0), (sparse, 0.5)):
        reg.train_regressor(net, X, y, X, y, num_steps=1500, lr=1e-2, l1=l1)
    assert plain.weight[0, 1:].abs().max() > 0.1  # least squares fits the noise
    assert sparse.weight[0, 1:].abs().max() < 0.02  # L1 sets the useless weights (nearly) to 0
    assert sparse.weight[0, 0] > 1.5


def test_early_stopping_remembers_and_restores_the_best():
    net = small_net()
    stopper = reg.EarlyStopping(patience=2)
    assert not stopper.step(1.0, net, 10)
    best = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        net[0].weight.add_(1.0)
    assert not stopper.step(1.5, net, 20)
    assert stopper.step(1.2, net, 30)  # second evaluation without improvement
    stopper.restore(net)
    assert stopper.best_step == 10 and stopper.best_loss == 1.0
    for k, v in net.state_dict().items():
        assert torch.equal(v, best[k])


def test_train_regressor_fits_and_validates_input():
    torch.manual_seed(0)
    X = torch.randn(100, 3)
    y = X @ torch.tensor([1.0, -1.0, 0.5]) + 0.2
    net = nn.Linear(3, 1)
    history = reg.train_regressor(net, X, y, X, y, num_steps=800, lr=3e-2, eval_every=100)
    assert history.train_loss[-1] < 1e-4
    assert history.steps[-1] == 800 and len(history.val_loss) == 8
    with pytest.raises(ValueError, match=r"\(100,\)"):
        reg.train_regressor(net, X, y[:10], X, y, num_steps=1)
    with pytest.raises(ValueError, match="≥ 0"):
        reg.train_regressor(net, X, y, X, y, num_steps=1, l2=-1.0)


def test_label_smoothing_matches_torch():
    import torch.nn.functional as F

    from dlbook import regularization as reg

    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 5, generator=gen, requires_grad=True)
    y = torch.randint(0, 5, (16,), generator=gen)
    for eps in (0.0, 0.1, 0.3, 1.0):
        ours = reg.label_smoothing_cross_entropy(logits, y, eps)
        theirs = F.cross_entropy(logits, y, label_smoothing=eps)
        assert torch.allclose(ours, theirs, atol=1e-6)
        g1, = torch.autograd.grad(ours, logits)
        g2, = torch.autograd.grad(theirs, logits)
        assert torch.allclose(g1, g2, atol=1e-6)
    targets = reg.smooth_labels(y, 5, 0.1)
    assert torch.allclose(targets.sum(1), torch.ones(16)) and torch.isclose(targets.max(), torch.tensor(0.92))


def test_label_smoothing_rejects_bad_input():
    import pytest

    from dlbook import regularization as reg

    with pytest.raises(ValueError, match="eps"):
        reg.smooth_labels(torch.tensor([0, 1]), 3, 1.5)
    with pytest.raises(ValueError, match="class indices"):
        reg.smooth_labels(torch.tensor([0, 3]), 3, 0.1)
    with pytest.raises(ValueError, match="logits"):
        reg.label_smoothing_cross_entropy(torch.randn(3, 4), torch.tensor([0, 1]), 0.1)
