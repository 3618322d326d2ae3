"""One look for every figure of the book: the style, error surfaces, networks, attention maps, image grids.

Call :func:`use_style` in a chapter's setup cell. The drawing helpers take the axes to draw on
(or make one figure and return it, never drawing into a global one), label every axis, and take
the units as arguments so that each chapter says what its numbers measure. The figures that
several chapters draw live here once: the contour plot and 3-D view of an error surface, side
by side (:func:`plot_surface_pairs`), and a grid of images such as digits, reconstructions or
saliency maps (:func:`image_grid`).

Introduced in :doc:`/notebooks/01_three_steps`.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.artist import Artist

__all__ = ["use_style", "SURFACE_CMAP", "PATH_COLORS", "ATTENTION_CMAP", "IMAGE_CMAP", "plot_contour",
           "plot_surface3d", "plot_surface_pairs", "plot_path", "plot_network", "token_label",
           "plot_attention", "image_grid", "text_image", "compose_images",
           "PixelLayer", "text_stamps"]

SURFACE_CMAP = "viridis"
"""Colormap of every error surface in the book (dark = low loss, yellow = high)."""

PATH_COLORS = ("#e4572e", "#ffffff", "#17bebb", "#ffc914", "#76b041", "#d16ba5")
"""Colours for gradient-descent paths drawn on a surface, in order."""

ATTENTION_CMAP = "Blues"
"""Colormap of every attention map in the book (white = 0, dark blue = the largest weight)."""

IMAGE_CMAP = "gray_r"
"""Colormap of grey images (digits): white = 0, black = 1, as ink on paper."""


def use_style() -> None:
    """Set the book's matplotlib defaults: readable sizes, a light grid, constrained layout,
    and the inline backend's PNG at a resolution that stays sharp without bloating pages.
    Under IPython every inline PNG also carries a text description of the figure (titles, axis
    labels, legend; see :mod:`dlbook.figure_text`), which the website uses as its alt text.

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    from . import figure_text

    figure_text.install()
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 4.2),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.constrained_layout.use": True,
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "axes.grid": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "image.cmap": SURFACE_CMAP,
            "lines.linewidth": 1.8,
        }
    )


def _check_grid(W, B, L):
    W, B, L = (np.asarray(a, dtype=np.float64) for a in (W, B, L))
    if not (W.ndim == 2 and W.shape == B.shape == L.shape):
        raise ValueError(
            f"W, B and L must be 2-D of one shape (as loss_surface returns), got {W.shape}, "
            f"{B.shape}, {L.shape}"
        )
    return W, B, L


def plot_contour(
    ax,
    W,
    B,
    L,
    *,
    xlabel: str = "w",
    ylabel: str = "b",
    zlabel: str = "loss L",
    levels: int = 30,
    log: bool = False,
    colorbar: bool = True,
):
    """Draw an error surface as filled contours with thin contour lines and a colour bar.

    Args:
        ax: a 2-D matplotlib Axes.
        W, B, L: the grid and the loss, each of shape (nb, nw), as :func:`dlbook.surfaces.loss_surface`
            returns them.
        xlabel, ylabel, zlabel: axis and colour-bar labels, with units (e.g. ``"b (thousand riders)"``).
        levels: number of colour levels.
        log: space the levels logarithmically (for losses spanning orders of magnitude;
            L must then be positive).
        colorbar: whether to add a colour bar.

    Returns:
        The filled-contour set.

    Raises:
        ValueError: if the shapes differ, or ``log`` is set and L has non-positive values.

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    W, B, L = _check_grid(W, B, L)
    if log:
        if np.any(L <= 0):
            raise ValueError("log=True needs a positive loss everywhere on the grid")
        lv = np.geomspace(L.min(), L.max(), levels)
        norm = mpl.colors.LogNorm(vmin=L.min(), vmax=L.max())
    else:
        lv, norm = levels, None
    filled = ax.contourf(W, B, L, levels=lv, cmap=SURFACE_CMAP, norm=norm)
    ax.contour(W, B, L, levels=filled.levels[::3], colors="k", linewidths=0.4, alpha=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if colorbar:
        cbar = ax.figure.colorbar(filled, ax=ax, label=zlabel)
        if log:  # a few round, evenly spaced (in log scale) ticks instead of every level
            cbar.set_ticks(np.geomspace(L.min(), L.max(), 6))
            cbar.set_ticks([], minor=True)
        cbar.ax.yaxis.set_major_formatter(mpl.ticker.FormatStrFormatter("%.3g"))
    return filled


def plot_surface3d(ax3d, W, B, L, *, xlabel="w", ylabel="b", zlabel="loss L", stride: int = 2):
    """Draw an error surface in 3-D on an Axes created with ``projection="3d"``.

    Args:
        ax3d: a 3-D Axes.
        W, B, L: grid and loss, shape (nb, nw).
        xlabel, ylabel, zlabel: axis labels with units.
        stride: draw every ``stride``-th grid line (≥ 1), to keep the figure light.

    Returns:
        The surface artist.

    Raises:
        ValueError: if the shapes differ or the stride is below 1.

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    W, B, L = _check_grid(W, B, L)
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    surf = ax3d.plot_surface(
        W, B, L, cmap=SURFACE_CMAP, rstride=stride, cstride=stride, linewidth=0, antialiased=False
    )
    ax3d.set_xlabel(xlabel)
    ax3d.set_ylabel(ylabel)
    ax3d.set_zlabel(zlabel)
    return surf


