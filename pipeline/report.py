"""The `report` run: ingest the inbox, merge, score, and write every output atomically."""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from pipeline.catalog import METRIC_KEYS, Config
from pipeline.errors import InboxError
from pipeline.intake.ingest import FileRecord, list_inbox, read_workbook
from pipeline.intake.merge import Checked, merge
from pipeline.issues import Issue
from pipeline.result import Result
from pipeline.score import compute_metrics, department_metric_counts, score_standards

POOL_MIN_FILES = 24  # below this, starting worker processes costs more than it saves
MAX_WORKERS = 4


LEDGER_CHILD_ROWS = 100_000  # above this many rows the ledger is written by a child process meanwhile


def _start_ledger(result: Result, path: Path):
    """A large ledger is written in a forked child while the parent writes the other documents."""
    from pipeline.documents.render_xlsx import write_ledger
    rows = sum(len(f) for f in result.merged.frames.values())
    if rows < LEDGER_CHILD_ROWS or "fork" not in mp.get_all_start_methods():
        write_ledger(result, path)
        return None
    child = mp.get_context("fork").Process(target=write_ledger, args=(result, path))  # may fork its own
    child.start()
    return child


def _finish_ledger(child, result: Result, path: Path) -> None:
    if child is None:
        return
    child.join()
    if child.exitcode != 0:  # the child failed: write it here, so the ledger is never missing
        from pipeline.documents.render_xlsx import write_ledger
        write_ledger(result, path)


def sort_issues(issues: list[Issue], config: Config) -> list[Issue]:
    order = {d: i for i, d in enumerate(config.department_names)}
    return sorted(issues, key=lambda i: (order.get(i.department, len(order)), i.file or "", i.sheet or "",
                                         i.row or 0, i.column or ""))


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector for a run. The pipeline builds millions of short-lived plain
    objects that reference counting frees; full collections over them cost seconds at city scale and
    find nothing (peak memory measured the same either way)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def collect(inbox: str | Path, config: Config, year: int | None = None,
            progress: Callable[[str], None] | None = None, cache=None) -> Result:
    """Read, validate, merge and score an inbox (no files written). With a `WorkbookCache`
    (pipeline.intake.cache), workbooks read before with the same content are not read again."""
    with gc_paused():
        return _collect(Path(inbox), config, year, progress, cache)


def _collect(inbox: Path, config: Config, year: int | None,
             progress: Callable[[str], None] | None, cache=None) -> Result:
    if not inbox.is_dir():
        raise InboxError(f"收件箱文件夹不存在：{inbox}")
    year = year or config.year
    clock = _Clock()
    paths, issues = list_inbox(inbox)
    checked = cache.checked(config, year) if cache else Checked(config, year)  # validates each batch of workbooks while the next ones are read
    records = []
    reading = cache.read_all(paths, inbox, config, progress, read_all) if cache else read_all(paths, inbox, config, progress)
    for rec in reading:
        records.append(rec)
        checked.add(rec)
    clock.lap("ingest_validate")
    merged = merge(records, config, year, checked)
    clock.lap("merge")
    roster = merged.used("roster")
    metrics = compute_metrics(config, roster)
    standards = score_standards(config, metrics, merged.used("activities"), merged.used("documents"),
                                set(merged.winners))
    by_dept = department_metric_counts(roster)
    zero = {k: (0, 0) for k in METRIC_KEYS}
    dept_counts = {d: by_dept.get(d, zero) for d in merged.winners}
    all_issues = sort_issues(issues + merged.issues, config)
    clock.lap("score")
    return Result(config, year, merged, metrics, standards, dept_counts, all_issues, timings=clock.laps)


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 4)
        self._last = now


_WORKER: dict = {}


def _init_worker(inbox: Path, config: Config) -> None:
    gc.disable()  # a worker lives for one pool; reference counting frees what it builds
    _WORKER["args"] = (inbox, config)


def _read_in_worker(path: Path) -> FileRecord:
    return read_workbook(path, *_WORKER["args"])


