"""Shared fixtures. Data-dependent tests need the datasets without a network: they run when
DLBOOK_DATA_DIR (or the cache) has the files, and fail if DLBOOK_DATA_DIR is set but a file is
missing. Without DLBOOK_DATA_DIR and without a cached copy they are skipped with a reason."""

from __future__ import annotations

import os

import pytest

from dlbook import data


@pytest.fixture
def need_data():
    """Return a function that resolves a registered file without downloading."""

    def resolve(name: str):
        try:
            return data.fetch(name, download=False)
        except data.DatasetNotFoundError:
            if os.environ.get("DLBOOK_DATA_DIR"):
                raise
            pytest.skip(f"dataset {name!r} not available offline; set DLBOOK_DATA_DIR")

    return resolve


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """An empty per-user cache and no data directory, so nothing is found locally."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("DLBOOK_CACHE_DIR", str(cache))
    monkeypatch.delenv("DLBOOK_DATA_DIR", raising=False)
    return cache


@pytest.fixture(scope="session")
def built_site():
    """The site in _build/html. `make test` builds it just before (DLBOOK_SITE_BUILT=1); a bare
    `pytest -m site` builds it here when it is missing, as `make book` does (the notebooks
    executed in parallel into the cache, then the site build)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    html = root / "_build" / "html"
    if not os.environ.get("DLBOOK_SITE_BUILT") and not (html / "index.html").is_file():
        jb = Path(sys.executable).with_name("jupyter-book")
        for command in ([sys.executable, str(root / ".ci" / "execute.py")],
                        [str(jb), "build", str(root), "--all", "-W", "--keep-going"]):
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                pytest.fail("the book build failed:\n" + result.stdout[-3000:] + result.stderr[-3000:])
    if not (html / "index.html").is_file():
        pytest.fail(f"no site in {html}; run 'make book'")
    return html
