"""Adversarial attacks on image classifiers, and adversarial training as a defence.

An attack looks for an image x close to a benign image x⁰, within an L∞ budget
max_i ``|x_i − x⁰_i|`` ≤ ε and inside the valid pixel range [0, 1], that the classifier gets wrong:

* :func:`fgsm`, the fast gradient sign method: one step of size ε along the sign of the
  gradient of the loss (Goodfellow, Shlens and Szegedy, 2015);
* :func:`pgd`, its iterative version: many small sign steps, each followed by a projection back
  into the budget (Kurakin et al., 2017, without a random start; Madry et al., 2018, with one).

Both are *white-box* attacks: they need the gradient of the attacked network. A *black-box*
attacker computes them on a proxy network instead and hopes that the adversarial image
*transfers*; :func:`ensemble` averages several proxies, which transfers better (Liu et al.,
2017). :func:`attack_success_rate` scores an attack. :func:`adversarial_batch`, :func:`adversarial_training_step` and
:func:`train_adversarially` retrain a network on its own adversarial images.

Introduced in :doc:`/notebooks/21_adversarial_attacks`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .checks import require_count, require_finite, require_labels, require_module_dtype, require_real
from .train import History, TrainConfig, train_classifier

__all__ = ["fgsm", "pgd", "linf_distance", "attack_success_rate", "ensemble", "Ensemble",
           "adversarial_batch", "adversarial_training_step", "train_adversarially"]


def _check(X: torch.Tensor, y: torch.Tensor, eps: float, net: nn.Module | None = None) -> None:
    if not isinstance(X, torch.Tensor) or X.ndim < 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"expected X of shape (N, ...) and y of shape (N,), got "
                         f"{tuple(getattr(X, 'shape', ()))} and {tuple(getattr(y, 'shape', ()))}")
    require_real(eps, "eps", low=0, high=1)
    require_labels(y)
    if not X.is_floating_point():
        raise ValueError(f"X must be floating-point images in [0, 1], got dtype {X.dtype}")
    if net is not None:
        require_module_dtype(net, X)
    require_finite(X, "X")
    if X.numel() and (X.min() < 0 or X.max() > 1):
        raise ValueError(f"X must be images with values in [0, 1], got values from "
                         f"{X.min().item():.4g} to {X.max().item():.4g}")


def _loss_gradient(net: nn.Module, X: torch.Tensor, y: torch.Tensor,
                   loss_fn: Callable = F.cross_entropy) -> torch.Tensor:
    """∇_X loss(net(X), y) with the network in eval mode; the net's weights are untouched."""
    was_training = net.training
    net.eval()
    with torch.enable_grad():  # also inside a caller's torch.no_grad()
        X = X.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_fn(net(X), y, reduction="sum"), X)
    net.train(was_training)
    return grad


def fgsm(net: nn.Module, X: torch.Tensor, y: torch.Tensor, eps: float, targeted: bool = False,
         loss_fn: Callable = F.cross_entropy) -> torch.Tensor:
    """Fast gradient sign method: x = clip(x⁰ ± ε · sign(∇ₓ loss(x⁰)), 0, 1).

    Non-targeted (``y`` = the true labels): step *up* the loss, away from the true class.
    Targeted (``y`` = the labels the attacker wants): step *down* the loss of those labels.

    Args:
        net: maps X to logits (N, K); evaluated in eval mode.
        X: benign images, shape (N, C, H, W), values in [0, 1].
        y: labels, shape (N,), int64.
        eps: the L∞ budget ε in [0, 1] (pixel-value units).
        targeted: see above.
        loss_fn: ``loss_fn(logits, y, reduction="sum")``; cross-entropy by default.

    Returns:
        Adversarial images, same shape as X, with max ``|x − x⁰|`` ≤ ε and values in [0, 1].

    Raises:
        ValueError: for mismatched shapes, ε outside [0, 1], X outside [0, 1] or not finite,
            or labels that are not integer class indices.

    Source: Goodfellow, Shlens and Szegedy (2015). Introduced in
    :doc:`/notebooks/21_adversarial_attacks`.
    """
    _check(X, y, eps, net)
    direction = -1.0 if targeted else 1.0
    grad = _loss_gradient(net, X, y, loss_fn)
    return (X + direction * eps * grad.sign()).clamp(0, 1).detach()


