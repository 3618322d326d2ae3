"""The book's real datasets: a registry with checksums, a resolver, and one loader per dataset.

Every file the book reads is listed in :data:`REGISTRY` with its SHA-256, its public source and
its citation. :func:`fetch` finds a file in this order:

1. the directory named by the environment variable ``DLBOOK_DATA_DIR`` (the Makefile and
   ``.ci/run`` point it at ``../shared/data`` when that folder exists);
2. the per-user cache (``DLBOOK_CACHE_DIR``, else the platform's cache folder, e.g.
   ``~/.cache/dlbook`` on Linux);
3. a download from the public source into the cache, with a progress bar. The download is
   written to a temporary file that is renamed only after its checksum matches (the standard
   library for this, :mod:`pooch`, does exactly that), so a broken download leaves nothing.

A file whose checksum does not match is refused with :class:`ChecksumError`; a file that is
nowhere and cannot be downloaded raises :class:`DatasetNotFoundError`. Both messages name the
file, the expected SHA-256 and where to get it.

A forecast "from the last k days" turns one series into a table: the row of day t holds the
values of days t - 1, ..., t - k (the features x_1, ..., x_k) and its label is the value of
day t. :func:`lagged_features` builds that table.

Introduced in :doc:`/notebooks/01_three_steps`.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import numbers
import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "Dataset",
    "REGISTRY",
    "ChecksumError",
    "DatasetNotFoundError",
    "data_dir",
    "cache_dir",
    "fetch",
    "sha256sum",
    "read_idx",
    "load_bike_sharing",
    "load_pokemon_stats",
    "load_pokemon_go",
    "load_covid",
    "load_shakespeare",
    "load_mnist",
    "lagged_features",
    "mnist_tensors",
    "MNIST_OFFLINE_SPLIT",
]


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One file of a dataset: where it lives relative to the data directory, and how to check it.

    Attributes:
        file: path relative to the data directory, e.g. ``"bike/day.csv"``.
        sha256: the file's SHA-256, 64 hexadecimal digits.
        url: a public address the file can be downloaded from, byte for byte.
        citation: who made the data and under which licence.
    """

    file: str
    sha256: str
    url: str
    citation: str


_GH = "https://raw.githubusercontent.com"
_MNIST_CITATION = (
    "Y. LeCun, C. Cortes and C. J. C. Burges, The MNIST database of handwritten digits; "
    "CC BY-SA 3.0"
)
# Every URL names a commit, so that the bytes behind it cannot change (the SHA-256 is checked anyway).
# The course-notes repository: at this commit covid.test.csv has the recorded size (649,766 bytes)
# and ends with the same 16,000 characters as the staged copy; covid.train.csv lives in the same
# homework folder, added with it.
_COVID_DIR = ("Fafa-DL/Lhy_Machine_Learning/72bf767636d599723cf9e85c9f9e6244fcd5be78/"
              "2021%20ML/01%20Introduction/%E4%BD%9C%E4%B8%9AHW1")
# The commit of pokemongor that added the evolutions data set (data-raw/evolutions75.R, which writes
# data-raw/evolutions75.csv, and the package data built from it).
_POKEMON_GO_COMMIT = "b86f326a681596728d6c34dad338b19ccbfe47e5"

