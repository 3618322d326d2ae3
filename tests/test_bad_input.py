"""Bad input raises ValueError naming what was expected and what came: each case here returned
a wrong answer (a perturbation of 4.0, a distance of 0.0, NaN rows) or failed with an error from
deep inside torch before it was checked."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from dlbook import (
    attacks,
    attention,
    conv,
    data,
    explain,
    gan,
    hessian,
    metrics,
    normalization,
    rnn,
    runtime,
    transformer,
)


def small_cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 3))


def images(n=4):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 6, 6, generator=g), torch.randint(0, 3, (n,), generator=g)


# --------------------------------------------------------------------------- wrong answers


def test_fgsm_rejects_images_outside_the_unit_range():
    X, y = images()
    with pytest.raises(ValueError, match=r"\[0, 1\].*4"):
        attacks.fgsm(small_cnn(), X * 4, y, eps=0.1)  # the perturbation would reach 4.0


@pytest.mark.parametrize("alpha", [-0.01, 0.0, math.nan])
def test_pgd_rejects_a_step_that_is_not_positive(alpha):
    X, y = images()
    with pytest.raises(ValueError, match="alpha"):
        attacks.pgd(small_cnn(), X, y, eps=0.1, alpha=alpha)


def test_frechet_distance_rejects_a_covariance_that_is_not_psd():
    mu = np.zeros(2)
    with pytest.raises(ValueError, match="positive semi-definite.*-1"):
        metrics.frechet_distance(mu, -np.eye(2), mu, -np.eye(2))  # returned 0.0
    with pytest.raises(ValueError, match="symmetric"):
        metrics.frechet_distance(mu, np.array([[1.0, 0.5], [0.0, 1.0]]), mu, np.eye(2))
    with pytest.raises(ValueError, match="finite"):
        metrics.frechet_distance(np.array([np.nan, 0.0]), np.eye(2), mu, np.eye(2))


def test_slerp_from_the_zero_vector_is_the_linear_path():
    z = torch.tensor([3.0, 4.0])
    for z0, z1 in ((torch.zeros(2), z), (z, torch.zeros(2)), (torch.zeros(2), torch.zeros(2))):
        path = gan.interpolate_latents(z0, z1, 5, "slerp")  # NaN rows before
        assert torch.isfinite(path).all()
        assert torch.allclose(path, gan.interpolate_latents(z0, z1, 5, "linear"))
    with pytest.raises(ValueError, match="opposite"):
        gan.interpolate_latents(z, -z, 5, "slerp")


@pytest.mark.parametrize("kwargs, match", [
    ({"running_var": -torch.ones(3)}, "running_var"),
    ({"eps": -1e-3}, "eps"),
    ({"eps": math.nan}, "eps")])
def test_batch_norm_rejects_negative_variance_or_eps(kwargs, match):
    args = {"running_mean": torch.zeros(3), "running_var": torch.ones(3), **kwargs}
    with pytest.raises(ValueError, match=match):
        normalization.batch_norm(torch.randn(4, 3), **args)


@pytest.mark.parametrize("scale", [math.nan, -1.0, math.inf])
def test_attention_rejects_a_nan_or_negative_scale(scale):
    q = torch.randn(2, 3, 4)
    with pytest.raises(ValueError, match="scale"):
        attention.scaled_dot_product_attention(q, q, q, scale=scale)


def test_rank_correlation_of_a_constant_map_is_undefined():
    with pytest.raises(ValueError, match="constant"):
        explain.rank_correlation(torch.ones(5), torch.arange(5.0))  # returned 0.0
    with pytest.raises(ValueError, match="finite"):
        explain.rank_correlation(torch.tensor([1.0, math.nan, 2.0]), torch.arange(3.0))
    assert explain.rank_correlation(torch.arange(5.0), torch.arange(5.0) ** 3) == pytest.approx(1.0)


def test_classify_critical_point_rejects_nan():
    with pytest.raises(ValueError, match="finite"):
        hessian.classify_critical_point([1.0, math.nan])  # was "local minimum" or "undecided"


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"batch_size": -2}, {"seq_len": 0}])
def test_char_batches_rejects_non_positive_sizes(kwargs):
    ids = torch.arange(50) % 7
    args = {"batch_size": 4, "seq_len": 8, **kwargs}
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        rnn.char_batches(ids, **args)


# --------------------------------------------------------------------------- cryptic errors


@pytest.mark.parametrize("f", [conv.conv2d_loops, conv.conv2d_unfold])
def test_convolutions_reject_mixed_dtypes(f):
    with pytest.raises(ValueError, match="float64.*float32|float32.*float64"):
        f(torch.zeros(1, 1, 4, 4, dtype=torch.float64), torch.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match="bias"):
        f(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 2, 2), torch.zeros(1, dtype=torch.float64))


def test_hessian_dense_rejects_mixed_dtypes():
    X, y = torch.randn(5, 3), torch.randn(5)

    def loss_at(theta):
        return ((X @ theta - y) ** 2).mean()

    with pytest.raises(ValueError, match="dtype"):
        hessian.hessian_dense(loss_at, torch.zeros(3, dtype=torch.float64))
    assert hessian.hessian_dense(loss_at, torch.zeros(3)).shape == (3, 3)


def test_attention_rejects_a_wrongly_shaped_mask():
    q = torch.randn(2, 3, 4)
    with pytest.raises(ValueError, match="mask"):
        attention.scaled_dot_product_attention(q, q, q, mask=torch.ones(2, 4, dtype=torch.bool))
    mha = attention.MultiHeadAttention(4, 2)
    with pytest.raises(ValueError, match="mask"):
        mha(q, mask=torch.ones(5, 3, 3, dtype=torch.bool))


def test_fgsm_rejects_float_labels():
    X, y = images()
    with pytest.raises(ValueError, match="integer"):
        attacks.fgsm(small_cnn(), X, y.float(), eps=0.1)


@pytest.mark.parametrize("target", [3, -1, 1.5])
def test_saliency_map_rejects_a_target_out_of_range(target):
    X, _ = images()
    with pytest.raises(ValueError, match="target"):
        explain.saliency_map(small_cnn(), X, target)


@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_sample_mixture_rejects_a_non_positive_count(n):
    with pytest.raises(ValueError, match="n must be"):
        gan.sample_mixture(n, gan.ring_means(4), 0.1)


def test_transformer_lm_rejects_out_of_vocabulary_tokens():
    lm = transformer.TransformerLM(vocab_size=10, d_model=8, num_heads=2, num_layers=1, d_ff=16)
    with pytest.raises(ValueError, match=r"\[0, 10\).*10"):
        lm(torch.tensor([[1, 2, 10]]))
    with pytest.raises(ValueError, match="integer"):
        lm(torch.tensor([[1.0, 2.0]]))


@pytest.mark.parametrize("value", ["meta", "xla", "hpu", "cpu:1"])
def test_dlbook_device_accepts_only_devices_the_book_runs_on(monkeypatch, value):
    monkeypatch.setenv("DLBOOK_DEVICE", value)
    with pytest.raises(ValueError, match="DLBOOK_DEVICE"):
        runtime.device()


def test_dlbook_device_rejects_a_missing_cuda_index(monkeypatch):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    monkeypatch.setenv("DLBOOK_DEVICE", f"cuda:{torch.cuda.device_count()}")
    with pytest.raises(ValueError, match="CUDA devices"):
        runtime.device()


def test_an_unwritable_data_cache_is_reported_as_the_dataset_missing(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DLBOOK_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.delenv("DLBOOK_DATA_DIR", raising=False)
    with pytest.raises(data.DatasetNotFoundError, match="DLBOOK_CACHE_DIR"):
        data.fetch("bike")


# --------------------------------------------------------------------------- train_classifier


def _blobs():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (60,), generator=g)
    return torch.randn(60, 2, generator=g) + 3 * torch.nn.functional.one_hot(y, 3)[:, :2], y


@pytest.mark.parametrize("change, match", [
    ({"batch_size": 0}, "batch_size"), ({"batch_size": -4}, "batch_size"),
    ({"num_epochs": 0}, "num_epochs"), ({"num_epochs": -1}, "num_epochs")])
def test_train_classifier_rejects_bad_settings(change, match):
    from dlbook.train import TrainConfig, train_classifier

    X, y = _blobs()
    with pytest.raises(ValueError, match=match):
        train_classifier(nn.Linear(2, 3), X, y, TrainConfig(**change), device=torch.device("cpu"))


def test_train_classifier_rejects_labels_beyond_the_classes():
    from dlbook.train import TrainConfig, train_classifier

    X, y = _blobs()
    y[5] = 3  # the net has 3 outputs
    with pytest.raises(ValueError, match=r"\[0, 3\).*3"):
        train_classifier(nn.Linear(2, 3), X, y, TrainConfig(num_epochs=1), device=torch.device("cpu"))
    with pytest.raises(ValueError, match="integer"):
        train_classifier(nn.Linear(2, 3), X, y.float(), TrainConfig(num_epochs=1), device=torch.device("cpu"))


def test_train_classifier_stops_on_nan_inputs():
    from dlbook.train import TrainConfig, train_classifier

    X, y = _blobs()
    X[7, 1] = math.nan
    with pytest.raises(ValueError, match="NaN|finite"):
        train_classifier(nn.Linear(2, 3), X, y, TrainConfig(num_epochs=2), device=torch.device("cpu"))
