"""`make bench`: execute every chapter notebook, time it, time its sliders, then time the parallel build.

1. Sequential: for each chapter of the table of contents, in reading order, the notebook is
   executed alone in a fresh kernel by nbclient (cells timed by the kernel's own timestamps).
   Then, in the same kernel, every slider figure the chapter made is asked for its live update
   latency: the median time from a slider change to new PNG bytes, bypassing the frame cache
   (dlbook.interact.latency_report), in wall-clock time (the budget) and in the kernel's CPU
   time (the cost of the update, which other load on the machine inflates much less).
2. Parallel: all the notebooks again, as `make book` executes them (.ci/execute.py: one
   single-threaded kernel per worker, `--jobs` workers), into a temporary execution cache; the
   wall time is set beside the sum of the sequential times.

3. Two figures of the code itself, computed first and also with `--only` (`--no-notebooks` gives
   just these): the share of the book's code that lives in the notebooks against the package
   (.ci/codeshare.py), and the training engine's overhead, `train.fit` against the hand-written
   loop it replaces on the same batches with identical losses (.ci/engine_overhead.py, a few
   seconds).

If the site has been built (`make book`), the weight of each chapter page with its images is
added. Results go to _build/bench/bench.json and _build/bench/bench.md and are printed.
The exit status is 1 when a chapter takes more than BUDGET_S seconds or a slider's median update
takes more than SLIDER_BUDGET_MS milliseconds; chapters over TARGET_S are flagged (the margin that
keeps a slower laptop inside the budget).

By default each notebook runs cold, as a new reader's would: model checkpoints go to a fresh
temporary cache (a second fresh one for the parallel run). `--warm` uses the normal per-user
cache instead.

Usage: python .ci/bench.py [--warm] [--only STEM ...] [--repeats N] [--jobs N] [--no-parallel] [--no-notebooks]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from codeshare import code_share  # noqa: E402
from codeshare import describe as describe_share  # noqa: E402
from engine_overhead import describe as describe_overhead  # noqa: E402
from engine_overhead import engine_overhead  # noqa: E402
from execute import default_jobs, execute_notebooks  # noqa: E402

from dlbook.runtime import CHAPTER_BUDGET_S  # noqa: E402
from notebook_tools import BUILD, HTML, chapter_notebooks  # noqa: E402

LATENCY_CELL = (
    "import json as _json\n"
    "from dlbook.interact import latency_report as _latency_report\n"
    "print('DLBOOK_LATENCY ' + _json.dumps(_latency_report(repeats={repeats})))"
)
BUDGET_S = CHAPTER_BUDGET_S
"""Most seconds a chapter may take (``dlbook.runtime.CHAPTER_BUDGET_S``); over it, bench fails."""
TARGET_S = 60.0
"""Seconds a chapter should stay under on the authors' machine, so a slower laptop keeps the budget."""
SLIDER_BUDGET_MS = 50.0
"""Most milliseconds a live slider's median update may take; over it, bench fails."""


