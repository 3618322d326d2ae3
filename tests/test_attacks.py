"""Attacks against their definitions: the FGSM step is exactly ε·sign(gradient), every attack
stays inside the L∞ budget and the pixel range, PGD is at least as strong as FGSM, and
adversarial training buys robustness on a toy problem."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import attacks
from dlbook.train import TrainConfig, train_classifier


def small_cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 3)).double()


def images(n=8, seed=0, lo=0.0, hi=1.0):
    g = torch.Generator().manual_seed(seed)
    X = lo + (hi - lo) * torch.rand(n, 1, 6, 6, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (n,), generator=g)
    return X, y


def test_fgsm_step_is_eps_times_the_sign_of_the_gradient():
    net = small_cnn()
    X, y = images(lo=0.3, hi=0.7)  # far from 0 and 1: no clipping
    X_ref = X.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(net(X_ref), y, reduction="sum"), X_ref)
    eps = 0.1
    torch.testing.assert_close(attacks.fgsm(net, X, y, eps) - X, eps * grad.sign(), atol=1e-12, rtol=0)
    torch.testing.assert_close(attacks.fgsm(net, X, y, eps, targeted=True) - X, -eps * grad.sign(), atol=1e-12, rtol=0)


@pytest.mark.parametrize("attack", ["fgsm", "pgd", "pgd_random"])
def test_attacks_stay_in_budget_and_pixel_range(attack):
    net = small_cnn()
    X, y = images(n=16)  # values reach close to 0 and 1, so clipping is exercised
    X[0, 0, 0, 0], X[1, 0, 0, 0] = 0.0, 1.0
    for eps in (0.0, 0.05, 0.3):
        if attack == "fgsm":
            X_adv = attacks.fgsm(net, X, y, eps)
        else:
            X_adv = attacks.pgd(net, X, y, eps, num_steps=5, random_start=attack == "pgd_random",
                                generator=torch.Generator().manual_seed(0))
        assert (attacks.linf_distance(X, X_adv) <= eps + 1e-12).all()
        assert X_adv.min() >= 0 and X_adv.max() <= 1
    assert torch.equal(attacks.fgsm(net, X, y, 0.0), X)


def test_one_pgd_step_of_size_eps_is_fgsm():
    net = small_cnn()
    X, y = images()
    torch.testing.assert_close(attacks.pgd(net, X, y, 0.1, alpha=0.1, num_steps=1), attacks.fgsm(net, X, y, 0.1))


def test_pgd_raises_the_loss_at_least_as_much_as_fgsm():
    net = small_cnn()
    X, y = images(n=64)
    with torch.no_grad():
        clean = F.cross_entropy(net(X), y)
        after_fgsm = F.cross_entropy(net(attacks.fgsm(net, X, y, 0.1)), y)
        after_pgd = F.cross_entropy(net(attacks.pgd(net, X, y, 0.1, num_steps=20)), y)
    assert clean < after_fgsm <= after_pgd + 1e-9


def test_targeted_pgd_reaches_its_target_on_a_linear_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(36, 3)).double()
    X, y = images(n=20, lo=0.2, hi=0.8)
    target = (y + 1) % 3
    X_adv = attacks.pgd(net, X, target, 0.5, num_steps=40, targeted=True)
    with torch.no_grad():
        before = (net(X).argmax(1) == target).double().mean()
        after = (net(X_adv).argmax(1) == target).double().mean()
    assert after > before and after >= 0.9


class Threshold(nn.Module):
    """Class 1 if the mean pixel exceeds 0.5, else class 0."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, X):
        m = X.flatten(1).mean(1) - 0.5
        return torch.stack([-m, m], dim=1) * 100 + self.dummy


def test_attack_success_rate_counts_only_correctly_classified_images():
    net = Threshold()
    X = torch.tensor([0.2, 0.45, 0.8, 0.9]).view(4, 1, 1, 1)
    y = torch.tensor([0, 0, 1, 0])  # the last one is already misclassified
    X_adv = X + torch.tensor([0.0, 0.1, -0.4, 0.0]).view(4, 1, 1, 1)  # flips the 2nd and 3rd
    assert attacks.attack_success_rate(net, X, X_adv, y) == pytest.approx(2 / 3)
    assert attacks.attack_success_rate(net, X, X_adv, y, target=torch.tensor([1, 1, 1, 1])) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="shape"):
        attacks.attack_success_rate(net, X, X_adv[:2], y)


