"""页数 of the 目录: PDF pages with pypdf, Word files counted through one LibreOffice run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from pipeline.documents.archive.layout import Material

WORD_PAGE_LIMIT = 300           # Word files counted through LibreOffice at most (else 页数 blank, with a note)



def count_pages(materials: list[Material], root: Path, scratch: Path,
                progress: Callable[[str], None] | None = None) -> None:
    """PDF pages with pypdf; Word files through one LibreOffice run when it is installed (else left blank).
    LibreOffice runs through `documents.pdf` (absolute URIs, its process group ended, each file announced)."""
    from pypdf import PdfReader
    from pipeline.documents.pdf import convert_all, soffice
    words = []
    for m in materials:
        src = root / m.arcname
        suffix = src.suffix.lower()
        if m.pages is not None:
            continue
        if suffix == ".pdf":
            try:
                m.pages = len(PdfReader(str(src)).pages)
            except Exception:  # noqa: BLE001 - a broken PDF is left uncounted, with a note
                m.note = "；".join(filter(None, [m.note, "PDF无法读取，页数待核"]))
        elif suffix in (".doc", ".docx", ".wps", ".rtf", ".odt"):
            words.append((m, src))
    if not words:
        return
    exe = soffice()
    if exe is None or len(words) > WORD_PAGE_LIMIT:
        why = "未安装LibreOffice" if exe is None else f"Word文件超过{WORD_PAGE_LIMIT}份"
        for m, _ in words:
            m.note = "；".join(filter(None, [m.note, f"{why}，页数未计"]))
        return
    scratch.mkdir(parents=True, exist_ok=True)
    inputs = scratch / "in"
    inputs.mkdir()
    names = {}
    for n, (m, src) in enumerate(words):
        link = inputs / f"{n:06d}{src.suffix.lower()}"
        shutil.copyfile(src, link)
        names[n] = m
    done = 0

    def announce(_name: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(f"用 LibreOffice 计算 Word 页数（{done}/{len(words)}）")

    if progress:
        progress(f"用 LibreOffice 计算 {len(words)} 份 Word 文件的页数")
    convert_all(sorted(inputs.iterdir()), scratch / "pdf", announce, timeout=60 + 10 * len(words))
    for n, m in names.items():
        pdf = scratch / "pdf" / f"{n:06d}.pdf"
        try:
            m.pages = len(PdfReader(str(pdf)).pages)
        except Exception:  # noqa: BLE001
            m.note = "；".join(filter(None, [m.note, "Word文件无法转换，页数待核"]))
