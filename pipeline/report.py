"""Reading and scoring an inbox (`collect`) and writing the `report` set of outputs atomically (`write_outputs`);
the command itself is pipeline.jobs.report."""

from __future__ import annotations

import gc
import itertools
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from pipeline.catalog import METRIC_KEYS, Config
from pipeline.atomic import output_set
from pipeline.errors import InboxError, OutputError
from pipeline.intake.ingest import FileRecord, list_inbox
from pipeline.issues import Issue

# pandas (0.3 s to import) comes with merge, score and result: they are imported once the reading workers are
# at work, so that the import overlaps the reading (the workers themselves never need pandas); so are the
# documents' writers
if TYPE_CHECKING:
    from pipeline.result import Result


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
    from pipeline.documents import official
    official.activate(config, year)   # every document and workbook of this run: the year's official wording
    clock = _Clock()
    paths, issues = list_inbox(inbox)
    reading = iter(cache.read_all(paths, inbox, config, progress, read_all) if cache
                   else read_all(paths, inbox, config, progress))
    first = next(reading, None)  # the workers are reading: what follows loads pandas meanwhile
    from pipeline.intake.merge import Checked, merge
    from pipeline.result import Result
    from pipeline.score import compute_metrics, department_metric_counts, score_standards
    # and the writers' modules with openpyxl and python-docx (0.2 s), which `report` needs next
    from pipeline.documents import render_docx, render_xlsx  # noqa: F401
    checked = cache.checked(config, year) if cache else Checked(config, year)  # validates each batch of workbooks while the next ones are read
    records = []
    for rec in itertools.chain(() if first is None else (first,), reading):
        records.append(rec)
        checked.add(rec)
    clock.lap("ingest_validate")
    merged = merge(records, config, year, checked)
    clock.lap("merge")
    roster = merged.used("roster")
    metrics = compute_metrics(config, roster)
    standards = score_standards(config, metrics, merged.used("activities"), merged.used("documents"),
                                set(merged.winners))
    by_dept = department_metric_counts(roster, config)
    zero = {k: (0, 0) for k in (*METRIC_KEYS, *config.metrics)}
    dept_counts = {d: by_dept.get(d, zero) for d in merged.winners}
    from pipeline.documents.highlights import highlight_issues
    clock.lap("score")
    from pipeline.intake.evidence import apply_to_standards, check_evidence
    evidence = check_evidence(inbox, config, year, merged)
    apply_to_standards(standards, evidence, config)
    if evidence.enabled:  # a photo or PDF is evidence (matched, or listed as unassigned), not an ignored file
        as_evidence = {f.name for f in evidence.files}
        issues = [i for i in issues if not (i.code == "file-ignored" and i.file in as_evidence)]
    all_issues = sort_issues(issues + merged.issues + highlight_issues(merged, config) + evidence.issues, config)
    clock.lap("evidence")
    return Result(config, year, merged, metrics, standards, dept_counts, all_issues, timings=clock.laps,
                  evidence=evidence)


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 4)
        self._last = now


def read_all(paths: list[Path], inbox: Path, config: Config,
             progress: Callable[[str], None] | None = None) -> Iterator[FileRecord]:
    """Read every workbook in isolated worker processes (pipeline.intake.isolate), yielding each record in path
    order as soon as it is read; a crash while reading one file makes only that file unreadable."""
    from pipeline.intake.isolate import read_all as isolated
    return isolated(paths, inbox, config, progress)


def output_names(config: Config, year: int) -> dict[str, str]:
    return {
        "report": f"{year}年{config.unit}创建文明单位工作自查报告.docx",
        "scores_xlsx": f"{year}年文明单位创建测评得分表.xlsx",
        "ledger": f"{year}年文明单位创建任务分解一览台账.xlsx",
        "validation": f"{year}年文明单位创建台账校验报告.xlsx",
        "json": "scores.json",
        "internal": f"{year}年创建文明单位工作情况提示（内部）.docx",
    }


def check_out_dir(inbox: str | Path, out: str | Path) -> None:
    """The output folder must be a folder and must not lie inside the inbox (the next run would read its own
    outputs as submissions)."""
    inbox_r, out_r = Path(inbox).resolve(), Path(out).resolve()
    if out_r == inbox_r or inbox_r in out_r.parents:
        raise OutputError(f"输出文件夹 {out} 在收件箱 {inbox} 里面，下次运行会把输出当成报送文件读入；"
                          "请换一个收件箱以外的输出文件夹（如 output）")
    if Path(out).exists() and not Path(out).is_dir():
        raise OutputError(f"输出位置 {out} 是一个文件，不是文件夹，请换一个文件夹名")


def write_outputs(result: Result, out_dir: str | Path) -> dict[str, Path]:
    """Write every document into a staging folder and swap the set into place (pipeline.atomic.output_set)."""
    with gc_paused():
        out = Path(out_dir)
        with output_set(out, "report") as stage:
            staged, failed = _write_outputs(result, stage)
            if result.sample:
                from pipeline.documents.sample import mark_sample
                mark_sample(stage)
        paths = {k: out / p.name for k, p in staged.items()}
        result.outputs = paths
        if failed is not None:  # a broken wording entry: the other outputs are in place, then its message
            raise failed
        return paths


