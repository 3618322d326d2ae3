"""No number in a chapter's prose that the chapter's code and outputs do not show.

The checker itself is tested here on small notebooks; the site test runs it on every chapter of
the last build (see tests/prose_numbers.py for the rules).
"""

from __future__ import annotations

import pytest

from notebook_tools import chapter_notebooks, executed_notebook
from prose_numbers import prose_numbers, typed_numbers


def notebook(markdown: str, code: str = "", output: str = "") -> dict:
    cell = {"cell_type": "code", "source": code, "outputs": []}
    if output:
        cell["outputs"].append({"output_type": "stream", "name": "stdout", "text": output})
    return {"cells": [{"cell_type": "markdown", "source": markdown}, cell]}


def test_a_typed_result_is_flagged_and_a_printed_one_is_not():
    nb = notebook("The test accuracy is 0.93 and the loss 0.41.", output="test loss 0.4127\n")
    assert [t.text for t in typed_numbers(nb)] == ["0.93"]


def test_rounding_and_percentages_match_the_printed_value():
    nb = notebook("About 98 % of the digits, a loss of 1.2, and 3,660 parameters.",
                  output="accuracy 0.9817\nloss 1.1835\nparameters: 3660\n")
    assert typed_numbers(nb) == []


def test_numbers_in_code_count_as_shown():
    nb = notebook("We train for 20 epochs with a learning rate of 0.05.",
                  code="num_epochs, lr = 20, 0.05")
    assert typed_numbers(nb) == []


def test_references_years_small_counts_code_and_roles_are_not_results():
    markdown = (
        "As chapter 12 and equation 14 showed, (Goodfellow et al., 2016) two layers of "
        "3 × 3 kernels suffice; `batch_size=64`; {glue:text}`acc_percent` %; "
        "[link](https://example.org/page/55) and {cite}`he2016deep`.\n"
        "```python\nx = 0.77\n```\n"
    )
    assert prose_numbers(markdown) == []


def test_allowed_constants_and_math():
    nb = notebook("MNIST has 60,000 training images of $28 \\times 28$ pixels; $w = 0.37$.")
    assert [t.text for t in typed_numbers(nb)] == ["0.37"]


@pytest.mark.site
@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.stem)
def test_chapter_prose_states_only_numbers_its_cells_show(path, built_site):
    nb = executed_notebook(path)
    assert nb is not None, f"no executed copy of {path.name} in the last build"
    typed = typed_numbers(nb, path.name[:2])
    assert not typed, (
        f"{path.name}: numbers typed into the prose that no cell shows (print or glue them, or "
        f"allow-list a quoted constant in tests/prose_numbers.py):\n"
        + "\n".join(f"  {t}" for t in typed)
    )
