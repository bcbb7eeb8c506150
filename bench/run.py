"""Benchmark: `report` against the raw parse limit on one and on two processes, in one run.

python bench/run.py [--workbooks N ...] [--openpyxl-up-to N] [--no-spawn]     (default N: 10 100 1000)

For each N, one after the other on the same generated inbox (`bench/generate.py`), each in a fresh child
process started with 'spawn' so that its imports, its memory and its children are its own:

1. raw calamine parse, one process: every sheet of every workbook with python-calamine and nothing else;
2. raw calamine parse, two processes: the same files shared out between two worker processes (pool start
   included) — the parse limit of this 2-core machine, and the figure the report is judged against;
3. `report` (collect + write_outputs: ingest, validate, merge, score, every document) with the platform's
   start method (fork on Linux), with its stage times;
4. the same `report` as Windows runs it (WENMING_START_METHOD=spawn: no fork anywhere);
5. pandas + openpyxl ingest (the obvious alternative), up to --openpyxl-up-to workbooks.

CPU: user + system seconds of the measured process and its children (what the load of other users inflates
least). Memory: `peak RSS` is the largest resident set of any one process of the measurement (getrusage);
`tree peak` is the largest sum, sampled every 50 ms, of the proportional set sizes (PSS: pages shared
between a parent and its forked children counted once) of the measured process and all its descendants.
The machine is shared: the 1-minute load average is recorded before and after each N, and only ratios
measured side by side in one run mean much. Results: bench/results.json (one entry per run appended to
bench/results_log.jsonl too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

START_ENV = "WENMING_START_METHOD"


def _parse(paths: list[str]) -> int:
    from python_calamine import CalamineWorkbook
    cells = 0
    for path in paths:
        wb = CalamineWorkbook.from_path(path)
        for name in wb.sheet_names:
            cells += sum(len(r) for r in wb.get_sheet_by_name(name).to_python())
        wb.close()
    return cells


def raw_one(inbox: str) -> dict:
    """The parse limit on one process."""
    return {"cells": _parse([str(p) for p in sorted(Path(inbox).glob("*.xlsx"))])}


def raw_two(inbox: str) -> dict:
    """The parse limit on two processes: the files dealt out in small chunks to two workers (as any pool would)."""
    from concurrent.futures import ProcessPoolExecutor
    paths = [str(p) for p in sorted(Path(inbox).glob("*.xlsx"))]
    chunks = [paths[i:i + 8] for i in range(0, len(paths), 8)]
    with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
        return {"cells": sum(pool.map(_parse, chunks))}


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


def _child(func, args, env, queue) -> None:
    os.environ.update(env)
    start = time.perf_counter()
    info = func(*args)
    wall = time.perf_counter() - start
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime   # this process and its finished children
    queue.put({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
               "peak_rss_mb": round(max(me.ru_maxrss, kids.ru_maxrss) / 1024, 1), **info})


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class _TreeSampler(threading.Thread):
    """The largest sum of PSS over a process and its descendants, sampled every 50 ms (Linux /proc)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        if not os.path.exists("/proc/self/smaps_rollup"):
            return
        while not self.stop.wait(0.05):
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in _descendants(self.pid)))


