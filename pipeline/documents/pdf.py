"""Word to PDF with LibreOffice, for printing and for counting pages: the one place that runs `soffice`.

Every run:
- gets its own throwaway profile, passed as an absolute `file:` URI built by `Path.resolve().as_uri()`
  (`file:///home/…/profile`, `file:///C:/Users/…/profile` on Windows; a relative folder such as `output/…` made
  `file://output/…`, a URL naming a host, and soffice waited for minutes), and its inputs as such URIs too;
- runs in a process group of its own (POSIX: a new session; Windows: CREATE_NEW_PROCESS_GROUP), and when it ends,
  fails or outlives its time limit the whole group is killed (`os.killpg`; `taskkill /T /F` on Windows), so no
  `soffice.bin` is left running;
- reports each converted file to `progress` as LibreOffice announces it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from pipeline.errors import PipelineError

TIMEOUT = 300          # seconds for one document
PER_FILE = 10          # seconds more for every further document of one run
MISSING = "未安装 LibreOffice，无法转为 PDF；可用 Word 或 WPS 打开 .docx 后另存为 PDF 打印"


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def file_uri(path: str | Path) -> str:
    """An absolute `file:` URI LibreOffice accepts on every platform (percent-encoded, drive letter kept)."""
    return Path(path).resolve().as_uri()


def _kill_group(proc: subprocess.Popen) -> None:
    """End the process and everything it started (soffice → oosplash → soffice.bin)."""
    if os.name == "nt":
        subprocess.run(["taskkill", "/T", "/F", "/PID", str(proc.pid)], capture_output=True, check=False)
        if proc.poll() is None:
            proc.kill()
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_soffice(args: Sequence[str], timeout: float, progress: Callable[[str], None] | None = None) -> bool:
    """Run `soffice --headless <args>` with a private profile; True when it ended by itself within `timeout`
    seconds (False: it was killed). Whatever it started is ended either way."""
    exe = soffice()
    if exe is None:
        raise PipelineError(MISSING)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        cmd = [exe, f"-env:UserInstallation={file_uri(profile)}", "--headless", "--norestore", *args]
        options: dict = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt" \
            else {"start_new_session": True}
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                **options)
        reader = threading.Thread(target=_announce, args=(proc.stdout, progress), daemon=True)
        reader.start()
        try:
            proc.wait(timeout=timeout)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
        finally:
            _kill_group(proc)  # also after a normal end: a soffice.bin may outlive the launcher
            if proc.poll() is None:
                proc.wait(timeout=10)
            reader.join(timeout=5)
            proc.stdout.close()
    return finished


def _announce(stream, progress: Callable[[str], None] | None) -> None:
    """LibreOffice prints `convert /…/a.docx -> /…/a.pdf using filter : writer_pdf_Export` per file."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").strip()
        if progress and line.startswith("convert "):
            name = line[len("convert "):].split(" -> ")[0]
            progress(Path(name).name)


def convert_all(files: Sequence[Path], out_dir: Path, progress: Callable[[str], None] | None = None,
                timeout: float | None = None) -> bool:
    """Convert documents to PDF into out_dir in one LibreOffice run (`a.docx` → `a.pdf`); True unless it had to
    be killed. Which PDFs exist tells the caller what was converted."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    limit = timeout if timeout is not None else TIMEOUT + PER_FILE * max(0, len(files) - 1)
    return run_soffice(["--convert-to", "pdf", "--outdir", str(out_dir), *(file_uri(f) for f in files)],
                       limit, progress)


def convert(docx: Path, out_dir: Path | None = None, progress: Callable[[str], None] | None = None) -> Path:
    """Convert one .docx; returns the PDF path."""
    if soffice() is None:
        raise PipelineError(MISSING)
    from pipeline.atomic import note_outputs, refuse_foreign
    out_dir = Path(out_dir or docx.parent)
    pdf = out_dir / (docx.stem + ".pdf")
    refuse_foreign(out_dir, [pdf.name])  # a PDF of the user's with this name stays as it is
    started = time.time()
    if not convert_all([docx], out_dir, progress):
        raise PipelineError(f"LibreOffice 转换 {docx.name} 超过 {TIMEOUT} 秒未完成，已停止")
    if not pdf.is_file() or pdf.stat().st_mtime < started - 1:
        raise PipelineError(f"LibreOffice 未能生成 {pdf.name}")
    note_outputs(out_dir, "pdf", [pdf.name])
    return pdf


def convert_folder(folder: Path, progress: Callable[[str], None] | None = None) -> list[Path]:
    docs = sorted(p for p in folder.glob("*.docx") if not p.name.startswith(("~$", ".")))
    if not docs:
        raise PipelineError(f"{folder} 中没有 Word 文件，请先运行 make report")
    return [convert(p, progress=progress) for p in docs]
