"""Auto-encoders: PCA as the linear baseline, MLP auto-encoders, noise, discrete codes.

An auto-encoder is two networks trained together without labels: an encoder f that maps an
input x to a short code h = f(x) (the bottleneck), and a decoder g that maps the code back to
a reconstruction x̂ = g(h). Training minimizes the reconstruction error L(x, g(f(x))).

* :func:`pca_fit`, :func:`pca_encode`, :func:`pca_decode`: principal component analysis by
  the singular value decomposition, the best *linear* encoder and decoder for the squared
  error, to compare with at the same code size;
* :class:`AutoEncoder` with a real, binary or vector-quantized code
  (:func:`binarize_straight_through`, :func:`vector_quantize`);
* :func:`train_autoencoder` (plain or de-noising, with :func:`add_noise`) and
  :func:`reconstruction_error`, the anomaly score of the anomaly-detection section.

Introduced in :doc:`/notebooks/19_autoencoders`.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from .checks import require_finite, require_float
from .runtime import device as default_device
from .train import History, fit, minibatches

__all__ = [
    "PCA",
    "pca_fit",
    "pca_encode",
    "pca_decode",
    "binarize_straight_through",
    "vector_quantize",
    "AutoEncoder",
    "AEConfig",
    "add_noise",
    "train_autoencoder",
    "reconstruction_error",
]


# --------------------------------------------------------------------------- PCA


@dataclasses.dataclass
class PCA:
    """A fitted PCA: ``mean`` (D,), ``components`` (k, D) with orthonormal rows, and the
    ``explained_variance`` (k,) of the data along each (in squared data units)."""

    mean: torch.Tensor
    components: torch.Tensor
    explained_variance: torch.Tensor

    def first(self, k: int) -> PCA:
        """The PCA with only the first k components: the same as :func:`pca_fit` with k, from
        one decomposition (the components are nested, largest variance first).

        Raises:
            ValueError: unless 1 ≤ k ≤ the number of components.
        """
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(self.components):
            raise ValueError(f"k must be an integer in [1, {len(self.components)}], got {k!r}")
        return PCA(self.mean, self.components[:k], self.explained_variance[:k])


def pca_fit(X: torch.Tensor, k: int) -> PCA:
    """Principal component analysis by the singular value decomposition.

    Centre the rows of X, take the SVD X_c = U S Vᵀ; the first k rows of Vᵀ are the
    directions of largest variance, and S² / (N - 1) the variances along them. With more rows
    than columns (N > D) the same V and S² come, several times faster, from the eigenvectors
    and eigenvalues of the D × D matrix X_cᵀ X_c = V S² Vᵀ (in float64, the two routes agree
    to within 1e-12 on the book's digits). Each component's sign is fixed so that its
    largest-magnitude entry is positive (a convention, the same as scikit-learn's).

    Args:
        X: data of shape (N, D) (images are flattened), float.
        k: number of components, 1 ≤ k ≤ min(N, D).

    Returns:
        A :class:`PCA`.

    Raises:
        ValueError: if X is not (N, D) with N ≥ 2, or k is out of range.

    Source: Pearson (1901); Goodfellow et al. (2016), section 2.12. Introduced in
    :doc:`/notebooks/19_autoencoders`.
    """
    X = X.flatten(1) if X.ndim > 2 else X
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"X must have shape (N, D) with N >= 2, got {tuple(X.shape)}")
    require_finite(X, "X")
    if not 1 <= k <= min(X.shape):
        raise ValueError(
            f"k must be in [1, {min(X.shape)}] for X of shape {tuple(X.shape)}, got {k}"
        )
    X = X.double()
    mean = X.mean(dim=0)  # (D,)
    Xc = X - mean
    if X.shape[0] > X.shape[1]:  # more examples than features: the D × D matrix Xcᵀ Xc = V S² Vᵀ
        eigenvalues, eigenvectors = torch.linalg.eigh(Xc.T @ Xc)  # ascending, (D,) and (D, D)
        S2 = eigenvalues.flip(0)[:k].clamp(min=0.0)  # (k,)
        components = eigenvectors.flip(1)[:, :k].T  # (k, D)
    else:
        _, S, Vh = torch.linalg.svd(Xc, full_matrices=False)  # S (r,), Vh (r, D)
        S2, components = S[:k] ** 2, Vh[:k]
    biggest = components.abs().argmax(dim=1)  # (k,)
    signs = torch.sign(components[torch.arange(k), biggest])[:, None]  # (k, 1)
    return PCA(mean=mean, components=components * signs, explained_variance=S2 / (X.shape[0] - 1))


def pca_encode(X: torch.Tensor, pca: PCA) -> torch.Tensor:
    """Codes of X: coordinates along the components, (X - mean) Vₖᵀ, shape (N, k), float64."""
    return (X.flatten(1).double() - pca.mean) @ pca.components.T


def pca_decode(codes: torch.Tensor, pca: PCA) -> torch.Tensor:
    """Reconstructions from codes (N, k): mean + codes Vₖ, shape (N, D), float64."""
    return pca.mean + codes.double() @ pca.components


# --------------------------------------------------------------------------- discrete codes


def binarize_straight_through(logits: torch.Tensor) -> torch.Tensor:
    """Binary code with a straight-through gradient: forward 1 where sigmoid(logit) > 0.5 else
    0; backward, the gradient of sigmoid(logit), as if no rounding had happened.

    Args:
        logits: any shape.

    Returns:
        The same shape, values exactly 0 or 1.

    Source: Bengio et al. (2013), Estimating or propagating gradients through stochastic
    neurons. Introduced in :doc:`/notebooks/19_autoencoders`.
    """
    soft = torch.sigmoid(logits)
    hard = (soft > 0.5).to(soft.dtype)
    return soft + (hard - soft).detach()


def vector_quantize(z: torch.Tensor, codebook: torch.Tensor, beta: float = 0.25):
    """Replace each vector by its nearest codebook entry (the VQ-VAE bottleneck).

    Distances come from ``|z - e|² = |z|² - 2 z·e + |e|²``, one matrix product for all pairs.

    Args:
        z: encoder outputs, shape (N, d).
        codebook: shape (K, d), the learnable code vectors e_1..e_K.
        beta: weight of the commitment term.

    Returns:
        ``(z_q, indices, loss)``: ``z_q`` (N, d) equals the chosen entries in the forward pass
        and passes gradients straight through to z in the backward pass; ``indices`` (N,)
        int64; ``loss`` = ``|sg[z] - e|² + beta |z - sg[e]|²`` (mean over entries), which moves the
        codebook towards the codes and keeps the encoder near its chosen entries.

    Raises:
        ValueError: if z and codebook disagree in d or are not 2-D.

    Source: van den Oord et al. (2017), equation 3. Introduced in :doc:`/notebooks/19_autoencoders`.
    """
    require_float(z=z, codebook=codebook)
    if z.ndim != 2 or codebook.ndim != 2 or z.shape[1] != codebook.shape[1] or len(codebook) == 0:
        raise ValueError(
            f"need z (N, d) and codebook (K, d), got {tuple(z.shape)} and {tuple(codebook.shape)}"
        )
    dist = (z**2).sum(1, keepdim=True) - 2 * z @ codebook.T + (codebook**2).sum(1)  # (N, K)
    indices = dist.argmin(dim=1)  # (N,)
    e = codebook[indices]  # (N, d)
    loss = F.mse_loss(e, z.detach()) + beta * F.mse_loss(z, e.detach())
    return z + (e - z).detach(), indices, loss


# --------------------------------------------------------------------------- networks


class AutoEncoder(nn.Module):
    """An MLP encoder, a bottleneck of ``code_dim`` numbers, and an MLP decoder.

    Shapes for a batch of B images of ``in_shape`` (e.g. (1, 28, 28)): x ``(B, *in_shape)`` ->
    encoder -> code h (B, code_dim) -> decoder -> x̂ ``(B, *in_shape)``, pixels in [0, 1] by a
    final sigmoid.

    Args:
        in_shape: shape of one input.
        code_dim: size of the code (the bottleneck).
        hidden: width of the hidden layer on each side (a tuple for several layers).
        code: ``"real"`` (a linear code), ``"binary"`` (0/1 bits, straight-through) or
            ``"vq"`` (each code is one of ``num_codes`` learnable vectors: a clustering).
        num_codes: codebook size for ``"vq"``.

    Raises:
        ValueError: for non-positive sizes or an unknown code type.

    Introduced in :doc:`/notebooks/19_autoencoders`.
    """

    def __init__(
        self,
        in_shape=(1, 28, 28),
        code_dim: int = 16,
        hidden=(256,),
        *,
        code: str = "real",
        num_codes: int = 16,
    ):
        super().__init__()
        hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
        if code_dim < 1 or not hidden or min(hidden) < 1:
            raise ValueError(
                f"code_dim and hidden sizes must be positive, got {code_dim} and {hidden}"
            )
        if code not in ("real", "binary", "vq"):
            raise ValueError(f"code must be 'real', 'binary' or 'vq', got {code!r}")
        self.in_shape, self.code_dim, self.code = tuple(in_shape), code_dim, code
        D = math.prod(self.in_shape)

        def stack(sizes):
            layers = []
            for a, b in zip(sizes[:-2], sizes[1:-1], strict=True):
                layers += [nn.Linear(a, b), nn.ReLU()]
            return layers + [nn.Linear(sizes[-2], sizes[-1])]

        self.encoder = nn.Sequential(nn.Flatten(), *stack((D, *hidden, code_dim)))
        self.decoder = nn.Sequential(
            *stack((code_dim, *hidden[::-1], D)), nn.Sigmoid(), nn.Unflatten(1, self.in_shape)
        )
        self.codebook = None
        if code == "vq":
            if num_codes < 1:
                raise ValueError(f"num_codes must be positive, got {num_codes}")
            self.codebook = nn.Parameter(torch.randn(num_codes, code_dim))
        self.aux_loss = torch.zeros(())  # the VQ loss of the last forward pass

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of x: (B, code_dim) real numbers, bits, or the chosen codebook vectors."""
        h = self.encoder(x)  # (B, code_dim)
        if self.code == "binary":
            return binarize_straight_through(h)
        if self.code == "vq":
            h, _, self.aux_loss = vector_quantize(h, self.codebook)
        return h

    def code_indices(self, x: torch.Tensor) -> torch.Tensor:
        """For a ``"vq"`` code: the index (B,) of the codebook entry each input is mapped to."""
        if self.code != "vq":
            raise ValueError("code_indices needs an auto-encoder with code='vq'")
        return vector_quantize(self.encoder(x), self.codebook)[1]

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``(B, *in_shape)`` from codes (B, code_dim)."""
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


# --------------------------------------------------------------------------- training


@dataclasses.dataclass
class AEConfig:
    """Settings of :func:`train_autoencoder`."""

    num_epochs: int = 10  # passes over the training set
    batch_size: int = 128  # examples per update
    lr: float = 2e-3  # Adam learning rate
    noise: str | None = (
        None  # None, "gaussian" or "mask": corrupt inputs (a de-noising auto-encoder)
    )
    noise_level: float = 0.5  # std of the Gaussian noise, or fraction of pixels masked
    seed: int = 0  # seeds shuffling and noise


def add_noise(
    X: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Corrupt images with pixels in [0, 1].

    Args:
        X: shape (B, ...), values in [0, 1].
        kind: ``"gaussian"`` adds N(0, level²) noise and clips to [0, 1]; ``"mask"`` sets a
            random fraction ``level`` of the pixels to 0.
        level: the noise's standard deviation or the masked fraction (≥ 0; < 1 for masks).
        generator: for reproducible noise.

    Returns:
        A new tensor of X's shape.

    Raises:
        ValueError: for an unknown kind or a level out of range.

    Introduced in :doc:`/notebooks/19_autoencoders`.
    """
    if kind == "gaussian" and level >= 0:
        noise = torch.randn(X.shape, generator=generator).to(X.device)
        return (X + level * noise).clamp(0, 1)
    if kind == "mask" and 0 <= level < 1:
        keep = torch.rand(X.shape, generator=generator).to(X.device) >= level
        return X * keep
    raise ValueError(
        f"kind must be 'gaussian' (level >= 0) or 'mask' (0 <= level < 1), got {kind!r}, {level}"
    )


def train_autoencoder(
    net: AutoEncoder,
    X: torch.Tensor,
    config: AEConfig | None = None,
    *,
    device: torch.device | None = None,
    desc: str = "auto-encoder",
) -> History:
    """Train an auto-encoder in place to minimize the mean squared reconstruction error.

    With ``config.noise`` set it is a de-noising auto-encoder: the encoder sees a corrupted
    copy of each image, the loss compares the output with the clean image,
    L(x, g(f(n(x)))). For a ``"vq"`` code the VQ loss is added; the codebook starts at the
    encoder's outputs for randomly chosen training images, and after each epoch every entry
    that no image chose is moved to the code of another random image (a *dead-code restart*).

    The loop is :func:`dlbook.train.fit` with a reconstruction step; one generator, seeded by
    ``config.seed``, draws the batch order, the noise and the codebook restarts.

    Args:
        net: an :class:`AutoEncoder`.
        X: training images ``(N, *in_shape)``, float in [0, 1]. No labels are used.
        config: an :class:`AEConfig`.
        device: where to train (the book's device by default).
        desc: label of the progress bar.

    Returns:
        A :class:`~dlbook.train.History` with ``train_loss``, the mean training loss of each
        epoch (squared pixel units), and ``seconds``.

    Raises:
        ValueError: if X's shape does not match the network's input shape.

    Source: Goodfellow et al. (2016), chapter 14; de-noising: Vincent et al. (2008).
    Introduced in :doc:`/notebooks/19_autoencoders`.
    """
    config = config or AEConfig()
    if tuple(X.shape[1:]) != net.in_shape:
        raise ValueError(f"X has shape {tuple(X.shape)}, the network expects (N, *{net.in_shape})")
    device = torch.device(device or default_device())
    net.to(device)
    # The fused Adam updates every parameter in one pass per step (CPU, CUDA and MPS): the same
    # arithmetic, a quarter less time per step for these small networks on a CPU.
    opt = torch.optim.Adam(net.parameters(), lr=config.lr, fused=True)
    rng = torch.Generator().manual_seed(config.seed)
    if net.code == "vq":  # start the codebook at the codes of random training images, so that
        with torch.no_grad():  # every entry is near some data (a random start leaves most unused)
            pick = torch.randperm(len(X), generator=rng)[: len(net.codebook)]
            net.codebook.copy_(net.encoder(X[pick].to(device)))
    last_input = []

    def reconstruction_step(model: AutoEncoder, batch: tuple[torch.Tensor]) -> torch.Tensor:
        (x,) = batch  # (B, *in_shape)
        x_in = add_noise(x, config.noise, config.noise_level, rng) if config.noise else x
        loss = F.mse_loss(model(x_in), x)
        if model.code == "vq":
            loss = loss + model.aux_loss
            last_input[:] = [x_in]
        return loss

    class DeadCodeRestart:
        """Mark the codes each batch chose (after its update); at the end of an epoch move
        every code no image chose to the code of a random training image."""

        used = torch.zeros(len(net.codebook), dtype=torch.bool) if net.code == "vq" else None

        def on_batch_end(self, state) -> None:
            if self.used is not None:
                self.used[net.code_indices(last_input[0]).cpu()] = True

        def on_epoch_end(self, state) -> None:
            if self.used is not None:
                if not self.used.all():
                    with torch.no_grad():
                        pick = torch.randint(len(X), (int((~self.used).sum()),), generator=rng)
                        net.codebook[~self.used.to(device)] = net.encoder(X[pick].to(device))
                self.used.zero_()

    return fit(net, minibatches(X, batch_size=config.batch_size, seed=rng), reconstruction_step,
               num_epochs=config.num_epochs, optimizer=opt, device=device, desc=desc,
               callbacks=[DeadCodeRestart()])


@torch.no_grad()
def reconstruction_error(
    net: nn.Module, X: torch.Tensor, *, batch_size: int = 1000
) -> torch.Tensor:
    """Mean squared error between each input and its reconstruction, shape (N,), on the CPU.

    Works for any module mapping X to a tensor of X's shape (an auto-encoder, or a PCA
    wrapped in a function-like module).

    Introduced in :doc:`/notebooks/19_autoencoders`.
    """
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    out = []
    for i in range(0, len(X), batch_size):
        x = X[i : i + batch_size].to(device)
        out.append(((net(x) - x) ** 2).flatten(1).mean(dim=1).cpu())
    net.train(was_training)
    return torch.cat(out)
