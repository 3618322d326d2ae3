"""Recurrent networks written out: the simple (Elman) RNN, the LSTM and the GRU, step by step.

A recurrent network reads a sequence one element at a time and carries a *hidden state* from
one step to the next: :math:`h_t = f(h_{t-1}, x_t; \\theta)`, with the same parameters θ at every
step. This module spells out the step of each classic cell as a plain function
(:func:`rnn_step`, :func:`lstm_step`, :func:`gru_step`) and unrolls it over time in
:class:`Recurrent` (and its three named subclasses). The parameters are stored under the names
and in the layout PyTorch uses (``weight_ih_l0``, gate order ``i, f, g, o`` for the LSTM and
``r, z, n`` for the GRU), so ``scratch.load_state_dict(torch_module.state_dict())`` copies the
weights of :class:`torch.nn.LSTM` into ours and the two can be compared number for number.

It also holds the tools of the chapter's experiments: :func:`input_gradient_norms` (how much
the last output depends on each earlier input: vanishing and exploding gradients) and a
character-level language model (:class:`CharVocab`, :class:`CharLanguageModel`,
:func:`char_batches`, :func:`train_char_model`, :func:`sample_text`), trained with the gradient
clipping of :func:`dlbook.optim.clip_grad_norm_` (:doc:`/notebooks/11_adaptive_learning_rates`).

Sources: Elman (1990); Hochreiter and Schmidhuber (1997) and Gers et al. (2000) for the LSTM
with a forget gate; Cho et al. (2014) for the GRU; Pascanu et al. (2013) for clipping; the
course's lecture on RNNs and Goodfellow et al. (2016), chapter 10.

Introduced in :doc:`/notebooks/14_rnn`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .checks import require_count, require_float, require_labels
from .train import fit, sampled_batches

__all__ = [
    "rnn_step",
    "lstm_step",
    "gru_step",
    "Recurrent",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "input_gradient_norms",
    "CharVocab",
    "CharLanguageModel",
    "char_batches",
    "train_char_model",
    "char_model_loss",
    "sample_text",
]

_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def _check_step(x, h, weight_ih, weight_hh, gates):
    require_float(x=x, h=h, weight_ih=weight_ih, weight_hh=weight_hh)
    if x.ndim != 2 or h.ndim != 2 or x.shape[0] != h.shape[0]:
        raise ValueError(f"expected x of shape (B, D) and h of shape (B, H), got {tuple(x.shape)} "
                         f"and {tuple(h.shape)}")
    hidden = h.shape[1]
    if weight_ih.shape != (gates * hidden, x.shape[1]) or weight_hh.shape != (gates * hidden, hidden):
        raise ValueError(
            f"expected weight_ih of shape ({gates * hidden}, {x.shape[1]}) and weight_hh of shape "
            f"({gates * hidden}, {hidden}), got {tuple(weight_ih.shape)} and {tuple(weight_hh.shape)}")


def rnn_step(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh"):
    """One step of a simple (Elman) RNN: :math:`h_t = f(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`.

    Args:
        x: input at this step, shape (B, D).
        h: previous hidden state, shape (B, H).
        weight_ih: (H, D); weight_hh: (H, H); bias_ih, bias_hh: (H,) or None.
        nonlinearity: ``"tanh"`` or ``"relu"`` (as :class:`torch.nn.RNN`).

    Returns:
        The new hidden state, shape (B, H).

    Raises:
        ValueError: for mismatched shapes or an unknown nonlinearity.

    Source: Elman (1990). Introduced in :doc:`/notebooks/14_rnn`.
    """
    _check_step(x, h, weight_ih, weight_hh, 1)
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    a = F.linear(x, weight_ih, bias_ih) + F.linear(h, weight_hh, bias_hh)  # (B, H)
    return torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)


def lstm_step(x, state, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One step of an LSTM with input, forget and output gates.

    .. math::
        i = σ(z_i),\\ f = σ(z_f),\\ g = \\tanh(z_g),\\ o = σ(z_o),\\quad
        c_t = f ⊙ c_{t-1} + i ⊙ g,\\quad h_t = o ⊙ \\tanh(c_t),

    where :math:`[z_i; z_f; z_g; z_o] = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}`, stacked
    in PyTorch's order i, f, g, o.

    Args:
        x: input, shape (B, D).
        state: the pair (h, c) of the previous step, each of shape (B, H).
        weight_ih: (4H, D); weight_hh: (4H, H); bias_ih, bias_hh: (4H,) or None.

    Returns:
        The pair (h, c) of this step, each (B, H).

    Raises:
        ValueError: for mismatched shapes.

    Source: Hochreiter and Schmidhuber (1997); forget gate: Gers et al. (2000).
    Introduced in :doc:`/notebooks/14_rnn`.
    """
    h, c = state
    _check_step(x, h, weight_ih, weight_hh, 4)
    if c.shape != h.shape:
        raise ValueError(f"h and c must have one shape, got {tuple(h.shape)} and {tuple(c.shape)}")
    z = F.linear(x, weight_ih, bias_ih) + F.linear(h, weight_hh, bias_hh)  # (B, 4H)
    z_i, z_f, z_g, z_o = z.chunk(4, dim=1)  # each (B, H)
    i, f, o = torch.sigmoid(z_i), torch.sigmoid(z_f), torch.sigmoid(z_o)
    g = torch.tanh(z_g)  # the candidate written into the memory cell
    c = f * c + i * g  # (B, H): forget part of the old memory, add the gated new input
    h = o * torch.tanh(c)  # (B, H)
    return h, c


