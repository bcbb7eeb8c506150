"""Benchmark: the pipeline against the raw parse limit and the naive openpyxl path, in one run.

python bench/run.py [--workbooks N ...]   (default: 10 100 1000)
Each measurement runs in its own child process so its peak memory (RSS, children included) is its own.
Results are printed as a table and written to bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def raw_calamine(inbox: str) -> dict:
    """The parse limit: every sheet of every workbook with python-calamine and nothing else."""
    from python_calamine import CalamineWorkbook
    cells = 0
    for path in sorted(Path(inbox).glob("*.xlsx")):
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            cells += sum(len(r) for r in wb.get_sheet_by_name(name).to_python())
        wb.close()
    return {"cells": cells}


def pipeline_report(inbox: str, config: str, out: str) -> dict:
    """The full `report`: ingest, validate, merge, score and every document."""
    from pipeline.catalog import load_config
    from pipeline.report import collect, write_outputs
    result = collect(inbox, load_config(config))
    write_outputs(result, out)
    return {"stages": result.timings, "rows": result.row_counts()}


def naive_openpyxl(inbox: str) -> dict:
    """What a user would write instead: pandas.read_excel with its default openpyxl engine."""
    import pandas as pd
    rows = 0
    for path in sorted(Path(inbox).glob("*.xlsx")):
        for frame in pd.read_excel(path, sheet_name=None, header=None).values():
            rows += len(frame)
    return {"rows": rows}


def _child(func, args, queue) -> None:
    start = time.perf_counter()
    info = func(*args)
    wall = time.perf_counter() - start
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    queue.put({"wall_s": round(wall, 3), "peak_rss_mb": round(peak / 1024, 1), **info})


def measure(func, *args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(func, args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    from generate import generate
    ap = argparse.ArgumentParser(description="文明单位创建自查：性能基准")
    ap.add_argument("--workbooks", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--skip-openpyxl-above", type=int, default=10**9,
                    help="skip the slow openpyxl path for N above this")
    args = ap.parse_args()
    runs = []
    for n in args.workbooks:
        inbox, cfg = generate(n, ROOT / "bench" / "work" / str(n))
        out = ROOT / "bench" / "out" / str(n)
        raw = measure(raw_calamine, str(inbox))
        full = measure(pipeline_report, str(inbox), str(cfg), str(out))
        naive = measure(naive_openpyxl, str(inbox)) if n <= args.skip_openpyxl_above else None
        run = {"workbooks": n, "raw_calamine": raw, "report": full, "openpyxl": naive,
               "report_over_raw": round(full["wall_s"] / raw["wall_s"], 2),
               "openpyxl_over_report": round(naive["wall_s"] / full["wall_s"], 2) if naive else None}
        runs.append(run)
        _print(run)
    machine = {"python": platform.python_version(), "cpus": mp.cpu_count(), "platform": platform.platform()}
    (ROOT / "bench" / "results.json").write_text(json.dumps({"machine": machine, "runs": runs}, ensure_ascii=False,
                                                            indent=2) + "\n", encoding="utf-8")


def _print(run: dict) -> None:
    n, raw, full, naive = run["workbooks"], run["raw_calamine"], run["report"], run["openpyxl"]
    print(f"\nN = {n} workbooks ({full['rows']['roster']['read']} roster, {full['rows']['activities']['read']} activity,"
          f" {full['rows']['documents']['read']} document rows)")
    print(f"  {'measurement':<34}{'wall s':>9}{'peak RSS MB':>13}")
    print(f"  {'1 raw calamine parse':<34}{raw['wall_s']:>9.2f}{raw['peak_rss_mb']:>13.0f}")
    print(f"  {'2 pipeline report (full)':<34}{full['wall_s']:>9.2f}{full['peak_rss_mb']:>13.0f}")
    for stage, secs in full["stages"].items():
        print(f"      {stage:<30}{secs:>9.2f}")
    if naive:
        print(f"  {'3 pandas + openpyxl ingest':<34}{naive['wall_s']:>9.2f}{naive['peak_rss_mb']:>13.0f}")
    print(f"  ratio 2/1 = {run['report_over_raw']}" + (f", ratio 3/2 = {run['openpyxl_over_report']}" if naive else ""))


if __name__ == "__main__":
    main()
