"""The determinism check of `make bench` (.ci/determinism.py): what it compares and what it
masks. Executing every chapter twice is too slow for `make test`; this checks the comparison on
small notebooks, one executed for real."""

import importlib.util
import sys

import nbformat

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
    assert determinism.mask_times("<pandas.io.formats.style.Styler at 0x7f02224f0dd0>") == (
        "<pandas.io.formats.style.Styler at <address>>")
    assert determinism.mask_times("loss 0.1234 after 5 epochs, 10 steps") == "loss 0.1234 after 5 epochs, 10 steps"


def test_a_different_number_is_reported_and_progress_bars_are_not():
    first = notebook([stdout("loss 0.25\n"), {"output_type": "stream", "name": "stderr", "text": "10it/s"}],
                     [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                       "data": {"text/plain": "tensor([1., 2.])", "image/png": "AAAA"}}])
    second = notebook([stdout("loss 0.26\n"), {"output_type": "stream", "name": "stderr", "text": "12it/s"}],
                      [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                        "data": {"text/plain": "tensor([1., 2.])", "image/png": "BBBB"}}])
    diff = determinism.compare(determinism.text_outputs(first), determinism.text_outputs(second), "x")
    changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-[0] loss 0.25", "+[0] loss 0.26"]  # not the progress bar, not the picture
    assert determinism.compare(determinism.text_outputs(first), determinism.text_outputs(first), "x") == []


def test_two_executions_of_an_unseeded_notebook_differ(tmp_path):
    """Two real executions in fresh kernels: an unseeded random number is caught, the seeded
    one printed beside it is not."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import random\nprint(random.random())"),
                nbformat.v4.new_code_cell("random.seed(0)\nprint(random.random())")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    runs = [determinism.text_outputs(determinism.execute(path)) for _ in range(2)]
    changed = [line[1:4] for line in determinism.compare(*runs, "nb")
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["[0]", "[0]"]


def test_a_cell_tagged_wall_clock_is_left_out():
    first = notebook([stdout("512  289.33  1160.0\n")], [stdout("loss 0.25\n")])
    second = notebook([stdout("512  182.69  1837.0\n")], [stdout("loss 0.25\n")])
    assert determinism.compare(determinism.text_outputs(first), determinism.text_outputs(second), "x")
    for nb in (first, second):
        nb.cells[0].metadata["tags"] = ["wall-clock"]
    assert determinism.compare(determinism.text_outputs(first), determinism.text_outputs(second), "x") == []


def test_a_print_cut_into_chunks_by_the_kernel_reads_as_one_line():
    whole = notebook([stdout("query q^1 = [2.0, 1.0]\nnext\n")])
    cut = notebook([stdout("query q^1 ="), {"output_type": "stream", "name": "stderr", "text": "10%"},
                    stdout(" [2.0, 1.0]\n"), stdout("next\n")])
    assert determinism.text_outputs(cut) == determinism.text_outputs(whole) == [
        "[0] query q^1 = [2.0, 1.0]", "[0] next"]


def test_the_site_gets_adjacent_stream_outputs_joined():
    from notebook_tools import merge_adjacent_streams

    nb = notebook([stdout("a ="), stdout(" 1\n"), {"output_type": "stream", "name": "stderr", "text": "x"},
                   stdout("b\n")], [stdout("c\n")])
    assert merge_adjacent_streams(nb) == 1
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [
        ("stdout", "a = 1\n"), ("stderr", "x"), ("stdout", "b\n")]
    assert merge_adjacent_streams(nb) == 0
