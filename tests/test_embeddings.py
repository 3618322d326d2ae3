"""Counting and predicting word vectors (chapter 15) against naive loops, exact linear algebra and
autograd. Tolerances: 1e-12 for float64 identities, 1e-2 relative for the randomized SVD."""

import numpy as np
import pytest
import torch

from dlbook import embeddings as E


@pytest.fixture
def toy_ids():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 12, size=400)
    ids[rng.random(400) < 0.1] = -1  # some words outside the vocabulary
    return ids


def test_play_words_drops_speaker_lines_and_lowercases():
    text = "First Citizen:\nBefore we proceed, hear me speak.\n\nKING RICHARD III:\nO'er the king's land:\n"
    assert E.play_words(text) == ["before", "we", "proceed", "hear", "me", "speak", "o'er", "the",
                                  "king's", "land"]


def test_vocab_is_sorted_by_count_then_alphabetically():
    itos, counts = E.build_vocab(["b", "a", "b", "c", "a", "b", "d"], min_count=2)
    assert itos == ["b", "a"] and counts.tolist() == [3, 2]
    assert E.encode_words(["a", "d", "b"], itos).tolist() == [1, -1, 0]
    with pytest.raises(ValueError, match="no word"):
        E.build_vocab(["a"], min_count=2)


@pytest.mark.parametrize("window", [1, 3])
def test_cooccurrence_counts_equal_a_naive_loop(toy_ids, window):
    C = E.cooccurrence_counts(toy_ids, 12, window)
    expected = np.zeros((12, 12))
    for i in range(len(toy_ids)):
        for j in range(max(0, i - window), min(len(toy_ids), i + window + 1)):
            if i != j and toy_ids[i] >= 0 and toy_ids[j] >= 0:
                expected[toy_ids[i], toy_ids[j]] += 1
    np.testing.assert_array_equal(C, expected)
    with pytest.raises(ValueError, match="window"):
        E.cooccurrence_counts(toy_ids, 12, 0)


@pytest.mark.parametrize("alpha", [1.0, 0.75])
def test_ppmi_equals_the_definition_entry_by_entry(toy_ids, alpha):
    C = E.cooccurrence_counts(toy_ids, 12, 2)
    C[0, 1] = C[1, 0] = 0.0  # a zero count must give 0
    M = E.ppmi(C, alpha)
    total, col = C.sum(), C.sum(axis=0) ** alpha
    for i in range(12):
        for j in range(12):
            if C[i, j] == 0:
                assert M[i, j] == 0
            else:
                pmi = np.log((C[i, j] / total) / (C[i].sum() / total) / (col[j] / col.sum()))
                assert M[i, j] == pytest.approx(max(pmi, 0.0), abs=1e-12)
    with pytest.raises(ValueError, match="square"):
        E.ppmi(np.ones((2, 3)))


def test_svd_embeddings_give_the_best_low_rank_approximation():
    rng = np.random.default_rng(1)
    M = rng.normal(size=(60, 4)) @ rng.normal(size=(4, 50)) + 0.05 * rng.normal(size=(60, 50))
    U, S, Vt = np.linalg.svd(M)
    for dim in (2, 4, 10):
        W, C = E.svd_embeddings(M, dim)
        assert W.shape == (60, dim) and C.shape == (50, dim)
        best = np.sqrt(np.sum(S[dim:] ** 2))
        assert np.linalg.norm(M - W @ C.T) == pytest.approx(best, rel=1e-2)
    # when dim + 16 covers the whole matrix the factorization is exact up to rounding
    W, C = E.svd_embeddings(M[:, :20], 5)
    U, S, Vt = np.linalg.svd(M[:, :20])
    np.testing.assert_allclose(W @ C.T, (U[:, :5] * S[:5]) @ Vt[:5], atol=1e-10)
    with pytest.raises(ValueError, match="dim"):
        E.svd_embeddings(M, 0)


def test_pairs_and_cbow_examples_match_the_text():
    ids = np.array([0, 1, -1, 2, 3])
    centres, contexts = E.skipgram_pairs(ids, 2)
    pairs = sorted(zip(centres.tolist(), contexts.tolist()))
    # distance 1: (0, 1) and (2, 3); distance 2: (1, 2); the -1 takes part in no pair
    assert pairs == sorted([(0, 1), (1, 0), (2, 3), (3, 2), (1, 2), (2, 1)])
    ctx, cen = E.cbow_examples(ids, 1)
    assert cen.tolist() == [0, 1, 2, 3]
    assert ctx.tolist() == [[-1, 1], [0, -1], [-1, 3], [2, -1]]