REGISTRY: dict[str, Dataset] = {
    "bike": Dataset(
        "bike/day.csv",
        "0d93be776a9fa1f8c9ecd32d3f1a802d711606ae8ba1f02df9675d6b91281355",
        f"{_GH}/koutilya-pnvr/bike-sharing-my-first-NeuralNetwork/"
        "6b27ebc578953cce8a86afe7bd1c0536072731e3/Bike-Sharing-Dataset/day.csv",
        "H. Fanaee-T and J. Gama (2013), Event labeling combining ensemble detectors and "
        "background knowledge, Progress in Artificial Intelligence; UCI Bike Sharing Dataset",
    ),
    "pokemon_stats": Dataset(
        "pokemon/pokemon_stats.csv",
        "5cd228ca772fe3dd05be0250f78420fb3ece7c13f755c0c6ffa5c07c2009c2e0",
        f"{_GH}/KeithGalli/pandas/5d4b09be833647e0c9a67935f1d3b3c8e277a95e/pokemon_data.csv",
        "'Pokemon with stats' as published by K. Galli (public game facts; no licence stated)",
    ),
    "pokemon_go": Dataset(
        "pokemon/pokemon_go_evolutions.csv",
        "2a0133a7e430c20fd17e26b38e89516728409b8bdd63e9c3a8051a49515d94ad",
        f"{_GH}/ChihChengLiang/pokemongor/{_POKEMON_GO_COMMIT}/data-raw/evolutions75.csv",
        "OpenIntro 'pokemon' data (75 Pokemon GO evolutions), CC0",
    ),
    "covid_train": Dataset(
        "covid/covid.train.csv",
        "7b70cccab9712a6f6c780eddbdde2484a43c98e1b63b765d64692b8f2ed9225a",
        f"{_GH}/{_COVID_DIR}/covid.train.csv",
        "Delphi COVIDcast survey data (Carnegie Mellon University), as prepared for homework 1 "
        "of Hung-yi Lee's Machine Learning 2021",
    ),
    "covid_test": Dataset(
        "covid/covid.test.csv",
        "6b5ba63b3d025889ebe7ee222b23b39d1a0c45761cfb3babfaa20a5ec0dbc051",
        f"{_GH}/{_COVID_DIR}/covid.test.csv",
        "Delphi COVIDcast survey data (Carnegie Mellon University), as prepared for homework 1 "
        "of Hung-yi Lee's Machine Learning 2021",
    ),
    "shakespeare": Dataset(
        "shakespeare/tinyshakespeare.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        f"{_GH}/karpathy/char-rnn/d1d7aa34fdb3626174bce1d753e6cc6845ce7087/"
        "data/tinyshakespeare/input.txt",
        "Tiny Shakespeare as collected by A. Karpathy for char-rnn (MIT); the text is public domain",
    ),
    "mnist_test_images": Dataset(
        "mnist/t10k-images-idx3-ubyte.gz",
        "167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b",
        f"{_GH}/kelas/mnist/283b387221ab46655e600cfcc25d843bb14292b9/t10k-images-idx3-ubyte.gz",
        _MNIST_CITATION,
    ),
    "mnist_test_labels": Dataset(
        "mnist/t10k-labels-idx1-ubyte.gz",
        "fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c",
        f"{_GH}/kelas/mnist/283b387221ab46655e600cfcc25d843bb14292b9/t10k-labels-idx1-ubyte.gz",
        _MNIST_CITATION,
    ),
    # The 60,000 training images are not staged offline; they are fetched only at the full scale.
    "mnist_train_images": Dataset(
        "mnist/train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        _MNIST_CITATION,
    ),
    "mnist_train_labels": Dataset(
        "mnist/train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
        _MNIST_CITATION,
    ),
}
"""Every file the book can read, by short name."""


class ChecksumError(ValueError):
    """A data file exists but its SHA-256 is not the registered one."""


class DatasetNotFoundError(FileNotFoundError):
    """A data file is in neither the data directory nor the cache, and could not be downloaded."""


def data_dir() -> Path | None:
    """Return ``$DLBOOK_DATA_DIR`` as a path, or ``None`` when it is unset or empty."""
    value = os.environ.get("DLBOOK_DATA_DIR", "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Return the per-user cache folder: ``$DLBOOK_CACHE_DIR``, else the platform's cache."""
    value = os.environ.get("DLBOOK_CACHE_DIR", "").strip()
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache("dlbook"))


