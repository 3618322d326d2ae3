"""dlbook.transformer against PyTorch's transformer layers (tolerance 1e-5) and known answers."""

import itertools

import pytest
import torch
from torch import nn

from dlbook import attention, transformer


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "norm_first, activation", list(itertools.product([False, True], ["relu", "gelu"]))
)
def test_encoder_layer_equals_torch(norm_first, activation):
    theirs = nn.TransformerEncoderLayer(
        16, 4, 32, dropout=0.0, activation=activation, norm_first=norm_first, batch_first=True
    )
    ours = transformer.EncoderLayer(
        16, 4, 32, activation=activation, norm_first=norm_first
    ).copy_from_torch(theirs)
    x = torch.randn(3, 7, 16)
    real = attention.padding_mask(torch.tensor([7, 4, 1]))
    out, weights = ours(x, key_mask=real)
    ref = theirs(
        x, src_key_padding_mask=~real
    )  # training mode: no fast path, all positions computed
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert weights.shape == (3, 4, 7, 7)


@pytest.mark.parametrize(
    "norm_first, activation", list(itertools.product([False, True], ["relu", "gelu"]))
)
def test_decoder_layer_equals_torch(norm_first, activation):
    theirs = nn.TransformerDecoderLayer(
        16, 4, 32, dropout=0.0, activation=activation, norm_first=norm_first, batch_first=True
    )
    ours = transformer.DecoderLayer(
        16, 4, 32, activation=activation, norm_first=norm_first
    ).copy_from_torch(theirs)
    y, memory = torch.randn(2, 5, 16), torch.randn(2, 6, 16)
    causal, real = attention.causal_mask(5), attention.padding_mask(torch.tensor([6, 2]))
    out, w_self, w_cross = ours(y, memory, mask=causal, memory_key_mask=real)
    ref = theirs(y, memory, tgt_mask=~causal, memory_key_padding_mask=~real)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert w_self.shape == (2, 4, 5, 5) and w_cross.shape == (2, 4, 5, 6)
    assert torch.all(w_cross[1, :, :, 2:] == 0) and torch.all(w_self.triu(1) == 0)


def test_copy_from_torch_rejects_a_different_layer():
    ours = transformer.EncoderLayer(16, 4, 32, norm_first=False)
    with pytest.raises(ValueError, match="norm_first"):
        ours.copy_from_torch(
            nn.TransformerEncoderLayer(16, 4, 32, norm_first=True, batch_first=True)
        )
    with pytest.raises(ValueError, match="activation"):
        ours.copy_from_torch(
            nn.TransformerEncoderLayer(16, 4, 32, activation="gelu", batch_first=True)
        )


def small_model(**kw):
    torch.manual_seed(1)
    return transformer.Seq2SeqTransformer(
        9, 6, d_model=16, num_heads=2, d_ff=32, max_len=12, **kw
    ).eval()


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_is_causal_and_padding_does_not_matter(norm_first):
    net = small_model(norm_first=norm_first)
    src = torch.tensor([[3, 4, 5, 0, 0]])
    memory, key_mask = net.encode(src)
    a = net.decode(torch.tensor([[1, 3, 4, 5]]), memory, key_mask)
    b = net.decode(torch.tensor([[1, 3, 5, 5]]), memory, key_mask)
    torch.testing.assert_close(a[:, :2], b[:, :2])  # positions before the change are unchanged
    assert not torch.allclose(a[:, 2:], b[:, 2:])
    torch.testing.assert_close(
        net(src, torch.tensor([[1, 3]])),
        net(src[:, :3], torch.tensor([[1, 3]])),
        atol=1e-5,
        rtol=1e-5,
    )


def test_beam_of_one_is_greedy():
    net = small_model()
    src = torch.randint(3, 9, (5, 6))
    greedy, greedy_logp = transformer.greedy_decode(net, src, 1, 2, max_len=6)
    beam, beam_logp = transformer.beam_search(net, src, 1, 2, max_len=6, beam_size=1)
    assert torch.equal(greedy, beam)
    torch.testing.assert_close(greedy_logp, beam_logp)


def sequence_log_prob(net, src, seq, bos=1):
    """Teacher-forced log-probability of `seq` (list of ids, END included)."""
    tgt_in = torch.tensor([[bos] + seq[:-1]])
    logp = torch.log_softmax(net(src, tgt_in), -1)[0]
    return sum(logp[t, tok].item() for t, tok in enumerate(seq))


def test_wide_beam_finds_the_most_likely_sequence_by_brute_force():
    """Vocabulary {PAD, BEGIN, END, 3, 4, 5}, at most 3 tokens: enumerate every possible output."""
    net = small_model()
    src = torch.tensor([[3, 7, 8, 4]])
    candidates = []
    for length in range(0, 3):
        for body in itertools.product([3, 4, 5], repeat=length):
            candidates.append(list(body) + [2])  # ends with END
    candidates += [
        list(body) for body in itertools.product([2, 3, 4, 5], repeat=3) if 2 not in body
    ]  # cut at max_len
    scores = {tuple(c): sequence_log_prob(net, src, c) for c in candidates}
    best = max(scores, key=scores.get)
    tokens, logp = transformer.beam_search(net, src, 1, 2, max_len=3, beam_size=len(candidates))
    found = [t for t in tokens[0].tolist() if t != 0]
    assert tuple(found) == best
    assert logp.item() == pytest.approx(scores[best], abs=1e-4)
    _, greedy_logp = transformer.greedy_decode(net, src, 1, 2, max_len=3)
    assert logp.item() >= greedy_logp.item() - 1e-5


