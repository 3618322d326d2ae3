"""dlbook.classification: the logistic unit's losses and hand gradients against PyTorch and
autograd, logistic and softmax regression against scikit-learn's solver, and the Gaussian
generative classifier against PyTorch, scikit-learn and the numbers of the notes' Pokemon split
(# < 400 for training: 79 Water, 61 Normal)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from dlbook import classification, data


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    y = (x + rng.normal(0, 0.8, 60) > 0.2).astype(np.float64)
    return x, y


def test_sigmoid_matches_torch_and_does_not_overflow():
    z = np.array([-1000.0, -30.0, -1.0, 0.0, 2.5, 40.0, 1000.0])
    expected = torch.sigmoid(torch.tensor(z)).numpy()
    np.testing.assert_allclose(classification.sigmoid(z), expected, rtol=1e-15, atol=0)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        classification.sigmoid(z)


@pytest.mark.parametrize("w, b", [(0.7, -0.2), (-8.0, 6.0), (25.0, 30.0)])
def test_losses_match_torch(xy, w, b):
    x, y = xy
    z = torch.tensor(w * x + b)
    ce = F.binary_cross_entropy_with_logits(z, torch.tensor(y)).item()
    mse = F.mse_loss(torch.sigmoid(z), torch.tensor(y)).item()
    assert classification.logistic_loss(w, b, x, y, "cross_entropy") == pytest.approx(ce, rel=1e-12)
    assert classification.logistic_loss(w, b, x, y, "mse") == pytest.approx(mse, rel=1e-12)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("w, b", [(0.7, -0.2), (-8.0, 6.0), (3.0, 1.0)])
def test_hand_gradient_matches_autograd(xy, loss, w, b):
    x, y = xy
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    z = wt * torch.tensor(x) + bt
    if loss == "cross_entropy":
        value = F.binary_cross_entropy_with_logits(z, torch.tensor(y))
    else:
        value = F.mse_loss(torch.sigmoid(z), torch.tensor(y))
    value.backward()
    expected = np.array([wt.grad.item(), bt.grad.item()])
    ours = np.array(classification.logistic_grad(w, b, x, y, loss))
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_grid_evaluation_equals_a_loop(xy, loss):
    x, y = xy
    W, B = np.meshgrid(np.linspace(-3, 3, 5), np.linspace(-2, 2, 4))
    L = classification.logistic_loss(W, B, x, y, loss)
    assert L.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            single = classification.logistic_loss(W[i, j], B[i, j], x, y, loss)
            assert L[i, j] == pytest.approx(single, rel=1e-14)


def test_squared_error_gradient_vanishes_when_confidently_wrong():
    """One example with label 1 and score z = -12: the cross-entropy still pulls with slope ≈ -1,
    the squared error's slope is ≈ 2 σ(z) ≈ 1e-5 in size."""
    x, y = np.array([1.0]), np.array([1.0])
    g_ce = classification.logistic_grad(0.0, -12.0, x, y, "cross_entropy")
    g_mse = classification.logistic_grad(0.0, -12.0, x, y, "mse")
    assert g_ce[1] == pytest.approx(-1.0, abs=1e-5)
    assert abs(g_mse[1]) < 1e-4


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="same length"):
        classification.logistic_loss(1.0, 0.0, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="0 or 1"):
        classification.logistic_loss(1.0, 0.0, np.zeros(2), np.array([0.0, 0.5]))
    with pytest.raises(ValueError, match="loss must be"):
        classification.logistic_loss(1.0, 0.0, np.zeros(2), np.zeros(2), "hinge")
    with pytest.raises(ValueError, match="single numbers"):
        classification.logistic_grad(np.zeros(2), 0.0, np.zeros(2), np.zeros(2))


# Logistic and softmax regression on feature vectors

@pytest.fixture
def binary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 + rng.normal(0, 1.0, 80) > 0).astype(float)
    return X, y