def sha256sum(path: str | os.PathLike) -> str:
    """Return the SHA-256 of a file as 64 lowercase hexadecimal digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _how_to_get(entry: Dataset) -> str:
    where = data_dir()
    places = f"$DLBOOK_DATA_DIR/{entry.file}" if where is None else str(where / entry.file)
    return (
        f"download it from {entry.url} and put it at {places} or {cache_dir() / entry.file}; "
        f"its SHA-256 must be {entry.sha256}"
    )


def _verified(path: Path, entry: Dataset) -> Path:
    actual = sha256sum(path)
    if actual != entry.sha256:
        raise ChecksumError(
            f"{path} is corrupted or not the registered file: its SHA-256 is {actual}, "
            f"expected {entry.sha256}. The file was left as it is and not used; replace it: "
            + _how_to_get(entry)
        )
    return path


def fetch(name: str | Dataset, *, download: bool = True) -> Path:
    """Return the verified local path of a registered data file, downloading it if needed.

    Args:
        name: a key of :data:`REGISTRY` (``"bike"``, ``"mnist_test_images"``, ...) or a
            :class:`Dataset`.
        download: whether step 3 (the download) may run.

    Returns:
        The path of a file whose SHA-256 matches the registry.

    Raises:
        KeyError: for an unknown name (the message lists the known ones).
        ChecksumError: if the file found has another checksum (it is left untouched), or a
            download does (nothing is kept).
        DatasetNotFoundError: if the file is nowhere and the download is off or fails.

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    if isinstance(name, Dataset):
        entry = name
    else:
        try:
            entry = REGISTRY[name]
        except KeyError:
            raise KeyError(f"unknown dataset {name!r}; known: {sorted(REGISTRY)}") from None
    root = data_dir()
    if root is not None and (root / entry.file).is_file():
        return _verified(root / entry.file, entry)
    cached = cache_dir() / entry.file
    if cached.is_file():
        return _verified(cached, entry)
    if not download:
        raise DatasetNotFoundError(f"{entry.file} was not found and downloading is off: " + _how_to_get(entry))
    return _download(entry, cached)


def _download(entry: Dataset, target: Path) -> Path:
    import pooch
    import requests

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DatasetNotFoundError(
            f"{entry.file} is not in the data directory or the cache, and the cache folder "
            f"{target.parent} cannot be created to download it into ({err.__class__.__name__}: "
            f"{err}). Set DLBOOK_CACHE_DIR to a writable folder, or " + _how_to_get(entry)
        ) from err
    if not os.access(target.parent, os.W_OK):
        raise DatasetNotFoundError(
            f"{entry.file} is not in the data directory or the cache, and the cache folder "
            f"{target.parent} is not writable. Set DLBOOK_CACHE_DIR to a writable folder, or "
            + _how_to_get(entry)
        )
    try:
        path = pooch.retrieve(
            entry.url,
            known_hash=f"sha256:{entry.sha256}",
            fname=target.name,
            path=target.parent,
            progressbar=True,
        )
    except ValueError as err:  # pooch: hash mismatch; its temporary file is already removed
        raise ChecksumError(
            f"the download of {entry.file} from {entry.url} did not match SHA-256 "
            f"{entry.sha256} and was discarded ({err})"
        ) from err
    except (requests.exceptions.RequestException, OSError) as err:
        raise DatasetNotFoundError(
            f"{entry.file} is not in the data directory or the cache, and downloading it "
            f"failed ({err.__class__.__name__}). To use it offline, " + _how_to_get(entry)
        ) from err
    return Path(path)


# --------------------------------------------------------------------------- loaders


def load_bike_sharing() -> pd.DataFrame:
    """Load the UCI Bike Sharing daily counts, 2011-01-01 to 2012-12-31.

    Returns:
        A DataFrame of shape (730, 16), one row per day in date order (this published copy lacks one
        day of 2011, 2011-01-21): ``dteday``
        (datetime64), ``season``, ``yr`` (0 for 2011, 1 for 2012), ``mnth``, ``holiday``,
        ``weekday`` (0 = Sunday), ``workingday``, ``weathersit`` (int64), ``temp``, ``atemp``,
        ``hum``, ``windspeed`` (float64, normalized to [0, 1]), and the counts ``casual``,
        ``registered`` and ``cnt`` (int64, riders per day).

    Source: Fanaee-T and Gama (2013). Introduced in :doc:`/notebooks/01_three_steps`.
    """
    return pd.read_csv(fetch("bike"), parse_dates=["dteday"])


