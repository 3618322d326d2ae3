"""dlbook.schedules against torch.optim.lr_scheduler and against known values."""

import numpy as np
import pytest
import torch

from dlbook import schedules

LR = torch.optim.lr_scheduler
T = np.arange(120)


def torch_lrs(make_scheduler, num_steps=None, lr0=0.5):
    """The learning rate PyTorch's scheduler gives each of num_steps updates (default: len(T))."""
    num_steps = len(T) if num_steps is None else num_steps
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr0)
    sched = make_scheduler(opt)
    out = []
    for _ in range(num_steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


CASES = {
    "step": (schedules.step_decay(T, 0.5, 30, 0.1), lambda o: LR.StepLR(o, 30, 0.1)),
    "exponential": (schedules.exponential_decay(T, 0.5, 0.97), lambda o: LR.ExponentialLR(o, 0.97)),
    "cosine": (schedules.cosine_decay(T, 0.5, 50, 0.01),
               lambda o: LR.CosineAnnealingLR(o, 50, 0.01)),
    "warmup": (schedules.linear_warmup(T, 0.5, 10), lambda o: LR.LinearLR(o, 1 / 10, 1.0, 9)),
    "warmup_cosine": (schedules.warmup_cosine(T, 0.5, 10, 120), lambda o: LR.SequentialLR(
        o, [LR.LinearLR(o, 1 / 10, 1.0, 9), LR.CosineAnnealingLR(o, 110)], [10])),
    "cyclic": (schedules.triangular_cyclic(T, 0.01, 0.5, 15),
               lambda o: LR.CyclicLR(o, 0.01, 0.5, 15, cycle_momentum=False)),
    "restarts": (schedules.cosine_restarts(T, 0.5, 25, 0.01),
                 lambda o: LR.CosineAnnealingWarmRestarts(o, 25, 1, 0.01)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_scheduler(name):
    ours, make = CASES[name]
    np.testing.assert_allclose(ours, torch_lrs(make), rtol=1e-10)


def test_inverse_time_decay_is_adagrads_lr_decay_and_known_values():
    np.testing.assert_allclose(schedules.inverse_time_decay(np.arange(4), 1.0, 0.5),
                               [1, 2 / 3, 0.5, 0.4])
    assert schedules.exponential_decay(3, 2.0, np.exp(-0.1)) == pytest.approx(2.0 * np.exp(-0.3))


def test_inverse_sqrt_warmup_peaks_at_the_end_of_warmup():
    lrs = schedules.inverse_sqrt_warmup(np.arange(400), d_model=64, warmup_steps=100)
    assert int(np.argmax(lrs)) == 99
    assert lrs[99] == pytest.approx(64**-0.5 * 100**-0.5)
    np.testing.assert_allclose(lrs[:100], lrs[99] * np.arange(1, 101) / 100)
    np.testing.assert_allclose(lrs[100:], 64**-0.5 * np.arange(101, 401) ** -0.5)


def test_scalars_in_scalars_out():
    assert isinstance(schedules.cosine_decay(5, 0.1, 10), float)
    assert schedules.cosine_decay(np.array([0, 10]), 0.1, 10).shape == (2,)


@pytest.mark.parametrize("call, match", [
    (lambda: schedules.step_decay(-1, 0.1, 10), "non-negative integer"),
    (lambda: schedules.step_decay(1.5, 0.1, 10), "non-negative integer"),
    (lambda: schedules.exponential_decay(1, 0.1, 1.5), "gamma"),
    (lambda: schedules.cosine_decay(1, 0.1, 10, lr_min=0.2), "lr_min"),
    (lambda: schedules.linear_warmup(1, 0.0, 10), "lr0"),
    (lambda: schedules.warmup_cosine(1, 0.1, 10, 10), "total_steps"),
    (lambda: schedules.triangular_cyclic(1, 0.1, 0.05, 10), "lr_max"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
