"""Probabilistic generative classification: a Gaussian per class, fitted by maximum likelihood.

A generative classifier models how the examples of each class are produced, P(x | C_k), and
how common each class is, P(C_k). Bayes' rule then turns them into the posterior probability
of a class given an example,

    P(C_k | x) = P(x | C_k) P(C_k) / Σ_j P(x | C_j) P(C_j).

Here P(x | C_k) is a multivariate Gaussian N(μ_k, Σ_k). Maximum likelihood gives μ_k = the mean
of the class's training examples and Σ_k = their covariance with the divisor N_k (not N_k − 1).
Three variants of the covariance are offered:

* ``"full"``: one Σ_k per class. The boundary P(C_1 | x) = 0.5 is quadratic in x.
* ``"shared"``: one Σ for all classes, Σ = Σ_k (N_k / N) Σ_k. Fewer parameters, and the
  boundary becomes linear: P(C_1 | x) = σ(wᵀx + b) (see :meth:`GaussianClassifier.linear_boundary`).
* ``"diagonal"``: Σ_k diagonal, i.e. the features are independent within a class: the
  Gaussian *naive Bayes* classifier.

All computations are in log space (log-densities, then a log-sum-exp), so that tiny densities
in many dimensions do not underflow.

Source: the notes' "classifying Pokemon" section (generative model, maximum likelihood, shared
covariance, naive Bayes, posterior probability as a sigmoid). Introduced in chapter 7
(Classification: generative models and logistic regression).
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["gaussian_log_density", "gaussian_mle", "GaussianClassifier", "COVARIANCES"]

COVARIANCES = ("full", "shared", "diagonal")


def _as_2d(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (N, D), got shape {X.shape}")
    return X


def gaussian_log_density(X, mean, cov) -> np.ndarray:
    """Log of the multivariate Gaussian density N(x; μ, Σ) at every row of X.

    log N(x; μ, Σ) = −½ [D log 2π + log det Σ + (x − μ)ᵀ Σ⁻¹ (x − μ)],
    computed with a Cholesky factor of Σ.

    Args:
        X: points, shape (N, D).
        mean: μ, shape (D,).
        cov: Σ, shape (D, D), symmetric positive definite.

    Returns:
        float64 array of shape (N,) (log of a density, in log units of 1 / (x's unit)^D).

    Raises:
        ValueError: on mismatched shapes, or if Σ is not positive definite (for example when a
            feature is an exact linear combination of the others).

    Introduced in chapter 7.
    """
    X = _as_2d(X)
    mean = np.asarray(mean, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    d = X.shape[1]
    if mean.shape != (d,) or cov.shape != (d, d):
        raise ValueError(f"expected mean of shape ({d},) and cov of shape ({d}, {d}) for X of shape "
                         f"{X.shape}, got {mean.shape} and {cov.shape}")
    try:
        L = np.linalg.cholesky(cov)  # (D, D), Σ = L Lᵀ
    except np.linalg.LinAlgError:
        raise ValueError("cov is not positive definite: is a feature a linear combination of the "
                         "others, or constant within a class?") from None
    z = np.linalg.solve(L, (X - mean).T)  # (D, N): L⁻¹ (x − μ)
    maha = np.sum(z**2, axis=0)  # (N,): (x − μ)ᵀ Σ⁻¹ (x − μ)
    log_det = 2.0 * np.sum(np.log(np.diag(L)))
    return -0.5 * (d * np.log(2 * np.pi) + log_det + maha)


def gaussian_mle(X) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood mean and covariance of the rows of X.

    μ* = (1/N) Σ_n x_n and Σ* = (1/N) Σ_n (x_n − μ*)(x_n − μ*)ᵀ (divisor N, the maximum
    likelihood estimate, not the unbiased N − 1).

    Args:
        X: examples of one class, shape (N, D), N ≥ 1.

    Returns:
        ``(mean, cov)`` of shapes (D,) and (D, D), float64.

    Raises:
        ValueError: if X is not a non-empty 2-D array.

    Introduced in chapter 7.
    """
    X = _as_2d(X)
    mean = X.mean(axis=0)  # (D,)
    centred = X - mean  # (N, D)
    return mean, centred.T @ centred / len(X)


@dataclasses.dataclass
class GaussianClassifier:
    """A Gaussian generative classifier fitted by maximum likelihood.

    Create with :meth:`fit`. Attributes: ``classes`` (the labels, in order), ``priors``
    (P(C_k), shape (K,)), ``means`` (shape (K, D)), ``covs`` (shape (K, D, D); all equal for
    ``"shared"``, diagonal for ``"diagonal"``), ``covariance`` (the variant) and ``counts``
    (N_k, shape (K,)).
    """

    classes: np.ndarray
    priors: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    covariance: str
    counts: np.ndarray

    @classmethod
    def fit(cls, X, y, covariance: str = "full") -> "GaussianClassifier":
        """Fit P(C_k) = N_k / N and N(μ_k, Σ_k) for every class by maximum likelihood.

        Args:
            X: features, shape (N, D).
            y: labels, shape (N,), any hashable values (at least two classes).
            covariance: ``"full"``, ``"shared"`` or ``"diagonal"`` (naive Bayes).

        Raises:
            ValueError: on mismatched shapes, an unknown covariance, or fewer than two classes.

        Introduced in chapter 7.
        """
        X = _as_2d(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X {X.shape}, got {y.shape}")
        if covariance not in COVARIANCES:
            raise ValueError(f"covariance must be one of {COVARIANCES}, got {covariance!r}")
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"need at least two classes, got {classes.tolist()}")
        counts = np.array([np.sum(y == c) for c in classes])
        stats = [gaussian_mle(X[y == c]) for c in classes]
        means = np.stack([m for m, _ in stats])  # (K, D)
        covs = np.stack([S for _, S in stats])  # (K, D, D)
        if covariance == "shared":
            pooled = np.tensordot(counts / counts.sum(), covs, axes=1)  # (D, D)
            covs = np.broadcast_to(pooled, covs.shape).copy()
        elif covariance == "diagonal":
            covs = np.stack([np.diag(np.diag(S)) for S in covs])
        return cls(classes, counts / counts.sum(), means, covs, covariance, counts)

    def log_joint(self, X) -> np.ndarray:
        """log P(x | C_k) + log P(C_k) for every row and class: shape (N, K)."""
        X = _as_2d(X)
        if X.shape[1] != self.means.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features, the model was fitted on {self.means.shape[1]}")
        return np.stack([gaussian_log_density(X, m, S) + np.log(p)
                         for m, S, p in zip(self.means, self.covs, self.priors)], axis=1)

    def posterior(self, X) -> np.ndarray:
        """P(C_k | x) by Bayes' rule, shape (N, K); rows sum to 1.

        Introduced in chapter 7.
        """
        a = self.log_joint(X)  # (N, K)
        a = a - a.max(axis=1, keepdims=True)  # log-sum-exp, stable
        p = np.exp(a)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The class with the largest posterior, shape (N,)."""
        return self.classes[np.argmax(self.log_joint(X), axis=1)]

    def accuracy(self, X, y) -> float:
        """Fraction of rows whose predicted class equals y."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def linear_boundary(self) -> tuple[np.ndarray, float]:
        """For two classes and a shared covariance: (w, b) with P(C_1 | x) = σ(wᵀx + b).

        C_1 is ``classes[0]``. With Σ shared,
        w = Σ⁻¹ (μ_1 − μ_2) and b = −½ μ_1ᵀ Σ⁻¹ μ_1 + ½ μ_2ᵀ Σ⁻¹ μ_2 + ln (N_1 / N_2).

        Returns:
            ``(w, b)``: w of shape (D,), b a float.

        Raises:
            ValueError: if the model has more than two classes or its covariance is not shared.

        Source: the notes' derivation of the posterior as a sigmoid. Introduced in chapter 7.
        """
        if len(self.classes) != 2 or self.covariance != "shared":
            raise ValueError(f"linear_boundary needs two classes and covariance='shared', got "
                             f"{len(self.classes)} classes and {self.covariance!r}")
        S = self.covs[0]
        mu1, mu2 = self.means
        w = np.linalg.solve(S, mu1 - mu2)
        b = (-0.5 * mu1 @ np.linalg.solve(S, mu1) + 0.5 * mu2 @ np.linalg.solve(S, mu2)
             + np.log(self.counts[0] / self.counts[1]))
        return w, float(b)
