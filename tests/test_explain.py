"""Explanations against known answers: autograd and finite differences, linear models whose
explanations are exact, scikit-learn and SciPy. Tolerances are stated at each comparison."""

import pytest
import torch
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression, Ridge
from torch import nn

from dlbook import explain


def linear_net(seed=0, channels=1, size=6, classes=3):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, classes)).double()


def small_cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 9, 3)).double()


def test_saliency_of_a_linear_model_is_its_weights():
    net = linear_net()
    X = torch.rand(5, 1, 6, 6, dtype=torch.float64)
    grad = explain.input_gradient(net, X, 2)
    torch.testing.assert_close(grad, net[1].weight[2].reshape(1, 1, 6, 6).expand(5, 1, 6, 6), atol=1e-12, rtol=0)
    torch.testing.assert_close(explain.saliency_map(net, X, 2), net[1].weight[2].abs().reshape(1, 6, 6).expand(5, 6, 6))


def test_input_gradient_matches_finite_differences():
    net = small_cnn()
    X = torch.rand(2, 1, 6, 6, dtype=torch.float64)
    target = torch.tensor([0, 2])
    for score in explain.SCORES:
        grad = explain.input_gradient(net, X, target, score)
        numeric = torch.zeros_like(X)
        eps = 1e-6
        for idx in range(36):
            dX = torch.zeros_like(X).flatten(1)
            dX[:, idx] = eps
            dX = dX.view_as(X)
            with torch.no_grad():
                diff = explain.class_score(net, X + dX, target, score) - explain.class_score(net, X - dX, target, score)
            numeric.flatten(1)[:, idx] = diff / (2 * eps)
        torch.testing.assert_close(grad, numeric, atol=1e-6, rtol=1e-5)


def test_class_scores_are_consistent():
    net = small_cnn()
    X = torch.rand(3, 1, 6, 6, dtype=torch.float64)
    logits = net(X)
    torch.testing.assert_close(explain.class_score(net, X, 1, "prob"), logits.softmax(1)[:, 1])
    torch.testing.assert_close(explain.class_score(net, X, [0, 1, 2], "log_prob"),
                               logits.log_softmax(1)[torch.arange(3), torch.tensor([0, 1, 2])])
    with pytest.raises(ValueError, match="score"):
        explain.class_score(net, X, 1, "margin")
    with pytest.raises(ValueError, match="one per image"):
        explain.class_score(net, X, [0, 1], "logit")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        explain.saliency_map(net, X[0], 1)


