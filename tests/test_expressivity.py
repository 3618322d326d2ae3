"""The hand-built parity and sawtooth networks, checked on every input (exact)."""

import math

import numpy as np
import pytest
import torch

from dlbook import expressivity as ex

BUILDERS = {
    "logic": ex.parity_network_logic,
    "xor_tree": ex.parity_network_xor_tree,
    "counting": ex.parity_network_counting,
    "sawtooth": ex.parity_network_sawtooth,
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("n", range(2, 11))
def test_parity_networks_are_exact_on_every_input(name, n):
    X = ex.all_bit_strings(n)
    with torch.no_grad():
        y_hat = BUILDERS[name](n)(X)[:, 0]
    assert torch.equal(y_hat, ex.parity(X))


def test_parity_of_one_bit():
    X = ex.all_bit_strings(1)
    for name in ("logic", "xor_tree", "counting"):
        with torch.no_grad():
            assert torch.equal(BUILDERS[name](1)(X)[:, 0], X[:, 0])


@pytest.mark.parametrize("n", range(2, 11))
def test_sizes_follow_the_formulas(n):
    logic = ex.parity_network_logic(n)
    assert ex.count_hidden_units(logic) == 2 ** (n - 1)
    assert ex.count_parameters(logic) == (n + 2) * 2 ** (n - 1) + 1
    counting = ex.parity_network_counting(n)
    assert ex.count_hidden_units(counting) == n and ex.count_parameters(counting) == (n + 1) ** 2
    k = math.ceil(math.log2(n))
    saw = ex.parity_network_sawtooth(n)
    assert ex.count_hidden_units(saw) == 2 * k
    assert ex.count_parameters(saw) == 2 * (n + 1) + 6 * (k - 1) + 3
    tree = ex.parity_network_xor_tree(n)
    linears = [m for m in tree if isinstance(m, torch.nn.Linear)]
    assert len(linears) - 1 == k  # hidden layers
    xor_blocks = n - 1  # every block removes one signal
    assert ex.count_hidden_units(tree) >= 2 * xor_blocks
    if n & (n - 1) == 0:  # a power of two needs no pass-through
        assert ex.count_hidden_units(tree) == 2 * xor_blocks


@pytest.mark.parametrize("k", range(1, 9))
def test_sawtooth_has_2_to_the_k_pieces(k):
    x = np.linspace(0, 1, 2**10 + 1)
    net = ex.sawtooth_network(k).double()
    with torch.no_grad():
        y = net(torch.tensor(x)[:, None])[:, 0].numpy()
    assert ex.count_linear_pieces(x, y) == 2**k
    assert ex.count_hidden_units(net) == 2 * k
    teeth = np.arange(2**k + 1) / 2**k  # the break points: 0 at even, 1 at odd multiples
    with torch.no_grad():
        at = net(torch.tensor(teeth)[:, None])[:, 0].numpy()
    np.testing.assert_array_equal(at, np.arange(2**k + 1) % 2)


def test_one_hidden_layer_adds_at_most_one_piece_per_relu():
    g = torch.Generator().manual_seed(0)
    x = np.linspace(-3, 3, 20001)
    for width in (1, 3, 10):
        net = torch.nn.Sequential(torch.nn.Linear(1, width), torch.nn.ReLU(), torch.nn.Linear(width, 1)).double()
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
            y = net(torch.tensor(x)[:, None])[:, 0].numpy()
        assert ex.count_linear_pieces(x, y, tol=1e-6) <= width + 1


def test_count_parameters_skips_zero_weights():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]]))
    assert ex.count_parameters(net) == 2 + 2  # two connections, two biases


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        ex.parity_network_sawtooth(1)
    with pytest.raises(ValueError, match="at most 20"):
        ex.all_bit_strings(21)
    with pytest.raises(ValueError, match=r"\(N, n\)"):
        ex.parity(torch.zeros(4))
    with pytest.raises(ValueError, match="increasing"):
        ex.count_linear_pieces([0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="no nn.Linear"):
        ex.count_parameters(torch.nn.ReLU())
