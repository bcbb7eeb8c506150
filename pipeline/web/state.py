"""What one running 工作台 holds: its folders, the loaded configuration, the workbook cache, the latest run
and the documents job. Every fact comes from the library (report, board, mail); nothing is decided here."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.board import Board, build_board
from pipeline.catalog import Config, load_config
from pipeline.errors import PipelineError
from pipeline.intake.cache import WorkbookCache
from pipeline.intake.ingest import MAX_FILE_BYTES, list_inbox
from pipeline.report import collect
from pipeline.result import Result

log = logging.getLogger("pipeline.web")


@dataclass(frozen=True)
class Limits:
    """Upload limits, from unit.yaml's `workbench` section."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_files: int = 50
    max_request_bytes: int = 200 * 1048576

    @classmethod
    def from_config(cls, config: Config) -> "Limits":
        web = config.settings.get("workbench") or {}

        def number(key: str, default: float) -> float:
            try:
                value = float(web.get(key, default))
            except (TypeError, ValueError):
                return default
            return value if value > 0 else default
        return cls(int(number("max_upload_mb", MAX_FILE_BYTES / 1048576) * 1048576),
                   int(number("max_upload_files", 50)),
                   int(number("max_request_mb", 200) * 1048576))


@dataclass
class Job:
    """The documents run in the background, with its progress for the bar."""

    total: int = 0
    done: int = 0
    stage: str = "正在读取报送文件"
    finished: bool = False
    error: str | None = None
    started: float = field(default_factory=time.time)
    outputs: list[str] = field(default_factory=list)
    pdf_note: str | None = None

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        if not self.total:
            return 5
        return min(90, 5 + int(80 * self.done / self.total))


class Workbench:
    def __init__(self, inbox: Path, out: Path, config_dir: Path | None = None,
                 templates_dir: Path | None = None) -> None:
        self.inbox, self.out = Path(inbox), Path(out)
        from pipeline.profile import resolve_config_dir
        self.config_dir = Path(config_dir) if config_dir else resolve_config_dir()  # the remembered profile
        self.templates_dir = Path(templates_dir) if templates_dir else Path("input_templates")
        self.config = load_config(self.config_dir)
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.cache = WorkbookCache()
        self.run_lock = threading.Lock()      # one run of the pipeline at a time
        self.inbox_lock = threading.Lock()    # one writer of the inbox and its manifest at a time
        self._last: tuple[tuple, Result] | None = None
        self.job: Job | None = None
        self.imap_password: str | None = None  # typed into the page; kept in memory only

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
        """The files in the output folder a page may offer for download (top level, no temporary files)."""
        if not self.out.is_dir():
            return []
        return sorted((p for p in self.out.iterdir() if p.is_file() and not p.is_symlink()
                       and not p.name.startswith((".", "~$"))), key=lambda p: p.name)

    def output_file(self, name: str) -> Path | None:
        """An output file by name, or None: nothing outside the output folder is ever given out."""
        if not name or "/" in name or "\\" in name or "\x00" in name or name in (".", ".."):
            return None
        return next((p for p in self.output_files() if p.name == name), None)

    # ------------------------------------------------------------ documents in the background

    def start_documents(self, pdf: bool) -> Job:
        if self.job is not None and not self.job.finished:
            return self.job
        job = self.job = Job()
        threading.Thread(target=self._documents, args=(job, pdf), name="documents", daemon=True).start()
        return job

    def _documents(self, job: Job, pdf: bool) -> None:
        from pipeline.report import write_outputs
        try:
            paths, _ = list_inbox(self.inbox)
            job.total = len(paths)

            def tick(name: str) -> None:
                job.done += 1
            result = self.result(progress=tick)
            job.done, job.stage = job.total, "正在生成自查报告、得分表、任务分解台账和校验报告"
            written = write_outputs(result, self.out)
            job.outputs = [p.name for p in written.values()]
            if pdf:
                job.stage = "正在用 LibreOffice 把自查报告转为 PDF"
                job.pdf_note = self._pdf(written["report"])
                if job.pdf_note is None:
                    job.outputs.append(written["report"].with_suffix(".pdf").name)
            job.stage = "已完成"
        except PipelineError as exc:
            job.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one Chinese line on the page, the details on the console
            log.exception("生成文件失败")
            job.error = f"生成文件时出错（{exc.__class__.__name__}），详情见运行工作台的窗口"
        finally:
            job.finished = True

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
