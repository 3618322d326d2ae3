"""dlbook.normalization against torch.nn.BatchNorm1d / BatchNorm2d and torch.nn.functional.batch_norm:
outputs in training and evaluation mode, running statistics, gradients (autograd and by hand)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import normalization

TOL = dict(rtol=1e-10, atol=1e-12)  # float64 throughout: agreement to rounding error


@pytest.fixture(autouse=True)
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def batches(shape, n, seed=0):
    """n batches with features of different means and spreads, as hidden values have."""
    g = torch.Generator().manual_seed(seed)
    C = shape[1]
    scale = torch.linspace(0.3, 5.0, C).reshape(1, C, *([1] * (len(shape) - 2)))
    shift = torch.linspace(-3.0, 4.0, C).reshape(1, C, *([1] * (len(shape) - 2)))
    return [torch.randn(*shape, generator=g) * scale + shift for _ in range(n)]


CASES = [  # (our class, PyTorch's class, input shape)
    (normalization.BatchNorm1d, nn.BatchNorm1d, (16, 5)),
    (normalization.BatchNorm1d, nn.BatchNorm1d, (6, 4, 7)),
    (normalization.BatchNorm2d, nn.BatchNorm2d, (4, 3, 5, 6)),
]


@pytest.mark.parametrize("ours_cls, torch_cls, shape", CASES, ids=["1d", "1d_seq", "2d"])
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_matches_torch_in_training_and_evaluation(ours_cls, torch_cls, shape, momentum):
    C = shape[1]
    ours, ref = ours_cls(C, momentum=momentum), torch_cls(C, momentum=momentum)
    with torch.no_grad():  # non-trivial gamma and beta, the same in both
        for layer in (ours, ref):
            layer.weight.copy_(torch.linspace(0.5, 2.0, C))
            layer.bias.copy_(torch.linspace(-1.0, 1.0, C))
    for x in batches(shape, 5):
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        ya, yb = ours(xa), ref(xb)
        torch.testing.assert_close(ya, yb, **TOL)
        w = torch.randn(shape, generator=torch.Generator().manual_seed(1))  # a random linear loss
        (ya * w).sum().backward()
        (yb * w).sum().backward()
        torch.testing.assert_close(xa.grad, xb.grad, **TOL)
        # the running statistics after every batch: unbiased variance, PyTorch's momentum
        torch.testing.assert_close(ours.running_mean, ref.running_mean, **TOL)
        torch.testing.assert_close(ours.running_var, ref.running_var, **TOL)
        assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad, **TOL)
    torch.testing.assert_close(ours.bias.grad, ref.bias.grad, **TOL)
    ours.eval()
    ref.eval()
    x_test = batches((3, *shape[1:]), 1, seed=7)[0]
    torch.testing.assert_close(ours(x_test), ref(x_test), **TOL)
    # evaluation mode works on a single example and does not touch the statistics
    before = ours.running_mean.clone()
    torch.testing.assert_close(ours(x_test[:1]), ref(x_test[:1]), **TOL)
    assert torch.equal(ours.running_mean, before)


def test_running_statistics_by_formula():
    """momentum 0.1: running = 0.9 old + 0.1 new, with the variance divided by N - 1."""
    x = batches((10, 3), 1)[0]
    layer = normalization.BatchNorm1d(3)
    layer(x)
    torch.testing.assert_close(layer.running_mean, 0.1 * x.mean(0), **TOL)
    torch.testing.assert_close(layer.running_var, 0.9 + 0.1 * x.var(0, unbiased=True), **TOL)


def test_training_output_standardized_and_gamma_beta():
    x = batches((32, 4), 1)[0]
    layer = normalization.BatchNorm1d(4)
    y = layer(x)
    torch.testing.assert_close(y.mean(0), torch.zeros(4), rtol=0, atol=1e-12)
    var = x.var(0, unbiased=False)
    torch.testing.assert_close(y.var(0, unbiased=False), var / (var + layer.eps), **TOL)  # 1 but for eps
    # gamma = the batch's standard deviation and beta = its mean undo the normalization
    with torch.no_grad():
        layer.weight.copy_(torch.sqrt(x.var(0, unbiased=False) + layer.eps))
        layer.bias.copy_(x.mean(0))
    torch.testing.assert_close(layer(x), x, **TOL)


@pytest.mark.parametrize("shape", [(16, 5), (6, 4, 7), (4, 3, 5, 6)])
def test_functional_matches_torch(shape):
    x = batches(shape, 1)[0]
    C = shape[1]
    weight, bias = torch.linspace(0.5, 2.0, C), torch.linspace(-1.0, 1.0, C)
    rm_a, rv_a = torch.zeros(C), torch.ones(C)
    rm_b, rv_b = torch.zeros(C), torch.ones(C)
    ya = normalization.batch_norm(x, rm_a, rv_a, weight, bias, training=True, momentum=0.3, eps=1e-3)
    yb = F.batch_norm(x, rm_b, rv_b, weight, bias, training=True, momentum=0.3, eps=1e-3)
    torch.testing.assert_close(ya, yb, **TOL)
    torch.testing.assert_close(rm_a, rm_b, **TOL)
    torch.testing.assert_close(rv_a, rv_b, **TOL)
    za = normalization.batch_norm(x, rm_a, rv_a, weight, bias, training=False)
    zb = F.batch_norm(x, rm_b, rv_b, weight, bias, training=False)
    torch.testing.assert_close(za, zb, **TOL)
    # without gamma and beta, and without running statistics
    torch.testing.assert_close(normalization.batch_norm(x, None, None, training=True),
                               F.batch_norm(x, None, None, training=True), **TOL)


@pytest.mark.parametrize("shape", [(16, 5), (6, 4, 7), (4, 3, 5, 6)])
def test_backward_by_hand_matches_autograd(shape):
    x = batches(shape, 1)[0].requires_grad_()
    C = shape[1]
    weight = torch.linspace(0.5, 2.0, C).requires_grad_()
    bias = torch.linspace(-1.0, 1.0, C).requires_grad_()
    y = F.batch_norm(x, None, None, weight, bias, training=True)
    grad_out = torch.randn(shape, generator=torch.Generator().manual_seed(3))
    y.backward(grad_out)
    gx, gw, gb = normalization.batch_norm_backward(grad_out, x.detach(), weight.detach())
    torch.testing.assert_close(gx, x.grad, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(gw, weight.grad, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(gb, bias.grad, rtol=1e-9, atol=1e-12)


def test_examples_of_a_batch_are_coupled():
    """Changing one example changes the training-mode output of the others, not the eval-mode one."""
    x = batches((8, 3), 1)[0]
    layer = normalization.BatchNorm1d(3)
    x2 = x.clone()
    x2[0] += 5.0
    assert not torch.allclose(layer(x)[1:], layer(x2)[1:])
    layer.eval()
    torch.testing.assert_close(layer(x)[1:], layer(x2)[1:], **TOL)


def test_state_dict_carries_over_from_torch():
    ref = nn.BatchNorm2d(3)
    for x in batches((4, 3, 2, 2), 3):
        ref(x)
    ours = normalization.BatchNorm2d(3)
    ours.load_state_dict(ref.state_dict())
    ours.eval()
    ref.eval()
    x = batches((2, 3, 2, 2), 1, seed=5)[0]
    torch.testing.assert_close(ours(x), ref(x), **TOL)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="more than 1 value"):
        normalization.BatchNorm1d(3)(torch.randn(1, 3))
    with pytest.raises(ValueError, match=r"\(2, 5\)"):
        normalization.BatchNorm1d(3)(torch.randn(2, 5))
    with pytest.raises(ValueError, match="4-D"):
        normalization.BatchNorm2d(3)(torch.randn(4, 3))
    with pytest.raises(ValueError, match="2-D or 3-D"):
        normalization.BatchNorm1d(3)(torch.randn(4, 3, 2, 2))
    with pytest.raises(ValueError, match="running_mean"):
        normalization.batch_norm(torch.randn(4, 3), None, None, training=False)
    with pytest.raises(ValueError, match="shape"):
        normalization.batch_norm(torch.randn(4, 3), torch.zeros(2), torch.ones(2), training=True)
    with pytest.raises(ValueError, match="together"):
        normalization.batch_norm(torch.randn(4, 3), torch.zeros(3), None, training=True)
    with pytest.raises(ValueError, match="tensor"):
        normalization.BatchNorm1d(3)([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"\(3,\)"):
        normalization.BatchNorm1d(3)(torch.randn(3))
    with pytest.raises(ValueError, match="momentum"):
        normalization.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="num_features"):
        normalization.BatchNorm1d(0)
    with pytest.raises(ValueError, match="grad_out"):
        normalization.batch_norm_backward(torch.randn(4, 2), torch.randn(4, 3))
    # a single example is fine in evaluation mode
    layer = normalization.BatchNorm1d(3).eval()
    assert layer(torch.randn(1, 3)).shape == (1, 3)


def test_without_affine_matches_torch():
    ours, ref = normalization.BatchNorm1d(4, affine=False), nn.BatchNorm1d(4, affine=False)
    assert ours.weight is None and list(ours.parameters()) == []
    for x in batches((8, 4), 3):
        torch.testing.assert_close(ours(x), ref(x), **TOL)
    torch.testing.assert_close(ours.running_var, ref.running_var, **TOL)
    ours.eval()
    ref.eval()
    x = batches((5, 4), 1, seed=2)[0]
    torch.testing.assert_close(ours(x), ref(x), **TOL)


def test_float32_within_single_precision():
    """In float32 (PyTorch's default) the layers agree to single precision, rtol 1e-5."""
    ours, ref = normalization.BatchNorm2d(3, dtype=torch.float32), nn.BatchNorm2d(3, dtype=torch.float32)
    for x in batches((8, 3, 4, 4), 3):
        torch.testing.assert_close(ours(x.float()), ref(x.float()), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.running_mean, ref.running_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours.running_var, ref.running_var, rtol=1e-5, atol=1e-6)
    assert ours.running_var.dtype == torch.float32


def test_layer_norm_equals_torch():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 12) * 4 + 2
    ln = normalization.LayerNorm(12)
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    torch.testing.assert_close(
        ln(x), F.layer_norm(x, (12,), ln.weight, ln.bias), atol=1e-5, rtol=1e-5
    )
