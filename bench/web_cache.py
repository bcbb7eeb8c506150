"""Benchmark: the 工作台 after one new file, with parsed workbooks cached by content hash.

python bench/web_cache.py [--workbooks N]   (default 1000; inboxes from bench/generate.py, cached in bench/work/)
Measures, in one process as the running 工作台 is: the board cold (every workbook read), the board again with
nothing changed, the board after one new workbook arrives (a resubmission of one unit), and a full report
(every document) cold versus with the cache warm. Results are printed and written to bench/web_results.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _timed(func):
    start = time.perf_counter()
    value = func()
    return round(time.perf_counter() - start, 3), value


def main() -> None:
    from generate import _base, _personalise, generate, unit_name
    from pipeline.catalog import load_config
    from pipeline.report import collect, write_outputs
    from pipeline.web.state import Workbench

    ap = argparse.ArgumentParser(description="工作台：一个新文件之后的刷新时间")
    ap.add_argument("--workbooks", type=int, default=1000)
    n = ap.parse_args().workbooks
    source, cfg = generate(n, ROOT / "bench" / "work" / str(n))
    work = ROOT / "bench" / "work" / f"web-{n}"
    if work.exists():
        shutil.rmtree(work)
    inbox = work / "inbox"
    shutil.copytree(source, inbox)
    config = load_config(cfg)

    bench = Workbench(inbox, work / "out", cfg)
    cold_board, board = _timed(bench.board)
    same_board, _ = _timed(bench.board)
    resubmission = _personalise(_base(config, 97), unit_name(1))
    (inbox / f"{unit_name(1)}-文明单位创建台账（修改后）.xlsx").write_bytes(resubmission)
    new_board, board = _timed(bench.board)
    assert len(bench.result().merged.records) == n + 1
    misses_after_one = bench.cache.misses

    cold_report, _ = _timed(lambda: write_outputs(collect(inbox, config), work / "out-cold"))
    warm_report, _ = _timed(lambda: write_outputs(collect(inbox, config, cache=bench.cache), work / "out-warm"))
    results = {
        "workbooks": n, "board_cold_s": cold_board, "board_unchanged_s": same_board,
        "board_after_one_new_file_s": new_board, "workbooks_read_after_one_new_file": misses_after_one - n,
        "report_cold_s": cold_report, "report_cache_warm_s": warm_report,
        "report_warm_over_cold": round(warm_report / cold_report, 2),
        "peak_rss_mb_with_cache": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
    print(json.dumps(results, ensure_ascii=False, indent=2))
    (ROOT / "bench" / "web_results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n",
                                                     encoding="utf-8")


if __name__ == "__main__":
    main()
