"""Hand-written activations and derivatives against torch.nn.functional and autograd (float64,
rtol 1e-12 unless stated)."""

import pytest
import torch
import torch.nn.functional as F

from dlbook import activations

REFERENCE = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    # PyTorch's softplus returns z itself above its threshold (20 by default); ours stays exact
    "softplus": lambda z: F.softplus(z, threshold=100.0),
    "silu": F.silu,
    "gelu": F.gelu,
    "identity": lambda z: z,
}


@pytest.fixture
def z():
    grid = torch.linspace(-30, 30, 601, dtype=torch.float64)
    return grid[grid != 0]  # the kinks of ReLU-like functions are tested separately


def test_every_activation_has_a_reference():
    assert set(REFERENCE) == set(activations.ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_values_match_pytorch(name, z):
    act = activations.get_activation(name)
    torch.testing.assert_close(act(z), REFERENCE[name](z), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_hand_derivative_matches_autograd(name, z):
    act = activations.get_activation(name)
    zz = z.clone().requires_grad_(True)
    REFERENCE[name](zz).sum().backward()
    torch.testing.assert_close(act.grad(z), zz.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu"])
def test_derivative_at_the_kink_matches_autograd(name):
    zero = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    REFERENCE[name](zero).sum().backward()
    assert activations.get_activation(name).grad(torch.zeros(1, dtype=torch.float64)).item() == zero.grad.item()


def test_sigmoid_is_stable_for_large_inputs():
    z = torch.tensor([-1000.0, 1000.0], dtype=torch.float64)
    assert torch.equal(activations.sigmoid(z), torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert torch.isfinite(activations.softplus(z)).all()


def test_properties_are_what_the_functions_do(z):
    for act in activations.ACTIVATIONS.values():
        mean_output = act(z).mean().item()  # inputs symmetric about 0
        assert act.zero_centred == (abs(mean_output) < 1e-9), act.name
    assert activations.get_activation("sigmoid").grad(z).max() <= 0.25


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        activations.get_activation("swish")


def test_integer_input_is_promoted_to_float():
    assert activations.relu(torch.tensor([-2, 3])).dtype == torch.get_default_dtype()
