"""Slider figures that work in a live kernel *and* on the static website, from one call.

Why this exists
---------------
Plain ipywidgets need a running kernel: on a static page built by Jupyter Book the controls
are drawn but nothing happens when they move. A reader of the website should still be able to
move a learning-rate slider and watch the gradient-descent path change.

Design
------
:func:`interact` returns a :class:`SliderFigure`, an ipywidgets ``VBox``. Displaying it produces
**one output that carries two representations**:

* ``application/vnd.jupyter.widget-view+json``: the live view. One labelled
  :class:`ipywidgets.SelectionSlider` per parameter and an :class:`ipywidgets.Image` that shows
  the figure. Moving a slider calls the chapter's ``update`` function and swaps the image's
  bytes in place: no flicker, no pile of figures, no stale output (the figure is a
  :class:`matplotlib.figure.Figure` that pyplot never sees, so the inline backend never prints
  it a second time).
* ``text/html``: the static view. When the output is displayed, the figure is rendered for
  **every combination** of the slider values (row-major: the last parameter varies fastest)
  and embedded as base64 images with native ``<input type="range">`` controls and a few lines
  of JavaScript that swap the image. No kernel, no CDN, no external file: it works offline.
  The number of frames is capped (``max_frames``) because each adds to the page's weight.

Jupyter front ends rank the widget view first, so a live notebook shows the live view. The
book's ``_config.yml`` ranks ``text/html`` above the widget view for the HTML builder
(``nb_mime_priority_overrides``), so the website shows the static view. Frames rendered for the
static view are cached, so after the first display the live sliders answer instantly as well.

Drawing
-------
The chapter provides ``draw(fig)``, which draws the parts that never change (an error
surface, axes, labels) and returns ``update(**values)``, which changes what the sliders move,
as with :class:`matplotlib.animation.FuncAnimation`. If ``update`` returns the artists it
changed, only those are redrawn over a cached background (blitting: a contour plot is
rasterized once, not at every slider step); if it returns ``None`` the whole figure is redrawn.
The figure's layout is computed for the first frame and kept for the others.

Both views label each slider with the parameter and its value (``η = 0.01``) and work from the
keyboard (arrow keys on a focused slider). A slider over named choices (a mapping from names to
values, e.g. ``start={"(−6, −6)": (-6, -6), "(0, −8)": (0, -8)}``) shows the chosen name
(``start = (0, −8)``) and passes its value to ``update``.

Introduced in :doc:`/notebooks/01_three_steps`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
import numbers
import time
import weakref
from collections.abc import Callable, Hashable, Mapping, Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

__all__ = ["interact", "SliderFigure", "frame_grid", "format_value", "DEFAULT_MAX_FRAMES",
           "latency_report", "png_bytes"]

DEFAULT_MAX_FRAMES = 64
"""Default cap on static frames per figure (at about 20-40 kB each, under 3 MB)."""

_LIVE: weakref.WeakSet = weakref.WeakSet()


def png_bytes(rgba: np.ndarray) -> bytes:
    """Encode an RGBA canvas buffer as an RGB PNG: the live view's format.

    The alpha channel is dropped (a figure canvas is opaque) and Pillow writes the PNG at its
    fastest compression level (1), which for a plot's large flat areas is nearly as small as
    its default level in a fraction of the time.

    Args:
        rgba: ``uint8`` array of shape (H, W, 4), e.g. ``np.asarray(canvas.buffer_rgba())``.

    Returns:
        The bytes of a PNG file (8-bit RGB).

    Raises:
        ValueError: if ``rgba`` is not a non-empty ``uint8`` (H, W, 4) array.
    """
    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4 or 0 in rgba.shape:
        raise ValueError(f"png_bytes needs a non-empty uint8 RGBA array (H, W, 4), got {rgba.dtype} {rgba.shape}")
    out = io.BytesIO()
    Image.fromarray(rgba).convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()


def format_value(value) -> str:
    """Format a slider value for its label: integers as they are, floats to 4 significant digits."""
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return f"{float(value):.4g}"


def _check_choices(name: str, choices: Mapping) -> list:
    """The values of a slider over named choices (name → value), checked."""
    if not choices:
        raise ValueError(f"slider {name!r} has no choices")
    for key, value in choices.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"slider {name!r}: each choice needs a non-empty name (a string), got {key!r}")
        if not isinstance(value, Hashable):
            raise ValueError(f"slider {name!r}: the value of choice {key!r} must be hashable (a number, a "
                             f"string, a tuple), got {type(value).__name__}")
    values = list(choices.values())
    if len(set(values)) != len(values):
        raise ValueError(f"slider {name!r}: two choices have the same value: {dict(choices)!r}")
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _check_params(params: Mapping[str, Sequence]) -> dict[str, list]:
    if not params:
        raise ValueError("interact needs at least one slider, e.g. interact(draw, lr=[0.01, 0.1])")
    checked = {}
    for name, values in params.items():
        if isinstance(values, Mapping):
            checked[name] = _check_choices(name, values)
            continue
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise ValueError(
                f"slider {name!r} needs a list of numbers or a mapping from names to values, "
                f"got {type(values).__name__} {values!r}"
            )
        values = list(values)
        if not values:
            raise ValueError(f"slider {name!r} has an empty list of values")
        for v in values:
            ok = isinstance(v, numbers.Real) and not isinstance(v, bool)
            if not ok or not math.isfinite(float(v)):
                raise ValueError(
                    f"slider {name!r} has a value that is not a finite number: {v!r} "
                    f"(all values: {values!r})"
                )
        if len(set(values)) != len(values):
            raise ValueError(f"slider {name!r} repeats a value: {values!r}")
        checked[name] = [v.item() if isinstance(v, np.generic) else v for v in values]
    return checked


def frame_grid(params: Mapping[str, Sequence], max_frames: int = DEFAULT_MAX_FRAMES) -> list[dict]:
    """List every combination of slider values, in the order the static view stores frames.

    The order is row-major: the first parameter varies slowest, the last fastest, so the frame
    of positions (i_1, ..., i_k) is at index ((i_1 · n_2 + i_2) · n_3 + i_3) ...

    Args:
        params: parameter name → list of finite numbers (at least one each, no repeats), or a
            mapping from choice names to distinct hashable values (named choices).
        max_frames: the most combinations allowed (≥ 1).

    Returns:
        A list of ``{name: value}`` dicts, of length ∏ len(values).

    Raises:
        ValueError: for no parameters, an empty or non-numeric value list, repeated values, or
            more combinations than ``max_frames`` (the message gives the count and the cap).

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    checked = _check_params(params)
    if not (isinstance(max_frames, numbers.Integral) and max_frames >= 1):
        raise ValueError(f"max_frames must be a positive integer, got {max_frames!r}")
    sizes = [len(v) for v in checked.values()]
    count = math.prod(sizes)
    if count > max_frames:
        shape = " x ".join(f"{n} {name}" for name, n in zip(checked, sizes))
        raise ValueError(
            f"{shape} values make {count} frames, more than max_frames={max_frames}; use "
            "fewer values or raise max_frames (each frame adds about 30 kB to the page)"
        )
    names = list(checked)
    return [dict(zip(names, combo)) for combo in itertools.product(*checked.values())]


