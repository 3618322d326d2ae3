"""Generative adversarial networks: toy distributions, the losses, the divergences, training.

A generator G maps a sample z of a simple distribution (a standard normal) to a sample
G(z) of a complicated one, P_G. A discriminator D scores samples: high for real data, low for
generated ones. Training alternates: fix G and update D to tell real from generated, fix D
and update G to raise D's score of its samples (Goodfellow et al., 2014).

This module holds what :doc:`/notebooks/17_gan` builds by hand:

* toy data: :func:`ring_means`, :func:`sample_mixture`, :func:`mixture_density`,
  :func:`mode_coverage` (which modes of a mixture the samples reach);
* the objective and its divergences: :func:`value_function`, :func:`discriminator_loss`,
  :func:`generator_loss`, :func:`critic_loss`, :func:`optimal_discriminator`,
  :func:`js_divergence`, :func:`wasserstein_1d`;
* the Lipschitz constraints of WGAN: :func:`gradient_penalty`, :func:`spectral_norm_estimate`;
* the loop: :class:`GANConfig`, :func:`train_gan` (the networks are
  :class:`dlbook.models.MLP`, optionally conditioned on a class);
* the latent space and paired domains: :func:`interpolate_latents`,
  :func:`cycle_consistency_loss`.

Introduced in :doc:`/notebooks/17_gan`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checks import require_count, require_finite, require_float, require_real, require_same_dtype
from .runtime import RunConfig
from .runtime import device as default_device
from .train import History, fit

__all__ = [
    "ring_means",
    "sample_mixture",
    "mixture_density",
    "mode_coverage",
    "value_function",
    "discriminator_loss",
    "generator_loss",
    "critic_loss",
    "optimal_discriminator",
    "js_divergence",
    "wasserstein_1d",
    "gradient_penalty",
    "spectral_norm_estimate",
    "GANConfig",
    "train_gan",
    "interpolate_latents",
    "cycle_consistency_loss",
]


# --------------------------------------------------------------------------- toy distributions


def ring_means(num_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """Centres of ``num_modes`` Gaussians evenly spaced on a circle, shape (num_modes, 2).

    Raises:
        ValueError: for fewer than one mode or a non-positive radius.

    Introduced in :doc:`/notebooks/17_gan`.
    """
    if num_modes < 1 or radius <= 0:
        raise ValueError(f"need num_modes >= 1 and radius > 0, got {num_modes} and {radius}")
    angles = 2 * math.pi * torch.arange(num_modes) / num_modes  # (K,)
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (K, 2)


def sample_mixture(
    n: int, means: torch.Tensor, std: float, weights=None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw n points from a mixture of isotropic Gaussians N(means[k], std² I).

    Args:
        n: number of samples.
        means: shape (K, d), the centres (a 1-D tensor of K numbers means d = 1).
        std: the common standard deviation (> 0).
        weights: mixing probabilities, shape (K,), summing to 1 (uniform if omitted).
        generator: a :class:`torch.Generator` for reproducible draws.

    Returns:
        Shape (n, d), float32.

    Raises:
        ValueError: for n < 1, std <= 0, means not of shape (K, d) or not finite, or weights of
            the wrong shape or not summing to 1.

    Introduced in :doc:`/notebooks/17_gan`.
    """
    n = require_count(n, "n")
    means = torch.as_tensor(means, dtype=torch.float32)
    if means.ndim == 1:
        means = means[:, None]  # (K, 1)
    if means.ndim != 2 or means.shape[0] == 0:
        raise ValueError(f"means must have shape (K, d) with K >= 1, got {tuple(means.shape)}")
    require_finite(means, "means")
    require_real(std, "std", low=0, strict_low=True)
    K = means.shape[0]
    w = (
        torch.full((K,), 1.0 / K)
        if weights is None
        else torch.as_tensor(weights, dtype=torch.float32)
    )
    if w.shape != (K,) or abs(w.sum().item() - 1) > 1e-5 or (w < 0).any():
        raise ValueError(f"weights must be {K} non-negative numbers summing to 1, got {w.tolist()}")
    k = torch.multinomial(w, n, replacement=True, generator=generator)  # (n,) component of each
    noise = torch.randn(n, means.shape[1], generator=generator)  # (n, d)
    return means[k] + std * noise


