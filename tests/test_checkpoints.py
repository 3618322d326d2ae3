import importlib.util
import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from dlbook import checkpoints, models, train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DLBOOK_CACHE_DIR", str(folder))
    monkeypatch.delenv("DLBOOK_RETRAIN", raising=False)
    return folder / "checkpoints"


class Counter:
    """A trainer that counts its calls and sets every weight to 0.5."""

    def __init__(self):
        self.calls = 0

    def __call__(self, net):
        self.calls += 1
        with torch.no_grad():
            for p in net.parameters():
                p.fill_(0.5)


def build():
    return nn.Linear(2, 3)


def saved(folder):
    return sorted(folder.glob("*.pt"))


def test_re_export_from_train():
    assert train.load_or_train is checkpoints.load_or_train
    assert train.checkpoint_path is checkpoints.checkpoint_path


def test_saves_a_checksum_then_loads(cache):
    fit = Counter()
    first = checkpoints.load_or_train("toy", build, fit, {"a": 1})
    second = checkpoints.load_or_train("toy", build, fit, {"a": 1})
    assert fit.calls == 1 and torch.equal(first.weight, second.weight)
    (path,) = saved(cache)
    sidecar = path.with_name(path.name + ".sha256")
    assert sidecar.read_text().split()[0] == checkpoints._sha256(path)
    assert not list(cache.glob(".*.tmp")), "no temporary file is left behind"


class SlowCounter(Counter):
    """A trainer that takes a while, so that a second caller arrives while it trains."""

    def __call__(self, net):
        time.sleep(0.5)
        super().__call__(net)


def test_concurrent_callers_train_once_and_share_the_checkpoint(cache):
    # notebooks executed in parallel ask for the same model at the same time
    import threading

    fit = SlowCounter()
    nets, caught = [], []

    def call():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no checkpoint may be judged broken
                nets.append(checkpoints.load_or_train("toy", build, fit, {"a": 2}))
        except Exception as err:  # noqa: BLE001 - reported below
            caught.append(err)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not caught, caught
    assert fit.calls == 1, f"trained {fit.calls} times"
    assert len(nets) == 3 and all(torch.equal(n.weight, nets[0].weight) for n in nets)
    assert len(saved(cache)) == 1


def _module(tmp_path, name, source):
    file = tmp_path / f"{name}.py"
    file.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_editing_the_builder_retrains(cache, tmp_path):
    """Same shapes, another activation: the old weights must not load."""
    fit = Counter()
    relu = _module(tmp_path, "builder_a", """
        from torch import nn
        def build():
            return nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    """)
    tanh = _module(tmp_path, "builder_b", """
        from torch import nn
        def build():
            return nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    """)
    checkpoints.load_or_train("toy", relu.build, fit, {})
    checkpoints.load_or_train("toy", relu.build, fit, {})
    assert fit.calls == 1
    net = checkpoints.load_or_train("toy", tanh.build, fit, {})
    assert fit.calls == 2 and isinstance(net[1], nn.Tanh)


def test_editing_a_helper_or_the_trainer_retrains(cache, tmp_path):
    """The builder is unchanged but a function it calls changes; then the trainer changes."""
    versions = [
        "def width():\n    return 3\ndef build():\n    return nn.Sequential(nn.Linear(2, width()), nn.ReLU())\n",
        "def width():\n    return 3  # same width, new code\ndef build():\n"
        "    return nn.Sequential(nn.Linear(2, width()), nn.ReLU())\n",
    ]
    fit = Counter()
    first = _module(tmp_path, "helper_a", "from torch import nn\n" + versions[0])
    second = _module(tmp_path, "helper_b", "from torch import nn\n" + versions[1])
    checkpoints.load_or_train("toy", first.build, fit, {})
    checkpoints.load_or_train("toy", second.build, fit, {})
    assert fit.calls == 2

    def other_fit(net):  # another training loop
        fit(net)
        fit(net)

    checkpoints.load_or_train("toy", first.build, other_fit, {})
    assert fit.calls == 4


def test_editing_a_dlbook_module_changes_the_key(tmp_path, monkeypatch):
    before = checkpoints.code_fingerprint(models.trained_digit_cnn)
    assert before == checkpoints.code_fingerprint(models.trained_digit_cnn)  # stable
    edited = tmp_path / "train.py"
    edited.write_text(Path(train.__file__).read_text() + "\n# an edited training loop\n")
    monkeypatch.setattr(train, "__file__", str(edited))
    assert checkpoints.code_fingerprint(models.trained_digit_cnn) != before


def test_fingerprint_is_stable_across_processes():
    code = "from dlbook import checkpoints, models; print(checkpoints.code_fingerprint(models.trained_digit_cnn))"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    run = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True).stdout for _ in range(2)]
    assert run[0] == run[1] == checkpoints.code_fingerprint(models.trained_digit_cnn) + "\n"


def _first_checkpoint(cache):
    fit = Counter()
    checkpoints.load_or_train("toy", build, fit, {})
    (path,) = saved(cache)
    return fit, path


