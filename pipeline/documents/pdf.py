"""Word to PDF with LibreOffice, for printing."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from pipeline.errors import PipelineError

TIMEOUT = 300


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(docx: Path, out_dir: Path | None = None) -> Path:
    """Convert one .docx; returns the PDF path."""
    exe = soffice()
    if exe is None:
        raise PipelineError("未安装 LibreOffice，无法转为 PDF；可用 Word 或 WPS 打开 .docx 后另存为 PDF 打印")
    out_dir = out_dir or docx.parent
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
               "--outdir", str(out_dir), str(docx)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=TIMEOUT)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise PipelineError(f"LibreOffice 转换 {docx.name} 失败（{exc.__class__.__name__}）") from None
    pdf = out_dir / (docx.stem + ".pdf")
    if not pdf.is_file():
        raise PipelineError(f"LibreOffice 未能生成 {pdf.name}")
    return pdf


def convert_folder(folder: Path) -> list[Path]:
    docs = sorted(p for p in folder.glob("*.docx") if not p.name.startswith(("~$", ".")))
    if not docs:
        raise PipelineError(f"{folder} 中没有 Word 文件，请先运行 make report")
    return [convert(p) for p in docs]
