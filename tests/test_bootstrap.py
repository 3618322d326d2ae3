"""Colab and Binder: every chapter's first code cell installs dlbook where it is missing.

The offline test plays Colab: a fresh virtual environment in which `import dlbook` fails, the
repository address pointed at a local clone of this repository (`git+file://`), and the
chapter's first two code cells (the generated install cell, then the chapter's own set-up
cell) executed in it. Installing must bring dlbook into that environment, from the clone. To stay
fast and offline, the package's requirements are not installed again: the environment sees the
book's environment's site-packages (its pip and setuptools too) through a .pth file, and pip
runs with --no-deps and without build isolation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

import bootstrap_cell
from notebook_tools import ROOT, chapter_notebooks, load

NOTEBOOKS = chapter_notebooks()


def test_cell_is_built_from_the_repository_address_in_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    url, branch = config["repository"]["url"], config["repository"]["branch"]
    assert f'"git+{url}@{branch}"' in bootstrap_cell.source()
    compile(bootstrap_cell.source(), "bootstrap", "exec")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_chapter_starts_with_the_generated_cell(path):
    first = bootstrap_cell.first_code_cell(load(path))
    assert first is not None and "".join(first["source"]) == bootstrap_cell.source(), (
        f"{path.name}: the first code cell is not the generated set-up cell; "
        "run 'python tests/bootstrap_cell.py'")
    assert first.get("id") == bootstrap_cell.CELL_ID


def test_how_to_use_names_the_real_repository():
    url, _ = bootstrap_cell.repository()
    text = (ROOT / "book" / "how_to_use.md").read_text(encoding="utf-8")
    assert f"git clone {url}" in text and "<the repository>" not in text
    assert f"cd {url.rsplit('/', 1)[1]}" in text
    assert f'pip install "{bootstrap_cell.requirement()}"' in text


def test_binder_installs_the_requirements_and_the_package():
    requirements = (ROOT / ".binder" / "requirements.txt").read_text(encoding="utf-8")
    assert "-r ../requirements.txt" in requirements
    post_build = ROOT / ".binder" / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert "pip install" in post_build.read_text(encoding="utf-8")


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_first_cells_install_dlbook_from_a_clone_in_a_fresh_environment(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    # The clone holds the committed package plus this checkout's current src/ and pyproject.
    clone = tmp_path / "clone"
    _git("clone", "--quiet", f"file://{ROOT}", str(clone), cwd=tmp_path)  # not shallow: pip clones it again
    shutil.rmtree(clone / "src")
    shutil.copytree(ROOT / "src", clone / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", clone / "pyproject.toml")
    _git("add", "--all", cwd=clone)
    _git("-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "--quiet",
         "--allow-empty", "-m", "current package", cwd=clone)

    venv = tmp_path / "venv"
    # No pip of its own: the book environment's pip and setuptools are seen through the .pth.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # Only the shared site-packages folder itself: its .pth files (dlbook's editable install
    # among them) are not processed, so dlbook stays missing.
    Path(site, "book-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # PIP_NO_BUILD_ISOLATION="0" means --no-build-isolation
    env.update(DLBOOK_REPOSITORY=f"git+file://{clone}", PIP_NO_DEPS="1", PIP_NO_BUILD_ISOLATION="0",
               PIP_DISABLE_PIP_VERSION_CHECK="1", MPLBACKEND="Agg")
    missing = subprocess.run([str(python), "-c", "import dlbook"], env=env, capture_output=True, text=True)
    assert missing.returncode != 0, "dlbook is importable before the set-up cell ran"

    nb = load(NOTEBOOKS[0])
    code = [c for c in nb["cells"] if c["cell_type"] == "code"][:2]
    script = "\n\n".join("".join(c["source"]) for c in code)
    script += "\nimport dlbook\nprint('DLBOOK', dlbook.__file__)\n"
    run = subprocess.run([str(python), "-c", script], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    installed = Path(run.stdout.split("DLBOOK ", 1)[1].strip())
    assert installed.is_relative_to(Path(site)), f"dlbook came from {installed}, not the new environment"
