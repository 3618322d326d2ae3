import pytest
import torch
from torch import nn

from dlbook import train


def blobs(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    centres = torch.tensor([[0.0, 3.0], [3.0, 0.0], [-3.0, -3.0]])
    X = centres[y] + torch.randn(n, 2, generator=g)
    return X, y


def test_train_classifier_learns_and_records_history():
    X, y = blobs()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    before = train.accuracy(net, X, y, device=torch.device("cpu"))
    config = train.TrainConfig(num_epochs=5, batch_size=32, lr=1e-2)
    hist = train.train_classifier(net, X, y, config, X_val=X[:100], y_val=y[:100],
                                  device=torch.device("cpu"))
    assert len(hist.train_loss) == 5 and len(hist.val_accuracy) == 5
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert train.accuracy(net, X, y) > max(before, 0.95)


def test_train_classifier_rejects_bad_shapes():
    net = nn.Linear(2, 3)
    with pytest.raises(ValueError, match="expected X of shape"):
        train.train_classifier(net, torch.zeros(5, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="schedule"):
        train.train_classifier(net, torch.zeros(4, 2), torch.zeros(4, dtype=torch.long),
                               train.TrainConfig(schedule="cosine"))


def test_load_or_train_saves_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("DLBOOK_CACHE_DIR", str(tmp_path))
    calls = []

    def build():
        return nn.Linear(2, 3)

    def fit(net):
        calls.append(1)
        with torch.no_grad():
            net.weight.fill_(0.5)

    first = train.load_or_train("toy", build, fit, {"a": 1})
    second = train.load_or_train("toy", build, fit, {"a": 1})
    assert calls == [1]
    assert torch.equal(first.weight, second.weight)
    train.load_or_train("toy", build, fit, {"a": 2})  # another config retrains
    assert calls == [1, 1]
    assert len(list((tmp_path / "checkpoints").glob("toy-*.pt"))) == 2
    with pytest.raises(ValueError, match="name"):
        train.load_or_train("../evil", build, fit, {})
