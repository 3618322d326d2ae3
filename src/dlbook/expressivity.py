"""What depth buys: shallow and deep networks, built by hand, for parity and sawtooth functions.

The notes argue for deep rather than wide networks with the *parity function* (奇偶校验): the
output is 1 when an odd number of the n input bits are 1. Borrowed from digital logic, the
argument runs: a two-level circuit of AND and OR gates needs 2^(n-1) AND gates, one for each
input pattern with an odd number of ones, while a tree of XOR gates needs only n - 1 of them.
This module builds both as ReLU networks with exact weights, so the counts can be checked on
all 2^n inputs, and two more networks that sharpen the picture:

* :func:`parity_network_logic`: one hidden layer of 2^(n-1) ReLUs, each acting as an AND gate
  that fires for exactly one odd pattern (the two-level circuit);
* :func:`parity_network_xor_tree`: XOR blocks of two ReLUs arranged in a tree,
  ceil(log2 n) hidden layers, 2(n - 1) + (pass-throughs) ReLUs;
* :func:`parity_network_counting`: one hidden layer of n ReLUs that first *count* the ones and
  then fold the count into a zig-zag (a neuron is more than a logic gate);
* :func:`parity_network_sawtooth`: the same zig-zag built by composing a two-ReLU "tent" map
  ceil(log2 n) times (:func:`sawtooth_network`).

:func:`sawtooth_network` alone shows the sharpest gap: k layers of two ReLUs make a function
of one input with 2^k linear pieces, while one hidden layer needs at least 2^k - 1 ReLUs for
that, since each ReLU of a one-dimensional input adds at most one break point
(:func:`count_linear_pieces` counts them).

Parameters are counted as a sparse circuit: every hidden or output unit has one bias and one
weight per *nonzero* connection (:func:`count_parameters`).

Sources: the notes' "why deep rather than wide" (Lee, ML 2021/2022); Håstad (1987) for the
exponential size of shallow AND/OR circuits for parity; Telgarsky (2016) for the sawtooth.

Introduced in :doc:`/notebooks/05_backpropagation`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from torch import nn

from .checks import require_finite

__all__ = ["all_bit_strings", "parity", "parity_network_logic", "parity_network_xor_tree",
           "parity_network_counting", "parity_network_sawtooth", "sawtooth_network",
           "count_parameters", "count_hidden_units", "count_linear_pieces"]


def _check_bits(n: int, low: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < low:
        raise ValueError(f"n must be an integer >= {low}, got {n!r}")
    return int(n)


def all_bit_strings(n: int) -> torch.Tensor:
    """All 2^n strings of n bits, shape (2^n, n), float (default dtype), in counting order.

    Raises ``ValueError`` unless 1 <= n <= 20. Introduced in
    :doc:`/notebooks/05_backpropagation`."""
    n = _check_bits(n)
    if n > 20:
        raise ValueError(f"n must be at most 20 (2^n rows), got {n}")
    return torch.tensor(list(itertools.product((0.0, 1.0), repeat=n)))


def parity(X: torch.Tensor) -> torch.Tensor:
    """1 where a row of X (shape (N, n), entries 0 or 1) has an odd number of ones, else 0;
    shape (N,). Raises ``ValueError`` if X is not 2-D. Introduced in
    :doc:`/notebooks/05_backpropagation`."""
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, n), got {tuple(X.shape)}")
    return (X.sum(dim=1) % 2).to(X.dtype)


def _sequential(layers: list[tuple[torch.Tensor, torch.Tensor]]) -> nn.Sequential:
    """Linear layers with the given (W, b), ReLU between them, none after the last."""
    modules: list[nn.Module] = []
    for i, (W, b) in enumerate(layers):
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype)
        with torch.no_grad():
            linear.weight.copy_(W)
            linear.bias.copy_(b)
        modules.append(linear)
        if i < len(layers) - 1:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def parity_network_logic(n: int) -> nn.Sequential:
    """n-bit parity as a two-level "AND then OR" circuit of ReLUs: one hidden layer of
    2^(n-1) units.

    For every pattern p with an odd number of ones, the unit
    max(0, sum_i (2 p_i - 1) x_i - (``|p|`` - 1)) is 1 when x = p and 0 for every other string of
    bits (the sum reaches ``|p|`` only at x = p). The output adds them up.

    Args:
        n: number of bits, 1 <= n <= 20.

    Returns:
        ``nn.Sequential``: (N, n) -> (N, 1), in the default dtype.

    Raises:
        ValueError: for n outside [1, 20].

    Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    n = _check_bits(n)
    patterns = all_bit_strings(n)
    patterns = patterns[parity(patterns) == 1]  # (2^(n-1), n)
    W1 = 2 * patterns - 1  # +1 where the pattern has a one, -1 where it has a zero
    b1 = -(patterns.sum(dim=1) - 1)
    W2 = torch.ones(1, len(patterns))
    return _sequential([(W1, b1), (W2, torch.zeros(1))])


