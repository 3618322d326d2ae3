"""The parallel execution of `make book` (.ci/execute.py): what it caches is what the site build
looks up, and a failing notebook is reported with its traceback and not cached."""

from __future__ import annotations

import sys

import nbformat
import pytest

from notebook_tools import ROOT

sys.path.insert(0, str(ROOT / ".ci"))
import execute  # noqa: E402


def write_notebook(path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_executes_in_parallel_into_the_cache_myst_nb_reads(tmp_path):
    from jupyter_cache import get_cache

    good = write_notebook(tmp_path / "01_good.ipynb", "import os\nprint(os.getcwd())", "6 * 7")
    bad = write_notebook(tmp_path / "02_bad.ipynb", "x = 1", "raise ValueError('the answer is not 41')")
    lines = []
    result = execute.execute_notebooks([good, bad], cache_dir=tmp_path / "cache", jobs=2,
                                       log=lines.append)
    assert result["jobs"] == 2 and set(result["seconds"]) == {"01_good", "02_bad"}
    # the failure carries the traceback, and the log shows it
    assert list(result["failed"]) == ["02_bad"]
    assert "the answer is not 41" in result["failed"]["02_bad"]
    assert any("FAILED 02_bad" in line and "the answer is not 41" in line for line in lines)

    cache = get_cache(str(tmp_path / "cache"))
    # the good notebook is found the way myst-nb's cache mode looks it up, with its outputs,
    # executed in its own folder
    _, merged = cache.merge_match_into_notebook(nbformat.read(good, as_version=4))
    assert merged.cells[0].outputs[0]["text"].strip() == str(tmp_path)
    assert merged.cells[1].outputs[0]["data"]["text/plain"] == "42"
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nbformat.read(bad, as_version=4))
    assert not cache.list_project_records()

    # a second run skips what is cached (and starts no kernel for it)
    again = execute.execute_notebooks([good], cache_dir=tmp_path / "cache", jobs=2, log=lines.append)
    assert again["skipped"] == ["01_good"] and not again["seconds"] and not again["failed"]


def test_default_jobs_is_one_per_usable_core():
    assert 1 <= execute.default_jobs() <= (__import__("os").cpu_count() or 1)