def load_pokemon_stats() -> pd.DataFrame:
    """Load the base stats of 800 Pokemon (generations 1 to 6, with mega evolutions).

    Returns:
        A DataFrame of shape (800, 12): ``#`` (int64, the Pokedex number, repeated for
        alternate forms), ``Name``, ``Type 1``, ``Type 2`` (str, ``Type 2`` may be missing),
        ``HP``, ``Attack``, ``Defense``, ``Sp. Atk``, ``Sp. Def``, ``Speed``, ``Generation``
        (int64) and ``Legendary`` (bool).

    Introduced in :doc:`/notebooks/07_classification`.
    """
    return pd.read_csv(fetch("pokemon_stats"))


def load_pokemon_go() -> pd.DataFrame:
    """Load 75 Pokemon GO evolutions: the combat power before (``cp``) and after (``cp_new``).

    Returns:
        A DataFrame of shape (75, 27): ``name``, ``species`` (str; Pidgey, Weedle, Caterpie
        or Eevee), ``cp``, ``hp``, ``weight``, ``height`` and the other measurements before
        evolving, the same with the suffix ``_new`` after, and ``notes``.

    Source: OpenIntro's ``pokemon`` data. Introduced in :doc:`/notebooks/06_regression`.
    """
    return pd.read_csv(fetch("pokemon_go"))


def load_covid(split: str = "train") -> pd.DataFrame:
    """Load the COVID-19 survey regression set of the course's first homework.

    Args:
        split: ``"train"`` (2,700 rows with the target) or ``"test"`` (893 rows without it).

    Returns:
        A DataFrame of shape (2700, 95) or (893, 94): ``id``, 40 one-hot state columns, then
        three consecutive days of 18 survey features each (the second and third day's names
        carry the suffixes ``.1`` and ``.2``); the target is the last column,
        ``tested_positive.2`` (percent of tests positive on day 3). All columns are numeric.

    Raises:
        ValueError: for another split.

    Introduced in :doc:`/notebooks/08_training_guide`.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return pd.read_csv(fetch(f"covid_{split}"))


def load_shakespeare() -> str:
    """Load Tiny Shakespeare: 1,115,394 characters of plays, as one ``str``.

    Introduced in :doc:`/notebooks/14_rnn`.
    """
    return fetch("shakespeare").read_text(encoding="utf-8")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Parse an IDX file (plain or gzip-compressed), the format MNIST is published in.

    The header is two zero bytes, a type code (``0x08`` for unsigned bytes), the number of
    dimensions, then each dimension as a big-endian 32-bit integer; the data follow.

    Returns:
        A ``uint8`` array of the stored shape: (N, 28, 28) for images, (N,) for labels.

    Raises:
        ValueError: if the header is not IDX with unsigned bytes, or the data are too short or
            too long for the declared shape.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (header {raw[:4]!r})")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - offset != expected:
        raise ValueError(
            f"{path}: header declares shape {dims} ({expected} bytes), found {len(raw) - offset}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


MNIST_OFFLINE_SPLIT = {"train": (0, 8000), "val": (8000, 9000), "test": (9000, 10000)}
"""Offline MNIST split: positions in a fixed permutation (``numpy.random.default_rng(0)``) of
the 10,000 official test images. The official test set mixes easier (first half) and harder
writers, so a seeded shuffle keeps both in every split."""


def _mnist_full_available() -> bool:
    try:
        fetch("mnist_train_images", download=False)
        fetch("mnist_train_labels", download=False)
    except (DatasetNotFoundError, ChecksumError):
        return False
    return True


def load_mnist(split: str = "train", source: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST digits as images and labels.

    Two sources:

    * ``"offline"``: the 10,000 official test images, split into 8,000 training, 1,000
      validation and 1,000 test images by :data:`MNIST_OFFLINE_SPLIT`.
    * ``"full"``: the 60,000 official training images (the last 5,000 of a seeded shuffle
      are the validation split) and the 10,000 official test images. Downloads 10 MB on
      first use.

    ``"auto"`` (the default) takes ``"full"`` when its files are already present, or when the
    scale is ``"full"`` and the download succeeds; otherwise ``"offline"``.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``.
        source: ``"auto"``, ``"offline"`` or ``"full"``.

    Returns:
        ``(X, y)``: ``X`` of shape (N, 28, 28), dtype ``uint8`` (0 = background, 255 = ink),
        and ``y`` of shape (N,), dtype ``int64`` (digits 0-9).

    Raises:
        ValueError: for an unknown split or source.
        DatasetNotFoundError: if ``source="full"`` and the training files cannot be had.

    Source: LeCun, Cortes and Burges, the MNIST database. Introduced in :doc:`/notebooks/12_cnn`.
    """
    if split not in MNIST_OFFLINE_SPLIT:
        raise ValueError(f"split must be one of {tuple(MNIST_OFFLINE_SPLIT)}, got {split!r}")
    if source not in ("auto", "offline", "full"):
        raise ValueError(f"source must be 'auto', 'offline' or 'full', got {source!r}")
    if source == "auto":
        from .runtime import scale

        source = "full" if _mnist_full_available() else "offline"
        if source == "offline" and scale() == "full":
            try:
                fetch("mnist_train_images"), fetch("mnist_train_labels")
                source = "full"
            except DatasetNotFoundError as err:
                print(f"Full MNIST unavailable ({err}); using the offline split.")
    test_X = read_idx(fetch("mnist_test_images"))
    test_y = read_idx(fetch("mnist_test_labels")).astype(np.int64)
    if source == "offline":
        order = np.random.default_rng(0).permutation(len(test_y))
        lo, hi = MNIST_OFFLINE_SPLIT[split]
        idx = np.sort(order[lo:hi])
        return test_X[idx], test_y[idx]
    if split == "test":
        return test_X, test_y
    X = read_idx(fetch("mnist_train_images"))
    y = read_idx(fetch("mnist_train_labels")).astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    idx = np.sort(order[:55000] if split == "train" else order[55000:])
    return X[idx], y[idx]