def _write_outputs(result: Result, out: Path) -> tuple[dict[str, Path], Exception | None]:
    names = output_names(result.config, result.year)
    paths = {k: out / v for k, v in names.items()}
    clock = _Clock()
    from pipeline.documents.render_xlsx import write_ledger
    # The ledger and the Word documents are written here; the small outputs (counts and issues, no rows) by a
    # forked child beside the Word documents where there is fork, else here afterwards
    write_ledger(result, paths["ledger"])
    clock.lap("write_ledger_xlsx")
    beside = _start_small_outputs(result, paths)
    try:
        failed = _write_word_documents(result, out, paths, names, clock)
    except BaseException:  # the set is abandoned: the child must not go on writing into it
        _stop_small_outputs(beside)
        raise
    laps = _finish_small_outputs(beside)
    clock.lap("write_small_wait")
    if laps is None:  # no child, or it did not finish: written here (a failure then raises as it would have)
        _write_small_outputs(result, paths, clock)
    else:
        clock.laps.update(laps)
    result.timings.update(clock.laps)
    return {k: p for k, p in paths.items() if p.exists()}, failed


def _write_word_documents(result: Result, out: Path, paths: dict[str, Path], names: dict[str, str],
                          clock: _Clock) -> Exception | None:
    """The 自查报告, the 内部提示 and the 说明报告; a broken wording entry or template is returned, not raised:
    the other outputs are still written, then its message."""
    from pipeline.documents.render_docx import ReportRun, write_internal_notice, write_self_report
    from pipeline.errors import PipelineError
    run, failed = ReportRun(), None
    try:
        write_self_report(result, paths["report"], run)
        write_internal_notice(result, paths["internal"], run, names["validation"], run.date_text)
    except PipelineError as exc:
        failed = exc
    result.notes = run.notes
    clock.lap("write_report_docx")
    if failed is None:
        from pipeline.documents.filing import write_filing
        paths["filing"], paths["filing_txt"], sections = write_filing(result, out)
        result.messages += [f"说明报告“{s.title}”{s.before}字，超过上限，已按优先级删减为{s.count}字"
                            for s in sections if s.shortened]
        clock.lap("write_filing_docx")
    return failed


SMALL_BESIDE_MIN_FILES = 50  # from this many workbooks the small outputs are written by a child process
SMALL_OUTPUTS_SECONDS = 120  # a child not done by then is stopped and they are written here (0.7 s at 1,000)


def _write_small_outputs(result: Result, paths: dict[str, Path], clock: _Clock) -> None:
    """The 校验报告, the 测评得分表 and scores.json: counts, statuses and issues of the run, no rows."""
    from pipeline.atomic import atomic_write_json
    from pipeline.documents.render_xlsx import write_scores_workbook, write_validation_report
    from pipeline.result import scores_dict
    write_validation_report(result, paths["validation"])  # streamed: 0.3 s for 1,000 department sheets
    clock.lap("write_validation_xlsx")
    write_scores_workbook(result, paths["scores_xlsx"])
    clock.lap("write_scores_xlsx")
    atomic_write_json(paths["json"], scores_dict(result))
    clock.lap("write_json")


def _start_small_outputs(result: Result, paths: dict[str, Path]):
    """A forked child writing the small outputs, and the end of the pipe their stage times come back on; None
    without fork (Windows: written here afterwards), off the main thread (the 工作台's jobs: another thread
    may hold a lock the child would need) or for a small inbox (not worth a process). The child holds nothing
    of the parent's and prints nothing (isolate's detach_child and quiet_child, as a reading worker).
    A forked child keeps every page the parent changes while it runs (each row the parent reads changes its
    objects' counts): it runs beside the Word documents, not beside the ledger, which reads millions of
    cells (150 MB more at 1,000 workbooks; so did a forked child for the ledger itself until 2026-12).
    Spawned, it would import pandas and openpyxl first, which takes as long as the writing it saves."""
    from pipeline.intake.isolate import start_method
    if len(result.merged.records) < SMALL_BESIDE_MIN_FILES or start_method() != "fork" \
            or threading.current_thread() is not threading.main_thread():
        return None
    import multiprocessing as mp
    _trim_heap()
    ctx = mp.get_context("fork")
    try:
        receiving, sending = ctx.Pipe(duplex=False)
    except OSError:  # no descriptors left: written here afterwards
        return None
    child = ctx.Process(target=_small_outputs_child, args=(result, paths, sending),
                        name="pipeline-small-outputs", daemon=True)
    try:
        child.start()
    except OSError:  # no process to be had: written here afterwards
        receiving.close()
        return None
    finally:
        sending.close()
    return child, receiving


def _trim_heap() -> None:
    """Hand the heap's free pages back to the system before forking (glibc): pages the ledger freed would be
    shared, then copied by parent and child alike as each allocates into them (20 MB at 1,000 workbooks)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim this way
        pass


def _small_outputs_child(result: Result, paths: dict[str, Path], sending) -> None:
    clock = _Clock()  # forked: the run's official wording and the paused collector come with the process
    try:
        from pipeline.intake.isolate import detach_child, quiet_child
        detach_child(sending, die_with_parent=True)
        quiet_child(os.devnull)
        _write_small_outputs(result, paths, clock)
        sending.send(clock.laps)
    except BaseException:  # noqa: BLE001 - the parent writes them itself and meets the failure there
        os._exit(1)


def _finish_small_outputs(beside) -> dict[str, float] | None:
    """The child's stage times once it is done; None when there was no child, or it failed or hung (then it is
    stopped)."""
    if beside is None:
        return None
    from multiprocessing.connection import wait
    child, receiving = beside
    laps = None
    try:
        if wait([receiving, child.sentinel], SMALL_OUTPUTS_SECONDS) and receiving.poll():
            laps = receiving.recv()
    except (EOFError, OSError):
        pass
    finally:
        receiving.close()
        child.join(timeout=5 if laps is not None else 0)
        if child.is_alive():
            child.kill()
            child.join()
    return laps if child.exitcode == 0 else None


def _stop_small_outputs(beside) -> None:
    if beside is not None:
        child, receiving = beside
        receiving.close()
        child.kill()
        child.join()
