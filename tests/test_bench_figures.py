"""The two code figures of `make bench` (.ci/codeshare.py, .ci/engine_overhead.py): what counts
as a line of code, and that the engine's timing compares loops with identical losses."""

import json
import sys

import pytest

from notebook_tools import ROOT

sys.path.insert(0, str(ROOT / ".ci"))
import codeshare  # noqa: E402
import engine_overhead  # noqa: E402


def test_code_lines_skip_blanks_and_comments_but_count_strings():
    text = 'import torch\n\n# a comment\n    # an indented comment\nx = 1  # trailing comment\n"""doc"""\n   \n'
    assert codeshare.code_lines(text) == 3  # the import, x = 1 and the string
    assert codeshare.code_lines("") == 0


def write_notebook(path, cells):
    nb = {"cells": [{"cell_type": kind, "metadata": {}, "source": source} for kind, source in cells],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))


def test_code_share_counts_code_cells_against_the_package(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "src" / "dlbook").mkdir(parents=True)
    write_notebook(tmp_path / "notebooks" / "01_a.ipynb", [
        ("markdown", "# Title\nprose that is not code"),
        ("code", ["import dlbook\n", "\n", "# set up\n", "x = dlbook.f()\n"]),  # stored as a list of lines
        ("code", "print(x)"),  # or as one string
    ])
    (tmp_path / "src" / "dlbook" / "f.py").write_text('"""Docstring."""\n\n\ndef f():\n    # one\n    return 1\n')
    share = codeshare.code_share(tmp_path)
    assert (share["notebook_lines"], share["package_lines"]) == (3, 3)
    assert share["notebook_share"] == 0.5 and (share["notebooks"], share["modules"]) == (1, 1)
    assert "50.0%" in codeshare.describe(share)


def test_code_share_refuses_a_folder_without_code(tmp_path):
    with pytest.raises(ValueError, match="no notebooks"):
        codeshare.code_share(tmp_path)


def test_engine_overhead_times_loops_with_identical_losses():
    result = engine_overhead.engine_overhead(repeats=1, num_batches=4, batch_size=8, hidden=4)
    assert result["identical_losses"] and result["batches"] == 4
    assert result["hand_cpu_s"] > 0 and result["fit_cpu_s"] > 0
    assert result["fit_over_hand_cpu"] > 0 and result["fit_over_hand_wall"] > 0
    with pytest.raises(ValueError, match="repeats"):
        engine_overhead.engine_overhead(repeats=0)