def mnist_tensors(split: str = "train", source: str = "auto"):
    """:func:`load_mnist` as PyTorch tensors ready for a network.

    Returns:
        ``(X, y)``: ``X`` of shape (N, 1, 28, 28), ``float32`` in [0, 1]; ``y`` of shape (N,),
        ``int64``. Both on the CPU (move batches to the device as you use them).

    Introduced in :doc:`/notebooks/12_cnn`.
    """
    import torch

    X, y = load_mnist(split, source)
    return torch.tensor(X, dtype=torch.float32).unsqueeze(1) / 255.0, torch.tensor(y)


def lagged_features(series, num_days: int) -> np.ndarray:
    """The previous ``num_days`` values of a series, one row per time step.

    Column ``j - 1`` of row ``t`` holds ``x_j``, the value ``j`` steps before step ``t``
    (``series[t - j]``). The first rows have no value that far back; those entries are NaN,
    so a model can keep only the rows with a complete history
    (``~np.isnan(X).any(axis=1)``). The series is assumed evenly spaced with no gaps (for a
    daily series: one entry per calendar day).

    Args:
        series: a 1-D :class:`pandas.Series` or array-like of numbers, length T (any unit; the
            features keep it).
        num_days: k, how many steps to look back (a positive integer).

    Returns:
        A float64 array of shape (T, k). ``X[t, j - 1] == series[t - j]`` for ``t >= j``, NaN
        otherwise.

    Raises:
        ValueError: if ``num_days`` is not a positive integer, or the series is not 1-D
            (the message gives its shape).

    Source: the notes' linear models on daily views that look 1, 7, 28 or 56 days back.
    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    if isinstance(num_days, bool) or not isinstance(num_days, numbers.Integral) or num_days < 1:
        raise ValueError(f"num_days must be a positive integer, got {num_days!r}")
    values = series.to_numpy() if isinstance(series, pd.Series) else np.asarray(series)
    if values.ndim != 1:
        raise ValueError(f"series must be 1-D (T,), got shape {values.shape}")
    values = values.astype(np.float64)
    T, k = len(values), int(num_days)
    X = np.full((T, k), np.nan)  # (T, k)
    for j in range(1, min(k, T - 1) + 1):
        X[j:, j - 1] = values[:-j]  # day t sees the value of day t - j
    return X