def parity_network_xor_tree(n: int) -> nn.Sequential:
    """n-bit parity as a tree of XOR blocks: ceil(log2 n) hidden layers of ReLUs.

    On bits, XOR(a, b) = max(0, a + b) - 2 max(0, a + b - 1): two ReLUs. Each hidden layer
    pairs up the signals of the layer below and XORs each pair; an unpaired signal passes
    through one ReLU (max(0, s) = s for s in {0, 1}). The combination u1 - 2 u2 of each block
    is folded into the weights of the next layer, so the network is a plain
    Linear-ReLU-...-Linear stack.

    Raises ``ValueError`` for n outside [1, 20]. Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    n = _check_bits(n)
    if n > 20:
        raise ValueError(f"n must be at most 20, got {n}")
    # signals are affine functions S h + s0 of the layer below (the inputs at first)
    S, s0 = torch.eye(n), torch.zeros(n)
    layers = []
    while S.shape[0] > 1:
        m = S.shape[0]
        rows, biases, combine = [], [], []
        for j in range(0, m - 1, 2):  # an XOR block for each pair of signals
            k = len(rows)
            rows += [S[j] + S[j + 1], S[j] + S[j + 1]]
            biases += [s0[j] + s0[j + 1], s0[j] + s0[j + 1] - 1]
            combine.append({k: 1.0, k + 1: -2.0})
        if m % 2:  # the odd one out passes through
            rows.append(S[m - 1])
            biases.append(s0[m - 1])
            combine.append({len(rows) - 1: 1.0})
        layers.append((torch.stack(rows), torch.stack(biases)))
        S = torch.zeros(len(combine), len(rows))
        for i, coefficients in enumerate(combine):
            for k, c in coefficients.items():
                S[i, k] = c
        s0 = torch.zeros(len(combine))
    if not layers:  # n = 1: parity is the bit itself
        return _sequential([(torch.ones(1, 1), torch.zeros(1))])
    layers.append((S, s0))
    return _sequential(layers)


def parity_network_counting(n: int) -> nn.Sequential:
    """n-bit parity with one hidden layer of n ReLUs that count.

    With s = sum_i x_i, parity is the zig-zag through (0, 0), (1, 1), (2, 0), ...: slope +1,
    then -1, +1, ... between consecutive integers. So
    parity = max(0, s) + sum_{k=1}^{n-1} 2 (-1)^k max(0, s - k): unit k switches the slope at
    s = k.

    Raises ``ValueError`` for n < 1. Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    n = _check_bits(n)
    W1 = torch.ones(n, n)
    b1 = -torch.arange(n, dtype=W1.dtype)
    W2 = torch.tensor([[1.0] + [2.0 * (-1) ** k for k in range(1, n)]])
    return _sequential([(W1, b1), (W2, torch.zeros(1))])