def plot_surface_pairs(grids, *, xlabel: str, ylabel: str, zlabels, log: bool = True,
                       stride: int = 4, view: tuple[float, float] = (30, -60),
                       figsize: tuple[float, float] | None = None, mark_minimum: bool = True):
    """Error surfaces side by side, one column each: the contour plot above, the 3-D view below.

    Args:
        grids: ``{name: (W, B, L)}``, each as :func:`dlbook.surfaces.loss_surface` returns it.
        xlabel, ylabel: parameter axis labels with units, shared by every surface.
        zlabels: ``{name: label}`` of each loss, with its unit (colour bar and vertical axis).
        log: logarithmic colour levels in the contour plots (:func:`plot_contour`).
        stride: grid-line stride of the 3-D views (:func:`plot_surface3d`).
        view: (elevation, azimuth) of the 3-D views, in degrees.
        figsize: figure size in inches; by default 5 wide per surface and 7.4 high.
        mark_minimum: mark the lowest grid point of each surface with a white star.

    Returns:
        ``(fig, axes)``: the figure and a (2, len(grids)) array of Axes, contour plots in row
        0 and 3-D views in row 1, in the order of ``grids``.

    Raises:
        ValueError: if ``grids`` is empty, a zlabel is missing, or as :func:`plot_contour`.

    Introduced in :doc:`/notebooks/01_three_steps`; used again in
    :doc:`/notebooks/03_error_surfaces`.
    """
    import matplotlib.pyplot as plt

    if not grids:
        raise ValueError("grids must hold at least one surface {name: (W, B, L)}")
    missing = [name for name in grids if name not in zlabels]
    if missing:
        raise ValueError(f"zlabels has no label for {missing}")
    n = len(grids)
    fig = plt.figure(figsize=figsize or (5.0 * n, 7.4))
    axes = np.empty((2, n), dtype=object)
    for i, (name, (W, B, L)) in enumerate(grids.items()):
        ax = axes[0, i] = fig.add_subplot(2, n, i + 1)
        plot_contour(ax, W, B, L, xlabel=xlabel, ylabel=ylabel, zlabel=zlabels[name], log=log)
        if mark_minimum:
            k = np.unravel_index(np.argmin(L), np.shape(L))
            ax.plot(np.asarray(W)[k], np.asarray(B)[k], "*", color="w", ms=12, mec="k")
        ax3d = axes[1, i] = fig.add_subplot(2, n, n + i + 1, projection="3d")
        plot_surface3d(ax3d, W, B, L, xlabel=xlabel, ylabel=ylabel, zlabel=zlabels[name], stride=stride)
        ax3d.view_init(elev=view[0], azim=view[1])
    return fig, axes


