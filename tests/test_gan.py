"""dlbook.gan against PyTorch, SciPy and closed-form answers."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.special
import scipy.stats
import torch
import torch.nn.functional as F

from dlbook import RunConfig, gan, models, per_scale


def test_mixture_sampling_and_density():
    means = gan.ring_means(4, 3.0)
    assert torch.allclose(means.norm(dim=1), torch.full((4,), 3.0))
    x = gan.sample_mixture(20000, means, 0.1, generator=torch.Generator().manual_seed(0))
    fractions, good = gan.mode_coverage(x, means, radius=0.5)
    assert good > 0.99 and torch.allclose(fractions, torch.full((4,), 0.25), atol=0.02)
    grid = np.linspace(-6, 6, 4001)
    density = gan.mixture_density(grid, [-2.0, 2.0], 0.5, [0.3, 0.7])
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-6)
    expected = 0.3 * scipy.stats.norm.pdf(grid, -2, 0.5) + 0.7 * scipy.stats.norm.pdf(grid, 2, 0.5)
    np.testing.assert_allclose(density, expected, rtol=1e-10)
    with pytest.raises(ValueError):
        gan.sample_mixture(5, means, 0.1, weights=[0.5, 0.5])
    with pytest.raises(ValueError):
        gan.mode_coverage(torch.zeros(3, 3), means, 1.0)


def test_losses_equal_binary_cross_entropy():
    real, fake = torch.randn(50, dtype=torch.float64) * 4, torch.randn(30, dtype=torch.float64) * 4
    bce = F.binary_cross_entropy_with_logits(
        real, torch.ones_like(real)
    ) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    assert torch.allclose(gan.discriminator_loss(real, fake), bce)
    direct_v = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    assert torch.allclose(gan.value_function(real, fake), direct_v)
    assert torch.allclose(
        gan.generator_loss(fake, "non-saturating"),
        F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)),
    )
    assert torch.allclose(
        gan.generator_loss(fake, "minimax"), torch.log(1 - torch.sigmoid(fake)).mean()
    )
    assert torch.allclose(gan.generator_loss(fake, "wasserstein"), -fake.mean())
    assert torch.allclose(gan.critic_loss(real, fake), fake.mean() - real.mean())
    with pytest.raises(ValueError):
        gan.generator_loss(fake, "hinge")


def test_optimal_discriminator_gives_js_divergence():
    grid = np.linspace(-12, 12, 12001)
    dx = grid[1] - grid[0]
    for shift in (0.0, 0.5, 2.0, 4.0):
        p = scipy.stats.norm.pdf(grid, 0, 1)
        q = scipy.stats.norm.pdf(grid, shift, 1)
        d_star = gan.optimal_discriminator(p, q)
        v_max = (
            scipy.special.xlogy(p, d_star).sum()
            + scipy.special.xlogy(q, gan.optimal_discriminator(q, p)).sum()
        ) * dx
        js = gan.js_divergence(p * dx, q * dx)
        assert js == pytest.approx(scipy.spatial.distance.jensenshannon(p, q) ** 2, abs=1e-12)
        assert v_max == pytest.approx(-2 * math.log(2) + 2 * js, abs=1e-6)


def test_js_divergence_saturates_for_disjoint_supports():
    p = np.array([0.5, 0.5, 0, 0, 0, 0])
    for k in (2, 3, 4):
        q = np.roll(p, k)
        assert gan.js_divergence(p, q) == pytest.approx(math.log(2))
    assert gan.js_divergence(p, p) == 0.0
    with pytest.raises(ValueError):
        gan.js_divergence([1, 0], [0, 0])


def test_wasserstein_1d_matches_scipy():
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=300), rng.normal(2.0, 0.5, size=200)
    assert gan.wasserstein_1d(u, v) == pytest.approx(
        scipy.stats.wasserstein_distance(u, v), rel=1e-10
    )
    uniform = np.linspace(0, 1, 1001)
    assert gan.wasserstein_1d(uniform, uniform + 3) == pytest.approx(3.0)


def test_gradient_penalty_of_a_linear_critic():
    critic = torch.nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |grad| = 5 everywhere
    gp = gan.gradient_penalty(critic, torch.randn(8, 2), torch.randn(8, 2))
    assert gp.item() == pytest.approx(16.0)
    gp.backward()  # d/dw (|w| - 1)² = 2 (|w| - 1) w / |w|
    assert torch.allclose(critic.weight.grad, torch.tensor([[4.8, 6.4]]))
    with pytest.raises(ValueError):
        gan.gradient_penalty(critic, torch.randn(8, 2), torch.randn(7, 2))


def test_one_sided_gradient_penalty_charges_only_slopes_above_one():
    critic = torch.nn.Linear(2, 1)
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.3, 0.4]]))  # |grad| = 0.5 everywhere
    assert gan.gradient_penalty(critic, real, fake).item() == pytest.approx(0.25)
    assert gan.gradient_penalty(critic, real, fake, one_sided=True).item() == 0.0
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |grad| = 5: both forms charge (5 - 1)²
    assert gan.gradient_penalty(critic, real, fake, one_sided=True).item() == pytest.approx(16.0)


def test_spectral_norm_estimate_matches_torch():
    W = torch.randn(30, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sigma, u, v = gan.spectral_norm_estimate(
        W, num_iters=200, generator=torch.Generator().manual_seed(1)
    )
    assert torch.allclose(sigma, torch.linalg.matrix_norm(W, ord=2), rtol=1e-8)
    torch.manual_seed(0)
    layer = torch.nn.utils.parametrizations.spectral_norm(
        torch.nn.Linear(20, 30), n_power_iterations=200
    )
    W_raw = layer.parametrizations.weight.original.detach().double()
    s, _, _ = gan.spectral_norm_estimate(W_raw, num_iters=2000)  # converged
    assert torch.allclose(layer.weight.double(), W_raw / s, atol=1e-5)
    with pytest.raises(ValueError):
        gan.spectral_norm_estimate(torch.zeros(3), 5)


def _ring_real(means):
    def sample(n, g):
        return gan.sample_mixture(n, means, 0.05, generator=g)

    return sample


def test_train_gan_learns_a_gaussian_and_calls_back():
    torch.manual_seed(0)
    means = torch.tensor([[1.5, -0.5]])
    G, D = models.MLP(2, 2, 32, 2), models.MLP(2, 1, 32, 2)
    steps = []
    config = gan.GANConfig(num_steps=600, batch_size=128, z_dim=2)
    history = gan.train_gan(
        G,
        D,
        _ring_real(means),
        config,
        callback=lambda s, g, d: steps.append(s),
        callback_every=200,
        device=torch.device("cpu"),
    )
    assert steps == [0, 200, 400, 600] and len(history.d_loss) == 600
    with torch.no_grad():
        x = G(torch.randn(2000, 2))
    assert torch.allclose(x.mean(dim=0), means[0], atol=0.15)


def test_train_gan_wgan_gp_and_conditional_run():
    torch.manual_seed(0)
    means = gan.ring_means(2, 1.0)
    G, D = models.MLP(2, 2, 16, 1), models.MLP(2, 1, 16, 1)
    h = gan.train_gan(
        G,
        D,
        _ring_real(means),
        gan.GANConfig(num_steps=5, loss="wgan-gp", d_steps=2),
        device=torch.device("cpu"),
    )
    assert len(h.g_loss) == 5 and all(np.isfinite(h.d_loss))

    def labelled(n, g):
        y = torch.randint(2, (n,), generator=g)
        return means[y] + 0.05 * torch.randn(n, 2, generator=g), y

    Gc, Dc = models.MLP(2, 2, 16, 1, num_classes=2), models.MLP(2, 1, 16, 1, num_classes=2)
    h = gan.train_gan(
        Gc, Dc, labelled, gan.GANConfig(num_steps=5, num_classes=2), device=torch.device("cpu")
    )
    assert len(h.g_loss) == 5
    with pytest.raises(ValueError):
        gan.train_gan(G, D, _ring_real(means), gan.GANConfig(loss="lsgan"))
    with pytest.raises(ValueError):
        gan.train_gan(Gc, Dc, labelled, gan.GANConfig(num_classes=2, loss="wgan-gp"))


def test_gan_config_is_a_run_config_with_per_scale_fields():
    @dataclasses.dataclass
    class ShortConfig(gan.GANConfig):
        num_steps: int = per_scale(small=3, full=30)
        z_dim: int = 2

    assert isinstance(gan.GANConfig(), RunConfig)
    assert gan.GANConfig(scale="full").num_steps == gan.GANConfig(scale="small").num_steps == 2000
    small, full = ShortConfig(scale="small"), ShortConfig(scale="full")
    assert (small.num_steps, full.num_steps, small.scale, full.scale) == (3, 30, "small", "full")
    assert ShortConfig(num_steps=7, scale="full").num_steps == 7  # a value set by hand wins
    with pytest.raises(ValueError):
        gan.GANConfig(scale="medium")
    torch.manual_seed(0)
    G, D = models.MLP(2, 2, 8, 1), models.MLP(2, 1, 8, 1)
    history = gan.train_gan(G, D, _ring_real(gan.ring_means(2, 1.0)), small, device=torch.device("cpu"))
    assert len(history.g_loss) == 3


def test_train_gan_takes_the_steps_of_a_hand_written_loop():
    """The alternating algorithm by hand, with plain Adam: the package's loop gives the same generator."""
    means = gan.ring_means(2, 1.0)
    sample = _ring_real(means)
    config = gan.GANConfig(num_steps=15, batch_size=32, z_dim=2, seed=3)

    def build():
        torch.manual_seed(1)
        return models.MLP(2, 2, 16, 2), models.MLP(2, 1, 16, 2, leaky=True)

    G, D = build()
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=config.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=config.betas)
    g = torch.Generator().manual_seed(config.seed)
    for _ in range(config.num_steps):
        real = sample(config.batch_size, g)
        with torch.no_grad():
            fake = G(torch.randn(config.batch_size, 2, generator=g))
        loss_d = gan.discriminator_loss(D(real), D(fake))
        opt_d.zero_grad(), loss_d.backward(), opt_d.step()
        loss_g = gan.generator_loss(D(G(torch.randn(config.batch_size, 2, generator=g))))
        opt_g.zero_grad(), loss_g.backward(), opt_g.step()
    G_pkg, D_pkg = build()
    gan.train_gan(G_pkg, D_pkg, sample, config, device=torch.device("cpu"))
    G.eval()
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(G(z), G_pkg(z), atol=1e-6)


def test_interpolation():
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    line = gan.interpolate_latents(z0, z1, 5)
    assert torch.allclose(line[0], z0) and torch.allclose(line[-1], z1)
    assert torch.allclose(line[2], (z0 + z1) / 2)
    arc = gan.interpolate_latents(z0, z1, 3, "slerp")
    assert torch.allclose(arc[1], torch.tensor([1.5, 1.5]) / math.sqrt(2) * 1)  # 45°, norm 1.5
    assert torch.allclose(arc.norm(dim=1), torch.tensor([1.0, 1.5, 2.0]))
    with pytest.raises(ValueError):
        gan.interpolate_latents(z0, z1, 1)


def test_cycle_consistency_loss_is_l1():
    x, x_rec = torch.randn(4, 3), torch.randn(4, 3)
    assert torch.allclose(gan.cycle_consistency_loss(x, x_rec), F.l1_loss(x_rec, x))
    with pytest.raises(ValueError):
        gan.cycle_consistency_loss(x, x_rec[:2])