def test_sigmoid_is_stable_and_matches_torch():
    z = np.array([-800.0, -5.0, 0.0, 3.0, 800.0])
    np.testing.assert_allclose(classification.sigmoid(z), torch.sigmoid(torch.tensor(z)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_loss_and_hand_gradient_match_torch(binary, loss):
    X, y = binary
    w0, b0 = np.array([0.2, -0.1, 0.4]), -0.3
    w = torch.tensor(w0, requires_grad=True)
    b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
    z = torch.tensor(X) @ w + b
    if loss == "cross_entropy":
        value = F.binary_cross_entropy_with_logits(z, torch.tensor(y))
    else:
        value = F.mse_loss(torch.sigmoid(z), torch.tensor(y))
    value.backward()
    assert classification.logistic_loss(w0, b0, X, y, loss) == pytest.approx(value.item(), rel=1e-12)
    gw, gb = classification.logistic_grad(w0, b0, X, y, loss)
    np.testing.assert_allclose(gw, w.grad.numpy(), rtol=1e-10)
    assert gb == pytest.approx(b.grad.item(), rel=1e-10)


def test_gradient_descent_reaches_sklearn_solution(binary):
    X, y = binary
    fit = classification.fit_logistic(X, y, lr=1.0, num_steps=3000)
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(fit.w, sk.coef_[0], atol=1e-5)
    assert fit.b == pytest.approx(sk.intercept_[0], abs=1e-5)
    assert np.all(np.diff(fit.losses) <= 1e-12)


def test_square_error_stalls_far_from_the_target(binary):
    X, y = binary
    w0 = -5 * np.array([1.0, -2.0, 0.5])  # confidently wrong
    ce = classification.fit_logistic(X, y, lr=0.5, num_steps=200, loss="cross_entropy", w0=w0)
    se = classification.fit_logistic(X, y, lr=0.5, num_steps=200, loss="mse", w0=w0)
    assert ce.accuracy(X, y) > 0.8 > se.accuracy(X, y)


def test_softmax_loss_and_gradient_match_torch():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, 30)
    W0, b0 = rng.normal(size=(4, 3)), rng.normal(size=3)
    W = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    value = F.cross_entropy(torch.tensor(X) @ W + b, torch.tensor(y))
    value.backward()
    assert classification.softmax_loss(W0, b0, X, y) == pytest.approx(value.item(), rel=1e-12)
    gW, gb = classification.softmax_grad(W0, b0, X, y)
    np.testing.assert_allclose(gW, W.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gb, b.grad.numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(classification.softmax(X @ W0 + b0), torch.softmax(torch.tensor(X @ W0 + b0), 1).numpy())


def test_softmax_with_two_classes_is_logistic_regression(binary):
    X, y = binary
    W, b, _ = classification.fit_softmax(X, y.astype(int), 2, lr=1.0, num_steps=500)
    fit = classification.fit_logistic(X, y, lr=2.0, num_steps=500)  # the score difference learns twice as fast
    np.testing.assert_allclose(W[:, 1] - W[:, 0], fit.w, rtol=1e-8)


def test_logistic_regression_bad_input(binary):
    X, y = binary
    with pytest.raises(ValueError, match="0 or 1"):
        classification.logistic_loss(np.zeros(3), 0.0, X, y + 1)
    with pytest.raises(ValueError, match="loss"):
        classification.logistic_grad(np.zeros(3), 0.0, X, y, "hinge")
    with pytest.raises(ValueError, match=r"\(3,\)"):
        classification.fit_logistic(X, y, 0.1, 10, w0=np.zeros(2))
    with pytest.raises(ValueError, match="class indices"):
        classification.softmax_loss(np.zeros((3, 2)), np.zeros(2), X, np.full(80, 2))


# The Gaussian generative classifier

@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    X = np.r_[rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 2]], 60),
              rng.multivariate_normal([2, 1], [[1.5, -0.3], [-0.3, 1]], 40)]
    y = np.r_[np.zeros(60, int), np.ones(40, int)]
    return X, y


