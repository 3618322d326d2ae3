import functools
import gzip
import http.server
import shutil
import threading

import numpy as np
import pandas as pd
import pytest

from dlbook import data

OFFLINE = [name for name in data.REGISTRY if not name.startswith("mnist_train")]


@pytest.mark.parametrize("name", OFFLINE)
def test_registered_files_match_their_checksums(name, need_data):
    path = need_data(name)
    assert data.sha256sum(path) == data.REGISTRY[name].sha256


def test_registry_entries_are_complete():
    for name, entry in data.REGISTRY.items():
        assert len(entry.sha256) == 64 and int(entry.sha256, 16) >= 0, name
        assert entry.url.startswith("https://"), name
        assert entry.citation, name


def test_github_urls_are_pinned_to_commits():
    import re

    pinned = re.compile(r"^https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/")
    github = [(name, e.url) for name, e in data.REGISTRY.items() if "githubusercontent" in e.url]
    assert len(github) >= 6
    for name, url in github:
        assert pinned.match(url), f"{name}: {url} names a branch, not a commit"


def test_bike_sharing(need_data):
    need_data("bike")
    df = data.load_bike_sharing()
    assert df.shape == (730, 16)
    assert df["dteday"].dtype.kind == "M"
    assert df["dteday"].is_monotonic_increasing
    assert df["casual"].dtype == np.int64
    assert (df["cnt"] == df["casual"] + df["registered"]).all()


def test_pokemon_stats(need_data):
    need_data("pokemon_stats")
    df = data.load_pokemon_stats()
    assert df.shape == (800, 12)
    assert df["#"].dtype == np.int64 and df["Legendary"].dtype == bool
    # the notes' split: Pokedex number below 400 is the training set
    train = df[df["#"] < 400]
    assert (train["Type 1"] == "Water").sum() == 79
    assert (train["Type 1"] == "Normal").sum() == 61
    water = train[train["Type 1"] == "Water"][["Defense", "Sp. Def"]].mean()
    np.testing.assert_allclose(water.to_numpy(), [75.04, 71.33], atol=0.005)


def test_pokemon_go(need_data):
    need_data("pokemon_go")
    df = data.load_pokemon_go()
    assert df.shape == (75, 27)
    assert set(df["species"]) == {"Pidgey", "Weedle", "Caterpie", "Eevee"}
    assert (df["cp_new"] >= df["cp"]).all()  # one Caterpie at CP 10 stays at CP 10


def test_covid(need_data):
    need_data("covid_train")
    need_data("covid_test")
    train, test = data.load_covid("train"), data.load_covid("test")
    assert train.shape == (2700, 95) and test.shape == (893, 94)
    assert train.columns[-1] == "tested_positive.2"
    assert all(pd.api.types.is_numeric_dtype(t) for t in train.dtypes)
    with pytest.raises(ValueError, match="split"):
        data.load_covid("validation")


def test_shakespeare(need_data):
    need_data("shakespeare")
    text = data.load_shakespeare()
    assert isinstance(text, str) and len(text) == 1_115_394
    assert text.startswith("First Citizen:")


def test_mnist_offline_split(need_data):
    need_data("mnist_test_images")
    need_data("mnist_test_labels")
    parts = {split: data.load_mnist(split, source="offline") for split in ("train", "val", "test")}
    sizes = {split: len(y) for split, (_, y) in parts.items()}
    assert sizes == {"train": 8000, "val": 1000, "test": 1000}
    for X, y in parts.values():
        assert X.dtype == np.uint8 and X.shape[1:] == (28, 28)
        assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    # the three splits partition the 10,000 images: no image is in two splits
    all_X = np.concatenate([X.reshape(len(X), -1) for X, _ in parts.values()])
    assert len(np.unique(all_X, axis=0)) == len(np.unique(
        data.read_idx(data.fetch("mnist_test_images")).reshape(10000, -1), axis=0))
    X, y = data.mnist_tensors("val", source="offline")
    assert tuple(X.shape) == (1000, 1, 28, 28) and str(X.dtype) == "torch.float32"
    assert 0.0 <= X.min().item() and X.max().item() <= 1.0


def test_mnist_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        data.load_mnist("dev")
    with pytest.raises(ValueError, match="source"):
        data.load_mnist("train", source="internet")


def test_read_idx_round_trip_and_errors(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in images.shape)
    path = tmp_path / "x.idx.gz"
    with gzip.open(path, "wb") as f:
        f.write(header + images.tobytes())
    np.testing.assert_array_equal(data.read_idx(path), images)
    (tmp_path / "short.idx").write_bytes(header + images.tobytes()[:-1])
    with pytest.raises(ValueError, match="declares shape"):
        data.read_idx(tmp_path / "short.idx")
    (tmp_path / "bad.idx").write_bytes(b"\x00\x00\x0d\x01" + (1).to_bytes(4, "big") + b"\x00")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "bad.idx")


