"""Names and numbers of the 分类档案: folder names, Ⅰ/①/safe file names, one 目录 entry (`Material`)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.catalog import Config
from pipeline.documents.text import strip_controls
from pipeline.intake.evidence import EvidenceFile

ROMAN = "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ"
ARCHIVE_DIR, DEPT_DIR, TASKS_FILE = "分类档案", "各部门工作档案", "部门单位任务台账.xlsx"
UNASSIGNED_DIR = "未归类材料"


def roman(n: int) -> str:
    return ROMAN[n - 1] if 1 <= n <= len(ROMAN) else str(n)


def circled(n: int) -> str:
    """①…⑳, ㉑…㉟, ㊱…㊿, then (51)."""
    if 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if 21 <= n <= 35:
        return chr(0x3251 + n - 21)
    if 36 <= n <= 50:
        return chr(0x32B1 + n - 36)
    return f"({n})"


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def safe_name(text: str, limit: int = 60) -> str:
    """A file or folder name Windows accepts, kept short (whole paths must stay under 260 characters), without
    control or bidi characters (a right-to-left override makes `gpj.exe` read as `exe.jpg`)."""
    text = _UNSAFE.sub("_", strip_controls(str(text))).strip().rstrip(".")
    if len(text) <= limit:
        return text or "_"
    stem, dot, ext = text.rpartition(".")
    if dot and 0 < len(ext) <= 5:
        return stem[: limit - len(ext) - 2] + "…." + ext
    return text[: limit - 1] + "…"


@dataclass
class Material:
    """One entry of the 档案目录."""

    number: str
    title: str
    department: str
    date: dt.date | None
    doc_number: str
    arcname: str                 # path inside 分类档案/
    source: Path | None = None   # the file copied (None: generated into place)
    pages: int | None = None
    note: str = ""
    code: str = ""
    kind: str = "file"           # form | record | file | unassigned
    evidence: EvidenceFile | None = None
    ledger: str = ""             # the ledger row it comes from (目录 xlsx only: an internal pointer)


def archive_name(config: Config, year: int) -> str:
    return f"{year}年{config.unit}文明单位创建分类档案.zip"


def link(src: str, dst: str) -> None:
    """A hard link to a file of 分类档案 (the same bytes, no copy); a copy where links are not allowed."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
