"""Numbers typed into a chapter's prose that none of the chapter's cells shows.

A number in the text of a chapter should come from the chapter's own computation: printed by a
cell, inserted with myst-nb's ``glue``, or at least written in the code the reader sees (a
learning rate, a layer count). A number that appears in the markdown and nowhere in the code or
the outputs was typed by hand, and it silently goes stale when the code changes. This module
finds such numbers; ``tests/test_prose_numbers.py`` runs it on every chapter of a built site.

What counts as a number in the prose: a decimal (``0.83``), a percentage (``98 %``) or an
integer of 10 or more (``3,660``), outside code, links, citations, cross-references and glue
roles. Small integers (two layers, a 3 × 3 kernel) are counting words, not results; years, and
numbers after "chapter", "section", "equation", "figure" and the like, are references.

A prose number is *shown* when some number in the chapter's outputs or code rounds to it at the
precision the prose gives (``0.8347`` shows ``0.83``), also read as a fraction of a percentage
(``0.983`` shows ``98 %``) and the other way round.

Numbers that are quoted from the course notes or are plain facts of the field (a dataset's
size, a paper's model size) are listed in ``ALLOWED`` with the reason.

Usage, on executed notebooks (for example written by ``jupyter nbconvert --execute``)::

    python tests/prose_numbers.py /tmp/out/06_regression.ipynb [...]

prints each typed number with its context and exits 1 if there is any.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Numbers a chapter may state without computing them, by chapter prefix ("*" = every chapter),
# each with the reason. Keep this short: a number that a cell can print should be printed.
ALLOWED: dict[str, dict[str, str]] = {
    "*": {
        "90": "the chapter time budget (dlbook.runtime.CHAPTER_BUDGET_S)",
        "60000": "MNIST's training set size (LeCun et al.)",
        "10000": "MNIST's test set size (LeCun et al.)",
        "28": "MNIST's image side in pixels",
        "784": "28 × 28, MNIST's pixel count",
        "255": "the largest 8-bit pixel value",
        "100": "per cent",
    },
    "03": {
        "273.15": "0 °C in kelvin (exercise 2), a physical constant",
    },
    "05": {
        "0.125": "exercise 1's solution, 0.25 · 0.5 worked in the text",
        "11534337": "exercise 3's solution, 22 · 2^19 + 1 worked in the text",
        "524288": "exercise 3's solution, 2^19",
        "156": "exercise 3's solution for 20 bits, which the chapter's table (up to 12 bits) does not print",
    },
    "07": {
        "21": "6 · 7 / 2, the free entries of a covariance matrix of six features, arithmetic in the text",
    },
    "12": {
        "12832": "exercise 1's solution, 32 · 16 · 25 + 32 worked in the text",
        "52559872": "exercise 1's solution, 12,832 × 64 × 64 worked in the text",
    },
}

_FENCE = re.compile(r"^(```+|~~~+)([^\n]*)\n.*?^\1[ \t]*$", re.S | re.M)
_REMOVE = [
    re.compile(r"\{[a-z:-]+\}`[^`]*`"),  # roles: {cite}`...`, {glue:text}`...`, {numref}`...`
    re.compile(r"``[^`]*``|`[^`\n]*`"),  # inline code
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"https?://\S+"),  # bare addresses
    re.compile(r"<[^>\n]+>"),  # HTML tags and their attributes
    re.compile(r"^\([\w-]+\)=\s*$", re.M),  # MyST labels
    re.compile(r"^:[\w-]+:.*$", re.M),  # directive options
    re.compile(r"\\(?:label|tag|ref|eqref)\{[^}]*\}"),  # LaTeX labels
]
_REFERENCE = re.compile(
    r"(?:chapters?|ch\.|sections?|§|equations?|eqs?\.|figures?|figs?\.|tables?|parts?|appendix|"
    r"appendices|lectures?|homeworks?|hw|exercises?|questions?|problems?|steps?|pages?|pp?\.|"
    r"volume|vol\.|version|v|python|torch|pytorch|cells?)\s*(?:\d+(?:\.\d+)*\s*(?:,|and|or|to|–|-)\s*)*$",
    re.I,
)
_NUMBER = re.compile(
    r"(?<![\w.\\^_])(\d{1,3}(?:,\d{3})+|\d+(?: \d{3})+(?!\d)|\d+)(\.\d+)?(?![\w])(\s*(?:%|\\%|per ?cent))?"
)
_OUTPUT_NUMBER = re.compile(r"(?<![\w])\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Typed:
    """A number of the prose that no output or code of its chapter shows."""

    text: str
    value: float
    context: str

    def __str__(self) -> str:
        return f"{self.text!r} in: …{self.context}…"


def _strip(markdown: str) -> str:
    markdown = _FENCE.sub(lambda m: m.group(0) if m.group(2).startswith("{") else "", markdown)
    for pattern in _REMOVE:
        markdown = pattern.sub(" ", markdown)
    return markdown


def prose_numbers(markdown: str) -> list[tuple[str, float, int, bool, str]]:
    """The candidate numbers of a markdown text.

    Returns ``(text, value, decimals, is_percent, context)`` for each decimal, percentage or
    integer of 10 or more that is not a reference (chapter 12, equation 3, a year).
    """
    text = _strip(markdown)
    found = []
    for m in _NUMBER.finditer(text):
        whole, frac, percent = m.group(1), m.group(2) or "", m.group(3)
        value = float(re.sub(r"[ ,]", "", whole) + frac)
        decimals = len(frac) - 1 if frac else 0
        before = text[max(0, m.start() - 30) : m.start()]
        if not frac and not percent:
            if value < 10:
                continue
            if 1800 <= value <= 2100 and re.fullmatch(r"\d{4}", whole):
                continue  # a year
        if _REFERENCE.search(before.rstrip()):
            continue
        context = re.sub(r"\s+", " ", text[max(0, m.start() - 40) : m.end() + 40]).strip()
        found.append((m.group(0).strip(), value, decimals, bool(percent), context))
    return found


def shown_values(texts: Iterable[str]) -> list[float]:
    """Every number written in the given outputs or code, as floats."""
    values = set()
    for text in texts:
        for m in _OUTPUT_NUMBER.finditer(text):
            try:
                values.add(float(m.group(0).replace(",", "")))
            except ValueError:
                continue
    return sorted(values)


def _matches(value: float, decimals: int, shown: list[float]) -> bool:
    tolerance = 0.5 * 10.0 ** (-decimals) + 1e-9
    for scale in (1.0, 100.0, 0.01):
        target = value / scale
        tol = tolerance / scale
        # shown is sorted: look only near the target
        lo, hi = 0, len(shown)
        while lo < hi:
            mid = (lo + hi) // 2
            if shown[mid] < target - tol:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(shown) and abs(shown[lo] - target) <= tol:
            return True
    return False


def _cell_texts(nb: dict) -> tuple[str, list[str]]:
    markdown, shown = [], []
    for cell in nb["cells"]:
        source = "".join(cell.get("source", ""))
        if cell["cell_type"] == "markdown":
            markdown.append(source)
            continue
        if cell["cell_type"] != "code":
            continue
        shown.append(source)
        for output in cell.get("outputs", []):
            if "text" in output:
                shown.append("".join(output["text"]))
            for mime, data in output.get("data", {}).items():
                if mime.startswith("text/") or mime == "application/json":
                    if isinstance(data, list):
                        data = "".join(data)
                    shown.append(data if isinstance(data, str) else json.dumps(data))
            if "traceback" in output:
                shown.append("\n".join(output["traceback"]))
    return "\n\n".join(markdown), shown


def typed_numbers(nb: dict, chapter: str = "") -> list[Typed]:
    """The prose numbers of an executed notebook that its outputs and code do not show.

    ``chapter`` is the two-digit prefix used to look up ``ALLOWED``.
    """
    markdown, shown_texts = _cell_texts(nb)
    shown = shown_values(shown_texts)
    allowed = {**ALLOWED.get("*", {}), **ALLOWED.get(chapter, {})}
    allowed_values = {float(k) for k in allowed}
    typed = []
    for text, value, decimals, _percent, context in prose_numbers(markdown):
        if value in allowed_values or _matches(value, decimals, shown):
            continue
        if math.isfinite(value):
            typed.append(Typed(text, value, context))
    return typed


def main(paths: list[str]) -> int:
    total = 0
    for name in paths:
        path = Path(name)
        nb = json.loads(path.read_text(encoding="utf-8"))
        if not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"):
            print(f"{path.name}: has no outputs; execute it first", file=sys.stderr)
            return 2
        found = typed_numbers(nb, path.name[:2])
        total += len(found)
        for item in found:
            print(f"{path.name}: {item}")
    print(f"{total} typed number(s) in {len(paths)} notebook(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
