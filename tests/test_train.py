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


# --------------------------------------------------------------------------- the engine


def reference_train_classifier(net, X, y, config):
    """The hand-written loop train_classifier ran before it became a wrapper over fit."""
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = (len(y) + config.batch_size - 1) // config.batch_size
    scheduler = None
    if config.schedule == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=config.num_epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(config.seed)
    losses = []
    for _ in range(config.num_epochs):
        net.train()
        order = torch.randperm(len(y), generator=generator)
        total, count = 0.0, 0
        for i in range(0, len(y), config.batch_size):
            idx = order[i : i + config.batch_size]
            loss = nn.functional.cross_entropy(net(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(idx)
            count += len(idx)
        losses.append(total / count)
    return losses


@pytest.mark.parametrize("schedule", ["onecycle", "constant"])
def test_train_classifier_gives_the_losses_of_the_reference_loop(schedule):
    X, y = blobs(150)
    config = train.TrainConfig(num_epochs=3, batch_size=32, lr=1e-2, schedule=schedule, seed=3)
    torch.manual_seed(1)
    ours = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    ref = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    ref.load_state_dict(ours.state_dict())
    hist = train.train_classifier(ours, X, y, config, device=torch.device("cpu"))
    expected = reference_train_classifier(ref, X, y, config)
    assert hist.train_loss == expected  # bit for bit: same order, same arithmetic
    assert hist.val_accuracy == []
    for p, q in zip(ours.parameters(), ref.parameters()):
        assert torch.equal(p, q)


def test_minibatches_match_pytorch_samplers_and_reshuffle():
    from torch.utils.data import BatchSampler, RandomSampler

    X = torch.arange(10.0)[:, None]
    y = torch.arange(10)
    batches = train.minibatches(X, y, batch_size=4, seed=0)
    assert len(batches) == 3
    sampler = BatchSampler(RandomSampler(range(10), generator=torch.Generator().manual_seed(0)), 4, False)
    first = [yb.tolist() for _, yb in batches]
    assert first == list(sampler)  # the first epoch's order is the one of PyTorch's samplers
    g = torch.Generator().manual_seed(0)
    orders = [torch.randperm(10, generator=g).tolist() for _ in range(2)]
    second = [yb.tolist() for _, yb in batches]  # then a new order each epoch, from one generator
    assert sum(first, []) == orders[0] and sum(second, []) == orders[1] and second != first
    for xb, yb in batches:  # rows stay aligned across tensors
        assert torch.equal(xb[:, 0].long(), yb)
    fixed = [yb.tolist() for (yb,) in train.minibatches(y, batch_size=4, shuffle=False)]
    assert fixed == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dropped = train.minibatches(y, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and all(len(b) == 4 for (b,) in dropped)
    again = [yb.tolist() for _, yb in train.minibatches(X, y, batch_size=4, seed=0)]
    assert again == [yb.tolist() for _, yb in train.minibatches(X, y, batch_size=4, seed=0)]


def test_minibatches_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one tensor"):
        train.minibatches(batch_size=2)
    with pytest.raises(ValueError, match="first dimension"):
        train.minibatches(torch.zeros(3, 2), torch.zeros(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        train.minibatches(torch.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="tensors"):
        train.minibatches([1, 2, 3], batch_size=2)


def linear_problem(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g)
    y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.1
    return X, y


def test_fit_equals_a_hand_written_loop_and_records_metrics():
    X, y = linear_problem()
    torch.manual_seed(0)
    net, ref = nn.Linear(3, 1), nn.Linear(3, 1)
    ref.load_state_dict(net.state_dict())

    def step(model, batch):
        xb, yb = batch
        loss = ((model(xb)[:, 0] - yb) ** 2).mean()
        return {"loss": loss, "mae": (model(xb)[:, 0] - yb).abs().mean()}

    calls = []
    hist = train.fit(net, train.minibatches(X, y, batch_size=16, seed=1), step, num_epochs=4,
                     optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
                     evaluate=lambda m: {"val_mse": ((m(X)[:, 0] - y) ** 2).mean().item()},
                     device="cpu", desc=None, callbacks=[lambda state: calls.append(state.epoch)])
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(1)
    expected = []
    for _ in range(4):
        order, total = torch.randperm(64, generator=g), 0.0
        for i in range(0, 64, 16):
            idx = order[i : i + 16]
            loss = ((ref(X[idx])[:, 0] - y[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * 16
        expected.append(total / 64)
    assert hist["train_loss"] == hist.train_loss == expected
    assert len(hist.mae) == len(hist.val_mse) == 4 and hist.eval_epochs == [1, 2, 3, 4]
    assert len(hist.per_batch["train_loss"]) == 16
    assert hist.val_mse[-1] < hist.val_mse[0] and hist.seconds > 0
    assert calls == [1, 2, 3, 4] and not net.training
    with pytest.raises(AttributeError, match="no metric"):
        _ = hist.val_accuracy
    with pytest.raises(KeyError, match="recorded"):
        hist["val_accuracy"]


def test_fit_stops_with_a_clear_error_when_the_loss_diverges():
    X, y = linear_problem()
    net = nn.Linear(3, 1)
    before = net.weight.detach().clone()

    def step(model, batch):
        xb, yb = batch
        return ((model(xb)[:, 0] - yb) ** 2).mean() * float("nan")

    with pytest.raises(ValueError, match="training loss became nan at epoch 1, batch 1"):
        train.fit(net, train.minibatches(X, y, batch_size=16), step, num_epochs=2,
                  optimizer=torch.optim.SGD(net.parameters(), lr=0.1), device="cpu", desc=None)
    assert torch.equal(net.weight, before)  # stopped before the update


def test_fit_clips_the_gradient_norm():
    X, y = linear_problem()
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    start = [p.detach().clone() for p in net.parameters()]

    def step(model, batch):
        xb, yb = batch
        return ((model(xb)[:, 0] - 100 * yb) ** 2).mean()  # a huge gradient

    hist = train.fit(net, [(X, y)], step, num_epochs=1, max_norm=0.5,
                     optimizer=torch.optim.SGD(net.parameters(), lr=1.0), device="cpu", desc=None)
    moved = torch.sqrt(sum(((p - s) ** 2).sum() for p, s in zip(net.parameters(), start)))
    assert hist.grad_norm[0] > 100
    assert moved.item() == pytest.approx(0.5, rel=1e-4)  # lr · clipped norm
    with pytest.raises(ValueError, match="max_norm"):
        train.fit(net, [(X, y)], step, num_epochs=1, max_norm=1.0, device="cpu")


def test_fit_without_optimizer_lets_the_step_update():
    X, y = linear_problem()
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)

    def step(model, batch):  # the step updates by itself and reports two metrics
        xb, yb = batch
        loss = ((model(xb)[:, 0] - yb) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss_a": loss.detach(), "loss_b": 2.0}

    class StopAfterThree:
        def on_batch_end(self, state):
            state.stop = state.step == 3

    hist = train.fit(net, train.minibatches(X, y, batch_size=8), step, num_epochs=5, device="cpu",
                     desc=None, callbacks=[StopAfterThree()])
    assert len(hist.per_batch["loss_a"]) == 3 and hist.loss_b == [2.0]
    assert "train_loss" not in hist
    with pytest.raises(ValueError, match="must return the loss"):
        train.fit(net, [(X, y)], lambda m, b: {"mae": 1.0}, num_epochs=1,
                  optimizer=torch.optim.SGD(net.parameters(), lr=0.1), device="cpu")
    with pytest.raises(ValueError, match="num_epochs"):
        train.fit(net, [(X, y)], step, num_epochs=0, device="cpu")


def test_sampled_batches_draw_a_new_batch_each_step():
    g = torch.Generator().manual_seed(0)
    batches = train.sampled_batches(lambda: (torch.randn(4, 2, generator=g),), num_batches=2)
    assert len(batches) == 2
    first, second = list(batches), list(batches)
    assert len(first) == 2 and not torch.equal(first[0][0], second[0][0])
    net = nn.Linear(2, 1)
    hist = train.fit(net, train.sampled_batches(lambda: (torch.randn(4, 2, generator=g),)),
                     lambda m, b: m(b[0]).pow(2).mean(), num_epochs=5,
                     optimizer=torch.optim.SGD(net.parameters(), lr=0.1), device="cpu", desc=None)
    assert len(hist.train_loss) == 5  # one value per step
    with pytest.raises(ValueError, match="draw"):
        train.sampled_batches(3)
    with pytest.raises(ValueError, match="num_batches"):
        train.sampled_batches(lambda: None, num_batches=0)


def test_fit_raises_diverged_with_the_history_so_far():
    X, y = linear_problem()
    net = nn.Linear(3, 1)
    calls = []

    def step(model, batch):
        xb, yb = batch
        calls.append(1)
        loss = ((model(xb)[:, 0] - yb) ** 2).mean()
        return loss * float("inf") if len(calls) == 3 else loss

    with pytest.raises(train.Diverged, match="epoch 1, batch 3") as err:
        train.fit(net, train.minibatches(X, y, batch_size=16), step, num_epochs=2,
                  optimizer=torch.optim.SGD(net.parameters(), lr=0.01), device="cpu", desc=None)
    assert isinstance(err.value, ValueError)
    assert (err.value.epoch, err.value.batch) == (1, 3)
    assert len(err.value.history.per_batch["train_loss"]) == 2  # the two finite batches


def test_fit_max_steps_cuts_training_and_the_last_epoch_short():
    X, y = linear_problem()
    net = nn.Linear(3, 1)
    batches = train.minibatches(X, y, batch_size=16)
    hist = train.fit(net, batches, lambda m, b: ((m(b[0])[:, 0] - b[1]) ** 2).mean(), num_epochs=10,
                     optimizer=torch.optim.SGD(net.parameters(), lr=0.01), device="cpu", desc=None,
                     max_steps=len(batches) + 2)
    assert len(hist.per_batch["train_loss"]) == len(batches) + 2
    assert len(hist.train_loss) == 2  # one full epoch, then an epoch of two batches
    assert hist.train_loss[1] == pytest.approx(sum(hist.per_batch["train_loss"][-2:]) / 2)
    with pytest.raises(ValueError, match="max_steps"):
        train.fit(net, batches, lambda m, b: m(b[0]).sum(), num_epochs=1, max_steps=0, desc=None)


def test_fit_records_cumulative_training_seconds_per_epoch():
    import time

    X, y = linear_problem()
    net = nn.Linear(3, 1)

    def slow_evaluate(model):
        time.sleep(0.05)
        return {"val": 0.0}

    hist = train.fit(net, train.minibatches(X, y, batch_size=64), lambda m, b: ((m(b[0])[:, 0] - b[1]) ** 2).mean(),
                     num_epochs=3, optimizer=torch.optim.SGD(net.parameters(), lr=0.01), evaluate=slow_evaluate,
                     device="cpu", desc=None)
    assert len(hist.epoch_seconds) == 3
    assert all(b > a for a, b in zip(hist.epoch_seconds, hist.epoch_seconds[1:]))
    assert hist.epoch_seconds[-1] < hist.seconds - 0.1  # the evaluations' sleep is left out


def test_cross_entropy_step_is_the_batch_loss_fit_minimizes():
    X, y = blobs(n=120)
    torch.manual_seed(0)
    net = nn.Linear(2, 3)
    assert train.cross_entropy_step(net, (X, y)).item() == pytest.approx(
        torch.nn.functional.cross_entropy(net(X), y).item())
    hist = train.fit(net, train.minibatches(X, y, batch_size=40), train.cross_entropy_step, num_epochs=5,
                     optimizer=torch.optim.SGD(net.parameters(), lr=0.5), device="cpu", desc=None)
    assert hist.train_loss[-1] < 0.5 * hist.train_loss[0]
    assert train.accuracy(net, X, y) > 0.9


def test_named_callback_hooks_run_in_order_and_can_stop():
    X, y = blobs(64)
    net = nn.Linear(2, 3)
    calls = []

    def stop_after_three(state):
        calls.append(("batch", state.step))
        state.stop = state.step >= 3

    cb = train.Callback(on_fit_start=lambda s: calls.append("start"), on_batch_end=stop_after_three,
                        on_fit_end=lambda s: calls.append("end"))
    train.fit(net, train.minibatches(X, y, batch_size=8), train.cross_entropy_step, num_epochs=2,
              optimizer=torch.optim.SGD(net.parameters(), lr=0.1), desc=None, device="cpu", callbacks=[cb])
    assert calls == ["start", ("batch", 1), ("batch", 2), ("batch", 3), "end"]


def test_named_callback_rejects_a_hook_that_is_not_callable():
    with pytest.raises(ValueError, match="on_batch_end must be callable"):
        train.Callback(on_batch_end=3)