def _retrains_with_one_warning(cache, fit, path):
    with pytest.warns(checkpoints.CheckpointWarning, match=path.name) as record:
        net = checkpoints.load_or_train("toy", build, fit, {})
    assert len(record) == 1
    assert fit.calls == 2
    assert torch.all(net.weight == 0.5)
    assert path.with_name(path.name + ".bad").is_file()  # kept for inspection, out of the way
    assert checkpoints.load_or_train("toy", build, fit, {}) is not None and fit.calls == 2
    return net


def test_a_flipped_bit_is_detected(cache):
    fit, path = _first_checkpoint(cache)
    data = bytearray(path.read_bytes())
    offset = data.index(torch.tensor(0.5).numpy().tobytes())  # the first stored weight
    data[offset + 3] ^= 0x40  # 0.5 becomes about 3.4e38 / a huge number
    path.write_bytes(bytes(data))
    _retrains_with_one_warning(cache, fit, path)


@pytest.mark.parametrize("damage", ["truncated", "empty", "missing checksum"])
def test_an_unreadable_checkpoint_is_moved_aside(cache, damage):
    fit, path = _first_checkpoint(cache)
    sidecar = path.with_name(path.name + ".sha256")
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        sidecar.unlink()
    if damage != "missing checksum":  # a matching checksum: the failure is in reading
        sidecar.write_text(checkpoints._sha256(path) + "\n")
    _retrains_with_one_warning(cache, fit, path)


def test_a_checkpoint_of_other_shapes_is_moved_aside(cache):
    fit, path = _first_checkpoint(cache)
    torch.save(nn.Linear(5, 7).state_dict(), path)
    path.with_name(path.name + ".sha256").write_text(checkpoints._sha256(path) + "\n")
    _retrains_with_one_warning(cache, fit, path)


@pytest.mark.parametrize("value, retrains", [
    ("1", True), ("true", True), ("YES", True), (" on ", True),
    ("0", False), ("false", False), ("no", False), ("", False)])
def test_dlbook_retrain_spellings(cache, monkeypatch, value, retrains):
    fit = Counter()
    checkpoints.load_or_train("toy", build, fit, {})
    monkeypatch.setenv("DLBOOK_RETRAIN", value)
    checkpoints.load_or_train("toy", build, fit, {})
    assert fit.calls == (2 if retrains else 1)


@pytest.mark.parametrize("value", ["2", "maybe", "ture"])
def test_dlbook_retrain_rejects_other_values(cache, monkeypatch, value):
    monkeypatch.setenv("DLBOOK_RETRAIN", value)
    fit = Counter()
    with pytest.raises(ValueError, match="DLBOOK_RETRAIN"):
        checkpoints.load_or_train("toy", build, fit, {})
    assert fit.calls == 0


def test_unwritable_cache_fails_before_training(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DLBOOK_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.delenv("DLBOOK_RETRAIN", raising=False)
    fit = Counter()
    with pytest.raises(ValueError, match="not writable"):
        checkpoints.load_or_train("toy", build, fit, {})
    assert fit.calls == 0


def test_a_symlink_at_a_predictable_temporary_name_is_not_followed(cache, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = checkpoints.checkpoint_path("toy", {}, checkpoints.code_fingerprint(build, Counter()))
    cache.mkdir(parents=True)
    for guess in (path.with_suffix(f".tmp{os.getpid()}"), path.with_name(path.name + ".tmp")):
        guess.symlink_to(victim)
    checkpoints.load_or_train("toy", build, Counter(), {})
    assert victim.read_text() == "precious"
    assert not path.is_symlink() and path.is_file()


def test_writes_are_flushed_and_renamed(cache, monkeypatch):
    synced, replaced = [], []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append(Path(b).name), real_replace(a, b))[1])
    checkpoints.load_or_train("toy", build, Counter(), {})
    (path,) = saved(cache)
    assert path.name in replaced and path.name + ".sha256" in replaced
    assert len(synced) >= 2


def test_an_interrupted_write_leaves_nothing(cache, monkeypatch):
    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        checkpoints.load_or_train("toy", build, Counter(), {})
    assert list(cache.iterdir()) == []


def test_leftover_temporary_files_are_removed(cache):
    cache.mkdir(parents=True)
    dead = cache / ".toy-0123.pt.4194000.abcd.tmp"  # a process id that does not run
    assert not checkpoints._pid_alive(4194000)
    old = cache / ".toy-0123.pt.xyz.tmp"
    live = cache / f".toy-0123.pt.{os.getpid()}.efgh.tmp"
    for f in (dead, old, live):
        f.write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    checkpoints.load_or_train("toy", build, Counter(), {})
    assert not dead.exists() and not old.exists() and live.exists()


def test_clear_checkpoints_from_the_command_line(cache):
    checkpoints.load_or_train("toy", build, Counter(), {})
    assert saved(cache)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run([sys.executable, "-m", "dlbook.checkpoints", "clear"], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "Removed 2 files" in out and list(cache.iterdir()) == []


def test_make_clean_clears_the_checkpoints():
    plan = subprocess.run(["make", "-n", "clean"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout
    assert "dlbook.checkpoints clear" in plan


def test_bad_names_are_rejected(cache):
    for name in ("../evil", "", "a b", 3):
        with pytest.raises(ValueError, match="name"):
            checkpoints.load_or_train(name, build, Counter(), {})
