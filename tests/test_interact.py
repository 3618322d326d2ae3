import base64
import io
import json
import re

import matplotlib

matplotlib.use("agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from dlbook import interact as ix  # noqa: E402


def make_draw(blit=True, calls=None):
    def draw(fig):
        ax = fig.add_subplot()
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        (line,) = ax.plot([], [], "o-")
        title = ax.set_title("")

        def update(a, b):
            if calls is not None:
                calls.append((a, b))
            line.set_data([0, a], [0, b])
            title.set_text(f"a={a}, b={b}")
            return [line, title] if blit else None

        return update

    return draw


def test_frame_grid_count_and_row_major_order():
    frames = ix.frame_grid({"a": [1, 2, 3], "b": [0.1, 0.2]})
    assert len(frames) == 6
    assert frames == [{"a": 1, "b": 0.1}, {"a": 1, "b": 0.2}, {"a": 2, "b": 0.1},
                      {"a": 2, "b": 0.2}, {"a": 3, "b": 0.1}, {"a": 3, "b": 0.2}]


def test_frame_grid_cap():
    assert len(ix.frame_grid({"a": range(8), "b": range(8)}, max_frames=64)) == 64
    with pytest.raises(ValueError, match=r"9 a x 8 b values make 72 frames, more than max_frames=64"):
        ix.frame_grid({"a": range(9), "b": range(8)}, max_frames=64)


@pytest.mark.parametrize(
    "params, match",
    [
        ({}, "at least one slider"),
        ({"a": []}, "empty list"),
        ({"a": [1, "x"]}, "not a finite number: 'x'"),
        ({"a": [1, None]}, "not a finite number"),
        ({"a": [True, False]}, "not a finite number"),
        ({"a": [1.0, float("nan")]}, "not a finite number"),
        ({"a": "123"}, "list of numbers"),
        ({"a": 5}, "list of numbers"),
        ({"a": [1, 1]}, "repeats"),
    ],
)
def test_bad_arguments_raise_value_errors(params, match):
    with pytest.raises(ValueError, match=match):
        ix.frame_grid(params)


def test_interact_validates_everything():
    with pytest.raises(ValueError, match="initial"):
        ix.interact(make_draw(), a=[1, 2], b=[3], initial={"a": 5})
    with pytest.raises(ValueError, match="unknown sliders"):
        ix.interact(make_draw(), a=[1, 2], b=[3], labels={"c": "γ"})
    with pytest.raises(ValueError, match="must return the function"):
        ix.interact(lambda fig: None, a=[1, 2])
    with pytest.raises(ValueError, match="max_frames"):
        ix.interact(make_draw(), a=[1, 2, 3], b=[4, 5], max_frames=5)


def decode(uri):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


def test_mime_bundle_carries_live_and_static_views():
    calls = []
    fig = ix.interact(make_draw(calls=calls), a=[1, 5, 9], b=[2, 8], labels={"a": "α"},
                      initial={"a": 5, "b": 8})
    assert calls[0] == (5, 8)  # the first render shows the initial values
    bundle = fig._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert html.count('type="range"') == 2
    assert "α = 5" in html and "b = 8" in html  # labels with current values
    assert "http" not in html  # no CDN, no external file
    data = json.loads(re.search(r'class="dlbook-slider-data">(.*?)</script>', html).group(1))
    assert data["labels"] == ["α", "b"] and data["values"] == [["1", "5", "9"], ["2", "8"]]
    assert len(data["frames"]) == 6
    images = [decode(uri) for uri in data["frames"]]
    assert len({img.tobytes() for img in images}) == 6  # every frame differs
    # row-major: frame 3 is (a=5, b=8), the initial one, and the <img> starts there
    assert re.search(r'<img class="dlbook-slider-frame" src="([^"]+)"', html).group(1) == data["frames"][3]


def test_blitting_gives_the_same_pictures_as_full_redraws():
    blit = ix.interact(make_draw(blit=True), a=[1, 9], b=[2, 8])
    full = ix.interact(make_draw(blit=False), a=[1, 9], b=[2, 8])
    for a_b in ix.frame_grid({"a": [1, 9], "b": [2, 8]}):
        diff = np.abs(np.asarray(blit._rgb(a_b), dtype=int) - np.asarray(full._rgb(a_b), dtype=int))
        assert diff.mean() < 1.0  # anti-aliasing may differ by a hair


def test_live_update_redraws_in_place():
    fig = ix.interact(make_draw(), a=[1, 5, 9], b=[2, 8], labels={"a": "η"})
    before = fig.image.value
    fig.sliders["a"].value = 9  # what a reader's drag does
    assert fig.values == {"a": 9, "b": 2}
    assert fig.image.value != before
    assert fig.children[0].children[0].value == "η = 9"
    with pytest.raises(ValueError, match="not one of its values"):
        fig.update(a=4)
    assert fig.measure_latency(repeats=3) > 0
    assert any(r["sliders"] == ["a", "b"] for r in ix.latency_report(repeats=2))


def test_format_value():
    assert ix.format_value(3) == "3"
    assert ix.format_value(np.int64(7)) == "7"
    assert ix.format_value(0.001) == "0.001"
    assert ix.format_value(1 / 3) == "0.3333"


def test_executing_in_a_kernel_yields_a_live_widget_view(tmp_path):
    """Run a cell in a real Jupyter kernel (as the book build does) and inspect its output."""
    import nbformat
    from nbclient import NotebookClient

    code = (
        "from dlbook.interact import interact\n"
        "def draw(fig):\n"
        "    ax = fig.add_subplot()\n"
        "    (line,) = ax.plot([0, 1], [0, 1])\n"
        "    def update(slope):\n"
        "        line.set_ydata([0, slope])\n"
        "        return [line]\n"
        "    return update\n"
        "interact(draw, slope=[0.5, 1.0, 2.0], labels={'slope': 'a'})"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    (out,) = nb.cells[0].outputs
    assert out["output_type"] == "execute_result"
    view = out["data"]["application/vnd.jupyter.widget-view+json"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert state[view["model_id"]]["model_name"] == "VBoxModel"
    kinds = {s["model_name"] for s in state.values()}
    assert {"SelectionSliderModel", "ImageModel", "LabelModel"} <= kinds
    assert 'class="dlbook-slider"' in out["data"]["text/html"]
    assert "a = 0.5" in out["data"]["text/html"]


def test_layout_is_solved_once_and_kept_for_every_frame():
    # constrained layout (the book's style) would re-solve the layout at every full redraw
    def draw(fig):
        ax = fig.add_subplot()
        ax.set_xlabel("x (unit)")

        def update(a):
            ax.set_title("a" * int(a))  # a longer title would move the axes down
            return None

        return update

    with matplotlib.rc_context({"figure.constrained_layout.use": True}):
        fig = ix.interact(draw, a=[1, 40], figsize=(4, 3), dpi=50)
    assert type(fig.figure.get_layout_engine()).__name__ == "PlaceHolderLayoutEngine"
    first = fig.figure.axes[0].get_position().bounds
    fig.update(a=40)
    fig.update(a=1)
    assert fig.figure.axes[0].get_position().bounds == first


@pytest.mark.parametrize("label", ["<!--<script>", "</script><b>x</b>", "a &amp; b -->", "x<\\/y"])
def test_labels_cannot_break_the_static_slider_script(label):
    html = ix.interact(make_draw(), a=[1, 9], b=[2, 8], labels={"a": label}).static_html()
    payload = re.search(r'class="dlbook-slider-data">(.*?)</script>', html, re.S).group(1)
    assert not set(payload) & set("<>&"), payload  # no markup the HTML parser could act on
    assert json.loads(payload)["labels"] == [label, "b"]  # the label comes back unchanged
    assert html.count("<script") == 2 and html.count("</script>") == 2


def test_a_slider_over_named_choices_shows_the_name():
    calls = []

    def draw(fig):
        ax = fig.add_subplot()
        ax.set(xlim=(-10, 10), ylim=(-10, 10))
        (point,) = ax.plot([], [], "o")

        def update(start, centred):
            calls.append((start, centred))
            point.set_data([start[0]], [start[1] + (1 if centred else 0)])
            return [point]

        return update

    starts = {"(−6, −6)": (-6, -6), "(0, −8)": (0, -8), "(−4, 6)": (-4, 6)}
    fig = ix.interact(draw, start=starts, centred={"no": False, "yes": True},
                      labels={"centred": "centred"}, initial={"start": "(0, −8)"})
    assert calls[0] == ((0, -8), False)  # update receives the values, the initial one by name
    html = fig._repr_mimebundle_()["text/html"]
    assert "start = (0, −8)" in html and "centred = no" in html
    data = json.loads(re.search(r'class="dlbook-slider-data">(.*?)</script>', html).group(1))
    assert data["values"] == [list(starts), ["no", "yes"]]
    assert len(data["frames"]) == 6
    fig.sliders["centred"].value = True  # the live slider
    assert fig.values == {"start": (0, -8), "centred": True}
    assert [row.children[0].value for row in fig.children[:2]] == ["start = (0, −8)", "centred = yes"]
    assert [label for label, _ in fig.sliders["start"].options] == list(starts)
    with pytest.raises(ValueError, match="same value"):
        ix.interact(draw, start={"a": 1, "b": 1}, centred=[0, 1])
    with pytest.raises(ValueError, match="non-empty name"):
        ix.interact(draw, start={"": 1, "b": 2}, centred=[0, 1])


def test_png_bytes_round_trips_the_canvas_and_matches_the_live_image():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(ix.png_bytes(rgba))))
    assert decoded.shape == (7, 5, 3) and (decoded == rgba[..., :3]).all()
    fig = ix.interact(make_draw(), a=[1, 9], b=[2, 8])
    fig.sliders["a"].value = 9  # a live update
    live = np.asarray(Image.open(io.BytesIO(fig.image.value)).convert("RGB"))
    assert (live == np.asarray(fig._rgb(fig.values))).all()
    with pytest.raises(ValueError, match="RGBA"):
        ix.png_bytes(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="RGBA"):
        ix.png_bytes(np.zeros((4, 4, 4), np.float32))
