"""A sweep of the public API with bad input: NaN and infinite values, empty arrays, an extra or a
missing dimension, another dtype, zero and negative sizes.

For every function in SPECS (called with valid arguments by its factory) each tensor or array
argument in turn is replaced by a damaged copy, and each size argument by 0 and -1. The book's
rule for the outcome:

* a ``ValueError`` (the documented error) is always acceptable;
* any other exception (a cryptic error from inside torch or NumPy, a warning turned error) is not;
* a result computed from NaN input must show it (a NaN somewhere in the result): a finite
  answer computed from NaN is a silent wrong answer. Infinite input may give a finite result
  (the sigmoid of +inf is 1), but no other error than ``ValueError``;
* a size of 0 or -1 must raise (of -1 only, for a size whose 0 is meaningful: ``"degree<0"``).

Functions are looked up by name in the whole package, so the sweep follows a function when it
moves to another module. ``KNOWN`` lists what the sweep still finds, each with the reason; those
cases are expected failures (strict: a fix makes them pass and must remove the entry).
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn

import dlbook


def api(name: str, module: str | None = None):
    """The public function ``name`` of dlbook, in ``module`` if given and still there, else in
    whichever module exports it now."""
    if module is not None:
        try:
            found = getattr(importlib.import_module(f"dlbook.{module}"), name, None)
            if found is not None:
                return found
        except ImportError:
            pass
    for info in pkgutil.iter_modules(dlbook.__path__):
        mod = importlib.import_module(f"dlbook.{info.name}")
        if name in getattr(mod, "__all__", ()):
            return getattr(mod, name)
    raise LookupError(f"dlbook has no public {name}")


def g(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=g(seed), dtype=dtype)


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=g(seed))


def cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 36, 3))


def images():
    return rand(4, 1, 6, 6)


def labels():
    return torch.tensor([0, 1, 2, 1])


def quadratic(theta):
    return (theta**2).sum() + theta[0] * theta[-1]


def mdp():
    """Three states in a row, two actions (0 left, 1 right); the right end is terminal."""
    P = np.zeros((3, 2, 3))
    for s in range(3):
        P[s, 0, max(s - 1, 0)] = 1.0
        P[s, 1, min(s + 1, 2)] = 1.0
    R = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    return api("TabularMDP", "rl")(P, R, terminal=np.array([False, False, True]))


def uniform_policy():
    return np.full((3, 2), 0.5)


def right_policy():
    return np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])


def lake():
    import gymnasium as gym

    return gym.make("FrozenLake-v1", is_slippery=False)


def tiny_lm():
    torch.manual_seed(0)
    return nn.Sequential(nn.Embedding(10, 8), nn.Linear(8, 10))


# Each entry: name, module (where it lives today), factory -> (args, kwargs), size arguments.
SPECS = [
    ("sigmoid", "activations", lambda: ((randn(5),), {}), ()),
    ("tanh", "activations", lambda: ((randn(5),), {}), ()),
    ("relu", "activations", lambda: ((randn(5),), {}), ()),
    ("gelu", "activations", lambda: ((randn(5),), {}), ()),
    ("softplus", "activations", lambda: ((randn(5),), {}), ()),
    ("fgsm", "attacks", lambda: ((cnn(), images(), labels(), 0.1), {}), ()),
    ("pgd", "attacks", lambda: ((cnn(), images(), labels(), 0.1), {"num_steps": 2}), ("num_steps",)),
    ("linf_distance", "attacks", lambda: ((images(), images() * 0.5), {}), ()),
    ("attack_success_rate", "attacks", lambda: ((cnn(), images(), images() * 0.5, labels()), {}), ("batch_size",)),
    ("scaled_dot_product_attention", "attention", lambda: ((randn(2, 3, 4), randn(2, 5, 4, seed=1), randn(2, 5, 6, seed=2)), {}), ()),
    ("additive_attention_scores", "attention", lambda: ((randn(3, 4), randn(5, 4, seed=1), randn(4, 8, seed=2), randn(4, 8, seed=3), randn(8, seed=4)), {}), ()),
    ("padding_mask", "attention", lambda: ((torch.tensor([2, 3]),), {"max_len": 4}), ("max_len",)),
    ("causal_mask", "attention", lambda: ((4,), {}), ()),
    ("local_mask", "attention", lambda: ((5, 1), {}), ()),
    ("sinusoidal_positional_encoding", "attention", lambda: ((6, 8), {}), ()),
    ("layer_costs", "attention", lambda: ((10, 8), {}), ("kernel_size",)),
    ("pca_fit", "autoencoder", lambda: ((randn(10, 4), 2), {}), ()),
    ("binarize_straight_through", "autoencoder", lambda: ((randn(3, 4),), {}), ()),
    ("vector_quantize", "autoencoder", lambda: ((randn(6, 3), randn(4, 3, seed=1)), {}), ()),
    ("add_noise", "autoencoder", lambda: ((images(), "gaussian", 0.3), {"generator": g()}), ()),
    ("mse_loss_grad", "backprop", lambda: ((randn(4, 2), randn(4, 2, seed=1)), {}), ()),
    ("cross_entropy_loss_grad", "backprop", lambda: ((randn(4, 3), labels()), {}), ()),
    ("conv_output_size", "conv", lambda: ((8, 3), {}), ()),
    ("unfold", "conv", lambda: ((randn(1, 2, 5, 5), 3), {}), ()),
    ("conv2d_loops", "conv", lambda: ((randn(1, 2, 5, 5), randn(3, 2, 3, 3, seed=1), randn(3, seed=2)), {}), ()),
    ("conv2d_unfold", "conv", lambda: ((randn(1, 2, 5, 5), randn(3, 2, 3, 3, seed=1), randn(3, seed=2)), {}), ()),
    ("max_pool2d", "conv", lambda: ((randn(1, 2, 4, 4), 2), {}), ()),
    ("avg_pool2d", "conv", lambda: ((randn(1, 2, 4, 4), 2), {}), ()),
    ("conv_as_matrix", "conv", lambda: ((randn(2, 1, 2, 2), (1, 3, 3)), {}), ()),
    ("cooccurrence_counts", "embeddings", lambda: ((np.array([0, 1, 2, 1, 0, 2]), 3, 1), {}), ("window",)),
    ("ppmi", "embeddings", lambda: ((np.array([[0.0, 2, 1], [2, 0, 3], [1, 3, 0]]),), {}), ()),
    ("skipgram_pairs", "embeddings", lambda: ((np.array([0, 1, 2, 1, 0]), 1), {}), ("window",)),
    ("cbow_examples", "embeddings", lambda: ((np.array([0, 1, 2, 1, 0]), 1), {}), ("window",)),
    ("negative_distribution", "embeddings", lambda: ((np.array([5.0, 3.0, 1.0]),), {}), ()),
    ("negative_sampling_grads", "embeddings", lambda: ((randn(2, 3), randn(2, 3, seed=1), randn(2, 4, 3, seed=2)), {}), ()),
    ("nearest_neighbours", "embeddings", lambda: ((np.eye(3) + 0.1, ["a", "b", "c"], "a"), {"k": 1}), ("k",)),
    ("class_score", "explain", lambda: ((cnn(), images(), 1), {}), ()),
    ("saliency_map", "explain", lambda: ((cnn(), images(), 1), {}), ()),
    ("smoothgrad", "explain", lambda: ((cnn(), images(), 1), {"num_samples": 2, "generator": g()}), ("num_samples",)),
    ("integrated_gradients", "explain", lambda: ((cnn(), images(), 1), {"num_steps": 4}), ("num_steps",)),
    ("occlusion_map", "explain", lambda: ((cnn(), images(), 1), {"patch": 2, "stride": 2}), ("patch", "stride")),
    ("total_variation", "explain", lambda: ((images(),), {}), ()),
    ("grid_segments", "explain", lambda: ((6, 6, 2), {}), ("height", "width", "cell")),
    ("ridge_regression", "explain", lambda: ((randn(6, 2), randn(6, 3, seed=1)), {}), ()),
    ("rank_correlation", "explain", lambda: ((randn(6), randn(6, seed=1)), {}), ()),
    ("all_bit_strings", "expressivity", lambda: ((3,), {}), ("n",)),
    ("parity", "expressivity", lambda: ((torch.tensor([[0.0, 1, 1], [1, 1, 1]]),), {}), ()),
    ("count_linear_pieces", "expressivity", lambda: ((np.linspace(-1, 1, 9), np.abs(np.linspace(-1, 1, 9))), {}), ()),
    ("ring_means", "gan", lambda: ((4,), {}), ("num_modes",)),
    ("sample_mixture", "gan", lambda: ((5, torch.tensor([[0.0, 0], [1, 1]]), 0.1), {"generator": g()}), ("n",)),
    ("mixture_density", "gan", lambda: ((np.linspace(-1, 1, 5), np.array([0.0, 1.0]), 0.5), {}), ()),
    ("mode_coverage", "gan", lambda: ((randn(8, 2), torch.tensor([[0.0, 0], [1, 1]]), 0.5), {}), ()),
    ("value_function", "gan", lambda: ((randn(4), randn(4, seed=1)), {}), ()),
    ("discriminator_loss", "gan", lambda: ((randn(4), randn(4, seed=1)), {}), ()),
    ("generator_loss", "gan", lambda: ((randn(4),), {}), ()),
    ("critic_loss", "gan", lambda: ((randn(4), randn(4, seed=1)), {}), ()),
    ("optimal_discriminator", "gan", lambda: ((np.array([0.2, 0.3, 0.5]), np.array([0.4, 0.4, 0.2])), {}), ()),
    ("js_divergence", "gan", lambda: ((np.array([0.2, 0.3, 0.5]), np.array([0.4, 0.4, 0.2])), {}), ()),
    ("wasserstein_1d", "gan", lambda: ((np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.5, 2.5])), {}), ()),
    ("spectral_norm_estimate", "gan", lambda: ((randn(4, 3),), {"generator": g()}), ("num_iters",)),
    ("interpolate_latents", "gan", lambda: ((randn(4), randn(4, seed=1), 3), {"method": "slerp"}), ("num",)),
    ("cycle_consistency_loss", "gan", lambda: ((randn(3, 2), randn(3, 2, seed=1)), {}), ()),
    ("kfold_indices", "generalization", lambda: ((10, 3), {}), ("n", "k")),
    ("hoeffding_union_bound", "generalization", lambda: ((10, np.array([100.0, 1000.0]), 0.1), {}), ("num_hypotheses",)),
    ("threshold_losses", "generalization", lambda: ((np.array([0.1, 0.5, 0.9, 0.3]), np.array([0, 1, 1, 0]), np.array([0.2, 0.6])), {}), ()),
    ("gaussian_log_density", "generative", lambda: ((np.ones((3, 2)), np.zeros(2), np.eye(2)), {}), ()),
    ("gaussian_mle", "generative", lambda: ((np.arange(8.0).reshape(4, 2) ** 1.5,), {}), ()),
    ("relative_error", "gradcheck", lambda: ((np.array([1.0, 2.0]), np.array([1.0, 2.1])), {}), ()),
    ("hessian_dense", "hessian", lambda: ((quadratic, randn(3)), {}), ()),
    ("hvp", "hessian", lambda: ((quadratic, randn(3), randn(3, seed=1)), {}), ()),
    ("hessian_by_hvp", "hessian", lambda: ((quadratic, randn(3)), {}), ()),
    ("classify_critical_point", "hessian", lambda: ((np.array([1.0, -2.0]),), {}), ()),
    ("minimum_ratio", "hessian", lambda: ((np.array([1.0, -2.0, 3.0]),), {}), ()),
    ("softmax", "logistic_regression", lambda: ((np.array([[1.0, 2.0, 0.5]]),), {}), ()),
    ("logistic_loss", "logistic_regression", lambda: ((np.array([0.5, -0.2]), 0.1, np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1, 0])), {}), ()),
    ("roc_curve", "metrics", lambda: ((np.array([0.1, 0.8, 0.4, 0.6]), np.array([0, 1, 0, 1])), {}), ()),
    ("roc_auc", "metrics", lambda: ((np.array([0.1, 0.8, 0.4, 0.6]), np.array([0, 1, 0, 1])), {}), ()),
    ("auc_by_ranks", "metrics", lambda: ((np.array([0.1, 0.8, 0.4, 0.6]), np.array([0, 1, 0, 1])), {}), ()),
    ("mean_and_covariance", "metrics", lambda: ((np.arange(12.0).reshape(4, 3) ** 1.3,), {}), ()),
    ("frechet_distance", "metrics", lambda: ((np.zeros(2), np.eye(2), np.ones(2), 2 * np.eye(2)), {}), ()),
    ("class_histogram", "metrics", lambda: ((np.array([0, 1, 1, 2]), 3), {}), ("num_classes",)),
    ("entropy", "metrics", lambda: ((np.array([0.2, 0.3, 0.5]),), {}), ()),
    ("inception_score", "metrics", lambda: ((np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]]),), {}), ()),
    ("max_softmax_probability", "metrics", lambda: ((randn(3, 4),), {}), ()),
    ("softmax_entropy", "metrics", lambda: ((randn(3, 4),), {}), ()),
    ("batch_norm", "normalization", lambda: ((randn(4, 3), torch.zeros(3), torch.ones(3)), {}), ()),
    ("batch_norm_backward", "normalization", lambda: ((randn(4, 3), randn(4, 3, seed=1)), {}), ()),
    ("hard_sigmoid", "piecewise", lambda: ((randn(5), -1.0, 1.0, 2.0), {}), ()),
    ("hard_sigmoid_from_relus", "piecewise", lambda: ((randn(5), -1.0, 1.0, 2.0), {}), ()),
    ("piecewise_linear_as_hard_sigmoids", "piecewise", lambda: ((np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 0.0])), {}), ()),
    ("polynomial_features", "regression", lambda: ((np.linspace(0, 1, 5), 3), {}), ("degree<0",)),
    ("fit_ridge", "regression", lambda: ((np.c_[np.ones(5), np.linspace(0, 1, 5)], np.linspace(1, 2, 5) ** 2), {}), ()),
    ("fit_polynomial", "regression", lambda: ((np.linspace(0, 1, 6), np.linspace(1, 2, 6) ** 2, 2), {}), ("degree<0",)),
    ("mean_absolute_error", "regression", lambda: ((np.array([1.0, 2.0]), np.array([1.5, 2.0])), {}), ()),
    ("rnn_step", "rnn", lambda: ((randn(2, 3), randn(2, 4, seed=1), randn(4, 3, seed=2), randn(4, 4, seed=3)), {}), ()),
    ("gru_step", "rnn", lambda: ((randn(2, 3), randn(2, 4, seed=1), randn(12, 3, seed=2), randn(12, 4, seed=3)), {}), ()),
    ("char_batches", "rnn", lambda: ((torch.arange(40) % 5, 3, 6), {"generator": g()}), ("batch_size", "seq_len")),
    ("step_decay", "schedules", lambda: ((np.arange(5), 0.1, 2), {}), ("step_size",)),
    ("cosine_decay", "schedules", lambda: ((np.arange(5), 0.1, 4), {}), ("total_steps",)),
    ("warmup_cosine", "schedules", lambda: ((np.arange(5), 0.1, 2, 4), {}), ("warmup_steps", "total_steps")),
    ("lagged_features", "series", lambda: ((np.arange(10.0), 3), {}), ("num_days",)),
    ("linear_model_loss", "surfaces", lambda: ((0.5, 0.1, np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 2.9])), {}), ()),
    ("linear_model_grad", "surfaces", lambda: ((0.5, 0.1, np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 2.9])), {}), ()),
    ("linear_model_hessian", "surfaces", lambda: ((np.array([[1.0], [2.0], [3.0]]),), {}), ()),
    ("fans", "initialization", lambda: ((randn(4, 3),), {}), ()),
    ("xavier_std", "initialization", lambda: ((3, 4), {}), ("fan_in", "fan_out")),
    ("kaiming_std", "initialization", lambda: ((3,), {}), ("fan_in",)),
    ("init_weight_", "initialization", lambda: ((randn(4, 3), "xavier_normal"), {"generator": g()}), ()),
    ("activation_stats", "initialization", lambda: ((randn(8, 4), [5, 5], "xavier_normal"), {}), ()),
    ("pack_sequences", "pretraining", lambda: (([[5, 6], [7, 8, 9]], [[10], [11, 12]]), {"max_len": 8}), ("max_len",)),
    ("mask_tokens", "pretraining", lambda: ((torch.arange(5, 17).reshape(2, 6), 20), {"generator": g()}), ("vocab_size",)),
    ("masked_lm_loss", "pretraining", lambda: ((randn(2, 4, 10), torch.tensor([[1, -100, 3, -100], [5, -100, 6, 7]])), {}), ()),
    ("next_sentence_pairs", "pretraining", lambda: (([[1], [2], [3], [4], [5]],), {"num_pairs": 4}), ("num_pairs",)),
    ("patchify", "pretraining", lambda: ((rand(2, 1, 8, 8), 4), {}), ("patch_size",)),
    ("mask_patches", "pretraining", lambda: ((2, 16, 0.5), {"generator": g()}), ("batch_size", "num_patches")),
    ("classify_step", "pretraining", lambda: ((nn.Linear(4, 3), (randn(4, 4), labels())), {}), ()),
    ("sample", "pretraining", lambda: ((tiny_lm(), torch.tensor([1, 2]), 3), {"context": 4, "generator": g()}), ("num_tokens<0", "context")),
    ("TabularMDP", "rl", lambda: ((mdp().P, mdp().R), {}), ()),
    ("check_policy", "rl", lambda: ((mdp(), uniform_policy()), {}), ()),
    ("policy_matrices", "rl", lambda: ((mdp(), uniform_policy()), {}), ()),
    ("trajectory_probability", "rl", lambda: ((mdp(), uniform_policy(), [0, 1, 2], [1, 1]), {}), ()),
    ("discounted_return", "rl", lambda: ((np.array([1.0, 0.0, 2.0]), 0.9), {}), ()),
    ("returns_to_go", "rl", lambda: ((np.array([1.0, 0.0, 2.0]), 0.9), {}), ()),
    ("q_from_v", "rl", lambda: ((mdp(), np.array([0.5, 1.0, 0.0]), 0.9), {}), ()),
    ("v_from_q", "rl", lambda: ((np.array([[0.0, 1.0], [0.5, 1.0], [0.0, 0.0]]), uniform_policy()), {}), ()),
    ("greedy_policy", "rl", lambda: ((np.array([[0.0, 1.0], [0.5, 1.0], [0.0, 0.0]]),), {}), ()),
    ("solve_policy_values", "rl", lambda: ((mdp(), uniform_policy(), 0.9), {}), ()),
    ("policy_evaluation", "rl", lambda: ((mdp(), uniform_policy(), 0.9), {}), ("max_iterations",)),
    ("policy_iteration", "rl", lambda: ((mdp(), 0.9), {"initial_policy": uniform_policy()}), ("max_iterations",)),
    ("value_iteration", "rl", lambda: ((mdp(), 0.9), {}), ("max_iterations",)),
    ("epsilon_greedy_probs", "rl", lambda: ((np.array([1.0, 2.0, 0.5]), 0.1), {}), ()),
    ("epsilon_greedy", "rl", lambda: ((np.array([1.0, 2.0, 0.5]), 0.1, np.random.default_rng(0)), {}), ()),
    ("greedy_path", "rl", lambda: ((mdp(), right_policy(), 0), {}), ("max_steps<0",)),
    ("monte_carlo_q", "rl", lambda: ((lake(), np.full((16, 4), 0.25), 0.9, 2), {"progress": False}), ("num_episodes",)),
    ("sarsa", "rl", lambda: ((lake(), 2), {"progress": False}), ("num_episodes",)),
    ("q_learning", "rl", lambda: ((lake(), 2), {"progress": False}), ("num_episodes",)),
    ("ReplayBuffer", "rl", lambda: ((4, 2), {}), ("capacity", "obs_dim")),
]

# Functions whose result depends only on the shape of these arguments (a NaN in them is not
# read): NaN and inf damage does not apply.
SHAPE_ONLY = {("fans", "arg0"), ("init_weight_", "arg0")}

DAMAGE = ("nan", "inf", "empty", "extra dim", "fewer dims", "float64", "int")

# What the sweep still finds and is not fixed yet: (name, argument, damage) -> why.
KNOWN: dict[tuple[str, str, str], str] = {}


def damaged(value, how: str):
    """A damaged copy of a float tensor or array, or None when the damage does not apply."""
    is_tensor = isinstance(value, torch.Tensor)
    if not is_tensor and not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
        return None
    if is_tensor and not value.is_floating_point():
        return None
    x = value.clone() if is_tensor else value.copy()
    if how in ("nan", "inf"):
        if x.size == 0 if not is_tensor else x.numel() == 0:
            return None
        x.reshape(-1)[x.reshape(-1).shape[0] // 2] = math.nan if how == "nan" else math.inf
        return x
    if how == "empty":
        return x[:0]
    if how == "extra dim":
        return x[None]
    if how == "fewer dims":
        return x.reshape(-1)[0] if x.ndim == 1 else x[0]
    if how == "float64":
        return x.double() if is_tensor else x.astype(np.float32)  # arrays: float32 instead
    if how == "int":
        return x.long() if is_tensor else x.astype(np.int64)
    raise AssertionError(how)


def has_non_finite(result) -> bool:
    if isinstance(result, torch.Tensor):
        return result.is_floating_point() and not bool(torch.isfinite(result).all())
    if isinstance(result, np.ndarray):
        return result.dtype.kind == "f" and not bool(np.isfinite(result).all())
    if isinstance(result, float):
        return not math.isfinite(result)
    if isinstance(result, dict):
        return any(has_non_finite(v) for v in result.values())
    if isinstance(result, (tuple, list)):
        return any(has_non_finite(v) for v in result)
    if hasattr(result, "__dataclass_fields__"):
        return any(has_non_finite(getattr(result, f)) for f in result.__dataclass_fields__)
    if callable(result):
        return False  # a fitted model: cannot tell
    return False


def cases():
    for name, module, factory, sizes in SPECS:
        args, kwargs = factory()
        names = [f"arg{i}" for i in range(len(args))] + list(kwargs)
        values = list(args) + list(kwargs.values())
        for position, (arg, value) in enumerate(zip(names, values)):
            for how in DAMAGE:
                if how in ("nan", "inf") and (name, arg) in SHAPE_ONLY:
                    continue
                if damaged(value, how) is not None:
                    yield name, module, position, arg, how
        for size in sizes:
            for how in ("negative",) if size.endswith("<0") else ("zero", "negative"):
                yield name, module, None, size.removesuffix("<0"), how


def case_id(case):
    name, _, _, arg, how = case
    return f"{name}-{arg}-{how}"


def marks(case):
    name, _, _, arg, how = case
    reason = KNOWN.get((name, arg, how))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


CASES = [pytest.param(*c, id=case_id(c), marks=marks(c)) for c in cases()]


def test_every_known_case_is_swept():
    swept = {(c.values[0], c.values[3], c.values[4]) for c in CASES}
    assert set(KNOWN) <= swept


@pytest.mark.parametrize("name, module, position, arg, how", CASES)
def test_bad_input(name, module, position, arg, how):
    spec = next(s for s in SPECS if s[0] == name and s[1] == module)
    fn = api(name, module)
    args, kwargs = spec[2]()
    args = list(args)
    if position is None:  # a size argument
        bad = 0 if how == "zero" else -1
        if arg in kwargs:
            kwargs[arg] = bad
        else:
            import inspect

            params = list(inspect.signature(fn).parameters)
            index = params.index(arg)
            if index < len(args):
                args[index] = bad
            else:
                kwargs[arg] = bad
        with pytest.raises(ValueError):
            fn(*args, **kwargs)
        return
    if position < len(args):
        args[position] = damaged(args[position], how)
    else:
        kwargs[arg] = damaged(kwargs[arg], how)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = fn(*args, **kwargs)
    except ValueError:
        return
    except Exception as err:  # noqa: BLE001 - the point of the sweep
        pytest.fail(f"{name}: {arg} {how} raised {err.__class__.__name__}: {err}"[:400])
    if how == "nan":
        assert has_non_finite(result), f"{name}: a finite result from {arg} with {how}: {result!r}"[:400]


# --------------------------------------------------------------------------- property-based


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hnp.arrays(np.float64, st.integers(1, 6), elements=finite_or_not))
def test_eigenvalue_verdicts_never_come_from_nan(eigenvalues):
    """classify_critical_point and minimum_ratio: any floats in, a ValueError or a verdict that
    the finite values support."""
    for fn in (api("classify_critical_point"), api("minimum_ratio")):
        try:
            verdict = fn(eigenvalues)
        except ValueError:
            continue
        assert np.isfinite(eigenvalues).all(), f"{fn.__name__}({eigenvalues}) = {verdict!r}"


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, st.integers(2, 8), elements=finite_or_not),
       st.lists(st.integers(0, 1), min_size=2, max_size=8))
def test_roc_auc_never_scores_nan(scores, labels):
    labels = np.array((labels * 8)[: len(scores)])
    try:
        auc = api("roc_auc")(scores, labels)
    except ValueError:
        return
    assert np.isfinite(scores).all() and 0 <= auc <= 1


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)),
                  elements=st.one_of(st.floats(-1e6, 1e6), st.sampled_from([math.nan, math.inf]))))
def test_frechet_distance_is_a_distance_or_refuses(features):
    """Any symmetric matrix offered as a covariance: a distance >= 0 (up to rounding) or a
    ValueError, never a negative number or NaN."""
    S = features.T @ features if np.isfinite(features).all() else features[:1, :1]
    d = S.shape[0]
    try:
        value = api("frechet_distance")(np.zeros(d), S, np.zeros(d), np.eye(d))
    except ValueError:
        return
    assert math.isfinite(value) and value >= -1e-6 * max(1.0, float(np.abs(S).max()))
