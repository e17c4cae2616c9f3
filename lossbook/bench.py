"""``python -m lossbook.bench``: how fast every explorer of the book answers, and how heavy its static page is.

Every chapter notebook is executed in a kernel with ``LOSSBOOK_BENCH`` set; each
explorer, when displayed, then times itself (:func:`record`):

- *update*: a slider is moved through the live widget (``slider.value = v``), which
  runs the update, redraws the moving artists over the cached background and
  encodes the PNG shown in the notebook; median over the moves;
- *naive*: the same image made the ordinary way (new figure, build, update, full draw, PNG);
- *static*: the size of the kernel-free HTML the website embeds.

Timings are reported here and never asserted in tests.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MOVES = 30  # slider moves timed per explorer
NAIVE = 8  # naive re-plots timed per explorer


def _moves(explorer, per: int) -> list:
    """Up to ``per`` values a reader can set on each slider, in increasing order."""
    moves = []
    for p in explorer.params:
        slider = explorer.sliders[p.name]
        if hasattr(slider, "options"):  # a slider over a list of values
            options = list(slider.options)
            values = [options[int(i)] for i in np.unique(np.linspace(0, len(options) - 1, per).round())]
        elif p.integer:
            values = sorted({int(round(v)) for v in np.linspace(p.low, p.high, per)})
        elif p.scale == "log":
            values = [float(v) for v in p.grid(per)]
        else:
            values = [float(v) for v in np.linspace(p.low, p.high, per)]
        moves += [(p, v) for v in values]
    return moves


def record(explorer, path: str) -> dict:
    """Time ``explorer`` through its live widget and append the figures, as a JSON line, to ``path``."""
    widget = explorer.widget  # noqa: F841  (builds the sliders)
    saved = dict(explorer.values)
    moves = _moves(explorer, max(2, MOVES // len(explorer.params)))
    live = []
    for p, v in moves:
        before = explorer.values[p.name]
        start = time.perf_counter()
        explorer.sliders[p.name].value = v
        elapsed = time.perf_counter() - start
        if explorer.values[p.name] != before:  # a move that changed nothing redraws nothing: not timed
            live.append(elapsed)
    naive = []
    for p, v in moves[:: max(1, len(moves) // NAIVE)][:NAIVE]:
        start = time.perf_counter()
        explorer.render_naive(**{**saved, p.name: v})
        naive.append(time.perf_counter() - start)
    for name, value in saved.items():
        explorer.sliders[name].value = value
    html = explorer.static_html()
    row = {
        "notebook": os.environ.get("LOSSBOOK_BENCH_NOTEBOOK", ""),
        "explorer": explorer.name,
        "update_ms": 1e3 * float(np.median(live)) if live else float("nan"),
        "naive_ms": 1e3 * float(np.median(naive)),
        "static_kb": len(html.encode()) / 1024,
    }
    row["ratio"] = row["naive_ms"] / row["update_ms"]
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    return row


def run(notebooks: list[Path]) -> list[dict]:
    """Execute ``notebooks`` with benchmarking on; returns one row per displayed explorer."""
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.jsonl"
        out.touch()
        for nb_path in notebooks:
            os.environ["LOSSBOOK_BENCH"] = str(out)
            os.environ["LOSSBOOK_BENCH_NOTEBOOK"] = nb_path.stem
            os.environ.pop("LOSSBOOK_STATIC", None)
            nb = nbformat.read(nb_path, as_version=4)
            NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=False,
                           resources={"metadata": {"path": str(nb_path.parent)}}).execute()
        return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def table(rows: list[dict]) -> str:
    """The rows as a fixed-width table, with totals."""
    head = f"{'notebook':<28} {'explorer':<28} {'update ms':>9} {'naive ms':>9} {'ratio':>6} {'static KB':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['notebook']:<28} {r['explorer']:<28} {r['update_ms']:9.1f} {r['naive_ms']:9.1f} "
                     f"{r['ratio']:6.1f} {r['static_kb']:9.1f}")
    if rows:
        lines.append("-" * len(head))
        lines.append(f"{len(rows)} explorers: worst update {max(r['update_ms'] for r in rows):.1f} ms, "
                     f"smallest speed-up {min(r['ratio'] for r in rows):.1f}x, "
                     f"largest static {max(r['static_kb'] for r in rows):.0f} KB, "
                     f"total static {sum(r['static_kb'] for r in rows):.0f} KB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    notebooks = [Path(a) for a in args] or sorted(Path("chapters").glob("*.ipynb"))
    if not notebooks:
        print("no notebooks found (run from the repository root, or name them)")
        return 1
    start = time.perf_counter()
    rows = run(notebooks)
    print(table(rows))
    print(f"({len(notebooks)} notebooks in {time.perf_counter() - start:.0f} s; "
          "targets: update <= 30 ms, ratio >= 2, static <= 400 KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
