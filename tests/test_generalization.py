"""dlbook.generalization: folds against scikit-learn's KFold, threshold losses against a naive
loop, the simulated probability of a bad training set against the Hoeffding union bound."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score

from dlbook import generalization as gen


@pytest.mark.parametrize("n,k", [(10, 2), (23, 5), (100, 10)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_folds_equal_sklearn_kfold(n, k, shuffle):
    seed = 3 if shuffle else None
    ours = gen.kfold_indices(n, k, shuffle=shuffle, seed=seed)
    theirs = list(KFold(n_splits=k, shuffle=shuffle, random_state=seed).split(np.zeros(n)))
    assert len(ours) == k
    for (tr, va), (tr2, va2) in zip(ours, theirs):
        np.testing.assert_array_equal(tr, tr2)
        np.testing.assert_array_equal(va, va2)
    assert sorted(np.concatenate([va for _, va in ours]).tolist()) == list(range(n))


def test_cross_validate_matches_sklearn_cross_val_score():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(47, 3))
    y = X @ np.array([1.0, 2.0, -1.0]) + rng.normal(0, 0.5, 47)

    def fit(Xt, yt):
        return LinearRegression().fit(Xt, yt)

    def mse(model, Xv, yv):
        return np.mean((model.predict(Xv) - yv) ** 2)

    ours = gen.cross_validate(fit, mse, X, y, k=5, shuffle=True, seed=1)
    theirs = -cross_val_score(LinearRegression(), X, y, cv=KFold(5, shuffle=True, random_state=1),
                              scoring="neg_mean_squared_error")
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_threshold_losses_equal_a_naive_loop():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 20, size=(4, 30)).astype(float)
    labels = rng.integers(0, 2, size=(4, 30))
    thresholds = np.arange(-1, 21, 1.5)
    losses = gen.threshold_losses(values, labels, thresholds)
    naive = np.array([[np.mean((v > t).astype(int) != lab) for t in thresholds] for v, lab in zip(values, labels)])
    np.testing.assert_allclose(losses, naive)
    np.testing.assert_allclose(gen.threshold_losses(values[0], labels[0], thresholds), naive[0])


def test_simulated_bad_probability_respects_the_bound():
    rng = np.random.default_rng(1)
    values = np.r_[rng.normal(0, 1, 300), rng.normal(1.5, 1, 200)]
    labels = np.r_[np.zeros(300, int), np.ones(200, int)]
    thresholds = np.linspace(-2, 3, 21)
    for n, eps in [(50, 0.2), (200, 0.1), (1000, 0.05)]:
        sample = gen.threshold_generalization_gaps(values, labels, thresholds, n, num_draws=2000, seed=0)
        assert sample.prob_bad(eps) <= min(1.0, gen.hoeffding_union_bound(len(thresholds), n, eps))
        good = sample.max_gap <= eps
        # on a good training set the h it picks is within 2ε of the best h on D_all
        excess = sample.loss_all[sample.h_train] - sample.loss_all[sample.h_all]
        assert np.all(excess[good] <= 2 * eps + 1e-12)


def test_bound_and_bad_input():
    assert gen.hoeffding_union_bound(10, 100, 0.1) == pytest.approx(20 * np.exp(-2))
    with pytest.raises(ValueError, match="k must"):
        gen.kfold_indices(10, 1)
    with pytest.raises(ValueError, match="at least"):
        gen.kfold_indices(3, 5)
    with pytest.raises(ValueError, match="increasing"):
        gen.threshold_losses([1.0, 2.0], [0, 1], [2.0, 1.0])
    with pytest.raises(ValueError, match="ε > 0"):
        gen.hoeffding_union_bound(10, 100, 0.0)
