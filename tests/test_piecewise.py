"""Piecewise linear curves from hard sigmoids, sigmoids and ReLUs (float64, exact to 1e-12)."""

import numpy as np
import pytest
import torch

from dlbook import piecewise


@pytest.fixture
def x():
    return torch.linspace(-3, 6, 1801, dtype=torch.float64)


def test_hard_sigmoid_levels_and_ramp(x):
    y = piecewise.hard_sigmoid(x, 1.0, 3.0, 2.0)
    assert torch.all(y[x <= 1] == 0) and torch.all(y[x >= 3] == 2)
    inside = (x > 1) & (x < 3)
    torch.testing.assert_close(y[inside], x[inside] - 1, rtol=0, atol=1e-12)


def test_two_relus_make_a_hard_sigmoid(x):
    for start, end, height in [(0.0, 1.0, 1.0), (-2.0, 4.0, -3.5), (2.0, 2.5, 0.7)]:
        torch.testing.assert_close(piecewise.hard_sigmoid_from_relus(x, start, end, height),
                                   piecewise.hard_sigmoid(x, start, end, height), rtol=0, atol=1e-12)


def test_decomposition_equals_linear_interpolation(x):
    knots_x = np.array([-1.0, 0.5, 1.0, 2.5, 4.0])
    knots_y = np.array([0.8, 2.0, 0.2, 0.9, -0.4])
    curve = piecewise.piecewise_linear_as_hard_sigmoids(knots_x, knots_y)
    assert len(curve) == 4 and curve.constant == 0.8
    expected = np.interp(x.numpy(), knots_x, knots_y)
    np.testing.assert_allclose(curve(x).numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(curve.pieces(x).sum(0).numpy() + curve.constant, expected, atol=1e-12)


def test_relu_network_equals_linear_interpolation(x):
    knots_x = torch.tensor([-1.0, 0.0, 2.0, 3.0, 5.0], dtype=torch.float64)
    knots_y = torch.tensor([1.0, -1.0, 0.5, 0.5, 2.0], dtype=torch.float64)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        net = piecewise.relu_network_from_knots(knots_x, knots_y)
    finally:
        torch.set_default_dtype(old)
    assert net[0].out_features == len(knots_x)
    with torch.no_grad():
        y_hat = net(x[:, None])[:, 0]
    np.testing.assert_allclose(y_hat.numpy(), np.interp(x.numpy(), knots_x.numpy(), knots_y.numpy()),
                               atol=1e-12)


def test_sigmoid_matches_the_ramp_in_centre_height_and_slope():
    start, end, height = 1.0, 3.0, 2.0
    w, b, c = piecewise.sigmoid_for_hard_sigmoid(start, end, height)
    xs = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    y = c * torch.sigmoid(b + w * xs)
    y.backward()
    assert y.item() == pytest.approx(height / 2)  # the centre of the ramp
    assert xs.grad.item() == pytest.approx(height / (end - start))  # the ramp's slope
    far = c * torch.sigmoid(b + w * torch.tensor([-50.0, 50.0], dtype=torch.float64))
    np.testing.assert_allclose(far.numpy(), [0.0, height], atol=1e-12)


@pytest.mark.parametrize("start, end", [(1.0, 1.0), (2.0, 1.0)])
def test_bad_ramps_are_refused(start, end):
    with pytest.raises(ValueError, match="start < end"):
        piecewise.hard_sigmoid(torch.zeros(3), start, end, 1.0)
    with pytest.raises(ValueError, match="start < end"):
        piecewise.sigmoid_for_hard_sigmoid(start, end, 1.0)


def test_bad_knots_are_refused():
    with pytest.raises(ValueError, match="increasing"):
        piecewise.piecewise_linear_as_hard_sigmoids([0.0, 2.0, 1.0], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\)"):
        piecewise.relu_network_from_knots([0.0, 1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="1-D"):
        piecewise.piecewise_linear_as_hard_sigmoids([[0.0, 1.0]], [[0.0, 1.0]])
