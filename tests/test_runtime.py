import random

import numpy as np
import pytest
import torch

import dlbook
from dlbook import runtime


def test_device_defaults_to_an_available_device(monkeypatch):
    monkeypatch.delenv("DLBOOK_DEVICE", raising=False)
    dev = dlbook.device()
    if torch.cuda.is_available():
        assert dev.type == "cuda"
    elif torch.backends.mps.is_available():
        assert dev.type == "mps"
    else:
        assert dev.type == "cpu"
    torch.zeros(2, device=dev)  # usable


def test_device_override(monkeypatch):
    monkeypatch.setenv("DLBOOK_DEVICE", "cpu")
    assert dlbook.device() == torch.device("cpu")
    monkeypatch.setenv("DLBOOK_DEVICE", "not-a-device")
    with pytest.raises(ValueError, match="not-a-device"):
        dlbook.device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_device_override_to_missing_cuda(monkeypatch):
    monkeypatch.setenv("DLBOOK_DEVICE", "cuda")
    with pytest.raises(ValueError, match="CUDA is not available"):
        dlbook.device()


def test_seed_makes_all_generators_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    dlbook.seed(123)
    first = draw()
    dlbook.seed(123)
    assert draw() == first
    dlbook.seed(124)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        dlbook.seed(bad)


def test_scale_default_and_override(monkeypatch):
    monkeypatch.delenv("DLBOOK_SCALE", raising=False)
    monkeypatch.setenv("DLBOOK_DEVICE", "cpu")
    assert dlbook.scale() == "small"
    assert dlbook.scaled(small=5, full=50) == 5
    monkeypatch.setenv("DLBOOK_SCALE", "full")
    assert dlbook.scale() == "full"
    assert dlbook.scaled(small=5, full=50) == 50
    monkeypatch.setenv("DLBOOK_SCALE", "huge")
    with pytest.raises(ValueError, match="huge"):
        runtime.scale()


def test_time_call_counts_warmup_and_repeats_and_measures_sleep():
    import time

    calls = []
    seconds = runtime.time_call(lambda: (calls.append(1), time.sleep(0.01)), repeats=3, warmup=2)
    assert len(calls) == 5
    assert 0.009 <= seconds < 1.0  # at least the sleep; loose above, the machine may be busy
    assert runtime.time_call(lambda: None, repeats=5, warmup=0, reduce="median") >= 0.0
    with pytest.raises(ValueError, match="repeats"):
        runtime.time_call(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="reduce"):
        runtime.time_call(lambda: None, reduce="mean")