def test_corrupted_file_is_refused_and_left_alone(tmp_path, monkeypatch, need_data):
    source = need_data("bike")
    broken_dir = tmp_path / "data"
    (broken_dir / "bike").mkdir(parents=True)
    broken = broken_dir / "bike" / "day.csv"
    shutil.copy(source, broken)
    content = bytearray(broken.read_bytes())
    content[100] ^= 0xFF
    broken.write_bytes(bytes(content))
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(broken_dir))
    with pytest.raises(data.ChecksumError) as err:
        data.load_bike_sharing()
    message = str(err.value)
    assert "day.csv" in message and data.REGISTRY["bike"].sha256 in message
    assert data.REGISTRY["bike"].url in message
    assert broken.read_bytes() == bytes(content)  # nothing is lost


def test_missing_file_without_network_names_file_checksum_and_source(isolated_cache):
    entry = data.Dataset("bike/day.csv", data.REGISTRY["bike"].sha256,
                         "http://127.0.0.1:9/day.csv", "test")  # port 9: nothing listens
    with pytest.raises(data.DatasetNotFoundError) as err:
        data.fetch(entry)
    message = str(err.value)
    assert "day.csv" in message and entry.sha256 in message and entry.url in message
    assert [p for p in isolated_cache.rglob("*") if p.is_file()] == []
    with pytest.raises(data.DatasetNotFoundError, match="downloading is off"):
        data.fetch(entry, download=False)
    with pytest.raises(KeyError, match="known"):
        data.fetch("no-such-dataset")


@pytest.fixture
def local_server(tmp_path):
    """Serve tmp_path/www over HTTP on 127.0.0.1 (no network needed)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def pokemon_go_bytes(need_data):
    """The real file's bytes, read before a test isolates itself from the data directory."""
    return need_data("pokemon_go").read_bytes()


def test_download_is_verified_and_cached(pokemon_go_bytes, local_server, isolated_cache):
    root, url = local_server
    (root / "evolutions75.csv").write_bytes(pokemon_go_bytes)
    entry = data.Dataset("pokemon/pokemon_go_evolutions.csv", data.REGISTRY["pokemon_go"].sha256,
                         f"{url}/evolutions75.csv", "test")
    path = data.fetch(entry)
    assert path == isolated_cache / entry.file
    assert data.sha256sum(path) == entry.sha256
    (root / "evolutions75.csv").unlink()  # the second call must not need the server
    assert data.fetch(entry) == path


def test_corrupted_download_leaves_nothing(pokemon_go_bytes, local_server, isolated_cache):
    root, url = local_server
    (root / "evolutions75.csv").write_bytes(pokemon_go_bytes[:-10] + b"0123456789")
    entry = data.Dataset("pokemon/pokemon_go_evolutions.csv", data.REGISTRY["pokemon_go"].sha256,
                         f"{url}/evolutions75.csv", "test")
    with pytest.raises(data.ChecksumError, match="discarded"):
        data.fetch(entry)
    leftovers = [p for p in isolated_cache.rglob("*") if p.is_file()]
    assert leftovers == []


# ---------------------------------------------------------------- time series as supervised data

def test_lagged_features_matches_pandas_shift():
    series = pd.Series(np.arange(10.0) ** 2)
    X = data.lagged_features(series, 3)
    expected = np.stack([series.shift(j).to_numpy() for j in (1, 2, 3)], axis=1)
    assert X.shape == (10, 3) and X.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(X), np.isnan(expected))
    np.testing.assert_array_equal(X[3:], expected[3:])


def test_lagged_features_known_rows():
    X = data.lagged_features([10, 20, 30, 40], 2)
    np.testing.assert_array_equal(X[2], [20.0, 10.0])  # day 2 sees day 1, then day 0
    np.testing.assert_array_equal(X[3], [30.0, 20.0])
    assert np.isnan(X[0]).all() and np.isnan(X[1, 1]) and X[1, 0] == 10.0


def test_lagged_features_longer_than_the_series_is_all_nan_beyond():
    X = data.lagged_features(np.array([1.0, 2.0]), 5)
    assert X.shape == (2, 5)
    assert X[1, 0] == 1.0 and np.isnan(X[:, 1:]).all() and np.isnan(X[0]).all()


@pytest.mark.parametrize("num_days", [0, -1, 2.5, True])
def test_lagged_features_rejects_bad_num_days(num_days):
    with pytest.raises(ValueError, match="num_days"):
        data.lagged_features(np.arange(5.0), num_days)


def test_lagged_features_rejects_2d_input():
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        data.lagged_features(np.zeros((3, 2)), 1)


def test_lagged_features_on_the_bike_series(need_data):
    need_data("bike")
    riders = data.load_bike_sharing().set_index("dteday")["casual"].asfreq("D").interpolate()
    X = data.lagged_features(riders, 7)
    assert X.shape == (len(riders), 7)
    assert X[7, 6] == riders.iloc[0] and X[100, 0] == riders.iloc[99]