def mixture_density(x, means, std: float, weights=None) -> np.ndarray:
    """Density of a 1-D Gaussian mixture at the points x (any shape), in 1 / (unit of x).

    Introduced in :doc:`/notebooks/17_gan`.
    """
    x = np.asarray(x, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64).reshape(-1)
    if means.size == 0:
        raise ValueError("means must hold at least one centre, got none")
    w = np.full(len(means), 1 / len(means)) if weights is None else np.asarray(weights, np.float64)
    z = (x[..., None] - means) / std  # (..., K)
    return np.sum(w * np.exp(-0.5 * z**2), axis=-1) / (std * math.sqrt(2 * math.pi))


def mode_coverage(
    samples: torch.Tensor, means: torch.Tensor, radius: float
) -> tuple[torch.Tensor, float]:
    """Which modes of a mixture a set of samples reaches, and how many samples are good.

    A sample is *good* if it lies within ``radius`` of its nearest centre; it then counts for
    that mode.

    Args:
        samples: shape (N, d).
        means: shape (K, d), the mixture's centres.
        radius: distance (in the units of the data) that counts as "on a mode", e.g. 3 std.

    Returns:
        ``(fractions, good)``: the fraction of all N samples on each mode, shape (K,), and the
        fraction of good samples (their sum), a float in [0, 1].

    Raises:
        ValueError: for mismatched dimensions.

    Introduced in :doc:`/notebooks/17_gan`.
    """
    samples = torch.as_tensor(samples, dtype=torch.float32)
    means = torch.as_tensor(means, dtype=torch.float32)
    require_finite(samples, "samples")
    require_finite(means, "means")
    if means.numel() == 0:
        raise ValueError(f"means must hold at least one centre, got shape {tuple(means.shape)}")
    if samples.ndim == 1:
        samples = samples[:, None]
    if means.ndim == 1:
        means = means[:, None]
    if samples.shape[1] != means.shape[1]:
        raise ValueError(
            f"samples (N, d) and means (K, d) disagree: "
            f"{tuple(samples.shape)}, {tuple(means.shape)}"
        )
    dist = torch.cdist(samples, means)  # (N, K)
    nearest, k = dist.min(dim=1)
    good = nearest < radius
    fractions = torch.bincount(k[good], minlength=len(means)).float() / len(samples)
    return fractions, good.float().mean().item()


# --------------------------------------------------------------------------- objective and losses


