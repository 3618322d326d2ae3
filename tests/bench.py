"""`make bench`: execute every chapter notebook and record how long it takes, plus slider figures.

For each chapter of the table of contents, in reading order, the notebook is executed in a fresh
kernel by nbclient (cells timed by the kernel's own timestamps). Then, in the same kernel, every
slider figure the chapter made is asked for its live update latency: the median time from a
slider change to new PNG bytes, bypassing the frame cache (dlbook.interact.latency_report).
If the site has been built (`make book`), the weight of each chapter page with its images is
added. Results go to _build/bench/bench.json and _build/bench/bench.md and are printed.

By default each notebook runs cold, as a new reader's would: model checkpoints go to a fresh
temporary cache. `--warm` uses the normal per-user cache instead.

Usage: python tests/bench.py [--warm] [--only STEM ...] [--repeats N]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebook_tools import BUILD, HTML, chapter_notebooks  # noqa: E402

LATENCY_CELL = (
    "import json as _json\n"
    "from dlbook.interact import latency_report as _latency_report\n"
    "print('DLBOOK_LATENCY ' + _json.dumps(_latency_report(repeats={repeats})))"
)
BUDGET_S = 90.0


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
    slowest = max(timed, key=lambda t: (_stamp(t["shell.execute_reply"]) - _stamp(t["iopub.execute_input"])))
    return {"notebook": path.stem, "cells_s": round(cells, 1), "wall_s": round(wall, 1),
            "slowest_cell_s": round((_stamp(slowest["shell.execute_reply"]) - _stamp(slowest["iopub.execute_input"])).total_seconds(), 1),
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
    args = parser.parse_args()

    notebooks = chapter_notebooks()
    if args.only:
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
        lat = ", ".join(f"{s['median_ms']} ms" for s in row["sliders"]) or "-"
        print(f"  {row['cells_s']:6.1f} s (wall {row['wall_s']} s); slider latency {lat}; page {row['page_MB']} MB",
              flush=True)

    report = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "torch": torch.__version__,
                    "cpus": os.cpu_count(), "cuda": torch.cuda.is_available(),
                    "processor": platform.processor() or platform.machine()},
        "cold": not args.warm,
        "budget_s": BUDGET_S,
        "notebooks": rows,
    }
    out = BUILD / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2))
    lines = [
        f"# Benchmark ({report['when']}, {'cold' if report['cold'] else 'warm'} caches, "
        f"{report['machine']['cpus']} CPUs, CUDA: {report['machine']['cuda']})",
        "",
        "| notebook | execution (s) | wall with kernel start (s) | slowest cell (s) | slider latency, median (ms) | page with images (MB) |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lat = ", ".join(f"{s['median_ms']}" for s in r["sliders"]) or "-"
        flag = " (over budget)" if r["cells_s"] > BUDGET_S else ""
        lines.append(f"| {r['notebook']} | {r['cells_s']}{flag} | {r['wall_s']} | {r['slowest_cell_s']} | {lat} | {r['page_MB']} |")
    total = sum(r["cells_s"] for r in rows)
    lines += ["", f"Total execution: {total:.1f} s for {len(rows)} notebooks."]
    (out / "bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {out / 'bench.md'} and {out / 'bench.json'}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
