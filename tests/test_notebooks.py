"""The chapter standard, checked on the stored notebooks and, after a build, on their execution."""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import nbformat
import pytest

from notebook_tools import HTML, NAME, ROOT, chapter_notebooks, executed_notebook, load, sources, toc_files

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
PAGE_LIMIT_BYTES = 5 * 1024 * 1024


def ids(paths):
    return [p.stem for p in paths]


def test_toc_lists_every_notebook_and_only_existing_files():
    listed = set(toc_files())
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in listed, f"{path.name} is not in _toc.yml"
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").is_file() for ext in (".ipynb", ".md")), entry


def test_notebook_names_are_numbered_and_unique():
    numbers = []
    for path in NOTEBOOKS:
        match = NAME.match(path.name)
        assert match, f"{path.name} should be named NN_topic.ipynb"
        numbers.append(match.group(1))
    assert len(numbers) == len(set(numbers)), f"repeated chapter numbers: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_stored_without_outputs_and_valid(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name} has stored outputs; clear them (the site is built from a fresh run)")
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_follows_the_chapter_skeleton(path):
    nb = load(path)
    markdown, code = sources(nb, "markdown"), sources(nb, "code")
    assert nb["cells"][0]["cell_type"] == "markdown" and nb["cells"][0]["source"][0].startswith("# ")
    assert "learning objectives" in markdown.lower()
    for heading in ("## Exercises", "## Summary", "## References"):
        assert heading in markdown, f"{path.name} lacks a '{heading}' section"
    assert ":class: dropdown" in markdown, f"{path.name}: solutions belong in a dropdown"
    assert "{cite}" in markdown, f"{path.name} cites nothing"
    assert "{term}" in markdown, f"{path.name} links no glossary term"
    assert re.search(r"[\u4e00-\u9fff]", markdown), f"{path.name} gives no Chinese term"
    assert "dlbook.seed(" in code and "dlbook.device()" in code, f"{path.name}: setup cell"
    assert "interact(" in code, f"{path.name} has no slider figure"
    assert re.search(r"assert\s+(torch\.allclose|np\.allclose|torch\.equal|np\.isclose|abs\(|math\.isclose)",
                     code) or "assert_close" in code, f"{path.name} checks nothing against a reference"


def _top_level_names(tree: ast.Module) -> set[str]:
    """Names a cell binds at the top level (assignments, loops, defs, imports)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_slider_callbacks_do_not_read_names_that_later_cells_rebind(path):
    """A live slider redraws long after its cell ran. If its draw/update functions read a
    global that a later cell rebinds (a reused `rows` or `fig`), moving the slider after
    running the whole notebook fails or shows the wrong data."""
    cells = [ast.parse("".join(line for line in c["source"] if not line.lstrip().startswith(("%", "!"))))
             for c in load(path)["cells"] if c["cell_type"] == "code"]
    bound_later = [set()] * len(cells)
    for i in range(len(cells) - 2, -1, -1):
        bound_later[i] = bound_later[i + 1] | _top_level_names(cells[i + 1])
    for i, tree in enumerate(cells):
        if not any(isinstance(n, ast.Call) and getattr(n.func, "attr", getattr(n.func, "id", None)) == "interact"
                   for n in ast.walk(tree)):
            continue
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda))]
        local = set()
        for f in functions:
            for n in ast.walk(f):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    local.add(n.id)
                elif isinstance(n, ast.arg):
                    local.add(n.arg)
                elif isinstance(n, ast.FunctionDef):
                    local.add(n.name)
        read = {n.id for f in functions for n in ast.walk(f)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                and n.id not in local and not hasattr(builtins, n.id)}
        clash = sorted(read & bound_later[i])
        assert not clash, (f"{path.name}, code cell {i}: the slider's functions read {clash}, "
                           "which a later cell rebinds; give them names of their own")


# ---------------------------------------------------------------- after `make book`

def executed(path):
    nb = executed_notebook(path)
    if nb is None:
        pytest.fail(f"no executed copy of {path.name} in _build: run 'make book' (or 'make test')")
    return nb


@pytest.mark.site
@pytest.mark.parametrize("path", chapter_notebooks(), ids=ids(chapter_notebooks()))
def test_executed_without_errors_or_warnings(path, built_site):
    nb = executed(path)
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name} cell {i}: {out.get('ename')}: {out.get('evalue')}"
            if out["output_type"] == "stream" and out["name"] == "stderr":
                text = "".join(out["text"])
                assert not re.search(r"warn|error|deprecat", text, re.I), f"{path.name} cell {i} printed: {text[:300]}"
    assert not list((HTML / "reports").glob("*.err.log")) if (HTML / "reports").exists() else True


@pytest.mark.site
@pytest.mark.parametrize("path", chapter_notebooks(), ids=ids(chapter_notebooks()))
def test_slider_outputs_carry_live_and_static_views(path, built_site):
    """Executing in a kernel yields a live ipywidgets view, and the same output has the static one."""
    nb = executed(path)
    sliders = [out for cell in nb["cells"] for out in cell.get("outputs", [])
               if "dlbook-slider" in "".join(out.get("data", {}).get("text/html", ""))]
    assert sliders, f"{path.name} shows no slider figure"
    for out in sliders:
        assert WIDGET in out["data"], "the slider output lacks its live ipywidgets view"
        model_id = out["data"][WIDGET]["model_id"]
        state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        assert state[model_id]["model_name"] == "VBoxModel"


@pytest.mark.site
@pytest.mark.parametrize("path", chapter_notebooks(), ids=ids(chapter_notebooks()))
def test_page_weight(path, built_site):
    page = HTML / "notebooks" / f"{path.stem}.html"
    assert page.is_file(), f"{page} was not built"
    html = page.read_text(encoding="utf-8")
    images = set(re.findall(r'src="\.\./(_images/[^"]+)"', html))
    weight = page.stat().st_size + sum((HTML / img).stat().st_size for img in images)
    assert weight <= PAGE_LIMIT_BYTES, f"{page.name} weighs {weight / 2**20:.1f} MB with its images"


@pytest.mark.site
def test_site_build_took_every_execution_from_the_parallel_run(built_site):
    """`make book` executes the notebooks in parallel (.ci/execute.py) before the site build. The
    build must find every chapter in the cache: myst-nb registers a notebook as a project record
    only when it executes it itself, so any record means a chapter ran a second time, serially."""
    from jupyter_cache import get_cache

    cache_dir = ROOT / "_build" / ".jupyter_cache"
    assert cache_dir.is_dir(), "no execution cache in _build/.jupyter_cache; run 'make book'"
    cache = get_cache(str(cache_dir))
    executed_by_build = [Path(r.uri).name for r in cache.list_project_records()]
    assert not executed_by_build, (
        f"the site build executed {executed_by_build} itself: their cached execution did not "
        "match (run .ci/execute.py before jupyter-book, as 'make book' does)")
    for path in chapter_notebooks():
        cache.match_cache_notebook(nbformat.read(path, as_version=4))  # KeyError if missing
