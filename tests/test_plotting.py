import matplotlib

matplotlib.use("agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from dlbook import plotting, surfaces  # noqa: E402


def grid():
    return surfaces.loss_surface(lambda W, B: (W - 1) ** 2 + B**2 + 0.1, np.linspace(0, 2, 9),
                                 np.linspace(-1, 1, 7))


def test_contour_and_surface_are_labelled():
    W, B, L = grid()
    fig = Figure()
    ax = fig.add_subplot(1, 2, 1)
    plotting.plot_contour(ax, W, B, L, xlabel="w", ylabel="b (units)", zlabel="L (units²)", log=True)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("w", "b (units)")
    assert fig.axes[-1].get_ylabel() == "L (units²)"  # the colour bar
    ax3d = fig.add_subplot(1, 2, 2, projection="3d")
    plotting.plot_surface3d(ax3d, W, B, L, zlabel="L")
    assert ax3d.get_zlabel() == "L"
    artists = plotting.plot_path(ax, np.array([[0.0, 0.5], [1.0, 0.0]]), label="GD")
    assert len(artists) == 3


def test_bad_inputs():
    W, B, L = grid()
    fig = Figure()
    ax = fig.add_subplot()
    with pytest.raises(ValueError, match="one shape"):
        plotting.plot_contour(ax, W, B, L[:-1])
    with pytest.raises(ValueError, match="positive"):
        plotting.plot_contour(ax, W, B, L - 1, log=True)
    with pytest.raises(ValueError, match=r"\(T \+ 1, 2\)"):
        plotting.plot_path(ax, np.zeros((3, 3)))


def test_plot_network_places_every_unit_and_label():
    fig = Figure()
    ax = fig.add_subplot()
    centres = plotting.plot_network(ax, (2, 3, 1), node_text={(0, 0): "x1"}, edge_text={(1, 0, 1): "w"},
                                    layer_labels=["in", "hidden", "out"])
    assert len(centres) == 6 and centres[(2, 0)] == (4.0, 0.0)
    assert len(ax.lines) == 2 * 3 + 3 * 1  # one line per connection
    texts = {t.get_text() for t in ax.texts}
    assert {"x1", "w", "in", "hidden", "out"} <= texts
    with pytest.raises(ValueError, match="positive integers"):
        plotting.plot_network(ax, (2, 0))
    with pytest.raises(ValueError, match="3 layer labels"):
        plotting.plot_network(ax, (1, 1, 1), layer_labels=["a"])

def test_attention_map_is_labelled_with_visible_tokens():
    fig = Figure()
    ax = fig.add_subplot()
    weights = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    im = plotting.plot_attention(ax, weights, keys=["a", " ", "\n"], queries=["q1", "q2"],
                                 annotate=True)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "\u2423", "\u21b5"]
    assert np.array_equal(im.get_array(), weights)
    assert fig.axes[-1].get_ylabel() == "attention weight"
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        plotting.plot_attention(ax, weights, keys=["a", "b"], queries=["q1", "q2"])


def test_surface_pairs_draw_a_contour_and_a_3d_view_per_surface():
    import matplotlib.pyplot as plt

    grids = {"a": grid(), "b": grid()}
    fig, axes = plotting.plot_surface_pairs(grids, xlabel="w (units)", ylabel="b (units)",
                                            zlabels={"a": "A (units²)", "b": "B (units²)"})
    assert axes.shape == (2, 2)
    assert axes[0, 1].get_xlabel() == "w (units)" and axes[1, 0].name == "3d"
    assert axes[1, 1].get_zlabel() == "B (units²)"
    star = axes[0, 0].lines[-1].get_data()  # the lowest grid point: w = 1, b = 0
    assert (star[0][0], star[1][0]) == (1.0, 0.0)
    plt.close(fig)
    with pytest.raises(ValueError, match="zlabels"):
        plotting.plot_surface_pairs(grids, xlabel="w", ylabel="b", zlabels={"a": "A"})


def test_image_grid_layouts_and_scales():
    import matplotlib.pyplot as plt
    import torch

    digits = torch.rand(7, 1, 5, 5)
    fig, axes = plotting.image_grid(digits, ncols=4, titles=[f"y = {k}" for k in range(7)])
    assert axes.shape == (2, 4) and axes[1, 2].get_title() == "y = 6"
    assert not axes[1, 3].axison and axes[0, 0].images[0].get_clim() == (0.0, 1.0)
    plt.close(fig)
    signed = np.linspace(-2, 1, 25).reshape(1, 5, 5)
    fig, axes = plotting.image_grid([digits[:1], signed, signed], row_labels=["x", "map", "abs"],
                                    cmap=["gray_r", "RdBu_r", "magma"], scale=["auto", "symmetric", "abs"])
    assert axes.shape == (3, 1) and axes[1, 0].get_ylabel() == "map"
    assert axes[1, 0].images[0].get_clim() == pytest.approx((-2.0, 2.0))
    assert axes[2, 0].images[0].get_clim() == pytest.approx((0.0, 2.0))
    plt.close(fig)
    fig = Figure()
    panel = fig.subplots(1, 3)
    _, drawn = plotting.image_grid(np.zeros((3, 4, 4)), axes=panel)
    assert drawn.shape == (1, 3) and drawn[0, 0].figure is fig


