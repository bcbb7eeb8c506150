"""`build_archive`: the stages of the 分类档案 in order (collect, stage, documents, pages, 目录, ZIP, move)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipeline.catalog import Config
from pipeline.documents.archive.builder import Builder
from pipeline.documents.archive.departments import department_archives, write_task_ledger
from pipeline.documents.archive.layout import ARCHIVE_DIR, DEPT_DIR, TASKS_FILE, Material, archive_name
import pipeline.documents.archive.pages as pages
from pipeline.documents.archive.zipper import write_zip
from pipeline.intake.evidence import EvidenceCheck, EvidenceFile, check_evidence, stage
from pipeline.issues import Issue


@dataclass
class ArchiveResult:
    zip_path: Path
    folder: Path
    materials: list[Material]
    missing: list[tuple[str, str, str, int, str]]     # department, file, sheet, row, name
    unassigned: list[EvidenceFile]
    issues: list[Issue]
    check: EvidenceCheck
    timings: dict[str, float] = field(default_factory=dict)
    copied_bytes: int = 0
    markers: list[str] = field(default_factory=list)   # 【待核实】 markers left in the documents, where


def build_archive(inbox: str | Path, out: str | Path, config: Config, year: int | None = None,
                  count_pages: bool = True, progress: Callable[[str], None] | None = None) -> ArchiveResult:
    """Build the 分类档案 of an inbox into the output folder (see the module docstring)."""
    from pipeline.report import check_out_dir, collect
    check_out_dir(inbox, out)  # not inside the inbox, not a file: one Chinese line, nothing written
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    inbox, out = Path(inbox), Path(out)
    result = collect(inbox, config, year)
    year = result.year
    from pipeline.atomic import keep_edits, note_outputs, refuse_foreign
    ours = (archive_name(config, year), ARCHIVE_DIR, DEPT_DIR, TASKS_FILE)
    refuse_foreign(out, ours)  # never over a file or folder of the user's that bears one of these names
    keep_edits(out, ours)      # nor over the edits someone made to the tool's own files
    check = result.evidence
    if check is None or not check.enabled:
        check = check_evidence(inbox, config, year, result.merged, force=True)
        from pipeline.intake.evidence import apply_to_standards
        apply_to_standards(result.standards, check, config)
    lap("collect")
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".archive-", dir=out))
    try:
        issues = [i for i in check.issues]
        issues += stage(check.files, work / "staging")
        lap("stage")
        builder = Builder(result, check, config, year, work / ARCHIVE_DIR, issues, progress)
        builder.build()
        lap("documents")
        if count_pages:
            pages.count_pages(builder.materials, work / ARCHIVE_DIR, work / "pages", progress)
        lap("pages")
        builder.write_catalogs()
        department_archives(builder, work / DEPT_DIR)
        write_task_ledger(builder, work / TASKS_FILE)
        lap("catalogs")
        zip_path = out / archive_name(config, year)
        copied = write_zip(work / ARCHIVE_DIR, zip_path)
        lap("zip")
        for name in (ARCHIVE_DIR, DEPT_DIR, TASKS_FILE):  # replace the previous archive as a whole
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            os.replace(work / name, target)
        note_outputs(out, "archive", ours)
        lap("move")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ArchiveResult(zip_path, out / ARCHIVE_DIR, builder.materials, builder.missing,
                         [check.files[i] for i in check.unassigned], builder.issues, check, timings, copied,
                         builder.markers)