class SliderFigure(widgets.VBox):
    """A figure with sliders, live in a kernel and pre-rendered for the static site.

    Create it with :func:`interact`. Attributes: ``params`` (name → values), ``choices``
    (name → the text shown for each value: its name for named choices, else the formatted
    number), ``labels`` (name → display name), ``values`` (the current values), ``sliders``
    (name → widget), ``image`` (the :class:`ipywidgets.Image` showing the figure).
    """

    def __init__(self, draw, params, *, labels=None, initial=None, figsize=(6.4, 4.2), dpi=100,
                 max_frames=DEFAULT_MAX_FRAMES, alt=""):
        if not callable(draw):
            raise ValueError(f"draw must be a function draw(fig) -> update, got {draw!r}")
        self._frames_order = frame_grid(params, max_frames)  # validates params and the cap
        self.params = _check_params(params)
        self.choices = {name: list(params[name]) if isinstance(params[name], Mapping)
                        else [format_value(v) for v in vals] for name, vals in self.params.items()}
        labels = dict(labels or {})
        initial = dict(initial or {})
        for kind, given in (("labels", labels), ("initial", initial)):
            unknown = set(given) - set(self.params)
            if unknown:
                raise ValueError(f"{kind} names unknown sliders {sorted(unknown)}; sliders: {list(self.params)}")
        for name, v in list(initial.items()):
            if isinstance(params[name], Mapping) and isinstance(v, str) and v in params[name]:
                initial[name] = params[name][v]  # a named choice may be given by its name
            elif v not in self.params[name]:
                raise ValueError(f"initial {name}={v!r} is not one of its values {self.params[name]}")
        self.labels = {name: labels.get(name, name) for name in self.params}
        self.values = {name: initial.get(name, vals[0]) for name, vals in self.params.items()}
        self.alt = alt

        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self._update = draw(self.figure)
        if not callable(self._update):
            raise ValueError("draw(fig) must return the function update(**values) that moves the figure")
        self._background = None
        self._blit = None  # decided on the first render
        self._cache: dict[tuple, bytes] = {}  # live view: PNG bytes per frame
        self._palette: dict[tuple, bytes] = {}  # static view: palette PNG bytes per frame

        self.image = widgets.Image(value=self._render_png(self.values), format="png")
        # The layout (constrained layout of use_style) is computed on the first frame and then
        # kept: re-solving it at every slider step would cost more than drawing the frame, and a
        # figure whose axes do not jump between frames reads better.
        if self.figure.get_layout_engine() is not None:
            self.figure.set_layout_engine("none")
        self.sliders = {}
        self._captions = {}
        rows = []
        for name, vals in self.params.items():
            caption = widgets.Label(self._caption(name, self.values[name]))
            slider = widgets.SelectionSlider(
                options=list(zip(self.choices[name], vals)),
                value=self.values[name],
                readout=False,
                continuous_update=True,
                description="",
                layout=widgets.Layout(width="320px"),
            )
            slider.observe(self._on_change, names="value")
            self.sliders[name], self._captions[name] = slider, caption
            rows.append(widgets.HBox([caption, slider]))
        super().__init__(rows + [self.image])
        _LIVE.add(self)

    # ----------------------------------------------------------------- rendering
    def _caption(self, name, value) -> str:
        return f"{self.labels[name]} = {self.choices[name][self.params[name].index(value)]}"

    def _key(self, values) -> tuple:
        return tuple(values[name] for name in self.params)

    def _rgba(self, values) -> np.ndarray:
        """Call update and rasterize the figure (blitting over a cached background if possible).

        Returns the canvas buffer, (H, W, 4) ``uint8``: a view, valid until the next render."""
        canvas = self.figure.canvas
        artists = self._update(**values)
        if self._blit is None:
            self._blit = artists is not None
            if self._blit:
                for artist in artists:
                    artist.set_animated(True)
                canvas.draw()  # background without the moving artists
                self._background = canvas.copy_from_bbox(self.figure.bbox)
        if self._blit:
            if artists is None:
                raise ValueError("update returned None after returning artists once; "
                                 "return the changed artists every time")
            canvas.restore_region(self._background)
            for artist in artists:
                artist.set_animated(True)
                self.figure.draw_artist(artist)
        else:
            canvas.draw()
        return np.asarray(canvas.buffer_rgba())

    def _rgb(self, values) -> Image.Image:
        return Image.fromarray(self._rgba(values)).convert("RGB")

    def _render_png(self, values) -> bytes:
        key = self._key(values)
        if key not in self._cache:
            self._cache[key] = png_bytes(self._rgba(values))
        return self._cache[key]

    def update(self, **values) -> None:
        """Move the figure to ``values`` (the callback the live sliders call)."""
        merged = {**self.values, **values}
        for name, v in merged.items():
            if name not in self.params:
                raise ValueError(f"unknown slider {name!r}; sliders: {list(self.params)}")
            if v not in self.params[name]:
                raise ValueError(f"{name}={v!r} is not one of its values {self.params[name]}")
        self.values = merged
        for name, v in merged.items():
            self._captions[name].value = self._caption(name, v)
        self.image.value = self._render_png(merged)

    def _on_change(self, change) -> None:
        name = next(n for n, s in self.sliders.items() if s is change["owner"])
        self.update(**{name: change["new"]})

    def _latency_samples(self, repeats: int) -> tuple[list[float], list[float]]:
        """Milliseconds of ``repeats`` uncached updates: (wall-clock times, CPU times of this process)."""
        combos = self._frames_order
        wall, cpu = [], []
        for i in range(repeats):
            values = combos[(i * 7 + 1) % len(combos)]
            start, start_cpu = time.perf_counter(), time.process_time()
            png_bytes(self._rgba(values))
            wall.append(1000 * (time.perf_counter() - start))
            cpu.append(1000 * (time.process_time() - start_cpu))
        self._rgba(self.values)  # leave the figure where the sliders are
        return wall, cpu

    def measure_latency(self, repeats: int = 15) -> float:
        """Median milliseconds from an ``update`` call to new PNG bytes, bypassing the cache.

        Cycles through distinct frames, as a reader dragging a slider would. Used by ``make bench``.
        """
        return float(np.median(self._latency_samples(repeats)[0]))

    # ----------------------------------------------------------------- static view
    def _palette_png(self, values) -> bytes:
        """The frame at ``values`` as a 256-colour palette PNG (cached): the static view's format,
        a few times smaller than the RGB PNG. Rendered straight from the canvas, and kept for
        the live view too, so that each frame is drawn and encoded once."""
        key = self._key(values)
        if key not in self._palette:
            img = self._rgb(values).quantize(colors=256, method=Image.Quantize.FASTOCTREE)
            out = io.BytesIO()
            img.save(out, format="PNG", optimize=True)
            self._palette[key] = out.getvalue()
            self._cache.setdefault(key, self._palette[key])
        return self._palette[key]

    def static_frames(self) -> list[str]:
        """Render every frame (in :func:`frame_grid` order) as a ``data:`` URI of a palette PNG."""
        uris = ["data:image/png;base64," + base64.b64encode(self._palette_png(values)).decode("ascii")
                for values in self._frames_order]
        self._rgba(self.values)
        return uris

    def static_html(self) -> str:
        """The kernel-free view: every frame embedded, native range inputs, a few lines of JS."""
        frames = self.static_frames()
        names = list(self.params)
        uid = "dlbook-slider-" + hashlib.sha1("".join(frames).encode()).hexdigest()[:12]
        positions = [self.params[n].index(self.values[n]) for n in names]
        index = 0
        for n, pos in zip(names, positions):
            index = index * len(self.params[n]) + pos
        data = {
            "labels": [self.labels[n] for n in names],
            "values": [self.choices[n] for n in names],
            "frames": frames,
        }
        rows = []
        for i, n in enumerate(names):
            caption = html.escape(self._caption(n, self.values[n]))
            rows.append(
                f'<div class="dlbook-slider-row" style="display:flex;align-items:center;gap:0.8em;margin:0.2em 0">'
                f'<label for="{uid}-{i}" data-slider-label="{i}" '
                f'style="min-width:9em;font-family:monospace">{caption}</label>'
                f'<input type="range" id="{uid}-{i}" name="{html.escape(n)}" min="0" max="{len(self.params[n]) - 1}" '
                f'step="1" value="{positions[i]}" aria-valuetext="{caption}" style="width:320px"></div>'
            )
        # Inside <script> the HTML parser, not JSON, decides where the element ends: "</script>",
        # and "<!--<script>" which makes it skip the real end tag. JSON's \u escapes of <, > and
        # & keep every label's text while leaving no markup in the element.
        payload = (json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e")
                   .replace("&", "\\u0026"))
        alt = html.escape(self.alt or "figure controlled by the sliders above")
        return (
            f'<div class="dlbook-slider" id="{uid}">'
            + "".join(rows)
            + f'<img class="dlbook-slider-frame" src="{frames[index]}" alt="{alt}" style="max-width:100%">'
            + f'<script type="application/json" class="dlbook-slider-data">{payload}</script>'
            + "<script>(function () {"
            + f'var root = document.getElementById("{uid}");'
            + 'var data = JSON.parse(root.querySelector("script.dlbook-slider-data").textContent);'
            + 'var img = root.querySelector("img.dlbook-slider-frame");'
            + 'var inputs = root.querySelectorAll("input[type=range]");'
            + "function show() { var index = 0;"
            + " inputs.forEach(function (input, i) { var k = Number(input.value);"
            + "  index = index * data.values[i].length + k;"
            + '  var text = data.labels[i] + " = " + data.values[i][k];'
            + '  input.setAttribute("aria-valuetext", text);'
            + "  root.querySelector('[data-slider-label=\"' + i + '\"]').textContent = text; });"
            + " img.src = data.frames[index]; }"
            + ' inputs.forEach(function (input) { input.addEventListener("input", show); });'
            + "})();</script></div>"
        )

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:  # a closed widget
            return bundle
        bundle["text/html"] = self.static_html()
        return bundle


