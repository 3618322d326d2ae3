"""The determinism check of `make bench` (.ci/determinism.py): what it compares and what it
masks. Executing every chapter twice is too slow for `make test`; this checks the comparison on
small notebooks, one executed for real."""

import importlib.util
import sys

import nbformat
import pytest

from notebook_tools import ROOT

spec = importlib.util.spec_from_file_location("determinism", ROOT / ".ci" / "determinism.py")
determinism = importlib.util.module_from_spec(spec)
sys.modules["determinism"] = determinism
spec.loader.exec_module(determinism)


def notebook(*outputs_per_cell):
    nb = nbformat.v4.new_notebook()
    for outputs in outputs_per_cell:
        cell = nbformat.v4.new_code_cell("pass")
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        nb.cells.append(cell)
    return nb


def stdout(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_wall_clock_times_are_masked_but_other_numbers_are_not():
    assert determinism.mask_times("trained in 12.3 s, 45 ms per batch, 2 seconds") == (
        "trained in <time>, <time> per batch, <time>")
    assert determinism.mask_times("loss 0.1234 after 5 epochs, 10 steps") == "loss 0.1234 after 5 epochs, 10 steps"


def test_a_different_number_is_reported_and_progress_bars_are_not():
    first = notebook([stdout("loss 0.25\n"), {"output_type": "stream", "name": "stderr", "text": "10it/s"}],
                     [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                       "data": {"text/plain": "tensor([1., 2.])", "image/png": "AAAA"}}])
    second = notebook([stdout("loss 0.26\n"), {"output_type": "stream", "name": "stderr", "text": "12it/s"}],
                      [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                        "data": {"text/plain": "tensor([1., 2.])", "image/png": "BBBB"}}])
    diff = determinism.compare(determinism.text_outputs(first), determinism.text_outputs(second), "x")
    assert "-[0] loss 0.25" in diff and "+[0] loss 0.26" in diff
    assert not any("tensor" in line or "it/s" in line for line in diff)
    assert determinism.compare(determinism.text_outputs(first), determinism.text_outputs(first), "x") == []


@pytest.mark.parametrize("seeded, repeats", [(True, True), (False, False)])
def test_two_executions_of_a_notebook(tmp_path, seeded, repeats):
    nb = nbformat.v4.new_notebook()
    setup = "import dlbook, torch\n" + ("dlbook.seed(0)\n" if seeded else "")
    nb.cells = [nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell("print(torch.rand(3))")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    runs = [determinism.text_outputs(determinism.execute(path)) for _ in range(2)]
    assert (determinism.compare(*runs, "nb") == []) is repeats
