"""Explaining a trained classifier: which inputs it looks at, and what its layers encode.

*Local* explanations answer "why this output for this input?":

* :func:`occlusion_map`: cover each region with a neutral patch and measure how much the score
  of the class falls (Zeiler and Fergus, 2014);
* :func:`input_gradient` and :func:`saliency_map`: the gradient of the class score with respect
  to every input pixel (Simonyan et al., 2014); :func:`smoothgrad` averages it over noisy copies
  of the input (Smilkov et al., 2017); :func:`integrated_gradients` integrates it along a path
  from a baseline, which repairs the blindness of the gradient where the score has saturated
  (Sundararajan et al., 2017);
* :func:`lime_surrogate`: fit a weighted linear model to the network's answers on randomly
  masked copies of the input (Ribeiro et al., 2016).

*Global* explanations ask what the model has learned in general:

* :func:`layer_activations` with :func:`fit_linear_probe` (is the class linearly decodable
  from a layer? Alain and Bengio, 2016) and :func:`ridge_regression` (reconstruct the input
  from a layer);
* :func:`activation_maximization`: the input that excites a unit or a class most, with optional
  L2, total-variation and jitter regularization (Erhan et al., 2009; Olah et al., 2017).

:func:`randomized_copy` and :func:`rank_correlation` are the tools of the sanity check of
Adebayo et al. (2018): an explanation that does not change when the weights are randomized does
not explain the weights.

Every function takes a network mapping (N, C, H, W) images to (N, K) logits and puts it in eval
mode for the duration of the call. Introduced in :doc:`/notebooks/20_explainability`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checks import require_finite, require_labels, require_module_dtype
from .regression import fit_ridge

__all__ = ["class_score", "input_gradient", "saliency_map", "smoothgrad", "integrated_gradients",
           "occlusion_map", "layer_activations", "fit_linear_probe", "ridge_regression", "ridge_path",
           "total_variation", "activation_maximization", "grid_segments",
           "lime_surrogate", "randomized_copy", "rank_correlation"]

SCORES = ("logit", "prob", "log_prob")


def _check_images(X: torch.Tensor) -> None:
    if not isinstance(X, torch.Tensor) or X.ndim != 4:
        shape = tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__
        raise ValueError(f"X must be a batch of images of shape (N, C, H, W), got {shape}")
    if not X.is_floating_point():
        raise ValueError(f"X must be floating-point images, got dtype {X.dtype}")


def _targets(target, n: int, device, num_classes: int | None = None) -> torch.Tensor:
    t = torch.as_tensor(target, device=device).reshape(-1)
    require_labels(t, num_classes, name="target")
    t = t.long()
    if t.numel() == 1:
        t = t.expand(n)
    if t.numel() != n:
        raise ValueError(f"target must be one class or one per image ({n}), got shape {tuple(t.shape)}")
    return t


def class_score(net: nn.Module, X: torch.Tensor, target, score: str = "logit") -> torch.Tensor:
    """The score of class ``target`` for each image: its logit, probability or log-probability.

    Args:
        net: maps (N, C, H, W) to logits (N, K).
        X: images, shape (N, C, H, W).
        target: a class index, or one per image (shape (N,)).
        score: ``"logit"``, ``"prob"`` (softmax) or ``"log_prob"``.

    Returns:
        Shape (N,).

    Raises:
        ValueError: for a bad shape, an unknown score, or a target that is not a class index
            in [0, K).

    Introduced in :doc:`/notebooks/20_explainability`.
    """
    _check_images(X)
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")
    require_module_dtype(net, X)
    require_finite(X, "X")
    logits = net(X)  # (N, K)
    if score == "prob":
        logits = logits.softmax(dim=1)
    elif score == "log_prob":
        logits = logits.log_softmax(dim=1)
    t = _targets(target, len(X), logits.device, num_classes=logits.shape[1])
    return logits.gather(1, t[:, None])[:, 0]  # (N,)


def input_gradient(net: nn.Module, X: torch.Tensor, target, score: str = "logit") -> torch.Tensor:
    """∂ score / ∂ x for every pixel: shape (N, C, H, W), same dtype and device as X.

    Each image's score depends only on that image (in eval mode), so the gradient of the sum of
    scores gives every image's own gradient in one backward pass.

    Source: Simonyan, Vedaldi and Zisserman (2014). Introduced in
    :doc:`/notebooks/20_explainability`.
    """
    _check_images(X)
    was_training = net.training
    net.eval()
    with torch.enable_grad():  # also inside a caller's torch.no_grad()
        X = X.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(class_score(net, X, target, score).sum(), X)
    net.train(was_training)
    return grad


def saliency_map(net: nn.Module, X: torch.Tensor, target, score: str = "logit") -> torch.Tensor:
    """Gradient saliency map: ``|∂ score / ∂ x|``, the largest over channels; shape (N, H, W).

    Source: Simonyan et al. (2014). Introduced in :doc:`/notebooks/20_explainability`.
    """
    return input_gradient(net, X, target, score).abs().amax(dim=1)


def smoothgrad(net: nn.Module, X: torch.Tensor, target, noise_level: float = 0.15,
               num_samples: int = 50, generator: torch.Generator | None = None,
               score: str = "logit") -> torch.Tensor:
    """SmoothGrad: the gradient averaged over noisy copies x + ε, ε ~ N(0, σ²), as a map.

    Args:
        net, X, target, score: as in :func:`input_gradient`.
        noise_level: σ as a fraction of each image's value range (max − min), ≥ 0.
        num_samples: number of noisy copies, ≥ 1.
        generator: a CPU :class:`torch.Generator` for reproducible noise.

    Returns:
        ``|mean gradient|``, the largest over channels; shape (N, H, W).

    Raises:
        ValueError: for a negative noise level or fewer than one sample.

    Source: Smilkov et al. (2017). Introduced in :doc:`/notebooks/20_explainability`.
    """
    _check_images(X)
    if noise_level < 0 or num_samples < 1:
        raise ValueError(f"need noise_level ≥ 0 and num_samples ≥ 1, got {noise_level}, {num_samples}")
    spread = (X.amax(dim=(1, 2, 3)) - X.amin(dim=(1, 2, 3))).view(-1, 1, 1, 1)  # (N, 1, 1, 1)
    total = torch.zeros_like(X)
    for _ in range(num_samples):
        noise = torch.randn(X.shape, generator=generator, dtype=X.dtype).to(X.device)  # (N, C, H, W)
        total += input_gradient(net, X + noise_level * spread * noise, target, score)
    return (total / num_samples).abs().amax(dim=1)  # (N, H, W)


def integrated_gradients(net: nn.Module, X: torch.Tensor, target, baseline: torch.Tensor | None = None,
                         num_steps: int = 64, score: str = "logit") -> torch.Tensor:
    """Integrated gradients: (x − x') ⊙ ∫₀¹ ∇f(x' + α(x − x')) dα, by the midpoint rule.

    The attributions of an image add up to f(x) − f(x') (up to the quadrature error), however
    flat f is at x itself: the property the plain gradient lacks where the score saturates.

    Args:
        net, X, target, score: as in :func:`input_gradient`.
        baseline: x', same shape as X or broadcastable to it; zeros (a black image) by default.
        num_steps: number of points on the path, ≥ 1.

    Returns:
        Attributions of shape (N, C, H, W).

    Raises:
        ValueError: for a bad shape or num_steps < 1.

    Source: Sundararajan, Taly and Yan (2017). Introduced in :doc:`/notebooks/20_explainability`.
    """
    _check_images(X)
    if num_steps < 1:
        raise ValueError(f"num_steps must be ≥ 1, got {num_steps}")
    baseline = torch.zeros_like(X) if baseline is None else baseline.expand_as(X)
    total = torch.zeros_like(X)
    for k in range(num_steps):
        alpha = (k + 0.5) / num_steps
        total += input_gradient(net, baseline + alpha * (X - baseline), target, score)
    return (X - baseline) * total / num_steps


@torch.no_grad()
def occlusion_map(net: nn.Module, X: torch.Tensor, target, patch: int = 4, stride: int = 2,
                  fill: float = 0.0, score: str = "prob", batch_size: int = 512) -> torch.Tensor:
    """How much the class score falls when a square patch covers each region of the image.

    For every position of a ``patch`` × ``patch`` square (moved by ``stride``), the pixels under
    it are set to ``fill`` in all channels and the drop score(x) − score(occluded x) is recorded.
    Each pixel receives the mean drop of the patches that cover it (0 if none does).

    Args:
        net, X, target, score: as in :func:`class_score`.
        patch: side of the square in pixels, 1 ≤ patch ≤ min(H, W).
        stride: step between patch positions in pixels, ≥ 1.
        fill: the neutral value written under the patch (0 = MNIST's background).
        batch_size: occluded images per forward pass.

    Returns:
        Shape (N, H, W): positive where covering the region lowers the score.

    Raises:
        ValueError: for a bad shape, patch or stride.

    Source: Zeiler and Fergus (2014). Introduced in :doc:`/notebooks/20_explainability`.
    """
    _check_images(X)
    n, _, h, w = X.shape
    if not 1 <= patch <= min(h, w) or stride < 1:
        raise ValueError(f"need 1 ≤ patch ≤ {min(h, w)} and stride ≥ 1, got patch={patch}, stride={stride}")
    was_training = net.training
    net.eval()
    t = _targets(target, n, X.device)
    base = class_score(net, X, t, score)  # (N,)
    corners = [(i, j) for i in range(0, h - patch + 1, stride) for j in range(0, w - patch + 1, stride)]
    drop_sum = torch.zeros(n, h, w, dtype=X.dtype, device=X.device)
    count = torch.zeros(h, w, dtype=X.dtype, device=X.device)
    for k in range(n):
        for start in range(0, len(corners), batch_size):
            chunk = corners[start : start + batch_size]
            occluded = X[k : k + 1].repeat(len(chunk), 1, 1, 1)  # (B, C, H, W)
            for b, (i, j) in enumerate(chunk):
                occluded[b, :, i : i + patch, j : j + patch] = fill
            drops = base[k] - class_score(net, occluded, t[k], score)  # (B,)
            for b, (i, j) in enumerate(chunk):
                drop_sum[k, i : i + patch, j : j + patch] += drops[b]
    for i, j in corners:
        count[i : i + patch, j : j + patch] += 1
    net.train(was_training)
    return drop_sum / count.clamp(min=1)


@torch.no_grad()
def layer_activations(net: nn.Module, X: torch.Tensor, layers: dict[str, nn.Module],
                      batch_size: int = 1000) -> dict[str, torch.Tensor]:
    """The outputs of chosen submodules of ``net`` for every image, flattened, on the CPU.

    Args:
        net: the network (run in eval mode).
        X: inputs, shape (N, ...).
        layers: name → submodule of ``net`` whose output to record.
        batch_size: images per forward pass.

    Returns:
        name → float32 tensor of shape (N, features).

    Raises:
        ValueError: if ``layers`` is empty.

    Introduced in :doc:`/notebooks/20_explainability`.
    """
    if not layers:
        raise ValueError("layers must name at least one submodule")
    device = next(net.parameters()).device
    store: dict[str, list[torch.Tensor]] = {name: [] for name in layers}
    hooks = [module.register_forward_hook(
        lambda _m, _inp, out, name=name: store[name].append(out.detach().flatten(1).float().cpu()))
        for name, module in layers.items()]
    was_training = net.training
    net.eval()
    try:
        for i in range(0, len(X), batch_size):
            net(X[i : i + batch_size].to(device))
    finally:
        for hook in hooks:
            hook.remove()
        net.train(was_training)
    return {name: torch.cat(chunks) for name, chunks in store.items()}


def fit_linear_probe(Z: torch.Tensor, y: torch.Tensor, num_classes: int, weight_decay: float = 1e-4,
                     max_iter: int = 100) -> Callable[[torch.Tensor], torch.Tensor]:
    """Fit a linear probe: softmax regression from features Z to labels y (full-batch L-BFGS).

    Features are standardized with the training mean and standard deviation; the loss is the
    mean cross-entropy plus ``weight_decay`` · ‖W‖².

    Args:
        Z: features, shape (N, D), float.
        y: labels, shape (N,), int64 in [0, num_classes).
        num_classes: K ≥ 2.
        weight_decay: L2 coefficient ≥ 0.
        max_iter: L-BFGS iterations.

    Returns:
        ``predict(Z_new) -> logits (M, K)``.

    Raises:
        ValueError: for mismatched shapes or labels out of range.

    Source: Alain and Bengio (2016), linear classifier probes. Introduced in
    :doc:`/notebooks/20_explainability`.
    """
    if Z.ndim != 2 or y.ndim != 1 or len(Z) != len(y):
        raise ValueError(f"expected Z (N, D) and y (N,), got {tuple(Z.shape)} and {tuple(y.shape)}")
    if num_classes < 2 or y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got [{int(y.min())}, {int(y.max())}]")
    Z = Z.float()  # single precision: ample for a probe, and twice as fast as double
    mean, std = Z.mean(dim=0), Z.std(dim=0).clamp(min=1e-6)
    Zs = (Z - mean) / std  # (N, D)
    W = torch.zeros(Z.shape[1], num_classes, requires_grad=True)
    b = torch.zeros(num_classes, requires_grad=True)
    optimizer = torch.optim.LBFGS([W, b], lr=1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(Zs @ W + b, y) + weight_decay * (W**2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    W, b = W.detach(), b.detach()

    def predict(Z_new: torch.Tensor) -> torch.Tensor:
        return ((Z_new.float() - mean) / std) @ W + b  # (M, K)

    return predict


def ridge_regression(Z: torch.Tensor, T: torch.Tensor, lam: float = 1.0):
    """Ridge regression with an unpenalized bias: minimize ‖Z W + b − T‖² + λ‖W‖².

    A thin wrapper over the book's one ridge solver, :func:`dlbook.regression.fit_ridge`
    (which divides the sum of squares by N: λ is passed on as λ / N), for tensors; that solver
    uses the N × N (dual) system when there are fewer examples than features.

    Args:
        Z: inputs, shape (N, D).
        T: targets, shape (N, K) (e.g. flattened images, for a reconstruction probe).
        lam: λ > 0.

    Returns:
        ``(W, b)`` of shapes (D, K) and (K,), float64.

    Raises:
        ValueError: for mismatched shapes or λ ≤ 0.

    Introduced in :doc:`/notebooks/20_explainability`.
    """
    if Z.ndim != 2 or T.ndim != 2 or len(Z) != len(T):
        raise ValueError(f"expected Z (N, D) and T (N, K), got {tuple(Z.shape)} and {tuple(T.shape)}")
    if lam <= 0:
        raise ValueError(f"lam must be positive, got {lam}")
    A = np.c_[np.ones(len(Z)), Z.detach().cpu().double().numpy()]  # (N, D + 1): the bias column first
    theta = torch.from_numpy(fit_ridge(A, T.detach().cpu().double().numpy(), lam / len(Z)))  # (D + 1, K)
    return theta[1:], theta[0]


def ridge_path(Z: torch.Tensor, T: torch.Tensor, lams) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """:func:`ridge_regression` for several λ at once, from one eigendecomposition.

    The bias is unpenalized, so it only centres the problem: with Z̃ = Z − mean(Z) and
    T̃ = T − mean(T), ``W(λ) = (Z̃ᵀZ̃ + λI)⁻¹ Z̃ᵀT̃`` and ``b = mean(T) − mean(Z) W``. The symmetric
    matrix Z̃ᵀZ̃ (D × D), or Z̃Z̃ᵀ (N × N) when there are fewer examples than features, is
    decomposed once (:func:`numpy.linalg.eigh`); every λ then costs one scaling and one matrix
    product, instead of a new solve. Choosing λ on a validation set (a regularization path)
    therefore costs little more than one fit.

    Args:
        Z: inputs, shape (N, D).
        T: targets, shape (N, K).
        lams: the λ values, each > 0 (a sequence of numbers).

    Returns:
        A list with one ``(W, b)`` per λ, of shapes (D, K) and (K,), float64: the minimizers
        of :func:`ridge_regression` for the same arguments.

    Raises:
        ValueError: for mismatched shapes, non-finite values, an empty ``lams`` or a λ ≤ 0.

    Source: Hastie, Tibshirani and Friedman, *The Elements of Statistical Learning*, section 3.4.1
    (ridge regression through the singular values). Introduced in
    :doc:`/notebooks/20_explainability`.
    """
    if not isinstance(Z, torch.Tensor) or not isinstance(T, torch.Tensor) or Z.ndim != 2 or T.ndim != 2 \
            or len(Z) != len(T) or len(Z) == 0:
        raise ValueError(f"expected tensors Z (N, D) and T (N, K) with N ≥ 1, got "
                         f"{tuple(getattr(Z, 'shape', ()))} and {tuple(getattr(T, 'shape', ()))}")
    lams = [float(lam) for lam in np.atleast_1d(np.asarray(lams, dtype=np.float64))]
    if not lams or not all(np.isfinite(lam) and lam > 0 for lam in lams):
        raise ValueError(f"lams must be one or more finite numbers > 0, got {lams}")
    Zn, Tn = Z.detach().cpu().double().numpy(), T.detach().cpu().double().numpy()
    if not (np.isfinite(Zn).all() and np.isfinite(Tn).all()):
        raise ValueError("Z and T must be finite: they hold NaN or infinite values")
    z_mean, t_mean = Zn.mean(axis=0), Tn.mean(axis=0)
    Zc, Tc = Zn - z_mean, Tn - t_mean  # (N, D), (N, K)
    n, d = Zc.shape
    if d <= n:  # primal: Z̃ᵀZ̃ = Q diag(e) Qᵀ, W = Q diag(1 / (e + λ)) Qᵀ Z̃ᵀT̃
        e, Q = np.linalg.eigh(Zc.T @ Zc)
        left, R = Q, Q.T @ (Zc.T @ Tc)  # (D, D), (D, K)
    else:  # dual: Z̃Z̃ᵀ = P diag(e) Pᵀ, W = Z̃ᵀ P diag(1 / (e + λ)) Pᵀ T̃
        e, P = np.linalg.eigh(Zc @ Zc.T)
        left, R = Zc.T @ P, P.T @ Tc  # (D, N), (N, K)
    e = np.clip(e, 0.0, None)  # Gram matrices are positive semi-definite; drop rounding below 0
    path = []
    for lam in lams:
        W = left @ (R / (e + lam)[:, None])  # (D, K)
        path.append((torch.from_numpy(W), torch.from_numpy(t_mean - z_mean @ W)))
    return path


def total_variation(X: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation of each image: Σ ``|x_{i+1,j} − x_{i,j}|`` + ``|x_{i,j+1} − x_{i,j}|``.

    Shape (N, C, H, W) → (N,). Large for noisy images, small for smooth ones. Introduced in
    :doc:`/notebooks/20_explainability`.
    """
    _check_images(X)
    dh = (X[:, :, 1:, :] - X[:, :, :-1, :]).abs().sum(dim=(1, 2, 3))
    dw = (X[:, :, :, 1:] - X[:, :, :, :-1]).abs().sum(dim=(1, 2, 3))
    return dh + dw


def activation_maximization(objective: Callable[[torch.Tensor], torch.Tensor], X0: torch.Tensor,
                            num_steps: int = 200, lr: float = 0.05, l2: float = 0.0, tv: float = 0.0,
                            jitter: int = 0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Find inputs that maximize ``objective`` by gradient ascent, kept in [0, 1].

    Maximizes objective(x) − l2·‖x‖² − tv·TV(x) with Adam, clamping x to [0, 1] after every step.
    With ``jitter`` > 0 the image is shifted by a random offset in [−jitter, jitter] pixels
    before each evaluation, so that only patterns that survive small shifts are rewarded.

    Args:
        objective: maps a batch (N, C, H, W) to one score per image (N,), e.g. a class logit or
            the mean activation of a channel.
        X0: starting images, shape (N, C, H, W), in [0, 1].
        num_steps, lr: Adam steps and learning rate.
        l2, tv: regularization weights ≥ 0.
        jitter: largest random shift in pixels ≥ 0.
        generator: CPU generator for the shifts.

    Returns:
        The optimized images, shape (N, C, H, W), detached.

    Raises:
        ValueError: for a bad shape or negative weights.

    Source: Erhan et al. (2009); regularizers as surveyed by Olah et al. (2017). Introduced in
    :doc:`/notebooks/20_explainability`.
    """
    _check_images(X0)
    if min(l2, tv, jitter, num_steps) < 0:
        raise ValueError(f"l2, tv, jitter and num_steps must be ≥ 0, got {l2}, {tv}, {jitter}, {num_steps}")
    X = X0.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([X], lr=lr)
    for _ in range(num_steps):
        Xs = X
        if jitter:
            dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=generator))
            Xs = torch.roll(X, shifts=(dy, dx), dims=(2, 3))
        gain = objective(Xs) - l2 * (X**2).sum(dim=(1, 2, 3)) - tv * total_variation(X)  # (N,)
        optimizer.zero_grad()
        (-gain.sum()).backward()
        optimizer.step()
        with torch.no_grad():
            X.clamp_(0, 1)
    return X.detach()


def grid_segments(height: int, width: int, cell: int) -> torch.Tensor:
    """Cut an image into square cells ("superpixels"): (H, W) int64 ids, row-major from 0.

    Raises:
        ValueError: for non-positive sizes. Introduced in :doc:`/notebooks/20_explainability`.
    """
    if min(height, width, cell) < 1:
        raise ValueError(f"sizes must be positive, got {height}, {width}, {cell}")
    rows = torch.arange(height) // cell
    cols = torch.arange(width) // cell
    return rows[:, None] * ((width + cell - 1) // cell) + cols[None, :]  # (H, W)


@torch.no_grad()
def lime_surrogate(net: nn.Module, x: torch.Tensor, target: int, segments: torch.Tensor,
                   num_samples: int = 500, keep_prob: float = 0.5, kernel_width: float = 0.25,
                   fill: float = 0.0, score: str = "prob", ridge: float = 1e-3,
                   generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """A local linear surrogate (LIME): which segments of one image push the class score up.

    Draws ``num_samples`` random on/off masks over the segments (each kept with ``keep_prob``;
    the first sample keeps all), fills switched-off segments with ``fill``, asks the network
    for the class score, and fits score ≈ b + Σ_s β_s m_s by least squares weighted with
    exp(−d² / kernel_width²), d the fraction of segments switched off: samples close to the
    original image count more. The fit is :func:`dlbook.regression.fit_ridge` with these
    example weights and a penalty ``ridge`` ‖β‖² on the coefficients (not the intercept).

    Args:
        net: the classifier. x: one image, shape (C, H, W). target: the class.
        segments: (H, W) int64 segment ids 0..S−1 (e.g. :func:`grid_segments`).
        num_samples, keep_prob, kernel_width, fill, score, ridge, generator: as described.

    Returns:
        A dict with ``coef`` (S,), ``intercept`` (), ``masks`` (num_samples, S), ``scores``
        (num_samples,), ``weights`` (num_samples,) and ``r2`` (the weighted R² of the fit).

    Raises:
        ValueError: for a bad image or segment shape.

    Source: Ribeiro, Singh and Guestrin (2016). Introduced in :doc:`/notebooks/20_explainability`.
    """
    if x.ndim != 3 or segments.shape != x.shape[1:]:
        raise ValueError(f"expected x (C, H, W) and segments (H, W), got {tuple(x.shape)} and {tuple(segments.shape)}")
    num_segments = int(segments.max()) + 1
    masks = (torch.rand(num_samples, num_segments, generator=generator) < keep_prob).double()  # (M, S)
    masks[0] = 1.0
    seg = segments.to(x.device)
    was_training = net.training
    net.eval()
    scores = []
    for start in range(0, num_samples, 256):
        m = masks[start : start + 256].to(x.device, x.dtype)  # (B, S)
        pixel_on = m[:, seg]  # (B, H, W)
        images = x[None] * pixel_on[:, None] + fill * (1 - pixel_on[:, None])  # (B, C, H, W)
        scores.append(class_score(net, images, target, score).double().cpu())
    net.train(was_training)
    scores = torch.cat(scores)  # (M,)
    distance = 1 - masks.mean(dim=1)  # fraction switched off
    weights = torch.exp(-(distance**2) / kernel_width**2)
    design = np.c_[np.ones(len(masks)), masks.numpy()]  # (M, S + 1): the intercept column first
    # Σ_m w_m (score_m − b − m·β)² + ridge ‖β‖²: the one ridge solver divides the sum by M
    theta = torch.from_numpy(fit_ridge(design, scores.numpy(), ridge / len(masks), weights=weights.numpy()))
    coef, intercept = theta[1:], theta[0]
    fitted = intercept + masks @ coef
    mean = (weights * scores).sum() / weights.sum()
    r2 = 1 - (weights * (scores - fitted) ** 2).sum() / (weights * (scores - mean) ** 2).sum()
    return {"coef": coef, "intercept": intercept, "masks": masks, "scores": scores,
            "weights": weights, "r2": r2}


def randomized_copy(net: nn.Module, module_names: list[str], seed: int = 0) -> nn.Module:
    """A deep copy of ``net`` whose named submodules are re-initialized at random.

    Used for the cascading randomization of Adebayo et al. (2018): randomize the top layer, then
    the top two, and so on, and watch whether an explanation changes.

    Args:
        net: the trained network (unchanged).
        module_names: names as in ``net.named_modules()``; each must have ``reset_parameters``.
        seed: seeds the new weights.

    Raises:
        ValueError: for an unknown name or a module without parameters to reset.

    Introduced in :doc:`/notebooks/20_explainability`.
    """
    clone = copy.deepcopy(net)
    modules = dict(clone.named_modules())
    for name in module_names:
        if name not in modules or not hasattr(modules[name], "reset_parameters"):
            raise ValueError(f"{name!r} is not a resettable submodule; available: {list(modules)[1:]}")
    torch.manual_seed(seed)
    for name in module_names:
        modules[name].reset_parameters()  # in place: the weights stay on their device
    return clone


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman rank correlation of two maps (flattened): the Pearson correlation of their ranks.

    Ties get their average rank. Raises ValueError for different numbers of elements, NaN or
    infinite values, or a constant map (its ranks do not vary, so the correlation is undefined).
    Introduced in :doc:`/notebooks/20_explainability`.
    """
    a, b = a.flatten().double().cpu(), b.flatten().double().cpu()
    if a.numel() != b.numel() or a.numel() < 2:
        raise ValueError(f"maps must have the same size ≥ 2, got {a.numel()} and {b.numel()}")
    for name, v in (("a", a), ("b", b)):
        require_finite(v, name)
        if bool((v == v[0]).all()):
            raise ValueError(f"{name} is constant (every value {v[0].item():.4g}): its rank "
                             "correlation with anything is undefined")

    def ranks(v):
        order = torch.argsort(v)
        r = torch.empty_like(v)
        r[order] = torch.arange(len(v), dtype=v.dtype)
        values, inverse = torch.unique(v, return_inverse=True)
        sums = torch.zeros(len(values), dtype=v.dtype).index_add_(0, inverse, r)
        counts = torch.zeros(len(values), dtype=v.dtype).index_add_(0, inverse, torch.ones_like(r))
        return (sums / counts)[inverse]  # average rank of ties

    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra @ rb) / (ra.norm() * rb.norm()))
