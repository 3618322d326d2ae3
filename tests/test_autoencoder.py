"""dlbook.autoencoder against scikit-learn, PyTorch and known answers."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.decomposition
import torch

from dlbook import autoencoder as ae


def _low_rank_data(n=200, d=12, rank=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, rank, generator=g) @ torch.randn(
        rank, d, generator=g
    ) + 0.01 * torch.randn(n, d, generator=g)


def test_pca_matches_sklearn():
    X = _low_rank_data()
    pca = ae.pca_fit(X, 4)
    sk = sklearn.decomposition.PCA(n_components=4, svd_solver="full").fit(
        X.numpy().astype(np.float64)
    )
    np.testing.assert_allclose(pca.explained_variance.numpy(), sk.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(pca.components.numpy(), sk.components_, atol=1e-8)  # same sign rule
    codes = ae.pca_encode(X, pca)
    np.testing.assert_allclose(codes.numpy(), sk.transform(X.numpy().astype(np.float64)), atol=1e-8)
    np.testing.assert_allclose(
        ae.pca_decode(codes, pca).numpy(), sk.inverse_transform(codes.numpy()), atol=1e-8
    )
    assert torch.allclose(
        pca.components @ pca.components.T, torch.eye(4, dtype=torch.float64), atol=1e-10
    )


def test_pca_of_rank_three_data_reconstructs_with_three_components():
    X = _low_rank_data()
    pca = ae.pca_fit(X, 3)
    rec = ae.pca_decode(ae.pca_encode(X, pca), pca)
    assert ((rec - X.double()) ** 2).mean().item() < 2e-4  # only the 0.01 noise is lost
    with pytest.raises(ValueError):
        ae.pca_fit(X, 13)
    with pytest.raises(ValueError):
        ae.pca_fit(X[:1], 1)


def test_binarize_straight_through():
    logits = torch.tensor([-2.0, -0.1, 0.3, 4.0], requires_grad=True)
    bits = ae.binarize_straight_through(logits)
    assert torch.equal(bits.detach(), torch.tensor([0.0, 0.0, 1.0, 1.0]))
    bits.sum().backward()
    s = torch.sigmoid(logits.detach())
    assert torch.allclose(logits.grad, s * (1 - s))  # the sigmoid's gradient, unrounded


def test_vector_quantize_picks_nearest_and_passes_gradients():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(50, 4, generator=g, requires_grad=True)
    codebook = torch.randn(7, 4, generator=g, requires_grad=True)
    z_q, idx, loss = ae.vector_quantize(z, codebook)
    assert torch.equal(idx, torch.cdist(z.detach(), codebook.detach()).argmin(dim=1))
    assert torch.allclose(z_q, codebook[idx])
    (z_q * torch.arange(4.0)).sum().backward(retain_graph=True)
    assert torch.allclose(z.grad, torch.arange(4.0).expand(50, 4))  # straight through
    codebook.grad = None
    loss.backward()
    e = codebook.detach()[idx]
    expected = torch.nn.functional.mse_loss(e, z.detach()) + 0.25 * torch.nn.functional.mse_loss(
        z.detach(), e
    )
    assert torch.allclose(loss, expected)
    assert codebook.grad is not None
    with pytest.raises(ValueError):
        ae.vector_quantize(z, codebook[:, :3])


def test_add_noise():
    X = torch.full((2, 1, 10, 10), 0.5)
    g = torch.Generator().manual_seed(0)
    noisy = ae.add_noise(X, "gaussian", 0.2, g)
    assert noisy.shape == X.shape and noisy.min() >= 0 and noisy.max() <= 1
    masked = ae.add_noise(X, "mask", 0.3, g)
    assert set(masked.unique().tolist()) <= {0.0, 0.5}
    assert 0.15 < (masked == 0).float().mean() < 0.45
    with pytest.raises(ValueError):
        ae.add_noise(X, "mask", 1.0)
    with pytest.raises(ValueError):
        ae.add_noise(X, "salt", 0.1)


def test_autoencoder_shapes_and_errors():
    net = ae.AutoEncoder((1, 6, 6), code_dim=3, hidden=(16, 8))
    x = torch.rand(5, 1, 6, 6)
    assert net.encode(x).shape == (5, 3) and net(x).shape == (5, 1, 6, 6)
    bits = ae.AutoEncoder((1, 6, 6), code_dim=4, hidden=8, code="binary").encode(x)
    assert set(bits.unique().tolist()) <= {0.0, 1.0}
    vq = ae.AutoEncoder((1, 6, 6), code_dim=2, hidden=8, code="vq", num_codes=3)
    assert vq.code_indices(x).max() < 3
    with pytest.raises(ValueError):
        ae.AutoEncoder(code="ternary")
    with pytest.raises(ValueError):
        net.code_indices(x)


def test_training_beats_the_mean_image_and_denoises():
    torch.manual_seed(0)
    basis = torch.rand(3, 64)
    X = (
        (torch.rand(400, 3) @ basis / 1.5).clamp(0, 1).view(400, 1, 8, 8)
    )  # images on a 3-D subspace
    net = ae.AutoEncoder((1, 8, 8), code_dim=3, hidden=(32,))
    losses = ae.train_autoencoder(
        net, X, ae.AEConfig(num_epochs=30, batch_size=50, lr=5e-3), device=torch.device("cpu")
    ).train_loss
    baseline = ((X - X.mean(dim=0)) ** 2).mean().item()
    err = ae.reconstruction_error(net, X)
    assert err.shape == (400,) and err.mean().item() < 0.2 * baseline and losses[-1] < losses[0]
    dn = ae.AutoEncoder((1, 8, 8), code_dim=3, hidden=(32,))
    ae.train_autoencoder(
        dn,
        X,
        ae.AEConfig(num_epochs=30, batch_size=50, lr=5e-3, noise="gaussian", noise_level=0.2),
        device=torch.device("cpu"),
    )
    noisy = ae.add_noise(X, "gaussian", 0.2, torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert ((dn(noisy) - X) ** 2).mean() < ((noisy - X) ** 2).mean()
    with pytest.raises(ValueError):
        ae.train_autoencoder(net, X.view(400, 64))


def test_vq_training_uses_several_codes():
    torch.manual_seed(0)
    centres = torch.eye(4).repeat_interleave(16, dim=1)  # four distinct 64-pixel patterns
    X = centres[torch.arange(200) % 4].view(200, 1, 8, 8)
    vq = ae.AutoEncoder((1, 8, 8), code_dim=2, hidden=(16,), code="vq", num_codes=6)
    ae.train_autoencoder(
        vq, X, ae.AEConfig(num_epochs=20, batch_size=50, lr=5e-3), device=torch.device("cpu")
    )
    idx = vq.code_indices(X)
    for k in idx.unique():  # each code used holds a single pattern: a clustering
        assert len((torch.arange(200) % 4)[idx == k].unique()) == 1


def test_pca_first_components_equal_a_fit_with_fewer():
    X = _low_rank_data()
    full = ae.pca_fit(X, 6)
    for k in (1, 3, 6):
        fewer, direct = full.first(k), ae.pca_fit(X, k)
        assert torch.allclose(fewer.components, direct.components, atol=1e-10)
        assert torch.allclose(fewer.explained_variance, direct.explained_variance, rtol=1e-10)
    for bad in (0, 7, 2.0):
        with pytest.raises(ValueError, match="k must be"):
            full.first(bad)


def test_pca_of_wide_data_by_the_svd_matches_sklearn():
    X = _low_rank_data(n=10, d=30).double()  # fewer examples than features: the SVD route
    pca = ae.pca_fit(X, 4)
    sk = sklearn.decomposition.PCA(n_components=4, svd_solver="full").fit(X.numpy())
    np.testing.assert_allclose(pca.components.numpy(), sk.components_, atol=1e-8)
    np.testing.assert_allclose(pca.explained_variance.numpy(), sk.explained_variance_, rtol=1e-8)