def test_image_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        plotting.image_grid(np.zeros((2, 2, 4, 4)))
    with pytest.raises(ValueError, match="as many images"):
        plotting.image_grid([np.zeros((2, 4, 4)), np.zeros((3, 4, 4))])
    with pytest.raises(ValueError, match="scale"):
        plotting.image_grid(np.zeros((2, 4, 4)), scale="log")
    with pytest.raises(ValueError, match="axes"):
        plotting.image_grid(np.zeros((3, 4, 4)), axes=Figure().subplots(1, 2))


def test_text_image_looks_like_the_text_drawn_in_place():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    stamp = plotting.text_image("ab\ncd", dpi=100, fontsize=12, family="monospace")
    assert stamp.dtype == np.uint8 and stamp.ndim == 3 and stamp.shape[2] == 4
    assert stamp[..., 3].max() == 255 and stamp[0, 0, 3] == 0  # opaque glyphs, transparent margin
    fig = Figure(dpi=100)
    FigureCanvasAgg(fig)
    fig.patch.set_alpha(0.0)
    fig.text(0.1, 0.1, "ab\ncd", fontsize=12, family="monospace")
    fig.canvas.draw()
    ink = np.asarray(fig.canvas.buffer_rgba())[..., 3] > 0
    rows, cols = np.nonzero(ink)
    ink_stamp = stamp[..., 3] > 0
    r2, c2 = np.nonzero(ink_stamp)
    # the same glyphs: the inked box has the same size, within a pixel of rounding
    assert abs((rows.max() - rows.min()) - (r2.max() - r2.min())) <= 1
    assert abs((cols.max() - cols.min()) - (c2.max() - c2.min())) <= 1
    assert abs(int(ink.sum()) - int(ink_stamp.sum())) <= 0.05 * ink.sum()
    with pytest.raises(ValueError, match="dpi"):
        plotting.text_image("x", dpi=0)
    with pytest.raises(ValueError, match="string"):
        plotting.text_image(3)


def test_compose_images_places_each_image_where_figimage_would():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    red = np.zeros((3, 4, 4), np.uint8)
    red[..., 0], red[..., 3] = 255, 255
    half_blue = np.zeros((2, 2, 4), np.uint8)
    half_blue[..., 2], half_blue[..., 3] = 255, 128
    layer, x0, y0 = plotting.compose_images([(red, 10, 20), (half_blue, 12.4, 19)])
    assert (x0, y0) == (10, 19) and layer.shape == (4, 4, 4) and layer.dtype == np.uint8
    assert (layer[0, :, 3] == 255).all()  # the top row: red only
    assert layer[3, 0, 3] == 0  # below red, left of blue: nothing
    # blue half over opaque red stays opaque, a mix of the two; blue alone keeps its alpha
    assert layer[2, 2, 3] == 255 and layer[2, 2, 0] in (127, 128) and layer[2, 2, 2] in (127, 128)
    assert layer[3, 2, 3] == 128 and layer[3, 2, 2] == 255
    # drawn with figimage at (x0, y0), the layer lands where the separate images would
    fig = Figure(figsize=(0.5, 0.5), dpi=100)
    FigureCanvasAgg(fig)
    fig.figimage(layer, xo=x0, yo=y0, origin="upper")
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    height = pixels.shape[0]
    assert (pixels[height - 23: height - 20, 10:12, :3] == [255, 0, 0]).all()  # red, left of blue
    assert (pixels[height - 23: height - 21, 12:14, :3] == [255, 0, 0]).all()  # red, above blue
    assert pixels[height - 20, 12, 2] == 255 and 100 < pixels[height - 20, 12, 0] < 160  # half blue over white
    with pytest.raises(ValueError, match="at least one"):
        plotting.compose_images([])
    with pytest.raises(ValueError, match="RGBA"):
        plotting.compose_images([(np.zeros((2, 2, 3), np.uint8), 0, 0)])