def read_all(paths: list[Path], inbox: Path, config: Config,
             progress: Callable[[str], None] | None = None) -> Iterator[FileRecord]:
    """Read every workbook, yielding each record in path order as soon as it is read; a process pool
    uses every core when there are many files."""
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if len(paths) < POOL_MIN_FILES or workers < 2:
        for path in paths:
            if progress:
                progress(path.relative_to(inbox).as_posix())
            yield read_workbook(path, inbox, config)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(inbox, config)) as pool:
        chunk = max(1, len(paths) // (workers * 32))  # small chunks: no worker idles long at the end
        for rec in pool.map(_read_in_worker, paths, chunksize=chunk):
            if progress:
                progress(rec.name)
            yield rec


def scores_dict(result: Result) -> dict:
    """scores.json as the contract (section 6) shows it."""
    cfg = result.config
    departments = []
    for dept in cfg.department_names:
        win = result.merged.winners.get(dept)
        errors, warnings = result.department_issue_counts(dept)
        counts = result.department_counts.get(dept, {})
        departments.append({
            "name": dept, "submitted": win is not None, "file": win.name if win else None,
            "superseded": [r.name for r in result.merged.superseded.get(dept, [])],
            "errors": errors, "warnings": warnings,
            "metrics": {k: {"numerator": counts[k][0], "denominator": counts[k][1],
                            "value": round(counts[k][0] / counts[k][1], 6) if counts[k][1] else None}
                        for k in cfg.metrics if k in counts},
        })
    return {
        "unit": cfg.unit, "year": result.year, "catalog": cfg.catalog_id,
        "metrics": {k: m.as_dict() for k, m in result.metrics.items()},
        "standards": [{"code": s.standard.code, "title": s.standard.title, "status": s.status,
                       "activities": s.activities, "documents": s.documents,
                       "responsible": list(s.standard.responsible), "metrics": list(s.standard.metrics)}
                      for s in result.standards],
        "departments": departments,
        "rows": result.row_counts(),
        "issues": [i.as_dict() for i in result.issues],
    }


def output_names(config: Config, year: int) -> dict[str, str]:
    return {
        "report": f"{year}年{config.unit}创建文明单位工作自查报告.docx",
        "scores_xlsx": f"{year}年文明单位创建测评得分表.xlsx",
        "ledger": f"{year}年文明单位创建任务分解一览台账.xlsx",
        "validation": f"{year}年文明单位创建台账校验报告.xlsx",
        "json": "scores.json",
    }


def write_outputs(result: Result, out_dir: str | Path) -> dict[str, Path]:
    """Write every document; each is written to a temporary file and renamed into place."""
    with gc_paused():
        return _write_outputs(result, Path(out_dir))


def _write_outputs(result: Result, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".tmp-*"):  # left by a run that was killed half-way
        stale.unlink(missing_ok=True)
    names = output_names(result.config, result.year)
    paths = {k: out / v for k, v in names.items()}
    clock = _Clock()
    ledger = _start_ledger(result, paths["ledger"])
    if ledger is None:
        clock.lap("write_ledger_xlsx")
    from pipeline.atomic import atomic_write_json  # the Word libraries load while the ledger child works
    from pipeline.documents.render_docx import write_self_report
    from pipeline.documents.render_xlsx import write_scores_workbook, write_validation_report
    write_validation_report(result, paths["validation"])
    clock.lap("write_validation_xlsx")
    write_scores_workbook(result, paths["scores_xlsx"])
    clock.lap("write_scores_xlsx")
    write_self_report(result, paths["report"])
    clock.lap("write_report_docx")
    atomic_write_json(paths["json"], scores_dict(result))
    clock.lap("write_json")
    if ledger is not None:
        _finish_ledger(ledger, result, paths["ledger"])
        clock.lap("write_ledger_xlsx")  # the wait for the child, after the other documents
    result.timings.update(clock.laps)
    result.outputs = paths
    return paths
