"""Helpers for the notebook and site tests: where the notebooks are and what a build produced."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = BUILD / "html"
EXECUTED = BUILD / "jupyter_execute"
NAME = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")


def toc_files() -> list[str]:
    """Every `file:` of _toc.yml (the root first), without suffix, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return files


def chapter_notebooks() -> list[Path]:
    """The chapter notebooks listed in the table of contents, in reading order."""
    return [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").is_file()]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def sources(nb: dict, cell_type: str) -> str:
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == cell_type)


def merge_adjacent_streams(nb) -> int:
    """Join each stream output of a code cell to the previous output when that is the same
    stream (stdout or stderr), in place; returns how many outputs were joined.

    The kernel sends what a cell prints in chunks, cut wherever its output buffer happened to be
    flushed: one ``print("a =", x)`` can arrive as two outputs, ``"a ="`` and ``" 1.0\n"``, on a
    busy machine and as one on an idle one. The site shows each output as its own block, so
    the line would appear broken, and not every time. Joined, the text is what was printed.
    """
    joined = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or not cell.get("outputs"):
            continue
        kept = []
        for out in cell["outputs"]:
            last = kept[-1] if kept else None
            if (out["output_type"] == "stream" and last is not None
                    and last["output_type"] == "stream" and last["name"] == out["name"]):
                last["text"] = "".join(last["text"]) + "".join(out["text"])
                joined += 1
            else:
                kept.append(out)
        cell["outputs"] = kept
    return joined


def executed_notebook(path: Path) -> dict | None:
    """The executed copy of a chapter notebook from the last build, with its outputs.

    A fresh execution is written to _build/jupyter_execute. When the build reused a cached
    execution, myst-nb writes a copy without outputs there; the executed notebook is then read
    from the jupyter-cache database. Returns None if neither has it.
    """
    copy = EXECUTED / "notebooks" / path.name
    if copy.is_file():
        nb = load(copy)
        if any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"):
            return nb
    cache_dir = BUILD / ".jupyter_cache"
    if not cache_dir.is_dir():
        return None
    import nbformat
    from jupyter_cache import get_cache

    try:
        record = get_cache(str(cache_dir)).match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        return None
    bundle = get_cache(str(cache_dir)).get_cache_bundle(record.pk)
    return json.loads(nbformat.writes(bundle.nb))
