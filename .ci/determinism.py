"""Determinism check: executing a chapter twice on the same machine prints the same numbers.

Each chapter notebook is executed twice, each time in a fresh kernel (nbclient) with
``DLBOOK_RETRAIN=1`` so that both runs train their models rather than one training and one
loading a checkpoint. The text each run shows the reader (printed output, the plain-text form of
results and displays, errors) is compared line by line. Progress bars (stderr) and pictures are
not compared; a number followed by a unit of time (``12.3 s``, ``45 ms``, ``1.2 seconds``) is
masked, since wall-clock times are not expected to repeat, and so is a memory address in an
object's plain-text form (``<pandas.io.formats.style.Styler at 0x7f02224f0dd0>``, shown where
the page shows the object's HTML); a cell whose output is a measurement
of wall-clock time (a timing table) is tagged ``wall-clock`` and left out.

Differences are printed as a unified diff per chapter and written to
``_build/determinism/<chapter>.diff``; the exit status is 1 if any chapter differs or fails.
``make bench`` runs it on every chapter (it takes twice the time of executing the book).

Usage: python .ci/determinism.py [--only STEM ...]
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "determinism"

TIME = re.compile(r"\b\d+(?:\.\d+)?(?:e[-+]?\d+)?\s*(?:s|ms|µs|us|sec|secs|seconds?|min|minutes?)\b")
ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+\b")
TEXT_TYPES = ("text/plain", "text/latex", "text/markdown")


def mask_times(text: str) -> str:
    """Replace every wall-clock duration in ``text`` by ``<time>`` and every memory address of
    an object's repr by ``<address>``."""
    return ADDRESS.sub("at <address>", TIME.sub("<time>", text))


def text_outputs(nb) -> list[str]:
    """The lines of text a reader sees under the code cells, each prefixed by its cell number.

    Printed text is joined across the chunks the kernel happened to send it in (one print can
    arrive in two pieces, depending on when the kernel's buffer was flushed), so that only
    what was printed is compared.
    """
    lines = []
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "wall-clock" in cell.get("metadata", {}).get("tags", []):
            continue
        texts, printed = [], ""
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                if out.name == "stdout":  # stderr: progress bars and warnings, not results
                    printed += out.text
                continue
            if printed:
                texts.append(printed)
                printed = ""
            if out.output_type in ("execute_result", "display_data"):
                texts.append("\n".join(out.data[t] for t in TEXT_TYPES if t in out.data))
            elif out.output_type == "error":
                texts.append(f"{out.ename}: {out.evalue}")
        if printed:
            texts.append(printed)
        lines += [f"[{number}] {mask_times(line)}" for text in texts for line in text.splitlines()]
    return lines


def compare(first: list[str], second: list[str], name: str) -> list[str]:
    """A unified diff of two runs' lines (empty when they agree)."""
    return list(difflib.unified_diff(first, second, f"{name} (run 1)", f"{name} (run 2)", lineterm=""))


def execute(path: Path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def chapters(only: list[str] | None) -> list[Path]:
    sys.path.insert(0, str(ROOT / "tests"))
    from notebook_tools import chapter_notebooks

    paths = chapter_notebooks()
    if only:
        paths = [p for p in paths if any(p.stem == s or p.stem.startswith(s) for s in only)]
        if not paths:
            sys.exit(f"no chapter matches {only}")
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="chapter stems or number prefixes, e.g. 12 14_rnn")
    args = parser.parse_args(argv)
    os.environ["DLBOOK_RETRAIN"] = "1"
    OUT.mkdir(parents=True, exist_ok=True)
    failed = []
    for path in chapters(args.only):
        start = time.perf_counter()
        try:
            runs = [text_outputs(execute(path)) for _ in range(2)]
        except Exception as err:  # noqa: BLE001 - report every chapter, then fail
            print(f"{path.stem}: execution failed: {err.__class__.__name__}: ...{str(err)[-1500:]}")
            failed.append(path.stem)
            continue
        diff = compare(*runs, path.stem)
        report = OUT / f"{path.stem}.diff"
        seconds = time.perf_counter() - start
        if diff:
            report.write_text("\n".join(diff) + "\n", encoding="utf-8")
            print(f"{path.stem}: DIFFERS between two executions ({seconds:.0f} s); see {report}")
            print("\n".join(diff[:60]))
            failed.append(path.stem)
        else:
            report.unlink(missing_ok=True)
            print(f"{path.stem}: the same {len(runs[0])} lines of output twice ({seconds:.0f} s)")
    print("determinism: " + (f"{len(failed)} chapters differ or failed: {failed}" if failed else "every chapter repeats"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
