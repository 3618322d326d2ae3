"""Text alternatives for figures: every inline PNG says in words what it shows.

A reader who cannot see a figure (a screen reader, a slow connection, a search engine) gets its
titles, axis labels and legend. :func:`describe` builds that text from a matplotlib figure;
:func:`install` makes IPython's inline PNGs carry it inside the image file: matplotlib's PNG
writer stores it as a text chunk with the keyword ``Description`` (the PNG standard's keyword for
a caption). The website
build reads it back with :func:`read_description` and uses it as the ``alt`` text of the image.
:func:`dlbook.plotting.use_style` calls :func:`install`, so every chapter gets it.

A figure can give its own text: ``fig.set_label("Scatter plot of ...")`` puts that sentence
first.
"""

from __future__ import annotations

import io
import re
import unicodedata

from PIL import Image

__all__ = ["describe", "read_description", "install"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _greek(match) -> str:
    name = match.group(1)
    case = "CAPITAL" if name[0].isupper() else "SMALL"
    try:
        return unicodedata.lookup(f"GREEK {case} LETTER {name.upper()}")
    except KeyError:
        return name


def _clean(text: str) -> str:
    """Label text for reading: mathtext dollars dropped, Greek letters spelled as letters."""
    text = re.sub(r"\\([A-Za-z]+)", _greek, text.replace("$", "").replace("\\mathrm", ""))
    text = text.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text).strip()


def _describe_axes(ax) -> str:
    parts = []
    title = " ".join(_clean(ax.get_title(loc)) for loc in ("left", "center", "right")).strip()
    if title:
        parts.append(f"“{title}”")
    labels = [_clean(ax.get_xlabel()), _clean(ax.get_ylabel())]
    zlabel = getattr(ax, "get_zlabel", None)
    if zlabel is not None:
        labels.append(_clean(zlabel()))
    x, y, *z = labels
    if y and x:
        parts.append(f"{y} against {x}" + (f" (height: {z[0]})" if z and z[0] else ""))
    elif x or y:
        parts.append(f"axis: {x or y}")
    legend = ax.get_legend()
    if legend is not None:
        entries = [_clean(t.get_text()) for t in legend.get_texts() if t.get_text().strip()]
        if entries:
            shown = ", ".join(entries[:8]) + (", …" if len(entries) > 8 else "")
            parts.append(f"legend: {shown}")
    if not parts and ax.get_images():
        parts.append("an image")
    return "; ".join(parts)


def describe(fig) -> str:
    """A one-paragraph text alternative of a matplotlib figure.

    Args:
        fig: a ``matplotlib.figure.Figure``.

    Returns:
        str: its label (``fig.get_label()``) if set, its overall title, and for each visible
        panel (axes that are not colour bars) the title, "y against x" from the axis labels and
        the legend entries. Never empty: a figure without any text is described by its number
        of panels.
    """
    head = []
    label = fig.get_label()
    if label and not label.startswith("_"):
        head.append(_clean(label))
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        head.append(f"“{_clean(suptitle.get_text())}”")
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    panels = [_describe_axes(ax) for ax in axes]
    described = [p for p in panels if p]
    n = len(axes)
    kind = "Figure" if n <= 1 else f"Figure with {n} panels"
    if len(described) == 1 and n == 1:
        body = described[0]
    elif described:
        body = " ".join(f"Panel {i + 1}: {p}." for i, p in enumerate(panels) if p)
    else:
        body = "a grid of images without captions" if any(ax.get_images() for ax in axes) else ""
    text = ". ".join(h.rstrip(".") for h in head)
    if body:
        text = f"{text}. {body}" if text else body
    text = text.strip().rstrip(".")
    return f"{kind}: {text}." if text else f"{kind} without titles or axis labels."


def read_description(png: bytes) -> str | None:
    """The "Description" text of a PNG (from its ``tEXt``, ``zTXt`` or ``iTXt`` chunk, read by
    Pillow), or None if it has none.

    Raises:
        ValueError: ``png`` is not a PNG file.
    """
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError(f"expected PNG bytes starting with the PNG signature, got {png[:8]!r}")
    try:
        with Image.open(io.BytesIO(png)) as image:
            image.load()  # the text chunks after the image data are read here
            return image.text.get("Description")
    except (OSError, SyntaxError) as error:  # Pillow's errors for a damaged PNG
        raise ValueError(f"not a readable PNG file: {error}") from error


def _with_description(printer):
    """Wrap an IPython PNG printer so that its output carries describe(fig)."""

    def print_png(fig, *args, **kwargs):
        # IPython's printers pass keyword arguments on to Figure.savefig, whose PNG writer
        # stores ``metadata`` as text chunks (iTXt when the text is not Latin-1).
        metadata = dict(kwargs.pop("metadata", None) or {})
        metadata.setdefault("Description", describe(fig))
        return printer(fig, *args, metadata=metadata, **kwargs)

    print_png._dlbook_description = True
    return print_png


def _wrap_png_formatter(shell) -> None:
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.formatters.get("image/png")
    if formatter is None:
        return
    try:
        printer = formatter.lookup_by_type(Figure)
    except KeyError:
        return
    if not getattr(printer, "_dlbook_description", False):
        formatter.for_type(Figure, _with_description(printer))


def _load_inline_backend() -> None:
    """Load matplotlib's inline backend now if it is the configured one.

    The backend registers its PNG printer when it is loaded, which otherwise happens at the
    first figure. A cell whose first figure is shown with ``plt.show()`` displays it at once,
    before any hook of ours could wrap the new printer: that figure had no description.
    """
    import matplotlib

    try:
        backend = matplotlib.get_backend(auto_select=False)  # matplotlib >= 3.10
    except TypeError:
        backend = matplotlib.rcParams._get("backend")
    if backend in ("inline", "module://matplotlib_inline.backend_inline"):
        import matplotlib_inline.backend_inline  # noqa: F401 - loading it registers the printer


def install() -> bool:
    """Make every inline matplotlib PNG in this IPython session carry :func:`describe`.

    The inline backend is loaded first (it registers its PNG printer when loaded), and since
    it re-registers the printer on ``%matplotlib inline`` the wrapper is re-applied before and
    after each cell runs. Outside IPython this does nothing.

    Returns:
        bool: True when running under IPython (the hook is installed), False otherwise.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    _load_inline_backend()
    _wrap_png_formatter(shell)
    if not getattr(shell, "_dlbook_description_hook", False):
        # post_execute callbacks registered now run before the inline backend's flush_figures,
        # which is registered when the backend loads (at the first figure).
        for event in ("pre_execute", "post_execute"):
            shell.events.register(event, lambda: _wrap_png_formatter(shell))
        shell._dlbook_description_hook = True
    return True