def gru_step(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One step of a gated recurrent unit (GRU), in PyTorch's convention.

    .. math::
        r = σ(a_r + b_r),\\ z = σ(a_z + b_z),\\
        n = \\tanh(a_n + r ⊙ b_n),\\ h_t = (1 - z) ⊙ n + z ⊙ h_{t-1},

    with :math:`[a_r; a_z; a_n] = W_{ih} x_t + b_{ih}` and
    :math:`[b_r; b_z; b_n] = W_{hh} h_{t-1} + b_{hh}`. The reset gate multiplies the
    *recurrent term including its bias* (the variant of cuDNN and PyTorch; Cho et al. apply
    r to h before the matrix product).

    Args:
        x: input, shape (B, D).
        h: previous hidden state, shape (B, H).
        weight_ih: (3H, D); weight_hh: (3H, H); bias_ih, bias_hh: (3H,) or None.

    Returns:
        The new hidden state, shape (B, H).

    Raises:
        ValueError: for mismatched shapes.

    Source: Cho et al. (2014). Introduced in :doc:`/notebooks/14_rnn`.
    """
    _check_step(x, h, weight_ih, weight_hh, 3)
    a_r, a_z, a_n = F.linear(x, weight_ih, bias_ih).chunk(3, dim=1)  # each (B, H)
    b_r, b_z, b_n = F.linear(h, weight_hh, bias_hh).chunk(3, dim=1)  # each (B, H)
    r = torch.sigmoid(a_r + b_r)  # reset gate
    z = torch.sigmoid(a_z + b_z)  # update gate: how much of the old state to keep
    n = torch.tanh(a_n + r * b_n)  # candidate state
    return (1 - z) * n + z * h


class Recurrent(nn.Module):
    """A multi-layer, optionally bidirectional recurrent network unrolled step by step in Python.

    Same parameters (names, shapes, initialization) and same inputs and outputs as
    :class:`torch.nn.RNN`, :class:`torch.nn.LSTM` and :class:`torch.nn.GRU` with
    ``batch_first=True``, so the state dict of one loads into the other.

    Args:
        cell: ``"rnn_tanh"``, ``"rnn_relu"``, ``"lstm"`` or ``"gru"``.
        input_size: D, the size of each input vector.
        hidden_size: H, the size of the hidden state.
        num_layers: stacked layers; layer k > 0 reads the outputs of layer k - 1.
        bidirectional: add a second network per layer that reads the sequence backwards; the
            outputs of both directions are concatenated (size 2H).
        bias: whether the cells have biases.

    Raises:
        ValueError: for an unknown cell or non-positive sizes.

    Introduced in :doc:`/notebooks/14_rnn`.
    """

    def __init__(self, cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
        super().__init__()
        if cell not in _GATES:
            raise ValueError(f"cell must be one of {sorted(_GATES)}, got {cell!r}")
        if min(input_size, hidden_size, num_layers) < 1:
            raise ValueError(f"sizes must be positive, got input_size={input_size}, "
                             f"hidden_size={hidden_size}, num_layers={num_layers}")
        self.cell, self.input_size, self.hidden_size = cell, input_size, hidden_size
        self.num_layers, self.bidirectional, self.bias = num_layers, bidirectional, bias
        self.num_directions = 2 if bidirectional else 1
        gates = _GATES[cell]
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes(layer):
                self.register_parameter(f"weight_ih{suffix}",
                                        nn.Parameter(torch.empty(gates * hidden_size, layer_input)))
                self.register_parameter(f"weight_hh{suffix}",
                                        nn.Parameter(torch.empty(gates * hidden_size, hidden_size)))
                if bias:
                    self.register_parameter(f"bias_ih{suffix}", nn.Parameter(torch.empty(gates * hidden_size)))
                    self.register_parameter(f"bias_hh{suffix}", nn.Parameter(torch.empty(gates * hidden_size)))
        self.reset_parameters()

    def _suffixes(self, layer):
        return [f"_l{layer}"] + ([f"_l{layer}_reverse"] if self.bidirectional else [])

    def reset_parameters(self) -> None:
        """Uniform in ±1/√H, as PyTorch initializes its recurrent layers."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _weights(self, suffix):
        get = lambda name: getattr(self, f"{name}{suffix}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _step(self, x, state, weights):
        if self.cell == "lstm":
            return lstm_step(x, state, *weights)
        if self.cell == "gru":
            return gru_step(x, state, *weights)
        return rnn_step(x, state, *weights, nonlinearity=self.cell[4:])

    def forward(self, X, state=None):
        """Run the network over a batch of sequences.

        Args:
            X: inputs, shape (B, T, D).
            state: initial hidden state of shape (L·dirs, B, H) (for the LSTM a pair (h0, c0));
                zeros when omitted.

        Returns:
            ``(Y, final)``: Y of shape (B, T, dirs·H), the last layer's hidden state at every
            step; ``final`` of shape (L·dirs, B, H) (a pair for the LSTM), each layer's last state.

        Raises:
            ValueError: if X is not (B, T, input_size) or the state has the wrong shape.
        """
        if X.ndim != 3 or X.shape[2] != self.input_size:
            raise ValueError(f"expected X of shape (B, T, {self.input_size}), got {tuple(X.shape)}")
        B, T, _ = X.shape
        n_states = self.num_layers * self.num_directions
        shape = (n_states, B, self.hidden_size)
        if state is None:
            zeros = X.new_zeros(shape)
            state = (zeros, zeros) if self.cell == "lstm" else zeros
        for s in state if self.cell == "lstm" else (state,):
            if tuple(s.shape) != shape:
                raise ValueError(f"expected an initial state of shape {shape}, got {tuple(s.shape)}")
        finals, layer_input, k = [], X, 0
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                s = (state[0][k], state[1][k]) if self.cell == "lstm" else state[k]
                steps = range(T) if direction == 0 else range(T - 1, -1, -1)
                hs = [None] * T
                weights = self._weights(suffix)
                for t in steps:
                    s = self._step(layer_input[:, t], s, weights)
                    hs[t] = s[0] if self.cell == "lstm" else s  # (B, H)
                outputs.append(torch.stack(hs, dim=1))  # (B, T, H)
                finals.append(s)
                k += 1
            layer_input = torch.cat(outputs, dim=2)  # (B, T, dirs·H)
        if self.cell == "lstm":
            final = (torch.stack([h for h, _ in finals]), torch.stack([c for _, c in finals]))
        else:
            final = torch.stack(finals)  # (L·dirs, B, H)
        return layer_input, final


class SimpleRNN(Recurrent):
    """An Elman RNN (the counterpart of :class:`torch.nn.RNN`); see :class:`Recurrent`.

    Introduced in :doc:`/notebooks/14_rnn`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True,
                 nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(f"rnn_{nonlinearity}", input_size, hidden_size, num_layers, bidirectional, bias)


class LSTM(Recurrent):
    """An LSTM (the counterpart of :class:`torch.nn.LSTM`); see :class:`Recurrent`.

    Introduced in :doc:`/notebooks/14_rnn`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
        super().__init__("lstm", input_size, hidden_size, num_layers, bidirectional, bias)


class GRU(Recurrent):
    """A GRU (the counterpart of :class:`torch.nn.GRU`); see :class:`Recurrent`.

    Introduced in :doc:`/notebooks/14_rnn`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
        super().__init__("gru", input_size, hidden_size, num_layers, bidirectional, bias)


# ----------------------------------------------------------------------- training difficulties


def input_gradient_norms(net, X) -> torch.Tensor:
    """How strongly the last step's output depends on the input at each earlier step.

    Runs ``net`` (any module that maps X of shape (B, T, D) to ``(Y, state)`` with Y of shape
    (B, T, H), such as :class:`Recurrent` or :class:`torch.nn.LSTM` with ``batch_first=True``),
    takes the scalar ``Y[:, -1].sum()`` and backpropagates it through time to the inputs.

    Returns:
        Shape (T,): the mean over the batch of :math:`\\lVert ∂(\\sum_j y_{T,j}) / ∂x_t \\rVert_2`
        for t = 1, ..., T. Values that fall by orders of magnitude as t moves away from T show
        vanishing gradients; values that grow show exploding gradients.

    Raises:
        ValueError: if X is not 3-D.

    Source: Bengio et al. (1994); Pascanu et al. (2013). Introduced in :doc:`/notebooks/14_rnn`.
    """
    if X.ndim != 3:
        raise ValueError(f"expected X of shape (B, T, D), got {tuple(X.shape)}")
    X = X.detach().clone().requires_grad_(True)
    Y, _ = net(X)
    (grad,) = torch.autograd.grad(Y[:, -1].sum(), X)  # (B, T, D)
    return grad.norm(dim=2).mean(dim=0).detach()


class CharVocab:
    """The characters of a text, numbered in sorted order.

    Attributes: ``itos`` (list of characters), ``stoi`` (character → index).

    Raises:
        ValueError: for an empty text.

    Introduced in :doc:`/notebooks/14_rnn`.
    """

    def __init__(self, text: str):
        if not text:
            raise ValueError("CharVocab needs a non-empty text")
        self.itos = sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> torch.Tensor:
        """Characters → indices, shape (len(text),), int64. Raises ValueError on an unknown character."""
        unknown = set(text) - self.stoi.keys()
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {sorted(unknown)!r}")
        return torch.tensor([self.stoi[ch] for ch in text], dtype=torch.long)

    def decode(self, ids) -> str:
        """Indices (any iterable of ints or a 1-D tensor) → text."""
        return "".join(self.itos[int(i)] for i in ids)


class CharLanguageModel(nn.Module):
    """Predict the next character: embedding → recurrent layers → linear layer to logits.

    Uses PyTorch's fused :class:`torch.nn.LSTM` (or GRU / RNN) for speed;
    :doc:`/notebooks/14_rnn` checks
    that :class:`LSTM` computes the same function.

    Args:
        vocab_size: V, the number of distinct characters.
        embed_dim: E, the size of each character's learned vector.
        hidden_size: H.
        num_layers: stacked recurrent layers.
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"`` (tanh).

    Forward: X of shape (B, T), int64 → ``(logits, state)`` with logits (B, T, V).

    Raises:
        ValueError: for an unknown cell or non-positive sizes.

    Introduced in :doc:`/notebooks/14_rnn`.
    """

    def __init__(self, vocab_size, embed_dim=32, hidden_size=256, num_layers=1, cell="lstm"):
        super().__init__()
        layers = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
        if cell not in layers:
            raise ValueError(f"cell must be one of {sorted(layers)}, got {cell!r}")
        if min(vocab_size, embed_dim, hidden_size, num_layers) < 1:
            raise ValueError("vocab_size, embed_dim, hidden_size and num_layers must be positive")
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = layers[cell](embed_dim, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, X, state=None):
        if X.ndim != 2:
            raise ValueError(f"expected X of shape (B, T) of character indices, got {tuple(X.shape)}")
        Y, state = self.rnn(self.embed(X), state)  # (B, T, H)
        return self.head(Y), state  # (B, T, V)


def char_batches(ids: torch.Tensor, batch_size: int, seq_len: int, generator=None):
    """A batch of random windows of a text and, for each, the window shifted by one character.

    Args:
        ids: the encoded text, shape (N,), int64, N > seq_len.
        batch_size: B; seq_len: T.
        generator: a :class:`torch.Generator` for the window starts.

    Returns:
        ``(X, y)``, each of shape (B, T), int64: ``y[b, t]`` is the character after ``X[b, t]``.

    Raises:
        ValueError: if the text is not longer than ``seq_len``, ids are not non-negative
            integers, or batch_size or seq_len is not a positive integer.

    Introduced in :doc:`/notebooks/14_rnn`.
    """
    batch_size = require_count(batch_size, "batch_size")
    seq_len = require_count(seq_len, "seq_len")
    if not isinstance(ids, torch.Tensor) or ids.ndim != 1 or len(ids) <= seq_len:
        shape = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
        raise ValueError(f"ids must be 1-D and longer than seq_len={seq_len}, got shape {shape}")
    if ids.is_floating_point() or ids.dtype == torch.bool:
        raise ValueError(f"ids must be integer character ids (int64), got dtype {ids.dtype}")
    starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=generator)  # (B,)
    index = starts[:, None] + torch.arange(seq_len + 1)  # (B, T + 1)
    windows = ids[index]
    require_labels(windows, name="ids")  # non-negative (checked on the drawn windows only)
    return windows[:, :-1], windows[:, 1:]


@torch.no_grad()
def char_model_loss(net, ids, seq_len=128, max_windows=256, device=None) -> float:
    """Mean cross-entropy (nats per character) of ``net`` on consecutive windows of ``ids``.

    Uses at most ``max_windows`` non-overlapping windows of length ``seq_len`` from the start
    of ``ids`` (shape (N,), int64), each read from a zero state.

    Introduced in :doc:`/notebooks/14_rnn`.
    """
    n = min(max_windows, (len(ids) - 1) // seq_len)
    if n < 1:
        raise ValueError(f"ids of length {len(ids)} is shorter than one window of {seq_len + 1}")
    device = device or next(net.parameters()).device
    windows = ids[: n * seq_len + 1]
    X = windows[:-1].view(n, seq_len).to(device)  # (n, T)
    y = windows[1:].view(n, seq_len).to(device)
    was_training = net.training
    net.eval()
    logits, _ = net(X)
    net.train(was_training)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()


def train_char_model(net, ids, *, num_steps, batch_size=32, seq_len=64, lr=3e-3, max_norm=1.0,
                     seed=0, device=None, desc="char model"):
    """Train a :class:`CharLanguageModel` by Adam on random windows, with gradient clipping.

    Each step draws ``batch_size`` windows (:func:`char_batches`), computes the cross-entropy of
    every next-character prediction, backpropagates through time over the ``seq_len`` steps of
    the window (truncated BPTT: every window starts from a zero state), clips the gradient norm
    to ``max_norm`` with :func:`dlbook.optim.clip_grad_norm_` and updates. The learning rate
    decays linearly to a tenth of ``lr`` over the run.

    The loop is :func:`dlbook.train.fit` with a next-character step (one epoch of ``fit`` is
    one step on fresh random windows) and ``max_norm`` clipping.

    Returns:
        ``(losses, grad_norms, seconds)``: per-step training loss (nats per character) and
        gradient norm before clipping, and the wall-clock seconds.

    Introduced in :doc:`/notebooks/14_rnn`.
    """
    device = device or next(net.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 - 0.9 * s / num_steps)

    def next_character_step(model, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        X, y = batch  # (B, T), (B, T)
        logits, _ = model(X)  # (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    windows = sampled_batches(lambda: char_batches(ids, batch_size, seq_len, generator))
    history = fit(net, windows, next_character_step, num_epochs=num_steps, optimizer=optimizer,
                  scheduler=schedule, max_norm=max_norm, device=device, desc=desc)
    return history.train_loss, history.grad_norm, history.seconds


@torch.no_grad()
def sample_text(net, vocab: CharVocab, prompt: str, num_chars: int, temperature: float = 1.0,
                generator=None) -> str:
    """Generate text one character at a time, feeding each sampled character back in.

    The next character is drawn from :math:`\\mathrm{softmax}(\\text{logits} / τ)`: a
    temperature τ < 1 sharpens the distribution (safer, more repetitive text), τ > 1 flattens it
    (more surprising, more misspelt text).

    Args:
        net: a :class:`CharLanguageModel`.
        vocab: the :class:`CharVocab` it was trained with.
        prompt: the text to start from (at least one character, all in the vocabulary).
        num_chars: how many characters to generate.
        temperature: τ > 0.
        generator: a :class:`torch.Generator` (on the CPU) for the draws.

    Returns:
        The prompt followed by the generated characters.

    Raises:
        ValueError: for an empty prompt or a non-positive temperature.

    Introduced in :doc:`/notebooks/14_rnn`.
    """
    if not prompt:
        raise ValueError("the prompt needs at least one character")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    logits, state = net(vocab.encode(prompt)[None].to(device))  # (1, len(prompt), V)
    out = []
    for _ in range(num_chars):
        probs = torch.softmax(logits[0, -1].double().cpu() / temperature, dim=0)  # (V,)
        nxt = torch.multinomial(probs, 1, generator=generator)  # (1,)
        out.append(int(nxt))
        logits, state = net(nxt[None].to(device), state)  # (1, 1, V)
    net.train(was_training)
    return prompt + vocab.decode(out)