def value_function(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The GAN objective V(G, D) = E_data[log D(x)] + E_G[log(1 - D(x))], estimated from samples.

    D(x) = sigmoid(logit); log sigmoid(a) = -softplus(-a) and log(1 - sigmoid(a)) = -softplus(a)
    avoid computing log of a rounded probability.

    Args:
        real_logits: D's logits on real samples, shape (N,) or (N, 1).
        fake_logits: D's logits on generated samples, shape (M,) or (M, 1).

    Returns:
        A scalar tensor (nats), at most 0. The discriminator maximizes it.

    Source: Goodfellow et al. (2014), equation 1. Introduced in :doc:`/notebooks/17_gan`.
    """
    require_float(real_logits=real_logits, fake_logits=fake_logits)
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-V(G, D): binary cross-entropy with label 1 for real and 0 for generated samples.

    Introduced in :doc:`/notebooks/17_gan`.
    """
    return -value_function(real_logits, fake_logits)


def generator_loss(fake_logits: torch.Tensor, kind: str = "non-saturating") -> torch.Tensor:
    """What the generator minimizes, given D's logits on its samples.

    Args:
        fake_logits: shape (M,) or (M, 1).
        kind: ``"minimax"``: E[log(1 - D(G(z)))], the generator's part of V (its gradient
            vanishes when D confidently rejects the samples); ``"non-saturating"``:
            -E[log D(G(z))], the usual choice (same fixed point, strong gradients early);
            ``"wasserstein"``: -E[D(G(z))] for a WGAN critic.

    Returns:
        A scalar tensor.

    Raises:
        ValueError: for an unknown kind.

    Source: Goodfellow et al. (2014), section 3; Arjovsky et al. (2017). Introduced in
    :doc:`/notebooks/17_gan`.
    """
    require_float(fake_logits=fake_logits)
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    if kind == "non-saturating":
        return F.softplus(-fake_logits).mean()
    if kind == "wasserstein":
        return -fake_logits.mean()
    raise ValueError(f"kind must be 'minimax', 'non-saturating' or 'wasserstein', got {kind!r}")


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The WGAN critic's loss E_G[D(x)] - E_data[D(x)]: minus the estimate of the Wasserstein
    distance when D is 1-Lipschitz.

    Source: Arjovsky et al. (2017). Introduced in :doc:`/notebooks/17_gan`.
    """
    require_float(real_scores=real_scores, fake_scores=fake_scores)
    return fake_scores.mean() - real_scores.mean()


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_G(x)), the discriminator that maximizes V for a fixed G.

    Args:
        p_data, p_g: densities (or probabilities) at the same points, same shape.

    Returns:
        An array of that shape in [0, 1]; 0.5 where both densities are 0 (D* is undefined there).

    Raises:
        ValueError: for different shapes or negative values.

    Source: Goodfellow et al. (2014), proposition 1. Introduced in :doc:`/notebooks/17_gan`.
    """
    p, q = np.asarray(p_data, np.float64), np.asarray(p_g, np.float64)
    require_finite(p, "p_data")
    require_finite(q, "p_g")
    if p.shape != q.shape or np.any(p < 0) or np.any(q < 0):
        raise ValueError(
            f"p_data and p_g must be non-negative and of one shape, got {p.shape} and {q.shape}"
        )
    total = p + q
    return np.where(total > 0, p / np.where(total > 0, total, 1.0), 0.5)


def js_divergence(p, q) -> float:
    """Jensen-Shannon divergence JS(P || Q) = ½ KL(P || M) + ½ KL(Q || M), M = (P + Q) / 2, in nats.

    Args:
        p, q: probability vectors of one shape (N,) (for densities on a grid, pass density
            times cell width). Each is normalized to sum to 1.

    Returns:
        A float in [0, log 2]: 0 for equal distributions, log 2 for disjoint supports.

    Raises:
        ValueError: for different shapes, negative entries or an all-zero vector.

    Introduced in :doc:`/notebooks/17_gan`.
    """
    p, q = np.asarray(p, np.float64).ravel(), np.asarray(q, np.float64).ravel()
    require_finite(p, "p")
    require_finite(q, "q")
    if p.shape != q.shape or np.any(p < 0) or np.any(q < 0) or p.sum() == 0 or q.sum() == 0:
        raise ValueError(
            "p and q must be non-negative, non-zero vectors of one shape, "
            f"got {p.shape} and {q.shape}"
        )
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a, b):  # KL(a || b) with 0 log 0 = 0; b > 0 wherever a > 0 since b = m
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / b[mask])))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def wasserstein_1d(u, v) -> float:
    """Earth mover's (1-Wasserstein) distance between the empirical distributions of two 1-D
    samples: the area between their cumulative distribution functions, ∫ ``|F_u(t) - F_v(t)|`` dt.

    Args:
        u, v: 1-D arrays of samples (any lengths ≥ 1), in some unit.

    Returns:
        The distance, in the unit of the samples.

    Raises:
        ValueError: for empty or non 1-D input.

    Source: Villani (2008); used as the GAN objective by Arjovsky et al. (2017).
    Introduced in :doc:`/notebooks/17_gan`.
    """
    u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
    if u.ndim != 1 or v.ndim != 1 or len(u) == 0 or len(v) == 0:
        raise ValueError(
            f"u and v must be non-empty 1-D arrays, got shapes {u.shape} and {v.shape}"
        )
    grid = np.sort(np.concatenate([u, v]))  # every point where a CDF can jump
    cdf_u = np.searchsorted(np.sort(u), grid[:-1], side="right") / len(u)
    cdf_v = np.searchsorted(np.sort(v), grid[:-1], side="right") / len(v)
    return float(np.sum(np.abs(cdf_u - cdf_v) * np.diff(grid)))


# --------------------------------------------------------------------------- Lipschitz constraints


