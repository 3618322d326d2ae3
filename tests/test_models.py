"""dlbook.models: the MLP builder against networks written layer by layer, the GAN's conditional
MLP, and the digit CNN's shapes."""

import copy
import os
import subprocess
import sys

import pytest
import torch
from torch import nn

from dlbook import models


def test_mlp_equals_the_same_network_written_by_hand():
    torch.manual_seed(0)
    by_hand = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Dropout(0.2), nn.Linear(7, 3), nn.ReLU(),
                            nn.Dropout(0.2), nn.Linear(3, 2))
    torch.manual_seed(0)
    net = models.mlp([5, 7, 3, 2], dropout=0.2)
    assert [type(m) for m in net] == [type(m) for m in by_hand]
    for a, b in zip(net.state_dict().values(), by_hand.state_dict().values()):
        assert torch.equal(a, b)
    x = torch.randn(4, 5)
    net.eval(), by_hand.eval()
    assert torch.equal(net(x), by_hand(x))


def test_mlp_options():
    net = models.mlp([784, 16, 10], activation=nn.ELU, batch_norm=True, flatten=True, out_activation="sigmoid")
    assert [type(m) for m in net] == [nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.ELU, nn.Linear, nn.Sigmoid]
    out = net(torch.rand(3, 1, 28, 28))
    assert out.shape == (3, 10) and ((out > 0) & (out < 1)).all()
    assert isinstance(models.mlp([2, 4, 1], activation="tanh")[1], nn.Tanh)
    assert len(models.mlp([3, 1])) == 1  # a linear model
    sn = models.mlp([3, 4, 1], spectral_norm=True)
    assert hasattr(sn[0], "parametrizations")


@pytest.mark.parametrize("kwargs, match", [({"sizes": [3]}, "sizes"), ({"sizes": [3, 0, 1]}, "sizes"),
                                           ({"sizes": [3, 1], "dropout": 1.0}, "dropout"),
                                           ({"sizes": [3, 2, 1], "activation": "swish"}, "activation")])
def test_mlp_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.mlp(**kwargs)


def test_mlp_shapes_and_condition():
    net = models.MLP(
        8, 196, 16, 2, num_classes=10, batch_norm=True, out_activation="tanh", out_shape=(1, 14, 14)
    )
    out = net(torch.randn(5, 8), torch.arange(5))
    assert out.shape == (5, 1, 14, 14) and out.abs().max() <= 1
    with pytest.raises(ValueError):
        net(torch.randn(5, 8))
    with pytest.raises(ValueError):
        models.MLP(8, 10, out_shape=(3, 3))
    with pytest.raises(ValueError):
        models.MLP(8, 10, dropout=1.0)


def test_digit_cnn_shapes_and_arguments():
    net = models.digit_cnn(channels=(4, 8), hidden=16)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="dropout"):
        models.digit_cnn(dropout=1.0)
    with pytest.raises(ValueError, match="positive"):
        models.digit_cnn(channels=(0, 8))


def test_digit_cnn_computes_the_same_function_in_the_channels_last_layout():
    torch.manual_seed(0)
    net = models.digit_cnn().eval()
    X = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    net_cl = copy.deepcopy(net).to(memory_format=torch.channels_last)
    assert net_cl[0].weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(net_cl(X), net(X), atol=1e-5, rtol=1e-5)


def test_digit_cnn_trains_longer_at_the_full_scale():
    code = "from dlbook import models; print(models.DIGIT_CNN_CONFIG.num_epochs)"
    epochs = {}
    for scale in ("small", "full"):
        env = {**os.environ, "DLBOOK_SCALE": scale}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        epochs[scale] = int(out.stdout.strip().splitlines()[-1])
    assert epochs["small"] < epochs["full"]