def test_log_density_matches_torch(blobs):
    X, _ = blobs
    mean, cov = np.array([0.3, -0.2]), np.array([[1.2, 0.4], [0.4, 0.9]])
    expected = torch.distributions.MultivariateNormal(torch.tensor(mean), torch.tensor(cov)).log_prob(torch.tensor(X))
    np.testing.assert_allclose(classification.gaussian_log_density(X, mean, cov), expected.numpy(), rtol=1e-12)


def test_mle_is_a_stationary_point_of_the_likelihood(blobs):
    X, _ = blobs
    mean, cov = classification.gaussian_mle(X)
    mu = torch.tensor(mean, requires_grad=True)
    S = torch.tensor(cov, requires_grad=True)
    loglik = torch.distributions.MultivariateNormal(mu, S).log_prob(torch.tensor(X)).sum()
    loglik.backward()
    assert mu.grad.abs().max() < 1e-9
    assert S.grad.abs().max() < 1e-9
    np.testing.assert_allclose(cov, np.cov(X.T, bias=True), rtol=1e-12)


def test_shared_covariance_posterior_is_a_sigmoid_of_a_linear_function(blobs):
    X, y = blobs
    model = classification.GaussianClassifier.fit(X, y, covariance="shared")
    w, b = model.linear_boundary()
    np.testing.assert_allclose(model.posterior(X)[:, 0], torch.sigmoid(torch.tensor(X @ w + b)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(model.covs[0], model.covs[1])


def test_diagonal_is_gaussian_naive_bayes(blobs):
    X, y = blobs
    model = classification.GaussianClassifier.fit(X, y, covariance="diagonal")
    sk = GaussianNB(var_smoothing=0.0).fit(X, y)
    np.testing.assert_allclose(model.posterior(X), sk.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_gaussian_classifier_bad_input(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="covariance"):
        classification.GaussianClassifier.fit(X, y, covariance="spherical")
    with pytest.raises(ValueError, match=r"\(100,\)"):
        classification.GaussianClassifier.fit(X, y[:10])
    with pytest.raises(ValueError, match="positive definite"):
        classification.gaussian_log_density(X, [0, 0], [[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="two classes"):
        classification.GaussianClassifier.fit(X, y, covariance="full").linear_boundary()


@pytest.fixture
def pokemon_split(need_data):
    need_data("pokemon_stats")
    df = data.load_pokemon_stats()
    df = df[df["Type 1"].isin(["Water", "Normal"])]
    return df[df["#"] < 400], df[df["#"] >= 400]


def test_pokemon_split_statistics_of_the_notes(pokemon_split):
    train, _ = pokemon_split
    features = ["Defense", "Sp. Def"]
    model = classification.GaussianClassifier.fit(train[features].to_numpy(), train["Type 1"].to_numpy())
    assert list(model.classes) == ["Normal", "Water"]
    assert list(model.counts) == [61, 79]
    np.testing.assert_allclose(model.priors, [61 / 140, 79 / 140])
    assert round(model.priors[1], 2) == 0.56 and round(model.priors[0], 2) == 0.44
    water_mean = model.means[1]
    np.testing.assert_allclose(np.round(water_mean, 1), [75.0, 71.3])
    np.testing.assert_allclose(water_mean, train[train["Type 1"] == "Water"][features].mean().to_numpy())


def test_pokemon_shared_covariance_beats_separate_with_six_stats(pokemon_split):
    train, test = pokemon_split
    stats = ["HP", "Attack", "Defense", "Sp. Atk", "Sp. Def", "Speed"]
    acc = {}
    for cov in ("full", "shared"):
        model = classification.GaussianClassifier.fit(train[stats].to_numpy(), train["Type 1"].to_numpy(), cov)
        acc[cov] = model.accuracy(test[stats].to_numpy(), test["Type 1"].to_numpy())
    assert len(test) == 70
    assert acc["shared"] > acc["full"] > 0.5