def test_ensemble_averages_log_probabilities():
    a, b = small_cnn(0), small_cnn(1)
    X, _ = images()
    expected = (a(X).log_softmax(1) + b(X).log_softmax(1)) / 2
    torch.testing.assert_close(attacks.ensemble([a, b])(X), expected)
    with pytest.raises(ValueError, match="at least one"):
        attacks.ensemble([])


def test_bad_arguments_raise():
    net = small_cnn()
    X, y = images()
    with pytest.raises(ValueError, match="eps"):
        attacks.fgsm(net, X, y, 1.5)
    with pytest.raises(ValueError, match="expected X"):
        attacks.pgd(net, X, y[:3], 0.1)
    with pytest.raises(ValueError, match="adv_fraction"):
        attacks.adversarial_training_step(net, torch.optim.SGD(net.parameters(), 0.1), X, y, 0.1, adv_fraction=2)


def test_training_step_without_adversarial_images_is_a_plain_step():
    net, twin = small_cnn(), small_cnn()
    X, y = images()
    attacks.adversarial_training_step(net, torch.optim.SGD(net.parameters(), lr=0.1), X, y, 0.1, adv_fraction=0.0)
    loss = F.cross_entropy(twin(X), y)
    loss.backward()
    with torch.no_grad():
        for p in twin.parameters():
            p -= 0.1 * p.grad
    for p, q in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q)


def test_adversarial_batch_attacks_the_requested_fraction_within_the_budget():
    net = small_cnn()
    X, y = images(n=8)
    X_mixed = attacks.adversarial_batch(net, X, y, 0.1, adv_fraction=0.25, generator=torch.Generator().manual_seed(0))
    changed = (X_mixed != X).flatten(1).any(dim=1)
    assert changed.tolist() == [True, True] + [False] * 6
    assert attacks.linf_distance(X, X_mixed).max().item() <= 0.1 + 1e-12
    with pytest.raises(ValueError, match="adv_fraction"):
        attacks.adversarial_batch(net, X, y, 0.1, adv_fraction=-0.1)


def test_identity_perturbation_leaves_train_classifier_unchanged():
    X, y = images(n=32)
    config = TrainConfig(num_epochs=2, batch_size=8, lr=1e-2, schedule="constant")
    plain, hooked = small_cnn(), small_cnn()
    seen = []
    train_classifier(plain, X, y, config, device=torch.device("cpu"))
    train_classifier(hooked, X, y, config, device=torch.device("cpu"),
                     perturb=lambda xb, yb: seen.append(len(yb)) or xb)
    assert seen == [8] * 8  # every batch, with its labels
    for p, q in zip(plain.parameters(), hooked.parameters()):
        torch.testing.assert_close(p, q)


def test_adversarial_training_buys_robustness_on_a_toy_problem():
    """Feature 0 separates the classes perfectly but by less than ε; feature 1 by more than ε
    but with noise. Standard training leans on the fragile feature, adversarial training
    must use the robust one."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (400,), generator=g)
    sign = (2 * y - 1).double()
    X = torch.stack([0.5 + 0.03 * sign, 0.5 + 0.25 * sign + 0.15 * torch.randn(400, generator=g, dtype=torch.float64)],
                    dim=1).float().clamp(0, 1)

    def mlp():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))

    config = TrainConfig(num_epochs=150, batch_size=40, lr=1e-2, schedule="constant")
    plain = mlp()
    attacks.train_adversarially(plain, X, y, config, eps=0.1, adv_fraction=0.0, device=torch.device("cpu"))
    robust = mlp()
    attacks.train_adversarially(robust, X, y, config, eps=0.1, adv_fraction=1.0, device=torch.device("cpu"))

    def robust_accuracy(net):
        X_adv = attacks.pgd(net, X, y, 0.1, num_steps=20)
        with torch.no_grad():
            return (net(X_adv).argmax(1) == y).float().mean().item()

    assert robust_accuracy(plain) < 0.2 and robust_accuracy(robust) > 0.7