def test_smoothgrad_without_noise_is_the_saliency_map_and_exact_for_linear_models():
    net = small_cnn()
    X = torch.rand(2, 1, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(explain.smoothgrad(net, X, 1, noise_level=0.0, num_samples=3),
                               explain.saliency_map(net, X, 1))
    lin = linear_net()
    g = torch.Generator().manual_seed(0)
    torch.testing.assert_close(explain.smoothgrad(lin, X, 0, noise_level=0.5, num_samples=4, generator=g),
                               explain.saliency_map(lin, X, 0), atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="noise_level"):
        explain.smoothgrad(lin, X, 0, noise_level=-1)


def test_integrated_gradients_add_up_to_the_score_difference():
    net = small_cnn()
    X = torch.rand(3, 1, 6, 6, dtype=torch.float64)
    attributions = explain.integrated_gradients(net, X, 1, num_steps=256)
    with torch.no_grad():
        gap = explain.class_score(net, X, 1) - explain.class_score(net, torch.zeros_like(X), 1)
    # Midpoint rule with 256 steps on a smooth (tanh) network: error well below 1e-3.
    torch.testing.assert_close(attributions.sum(dim=(1, 2, 3)), gap, atol=1e-3, rtol=1e-3)
    lin = linear_net()
    exact = explain.integrated_gradients(lin, X, 2, num_steps=1)
    torch.testing.assert_close(exact, X * lin[1].weight[2].reshape(1, 1, 6, 6))


class LeftHalfModel(nn.Module):
    """Class scores that read only the left half of the image (columns 0..3 of 8)."""

    def forward(self, X):
        left = X[:, :, :, :4].sum(dim=(1, 2, 3))
        return torch.stack([left, -left], dim=1)


def test_occluding_an_irrelevant_region_changes_nothing():
    X = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    net = LeftHalfModel()
    for score in ("logit", "prob"):
        occ = explain.occlusion_map(net, X, 0, patch=2, stride=2, score=score)
        assert torch.all(occ[:, :, 4:] == 0)  # patches on the right half never touch the left
        assert torch.all(occ[:, :, :4] > 0)  # covering ink on the left lowers the score
    # For the logit the drop of a patch is exactly the ink it covers.
    occ = explain.occlusion_map(net, X, 0, patch=2, stride=2, score="logit")
    block = X[:, 0, :2, :2].sum(dim=(1, 2))
    torch.testing.assert_close(occ[:, 0, 0], block)
    with pytest.raises(ValueError, match="patch"):
        explain.occlusion_map(net, X, 0, patch=9)


def test_layer_activations_record_the_named_outputs():
    net = small_cnn()
    X = torch.rand(7, 1, 6, 6, dtype=torch.float64)
    acts = explain.layer_activations(net, X, {"conv": net[0], "pool": net[2]}, batch_size=3)
    assert acts["conv"].shape == (7, 4 * 36) and acts["pool"].shape == (7, 4 * 9)
    torch.testing.assert_close(acts["pool"], net[:3](X).flatten(1).float())


def blobs(n=600, d=5, spread=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    centres = torch.randn(3, d, generator=g) * 2
    return centres[y] + spread * torch.randn(n, d, generator=g), y


def test_linear_probe_matches_scikit_learn():
    Z, y = blobs(spread=2.0)
    probe = explain.fit_linear_probe(Z[:400], y[:400], 3, weight_decay=1e-4)
    ours = (probe(Z[400:]).argmax(1) == y[400:]).double().mean().item()
    sk = LogisticRegression(max_iter=2000).fit(Z[:400].numpy(), y[:400].numpy()).score(Z[400:].numpy(), y[400:].numpy())
    assert abs(ours - sk) <= 0.02  # same model family, slightly different penalties
    Zs, ys = blobs(spread=0.05)
    separable = explain.fit_linear_probe(Zs, ys, 3)
    assert (separable(Zs).argmax(1) == ys).all()
    with pytest.raises(ValueError, match="labels"):
        explain.fit_linear_probe(Z, y, 2)


@pytest.mark.parametrize("n,d", [(50, 8), (8, 50)])  # primal and dual solutions
def test_ridge_regression_matches_scikit_learn(n, d):
    g = torch.Generator().manual_seed(1)
    Z, T = torch.randn(n, d, generator=g, dtype=torch.float64), torch.randn(n, 3, generator=g, dtype=torch.float64)
    W, b = explain.ridge_regression(Z, T, lam=0.7)
    sk = Ridge(alpha=0.7).fit(Z.numpy(), T.numpy())
    torch.testing.assert_close(W, torch.tensor(sk.coef_.T), atol=1e-10, rtol=1e-8)
    torch.testing.assert_close(b, torch.tensor(sk.intercept_), atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("n,d", [(50, 8), (8, 50)])  # primal and dual decompositions
def test_ridge_path_matches_ridge_regression_for_every_lambda(n, d):
    g = torch.Generator().manual_seed(2)
    Z, T = torch.randn(n, d, generator=g, dtype=torch.float64) + 3, torch.randn(n, 4, generator=g, dtype=torch.float64)
    lams = [0.01, 0.7, 20.0]
    for lam, (W, b) in zip(lams, explain.ridge_path(Z, T, lams)):
        W_ref, b_ref = explain.ridge_regression(Z, T, lam)
        sk = Ridge(alpha=lam).fit(Z.numpy(), T.numpy())
        torch.testing.assert_close(W, W_ref, atol=1e-9, rtol=1e-7)
        torch.testing.assert_close(b, b_ref, atol=1e-9, rtol=1e-7)
        torch.testing.assert_close(W, torch.tensor(sk.coef_.T), atol=1e-9, rtol=1e-7)
    with pytest.raises(ValueError, match="lams"):
        explain.ridge_path(Z, T, [1.0, 0.0])
    with pytest.raises(ValueError, match="expected"):
        explain.ridge_path(Z, T[:-1], [1.0])


def test_total_variation_known_answer():
    X = torch.zeros(1, 1, 3, 3)
    X[0, 0, 1, 1] = 1.0  # one bright pixel: 4 unit jumps
    assert explain.total_variation(X).item() == 4.0


def test_activation_maximization_of_a_linear_score_saturates_the_box():
    w = torch.randn(1, 1, 5, 5, generator=torch.Generator().manual_seed(2))
    X = explain.activation_maximization(lambda x: (x * w).sum(dim=(1, 2, 3)), torch.full((1, 1, 5, 5), 0.5),
                                        num_steps=100, lr=0.1)
    torch.testing.assert_close(X, (w > 0).float())
    smooth = explain.activation_maximization(lambda x: (x * w).sum(dim=(1, 2, 3)), torch.full((1, 1, 5, 5), 0.5),
                                             num_steps=100, lr=0.1, tv=10.0)
    assert explain.total_variation(smooth) < explain.total_variation(X)


def test_lime_recovers_a_model_that_is_linear_in_the_segments():
    segments = explain.grid_segments(6, 6, 3)
    assert segments.max().item() == 3 and segments.shape == (6, 6)
    net = linear_net(classes=2)
    x = torch.rand(1, 6, 6, dtype=torch.float64)
    out = explain.lime_surrogate(net, x, 1, segments, num_samples=64, score="logit", ridge=0.0,
                                 generator=torch.Generator().manual_seed(0))
    contribution = (net[1].weight[1].reshape(6, 6) * x[0])  # each pixel's share of the logit
    expected = torch.stack([contribution[segments == s].sum() for s in range(4)])
    torch.testing.assert_close(out["coef"], expected, atol=1e-9, rtol=1e-9)
    assert out["r2"] > 1 - 1e-9


def test_randomized_copy_changes_only_the_named_layers():
    net = small_cnn()
    clone = explain.randomized_copy(net, ["4"], seed=1)
    assert torch.equal(clone[0].weight, net[0].weight)
    assert not torch.equal(clone[4].weight, net[4].weight)
    with pytest.raises(ValueError, match="resettable"):
        explain.randomized_copy(net, ["1"])


def test_rank_correlation_matches_scipy_with_ties():
    g = torch.Generator().manual_seed(4)
    a = torch.randint(0, 5, (50,), generator=g).double()
    b = a + torch.randn(50, generator=g, dtype=torch.float64)
    assert abs(explain.rank_correlation(a, b) - spearmanr(a.numpy(), b.numpy()).statistic) < 1e-12
    assert abs(explain.rank_correlation(a, a) - 1.0) < 1e-12