def measure(func, *args, env: dict | None = None) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(func, args, env or {}, queue))
    proc.start()
    sampler = _TreeSampler(proc.pid)
    sampler.start()
    while True:   # a child that dies without an answer (killed, out of memory) ends the run with its exit code
        try:
            result = queue.get(timeout=1)
            break
        except Exception:  # noqa: BLE001 - queue.Empty
            if not proc.is_alive():
                sampler.stop.set()
                raise SystemExit(f"{func.__name__} {args}: the measuring process ended with {proc.exitcode}")
    proc.join()
    sampler.stop.set()
    sampler.join()
    result["tree_peak_mb"] = round(sampler.peak_kb / 1024, 1) if sampler.peak_kb else None
    return result


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def main() -> None:
    from generate import generate
    ap = argparse.ArgumentParser(description="文明单位创建自查：性能基准")
    ap.add_argument("--workbooks", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--openpyxl-up-to", type=int, default=100, help="run the slow openpyxl path up to this N")
    ap.add_argument("--no-spawn", action="store_true", help="skip the report under the spawn start method")
    ap.add_argument("--distinct", action="store_true",
                    help="every unit with titles, dates and highlights of its own (bench/generate.py --distinct)")
    args = ap.parse_args()
    runs = []
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
    for n in args.workbooks:
        name = f"{n}-distinct" if args.distinct else str(n)
        inbox, cfg = generate(n, ROOT / "bench" / "work" / name, args.distinct)
        _parse([str(p) for p in sorted(Path(inbox).glob("*.xlsx"))[:50]])  # the files into the page cache
        for p in Path(inbox).glob("*.xlsx"):
            p.read_bytes()
        out = ROOT / "bench" / "out" / name
        run = {"workbooks": n, "distinct": args.distinct, "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "load_before": load_average()}
        run["raw_one"] = measure(raw_one, str(inbox))
        run["raw_two"] = measure(raw_two, str(inbox))
        run["report"] = measure(pipeline_report, str(inbox), str(cfg), str(out), env={START_ENV: "fork"})
        run["report_spawn"] = None if args.no_spawn else measure(
            pipeline_report, str(inbox), str(cfg), str(out / "spawn"), env={START_ENV: "spawn"})
        run["openpyxl"] = measure(naive_openpyxl, str(inbox)) if n <= args.openpyxl_up_to else None
        run["load_after"] = load_average()
        rep, two = run["report"]["wall_s"], run["raw_two"]["wall_s"]
        run["ratios"] = {
            "report_over_raw_two": round(rep / two, 2),
            "report_over_raw_one": round(rep / run["raw_one"]["wall_s"], 2),
            "raw_one_over_raw_two": round(run["raw_one"]["wall_s"] / two, 2),
            "report_cpu_over_raw_cpu": round(run["report"]["cpu_s"] / run["raw_one"]["cpu_s"], 2),
            "spawn_over_fork": round(run["report_spawn"]["wall_s"] / rep, 2) if run["report_spawn"] else None,
            "openpyxl_over_report": round(run["openpyxl"]["wall_s"] / rep, 2) if run["openpyxl"] else None,
        }
        runs.append(run)
        _print(run)
        with open(ROOT / "bench" / "results_log.jsonl", "a", encoding="utf-8") as log:   # each N as it is done
            log.write(json.dumps({"machine": machine, **run}, ensure_ascii=False) + "\n")
    (ROOT / "bench" / "results.json").write_text(json.dumps({"machine": machine, "runs": runs}, ensure_ascii=False,
                                                            indent=2) + "\n", encoding="utf-8")


def _print(run: dict) -> None:
    n, rep = run["workbooks"], run["report"]
    rows = rep["rows"]
    kind = ", each unit's own titles, dates and highlights" if run.get("distinct") else ""
    print(f"\nN = {n} workbooks{kind} ({rows['roster']['read']} roster, {rows['activities']['read']} activity,"
          f" {rows['documents']['read']} document rows); load average {run['load_before']} before,"
          f" {run['load_after']} after")
    print(f"  {'measurement':<36}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}{'tree peak MB':>14}")

    def line(label: str, m: dict | None) -> None:
        if m:
            tree = f"{m['tree_peak_mb']:>14.0f}" if m.get("tree_peak_mb") else f"{'':>14}"
            print(f"  {label:<36}{m['wall_s']:>9.2f}{m['cpu_s']:>9.2f}{m['peak_rss_mb']:>13.0f}{tree}")

    line("raw calamine parse, 1 process", run["raw_one"])
    line("raw calamine parse, 2 processes", run["raw_two"])
    line("report (fork)", rep)
    for stage, secs in rep["stages"].items():
        print(f"      {stage:<32}{secs:>9.2f}")
    line("report (spawn, as on Windows)", run["report_spawn"])
    if run["report_spawn"]:
        print("      " + ", ".join(f"{k} {v:.2f}" for k, v in run["report_spawn"]["stages"].items()))
    line("pandas + openpyxl ingest", run["openpyxl"])
    r = run["ratios"]
    print(f"  report / raw 2 processes = {r['report_over_raw_two']}   report / raw 1 process = {r['report_over_raw_one']}"
          f"   raw 1 / raw 2 = {r['raw_one_over_raw_two']}   report CPU / raw CPU = {r['report_cpu_over_raw_cpu']}"
          + (f"   spawn / fork = {r['spawn_over_fork']}" if r["spawn_over_fork"] else "")
          + (f"   openpyxl / report = {r['openpyxl_over_report']}" if r["openpyxl_over_report"] else ""))


if __name__ == "__main__":
    main()
