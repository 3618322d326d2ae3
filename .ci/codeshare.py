"""How much of the book's code lives in the chapter notebooks, against the helper package.

A line of code is a line that is neither blank nor a comment (its first non-space character is
not ``#``); docstrings and other strings count as code. The notebooks' lines are those of their
code cells (``notebooks/*.ipynb``), the package's those of ``src/dlbook/*.py``. The share is
notebook lines / (notebook lines + package lines): it drops when code repeated across chapters
moves into the package.

Usage: python .ci/codeshare.py [ROOT]   (prints the counts and the share)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def code_lines(text: str) -> int:
    """Number of lines of ``text`` that are neither blank nor comments."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def notebook_code_lines(path: Path) -> int:
    """Lines of code in the code cells of the notebook at ``path`` (markdown cells do not count)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    total = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            total += code_lines("".join(source) if isinstance(source, list) else source)
    return total


def code_share(root: Path = ROOT) -> dict:
    """Lines of code in the notebooks and in the package, and the notebooks' share of their sum.

    Raises:
        ValueError: if ``root`` holds neither notebooks nor package modules.
    """
    root = Path(root)
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    modules = sorted((root / "src" / "dlbook").glob("*.py"))
    if not notebooks and not modules:
        raise ValueError(f"no notebooks/*.ipynb and no src/dlbook/*.py under {root}")
    notebook_lines = sum(notebook_code_lines(p) for p in notebooks)
    package_lines = sum(code_lines(p.read_text(encoding="utf-8")) for p in modules)
    return {"notebooks": len(notebooks), "notebook_lines": notebook_lines,
            "modules": len(modules), "package_lines": package_lines,
            "notebook_share": round(notebook_lines / (notebook_lines + package_lines), 4)}


def describe(share: dict) -> str:
    """One line for the bench report."""
    return (f"Code share: {share['notebook_lines']:,} lines of code in {share['notebooks']} notebooks, "
            f"{share['package_lines']:,} in {share['modules']} package modules: "
            f"{share['notebook_share']:.1%} of the book's code lives in the notebooks.")


if __name__ == "__main__":
    print(describe(code_share(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)))