def plot_path(ax, path, *, color: str = PATH_COLORS[0], label: str | None = None, markersize=3):
    """Draw an optimization path (points joined by lines) with its start and end marked.

    Args:
        ax: a 2-D Axes.
        path: shape (T + 1, 2), the visited (w, b) points (``GDPath.params``).
        color: line colour.
        label: legend label.
        markersize: marker size in points.

    Returns:
        The list of artists drawn: the path line, the start marker, the end marker.

    Raises:
        ValueError: if ``path`` is not of shape (T + 1, 2).

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    path = np.asarray(path, dtype=np.float64)
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        raise ValueError(f"path must have shape (T + 1, 2), got {path.shape}")
    (line,) = ax.plot(path[:, 0], path[:, 1], "o-", color=color, ms=markersize, lw=1.2, label=label)
    (start,) = ax.plot(*path[0], "s", color=color, ms=markersize + 4, mec="k")
    (end,) = ax.plot(*path[-1], "*", color=color, ms=markersize + 8, mec="k")
    return [line, start, end]


def plot_network(ax, layer_sizes, *, node_text=None, edge_text=None, node_colors=None,
                 layer_labels=None, radius: float = 0.22, fontsize: float = 9,
                 layer_gap: float = 2.0):
    """Draw a fully connected network: one circle per unit, one line per connection.

    Layer l is drawn at x = l * layer_gap, its units stacked vertically (1 apart) and centred on
    y = 0, inputs on the left. The axes are switched off (a diagram has no units).

    Args:
        ax: a 2-D Axes.
        layer_sizes: (d_0, d_1, ..., d_L), units per layer (each >= 1), inputs first.
        node_text: ``{(l, i): str}``, text written in unit i of layer l.
        edge_text: ``{(l, i, j): str}``, text on the connection from unit j of layer l - 1 to
            unit i of layer l (l >= 1), written a third of the way from its source.
        node_colors: ``{(l, i): colour}``; default: inputs grey, other units light blue.
        layer_labels: one caption per layer, written below it.
        radius: circle radius in data units (units are 1 apart).
        fontsize: text size in points.
        layer_gap: horizontal distance between layers in data units.

    Returns:
        ``{(l, i): (x, y)}``, the centre of every unit, for further annotation.

    Raises:
        ValueError: for an empty ``layer_sizes`` or a size below 1, or labels of another length.

    Introduced in :doc:`/notebooks/04_sigmoid_relu`.
    """
    sizes = [int(d) for d in layer_sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"layer_sizes must be a non-empty list of positive integers, got {layer_sizes!r}")
    if layer_labels is not None and len(layer_labels) != len(sizes):
        raise ValueError(f"need {len(sizes)} layer labels, got {len(layer_labels)}")
    node_text, edge_text, node_colors = node_text or {}, edge_text or {}, node_colors or {}
    centres = {(l, i): (l * layer_gap, (d - 1) / 2 - i) for l, d in enumerate(sizes) for i in range(d)}
    for l in range(1, len(sizes)):
        for i in range(sizes[l]):
            for j in range(sizes[l - 1]):
                (x0, y0), (x1, y1) = centres[(l - 1, j)], centres[(l, i)]
                ax.plot([x0, x1], [y0, y1], color="0.6", lw=0.8, zorder=1)
                if (l, i, j) in edge_text:
                    xt, yt = x0 + (x1 - x0) / 3, y0 + (y1 - y0) / 3
                    ax.text(xt, yt, edge_text[(l, i, j)], fontsize=fontsize - 1, ha="center",
                            va="center", zorder=3,
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9))
    for (l, i), (x, y) in centres.items():
        color = node_colors.get((l, i), "0.88" if l == 0 else "#cfe3f6")
        ax.add_patch(mpl.patches.Circle((x, y), radius, fc=color, ec="k", lw=0.8, zorder=2))
        if (l, i) in node_text:
            ax.text(x, y, node_text[(l, i)], ha="center", va="center", fontsize=fontsize, zorder=4)
    if layer_labels is not None:
        bottom = -max(sizes) / 2 - 0.1
        for l, label in enumerate(layer_labels):
            ax.text(l * layer_gap, bottom, label, ha="center", va="top", fontsize=fontsize)
    ax.set_xlim(-0.6 * layer_gap, (len(sizes) - 0.4) * layer_gap)
    ax.set_ylim(-max(sizes) / 2 - 0.6, max(sizes) / 2)
    ax.set_aspect("equal")
    ax.axis("off")
    return centres

def text_image(text: str, *, dpi: float = 100, **text_kwargs) -> np.ndarray:
    """Rasterize ``text`` once, as matplotlib would draw it, into an RGBA array.

    Drawing text is the slowest part of many slider frames: Agg renders every glyph anew each
    time. A text that takes a few fixed values (one sample per slider position, say) can be
    rasterized once per value with this function and shown with
    :meth:`matplotlib.figure.Figure.figimage`, whose frames then only copy pixels (several
    texts: :func:`compose_images` and :class:`PixelLayer`, faster still)::

        stamps = {t: text_image(samples[t], dpi=fig.dpi, family="monospace") for t in temperatures}
        body = fig.figimage(stamps[t0], xo=20, yo=100, origin="upper")
        ...                                # in update: body.set_data(stamps[t])

    Args:
        text: the text, possibly several lines.
        dpi: dots per inch of the figure the image will be shown in (``fig.dpi``), so that the
            glyphs have the same size as text drawn there.
        **text_kwargs: properties of :class:`matplotlib.text.Text` (``fontsize``, ``family``,
            ``color``, ``linespacing``, ...).

    Returns:
        A ``uint8`` array of shape (H, W, 4): the text on a transparent background, cropped to
        the text's extent plus one pixel (at least 1 × 1 for an empty text).

    Raises:
        ValueError: if ``text`` is not a string or ``dpi`` is not positive.

    Introduced in :doc:`/notebooks/14_rnn`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    if not (isinstance(dpi, (int, float)) and np.isfinite(dpi) and dpi > 0):
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
    fig = Figure(dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    fig.patch.set_alpha(0.0)
    artist = fig.text(0, 0, text, ha="left", va="bottom", **text_kwargs)
    extent = artist.get_window_extent(canvas.get_renderer())
    width, height = max(1, int(np.ceil(extent.width)) + 2), max(1, int(np.ceil(extent.height)) + 2)
    fig.set_size_inches(width / dpi, height / dpi)
    artist.set_position((1 / width, 1 / height))  # one pixel from the lower-left corner
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def text_stamps(text, strings, renderer=None) -> dict[str, tuple[np.ndarray, int, int]]:
    """Rasterize the strings a :class:`~matplotlib.text.Text` artist will show, where it shows them.

    For a title or a label whose text changes with a slider among a few known strings: each
    string is drawn once with the artist's font and colour (:func:`text_image`) and placed where
    the artist would draw it (its alignment and position, in the figure's current layout).
    Paste them with :func:`compose_images` and :class:`PixelLayer`, and make the artist itself
    invisible (``text.set_color("none")`` keeps the room it takes in the layout)::

        stamps = text_stamps(ax.title, {lr: f"η = {lr}" for lr in lrs}.values())
        ax.title.set_color("none")

    Call it once the layout is final (after ``fig.draw_without_rendering()``). The artist's text
    is restored afterwards.

    Args:
        text: a :class:`~matplotlib.text.Text` on a figure with a canvas, not rotated.
        strings: the strings to rasterize.
        renderer: the figure's renderer (default: ``text.figure.canvas.get_renderer()``).

    Returns:
        ``{string: (pixels, x0, y0)}``: the RGBA image and the figure pixel of its lower-left
        corner, the items :func:`compose_images` takes.

    Raises:
        ValueError: if ``text`` is rotated.

    Introduced in :doc:`/notebooks/03_error_surfaces`.
    """
    if text.get_rotation() % 360:
        raise ValueError(f"text_stamps needs an unrotated text, got a rotation of {text.get_rotation()} degrees")
    fig = text.get_figure(root=True)
    renderer = renderer or fig.canvas.get_renderer()
    original = text.get_text()
    stamps = {}
    try:
        for string in strings:
            text.set_text(string)
            box = text.get_window_extent(renderer)
            pixels = text_image(string, dpi=fig.dpi, fontproperties=text.get_fontproperties(),
                                linespacing=text.get_linespacing(), color=text.get_color())
            stamps[string] = (pixels, int(round(box.x0)) - 1, int(round(box.y0)) - 1)  # text_image's 1-pixel margin
    finally:
        text.set_text(original)
    return stamps


class PixelLayer(Artist):
    """RGBA pixels pasted on a figure at a pixel position, unscaled: a fast ``figimage``.

    :meth:`~matplotlib.figure.Figure.figimage` resamples its image at every draw, even at scale
    one, which costs about 25 ms for a 500 × 400 layer; this artist hands the pixels to the
    renderer as they are (under a millisecond), which is what a slider frame that pastes
    pre-rasterized labels (:func:`text_image`, :func:`compose_images`) needs. The picture is the
    same as ``fig.figimage(pixels, xo=x0, yo=y0, origin="upper")``::

        layer = fig.add_artist(PixelLayer(*compose_images(stamps)))
        ...                              # in update: layer.set_data(*compose_images(other_stamps))

    Args:
        pixels: ``uint8`` RGBA array of shape (H, W, 4), row 0 at the top.
        x0, y0: figure pixel of its lower-left corner (from the figure's lower-left corner).

    Raises:
        ValueError: if ``pixels`` is not a ``uint8`` (H, W, 4) array.

    Introduced in :doc:`/notebooks/02_gradient_descent`.
    """

    def __init__(self, pixels, x0: float = 0, y0: float = 0):
        super().__init__()
        self.set_data(pixels, x0, y0)

    def set_data(self, pixels, x0: float | None = None, y0: float | None = None) -> None:
        """Show ``pixels`` (uint8 RGBA, (H, W, 4), row 0 at the top), moved to (x0, y0) if given."""
        pixels = np.asarray(pixels)
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 4:
            raise ValueError(f"pixels must be a uint8 RGBA array of shape (H, W, 4), got {pixels.dtype} {pixels.shape}")
        self._flipped = np.ascontiguousarray(pixels[::-1])  # the renderer's rows go upwards
        self.pixels = pixels
        if x0 is not None:
            self.x0 = int(round(x0))
        if y0 is not None:
            self.y0 = int(round(y0))
        self.stale = True

    def draw(self, renderer) -> None:
        """Paste the pixels onto the renderer's canvas (called by matplotlib when the figure draws)."""
        if not self.get_visible():
            return
        gc = renderer.new_gc()
        gc.set_alpha(self.get_alpha())
        renderer.draw_image(gc, self.x0, self.y0, self._flipped)
        gc.restore()
        self.stale = False


def compose_images(stamps) -> tuple[np.ndarray, int, int]:
    """Paste several RGBA images (e.g. from :func:`text_image`) into one transparent layer.

    A slider frame that shows many pre-rasterized labels draws fastest as a single layer: each
    image artist costs about a millisecond to draw, so fifty labels as fifty artists cost more
    than the glyphs did. Compose each frame's labels once, ahead of time, and swap the layer in
    the update (:class:`PixelLayer` draws it)::

        layers = {step: compose_images([(text_image(w), x, y) for w, (x, y) in placed[step]])
                  for step in steps}
        layer = fig.add_artist(PixelLayer(*layers[steps[0]]))
        ...                              # in update: layer.set_data(*layers[step])

    Images are blended in order with the "over" operator, so a later image lies on top.

    Args:
        stamps: an iterable of ``(image, left, bottom)``: a ``uint8`` RGBA array of shape
            (H, W, 4) and the figure pixel (from the figure's lower-left corner, as
            ``figimage`` counts) where its lower-left corner goes; positions are rounded.

    Returns:
        ``(layer, x0, y0)``: a ``uint8`` RGBA array (row 0 at the top, for
        ``origin="upper"``) just covering all images, and the pixel of its lower-left corner.

    Raises:
        ValueError: for no images or an image that is not a ``uint8`` (H, W, 4) array.

    Introduced in :doc:`/notebooks/03_error_surfaces`.
    """
    placed = []
    for image, left, bottom in stamps:
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 4:
            raise ValueError(f"each image must be a uint8 RGBA array of shape (H, W, 4), got "
                             f"{image.dtype} {image.shape}")
        placed.append((image, int(round(left)), int(round(bottom))))
    if not placed:
        raise ValueError("compose_images needs at least one image")
    x0 = min(left for _, left, _ in placed)
    y0 = min(bottom for _, _, bottom in placed)
    x1 = max(left + im.shape[1] for im, left, _ in placed)
    y1 = max(bottom + im.shape[0] for im, _, bottom in placed)
    rgb = np.zeros((y1 - y0, x1 - x0, 3))
    alpha = np.zeros((y1 - y0, x1 - x0, 1))
    for image, left, bottom in placed:
        h, w = image.shape[:2]
        rows = slice(y1 - bottom - h, y1 - bottom)  # row 0 is the top
        cols = slice(left - x0, left - x0 + w)
        a = image[..., 3:] / 255.0
        rgb[rows, cols] = image[..., :3] / 255.0 * a + rgb[rows, cols] * (1 - a)  # premultiplied
        alpha[rows, cols] = a + alpha[rows, cols] * (1 - a)
    layer = np.concatenate([np.divide(rgb, alpha, out=np.zeros_like(rgb), where=alpha > 0), alpha], axis=2)
    return np.round(layer * 255).astype(np.uint8), x0, y0


def token_label(token: str) -> str:
    """A visible axis label for a token: a space becomes ␣ and a newline ↵.

    Introduced in :doc:`/notebooks/13_self_attention`.
    """
    return {" ": "\u2423", "\n": "\u21b5", "\t": "\u21e5"}.get(token, token)


def plot_attention(ax, weights, keys, queries, *, xlabel: str = "key", ylabel: str = "query",
                   vmax: float | None = None, annotate: bool = False, colorbar: bool = True,
                   label: str = "attention weight"):
    """Draw attention weights as a heatmap: one row per query, one column per key.

    Args:
        ax: a 2-D Axes.
        weights: array-like of shape (L_q, L_k), weights in [0, 1] (rows usually sum to 1).
        keys, queries: the L_k and L_q token strings for the axes (passed through
            :func:`token_label`).
        xlabel, ylabel: axis labels.
        vmax: top of the colour scale (default: the largest weight).
        annotate: write each weight in its cell (for small maps).
        colorbar: whether to add a colour bar labelled ``label``.

    Returns:
        The image artist.

    Raises:
        ValueError: if the shape does not match the number of keys and queries.

    Introduced in :doc:`/notebooks/13_self_attention`.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape != (len(queries), len(keys)):
        raise ValueError(
            f"weights must have shape (len(queries), len(keys)) = ({len(queries)}, {len(keys)}), "
            f"got {w.shape}"
        )
    vmax = float(w.max()) if vmax is None else vmax
    im = ax.imshow(w, cmap=ATTENTION_CMAP, vmin=0.0, vmax=vmax, aspect="auto",
                   interpolation="nearest")
    ax.set_xticks(range(len(keys)), [token_label(t) for t in keys])
    ax.set_yticks(range(len(queries)), [token_label(t) for t in queries])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.tick_params(length=0)
    if annotate:
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if w[i, j] > 0.6 * vmax else "black")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=label)
    return im


def _as_images(batch) -> np.ndarray:
    """(N, H, W), (N, 1, H, W) or (N, 3, H, W), array or tensor -> (N, H, W) or (N, H, W, 3) floats."""
    if hasattr(batch, "detach"):
        batch = batch.detach().cpu().numpy()
    batch = np.asarray(batch, dtype=np.float64)
    if batch.ndim == 4 and batch.shape[1] == 1:
        return batch[:, 0]
    if batch.ndim == 4 and batch.shape[1] == 3:
        return batch.transpose(0, 2, 3, 1)
    if batch.ndim == 3:
        return batch
    raise ValueError(f"images must have shape (N, H, W), (N, 1, H, W) or (N, 3, H, W), got {batch.shape}")


def _per_row(value, num_rows: int, name: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != num_rows:
            raise ValueError(f"{name} must be one value or one per row ({num_rows}), got {len(value)}")
        return list(value)
    return [value] * num_rows


_IMAGE_SCALES = ("fixed", "auto", "abs", "symmetric")


def _unit_range(image: np.ndarray, scale: str, vmin: float, vmax: float) -> np.ndarray:
    """Grey values mapped to [0, 1] as ``imshow`` maps them for ``scale`` (see image_grid)."""
    if image.ndim == 3:  # RGB: imshow clips floats to [0, 1] and ignores the colour scale
        return np.clip(image, 0.0, 1.0)
    lim = float(np.abs(image).max()) + 1e-12
    lo, hi = {"fixed": (vmin, vmax), "auto": (float(image.min()), float(image.max())),
              "abs": (0.0, lim), "symmetric": (-lim, lim)}[scale]
    return np.clip((image - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(image)


def _image_mosaic(rows, by_rows: bool, *, titles, row_labels, cmaps, scales, vmin, vmax, axes,
                  figsize, suptitle, fontsize):
    """image_grid(..., tiled=True): every image coloured by its row's colormap and scale, then
    placed into one RGBA picture with transparent gaps, drawn by a single ``imshow``."""
    import matplotlib
    import matplotlib.pyplot as plt

    shapes = {image.shape[:2] for row in rows for image in row}
    if len(shapes) != 1:
        raise ValueError(f"tiled needs images of one size, got sizes {sorted(shapes)}")
    (H, W), = shapes
    num_rows, num_cols = len(rows), max(len(r) for r in rows)
    gap_x = max(1, round(0.15 * W))

    def title_of(r, c):
        k = c if by_rows else r * num_cols + c
        if titles is None or (by_rows and r > 0) or k >= len(titles):
            return ""
        return str(titles[k])

    # Room above a row for its titles: a title line is about fontsize points and the image
    # about 1.1 inches high per row of the default figure size, so 0.3 of an image height.
    lines = [max((title_of(r, c).count("\n") + 1 if title_of(r, c) else 0) for c in range(len(row)))
             for r, row in enumerate(rows)]
    gaps_y = [max(1, round(0.15 * H)) + round(0.3 * H * n * fontsize / 8) for n in lines]
    tops = np.cumsum(gaps_y) + H * np.arange(num_rows)  # the first pixel row of each image row
    mosaic = np.zeros((int(tops[-1]) + H, num_cols * (W + gap_x) - gap_x, 4))  # alpha 0 in the gaps
    for r, row in enumerate(rows):
        cmap = matplotlib.colormaps[cmaps[r]] if isinstance(cmaps[r], str) else cmaps[r]
        for c, image in enumerate(row):
            values = _unit_range(image, scales[r], vmin, vmax)
            rgba = np.concatenate([values, np.ones((H, W, 1))], axis=2) if values.ndim == 3 else cmap(values)
            mosaic[tops[r]:tops[r] + H, c * (W + gap_x):c * (W + gap_x) + W] = rgba
    if axes is None:
        fig, ax = plt.subplots(figsize=figsize or (1.1 * num_cols + 0.6, 1.1 * num_rows + 0.4))
    else:
        many = np.asarray(axes, dtype=object).ravel()
        if many.size != 1:
            raise ValueError(f"tiled draws into one Axes, got {many.size}")
        ax = many[0]
        fig = ax.figure
    ax.imshow(mosaic)
    ax.set_axis_off()
    for r, row in enumerate(rows):
        for c in range(len(row)):
            if title_of(r, c):
                ax.text(c * (W + gap_x) + (W - 1) / 2, tops[r] - 1.5, title_of(r, c), ha="center",
                        va="bottom", fontsize=fontsize)
        if row_labels is not None:
            ax.text(-0.5 - gap_x, tops[r] + (H - 1) / 2, row_labels[r], ha="right", va="center",
                    fontsize=fontsize)
    if suptitle:
        fig.suptitle(suptitle, fontsize=fontsize + 2)
    return fig, np.array([[ax]], dtype=object)


def image_grid(images, *, ncols: int | None = None, titles=None, row_labels=None,
               cmap=IMAGE_CMAP, scale="fixed", vmin: float = 0.0, vmax: float = 1.0,
               axes=None, figsize: tuple[float, float] | None = None, suptitle: str | None = None,
               fontsize: float = 8, tiled: bool = False):
    """Draw images in a grid, without ticks: digits, generated samples, reconstructions, maps.

    Args:
        images: one batch of shape (N, H, W), (N, 1, H, W) or (N, 3, H, W) (array or tensor),
            laid out in rows of ``ncols``; or a list of batches, one per row (e.g. inputs,
            then their reconstructions), each with the same number of images.
        ncols: images per row for a single batch (default: the columns of ``axes`` when
            given as a 2-D array, else all in one row).
        titles: one title per column (for a list of rows) or per image (for a single batch).
        row_labels: one label per row, written horizontally to the left of the row.
        cmap: colormap, one for all rows or one per row (grey images by default).
        scale: how grey values map to colours, one for all rows or one per row:
            ``"fixed"`` (from ``vmin`` to ``vmax``; images in [0, 1] by default),
            ``"auto"`` (each image's own range), ``"abs"`` (0 to each image's largest absolute
            value: magnitudes such as saliency) or ``"symmetric"`` (± each image's largest
            absolute value: signed maps, with a diverging colormap).
        vmin, vmax: the range of ``"fixed"``.
        axes: draw into these Axes (an array with at least as many as images) instead of a
            new figure, e.g. one panel of a larger figure.
        figsize: size of a new figure in inches; by default 1.1 per image wide and high.
        suptitle: a title over the figure.
        fontsize: of titles and row labels, in points.
        tiled: draw all images as one picture in a single Axes (the images side by side with
            gaps, titles and row labels as text) instead of one Axes per image. It looks the
            same and is several times faster to draw for large grids (tens of images); the
            images must then all have one size, and ``axes``, if given, must be one Axes.

    Returns:
        ``(fig, axes)``, axes as a 2-D array (rows, columns); with ``tiled``, a 1 × 1 array
        holding the one Axes, whose one image is the RGBA mosaic (alpha 0 in the gaps).

    Raises:
        ValueError: for images of another shape, rows of different lengths, an unknown scale,
            fewer axes than images, or per-row settings of the wrong length; with ``tiled``,
            images of different sizes or more than one Axes.

    Introduced in :doc:`/notebooks/12_cnn`; used for the samples, reconstructions,
    explanations and attacks of :doc:`/notebooks/17_gan`, :doc:`/notebooks/19_autoencoders`,
    :doc:`/notebooks/20_explainability` and :doc:`/notebooks/21_adversarial_attacks`.
    """
    import matplotlib.pyplot as plt

    if isinstance(images, (list, tuple)):
        rows = [_as_images(batch) for batch in images]
        if len({len(r) for r in rows}) > 1:
            raise ValueError(f"every row must hold as many images, got {[len(r) for r in rows]}")
    else:
        batch = _as_images(images)
        if ncols is None:  # the columns of the given axes, else one row
            ncols = np.shape(axes)[-1] if axes is not None and np.ndim(axes) == 2 else len(batch)
        ncols = int(ncols)
        if ncols < 1:
            raise ValueError(f"ncols must be positive, got {ncols}")
        rows = [batch[i:i + ncols] for i in range(0, len(batch), ncols)]
    num_rows, num_cols = len(rows), max(len(r) for r in rows)
    cmaps = _per_row(cmap, num_rows, "cmap")
    scales = _per_row(scale, num_rows, "scale")
    for s in scales:
        if s not in _IMAGE_SCALES:
            raise ValueError(f"scale must be one of {_IMAGE_SCALES}, got {s!r}")
    if tiled:
        return _image_mosaic(rows, isinstance(images, (list, tuple)), titles=titles, row_labels=row_labels,
                             cmaps=cmaps, scales=scales, vmin=vmin, vmax=vmax, axes=axes, figsize=figsize,
                             suptitle=suptitle, fontsize=fontsize)
    if axes is None:
        fig, axes = plt.subplots(num_rows, num_cols, squeeze=False,
                                 figsize=figsize or (1.1 * num_cols + 0.6, 1.1 * num_rows + 0.4))
    else:
        axes = np.asarray(axes, dtype=object)
        if axes.size < num_rows * num_cols:
            raise ValueError(f"need {num_rows * num_cols} axes for the images, got {axes.size}")
        axes = axes.reshape(num_rows, -1)
        fig = axes[0, 0].figure
    for r, row in enumerate(rows):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)  # no frame; a row label can still go on the left
            if c >= len(row):
                ax.set_axis_off()
                continue
            image, s = row[c], scales[r]
            lim = float(np.abs(image).max()) + 1e-12
            lo, hi = {"fixed": (vmin, vmax), "auto": (None, None), "abs": (0.0, lim),
                      "symmetric": (-lim, lim)}[s]
            ax.imshow(image, cmap=cmaps[r], vmin=lo, vmax=hi)
            k = c if isinstance(images, (list, tuple)) else r * num_cols + c
            if titles is not None and (r == 0 or not isinstance(images, (list, tuple))) and k < len(titles):
                ax.set_title(titles[k], fontsize=fontsize)
        if row_labels is not None:
            axes[r, 0].set_ylabel(row_labels[r], rotation=0, ha="right", va="center", fontsize=fontsize)
    if suptitle:
        fig.suptitle(suptitle, fontsize=fontsize + 2)
    return fig, axes
