"""Convolution and pooling from scratch, and the arithmetic of convolutional layers.

A convolutional layer can be read in two equivalent ways (Hung-yi Lee's lecture on CNNs):

* **neurons with receptive fields that share parameters**: cut the input into patches (one per
  output position), flatten each patch and let every neuron take the dot product of its patch
  with *the same* weight vector. :func:`unfold` cuts the patches (the "im2col" trick) and
  :func:`conv2d_unfold` turns the layer into one matrix product;
* **filters slid over the image**: :func:`conv2d_loops` moves each filter over the input one
  position at a time and takes an inner product there.

Both compute what deep-learning libraries call a convolution (strictly, a cross-correlation:
the filter is not flipped), and both agree with :func:`torch.nn.functional.conv2d`.

The arithmetic of a layer: :func:`conv_output_size` is the formula (M − K + 2P)/S + 1,
:func:`conv_num_params` is P·D·U·V + P, :func:`conv_num_connections` multiplies the parameters
by the size of the output plane, :func:`receptive_field` follows a stack of layers back to the
input, and :func:`conv_as_matrix` writes a convolution as the sparse, weight-tied matrix of a
fully connected layer.

Sources: the CNN lecture of Hung-yi Lee's course; Goodfellow et al. (2016), chapter 9;
Qiu (2020), chapter 5. Introduced in :doc:`/notebooks/12_cnn`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .checks import require_float, require_same_dtype

__all__ = ["conv_output_size", "conv_num_params", "conv_num_connections", "receptive_field",
           "unfold", "conv2d_loops", "conv2d_unfold", "max_pool2d", "avg_pool2d",
           "conv_as_matrix"]


def _pair(value, name: str) -> tuple[int, int]:
    """(value, value) for an int, the pair itself for a pair of ints; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        return value, value
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return int(value[0]), int(value[1])
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Output length of a convolution or pooling along one axis: ⌊(M − K + 2P) / S⌋ + 1.

    Args:
        size: M, the input length (pixels).
        kernel_size: K, the kernel length (pixels), 1 ≤ K ≤ M + 2P.
        stride: S ≥ 1, the step between neighbouring receptive fields (pixels).
        padding: P ≥ 0, zeros added on each side (pixels).

    Returns:
        The output length M' (an int). When S does not divide M − K + 2P the last positions do
        not fit and are dropped (the floor), as in PyTorch.

    Raises:
        ValueError: for a non-positive size, kernel or stride, a negative padding, or a kernel
            larger than the padded input.

    Source: Qiu (2020), section 5.2. Introduced in :doc:`/notebooks/12_cnn`.
    """
    for name, v, low in (("size", size, 1), ("kernel_size", kernel_size, 1), ("stride", stride, 1),
                         ("padding", padding, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ValueError(f"{name} must be an integer ≥ {low}, got {v!r}")
    if kernel_size > size + 2 * padding:
        raise ValueError(f"kernel_size {kernel_size} is larger than the padded input "
                         f"{size} + 2·{padding} = {size + 2 * padding}")
    return (size - kernel_size + 2 * padding) // stride + 1


def conv_num_params(in_channels: int, out_channels: int, kernel_size, bias: bool = True) -> int:
    """Number of parameters of a convolutional layer: P·D·U·V (+ P biases).

    Args:
        in_channels: D, the channels of the input (3 for an RGB image).
        out_channels: P, the number of filters (= channels of the output feature map).
        kernel_size: U (an int for U × U) or (U, V).
        bias: whether each filter has a bias.

    Raises:
        ValueError: for non-positive channel counts or kernel sizes.

    Source: Qiu (2020), section 5.2. Introduced in :doc:`/notebooks/12_cnn`.
    """
    u, v = _pair(kernel_size, "kernel_size")
    if min(in_channels, out_channels, u, v) < 1:
        raise ValueError(f"channels and kernel sizes must be positive, got in_channels={in_channels}, "
                         f"out_channels={out_channels}, kernel_size={(u, v)}")
    return out_channels * in_channels * u * v + (out_channels if bias else 0)


def conv_num_connections(num_params: int, out_height: int, out_width: int) -> int:
    """Connections of a layer with shared weights: its parameters times the output plane M'·N'.

    Every output position reuses every parameter once (a bias counts as a connection from a
    constant input), so a shared weight is counted once per position it is used at. This is
    how LeCun et al. (1998) count the connections of LeNet-5.

    Raises:
        ValueError: for negative parameters or a non-positive output size.

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    if num_params < 0 or out_height < 1 or out_width < 1:
        raise ValueError(f"expected num_params ≥ 0 and a positive output size, got {num_params}, "
                         f"{out_height}×{out_width}")
    return num_params * out_height * out_width


