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


def test_run_config_takes_the_values_of_its_scale(monkeypatch):
    import dataclasses

    @dataclasses.dataclass
    class Config(runtime.RunConfig):
        num_steps: int = runtime.per_scale(small=5, full=50)
        sizes: tuple = runtime.per_scale(small=(1, 2), full=(1, 2, 4))
        lr: float = 0.1

    monkeypatch.setenv("DLBOOK_SCALE", "small")
    assert Config() == Config(num_steps=5, sizes=(1, 2), lr=0.1, scale="small")
    assert (Config(scale="full").num_steps, Config(scale="full").sizes) == (50, (1, 2, 4))
    monkeypatch.setenv("DLBOOK_SCALE", "full")
    full = Config()
    assert (full.scale, full.num_steps) == ("full", 50)
    assert Config(num_steps=7).num_steps == 7  # a value set by hand wins at both scales
    assert Config(num_steps=5, scale="full").num_steps == 5
    assert "num_steps=50" in repr(full) and "PerScale" not in repr(full)
    with pytest.raises(ValueError, match="scale must be one of"):
        Config(scale="medium")
    with pytest.raises(TypeError):
        Config(10, (1,), 0.1, "small")  # the scale is a keyword, after the experiment's own fields
    assert dlbook.RunConfig is runtime.RunConfig and dlbook.per_scale is runtime.per_scale

