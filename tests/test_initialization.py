"""dlbook.initialization against torch.nn.init, and the depth behaviour the chapter relies on."""

import math

import pytest
import torch

from dlbook import initialization as init


@pytest.mark.parametrize("ours, theirs", [
    ("xavier_uniform", torch.nn.init.xavier_uniform_),
    ("xavier_normal", torch.nn.init.xavier_normal_),
    ("kaiming_uniform",
     lambda w, generator=None: torch.nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=generator)),
    ("kaiming_normal",
     lambda w, generator=None: torch.nn.init.kaiming_normal_(w, nonlinearity="relu", generator=generator)),
])
@pytest.mark.parametrize("shape", [(30, 50), (8, 3, 5, 5)])
def test_schemes_draw_what_torch_draws(ours, theirs, shape):
    a = init.init_weight_(torch.empty(shape), ours, generator=torch.Generator().manual_seed(1))
    b = theirs(torch.empty(shape), generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_fans_and_stds():
    assert init.fans(torch.empty(8, 3, 5, 5)) == (75, 200)
    assert math.isclose(init.xavier_std(100, 300), math.sqrt(2 / 400))
    assert math.isclose(init.kaiming_std(50), math.sqrt(2 / 50))
    w = init.init_weight_(torch.empty(400, 400), "uniform", std=0.1, generator=torch.Generator().manual_seed(0))
    assert abs(w.std().item() - 0.1) < 0.005 and w.abs().max() <= 0.1 * math.sqrt(3)


def test_constant_and_errors():
    assert torch.equal(init.init_weight_(torch.empty(2, 3), "constant", value=0.5), torch.full((2, 3), 0.5))
    with pytest.raises(ValueError, match="scheme"):
        init.init_weight_(torch.empty(2, 3), "orthogonal")
    with pytest.raises(ValueError, match="shape"):
        init.fans(torch.empty(3))
    with pytest.raises(ValueError, match="activation"):
        init.activation_stats(torch.randn(4, 3), [3], "normal", activation="swish")


def test_activation_stats_across_depth():
    X = torch.randn(500, 200, generator=torch.Generator().manual_seed(0))
    small = init.activation_stats(X, [200] * 10, "normal", "tanh", std=0.01)
    xavier = init.activation_stats(X, [200] * 10, "xavier_normal", "tanh")
    he = init.activation_stats(X, [200] * 10, "kaiming_normal", "relu")
    assert small[-1] < 1e-6  # the signal vanishes
    assert 0.1 < xavier[-1] < 1.0 and 0.3 < he[-1] / he[0] < 3.0  # it keeps its size