def test_subsampling_keeps_rare_words_and_thins_frequent_ones():
    counts = np.array([10_000, 10])
    ids = np.array([0] * 10_000 + [1] * 10 + [-1] * 5)
    kept = E.subsample_frequent(ids, counts, t=1e-3, rng=np.random.default_rng(0))
    assert np.sum(kept == 1) == 10 and -1 not in kept
    keep_prob = np.sqrt(1e-3 / (10_000 / 10_010)) + 1e-3 / (10_000 / 10_010)
    assert np.sum(kept == 0) / 10_000 == pytest.approx(keep_prob, abs=0.01)


def test_negative_sampling_gradients_match_autograd():
    g = torch.Generator().manual_seed(0)
    v, u_pos = (torch.randn(6, 4, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(2))
    u_neg = torch.randn(6, 3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    loss, g_v, g_pos, g_neg = E.negative_sampling_grads(v.detach(), u_pos.detach(), u_neg.detach())
    expected = -(torch.log(torch.sigmoid((u_pos * v).sum(1)))
                 + torch.log(torch.sigmoid(-(u_neg @ v[:, :, None])[..., 0])).sum(1)).mean()
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    for ours, ref in ((g_v, v.grad), (g_pos, u_pos.grad), (g_neg, u_neg.grad)):
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)


def test_models_compute_the_negative_sampling_loss():
    torch.manual_seed(0)
    sg = E.SkipGramNS(10, 4).double()
    torch.nn.init.normal_(sg.out_embed.weight)
    c, o, n = torch.tensor([1, 2]), torch.tensor([3, 4]), torch.tensor([[5, 6], [7, 8]])
    loss, *_ = E.negative_sampling_grads(sg.in_embed.weight[c], sg.out_embed.weight[o], sg.out_embed.weight[n])
    assert sg(c, o, n).item() == pytest.approx(loss.item(), rel=1e-12)
    cbow = E.CBOWNS(10, 4).double()
    ctx = torch.tensor([[1, 2, -1, 3], [4, -1, -1, -1]])
    hidden = torch.stack([cbow.in_embed.weight[[1, 2, 3]].mean(0), cbow.in_embed.weight[4]])
    torch.testing.assert_close(cbow.hidden(ctx), hidden, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="centres"):
        sg(c, o[:1], n)


def test_training_gives_words_with_the_same_contexts_similar_vectors():
    """Words 0 and 1 always occur next to word 4, words 2 and 3 next to word 5: after training,
    each word's nearest neighbour (input vectors, cosine) is its partner."""
    rng = np.random.default_rng(0)
    sentences = [[0, 4], [1, 4], [2, 5], [3, 5]]
    text = np.concatenate([sentences[k] + [-1] for k in rng.integers(0, 4, 4000)])  # -1 separates
    centres, contexts = E.skipgram_pairs(text, 1)
    torch.manual_seed(0)
    net = E.SkipGramNS(6, 8)
    losses, snaps = E.train_negative_sampling(
        net, torch.from_numpy(centres), torch.from_numpy(contexts), np.ones(6) / 6,
        num_epochs=3, batch_size=256, num_negatives=3, lr=0.05, snapshot_steps=(0, 5))
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    assert set(snaps) == {0, 5} and snaps[0].shape == (6, 8)
    itos = ["a", "b", "c", "d", "x", "y"]
    W = net.in_embed.weight
    assert E.nearest_neighbours(W, itos, "a", 1)[0][0] == "b"
    assert E.nearest_neighbours(W, itos, "c", 1)[0][0] == "d"


def test_nearest_neighbours_by_cosine():
    E_ = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    result = E.nearest_neighbours(E_, ["a", "b", "c", "d"], "a", k=3)
    assert [w for w, _ in result] == ["b", "c", "d"]
    assert result[0][1] == pytest.approx(0.9 / np.hypot(0.9, 0.1), rel=1e-12)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        E.nearest_neighbours(E_, ["a", "b", "c", "d"], "z")
