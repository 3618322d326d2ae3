"""dlbook.generative: the Gaussian generative classifier against PyTorch, scikit-learn and the
numbers of the notes' Pokemon split (# < 400 for training: 79 Water, 61 Normal)."""

import numpy as np
import pytest
import torch
from sklearn.naive_bayes import GaussianNB

from dlbook import data, generative


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
    np.testing.assert_allclose(generative.gaussian_log_density(X, mean, cov), expected.numpy(), rtol=1e-12)


def test_mle_is_a_stationary_point_of_the_likelihood(blobs):
    X, _ = blobs
    mean, cov = generative.gaussian_mle(X)
    mu = torch.tensor(mean, requires_grad=True)
    S = torch.tensor(cov, requires_grad=True)
    loglik = torch.distributions.MultivariateNormal(mu, S).log_prob(torch.tensor(X)).sum()
    loglik.backward()
    assert mu.grad.abs().max() < 1e-9
    assert S.grad.abs().max() < 1e-9
    np.testing.assert_allclose(cov, np.cov(X.T, bias=True), rtol=1e-12)


def test_shared_covariance_posterior_is_a_sigmoid_of_a_linear_function(blobs):
    X, y = blobs
    model = generative.GaussianClassifier.fit(X, y, covariance="shared")
    w, b = model.linear_boundary()
    np.testing.assert_allclose(model.posterior(X)[:, 0], torch.sigmoid(torch.tensor(X @ w + b)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(model.covs[0], model.covs[1])


def test_diagonal_is_gaussian_naive_bayes(blobs):
    X, y = blobs
    model = generative.GaussianClassifier.fit(X, y, covariance="diagonal")
    sk = GaussianNB(var_smoothing=0.0).fit(X, y)
    np.testing.assert_allclose(model.posterior(X), sk.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_bad_input(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="covariance"):
        generative.GaussianClassifier.fit(X, y, covariance="spherical")
    with pytest.raises(ValueError, match=r"\(100,\)"):
        generative.GaussianClassifier.fit(X, y[:10])
    with pytest.raises(ValueError, match="positive definite"):
        generative.gaussian_log_density(X, [0, 0], [[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="two classes"):
        generative.GaussianClassifier.fit(X, y, covariance="full").linear_boundary()


@pytest.fixture
def pokemon_split(need_data):
    need_data("pokemon_stats")
    df = data.load_pokemon_stats()
    df = df[df["Type 1"].isin(["Water", "Normal"])]
    return df[df["#"] < 400], df[df["#"] >= 400]


def test_pokemon_split_statistics_of_the_notes(pokemon_split):
    train, _ = pokemon_split
    features = ["Defense", "Sp. Def"]
    model = generative.GaussianClassifier.fit(train[features].to_numpy(), train["Type 1"].to_numpy())
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
        model = generative.GaussianClassifier.fit(train[stats].to_numpy(), train["Type 1"].to_numpy(), cov)
        acc[cov] = model.accuracy(test[stats].to_numpy(), test["Type 1"].to_numpy())
    assert len(test) == 70
    assert acc["shared"] > acc["full"] > 0.5
