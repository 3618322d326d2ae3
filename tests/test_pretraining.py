"""dlbook.pretraining: the masking recipe's statistics, the masked-LM loss against
F.cross_entropy, the encoder against PyTorch's layers, pairs, patches, steps and sampling."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import pretraining as pt

V = 50


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_mask_tokens_follows_the_15_80_10_10_recipe():
    tokens = torch.randint(pt.MASK_ID + 1, V, (400, 250))
    tokens[:, 0], tokens[:, -1] = pt.CLS_ID, pt.SEP_ID
    g = torch.Generator().manual_seed(0)
    inputs, labels = pt.mask_tokens(tokens, V, 0.15, generator=g)
    chosen = labels != pt.IGNORE_INDEX
    ordinary = tokens >= len(pt.SPECIAL_TOKENS)
    n = int(ordinary.sum())
    rate = chosen.sum().item() / n
    assert abs(rate - 0.15) < 4 * (0.15 * 0.85 / n) ** 0.5  # within 4 standard errors
    assert not chosen[:, [0, -1]].any()  # [CLS] and [SEP] are never chosen
    assert torch.equal(labels[chosen], tokens[chosen])  # labels are the original tokens
    assert torch.equal(inputs[~chosen], tokens[~chosen])  # the rest is untouched
    m = chosen.sum().item()
    to_mask = (inputs[chosen] == pt.MASK_ID).sum().item() / m
    unchanged = (inputs[chosen] == tokens[chosen]).sum().item() / m
    swapped = 1 - to_mask - unchanged
    se = (0.1 * 0.9 / m) ** 0.5
    assert abs(to_mask - 0.8) < 4 * (0.8 * 0.2 / m) ** 0.5
    # a random draw can hit the original token (probability 1/45 here), counted as unchanged
    p_same = 1 / (V - len(pt.SPECIAL_TOKENS))
    assert abs(unchanged - (0.1 + 0.1 * p_same)) < 4 * se
    assert abs(swapped - 0.1 * (1 - p_same)) < 4 * se
    assert inputs[chosen & (inputs != pt.MASK_ID)].min() >= len(pt.SPECIAL_TOKENS)


def test_mask_tokens_is_repeatable_and_never_touches_padding():
    tokens = torch.randint(5, V, (8, 20))
    tokens[:, 15:] = pt.PAD_ID
    a = pt.mask_tokens(tokens, V, 0.5, generator=torch.Generator().manual_seed(3))
    b = pt.mask_tokens(tokens, V, 0.5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert (a[1][:, 15:] == pt.IGNORE_INDEX).all() and (a[0][:, 15:] == pt.PAD_ID).all()


@pytest.mark.parametrize("rate", [0.0, 1.0, -0.1, 1.5])
def test_mask_tokens_rejects_rates_outside_0_1(rate):
    with pytest.raises(ValueError, match="mask_rate"):
        pt.mask_tokens(torch.randint(5, V, (2, 4)), V, rate)


def test_mask_tokens_rejects_ids_outside_the_vocabulary():
    with pytest.raises(ValueError, match=r"\[0, 50\).*got ids from 5 to 50"):
        pt.mask_tokens(torch.tensor([[5, 50]]), V)
    with pytest.raises(ValueError, match="int64"):
        pt.mask_tokens(torch.rand(2, 3), V)


def test_masked_lm_loss_equals_cross_entropy_on_masked_positions():
    logits = torch.randn(4, 9, V, requires_grad=True)
    labels = torch.full((4, 9), pt.IGNORE_INDEX)
    labels[0, 2], labels[1, 5], labels[3, 0], labels[3, 8] = 7, 0, 49, 12
    ours = pt.masked_lm_loss(logits, labels)
    theirs = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=pt.IGNORE_INDEX)
    torch.testing.assert_close(ours, theirs)
    g1, = torch.autograd.grad(ours, logits)
    g2, = torch.autograd.grad(theirs, logits)
    torch.testing.assert_close(g1, g2)
    assert g1[2].abs().sum() == 0  # a sequence without chosen positions gets no gradient


def test_masked_lm_loss_by_hand():
    # two chosen positions over a vocabulary of 2: scores (0, 0) -> log 2; (log 3, 0), label 0 -> log(4/3)
    logits = torch.zeros(1, 3, 2)
    logits[0, 2, 0] = torch.log(torch.tensor(3.0))
    labels = torch.tensor([[1, pt.IGNORE_INDEX, 0]])
    expected = (torch.log(torch.tensor(2.0)) + torch.log(torch.tensor(4 / 3))) / 2
    torch.testing.assert_close(pt.masked_lm_loss(logits, labels), expected)


def test_masked_lm_loss_errors():
    with pytest.raises(ValueError, match=r"\(B, L, V\).*\(2, 3, 5\) and \(2, 4\)"):
        pt.masked_lm_loss(torch.randn(2, 3, 5), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="no position"):
        pt.masked_lm_loss(torch.randn(2, 3, 5), torch.full((2, 3), pt.IGNORE_INDEX))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        pt.masked_lm_loss(torch.randn(1, 2, 5), torch.tensor([[5, pt.IGNORE_INDEX]]))


def test_next_sentence_pairs_are_half_successors_and_never_wrong():
    sentences = list(range(1000))
    firsts, seconds, is_next = pt.next_sentence_pairs(sentences, seed=1)
    assert len(firsts) == len(seconds) == len(is_next) == 999
    follows = torch.tensor([b == a + 1 for a, b in zip(firsts, seconds)])
    assert torch.equal(follows, is_next.bool())  # label 1 exactly when b follows a
    assert abs(is_next.float().mean().item() - 0.5) < 4 * (0.25 / 999) ** 0.5
    f2, s2, n2 = pt.next_sentence_pairs(sentences, 50, seed=1)
    assert len(f2) == 50 and pt.next_sentence_pairs(sentences, 50, seed=1)[1] == s2
    with pytest.raises(ValueError, match="at least 3"):
        pt.next_sentence_pairs([1, 2])
    with pytest.raises(ValueError, match="num_pairs"):
        pt.next_sentence_pairs(sentences, 0)


def test_pack_sequences_layout_segments_and_truncation():
    tokens, segments = pt.pack_sequences([[10, 11, 12]], [[20, 21]], max_len=9)
    C, S, P = pt.CLS_ID, pt.SEP_ID, pt.PAD_ID
    assert tokens.tolist() == [[C, 10, 11, 12, S, 20, 21, S, P]]
    assert segments.tolist() == [[0, 0, 0, 0, 0, 1, 1, 1, 0]]
    tokens, _ = pt.pack_sequences([list(range(10, 20))], [[20, 21]], max_len=8)
    assert tokens.tolist() == [[C, 10, 11, 12, S, 20, 21, S]]  # the longer part is cut
    single, seg = pt.pack_sequences([[7, 8]], max_len=5)
    assert single.tolist() == [[C, 7, 8, S, P]] and seg.sum() == 0
    with pytest.raises(ValueError, match="pair up: got 2 and 1"):
        pt.pack_sequences([[1], [2]], [[3]])
    with pytest.raises(ValueError, match="max_len"):
        pt.pack_sequences([[1]], [[2]], max_len=4)


def test_bert_encoder_equals_torch_layers():
    enc = pt.BertEncoder(V, d_model=16, num_heads=4, num_layers=2, d_ff=32, max_len=12)
    torch_layers = [nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation="gelu", norm_first=True,
                                               batch_first=True) for _ in range(2)]
    for ours, theirs in zip(enc.layers, torch_layers):
        ours.copy_from_torch(theirs)
    tokens, segments = pt.pack_sequences([[5, 6, 7, 8], [9, 10]], [[11, 12], [13]], max_len=10)
    x = enc.tokens(tokens) + enc.segments(segments) + enc.pe[:10]
    for layer in torch_layers:
        x = layer(x, src_key_padding_mask=tokens == pt.PAD_ID)  # True = ignore, in PyTorch
    expected = F.layer_norm(x, (16,), enc.norm.weight, enc.norm.bias)
    real = tokens != pt.PAD_ID
    torch.testing.assert_close(enc(tokens, segments)[real], expected[real], atol=1e-5, rtol=1e-5)


def test_bert_encoder_errors():
    enc = pt.BertEncoder(V, d_model=8, num_heads=2, num_layers=1, d_ff=16, max_len=6)
    with pytest.raises(ValueError, match=r"\[0, 50\)"):
        enc(torch.tensor([[2, 50]]))
    with pytest.raises(ValueError, match="L <= 6"):
        enc(torch.full((1, 7), 5))
    with pytest.raises(ValueError, match=r"segments must match tokens \(1, 3\), got \(1, 2\)"):
        enc(torch.full((1, 3), 5), torch.zeros(1, 2, dtype=torch.long))


def test_heads_shapes_and_classifier_reads_cls():
    enc = pt.BertEncoder(V, d_model=8, num_heads=2, num_layers=1, d_ff=16, max_len=10)
    model = pt.BertForPretraining(enc)
    tokens, segments = pt.pack_sequences([[5, 6], [7]], [[8], [9, 10]], max_len=8)
    mlm, nsp = model(tokens, segments)
    assert mlm.shape == (2, 8, V) and nsp.shape == (2, 2)
    chosen = torch.zeros_like(tokens, dtype=torch.bool)
    chosen[0, 1], chosen[1, 4] = True, True
    mlm_chosen, _ = model(tokens, segments, chosen)
    torch.testing.assert_close(mlm_chosen, mlm[chosen])  # the head on chosen positions only
    clf = pt.SequenceClassifier(enc, 3)
    torch.testing.assert_close(clf(tokens, segments), clf.head(enc(tokens, segments)[:, 0]))
    mean = pt.SequenceClassifier(enc, 3, pool="mean")
    torch.testing.assert_close(mean(tokens), mean.head(enc(tokens)[:, 1:].mean(1)))
    with pytest.raises(ValueError, match="pool"):
        pt.SequenceClassifier(enc, 3, pool="max")


def test_bert_pretrain_step_reduces_both_losses():
    torch.manual_seed(0)
    sentences = [[5 + (i % 7), 5 + ((i + 1) % 7), 5 + ((i + 2) % 7)] for i in range(60)]
    firsts, seconds, is_next = pt.next_sentence_pairs(sentences, seed=0)
    tokens, segments = pt.pack_sequences(firsts, seconds, max_len=10)
    model = pt.BertForPretraining(pt.BertEncoder(12, d_model=16, num_heads=2, num_layers=1, d_ff=32, max_len=10))
    step = pt.bert_pretrain_step(0.3, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = step(model, (tokens, segments, is_next))
    for _ in range(150):
        out = step(model, (tokens, segments, is_next))
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    assert set(out) == {"loss", "mlm_loss", "nsp_loss", "mlm_accuracy", "nsp_accuracy"}
    assert out["mlm_loss"] < 0.5 * first["mlm_loss"] and out["nsp_loss"] < first["nsp_loss"]
    with pytest.raises(ValueError, match="mask_rate"):
        pt.bert_pretrain_step(1.0)


def test_bert_pretrain_step_single_lines_have_no_next_sentence_loss():
    torch.manual_seed(0)
    model = pt.BertForPretraining(pt.BertEncoder(V, d_model=16, num_heads=2, num_layers=1, d_ff=32, max_len=10))
    tokens, segments = pt.pack_sequences([[5, 6, 7, 8], [9, 10, 11, 12, 13]], max_len=8)
    none = torch.full((2,), pt.IGNORE_INDEX)
    out = pt.bert_pretrain_step(0.5, seed=0)(model, (tokens, segments, none))
    assert set(out) == {"loss", "mlm_loss", "mlm_accuracy"}
    torch.testing.assert_close(out["loss"].detach(), out["mlm_loss"])
    # a mixed batch: the next-sentence loss is F.cross_entropy over the labelled rows only
    mixed = torch.tensor([1, pt.IGNORE_INDEX])
    out = pt.bert_pretrain_step(0.5, seed=0)(model, (tokens, segments, mixed))
    inputs, labels = pt.mask_tokens(tokens, V, 0.5, generator=torch.Generator().manual_seed(0))
    mlm_logits, nsp_logits = model(inputs, segments)
    expected_nsp = F.cross_entropy(nsp_logits[:1], mixed[:1])
    expected_mlm = F.cross_entropy(mlm_logits.flatten(0, 1), labels.flatten(), ignore_index=pt.IGNORE_INDEX)
    torch.testing.assert_close(out["nsp_loss"], expected_nsp.detach())
    torch.testing.assert_close(out["loss"], expected_mlm + expected_nsp)
    with pytest.raises(ValueError, match="is_next must hold"):
        pt.bert_pretrain_step(0.5)(model, (tokens, segments, torch.tensor([2, 0])))
    with pytest.raises(ValueError, match="is_next must be"):
        pt.bert_pretrain_step(0.5)(model, (tokens, segments, torch.tensor([1])))


def test_length_batches_pad_each_batch_to_its_longest_row():
    lines = [[5] * n for n in [1, 9, 2, 8, 3, 7, 4, 6, 5, 10]]
    batches = pt.length_batches(lines, batch_size=2, max_len=32, bucket=5, seed=0)
    assert len(batches) == 5
    seen = []
    for tokens, segments, labels in batches:
        real = tokens != pt.PAD_ID
        lengths = real.sum(1) - 2  # without [CLS] and [SEP]
        assert tokens.shape[1] == lengths.max() + 2  # no column of padding only
        assert (segments == 0).all() and (labels == pt.IGNORE_INDEX).all()
        assert (lengths.max() - lengths.min()) <= 1  # sorted: neighbours in length share a batch
        seen += lengths.tolist()
    assert sorted(seen) == list(range(1, 11))  # every line once
    # pairs with labels; max_len cuts the longest pair as pack_sequences does
    firsts, seconds = [[5, 6]] * 3 + [[7] * 20], [[8]] * 3 + [[9] * 20]
    labels = torch.tensor([1, 0, 1, 0])
    batches = pt.length_batches(firsts, seconds, labels, batch_size=4, max_len=16, seed=0)
    (tokens, segments, got), = batches
    assert tokens.shape == (4, 16) and sorted(got.tolist()) == [0, 0, 1, 1]
    long = (tokens != pt.PAD_ID).sum(1) == 16
    assert long.sum() == 1 and torch.equal(tokens[long], pt.pack_sequences([[7] * 20], [[9] * 20], 16)[0])
    # the encoder's output at real tokens does not depend on trailing padding
    enc = pt.BertEncoder(V, d_model=16, num_heads=2, num_layers=1, d_ff=32, max_len=32)
    short, _ = pt.pack_sequences([[5, 6, 7]], max_len=5)
    padded, _ = pt.pack_sequences([[5, 6, 7]], max_len=12)
    torch.testing.assert_close(enc(short)[0], enc(padded)[0, :5])
    # a batch without padding skips the attention mask: the same vectors as with an all-true mask
    x = enc.tokens(short) + enc.segments(torch.zeros_like(short)) + enc.pe[:5]
    for layer in enc.layers:
        x, _ = layer(x, key_mask=torch.ones_like(short, dtype=torch.bool))
    torch.testing.assert_close(enc(short), enc.norm(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match="pair up"):
        pt.length_batches(firsts, seconds[:2], batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        pt.length_batches(lines, batch_size=0)
    with pytest.raises(ValueError, match="labels"):
        pt.length_batches(lines, labels=torch.zeros(3), batch_size=2)
    with pytest.raises(ValueError, match="max_len"):
        pt.length_batches(lines, batch_size=2, max_len=3)


def test_patchify_by_hand_and_mask_patches():
    images = torch.arange(16.0).reshape(1, 4, 4)
    patches = pt.patchify(images, 2)
    assert patches.tolist() == [[[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]]
    assert torch.equal(pt.patchify(images[:, None], 2), patches)
    with pytest.raises(ValueError, match="multiples of 3"):
        pt.patchify(images, 3)
    mask = pt.mask_patches(5, 16, 0.75, torch.Generator().manual_seed(0))
    assert mask.shape == (5, 16) and (mask.sum(1) == 12).all()
    for rate in (0.0, 1.0, 0.01):
        with pytest.raises(ValueError, match="mask_rate"):
            pt.mask_patches(2, 16, rate)


def test_masked_patch_model_loss_only_on_hidden_patches():
    enc = pt.PatchEncoder(image_size=8, patch_size=4, d_model=8, num_heads=2, num_layers=1, d_ff=16)
    model = pt.MaskedPatchModel(enc)
    images = torch.rand(3, 1, 8, 8)
    step = pt.masked_patch_step(0.5, seed=0)
    loss = step(model, (images,))
    mask = pt.mask_patches(3, 4, 0.5, torch.Generator().manual_seed(0))
    pred = model(images, mask)
    expected = ((pred - pt.patchify(images, 4)) ** 2)[mask].mean()
    torch.testing.assert_close(loss, expected)
    assert enc(images).shape == (3, 5, 8)
    with pytest.raises(ValueError, match="patch_mask"):
        enc(images, torch.zeros(3, 5, dtype=torch.bool))


def test_token_classifier_step_ignores_unlabelled_positions():
    enc = pt.BertEncoder(V, d_model=8, num_heads=2, num_layers=1, d_ff=16, max_len=10)
    model = pt.TokenClassifier(enc, 2)
    tokens, _ = pt.pack_sequences([[5, 6, 7], [8]], max_len=6)
    labels = torch.full_like(tokens, pt.IGNORE_INDEX)
    labels[0, 1:4], labels[1, 1] = torch.tensor([1, 0, 1]), 0
    out = pt.token_classify_step(model, (tokens, labels))
    expected = F.cross_entropy(model(tokens).flatten(0, 1), labels.flatten(), ignore_index=pt.IGNORE_INDEX)
    torch.testing.assert_close(out["loss"], expected)
    with pytest.raises(ValueError, match="labels must match"):
        pt.token_classify_step(model, (tokens, labels[:, :3]))
    logits = model(tokens)  # (B, L, 2)
    labelled = [(b, t) for b in range(labels.shape[0]) for t in range(labels.shape[1])
                if labels[b, t] != pt.IGNORE_INDEX]
    by_hand = sum(int(logits[b, t].argmax()) == int(labels[b, t]) for b, t in labelled) / len(labelled)
    assert out["accuracy"] == pytest.approx(by_hand)
    with pytest.raises(ValueError, match="no labelled position"):
        pt.token_classify_step(model, (tokens, torch.full_like(labels, pt.IGNORE_INDEX)))


def test_classify_and_next_token_steps_equal_cross_entropy():
    clf = nn.Linear(4, 3)
    X, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    out = pt.classify_step(clf, (X, y))
    torch.testing.assert_close(out["loss"], F.cross_entropy(clf(X), y))
    by_hand = sum(int(clf(X)[i].argmax()) == int(y[i]) for i in range(len(y))) / len(y)
    assert isinstance(out["accuracy"], float) and out["accuracy"] == pytest.approx(by_hand)
    lm = nn.Sequential(nn.Embedding(V, V))
    X = torch.randint(0, V, (2, 6))
    expected = F.cross_entropy(lm(X[:, :-1]).reshape(-1, V), X[:, 1:].reshape(-1))
    torch.testing.assert_close(pt.next_token_step(lm, (X,)), expected)
    with pytest.raises(ValueError, match="L >= 1"):
        pt.next_token_step(lm, (X[:, :1],))


def test_classify_step_rejects_mismatched_labels():
    clf = nn.Linear(4, 3)
    X = torch.randn(6, 4)
    with pytest.raises(ValueError, match=r"y \(B,\)"):
        pt.classify_step(clf, (X, torch.zeros(5, dtype=torch.long)))
    with pytest.raises(ValueError, match=r"classes in \[0, 3\)"):
        pt.classify_step(clf, (X, torch.tensor([0, 1, 2, 3, 0, 1])))


def test_sample_temperature():
    lm = nn.Embedding(V, V)  # the next token's scores depend on the last token only
    with torch.no_grad():
        lm.weight.zero_()
        lm.weight[:, 7] = 3.0
    prompt = torch.tensor([1, 2])
    cold = pt.sample(lm, prompt, 20, 0.05, context=4, generator=torch.Generator().manual_seed(0))
    assert cold[:2].tolist() == [1, 2] and (cold[2:] == 7).all()  # low T: the most likely token
    hot = pt.sample(lm, prompt, 400, 100.0, context=4, generator=torch.Generator().manual_seed(0))
    assert len(set(hot.tolist())) > 30  # high T: close to uniform
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="temperature"):
            pt.sample(lm, prompt, 3, bad, context=4)


def test_train_wordpiece_special_ids_and_pieces():
    lines = ["the king is dead, long live the king", "kingdom of kings and queens"] * 50
    tok = pt.train_wordpiece(lines, 60)
    assert [tok.token_to_id(t) for t in pt.SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    assert tok.get_vocab_size() <= 60
    pieces = tok.encode("The KINGDOM").tokens
    assert pieces[0] == "the" and "".join(p.removeprefix("##") for p in pieces[1:]) == "kingdom"
    with pytest.raises(ValueError, match="vocab_size"):
        pt.train_wordpiece(lines, 5)


def test_train_wordpiece_merges_most_frequent_pair_first_and_is_repeatable():
    lines = ["ab ab ab cd cd", "b"]
    alphabet = ["##b", "##d", "a", "b", "c"]  # sorted characters, inside (##) and at the start of a word
    tok = pt.train_wordpiece(lines, 11)
    assert sorted(tok.get_vocab(), key=tok.get_vocab().get) == [*pt.SPECIAL_TOKENS, *alphabet, "ab"]
    tok = pt.train_wordpiece(lines, 12)  # "ab" (3 times) is merged before "cd" (twice)
    assert sorted(tok.get_vocab(), key=tok.get_vocab().get)[-2:] == ["ab", "cd"]
    assert tok.encode("AB cd b").tokens == ["ab", "cd", "b"]
    assert tok.encode("abd").tokens == ["ab", "##d"]
    lines = ["the king is dead, long live the king", "kingdom of kings and queens", "thee thou"] * 20
    assert pt.train_wordpiece(lines, 40).get_vocab() == pt.train_wordpiece(lines, 40).get_vocab()
