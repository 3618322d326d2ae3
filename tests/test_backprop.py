"""Backpropagation by hand against autograd, for every parameter (float64, rtol 1e-10)."""

import pytest
import torch
import torch.nn.functional as F

from dlbook import backprop

TOL = dict(rtol=1e-10, atol=1e-12)


def random_mlp(sizes, seed=0):
    g = torch.Generator().manual_seed(seed)
    weights = [torch.randn(o, i, generator=g, dtype=torch.float64) / i**0.5 for i, o in zip(sizes, sizes[1:])]
    biases = [0.1 * torch.randn(o, generator=g, dtype=torch.float64) for o in sizes[1:]]
    return weights, biases


def autograd_gradients(weights, biases, X, loss_fn, hidden, output):
    net = backprop.mlp_module(weights, biases, hidden, output)
    net.zero_grad()
    loss = loss_fn(net(X))
    loss.backward()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    return loss, [m.weight.grad for m in linears], [m.bias.grad for m in linears]


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu", "gelu"])
def test_every_gradient_matches_autograd_for_mse(hidden):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(16, 5, generator=g, dtype=torch.float64)
    y = torch.randn(16, 2, generator=g, dtype=torch.float64)
    weights, biases = random_mlp([5, 7, 6, 2])
    y_hat, cache = backprop.mlp_forward(X, weights, biases, hidden=hidden)
    loss, grad_out = backprop.mse_loss_grad(y_hat, y)
    grads = backprop.mlp_backward(cache, grad_out)
    ref_loss, ref_W, ref_b = autograd_gradients(weights, biases, X, lambda out: F.mse_loss(out, y), hidden, "identity")
    torch.testing.assert_close(loss, ref_loss, **TOL)
    for mine, ref in zip(grads.weights + grads.biases, ref_W + ref_b):
        torch.testing.assert_close(mine, ref, **TOL)


def test_every_gradient_matches_autograd_for_cross_entropy():
    g = torch.Generator().manual_seed(2)
    X = torch.randn(32, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (32,), generator=g)
    weights, biases = random_mlp([4, 8, 8, 8, 3], seed=3)
    logits, cache = backprop.mlp_forward(X, weights, biases, hidden="relu")
    loss, grad_out = backprop.cross_entropy_loss_grad(logits, y)
    grads = backprop.mlp_backward(cache, grad_out)
    ref_loss, ref_W, ref_b = autograd_gradients(weights, biases, X, lambda out: F.cross_entropy(out, y),
                                                "relu", "identity")
    torch.testing.assert_close(loss, ref_loss, **TOL)
    for mine, ref in zip(grads.weights + grads.biases, ref_W + ref_b):
        torch.testing.assert_close(mine, ref, **TOL)


def test_sigmoid_output_layer_and_deltas_are_dC_dz():
    g = torch.Generator().manual_seed(4)
    X = torch.randn(3, 2, generator=g, dtype=torch.float64)
    y = torch.rand(3, 2, generator=g, dtype=torch.float64)
    weights, biases = random_mlp([2, 2, 2, 2], seed=5)
    y_hat, cache = backprop.mlp_forward(X, weights, biases, hidden="sigmoid", output="sigmoid")
    _, grad_out = backprop.mse_loss_grad(y_hat, y)
    grads = backprop.mlp_backward(cache, grad_out)
    zs = [z.clone().requires_grad_(True) for z in cache.pre_activations]
    for z in zs:
        z.retain_grad()
    # recompute the loss from each z^(l) onwards and compare dC/dz with the stored deltas
    for l, z in enumerate(zs):
        a = torch.sigmoid(z)
        for W, b in zip(weights[l + 1:], biases[l + 1:]):
            a = torch.sigmoid(a @ W.T + b)
        F.mse_loss(a, y).backward()
        torch.testing.assert_close(grads.deltas[l], z.grad, **TOL)


def test_forward_matches_the_torch_module():
    weights, biases = random_mlp([3, 4, 1], seed=6)
    X = torch.randn(10, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    y_hat, _ = backprop.mlp_forward(X, weights, biases, hidden="tanh", output="sigmoid")
    with torch.no_grad():
        expected = backprop.mlp_module(weights, biases, "tanh", "sigmoid")(X)
    torch.testing.assert_close(y_hat, expected, **TOL)


def test_lecture_network_gives_the_notes_numbers():
    weights = [torch.tensor([[1.0, -2.0], [-1.0, 1.0]]), torch.tensor([[2.0, -1.0], [-2.0, -1.0]]),
               torch.tensor([[3.0, -1.0], [-1.0, 4.0]])]
    biases = [torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.0]), torch.tensor([-2.0, 2.0])]
    y_hat, cache = backprop.mlp_forward(torch.tensor([[1.0, -1.0]]), weights, biases, "sigmoid", "sigmoid")
    layer_outputs = [torch.sigmoid(z) for z in cache.pre_activations]
    rounded = [torch.round(a * 100).squeeze(0).tolist() for a in layer_outputs]
    assert rounded == [[98.0, 12.0], [86.0, 11.0], [62.0, 83.0]]


def test_parameters_round_trip_through_torch():
    weights, biases = random_mlp([3, 5, 2], seed=8)
    W2, b2 = backprop.mlp_parameters(backprop.mlp_module(weights, biases))
    for a, b in zip(weights + biases, W2 + b2):
        assert torch.equal(a, b)


def test_bad_shapes_are_refused():
    weights, biases = random_mlp([3, 4, 1])
    with pytest.raises(ValueError, match=r"layer 1: expected W of shape \(d_1, 2\)"):
        backprop.mlp_forward(torch.zeros(5, 2, dtype=torch.float64), weights, biases)
    with pytest.raises(ValueError, match=r"\(N, d_0\)"):
        backprop.mlp_forward(torch.zeros(5), weights, biases)
    _, cache = backprop.mlp_forward(torch.zeros(5, 3, dtype=torch.float64), weights, biases)
    with pytest.raises(ValueError, match=r"\(5, 1\)"):
        backprop.mlp_backward(cache, torch.zeros(5, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="one shape"):
        backprop.mse_loss_grad(torch.zeros(2, 1), torch.zeros(2))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        backprop.cross_entropy_loss_grad(torch.zeros(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="unknown activation"):
        backprop.mlp_forward(torch.zeros(5, 3, dtype=torch.float64), weights, biases, hidden="step")
