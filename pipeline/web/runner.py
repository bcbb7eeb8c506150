"""Jobs of the 工作台 in background threads (contract §12): each runs the very function of pipeline.jobs that the
command line calls; one job at a time per folder it writes; its state, progress, outputs and 【待核实】 list
are kept for `GET /jobs/<id>`. Nothing is decided here but which folder a job holds."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from pipeline.errors import PipelineError
from pipeline.jobs import JobResult, JobStopped

log = logging.getLogger("pipeline.web")

RUNNING, DONE, FAILED = "running", "done", "failed"
KEEP = 50  # finished jobs remembered for GET /jobs/<id>


class Busy(PipelineError):
    """Another job is writing the same folder (answered with 409)."""


@dataclass
class WebJob:
    """One job of the page: what `GET /jobs/<id>` answers."""

    id: str
    command: str
    folder: Path
    title: str
    state: str = RUNNING
    stage: str = "正在准备"
    done: int = 0                  # progress steps heard (files read, for report)
    total: int = 0                 # steps expected, when known
    outputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    message: str = ""
    started: float = field(default_factory=time.time)
    ended: float | None = None
    pdf_note: str | None = None

    # the documents page's progress bar reads these
    @property
    def finished(self) -> bool:
        return self.state != RUNNING

    @property
    def error(self) -> str | None:
        return self.message if self.state == FAILED else None

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        if not self.total:
            return 5
        return min(90, 5 + int(80 * self.done / self.total))

    def tick(self, text: str) -> None:
        self.done += 1
        self.stage = text

    def as_dict(self) -> dict:
        return {"job": self.id, "command": self.command, "state": self.state,
                "progress": {"percent": self.percent, "stage": self.stage, "done": self.done, "total": self.total},
                "outputs": self.outputs, "notes": self.notes, "lines": self.lines, "message": self.message}


def output_names(paths, folder: Path) -> list[str]:
    """Each output as its name under the job's folder (a folder of outputs as its files)."""
    names: list[str] = []
    root = folder.resolve()
    for p in paths:
        p = Path(p)
        files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
        for q in files:
            try:
                names.append(q.resolve().relative_to(root).as_posix())
            except ValueError:
                names.append(q.name)
    return list(dict.fromkeys(names))


class Runner:
    """The jobs of one 工作台: started in threads, one at a time per folder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, WebJob] = {}
        self._busy: dict[str, str] = {}   # resolved folder -> id of the job writing it

    def get(self, job_id: str) -> WebJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def running(self, folder: Path) -> WebJob | None:
        with self._lock:
            job_id = self._busy.get(str(Path(folder).resolve()))
            return self._jobs.get(job_id) if job_id else None

    def start(self, command: str, folder: Path, title: str,
              work: Callable[[WebJob], JobResult], after: Callable[[WebJob, JobResult], None] | None = None) -> WebJob:
        """Start `work` in a thread holding `folder`; Busy (a Chinese line) when another job holds it."""
        key = str(Path(folder).resolve())
        with self._lock:
            other = self._jobs.get(self._busy.get(key, ""))
            if other is not None and not other.finished:
                raise Busy(f"“{other.title}”正在进行（{folder}），请等它完成后再开始“{title}”")
            job = WebJob(uuid.uuid4().hex[:12], command, Path(folder), title)
            self._busy[key] = job.id
            self._jobs[job.id] = job
            self._forget_old()
        threading.Thread(target=self._run, args=(job, key, work, after), name=f"job-{command}", daemon=True).start()
        return job

    @contextmanager
    def hold(self, folder: Path, title: str) -> Iterator[WebJob]:
        """Hold `folder` for work done within the request (Busy when a job holds it), as a job would."""
        key = str(Path(folder).resolve())
        with self._lock:
            other = self._jobs.get(self._busy.get(key, ""))
            if other is not None and not other.finished:
                raise Busy(f"“{other.title}”正在进行（{folder}），请等它完成后再开始“{title}”")
            job = WebJob(uuid.uuid4().hex[:12], "request", Path(folder), title)
            self._busy[key] = job.id
            self._jobs[job.id] = job
        try:
            yield job
        finally:
            job.state, job.ended = DONE, time.time()
            with self._lock:
                if self._busy.get(key) == job.id:
                    del self._busy[key]

    def _run(self, job: WebJob, key: str, work, after) -> None:
        try:
            result = work(job)
            job.outputs = output_names(result.outputs, job.folder)
            job.notes, job.message = list(result.notes), result.message
            job.lines = [line.text for line in result.lines]
            if after is not None:
                after(job, result)
            job.stage = "已完成"
            job.state = DONE
        except JobStopped as exc:
            job.lines = [line.text for line in exc.job.lines]
            job.message, job.state = str(exc), FAILED
        except PipelineError as exc:
            job.message, job.state = str(exc), FAILED
        except Exception as exc:  # noqa: BLE001 - one Chinese line on the page, the details on the console
            log.exception("%s 失败", job.title)
            job.message = f"{job.title}时出错（{exc.__class__.__name__}），详情见运行工作台的窗口"
            job.state = FAILED
        finally:
            job.ended = time.time()
            with self._lock:
                if self._busy.get(key) == job.id:
                    del self._busy[key]

    def _forget_old(self) -> None:
        done = [j for j in self._jobs.values() if j.finished]
        for j in sorted(done, key=lambda j: j.started)[:max(0, len(done) - KEEP)]:
            del self._jobs[j.id]