def _stamp(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def run_notebook(path: Path, repeats: int) -> dict:
    nb = nbformat.read(path, as_version=4)
    num_cells = len(nb.cells)
    nb.cells.append(nbformat.v4.new_code_cell(LATENCY_CELL.format(repeats=repeats)))
    client = NotebookClient(nb, timeout=900, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    timed = [c.metadata.get("execution", {}) for c in nb.cells[:num_cells] if c.cell_type == "code"]
    timed = [t for t in timed if "iopub.execute_input" in t and "shell.execute_reply" in t]
    cells = (_stamp(timed[-1]["shell.execute_reply"]) - _stamp(timed[0]["iopub.execute_input"])).total_seconds()
    latencies = []
    for out in nb.cells[-1].outputs:
        for line in out.get("text", "").splitlines():
            if line.startswith("DLBOOK_LATENCY "):
                latencies = json.loads(line[len("DLBOOK_LATENCY "):])
    per_cell = []  # (seconds, cell index, first code line) of every timed code cell
    for index, cell in enumerate(nb.cells[:num_cells]):
        t = cell.metadata.get("execution", {}) if cell.cell_type == "code" else {}
        if "iopub.execute_input" in t and "shell.execute_reply" in t:
            seconds = (_stamp(t["shell.execute_reply"]) - _stamp(t["iopub.execute_input"])).total_seconds()
            first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
            per_cell.append((round(seconds, 1), index, first[:60]))
    slowest = sorted(per_cell, reverse=True)[:3]
    return {"notebook": path.stem, "cells_s": round(cells, 1), "wall_s": round(wall, 1),
            "slowest_cell_s": slowest[0][0] if slowest else 0.0,
            "slowest_cells": [{"seconds": sec, "cell": i, "code": code} for sec, i, code in slowest],
            "sliders": latencies}


def page_weight(stem: str) -> float | None:
    page = HTML / "notebooks" / f"{stem}.html"
    if not page.is_file():
        return None
    html = page.read_text(encoding="utf-8")
    images = set(re.findall(r'src="\.\./(_images/[^"]+)"', html))
    return round((page.stat().st_size + sum((HTML / i).stat().st_size for i in images)) / 2**20, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", action="store_true", help="reuse cached model checkpoints")
    parser.add_argument("--only", nargs="*", default=None, help="notebook stems to run")
    parser.add_argument("--repeats", type=int, default=15, help="slider updates timed per figure")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="workers of the parallel run (default: one per core)")
    parser.add_argument("--no-parallel", action="store_true", help="skip the parallel run")
    parser.add_argument("--no-notebooks", action="store_true",
                        help="only the code share and the engine overhead (no notebook is executed)")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")

    share = code_share()
    print(describe_share(share), flush=True)
    overhead = engine_overhead()
    print(describe_overhead(overhead), flush=True)

    notebooks = [] if args.no_notebooks else chapter_notebooks()
    if args.only and not args.no_notebooks:
        notebooks = [p for p in notebooks if p.stem in args.only]
        if not notebooks:
            parser.error(f"no chapter notebook matches {args.only}")
    tmp = None
    if not args.warm:
        tmp = tempfile.TemporaryDirectory(prefix="dlbook-bench-cache-")
        os.environ["DLBOOK_CACHE_DIR"] = tmp.name
        if os.environ.get("DLBOOK_DATA_DIR") is None:
            print("note: DLBOOK_DATA_DIR is unset; datasets will be downloaded into the temporary cache")

    import torch

    rows = []
    for path in notebooks:
        print(f"running {path.name} ...", flush=True)
        row = run_notebook(path, args.repeats)
        row["page_MB"] = page_weight(path.stem)
        rows.append(row)
        lat = ", ".join(f"{s['median_ms']} ms (CPU {s['median_cpu_ms']} ms)" for s in row["sliders"]) or "-"
        print(f"  {row['cells_s']:6.1f} s (wall {row['wall_s']} s); slider latency {lat}; page {row['page_MB']} MB",
              flush=True)
        for c in row["slowest_cells"]:  # where the time goes: the three slowest cells
            print(f"    {c['seconds']:6.1f} s  cell {c['cell']:3d}  {c['code']}", flush=True)

    parallel = None
    if not args.no_parallel and notebooks:
        print(f"running the {len(notebooks)} notebooks again, {args.jobs} at a time ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="dlbook-bench-parallel-") as scratch:
            if not args.warm:
                os.environ["DLBOOK_CACHE_DIR"] = str(Path(scratch) / "dlbook-cache")
            parallel = execute_notebooks(
                notebooks, cache_dir=Path(scratch) / "jupyter_cache", jobs=args.jobs, force=True,
                order={r["notebook"]: r["cells_s"] for r in rows},
                log=lambda line: print("  " + line, flush=True))
        for r in rows:
            r["parallel_s"] = parallel["seconds"].get(r["notebook"])

    sequential = round(sum(r["cells_s"] for r in rows), 1)
    over_budget = [r["notebook"] for r in rows if r["cells_s"] > BUDGET_S]
    over_target = [r["notebook"] for r in rows if r["cells_s"] > TARGET_S]
    slow_sliders = [r["notebook"] for r in rows if any(s["median_ms"] > SLIDER_BUDGET_MS for s in r["sliders"])]
    report = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "torch": torch.__version__,
                    "cpus": os.cpu_count(), "cuda": torch.cuda.is_available(),
                    "processor": platform.processor() or platform.machine()},
        "cold": not args.warm,
        "budget_s": BUDGET_S,
        "target_s": TARGET_S,
        "slider_budget_ms": SLIDER_BUDGET_MS,
        "sequential_sum_s": sequential,
        "code_share": share,
        "engine_overhead": overhead,
        "parallel": None if parallel is None else {
            "jobs": parallel["jobs"], "wall_s": parallel["wall_s"],
            "failed": sorted(parallel["failed"])},
        "notebooks": rows,
    }
    out = BUILD / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2))
    lines = [
        f"# Benchmark ({report['when']}, {'cold' if report['cold'] else 'warm'} caches, "
        f"{report['machine']['cpus']} CPUs, CUDA: {report['machine']['cuda']})",
        "",
        "| notebook | execution (s) | wall with kernel start (s) | slowest cell (s) | in the parallel run (s) | slider latency, median wall (CPU) (ms) | page with images (MB) |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lat = ", ".join(f"{s['median_ms']} (CPU {s.get('median_cpu_ms', '-')})"
                        + (" (over budget)" if s["median_ms"] > SLIDER_BUDGET_MS else "")
                        for s in r["sliders"]) or "-"
        flag = (" (over budget)" if r["cells_s"] > BUDGET_S
                else f" (over {TARGET_S:.0f} s)" if r["cells_s"] > TARGET_S else "")
        lines.append(f"| {r['notebook']} | {r['cells_s']}{flag} | {r['wall_s']} | {r['slowest_cell_s']} | "
                     f"{r.get('parallel_s', '-')} | {lat} | {r['page_MB']} |")
    lines += ["", f"Sequential sum: {sequential:.1f} s for {len(rows)} notebooks."]
    if parallel is not None:
        lines.append(f"Parallel wall time with {parallel['jobs']} workers: {parallel['wall_s']:.1f} s "
                     f"({parallel['wall_s'] / sequential:.2f} of the sequential sum).")
        if parallel["failed"]:
            lines.append(f"Failed in the parallel run: {', '.join(sorted(parallel['failed']))}.")
    lines += [describe_share(share), describe_overhead(overhead)]
    lines.append(f"Budgets: chapters at most {BUDGET_S:.0f} s (target {TARGET_S:.0f} s), sliders at most "
                 f"{SLIDER_BUDGET_MS:.0f} ms median. Over budget: chapters {over_budget or 'none'}, "
                 f"sliders {slow_sliders or 'none'}; over the target: {over_target or 'none'}.")
    (out / "bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {out / 'bench.md'} and {out / 'bench.json'}")
    if tmp is not None:
        tmp.cleanup()
    failed = over_budget or slow_sliders or (parallel is not None and parallel["failed"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