def test_pixel_layer_draws_what_figimage_draws():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    layer = np.zeros((40, 50, 4), np.uint8)
    layer[5:12, 3:30] = [200, 0, 0, 255]  # an opaque bar near the top
    layer[30:34, 10:20] = [0, 0, 255, 128]  # a half-transparent bar near the bottom
    pictures = []
    for kind in ("figimage", "layer"):
        fig = Figure(figsize=(1.2, 1), dpi=100)
        FigureCanvasAgg(fig)
        if kind == "figimage":
            fig.figimage(layer, xo=30, yo=20, origin="upper")
        else:
            fig.add_artist(plotting.PixelLayer(np.zeros((2, 2, 4), np.uint8))).set_data(layer, 30, 20)
        fig.canvas.draw()
        pictures.append(np.asarray(fig.canvas.buffer_rgba()).copy())
    assert (pictures[0] == pictures[1]).all()
    assert (pictures[1][100 - 20 - 40 + 5, 30 + 3, :3] == [200, 0, 0]).all()  # row 0 of the layer is its top
    with pytest.raises(ValueError, match="RGBA"):
        plotting.PixelLayer(np.zeros((2, 2), np.uint8))


def test_text_stamps_land_where_the_text_is_drawn():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(4, 3), dpi=100)
    FigureCanvasAgg(fig)
    fig.patch.set_alpha(0.0)
    ax = fig.add_subplot()
    ax.axis("off")
    title = ax.set_title("placeholder", fontsize=12)
    fig.draw_without_rendering()
    stamps = plotting.text_stamps(title, ["η = 0.1", "a longer title, η = 0.01"])
    assert title.get_text() == "placeholder"  # restored
    for string, (pixels, x0, y0) in stamps.items():
        title.set_text(string)
        fig.canvas.draw()
        drawn = np.asarray(fig.canvas.buffer_rgba())[..., 3] > 0
        layer, lx, ly = plotting.compose_images([(pixels, x0, y0)])
        pasted = np.zeros_like(drawn)
        height = drawn.shape[0]
        pasted[height - ly - layer.shape[0]: height - ly, lx: lx + layer.shape[1]] = layer[..., 3] > 0
        rows, cols = np.nonzero(drawn)
        r2, c2 = np.nonzero(pasted)
        # the same ink in the same place, within a pixel of rounding
        assert abs(rows.min() - r2.min()) <= 1 and abs(rows.max() - r2.max()) <= 1
        assert abs(cols.min() - c2.min()) <= 1 and abs(cols.max() - c2.max()) <= 1
    title.set_rotation(90)
    with pytest.raises(ValueError, match="rotation"):
        plotting.text_stamps(title, ["x"])


def test_image_grid_tiled_is_one_picture_with_the_same_colours():
    import matplotlib
    import matplotlib.pyplot as plt

    digits = np.random.default_rng(0).random((7, 5, 5))
    fig, axes = plotting.image_grid(digits, ncols=4, tiled=True, titles=[f"y = {k}" for k in range(7)],
                                    row_labels=["a", "b"])
    (ax,) = axes.ravel()
    mosaic = ax.images[0].get_array()
    # 5-pixel images, gaps of 1 pixel, and 2 more above each row for its titles
    assert len(fig.axes) == 1 and mosaic.shape == (2 * (3 + 5), 4 * 5 + 3, 4)
    gray = matplotlib.colormaps[plotting.IMAGE_CMAP]
    np.testing.assert_allclose(mosaic[3:8, 0:5], gray(digits[0]))
    np.testing.assert_allclose(mosaic[11:16, 6:11], gray(digits[5]))  # row 2, column 2
    assert mosaic[3:8, 5, 3].max() == 0 and mosaic[11:16, 18:23, 3].max() == 0  # a gap; the empty cell
    assert {t.get_text() for t in ax.texts} >= {"y = 0", "y = 6", "a", "b"}
    plt.close(fig)
    signed = np.linspace(-2, 1, 25).reshape(1, 5, 5)  # per-row colormaps and scales as without tiled
    fig, axes = plotting.image_grid([signed, signed], tiled=True, cmap=["RdBu_r", "magma"],
                                    scale=["symmetric", "abs"])
    mosaic = axes[0, 0].images[0].get_array()
    lim = 2 + 1e-12  # the largest absolute value, as image_grid takes it
    np.testing.assert_allclose(mosaic[1:6, :], matplotlib.colormaps["RdBu_r"]((signed[0] + lim) / (2 * lim)))
    np.testing.assert_allclose(mosaic[7:12, :], matplotlib.colormaps["magma"](np.clip(signed[0] / lim, 0, 1)))
    plt.close(fig)
    with pytest.raises(ValueError, match="one size"):
        plotting.image_grid([np.zeros((1, 4, 4)), np.zeros((1, 5, 5))], tiled=True)
    with pytest.raises(ValueError, match="one Axes"):
        plotting.image_grid(np.zeros((3, 4, 4)), tiled=True, axes=Figure().subplots(1, 3))