def test_greedy_log_prob_and_prefix():
    net = small_model()
    src = torch.randint(3, 9, (4, 5))
    tokens, logp = transformer.greedy_decode(net, src, 1, 2, max_len=5)
    for i in range(4):
        seq = tokens[i].tolist()
        seq = seq[: seq.index(2) + 1] if 2 in seq else seq
        assert logp[i].item() == pytest.approx(
            sequence_log_prob(net, src[i : i + 1], seq), abs=1e-4
        )
    # forcing the model's own first two tokens as a prefix changes nothing
    cont, _ = transformer.greedy_decode(net, src, 1, 2, max_len=5, prefix=tokens[:, :2])
    assert torch.equal(cont, tokens)
    assert not torch.isin(tokens, torch.tensor([1])).any()  # BEGIN is never produced


def test_language_model_causality():
    torch.manual_seed(2)
    causal = transformer.TransformerLM(
        10, d_model=16, num_heads=2, num_layers=2, d_ff=32, max_len=8, causal=True
    )
    bidirectional = transformer.TransformerLM(
        10, d_model=16, num_heads=2, num_layers=2, d_ff=32, max_len=8, causal=False
    )
    a, b = torch.tensor([[1, 2, 3, 4, 5]]), torch.tensor([[1, 2, 3, 9, 9]])
    torch.testing.assert_close(causal(a)[:, :3], causal(b)[:, :3])
    assert not torch.allclose(bidirectional(a)[:, :3], bidirectional(b)[:, :3])
    logits, weights = causal(a, return_attention=True)
    assert logits.shape == (1, 5, 10) and len(weights) == 2 and torch.all(weights[0].triu(1) == 0)


def test_decoding_rejects_bad_arguments():
    net = small_model()
    with pytest.raises(ValueError, match="beam_size"):
        transformer.beam_search(net, torch.tensor([[3, 4]]), 1, 2, max_len=3, beam_size=0)
    with pytest.raises(ValueError, match=r"\(B, S\)"):
        transformer.greedy_decode(net, torch.tensor([3, 4]), 1, 2, max_len=3)
    with pytest.raises(ValueError, match="prefix"):
        transformer.greedy_decode(
            net, torch.tensor([[3, 4]]), 1, 2, max_len=3, prefix=torch.tensor([[3, 3, 3]])
        )
    with pytest.raises(ValueError, match="activation"):
        transformer.FeedForward(8, 16, activation="tanh")


@pytest.mark.parametrize("norm_first", [False, True])
def test_key_value_cache_equals_recomputing_the_prefix(norm_first):
    """Scores from the cache, fed one token (or a chunk) at a time, equal decode() on the prefix."""
    net = small_model(norm_first=norm_first, num_decoder_layers=2)
    src = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 3, 4], [5, 0, 0, 0, 0]])
    tgt = torch.tensor([[1, 3, 4, 5, 2, 0], [1, 5, 5, 3, 4, 2], [1, 4, 2, 0, 0, 0]])
    memory, key_mask = net.encode(src)
    with torch.no_grad():
        full = net.decode(tgt, memory, key_mask)  # (B, T, V)
        cache = transformer._DecoderCache(net, memory, key_mask)
        first = cache.step(tgt[:, :3])  # a chunk, as a forced prefix is fed
        rest = [cache.step(tgt[:, t : t + 1]) for t in range(3, tgt.shape[1])]
    torch.testing.assert_close(torch.cat([first, *rest], dim=1), full, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="token ids"):
        cache.step(torch.tensor([[9], [0], [0]]))  # outside the target vocabulary


@pytest.mark.parametrize("norm_first", [False, True])
def test_cached_decoding_gives_the_outputs_of_full_recomputation(norm_first):
    net = small_model(norm_first=norm_first, num_decoder_layers=2)
    src = torch.randint(3, 9, (16, 6))
    for kwargs in ({}, {"prefix": torch.randint(3, 6, (16, 2))}):
        fast, fast_logp = transformer.greedy_decode(net, src, 1, 2, max_len=7, **kwargs)
        slow, slow_logp = transformer.greedy_decode(net, src, 1, 2, max_len=7, use_cache=False, **kwargs)
        assert torch.equal(fast, slow)
        torch.testing.assert_close(fast_logp, slow_logp, atol=1e-5, rtol=1e-5)
    fast, fast_logp = transformer.beam_search(net, src, 1, 2, max_len=7, beam_size=3)
    slow, slow_logp = transformer.beam_search(net, src, 1, 2, max_len=7, beam_size=3, use_cache=False)
    assert torch.equal(fast, slow)
    torch.testing.assert_close(fast_logp, slow_logp, atol=1e-5, rtol=1e-5)