def pgd(net: nn.Module, X: torch.Tensor, y: torch.Tensor, eps: float, alpha: float | None = None,
        num_steps: int = 10, targeted: bool = False, random_start: bool = False,
        generator: torch.Generator | None = None, loss_fn: Callable = F.cross_entropy) -> torch.Tensor:
    """Iterative FGSM / projected gradient descent under an L∞ budget.

    Repeats x ← Π(x ± α · sign(∇ₓ loss(x))) ``num_steps`` times, where Π clips every pixel to
    [x⁰ − ε, x⁰ + ε] ∩ [0, 1] (the projection onto the allowed set).

    Args:
        net, X, y, eps, targeted, loss_fn: as in :func:`fgsm`.
        alpha: step size; default 2.5 ε / num_steps (so the path can cross the budget's box).
        num_steps: number of steps ≥ 1.
        random_start: start from a uniformly random point of the budget instead of x⁰.
        generator: CPU generator for the random start.

    Returns:
        Adversarial images, same shape as X, inside the budget and in [0, 1].

    Raises:
        ValueError: as :func:`fgsm`, and for num_steps < 1 or a step α that is not positive.

    Source: Kurakin, Goodfellow and Bengio (2017); Madry et al. (2018). Introduced in
    :doc:`/notebooks/21_adversarial_attacks`.
    """
    _check(X, y, eps, net)
    num_steps = require_count(num_steps, "num_steps")
    alpha = 2.5 * eps / num_steps if alpha is None else require_real(alpha, "alpha", low=0, strict_low=True)
    direction = -1.0 if targeted else 1.0
    lower, upper = (X - eps).clamp(min=0), (X + eps).clamp(max=1)  # the allowed box
    X_adv = X.detach().clone()
    if random_start:
        noise = torch.rand(X.shape, generator=generator, dtype=X.dtype).to(X.device) * 2 - 1
        X_adv = torch.max(torch.min(X_adv + eps * noise, upper), lower)
    for _ in range(num_steps):
        grad = _loss_gradient(net, X_adv, y, loss_fn)
        X_adv = torch.max(torch.min(X_adv + direction * alpha * grad.sign(), upper), lower)
    return X_adv.detach()


def linf_distance(X: torch.Tensor, X_adv: torch.Tensor) -> torch.Tensor:
    """max_i ``|x_i − x⁰_i|`` per image: shape (N,). Raises ValueError for different shapes.

    Introduced in :doc:`/notebooks/21_adversarial_attacks`.
    """
    if X.shape != X_adv.shape:
        raise ValueError(f"shapes differ: {tuple(X.shape)} and {tuple(X_adv.shape)}")
    return (X_adv - X).abs().flatten(1).amax(dim=1)


@torch.no_grad()
def attack_success_rate(net: nn.Module, X: torch.Tensor, X_adv: torch.Tensor, y: torch.Tensor,
                        target: torch.Tensor | None = None, batch_size: int = 1000) -> float:
    """Fraction of attacked images that fool ``net``, among those it classified correctly.

    Non-targeted: the prediction on X_adv differs from y. Targeted: it equals ``target``.
    Images that ``net`` already got wrong on X are left out, so that the rate measures the
    attack and not the classifier's ordinary errors.

    Returns:
        A float in [0, 1] (0 if no image was classified correctly).

    Raises:
        ValueError: for mismatched shapes.

    Introduced in :doc:`/notebooks/21_adversarial_attacks`.
    """
    if X.shape != X_adv.shape or len(y) != len(X) or (target is not None and target.shape != y.shape):
        raise ValueError(f"expected X and X_adv of one shape and labels of length N, got "
                         f"{tuple(X.shape)}, {tuple(X_adv.shape)}, {tuple(y.shape)}")
    for name, value in (("X", X), ("X_adv", X_adv)):
        require_module_dtype(net, value, name)
        require_finite(value, name)
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()

    def predict(Z):
        return torch.cat([net(Z[i : i + batch_size].to(device)).argmax(1).cpu()
                          for i in range(0, len(Z), batch_size)])

    correct = predict(X) == y.cpu()
    pred_adv = predict(X_adv)
    net.train(was_training)
    fooled = pred_adv != y.cpu() if target is None else pred_adv == target.cpu()
    return (fooled & correct).sum().item() / max(int(correct.sum()), 1)


class Ensemble(nn.Module):
    """Averages the log-probabilities of several classifiers: logits (N, K) -> (N, K)."""

    def __init__(self, models: list[nn.Module]):
        super().__init__()
        if not models:
            raise ValueError("an ensemble needs at least one model")
        self.models = nn.ModuleList(models)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(X).log_softmax(dim=1) for m in self.models]).mean(dim=0)