def _tent_layers(k: int, first_weight: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """k hidden layers of two ReLUs computing the tent map k times on t = first_weight @ x."""
    layers = [(torch.stack([first_weight, first_weight]), torch.tensor([0.0, -0.5]))]
    tent = torch.tensor([2.0, -4.0])  # tent(t) = 2 max(0, t) - 4 max(0, t - 1/2) on [0, 1]
    for _ in range(k - 1):
        layers.append((torch.stack([tent, tent]), torch.tensor([0.0, -0.5])))
    layers.append((tent[None, :], torch.zeros(1)))
    return layers


def sawtooth_network(k: int) -> nn.Sequential:
    """The tent map T(t) = 2t on [0, 1/2], 2 - 2t on [1/2, 1], composed k times, as a network
    with k hidden layers of two ReLUs each: (N, 1) -> (N, 1).

    T^k is a sawtooth with 2^(k-1) teeth and 2^k linear pieces on [0, 1].

    Raises ``ValueError`` for k < 1. Source: Telgarsky (2016). Introduced in
    :doc:`/notebooks/05_backpropagation`.
    """
    k = _check_bits(k)
    return _sequential(_tent_layers(k, torch.ones(1)))


def parity_network_sawtooth(n: int) -> nn.Sequential:
    """n-bit parity by a deep sawtooth: t = s / 2^k with s the number of ones and
    k = ceil(log2 n), then the tent map k times (k hidden layers of two ReLUs).

    T^k(j / 2^k) is 1 for odd j and 0 for even j, so the output is the parity of s. All the
    numbers are exact in binary floating point.

    Raises ``ValueError`` for n < 2. Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    n = _check_bits(n, low=2)
    k = math.ceil(math.log2(n))
    return _sequential(_tent_layers(k, torch.full((n,), 1.0 / 2**k)))


def _linear_layers(net: nn.Module) -> list[nn.Linear]:
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(net).__name__} has no nn.Linear layer")
    return linears


def count_parameters(net: nn.Module) -> int:
    """Parameters of ``net`` counted as a sparse circuit: the nonzero weights plus one bias per
    unit of every ``nn.Linear`` (a zero weight is a missing connection).

    Raises ``ValueError`` if ``net`` has no ``nn.Linear``. Introduced in
    :doc:`/notebooks/05_backpropagation`."""
    return sum(int((m.weight != 0).sum()) + m.out_features for m in _linear_layers(net))


def count_hidden_units(net: nn.Module) -> int:
    """Units of every ``nn.Linear`` except the last one (the hidden neurons). Introduced in
    :doc:`/notebooks/05_backpropagation`."""
    return sum(m.out_features for m in _linear_layers(net)[:-1])


def count_linear_pieces(x, y, tol: float = 1e-9) -> int:
    """Number of linear pieces of a sampled piecewise linear function of one variable.

    Finds where the slope between consecutive samples changes by more than ``tol`` (relative
    to the largest slope) and returns the number of such places plus one. A break point that
    falls between two samples bends one segment, so the slope changes twice in a row; such
    neighbouring changes count as one break point. Exact when the break points are at least
    two sample spacings apart (for the sawtooth T^k on [0, 1]: a grid of step 2^-m, m > k).

    Args:
        x: sample points, shape (M,), strictly increasing, M >= 2.
        y: values, shape (M,).
        tol: relative tolerance on slope changes.

    Raises:
        ValueError: for other shapes or x not increasing.

    Introduced in :doc:`/notebooks/05_backpropagation`.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError(f"x and y must be 1-D of one length >= 2, got {x.shape} and {y.shape}")
    require_finite(x, "x")
    require_finite(y, "y")
    if not np.all(np.diff(x) > 0):
        raise ValueError("x must be strictly increasing")
    slopes = np.diff(y) / np.diff(x)
    scale = max(np.abs(slopes).max(), 1.0)
    changes = np.flatnonzero(np.abs(np.diff(slopes)) > tol * scale)
    if len(changes) == 0:
        return 1
    return int(np.sum(np.diff(changes) > 1)) + 2  # runs of neighbouring changes, plus one
