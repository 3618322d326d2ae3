"""dlbook.attention against PyTorch (float32, tolerance 1e-5 unless stated) and known answers."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dlbook import attention


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("scale", [None, 1.0, 0.3])
def test_scaled_dot_product_attention_equals_torch(scale):
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4)
    ours, weights = attention.scaled_dot_product_attention(q, k, v, scale=scale)
    theirs = F.scaled_dot_product_attention(q, k, v, scale=scale)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5))


def test_masked_attention_equals_torch_and_gives_masked_keys_zero_weight():
    q, k, v = torch.randn(4, 6, 8), torch.randn(4, 9, 8), torch.randn(4, 9, 8)
    mask = torch.rand(4, 6, 9) > 0.4
    mask[..., 0] = True  # every query keeps at least one key
    ours, weights = attention.scaled_dot_product_attention(q, k, v, mask=mask)
    torch.testing.assert_close(
        ours, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-5, rtol=1e-5
    )
    assert torch.all(weights[~mask] == 0)


def test_a_fully_masked_query_gets_zero_output_not_nan():
    q, k, v = torch.randn(1, 2, 4), torch.randn(1, 3, 4), torch.randn(1, 3, 4)
    mask = torch.tensor([[True, False, True], [False, False, False]])
    out, weights = attention.scaled_dot_product_attention(q, k, v, mask=mask)
    assert torch.isfinite(out).all() and torch.all(out[0, 1] == 0) and torch.all(weights[0, 1] == 0)


def test_the_course_steps_give_the_matrix_form():
    """b^1 = sum_j softmax_j(q^1 . k^j) v^j, the step-by-step computation of the lecture."""
    X = torch.randn(4, 3)
    W_q, W_k, W_v = torch.randn(3, 2), torch.randn(3, 2), torch.randn(3, 2)
    q1 = X[0] @ W_q
    scores = torch.stack([q1 @ (X[j] @ W_k) for j in range(4)])
    b1 = sum(torch.softmax(scores, 0)[j] * (X[j] @ W_v) for j in range(4))
    B, _ = attention.scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v, scale=1.0)
    torch.testing.assert_close(B[0], b1)


def test_additive_scores_equal_an_explicit_loop():
    q, k = torch.randn(2, 3, 5), torch.randn(2, 4, 6)
    W_q, W_k, w = torch.randn(5, 7), torch.randn(6, 7), torch.randn(7)
    scores = attention.additive_attention_scores(q, k, W_q, W_k, w)
    assert scores.shape == (2, 3, 4)
    for b in range(2):
        for i in range(3):
            for j in range(4):
                expected = w @ torch.tanh(q[b, i] @ W_q + k[b, j] @ W_k)
                torch.testing.assert_close(scores[b, i, j], expected)


@pytest.mark.parametrize("bias", [True, False])
def test_multi_head_attention_equals_torch_with_copied_weights(bias):
    d_model, h = 24, 4
    theirs = nn.MultiheadAttention(d_model, h, bias=bias, batch_first=True)
    ours = attention.MultiHeadAttention(d_model, h, bias=bias).copy_from_torch(theirs)
    query, key = torch.randn(3, 5, d_model), torch.randn(3, 8, d_model)
    key_mask = attention.padding_mask(torch.tensor([8, 3, 6]))
    causal = attention.causal_mask(5)
    out, w = ours(query, key, key, key_mask=key_mask)
    ref, ref_w = theirs(query, key, key, key_padding_mask=~key_mask, average_attn_weights=False)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w, ref_w, atol=1e-6, rtol=1e-5)
    x = torch.randn(2, 5, d_model)  # self-attention with a causal mask
    out, _ = ours(x, mask=causal)
    ref, _ = theirs(x, x, x, attn_mask=~causal)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_multi_head_attention_gradients_equal_torch():
    theirs = nn.MultiheadAttention(16, 2, batch_first=True)
    ours = attention.MultiHeadAttention(16, 2).copy_from_torch(theirs)
    x = torch.randn(2, 6, 16)
    ours(x)[0].pow(2).sum().backward()
    theirs(x, x, x)[0].pow(2).sum().backward()
    torch.testing.assert_close(
        ours.W_o.weight.grad, theirs.out_proj.weight.grad, atol=1e-5, rtol=1e-4
    )
    torch.testing.assert_close(
        ours.W_q.weight.grad, theirs.in_proj_weight.grad[:16], atol=1e-5, rtol=1e-4
    )


def test_self_attention_is_permutation_equivariant():
    mha = attention.MultiHeadAttention(8, 2)
    x, perm = torch.randn(1, 6, 8), torch.tensor([3, 0, 5, 1, 4, 2])
    torch.testing.assert_close(mha(x[:, perm])[0], mha(x)[0][:, perm], atol=1e-6, rtol=1e-5)


def test_masks():
    assert attention.padding_mask(torch.tensor([2, 0, 3])).tolist() == [
        [True, True, False],
        [False, False, False],
        [True, True, True],
    ]
    assert attention.padding_mask([1], max_len=3).tolist() == [[True, False, False]]
    assert torch.equal(attention.causal_mask(4), torch.tril(torch.ones(4, 4, dtype=torch.bool)))
    local = attention.local_mask(5, 1)
    assert local.sum().item() == 5 + 2 * 4 and local[0].tolist() == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_padding_mask_makes_the_output_independent_of_padding():
    mha = attention.MultiHeadAttention(8, 2)
    x = torch.randn(1, 7, 8)
    alone, _ = mha(x[:, :4])
    padded, _ = mha(x, key_mask=attention.padding_mask([4], max_len=7))
    torch.testing.assert_close(padded[:, :4], alone, atol=1e-6, rtol=1e-5)


def test_sinusoidal_positional_encoding_formula_and_rotation():
    pe = attention.sinusoidal_positional_encoding(50, 16)
    assert pe.shape == (50, 16) and pe.dtype == torch.float32
    p, m = 7, 3
    omega = 10000 ** (-2 * m / 16)
    assert pe[p, 2 * m].item() == pytest.approx(math.sin(p * omega), abs=1e-6)
    assert pe[p, 2 * m + 1].item() == pytest.approx(math.cos(p * omega), abs=1e-6)
    k = 5  # PE[p + k] is a rotation of PE[p], the same for every p
    c, s = math.cos(k * omega), math.sin(k * omega)
    rot = torch.tensor([[c, s], [-s, c]])
    for p in (0, 11, 30):
        torch.testing.assert_close(
            rot @ pe[p, 2 * m : 2 * m + 2], pe[p + k, 2 * m : 2 * m + 2], atol=1e-5, rtol=1e-5
        )
    assert len({tuple(row.tolist()) for row in pe}) == 50  # every position is distinct


@pytest.mark.parametrize("n, d", [(16, 8), (48, 32)])
def test_layer_costs_equal_torch_flop_counter(n, d):
    layers = {
        "self-attention": (attention.MultiHeadAttention(d, 4, bias=False), lambda m, x: m(x)),
        "RNN": (nn.RNN(d, d, bias=False, batch_first=True), lambda m, x: m(x)),
        "CNN": (nn.Conv1d(d, d, 3, padding=1, bias=False), lambda m, x: m(x.transpose(1, 2))),
    }
    costs = attention.layer_costs(n, d, kernel_size=3)
    for name, (module, call) in layers.items():
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            call(module, torch.randn(1, n, d))
        assert counter.get_total_flops() == 2 * costs[name]["multiply_adds"], name
    assert costs["RNN"]["sequential_steps"] == n and costs["self-attention"]["max_path_length"] == 1
    assert costs["CNN"]["max_path_length"] == math.ceil((n - 1) / 2)


def test_bad_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="d_k"):
        attention.scaled_dot_product_attention(
            torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
        )
    with pytest.raises(ValueError, match="boolean"):
        attention.scaled_dot_product_attention(
            torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3), mask=torch.ones(2, 2)
        )
    with pytest.raises(ValueError, match="divide"):
        attention.MultiHeadAttention(10, 3)
    mha = attention.MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"\(B, L, 8\)"):
        mha(torch.randn(2, 3, 5))
    with pytest.raises(ValueError, match="key_mask"):
        mha(torch.randn(2, 3, 8), key_mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="sizes differ"):
        mha.copy_from_torch(nn.MultiheadAttention(8, 4))
    with pytest.raises(ValueError, match="even"):
        attention.sinusoidal_positional_encoding(4, 5)
    with pytest.raises(ValueError, match="exceeds"):
        attention.padding_mask([5], max_len=3)
    with pytest.raises(ValueError, match="window"):
        attention.local_mask(4, -1)
    with pytest.raises(ValueError, match="kernel_size"):
        attention.layer_costs(4, 4, kernel_size=1)