def ensemble(models: list[nn.Module]) -> Ensemble:
    """An ensemble of proxy networks to attack at once: the mean of their log-probabilities.

    An adversarial image that fools several different networks is more likely to fool an
    unseen one as well.

    Raises:
        ValueError: for an empty list.

    Source: Liu, Chen, Liu and Song (2017). Introduced in :doc:`/notebooks/21_adversarial_attacks`.
    """
    return Ensemble(models)


def adversarial_batch(net: nn.Module, X: torch.Tensor, y: torch.Tensor, eps: float,
                      adv_fraction: float = 0.5, alpha: float | None = None,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of the batch X in which the first ``adv_fraction`` of the images are attacked.

    The attack is FGSM from a random start inside the budget with step α (1.25 ε by default),
    computed on the current network: cheap (one extra gradient) and, thanks to the random
    start, much more robust than plain FGSM training (Wong, Rice and Kolter, 2020).

    Args:
        net: the classifier being trained (its weights are not changed).
        X, y: a batch, shapes (B, C, H, W) in [0, 1] and (B,).
        eps: the budget ε the network should withstand.
        adv_fraction: fraction of the batch replaced by adversarial images, in [0, 1].
        alpha: FGSM step from the random start.
        generator: CPU generator for the random start.

    Returns:
        The mixed batch, same shape as X.

    Raises:
        ValueError: for mismatched shapes, ε outside [0, 1] or a fraction outside [0, 1].

    Introduced in :doc:`/notebooks/21_adversarial_attacks`.
    """
    _check(X, y, eps, net)
    if not 0 <= adv_fraction <= 1:
        raise ValueError(f"adv_fraction must be in [0, 1], got {adv_fraction}")
    num_adv = round(adv_fraction * len(X))
    X_mixed = X.clone()
    if num_adv:
        X_mixed[:num_adv] = pgd(net, X[:num_adv], y[:num_adv], eps, alpha=1.25 * eps if alpha is None else alpha,
                                num_steps=1, random_start=True, generator=generator)
    return X_mixed


def adversarial_training_step(net: nn.Module, optimizer: torch.optim.Optimizer, X: torch.Tensor,
                              y: torch.Tensor, eps: float, adv_fraction: float = 0.5,
                              alpha: float | None = None, generator: torch.Generator | None = None) -> float:
    """One update, in train mode, on a batch made by :func:`adversarial_batch`.

    Args:
        net: the classifier, trained in place.
        optimizer: its optimizer.
        X, y, eps, adv_fraction, alpha, generator: as in :func:`adversarial_batch`.

    Returns:
        The batch loss (a float).

    Raises:
        ValueError: as :func:`adversarial_batch`.

    Source: the adversarial training of Goodfellow et al. (2015) and Madry et al. (2018).
    Introduced in :doc:`/notebooks/21_adversarial_attacks`.
    """
    X_mixed = adversarial_batch(net, X, y, eps, adv_fraction, alpha, generator)
    net.train()
    loss = F.cross_entropy(net(X_mixed), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def train_adversarially(net: nn.Module, X: torch.Tensor, y: torch.Tensor, config: TrainConfig,
                        eps: float, adv_fraction: float = 0.5, device: torch.device | None = None,
                        desc: str = "adversarial training") -> History:
    """Adversarial training: :func:`dlbook.train.train_classifier` on batches made by
    :func:`adversarial_batch` from the current network.

    Same schedule and optimizer as ``train_classifier`` (AdamW with a one-cycle or constant
    learning rate, from ``config``). Starting from a trained network, this is the recipe of the
    lecture: attack yourself, add the adversarial images to the training data, train again.

    Returns:
        A :class:`~dlbook.train.History` (training losses per epoch, seconds).

    Raises:
        ValueError: as :func:`adversarial_batch` and ``train_classifier``.

    Introduced in :doc:`/notebooks/21_adversarial_attacks`.
    """
    _check(X, y, eps, net)
    if not 0 <= adv_fraction <= 1:
        raise ValueError(f"adv_fraction must be in [0, 1], got {adv_fraction}")
    generator = torch.Generator().manual_seed(config.seed + 1)  # random starts of the attacks

    def attack_current_net(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return adversarial_batch(net, xb, yb, eps, adv_fraction, generator=generator)

    return train_classifier(net, X, y, config, perturb=attack_current_net, device=device, desc=desc)
