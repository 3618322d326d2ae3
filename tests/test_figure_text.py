"""Figure descriptions: built from the figure's own text, stored in and read back from the PNG."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import pytest
from PIL import Image

from dlbook import figure_text


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_description_names_titles_axes_and_legend():
    fig, (a, b) = plt.subplots(1, 2)
    fig.suptitle("Two learning rates")
    a.plot([0, 1], [1, 0], label=r"$\eta$ = 0.1")
    a.legend()
    a.set(title="Loss", xlabel="update", ylabel="loss L")
    b.imshow([[0, 1], [1, 0]])
    text = figure_text.describe(fig)
    assert text.startswith("Figure with 2 panels:")
    assert "“Two learning rates”" in text and "“Loss”" in text
    assert "loss L against update" in text and "legend: η = 0.1" in text
    plt.close(fig)


def test_figure_without_text_is_still_described():
    fig, ax = plt.subplots()
    ax.imshow([[0, 1], [1, 0]])
    assert figure_text.describe(fig) == "Figure: an image."
    fig.set_label("A 2 × 2 checkerboard")
    assert figure_text.describe(fig).startswith("Figure: A 2 × 2 checkerboard.")
    plt.close(fig)


def test_wrapped_printer_writes_the_description_into_a_valid_png():
    import functools

    from IPython.core.pylabtools import print_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    ax.set(xlabel="x (°C)", ylabel="η")
    printer = figure_text._with_description(functools.partial(print_figure, fmt="png"))
    png = printer(fig)
    assert figure_text.read_description(png) == "Figure: η against x (°C)."
    image = Image.open(io.BytesIO(png))
    image.load()  # Pillow verifies the chunk's CRC
    assert image.text["Description"] == "Figure: η against x (°C)."
    assert figure_text.read_description(_png(fig)) is None
    # a Description given by the caller is kept
    png = printer(fig, metadata={"Description": "Own words."})
    assert figure_text.read_description(png) == "Own words."
    plt.close(fig)


def test_not_a_png_raises():
    with pytest.raises(ValueError, match="PNG"):
        figure_text.read_description(b"\xff\xd8\xff")
    with pytest.raises(ValueError, match="not a readable PNG"):
        figure_text.read_description(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)


def test_install_outside_ipython_does_nothing():
    assert figure_text.install() is False


def test_every_inline_figure_of_a_kernel_carries_its_description(tmp_path):
    """In a real kernel, as the book build runs it: the first figure of the session, shown
    with plt.show() before the inline backend had registered its PNG printer, is described too."""
    import base64

    import nbformat
    from nbclient import NotebookClient

    cells = [
        "import matplotlib.pyplot as plt\nfrom dlbook import plotting\nplotting.use_style()",
        "fig, ax = plt.subplots()\nax.plot([0, 1])\nax.set(xlabel='x (m)', ylabel='y (m)')\nplt.show()",
        "fig, ax = plt.subplots()\nax.plot([1, 0])\nax.set(title='Second')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    texts = [figure_text.read_description(base64.b64decode(out["data"]["image/png"]))
             for cell in nb.cells for out in cell.outputs if "image/png" in out.get("data", {})]
    assert texts == ["Figure: y (m) against x (m).", "Figure: “Second”."]
