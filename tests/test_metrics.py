"""dlbook.metrics against scikit-learn, SciPy and known answers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import sklearn.metrics
import torch

from dlbook import metrics


def test_roc_curve_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.normal(labels * 1.0, 1.0), 1)  # rounding makes many ties
    fpr, tpr, thr = metrics.roc_curve(scores, labels)
    sk_fpr, sk_tpr, sk_thr = sklearn.metrics.roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr, atol=1e-12)
    np.testing.assert_allclose(tpr, sk_tpr, atol=1e-12)
    np.testing.assert_allclose(thr[1:], sk_thr[1:], atol=1e-12)
    assert thr[0] == np.inf


def test_auc_matches_sklearn_and_rank_statistic():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 500)
    scores = rng.normal(labels * 0.8, 1.0)
    scores[:50] = np.round(scores[:50])  # some ties
    expected = sklearn.metrics.roc_auc_score(labels, scores)
    assert metrics.roc_auc(scores, labels) == pytest.approx(expected, abs=1e-12)
    assert metrics.auc_by_ranks(scores, labels) == pytest.approx(expected, abs=1e-12)


def test_auc_known_values():
    assert metrics.roc_auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert metrics.roc_auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert metrics.roc_auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]) == 0.5


@pytest.mark.parametrize(
    "scores, labels",
    [
        ([1, 2], [1, 1]),
        ([1, 2, 3], [0, 1]),
        ([1, 2], [0, 2]),
        ([[1, 2]], [[0, 1]]),
        ([np.nan, 1], [0, 1]),
    ],
)
def test_roc_rejects_bad_input(scores, labels):
    with pytest.raises(ValueError):
        metrics.roc_curve(scores, labels)


def test_frechet_distance_matches_direct_scipy_formula():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(400, 6))
    B = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) * 0.5 + 1.0
    mu1, s1 = metrics.mean_and_covariance(A)
    mu2, s2 = metrics.mean_and_covariance(B)
    np.testing.assert_allclose(s1, np.cov(A, rowvar=False), atol=1e-12)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    direct = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(direct, rel=1e-8)
    assert metrics.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_one_dimensional_gaussians():
    # W2² between N(m1, a²) and N(m2, b²) is (m1 - m2)² + (a - b)²
    d = metrics.frechet_distance(
        np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[9.0]])
    )
    assert d == pytest.approx(4.0 + 1.0)


def test_frechet_distance_rejects_bad_shapes():
    with pytest.raises(ValueError):
        metrics.frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError):
        metrics.mean_and_covariance(np.zeros(5))


def test_classifier_features_are_the_penultimate_activations():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    X = torch.randn(7, 4)
    feats = metrics.classifier_features(net, X, batch_size=3)
    assert torch.allclose(feats, torch.relu(net[0](X)).detach())
    assert torch.allclose(net[-1](feats), net(X), atol=1e-6)
    with pytest.raises(ValueError):
        metrics.classifier_features(torch.nn.Linear(4, 2), X)


def test_class_statistics():
    hist = metrics.class_histogram(torch.tensor([0, 1, 1, 3]), 4)
    np.testing.assert_allclose(hist, [0.25, 0.5, 0.0, 0.25])
    assert metrics.entropy(np.full(10, 0.1)) == pytest.approx(np.log(10))
    assert metrics.entropy([1.0, 0.0]) == 0.0
    import scipy.stats

    p = np.random.default_rng(3).dirichlet(np.ones(5), size=4)
    np.testing.assert_allclose(metrics.entropy(p, axis=1), scipy.stats.entropy(p, axis=1))
    with pytest.raises(ValueError):
        metrics.class_histogram(np.array([0, 5]), 4)
    with pytest.raises(ValueError):
        metrics.entropy([0.5, 0.6])


def test_inception_score_extremes_and_definition():
    one_hot = np.eye(10)[np.arange(100) % 10]
    assert metrics.inception_score(one_hot) == pytest.approx(10.0)  # sharp and balanced
    assert metrics.inception_score(np.eye(10)[np.zeros(100, int)]) == pytest.approx(
        1.0
    )  # collapsed
    assert metrics.inception_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)  # unsure
    import scipy.stats

    p = np.random.default_rng(4).dirichlet(np.ones(6) * 0.3, size=40)
    kl = scipy.stats.entropy(p, p.mean(axis=0)[None].repeat(40, 0), axis=1)
    assert metrics.inception_score(p) == pytest.approx(np.exp(kl.mean()), rel=1e-10)


def test_confidence_scores_against_direct_formulas():
    logits = torch.randn(20, 5, dtype=torch.float64) * 3
    p = torch.softmax(logits, dim=1)
    assert torch.allclose(metrics.max_softmax_probability(logits), p.max(dim=1).values)
    assert torch.allclose(metrics.softmax_entropy(logits), -(p * p.log()).sum(dim=1))
    dist = torch.distributions.Categorical(logits=logits)
    assert torch.allclose(metrics.softmax_entropy(logits), dist.entropy())
    with pytest.raises(ValueError):
        metrics.softmax_entropy(torch.zeros(3))


# --------------------------------------------------------------------------- accuracy


def test_accuracy_matches_sklearn_for_scores_and_labels():
    accuracy_score = sklearn.metrics.accuracy_score

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(200, 7, generator=g)
    y = torch.randint(0, 7, (200,), generator=g)
    expected = accuracy_score(y.numpy(), logits.argmax(1).numpy())
    assert metrics.accuracy(logits, y) == pytest.approx(expected, abs=1e-12)
    assert metrics.accuracy(logits.argmax(1), y) == pytest.approx(expected, abs=1e-12)
    assert metrics.accuracy(logits.numpy(), y.numpy()) == pytest.approx(expected, abs=1e-12)
    assert metrics.accuracy(torch.softmax(logits, 1), y) == pytest.approx(expected, abs=1e-12)
    assert metrics.accuracy(torch.eye(3), torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)


def test_train_accuracy_is_metrics_accuracy_of_the_logits():
    from dlbook import train

    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3)
    X, y = torch.randn(50, 4), torch.randint(0, 3, (50,))
    assert train.accuracy(net, X, y) == metrics.accuracy(net(X), y)


@pytest.mark.parametrize("y_hat, y, match", [
    (torch.zeros(5, 3), torch.zeros(4, dtype=torch.long), "same number"),
    (torch.rand(5), torch.zeros(5, dtype=torch.long), "integer class indices of shape"),
    (torch.zeros(5, 3), torch.zeros(5), "y must be integer"),
    (torch.zeros(5, 3), torch.zeros(5, 1, dtype=torch.long), "y must be integer"),
    (torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), "zero examples"),
    (torch.zeros(2, 3, 4), torch.zeros(2, dtype=torch.long), "shape \\(N, C\\)"),
    (torch.zeros(5, 0), torch.zeros(5, dtype=torch.long), "at least one class"),
])
def test_accuracy_rejects_bad_input(y_hat, y, match):
    with pytest.raises(ValueError, match=match):
        metrics.accuracy(y_hat, y)


def test_accuracy_takes_read_only_arrays_without_a_warning():
    import warnings

    scores, y = np.eye(3), np.array([0, 1, 1])
    scores.flags.writeable = False
    y.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.accuracy(scores, y) == pytest.approx(2 / 3)
        assert metrics.accuracy(np.array([0, 1, 2]), y) == pytest.approx(2 / 3)