def interact(
    draw: Callable[[Figure], Callable[..., object]],
    *,
    labels: Mapping[str, str] | None = None,
    initial: Mapping[str, float] | None = None,
    figsize: tuple[float, float] = (6.4, 4.2),
    dpi: int = 100,
    max_frames: int = DEFAULT_MAX_FRAMES,
    alt: str = "",
    **params: Sequence[float],
) -> SliderFigure:
    """Make a slider figure that works live in Jupyter and on the static site.

    Example::

        def draw(fig):
            ax = fig.add_subplot()
            ...                                  # the parts that never move
            (line,) = ax.plot([], [])
            def update(lr, num_steps):
                path = gradient_descent(grad, theta0, lr, num_steps).params
                line.set_data(path[:, 0], path[:, 1])
                return [line]                    # the artists that moved (or None)
            return update

        interact(draw, lr=[0.001, 0.01, 0.1], num_steps=[5, 20, 100],
                 labels={"lr": "η", "num_steps": "steps"})

    Args:
        draw: ``draw(fig)`` draws the fixed parts on a fresh :class:`~matplotlib.figure.Figure`
            and returns ``update(**values)``; ``update`` changes the figure for one combination
            of slider values and returns the artists it changed (for fast redraws) or ``None``.
        labels: display names, e.g. ``{"lr": "η"}``; default: the parameter names.
        initial: starting values (each must be in its list; a named choice may be given by
            its name); default: each list's first value.
        figsize: figure size in inches.
        dpi: dots per inch (figsize × dpi is the image size in pixels).
        max_frames: cap on the number of value combinations (frames of the static view).
        alt: text alternative of the figure, for screen readers.
        **params: one slider per keyword: a list of finite numbers, in slider order, or a
            mapping from names to values (named choices, e.g. ``{"no": False, "yes": True}``):
            the slider shows the name and ``update`` receives the value. The names ``labels``,
            ``initial``, ``figsize``, ``dpi``, ``max_frames`` and ``alt`` are taken.

    Returns:
        A :class:`SliderFigure`; display it (last expression of a cell).

    Raises:
        ValueError: no sliders, an empty or non-numeric value list, a repeated value, more
            frames than ``max_frames``, unknown names in ``labels`` or ``initial``, an initial
            value not in its list, or a ``draw`` that does not return a function.

    Introduced in :doc:`/notebooks/01_three_steps`.
    """
    return SliderFigure(draw, params, labels=labels, initial=initial, figsize=figsize, dpi=dpi,
                        max_frames=max_frames, alt=alt)


def latency_report(repeats: int = 15) -> list[dict]:
    """Median update latency of every slider figure alive in this kernel, for ``make bench``.

    Each entry gives the sliders, the number of frames, ``median_ms`` (wall clock, what a
    reader waits) and ``median_cpu_ms`` (CPU time of the kernel: what the update costs, which a
    busy machine inflates much less than the wall clock).
    """
    report = []
    for fig in list(_LIVE):
        wall, cpu = fig._latency_samples(repeats)
        report.append({"sliders": list(fig.params), "frames": len(fig._frames_order),
                       "median_ms": round(float(np.median(wall)), 1),
                       "median_cpu_ms": round(float(np.median(cpu)), 1)})
    return report
