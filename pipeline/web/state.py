"""What one running 工作台 holds: its folders, the loaded configuration, the workbook cache, the latest run
and the documents job. Every fact comes from the library (report, board, mail); nothing is decided here."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from pipeline.board import Board, build_board
from pipeline.catalog import Config, load_config
from pipeline.errors import PipelineError
from pipeline.intake.cache import WorkbookCache
from pipeline.intake.ingest import MAX_FILE_BYTES, list_inbox
from pipeline.report import collect
from pipeline.result import Result
from pipeline.web.runner import Runner, WebJob

log = logging.getLogger("pipeline.web")
CRASHES_FILE = ".reader-crashes.json"
#: folders of the output folder whose files are outputs too (the 说明报告 as one .txt per section)
OUTPUT_SUBFOLDERS = ("说明报告",)


@dataclass(frozen=True)
class Limits:
    """Upload limits, from unit.yaml's `workbench` section."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_files: int = 50
    max_request_bytes: int = 200 * 1048576

    @classmethod
    def from_config(cls, config: Config) -> "Limits":
        from pipeline import settings
        web = settings.of(config).workbench  # checked when unit.yaml was loaded
        return cls(int(web.max_upload_mb * 1048576), web.max_upload_files, int(web.max_request_mb * 1048576))


class Workbench:
    def __init__(self, inbox: Path, out: Path, config_dir: Path | None = None,
                 templates_dir: Path | None = None, history: Path | None = None) -> None:
        self.inbox, self.out = Path(inbox), Path(out)
        from pipeline.profile import resolve_config_dir
        self.config_dir = Path(config_dir) if config_dir else resolve_config_dir()  # the remembered profile
        self.templates_dir = Path(templates_dir) if templates_dir else Path("input_templates")
        self.history = Path(history) if history else None  # None: the history database's default place
        self.runner = Runner()               # the jobs of the page (pipeline.jobs), one per folder at a time
        self.config = load_config(self.config_dir)
        self.inbox.mkdir(parents=True, exist_ok=True)
        # files that ended a reading worker, by SHA-256, kept beside the outputs: never read again, even after a
        # restart of the 工作台
        self.cache = WorkbookCache(remember=self.out / CRASHES_FILE)
        self.run_lock = threading.Lock()      # one run of the pipeline at a time
        self.inbox_lock = threading.Lock()    # one writer of the inbox and its manifest at a time
        self._last: tuple[tuple, Result] | None = None
        self.job: WebJob | None = None       # the documents page's latest report
        # SMTP passwords typed into the page, in memory only, each for its (host, port, user) (mailguard)
        self.smtp_passwords: dict[tuple[str, int, str], str] = {}
        self.imap_form: dict | None = None     # the mail servers last typed into the page (no passwords)
        self.smtp_form: dict | None = None
        # IMAP passwords typed into the page, in memory only, each for the (host, port, user) it logged in to
        # (pipeline/web/mailguard.py); never offered to another server or user
        self.imap_passwords: dict[tuple[str, int, str], str] = {}
        self.imap_confirmed: set[tuple[str, int]] = set()  # typed servers confirmed and logged in to

    @property
    def limits(self) -> Limits:
        return Limits.from_config(self.config)

    def reload_config(self) -> None:
        self.config = load_config(self.config_dir)
        self._last = None

    def _signature(self) -> tuple:
        sig = []
        for p in sorted(p for p in self.inbox.rglob("*") if p.is_file()):
            try:
                st = p.stat()
            except OSError:
                continue
            sig.append((p.relative_to(self.inbox).as_posix(), st.st_size, st.st_mtime_ns))
        return (id(self.config), tuple(sig))

    def result(self, progress=None) -> Result:
        """The run over the current inbox; the same files give the same run back without reading again."""
        with self.run_lock:
            sig = self._signature()
            if self._last is not None and self._last[0] == sig:
                return self._last[1]
            result = collect(self.inbox, self.config, progress=progress, cache=self.cache)
            self._last = (sig, result)
            return result

    def board(self) -> Board:
        return build_board(self.result(), self.inbox)

    def output_files(self) -> list[Path]:
        """The files in the output folder a page may offer for download: the top level and the 说明报告 texts
        (no temporary or hidden files, no links)."""
        if not self.out.is_dir():
            return []
        found = []
        for folder in (self.out, *(self.out / d for d in OUTPUT_SUBFOLDERS)):
            if folder.is_dir() and not folder.is_symlink():
                found += [p for p in folder.iterdir() if p.is_file() and not p.is_symlink()
                          and not p.name.startswith((".", "~$"))]
        return sorted(found, key=self.output_name)

    def output_name(self, path: Path) -> str:
        """An output file's name as /files/<name> takes it: `x.docx`, or `说明报告/1.txt`."""
        return path.relative_to(self.out).as_posix()

    def output_file(self, name: str) -> Path | None:
        """An output file by name, or None: nothing outside the output folder is ever given out."""
        if not name or "\\" in name or "\x00" in name or name.count("/") > 1:
            return None
        if any(part in ("", ".", "..") for part in name.split("/")):
            return None
        return next((p for p in self.output_files() if self.output_name(p) == name), None)

    # ------------------------------------------------------------ documents in the background

    def report_job(self, job: WebJob, year: int | None = None, replace_history: bool = False):
        """The `report` job over the inbox (pipeline.jobs.report, as the command line runs it: the same outputs,
        the history recorded; a smaller run replaces the year's record only with `replace_history`, which the
        page sends once the coordinator confirmed), its progress counted in files read."""
        from pipeline import jobs
        paths, _ = list_inbox(self.inbox)
        job.total, job.stage = len(paths), "正在读取报送文件"

        def tick(name: str) -> None:
            job.tick(f"正在读取报送文件：{name}")
            if job.done >= job.total:
                job.stage = "正在生成自查报告、得分表、任务分解台账和校验报告"
        return jobs.report(self.inbox, self.out, self.config, year, history=self.history, progress=tick,
                           cache=self.cache, replace_history=replace_history)

    def start_documents(self, pdf: bool) -> WebJob:
        running = self.runner.running(self.out)
        if running is not None:
            return running
        self.job = self.runner.start("report", self.out, "生成全部文件", self.report_job,
                                     after=self._after_pdf if pdf else None)
        return self.job

    def _after_pdf(self, job: WebJob, result) -> None:
        report = next((p for p in result.outputs if p.name.endswith(".docx") and "自查报告" in p.name), None)
        if report is None:
            return
        job.stage = "正在用 LibreOffice 把自查报告转为 PDF"
        job.pdf_note = self._pdf(report)
        if job.pdf_note is None:
            job.outputs.append(report.with_suffix(".pdf").name)

    @staticmethod
    def _pdf(docx: Path) -> str | None:
        from pipeline.documents import pdf
        if pdf.soffice() is None:
            return pdf_missing_line()
        try:
            pdf.convert(docx)
        except PipelineError as exc:
            return str(exc)
        return None


def pdf_missing_line() -> str | None:
    from pipeline.documents import pdf
    if pdf.soffice() is None:
        return "本机未安装 LibreOffice，无法生成 PDF；可用 Word 或 WPS 打开 .docx 后另存为 PDF 打印"
    return None
