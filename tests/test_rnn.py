"""The from-scratch recurrent cells against PyTorch's, with copied weights (tolerance 1e-10 in
float64), and the training tools of chapter 14 against PyTorch or known answers."""

import pytest
import torch
from torch import nn

from dlbook import rnn

TOL = dict(rtol=1e-10, atol=1e-10)


def random_input(B=3, T=7, D=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, D, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, False), (1, True), (2, True)])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_scratch_network_equals_torch_with_copied_weights(kind, num_layers, bidirectional):
    torch.manual_seed(1)
    D, H = 5, 4
    if kind == "lstm":
        ref, ours = nn.LSTM(D, H, num_layers, batch_first=True, bidirectional=bidirectional), rnn.LSTM
    elif kind == "gru":
        ref, ours = nn.GRU(D, H, num_layers, batch_first=True, bidirectional=bidirectional), rnn.GRU
    else:
        nl = kind[4:]
        ref = nn.RNN(D, H, num_layers, nonlinearity=nl, batch_first=True, bidirectional=bidirectional)
        ours = lambda *a, **k: rnn.SimpleRNN(*a, nonlinearity=nl, **k)  # noqa: E731
    ref = ref.double()
    net = ours(D, H, num_layers, bidirectional=bidirectional).double()
    assert sorted(dict(net.named_parameters())) == sorted(dict(ref.named_parameters()))
    net.load_state_dict(ref.state_dict())
    X = random_input(D=D)
    n = num_layers * (2 if bidirectional else 1)
    g = torch.Generator().manual_seed(2)
    h0 = torch.randn(n, 3, H, generator=g, dtype=torch.float64)
    state = (h0, torch.randn(n, 3, H, generator=g, dtype=torch.float64)) if kind == "lstm" else h0
    Y_ref, final_ref = ref(X, state)
    Y, final = net(X, state)
    torch.testing.assert_close(Y, Y_ref, **TOL)
    for a, b in zip(final if kind == "lstm" else (final,), final_ref if kind == "lstm" else (final_ref,)):
        torch.testing.assert_close(a, b, **TOL)
    # gradients agree too (backpropagation through time)
    (Y**2).sum().backward()
    (Y_ref**2).sum().backward()
    for (name, p), (_, q) in zip(sorted(net.named_parameters()), sorted(ref.named_parameters())):
        torch.testing.assert_close(p.grad, q.grad, **TOL, msg=name)


def test_cells_equal_torch_cells():
    torch.manual_seed(0)
    x = torch.randn(4, 3, dtype=torch.float64)
    h = torch.randn(4, 6, dtype=torch.float64)
    c = torch.randn(4, 6, dtype=torch.float64)
    lstm = nn.LSTMCell(3, 6).double()
    gru = nn.GRUCell(3, 6).double()
    cell = nn.RNNCell(3, 6).double()
    h_ref, c_ref = lstm(x, (h, c))
    h_new, c_new = rnn.lstm_step(x, (h, c), lstm.weight_ih, lstm.weight_hh, lstm.bias_ih, lstm.bias_hh)
    torch.testing.assert_close(h_new, h_ref, **TOL)
    torch.testing.assert_close(c_new, c_ref, **TOL)
    torch.testing.assert_close(rnn.gru_step(x, h, gru.weight_ih, gru.weight_hh, gru.bias_ih, gru.bias_hh),
                               gru(x, h), **TOL)
    torch.testing.assert_close(rnn.rnn_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh),
                               cell(x, h), **TOL)


def test_gru_reset_gate_placement_matters():
    """Applying r to h before the matrix product (Cho et al.) is a different function from
    PyTorch's convention, which the scratch cell follows."""
    torch.manual_seed(0)
    gru = nn.GRUCell(3, 4).double()
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    W_ir, W_iz, W_in = gru.weight_ih.chunk(3)
    W_hr, W_hz, W_hn = gru.weight_hh.chunk(3)
    b_ir, b_iz, b_in = gru.bias_ih.chunk(3)
    b_hr, b_hz, b_hn = gru.bias_hh.chunk(3)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    n_outside = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    h_outside = (1 - z) * n_outside + z * h
    assert not torch.allclose(h_outside, gru(x, h))


def test_bad_shapes_raise():
    net = rnn.LSTM(3, 4)
    with pytest.raises(ValueError, match=r"\(B, T, 3\)"):
        net(torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="initial state"):
        net(torch.zeros(2, 5, 3), (torch.zeros(1, 3, 4), torch.zeros(1, 3, 4)))
    with pytest.raises(ValueError, match="weight_ih"):
        rnn.gru_step(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(12, 3), torch.zeros(8, 4))
    with pytest.raises(ValueError, match="cell"):
        rnn.Recurrent("elman", 3, 4)


def test_input_gradient_norms_of_a_linear_rnn_follow_powers_of_the_weight():
    """For h_t = w h_{t-1} + x_t (scalar, linear), d h_T / d x_t = w^(T - t)."""
    net = rnn.SimpleRNN(1, 1, bias=False, nonlinearity="relu").double()
    with torch.no_grad():
        net.weight_ih_l0.fill_(1.0)
        net.weight_hh_l0.fill_(0.9)
    X = torch.ones(1, 6, 1, dtype=torch.float64)  # positive, so the ReLU is the identity
    norms = rnn.input_gradient_norms(net, X)
    torch.testing.assert_close(norms, 0.9 ** torch.arange(5, -1, -1, dtype=torch.float64), **TOL)
    # and it agrees between the scratch LSTM and torch's
    ref = nn.LSTM(2, 3, batch_first=True).double()
    ours = rnn.LSTM(2, 3).double()
    ours.load_state_dict(ref.state_dict())
    X = random_input(2, 9, 2)
    torch.testing.assert_close(rnn.input_gradient_norms(ours, X), rnn.input_gradient_norms(ref, X), **TOL)


def test_char_vocab_round_trip_and_batches():
    text = "to be, or not to be"
    vocab = rnn.CharVocab(text)
    ids = vocab.encode(text)
    assert vocab.decode(ids) == text and len(vocab) == len(set(text))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("xyz")
    X, y = rnn.char_batches(ids, 4, 5, torch.Generator().manual_seed(0))
    assert X.shape == y.shape == (4, 5)
    assert torch.equal(X[:, 1:], y[:, :-1])  # the targets are the inputs shifted by one
    with pytest.raises(ValueError, match="longer than seq_len"):
        rnn.char_batches(ids[:5], 2, 5)


def test_char_model_learns_a_repeating_text_and_samples_it():
    torch.manual_seed(0)
    text = "abcd" * 200
    vocab = rnn.CharVocab(text)
    ids = vocab.encode(text)
    net = rnn.CharLanguageModel(len(vocab), embed_dim=8, hidden_size=32)
    before = rnn.char_model_loss(net, ids, seq_len=16)
    losses, norms, _ = rnn.train_char_model(net, ids, num_steps=150, batch_size=16, seq_len=16,
                                            lr=1e-2, max_norm=1.0)
    after = rnn.char_model_loss(net, ids, seq_len=16)
    assert after < 0.05 < before
    assert len(losses) == len(norms) == 150
    sample = rnn.sample_text(net, vocab, "ab", 10, temperature=0.5,
                             generator=torch.Generator().manual_seed(0))
    assert sample == "ab" + "cdab" * 2 + "cd"
    with pytest.raises(ValueError, match="temperature"):
        rnn.sample_text(net, vocab, "a", 3, temperature=0)