def gradient_penalty(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    y=None,
    generator: torch.Generator | None = None,
    one_sided: bool = False,
) -> torch.Tensor:
    """WGAN-GP's penalty E[(``|∇_x D(x̂)|`` - 1)²] at random points x̂ between real and fake samples.

    Args:
        critic: maps a batch (and optional class labels y) to scores (B,) or (B, 1).
        real, fake: batches of one shape (B, ...).
        y: class labels (B,) passed to the critic, or None.
        generator: for the random interpolation weights.
        one_sided: penalize only slopes above 1, E[max(0, ``|∇_x D(x̂)|`` - 1)²]. The two-sided
            penalty also charges slopes below 1, so a critic whose slope has the wrong sign must
            pay for passing through slope 0 to reverse it and can stay stuck; the one-sided form
            has no such barrier (Gulrajani et al. 2017, section 4, mention both).

    Returns:
        A scalar tensor, differentiable with respect to the critic's parameters.

    Raises:
        ValueError: if real and fake differ in shape.

    Source: Gulrajani et al. (2017), algorithm 1. Introduced in :doc:`/notebooks/17_gan`.
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"real and fake must have one shape, got {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    B = real.shape[0]
    alpha = torch.rand((B,) + (1,) * (real.ndim - 1), generator=generator).to(
        real.device
    )  # (B, 1, ...)
    x_hat = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat) if y is None else critic(x_hat, y)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (B, ...)
    excess = grad.flatten(1).norm(dim=1) - 1  # (B,)
    if one_sided:
        excess = excess.clamp_min(0.0)
    return (excess**2).mean()


def spectral_norm_estimate(
    W: torch.Tensor,
    num_iters: int = 20,
    u: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
):
    """Largest singular value of a matrix by power iteration, as spectral normalization uses it.

    Repeats v = Wᵀu / ``|Wᵀu|``, u = W v / ``|W v|``; then σ ≈ uᵀ W v. Spectral normalization divides
    each weight matrix by σ so that its layer is 1-Lipschitz.

    Args:
        W: shape (out, in).
        num_iters: power iterations (≥ 1).
        u: starting left vector (out,), random if omitted.
        generator: for the random start.

    Returns:
        ``(sigma, u, v)``: the estimate (a 0-d tensor) and the final vectors (out,), (in,).

    Raises:
        ValueError: unless W is 2-D and num_iters ≥ 1.

    Source: Miyato et al. (2018), algorithm 1. Introduced in :doc:`/notebooks/17_gan`.
    """
    require_float(W=W)
    if W.ndim != 2 or num_iters < 1:
        raise ValueError(
            f"W must be 2-D and num_iters >= 1, got shape {tuple(W.shape)} and {num_iters}"
        )
    with torch.no_grad():
        if u is None:
            u = torch.randn(W.shape[0], generator=generator, dtype=W.dtype).to(W.device)
        u = u / u.norm()
        for _ in range(num_iters):
            v = W.T @ u  # (in,)
            v = v / v.norm()
            u = W @ v  # (out,)
            u = u / u.norm()
    return u @ W @ v, u, v


# --------------------------------------------------------------------------- networks and training


@dataclasses.dataclass
class GANConfig(RunConfig):
    """Settings of :func:`train_gan`: a :class:`dlbook.RunConfig` with the run scale as a field.

    The defaults are the same at both scales. An experiment whose length depends on the scale
    subclasses it and declares those fields with :func:`dlbook.per_scale`, e.g.
    ``num_steps: int = per_scale(small=1000, full=10000)``; ``GANConfig(scale="full")`` (or the
    subclass's) gives the full run's settings on any machine.

    Attributes:
        num_steps: generator updates, ≥ 1.
        batch_size: real and generated samples per update, ≥ 1.
        z_dim: size of the generator's input noise z ~ N(0, I).
        lr_g: Adam's learning rate of the generator.
        lr_d: Adam's learning rate of the discriminator (critic).
        betas: Adam's momentum coefficients (β1 = 0.5 is common for GANs).
        loss: ``"gan"`` (the non-saturating loss) or ``"wgan-gp"``.
        gp_weight: λ of the gradient penalty (``"wgan-gp"`` only).
        d_steps: discriminator updates per generator update, ≥ 1.
        num_classes: > 0 makes a conditional GAN; fake labels are drawn uniformly.
        seed: seeds the noise, the labels and the interpolation weights (not the initialization).
        scale: see :class:`dlbook.RunConfig` (keyword only).

    Introduced in :doc:`/notebooks/17_gan`.
    """

    num_steps: int = 2000  # generator updates
    batch_size: int = 128  # real and generated samples per update
    z_dim: int = 2  # size of the generator's input noise z ~ N(0, I)
    lr_g: float = 1e-3  # Adam learning rate of the generator
    lr_d: float = 1e-3  # Adam learning rate of the discriminator / critic
    betas: tuple[float, float] = (0.5, 0.999)  # Adam's momentum coefficients
    loss: str = "gan"  # "gan" (non-saturating) or "wgan-gp"
    gp_weight: float = 10.0  # λ of the gradient penalty (wgan-gp only)
    d_steps: int = 1  # discriminator updates per generator update
    num_classes: int = 0  # > 0: conditional GAN; fake labels are drawn uniformly
    seed: int = 0  # seeds noise, labels and interpolation weights (not the initialization)


def train_gan(
    G: nn.Module,
    D: nn.Module,
    sample_real: Callable,
    config: GANConfig | None = None,
    *,
    callback: Callable[[int, nn.Module, nn.Module], None] | None = None,
    callback_every: int = 0,
    device: torch.device | None = None,
    desc: str = "GAN",
) -> History:
    """Train a GAN by the alternating algorithm, in place, on :func:`dlbook.train.fit`.

    Each step: ``d_steps`` times, draw real samples and z, and update D on
    :func:`discriminator_loss` (or, for ``"wgan-gp"``, :func:`critic_loss` plus λ times
    :func:`gradient_penalty`) with G fixed; then draw z and update G on :func:`generator_loss`
    with D fixed.

    The alternating step updates both networks itself (``fit(..., optimizer=None)``); one
    epoch of :func:`~dlbook.train.fit` is one generator step, so the history has one value per
    step.

    Args:
        G: maps z (B, z_dim) (and labels (B,) when conditional) to samples.
        D: maps samples (and labels) to logits or critic scores, (B,) or (B, 1).
        sample_real: ``sample_real(batch_size, generator)`` returns real samples (B, ...), or
            ``(X, y)`` with class labels when ``config.num_classes > 0``.
        config: a :class:`GANConfig`.
        callback: called as ``callback(step, G, D)`` at step 0 and every ``callback_every``
            steps (with G in eval mode, under ``torch.no_grad()``), e.g. to keep snapshots.
        callback_every: period of the callback in generator steps; 0 means only at the end.
        device: where to train (the book's device by default).
        desc: label of the progress bar.

    Returns:
        A :class:`~dlbook.train.History` with ``d_loss`` and ``g_loss``, one float per generator
        step (D's loss is the one of its last update of the step: the critic loss plus penalty
        for WGAN-GP), and ``seconds``.

    Raises:
        ValueError: for an unknown loss, non-positive step counts, or a conditional WGAN-GP
            (not implemented).

    Source: Goodfellow et al. (2014), algorithm 1; Gulrajani et al. (2017), algorithm 1.
    Introduced in :doc:`/notebooks/17_gan`.
    """
    config = config or GANConfig()
    if config.loss not in ("gan", "wgan-gp"):
        raise ValueError(f"loss must be 'gan' or 'wgan-gp', got {config.loss!r}")
    if config.num_steps < 1 or config.d_steps < 1 or config.batch_size < 1:
        raise ValueError(f"num_steps, d_steps and batch_size must be positive, got {config}")
    if config.loss == "wgan-gp" and config.num_classes > 0:
        raise ValueError(
            "the conditional WGAN-GP is not implemented; use loss='gan' with num_classes > 0"
        )
    device = torch.device(device) if device is not None else default_device()
    G.to(device), D.to(device)
    # foreach: one call updates all of a network's tensors (same numbers, less Python per step)
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=config.betas, foreach=True)
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=config.betas, foreach=True)
    rng = torch.Generator().manual_seed(config.seed)
    conditional = config.num_classes > 0
    B = config.batch_size

    def fake_batch():
        z = torch.randn(B, config.z_dim, generator=rng).to(device)  # (B, z_dim)
        if not conditional:
            return G(z), None
        y = torch.randint(config.num_classes, (B,), generator=rng).to(device)  # (B,)
        return G(z, y), y

    def score(net, x, y):
        return (net(x) if y is None else net(x, y)).reshape(-1)  # (B,)

    def alternating_step(model: nn.Module, batch: None) -> dict[str, torch.Tensor]:
        for _ in range(config.d_steps):  # update D with G fixed
            real = sample_real(B, rng)
            x_real, y_real = real if conditional else (real, None)
            x_real = x_real.to(device)
            y_real = y_real.to(device) if conditional else None
            with torch.no_grad():
                x_fake, y_fake = fake_batch()
            if config.loss == "gan":
                loss_d = discriminator_loss(score(D, x_real, y_real), score(D, x_fake, y_fake))
            else:
                loss_d = critic_loss(
                    score(D, x_real, None), score(D, x_fake, None)
                ) + config.gp_weight * gradient_penalty(D, x_real, x_fake, generator=rng)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        x_fake, y_fake = fake_batch()  # update G with D fixed
        kind = "non-saturating" if config.loss == "gan" else "wasserstein"
        loss_g = generator_loss(score(D, x_fake, y_fake), kind)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return {"d_loss": loss_d.detach(), "g_loss": loss_g.detach()}

    def snapshot(step):
        if callback is not None:
            G.eval()
            with torch.no_grad():
                callback(step, G, D)
            G.train()

    def every(state):
        if callback_every and state.epoch % callback_every == 0:
            snapshot(state.epoch)

    snapshot(0)
    history = fit(nn.ModuleDict({"generator": G, "discriminator": D}), [None], alternating_step,
                  num_epochs=config.num_steps, device=device, desc=desc, callbacks=[every])
    if not callback_every:
        snapshot(config.num_steps)
    G.eval()
    return history


# --------------------------------------------------------------------------- latent space, cycles


def interpolate_latents(
    z0: torch.Tensor, z1: torch.Tensor, num: int, method: str = "linear"
) -> torch.Tensor:
    """Points between two latent vectors, endpoints included.

    Args:
        z0, z1: shape (z_dim,).
        num: number of points (≥ 2).
        method: ``"linear"``: (1 - t) z0 + t z1; ``"slerp"``: along the great circle between
            the directions of z0 and z1 with the norm interpolated linearly, which keeps the
            points at norms typical of a Gaussian in many dimensions.

    Returns:
        Shape (num, z_dim).

    Raises:
        ValueError: for different shapes, num < 2, an unknown method, non-finite latents, or
            slerp between exactly opposite directions. Slerp from or to the zero vector is the
            linear path (the direction is the other endpoint's, the norm grows linearly).

    Source: White (2016), Sampling generative networks. Introduced in :doc:`/notebooks/17_gan`.
    """
    if z0.shape != z1.shape or z0.ndim != 1 or num < 2:
        raise ValueError(
            "need z0, z1 of one shape (z_dim,) and num >= 2, "
            f"got {tuple(z0.shape)}, {tuple(z1.shape)}, {num}"
        )
    if method not in ("linear", "slerp"):
        raise ValueError(f"method must be 'linear' or 'slerp', got {method!r}")
    if not z0.is_floating_point() or not z1.is_floating_point():
        raise ValueError(f"z0 and z1 must be floating point, got {z0.dtype} and {z1.dtype}")
    require_finite(z0, "z0")
    require_finite(z1, "z1")
    require_same_dtype(z0=z0, z1=z1)
    t = torch.linspace(0, 1, num, dtype=z0.dtype, device=z0.device)[:, None]  # (num, 1)
    if method == "linear":
        return (1 - t) * z0 + t * z1
    n0, n1 = z0.norm(), z1.norm()
    if n0 == 0 or n1 == 0:  # from or to the origin: one direction, the norm grows linearly
        return (1 - t) * z0 + t * z1
    u0, u1 = z0 / n0, z1 / n1
    omega = torch.arccos(torch.clamp(u0 @ u1, -1.0, 1.0))
    if omega.abs() < 1e-6:  # same direction: slerp is linear
        return (1 - t) * z0 + t * z1
    if math.pi - omega < 1e-6:
        raise ValueError("slerp between opposite directions is undefined (every great circle "
                         "joins them); use method='linear' or move one endpoint")
    direction = (torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1) / torch.sin(omega)
    return direction * ((1 - t) * n0 + t * n1)


def cycle_consistency_loss(x: torch.Tensor, x_reconstructed: torch.Tensor) -> torch.Tensor:
    """Cycle GAN's reconstruction term: mean ``|x - F(G(x))|`` (the L1 norm, averaged).

    Raises:
        ValueError: if the shapes differ.

    Source: Zhu et al. (2017), equation 2. Introduced in :doc:`/notebooks/17_gan`.
    """
    if x.shape != x_reconstructed.shape:
        raise ValueError(
            "x and its reconstruction differ in shape: "
            f"{tuple(x.shape)} and {tuple(x_reconstructed.shape)}"
        )
    return (x - x_reconstructed).abs().mean()
