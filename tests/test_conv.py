"""Convolution and pooling from scratch against PyTorch, and the layer arithmetic against real
layers. Tolerance: float64 results agree with PyTorch to 1e-10 (atol and rtol)."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import conv

TOL = {"atol": 1e-10, "rtol": 1e-10}


def random_cases(num_cases=40, seed=0):
    """Random (N, C, H, W, P, U, V, stride, padding) with a kernel that fits the padded input."""
    g = torch.Generator().manual_seed(seed)

    def rint(lo, hi):
        return int(torch.randint(lo, hi + 1, (1,), generator=g))

    cases = []
    while len(cases) < num_cases:
        n, c, h, w, p = rint(1, 3), rint(1, 4), rint(3, 12), rint(3, 12), rint(1, 5)
        u, v = rint(1, 5), rint(1, 5)
        stride = (rint(1, 3), rint(1, 3)) if len(cases) % 2 else rint(1, 3)
        padding = (rint(0, 2), rint(0, 2)) if len(cases) % 3 == 0 else rint(0, 2)
        ph, pw = conv._pair(padding, "padding")
        if u <= h + 2 * ph and v <= w + 2 * pw:
            cases.append((n, c, h, w, p, u, v, stride, padding))
    return cases, g


@pytest.mark.parametrize("fn", [conv.conv2d_loops, conv.conv2d_unfold])
def test_conv2d_matches_torch_over_random_shapes(fn):
    cases, g = random_cases()
    for n, c, h, w, p, u, v, stride, padding in cases:
        X = torch.randn(n, c, h, w, generator=g, dtype=torch.float64)
        W = torch.randn(p, c, u, v, generator=g, dtype=torch.float64)
        b = torch.randn(p, generator=g, dtype=torch.float64)
        expected = F.conv2d(X, W, b, stride=stride, padding=padding)
        got = fn(X, W, b, stride=stride, padding=padding)
        assert got.shape == expected.shape
        torch.testing.assert_close(got, expected, **TOL)
        torch.testing.assert_close(fn(X, W, None, stride, padding),
                                   F.conv2d(X, W, None, stride=stride, padding=padding), **TOL)


def test_unfold_matches_torch_unfold():
    cases, g = random_cases(seed=1)
    for n, c, h, w, _, u, v, stride, padding in cases:
        X = torch.randn(n, c, h, w, generator=g, dtype=torch.float64)
        torch.testing.assert_close(conv.unfold(X, (u, v), stride, padding),
                                   F.unfold(X, (u, v), stride=stride, padding=padding), **TOL)


def test_conv2d_gradients_match_torch():
    g = torch.Generator().manual_seed(2)
    X = torch.randn(2, 3, 7, 6, generator=g, dtype=torch.float64, requires_grad=True)
    W = torch.randn(4, 3, 3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    grads = []
    for fn in (conv.conv2d_unfold, lambda *a, **k: F.conv2d(*a, **k)):
        out = fn(X, W, None, stride=2, padding=1)
        grads.append(torch.autograd.grad((out ** 2).sum(), (X, W)))
    for mine, ref in zip(*grads):
        torch.testing.assert_close(mine, ref, **TOL)


def test_max_pool_matches_torch():
    g = torch.Generator().manual_seed(3)
    for k, s, p in itertools.product([1, 2, 3], [None, 1, 2, 3], [0, 1]):
        if p > k // 2:
            continue  # PyTorch requires padding ≤ kernel / 2
        X = torch.randn(2, 3, 9, 8, generator=g, dtype=torch.float64)
        expected = F.max_pool2d(X, k, stride=s, padding=p)
        torch.testing.assert_close(conv.max_pool2d(X, k, stride=s, padding=p), expected, **TOL)
    X = torch.randn(1, 2, 7, 10, generator=g, dtype=torch.float64)
    torch.testing.assert_close(conv.max_pool2d(X, (2, 3), stride=(1, 2)),
                               F.max_pool2d(X, (2, 3), stride=(1, 2)), **TOL)


def test_avg_pool_matches_torch():
    g = torch.Generator().manual_seed(4)
    X = torch.randn(2, 3, 9, 8, generator=g, dtype=torch.float64)
    for k, s in [(2, None), (3, 1), (3, 2)]:
        torch.testing.assert_close(conv.avg_pool2d(X, k, s), F.avg_pool2d(X, k, s), **TOL)


def test_output_size_and_param_count_match_real_layers():
    cases, g = random_cases(seed=5)
    for n, c, h, w, p, u, v, stride, padding in cases:
        layer = nn.Conv2d(c, p, (u, v), stride=stride, padding=padding)
        out = layer(torch.zeros(n, c, h, w))
        (sh, sw), (ph, pw) = conv._pair(stride, "s"), conv._pair(padding, "p")
        assert out.shape[2:] == (conv.conv_output_size(h, u, sh, ph), conv.conv_output_size(w, v, sw, pw))
        assert conv.conv_num_params(c, p, (u, v)) == sum(t.numel() for t in layer.parameters())
        assert conv.conv_num_params(c, p, (u, v), bias=False) == layer.weight.numel()


def test_exam_question_and_lenet_numbers():
    # 97×97×3 input, 15 filters of 9×9, no padding, stride 2 -> 45×45×15, 3,660 parameters.
    assert conv.conv_output_size(97, 9, stride=2, padding=0) == 45
    assert conv.conv_num_params(3, 15, 9) == 3660
    assert conv.conv_num_connections(3660, 45, 45) == 7_411_500
    # LeNet-5 layer C1 (LeCun et al., 1998): 156 parameters, 122,304 connections.
    assert conv.conv_num_connections(conv.conv_num_params(1, 6, 5), 28, 28) == 122_304


def test_output_size_rejects_bad_arguments():
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv.conv_output_size(4, 7, 1, 1)
    with pytest.raises(ValueError, match="stride"):
        conv.conv_output_size(10, 3, 0)
    with pytest.raises(ValueError, match="padding"):
        conv.conv_output_size(10, 3, 1, -1)


def test_bad_shapes_raise_value_errors():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        conv.conv2d_unfold(torch.zeros(3, 5, 5), torch.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match="input channels"):
        conv.conv2d_loops(torch.zeros(1, 3, 5, 5), torch.zeros(1, 2, 2, 2))
    with pytest.raises(ValueError, match="bias"):
        conv.conv2d_unfold(torch.zeros(1, 1, 5, 5), torch.zeros(2, 1, 2, 2), torch.zeros(3))
    with pytest.raises(ValueError, match="pair"):
        conv.unfold(torch.zeros(1, 1, 5, 5), (1, 2, 3))


def test_receptive_field_matches_autograd():
    """The input pixels that influence one output pixel, found by autograd, span r × r."""
    layers = [(3, 1), (3, 1), (2, 2), (3, 1), (2, 2), (3, 1)]
    modules = []
    for k, s in layers:
        modules.append(nn.Conv2d(1, 1, k, stride=s) if s == 1 else nn.MaxPool2d(k, s))
    net = nn.Sequential(*modules).double()
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0)
    X = torch.rand(1, 1, 40, 40, dtype=torch.float64, requires_grad=True)
    out = net(X)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = torch.nonzero(X.grad[0, 0].abs().sum(dim=1)).flatten()
    cols = torch.nonzero(X.grad[0, 0].abs().sum(dim=0)).flatten()
    r, j = conv.receptive_field(layers)[-1]
    assert j == 4
    # Max pooling routes the gradient to one pixel per window, so the support can be smaller
    # than the receptive field, never larger.
    assert rows.max() - rows.min() + 1 <= r and cols.max() - cols.min() + 1 <= r
    only_convs = [(3, 1)] * 4
    assert conv.receptive_field(only_convs)[-1] == (9, 1)
    assert [r for r, _ in conv.receptive_field([(3, 1), (3, 1)])] == [3, 5]


def test_receptive_field_of_a_conv_stack_is_exact():
    net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3)).double()
    with torch.no_grad():
        for m in net:
            m.weight.fill_(1.0)
    X = torch.rand(1, 1, 30, 30, dtype=torch.float64, requires_grad=True)
    out = net(X)
    out[0, 0, 3, 3].backward()
    support = torch.nonzero(X.grad[0, 0])
    span = (support.max(dim=0).values - support.min(dim=0).values + 1).tolist()
    r, _ = conv.receptive_field([(3, 1), (3, 2), (3, 1)])[-1]
    assert span == [r, r] == [9, 9]


def test_conv_as_matrix_computes_the_convolution():
    g = torch.Generator().manual_seed(6)
    W = torch.randn(2, 3, 3, 3, generator=g, dtype=torch.float64)
    x = torch.randn(3, 6, 5, generator=g, dtype=torch.float64)
    M = conv.conv_as_matrix(W, (3, 6, 5), stride=1, padding=1)
    expected = F.conv2d(x[None], W, padding=1).flatten()
    assert M.shape == (2 * 6 * 5, 3 * 6 * 5)
    torch.testing.assert_close(M @ x.flatten(), expected, **TOL)
    # Each row holds at most C·U·V non-zero weights, all copies of the filter's entries.
    assert int((M != 0).sum(dim=1).max()) <= 3 * 9
    assert set(M[M != 0].tolist()) <= set(W.flatten().tolist())
