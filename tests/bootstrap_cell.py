"""The set-up cell that lets every chapter run on Colab and Binder, generated in one place.

On Colab or Binder a notebook starts without the book's helper package, so `import dlbook`
fails. The first code cell of every chapter installs it (with its requirements) from the
repository when it cannot be imported, and does nothing where it can (a clone set up with
`make`, Binder after its `postBuild`). The repository address comes from `_config.yml`
(`repository: url` and `branch`), the one place that names it; the environment variable
`DLBOOK_REPOSITORY` overrides it with any `pip install` requirement (a fork, a local clone as
`git+file:///path/to/clone`).

    python tests/bootstrap_cell.py          # write the cell into every chapter notebook
    python tests/bootstrap_cell.py --check  # exit 1 if a notebook's cell differs

tests/test_bootstrap.py checks every notebook carries the cell and runs it in a fresh
virtual environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CELL_ID = "dlbook-bootstrap"
TAGS = ["remove-cell"]  # executed at build time, not shown on the website (how_to_use explains it)


def repository() -> tuple[str, str]:
    """(url, branch) of `repository:` in _config.yml."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch", "main")
    if not url or not url.startswith("https://"):
        raise ValueError(f"_config.yml: expected repository: url: https://..., got {url!r}")
    return url.rstrip("/"), branch


def requirement() -> str:
    """The pip requirement that installs the package from the repository."""
    url, branch = repository()
    return f"git+{url}@{branch}"


def source() -> str:
    """The cell's code."""
    return f'''\
# Colab and Binder: install the book's helper package `dlbook` and its requirements when it is
# missing (Binder and a clone set up with `make` have it: then this does nothing).
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("dlbook") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", os.environ.get(
        "DLBOOK_REPOSITORY", "{requirement()}")], check=True)
    importlib.invalidate_caches()'''


def cell() -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": CELL_ID,
        "metadata": {"tags": list(TAGS)},
        "outputs": [],
        "source": source().splitlines(keepends=True),
    }


def chapters() -> list[Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from notebook_tools import chapter_notebooks

    return chapter_notebooks()


def first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def apply(path: Path) -> bool:
    """Put the current cell first among the code cells of the notebook; True if it changed."""
    import nbformat

    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    cells = [c for c in nb.cells if c.get("id") != CELL_ID]
    position = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    nb.cells = cells[:position] + [nbformat.from_dict(cell())] + cells[position:]
    nb.nbformat_minor = max(nb.nbformat_minor, 5)  # cell ids
    new = nbformat.writes(nb)
    new = new if new.endswith("\n") else new + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, do not write")
    args = parser.parse_args(argv)
    stale = []
    for path in chapters():
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = first_code_cell(nb)
        if first is None or "".join(first["source"]) != source() or first.get("id") != CELL_ID:
            stale.append(path)
            if not args.check:
                apply(path)
    for path in stale:
        print(("stale: " if args.check else "updated: ") + str(path.relative_to(ROOT)))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