def receptive_field(layers) -> list[tuple[int, int]]:
    """Receptive field of one output pixel after each layer of a stack, in input pixels.

    With r_0 = 1 and jump j_0 = 1 (the distance, in input pixels, between neighbouring
    positions), a layer with kernel k and stride s gives r ← r + (k − 1)·j and j ← j·s.

    Args:
        layers: a sequence of (kernel_size, stride) pairs, one per convolution or pooling layer.

    Returns:
        A list of (receptive_field, jump), one per layer.

    Raises:
        ValueError: for a kernel or stride below 1.

    Source: Goodfellow et al. (2016), section 9.2 (deeper units see a larger part of the
    input). Introduced in :doc:`/notebooks/12_cnn`.
    """
    r, j, out = 1, 1, []
    for k, s in layers:
        if k < 1 or s < 1:
            raise ValueError(f"kernel and stride must be ≥ 1, got ({k}, {s})")
        r, j = r + (k - 1) * j, j * s
        out.append((r, j))
    return out


def _check_input(X: torch.Tensor, name: str = "X") -> None:
    if not isinstance(X, torch.Tensor) or X.ndim != 4:
        shape = tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__
        raise ValueError(f"{name} must be a tensor of shape (N, C, H, W), got {shape}")


def _check_weight(X: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
    _check_input(X)
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4 or weight.shape[1] != X.shape[1]:
        raise ValueError(f"weight must have shape (P, C, U, V) with C = {X.shape[1]} input "
                         f"channels, got {tuple(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    require_same_dtype(X=X, weight=weight, bias=bias)


def unfold(X: torch.Tensor, kernel_size, stride=1, padding=0, pad_value: float = 0.0) -> torch.Tensor:
    """Cut an image batch into its receptive fields, one flattened patch per column (im2col).

    Args:
        X: images, shape (N, C, H, W), floating point.
        kernel_size: U or (U, V), the patch size in pixels.
        stride: S or (S_h, S_w), the step between patches.
        padding: P or (P_h, P_w), pixels of ``pad_value`` added on each side.
        pad_value: what the padding is filled with (0 for convolution, −∞ for max pooling).

    Returns:
        Patches of shape (N, C·U·V, H'·W'), ordered channel-major like
        :func:`torch.nn.functional.unfold` (column l is output position (l // W', l % W')).

    Raises:
        ValueError: for a non-4-D input or a kernel larger than the padded input.

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    _check_input(X)
    (u, v), (sh, sw), (ph, pw) = (_pair(kernel_size, "kernel_size"), _pair(stride, "stride"),
                                  _pair(padding, "padding"))
    n, c, h, w = X.shape
    out_h, out_w = conv_output_size(h, u, sh, ph), conv_output_size(w, v, sw, pw)
    Xp = F.pad(X, (pw, pw, ph, ph), value=pad_value)  # (N, C, H + 2P_h, W + 2P_w)
    # One strided slice per kernel offset (a, b): the pixel each receptive field has there.
    cols = [Xp[:, :, a : a + sh * (out_h - 1) + 1 : sh, b : b + sw * (out_w - 1) + 1 : sw]
            for a in range(u) for b in range(v)]  # U·V tensors of shape (N, C, H', W')
    patches = torch.stack(cols, dim=2)  # (N, C, U·V, H', W')
    return patches.reshape(n, c * u * v, out_h * out_w)  # (N, C·U·V, H'·W')


def conv2d_loops(X: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                 stride=1, padding=0) -> torch.Tensor:
    """2-D convolution by sliding each filter over the image, one output position at a time.

    ``Y[n, p, i, j] = b[p] + Σ_{c,a,b} W[p, c, a, b] · X_pad[n, c, i·S + a, j·S + b]``: the
    inner product of filter p with the receptive field of output (i, j). Slow (two Python
    loops), written to be read.

    Args:
        X: images, shape (N, C, H, W).
        weight: P filters, shape (P, C, U, V).
        bias: shape (P,), or None.
        stride, padding: ints or pairs, as in :func:`unfold`.

    Returns:
        Feature maps of shape (N, P, H', W').

    Raises:
        ValueError: for mismatched shapes, or X, weight and bias of different dtypes.

    Source: the CNN lecture ("filters slide over the image"). Introduced in
    :doc:`/notebooks/12_cnn`.
    """
    _check_weight(X, weight, bias)
    (u, v), (sh, sw), (ph, pw) = weight.shape[2:], _pair(stride, "stride"), _pair(padding, "padding")
    n, _, h, w = X.shape
    out_h, out_w = conv_output_size(h, u, sh, ph), conv_output_size(w, v, sw, pw)
    Xp = F.pad(X, (pw, pw, ph, ph))  # zero padding
    Y = X.new_zeros(n, weight.shape[0], out_h, out_w)  # (N, P, H', W')
    for i in range(out_h):
        for j in range(out_w):
            field = Xp[:, :, i * sh : i * sh + u, j * sw : j * sw + v]  # (N, C, U, V)
            Y[:, :, i, j] = torch.einsum("ncab,pcab->np", field, weight)  # (N, P)
    if bias is not None:
        Y = Y + bias.view(1, -1, 1, 1)
    return Y


def conv2d_unfold(X: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                  stride=1, padding=0) -> torch.Tensor:
    """2-D convolution as one matrix product: shared weights times every receptive field.

    Each column of ``unfold(X)`` is the flattened receptive field of one output neuron; all
    neurons of filter p use the same weight vector ``weight[p].flatten()`` (parameter sharing).

    Args and returns as :func:`conv2d_loops`. Introduced in :doc:`/notebooks/12_cnn`.
    """
    _check_weight(X, weight, bias)
    p, _, u, v = weight.shape
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    n, _, h, w = X.shape
    out_h, out_w = conv_output_size(h, u, sh, ph), conv_output_size(w, v, sw, pw)
    cols = unfold(X, (u, v), (sh, sw), (ph, pw))  # (N, C·U·V, H'·W')
    Y = weight.reshape(p, -1) @ cols  # (P, C·U·V) @ (N, C·U·V, H'·W') -> (N, P, H'·W')
    if bias is not None:
        Y = Y + bias.view(1, -1, 1)
    return Y.reshape(n, p, out_h, out_w)  # (N, P, H', W')


def max_pool2d(X: torch.Tensor, kernel_size, stride=None, padding=0) -> torch.Tensor:
    """Max pooling: the largest value of each window, channel by channel.

    Args:
        X: feature maps, shape (N, C, H, W).
        kernel_size: K or (K_h, K_w), the window in pixels.
        stride: the step between windows; defaults to ``kernel_size`` (non-overlapping windows).
        padding: P or (P_h, P_w), filled with −∞ so that padding never wins; PyTorch requires
            P ≤ K / 2.

    Returns:
        Shape (N, C, H', W') with H' = ⌊(H − K + 2P)/S⌋ + 1.

    Raises:
        ValueError: for a non-4-D input or a window larger than the padded input.

    Source: Goodfellow et al. (2016), section 9.3. Introduced in :doc:`/notebooks/12_cnn`.
    """
    return _pool(X, kernel_size, stride, padding, "max")


def avg_pool2d(X: torch.Tensor, kernel_size, stride=None) -> torch.Tensor:
    """Average pooling: the mean of each window, channel by channel (no padding).

    Shapes and errors as :func:`max_pool2d`. Introduced in :doc:`/notebooks/12_cnn`.
    """
    return _pool(X, kernel_size, stride, 0, "mean")


def _pool(X, kernel_size, stride, padding, how):
    _check_input(X)
    require_float(X=X)
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None else _pair(stride, "stride")
    p = _pair(padding, "padding")
    n, c, h, w = X.shape
    out_h, out_w = conv_output_size(h, k[0], s[0], p[0]), conv_output_size(w, k[1], s[1], p[1])
    cols = unfold(X, k, s, p, pad_value=-math.inf)  # (N, C·K_h·K_w, H'·W')
    cols = cols.reshape(n, c, k[0] * k[1], out_h * out_w)  # (N, C, K_h·K_w, H'·W')
    pooled = cols.amax(dim=2) if how == "max" else cols.mean(dim=2)  # (N, C, H'·W')
    return pooled.reshape(n, c, out_h, out_w)


def conv_as_matrix(weight: torch.Tensor, input_shape: tuple[int, int, int], stride=1,
                   padding=0) -> torch.Tensor:
    """The matrix of a fully connected layer that computes the same convolution (no bias).

    ``conv_as_matrix(W, (C, H, W_in)) @ x.flatten()`` equals ``conv2d(x, W).flatten()`` for one
    image x of shape (C, H, W_in). Most entries are zero (each output sees only its receptive
    field) and the non-zero ones repeat the same few filter weights (parameter sharing): a
    convolutional layer is a fully connected layer with both constraints built in.

    Args:
        weight: filters, shape (P, C, U, V).
        input_shape: (C, H, W) of one input image.
        stride, padding: as in :func:`conv2d_unfold`.

    Returns:
        A dense matrix of shape (P·H'·W', C·H·W).

    Raises:
        ValueError: if the channel counts differ.

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    c, h, w = input_shape
    if weight.ndim != 4 or weight.shape[1] != c or weight.shape[0] == 0:
        raise ValueError(f"weight must have shape (P, {c}, U, V) for input {input_shape}, got "
                         f"{tuple(weight.shape)}")
    basis = torch.eye(c * h * w, dtype=weight.dtype, device=weight.device).reshape(-1, c, h, w)
    columns = conv2d_unfold(basis, weight, None, stride, padding)  # (C·H·W, P, H', W')
    return columns.reshape(c * h * w, -1).T  # (P·H'·W', C·H·W)
