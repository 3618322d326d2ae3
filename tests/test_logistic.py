import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlbook import logistic


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    y = (x + rng.normal(0, 0.8, 60) > 0.2).astype(np.float64)
    return x, y


def test_sigmoid_matches_torch_and_does_not_overflow():
    z = np.array([-1000.0, -30.0, -1.0, 0.0, 2.5, 40.0, 1000.0])
    expected = torch.sigmoid(torch.tensor(z)).numpy()
    np.testing.assert_allclose(logistic.sigmoid(z), expected, rtol=1e-15, atol=0)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        logistic.sigmoid(z)


@pytest.mark.parametrize("w, b", [(0.7, -0.2), (-8.0, 6.0), (25.0, 30.0)])
def test_losses_match_torch(xy, w, b):
    x, y = xy
    z = torch.tensor(w * x + b)
    ce = F.binary_cross_entropy_with_logits(z, torch.tensor(y)).item()
    mse = F.mse_loss(torch.sigmoid(z), torch.tensor(y)).item()
    assert logistic.logistic_unit_loss(w, b, x, y, "cross_entropy") == pytest.approx(ce, rel=1e-12)
    assert logistic.logistic_unit_loss(w, b, x, y, "mse") == pytest.approx(mse, rel=1e-12)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("w, b", [(0.7, -0.2), (-8.0, 6.0), (3.0, 1.0)])
def test_hand_gradient_matches_autograd(xy, loss, w, b):
    x, y = xy
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    z = wt * torch.tensor(x) + bt
    if loss == "cross_entropy":
        value = F.binary_cross_entropy_with_logits(z, torch.tensor(y))
    else:
        value = F.mse_loss(torch.sigmoid(z), torch.tensor(y))
    value.backward()
    expected = np.array([wt.grad.item(), bt.grad.item()])
    ours = logistic.logistic_unit_grad(w, b, x, y, loss)
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_grid_evaluation_equals_a_loop(xy, loss):
    x, y = xy
    W, B = np.meshgrid(np.linspace(-3, 3, 5), np.linspace(-2, 2, 4))
    L = logistic.logistic_unit_loss(W, B, x, y, loss)
    assert L.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            single = logistic.logistic_unit_loss(W[i, j], B[i, j], x, y, loss)
            assert L[i, j] == pytest.approx(single, rel=1e-14)


def test_squared_error_gradient_vanishes_when_confidently_wrong():
    """One example with label 1 and score z = -12: the cross-entropy still pulls with slope ≈ -1,
    the squared error's slope is ≈ 2 σ(z) ≈ 1e-5 in size."""
    x, y = np.array([1.0]), np.array([1.0])
    g_ce = logistic.logistic_unit_grad(0.0, -12.0, x, y, "cross_entropy")
    g_mse = logistic.logistic_unit_grad(0.0, -12.0, x, y, "mse")
    assert g_ce[1] == pytest.approx(-1.0, abs=1e-5)
    assert abs(g_mse[1]) < 1e-4


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="same length"):
        logistic.logistic_unit_loss(1.0, 0.0, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="0 or 1"):
        logistic.logistic_unit_loss(1.0, 0.0, np.zeros(2), np.array([0.0, 0.5]))
    with pytest.raises(ValueError, match="loss must be"):
        logistic.logistic_unit_loss(1.0, 0.0, np.zeros(2), np.zeros(2), "hinge")
    with pytest.raises(ValueError, match="single numbers"):
        logistic.logistic_unit_grad(np.zeros(2), 0.0, np.zeros(2), np.zeros(2))
