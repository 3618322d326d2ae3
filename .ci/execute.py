"""Execute the chapter notebooks in parallel into the site's execution cache (`make book`).

The site is built with ``execute_notebooks: cache`` (``_config.yml``): myst-nb looks each notebook
up in the jupyter-cache database ``_build/.jupyter_cache`` and executes it itself only when no
record matches. Left to itself it executes the notebooks one after the other, so on a machine with
several cores all but one idle. This script fills the same cache first, one notebook per worker
process and one worker per core (``--jobs``), each kernel single-threaded as the Makefile asks
(``OMP_NUM_THREADS=1``). The site build then finds every notebook in the cache and executes none.

Execution is exactly what myst-nb's cache mode does: jupyter-cache's ``single_nb_execution``
(nbclient) in the notebook's folder, with the timeout and ``allow_errors`` of ``_config.yml``,
and the executed notebook stored with ``cache_notebook_bundle``. The worker processes only run
notebooks; this process alone writes to the cache database. Notebooks that already have a matching
record are skipped (``--force`` re-executes them).

A failing notebook is not cached; its traceback is printed, the remaining notebooks still run
(as ``--keep-going`` does for the build) and the script exits with status 1, so ``make book``
stops before the site build.

Usage: python .ci/execute.py [--jobs N] [--cache DIR] [--force] [STEM ...]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from notebook_tools import BUILD, chapter_notebooks, merge_adjacent_streams  # noqa: E402

CACHE = BUILD / ".jupyter_cache"


def default_jobs() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def execution_settings() -> dict:
    """Timeout (s per cell) and allow_errors from the ``execute:`` section of _config.yml."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")).get("execute", {})
    return {"timeout": config.get("timeout", 30), "allow_errors": config.get("allow_errors", False)}


def execute_one(path: str, timeout: int, allow_errors: bool) -> tuple:
    """Execute one notebook in its own folder (in a worker process), as myst-nb's cache mode does.

    Returns (path, executed notebook or None, seconds, traceback text or None).
    """
    from jupyter_cache.executors.utils import single_nb_execution

    start = time.perf_counter()
    try:
        nb = nbformat.read(path, as_version=4)
        result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                     allow_errors=allow_errors, meta_override=True)
    except Exception:  # a dead kernel, an unreadable notebook: report it like a failing cell
        return path, None, time.perf_counter() - start, traceback.format_exc()
    merge_adjacent_streams(result.nb)  # a print cut in two by the kernel's buffer is one text
    return path, result.nb, result.time, result.exc_string if result.err is not None else None


def execute_notebooks(paths: list[Path], *, cache_dir: Path = CACHE, jobs: int | None = None,
                      force: bool = False, order: dict[str, float] | None = None,
                      log=print) -> dict:
    """Execute ``paths`` over ``jobs`` worker processes and store the results in ``cache_dir``.

    ``order`` maps notebook stems to an expected duration: longer ones start first, so that a
    long chapter does not start last and leave the other workers idle. Without it the notebooks
    start in reverse reading order (the later chapters are the heavier ones).

    Returns a dict with ``seconds`` (notebook stem → execution time), ``failed`` (stem →
    traceback), ``skipped`` (stems already cached), ``wall_s`` and ``jobs``.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    jobs = jobs or default_jobs()
    settings = execution_settings()
    cache = get_cache(str(cache_dir))
    todo, skipped = [], []
    for path in paths:
        if not force:
            try:
                cache.match_cache_notebook(nbformat.read(path, as_version=4))
                skipped.append(path.stem)
                continue
            except KeyError:
                pass
        todo.append(path)
    if order:
        todo.sort(key=lambda p: -order.get(p.stem, 0.0))
    else:
        todo.reverse()
    if skipped:
        log(f"{len(skipped)} notebook(s) already executed and cached: {' '.join(skipped)}")
    seconds, failed = {}, {}
    start = time.perf_counter()
    if todo:
        log(f"executing {len(todo)} notebook(s) with {jobs} worker(s), "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(execute_one, str(p), settings["timeout"], settings["allow_errors"])
                       for p in todo]
            for future in as_completed(futures):
                path, nb, secs, error = future.result()
                stem = Path(path).stem
                seconds[stem] = round(secs, 1)
                if error is not None:
                    failed[stem] = error
                    log(f"  FAILED {stem} after {secs:.1f} s:\n{error}")
                    continue
                cache.cache_notebook_bundle(
                    CacheBundleIn(nb, path, data={"execution_seconds": secs}),
                    check_validity=False, overwrite=True)
                log(f"  {secs:6.1f} s  {stem}")
    wall = time.perf_counter() - start
    if todo:
        log(f"executed {len(todo)} notebook(s) in {wall:.1f} s wall time with {jobs} worker(s) "
            f"(sum of notebook times {sum(seconds.values()):.1f} s)")
    return {"seconds": seconds, "failed": failed, "skipped": skipped, "wall_s": round(wall, 1),
            "jobs": jobs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stems", nargs="*", help="notebook stems to execute (default: every chapter)")
    parser.add_argument("--jobs", type=int, default=None,
                        help=f"worker processes (default: one per core, here {default_jobs()})")
    parser.add_argument("--cache", type=Path, default=CACHE, help="jupyter-cache folder")
    parser.add_argument("--force", action="store_true", help="re-execute notebooks already cached")
    args = parser.parse_args()
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    paths = chapter_notebooks()
    if args.stems:
        paths = [p for p in paths if p.stem in args.stems]
        if not paths:
            parser.error(f"no chapter notebook matches {args.stems}")
    result = execute_notebooks(paths, cache_dir=args.cache, jobs=args.jobs, force=args.force)
    if result["failed"]:
        print(f"\n{len(result['failed'])} notebook(s) failed: {' '.join(sorted(result['failed']))} "
              "(tracebacks above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
