"""The 分类档案: the evidence binder inspectors read, built from the ledgers and the files departments send.

`build_archive` reads the inbox like `report`, stages ZIP evidence safely, then writes into the output folder:
`分类档案/` (测评指标 › 测评项目 › 测评标准 folders; per standard its 测评材料提交表, a 活动记录单 per activity and
document followed by its evidence files renamed `编号 原文件名`; 档案目录 as xlsx and docx), `各部门工作档案/`
(the same materials per department, hard links where the file system allows, each with its own 目录),
`部门单位任务台账.xlsx`, and the ZIP `{年度}年{单位}文明单位创建分类档案.zip` (UTF-8 names, streamed, atomic).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipeline import deflate
from pipeline.atomic import atomic_path
from pipeline.catalog import Config
from pipeline.documents import ooxml
from pipeline.documents.text import strip_controls
from pipeline.intake.evidence import EvidenceCheck, EvidenceFile, RowEvidence, check_evidence, stage
from pipeline.issues import Issue, make_issue
from pipeline.score import MET

ROMAN = "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ"
ARCHIVE_DIR, DEPT_DIR, TASKS_FILE = "分类档案", "各部门工作档案", "部门单位任务台账.xlsx"
UNASSIGNED_DIR = "未归类材料"
PHOTOS_PER_SHEET = 4            # photos embedded in one 活动记录单 (the rest follow as files)
EMBED_MAX_BYTES = 400 * 1024    # larger photos are resized before embedding
EMBED_MAX_SIDE = 1600
WORD_PAGE_LIMIT = 300           # Word files counted through LibreOffice at most (else 页数 blank, with a note)
STORED = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".zip", ".7z", ".rar", ".docx", ".xlsx", ".pptx",
          ".mp4", ".mov", ".pdf"}   # already compressed: stored as they are


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


def archive_name(config: Config, year: int) -> str:
    return f"{year}年{config.unit}文明单位创建分类档案.zip"


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
        builder = _Builder(result, check, config, year, work / ARCHIVE_DIR, issues, progress)
        builder.build()
        lap("documents")
        if count_pages:
            _count_pages(builder.materials, work / ARCHIVE_DIR, work / "pages", progress)
        lap("pages")
        builder.write_catalogs()
        _department_archives(builder, work / DEPT_DIR)
        _write_task_ledger(builder, work / TASKS_FILE)
        lap("catalogs")
        zip_path = out / archive_name(config, year)
        copied = _write_zip(work / ARCHIVE_DIR, zip_path)
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


PARALLEL_ROWS = 300   # from this many activities and documents the folders are written by worker processes
MAX_WORKERS = 4
_SHARED: dict = {}


def _standard_job(i: int) -> tuple:
    return _SHARED["builder"].run_standard(i)


def _department_job(i: int) -> None:
    _SHARED["builder"].run_department(i)


def _in_processes(func, builder, n: int, parallel: bool):
    """func(i) for i in range(n), in order: in forked workers (sharing the builder) when parallel."""
    import multiprocessing as mp
    from pipeline.processes import forks
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if not parallel or workers < 2 or n < 2 or not forks():   # without fork (Windows): in this process
        return [func_result for func_result in (_call(func, builder, i) for i in range(n))]
    _SHARED["builder"] = builder
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            return pool.map(func, range(n), chunksize=1)
    finally:
        _SHARED.clear()


def _call(func, builder, i: int):
    _SHARED["builder"] = builder
    try:
        return func(i)
    finally:
        _SHARED.clear()


class _Builder:
    def __init__(self, result, check: EvidenceCheck, config: Config, year: int, root: Path, issues: list[Issue],
                 progress) -> None:
        self.result, self.check, self.config, self.year, self.root = result, check, config, year, root
        self.issues, self.progress = issues, progress
        self.materials: list[Material] = []
        self.missing: list[tuple[str, str, str, int, str]] = []
        self.acts = result.merged.used("activities")
        self.docs = result.merged.used("documents")
        self.act_cols = {c: self.acts[c].tolist() for c in self.acts.columns}
        self.doc_cols = {c: self.docs[c].tolist() for c in self.docs.columns}
        self.photo_info: dict[int, tuple] = {}   # evidence index -> (date taken, width, height, format)
        self.placed: dict[int, str] = {}         # evidence index -> its first arcname (for department links)
        self.index_of = {id(f): i for i, f in enumerate(check.files)}
        self.copied = 0
        self.markers: list[str] = []   # where the documents carry a 【待核实】 marker (listed on the console)
        from pipeline.documents.wording import load_wording
        self.wording = load_wording(config.dir)
        self.jobs: list[tuple] = []
        self.root_str = str(root)

    # -------------------------------------------------------------- folders and numbers
    def build(self) -> None:
        fmt_ind, fmt_item, fmt_std = (self.config.evidence.numbering if self.config.evidence
                                      else ("{I}", "{I}-{j}", "{I}-{j}-{k})"))
        by_code = {s.standard.code: s for s in self.result.standards}
        rows_by_code: dict[str, list[RowEvidence]] = {}
        for kind in ("activities", "documents"):
            for r in self.check.rows.get(kind, []):
                for code in r.codes:
                    rows_by_code.setdefault(code, []).append(r)
        self.root.mkdir(parents=True)
        for i, ind in enumerate(self.config.indicators, 1):
            names = dict(I=roman(i), i=i)
            ind_dir = safe_name(f"{fmt_ind.format(**names, j=0, k=0)} {ind.name}")
            for j, item in enumerate(ind.items, 1):
                item_dir = safe_name(f"{fmt_item.format(**names, j=j, k=0)} {item.name}")
                for k, std in enumerate(item.standards, 1):
                    number = fmt_std.format(**names, j=j, k=k)
                    folder = f"{ind_dir}/{item_dir}/{safe_name(f'{number} {std.short}', 40)}"
                    (self.root / folder).mkdir(parents=True)
                    self.jobs.append((by_code[std.code], number, folder, rows_by_code.get(std.code, [])))
        rows = sum(len(j[3]) for j in self.jobs)
        for part in _in_processes(_standard_job, self, len(self.jobs), rows >= PARALLEL_ROWS):
            materials, missing, issues, placed, copied, markers = part
            self.markers.extend(markers)
            self.materials.extend(materials)
            self.missing.extend(missing)
            self.issues.extend(issues)
            for idx, arc in placed.items():
                self.placed.setdefault(idx, arc)
            self.copied += copied
        self._unassigned()

    def run_standard(self, i: int) -> tuple:
        """One standard's folder; returns what it added (run in a worker process for large archives)."""
        sizes = len(self.materials), len(self.missing), len(self.issues), self.copied, len(self.markers)
        placed_before = dict(self.placed)
        self._standard(*self.jobs[i])
        placed = {k: v for k, v in self.placed.items() if k not in placed_before}
        out = (self.materials[sizes[0]:], self.missing[sizes[1]:], self.issues[sizes[2]:], placed,
               self.copied - sizes[3], self.markers[sizes[4]:])
        del self.materials[sizes[0]:], self.missing[sizes[1]:], self.issues[sizes[2]:], self.markers[sizes[4]:]
        self.copied = sizes[3]
        return out

    def _sorted_rows(self, rows: list[RowEvidence]) -> list[RowEvidence]:
        def key(r: RowEvidence):
            cols = self.act_cols if r.kind == "activities" else self.doc_cols
            day = cols["date"][r.position]
            return (r.kind != "activities", day or dt.date.min, cols["file"][r.position], cols["row"][r.position])
        return sorted(rows, key=key)

    def _standard(self, sres, number: str, folder: str, rows: list[RowEvidence]) -> None:
        std = sres.standard
        form = Material(number, "测评材料提交表", std.responsible_text or "、".join(std.responsible), None, "",
                        f"{folder}/{safe_name(number)} 测评材料提交表.docx", code=std.code, kind="form")
        self.materials.append(form)
        entries = []
        for n, r in enumerate(self._sorted_rows(rows), 1):
            entries.append(self._row_material(r, f"{number}-{circled(n)}", folder, std.code))
        text = _submission_form(self.root / form.arcname, sres, number, entries, self.config, self.year, self.wording)
        if "【待核实" in text:
            self.markers.append(f"{number} 测评材料提交表：{std.short}")

    def _row_material(self, r: RowEvidence, number: str, folder: str, code: str) -> dict:
        cols = self.act_cols if r.kind == "activities" else self.doc_cols
        at = r.position
        files = [self.check.files[i] for i in r.files]
        label = "活动记录单" if r.kind == "activities" else "文件登记单"
        record = Material(number, f"{label}：{r.title}", r.department, cols["date"][at],
                          (cols["number"][at] or "") if r.kind == "documents" else "",
                          f"{folder}/{safe_name(f'{number} {label} {r.title}', 70)}.docx", pages=1, code=code,
                          kind="record")
        if r.missing:
            record.note = "缺：" + "、".join(r.missing)
            for name in r.missing:
                self.missing.append((r.department, cols["file"][at], cols["sheet"][at], int(cols["row"][at]), name))
        problems = r.problems.get(code, [])
        if problems:
            record.note = "；".join(filter(None, [record.note, *problems]))
        self.materials.append(record)
        placed = []
        embeds: dict[str, tuple | None] = {}   # number -> the photo as embedded (the first PHOTOS_PER_SHEET photos)
        for m, f in enumerate(files, 1):
            if f.path is None:
                continue  # its archive could not be unpacked (reported)
            idx = self.index_of[id(f)]
            fnum = f"{number}-{m}"
            arc = f"{folder}/{safe_name(f'{fnum} {f.original}', 80)}"
            data = _read_small(f) if f.kind == "photo" else None   # a photo is read once: header, copy, embed
            info = self._photo(idx, f, data) if f.kind == "photo" else None
            mat = Material(fnum, f.original, f.department or r.department, _file_date(f, info),
                           "", arc, source=f.path, code=code, evidence=f)
            if f.kind == "photo":
                mat.pages = 1
                if len(embeds) < PHOTOS_PER_SHEET:
                    embeds[fnum] = _embeddable(f.path, info, data)
            self._copy(mat, data)
            del data
            self.materials.append(mat)
            self.placed.setdefault(idx, arc)
            placed.append((fnum, f, idx))
        self._record_sheet(r, record, cols, at, placed, code, embeds)
        return {"number": number, "label": label, "title": r.title, "department": r.department,
                "date": cols["date"][at], "files": len(placed), "missing": list(r.missing), "problems": problems}

    def _unassigned(self) -> None:
        for n, i in enumerate(self.check.unassigned, 1):
            f = self.check.files[i]
            if f.path is None:
                continue
            owner = f.department or "部门未确定"
            arc = f"{UNASSIGNED_DIR}/{safe_name(owner)}/{safe_name(f'未归类-{n} {f.original}', 80)}"
            (self.root / UNASSIGNED_DIR / safe_name(owner)).mkdir(parents=True, exist_ok=True)
            data = _read_small(f) if f.kind == "photo" else None
            info = self._photo(i, f, data) if f.kind == "photo" else None
            mat = Material(f"未归类-{n}", f.original, owner, _file_date(f, info), "", arc, source=f.path,
                           pages=1 if f.kind == "photo" else None, note="未被台账引用，请核对归属", kind="unassigned",
                           evidence=f)
            self._copy(mat, data)
            self.materials.append(mat)
            self.placed.setdefault(i, arc)

    def _copy(self, m: Material, data: bytes | None = None) -> None:
        """The evidence file into its place: from the bytes already read (a photo), else copied by the OS
        (sendfile, never through Python); the inbox is only read."""
        target = os.path.join(self.root_str, m.arcname)   # strings, not Path: tens of thousands of files
        if data is not None:
            with open(target, "wb", buffering=0) as out:
                out.write(data)
            self.copied += len(data)
            return
        shutil.copyfile(m.source, target)
        self.copied += m.evidence.size if m.evidence is not None else os.path.getsize(target)

    # -------------------------------------------------------------- the 活动记录单 / 文件登记单
    def _photo(self, idx: int, f: EvidenceFile, data: bytes | None = None) -> tuple:
        """(date taken, width, height, format) of a photo, read once from its header (EXIF)."""
        if idx not in self.photo_info:
            self.photo_info[idx] = _read_photo(f.path, data)
            taken = self.photo_info[idx][0]
            rules = self.config.evidence_rules("")
            if taken and rules.within_year and taken.year != self.year:
                self.issues.append(make_issue("evidence-photo-date", file=f.name, value=f.original,
                                              department=f.department, date=f"{taken:%Y-%m-%d}", year=self.year))
        return self.photo_info[idx]

    def _record_sheet(self, r: RowEvidence, record: Material, cols: dict, at: int, placed: list, code: str,
                      embeds: dict) -> None:
        std = self.config.standards[code]
        marker = "【待核实：{}】".format
        day = cols["date"][at]
        day_text = _cn_date(day) if day else marker("日期")
        if r.kind == "activities":
            place = cols["place"][at] or ""
            host = cols["host"][at] or r.department
            people = cols["participants"][at]
            fields = [("活动名称", r.title), ("活动日期", day_text), ("活动地点", place or marker("活动地点")),
                      ("主办部门", host), ("参加人员", f"{_num(people)}人" if people else marker("参加人数")),
                      ("活动时长", f"{_num(cols['hours'][at])}小时" if cols["hours"][at] else "—"),
                      ("活动内容", _cap(cols["content"][at] or marker("活动内容"), 160))]
        else:
            fields = [("文件名称", r.title), ("文　　号", cols["number"][at] or "—"), ("印发日期", day_text),
                      ("文件类型", cols["type"][at] or "—"), ("报送部门", r.department)]
        for label, value in fields:
            if "【待核实" in str(value):
                self.markers.append(f"{record.number} {record.title}：{label}")
        listing = [f"{num} {f.original}" for num, f, _ in placed]
        listing += [f"{name}（台账列明，未报送）" for name in r.missing]
        fields.append(("佐证材料", "\n".join(listing) if listing else "无"))
        fields.append(("台账来源", f"{cols['file'][at]} {cols['sheet'][at]} 第{int(cols['row'][at])}行"))
        body = [ooxml.title("活动记录单" if r.kind == "activities" else "文件登记单"),
                ooxml.para(f"编号：{record.number}　　测评标准：{std.code} {std.short}", size=24, line=None, after=120),
                ooxml.table(fields, [1700, ooxml.TEXT_W - 1700], size=24, label_col=True)]
        images: list[tuple[str, bytes]] = []
        photos = [(num, f, idx) for num, f, idx in placed if f.kind == "photo"]
        cells = []
        for num, f, idx in photos[:PHOTOS_PER_SHEET]:
            data = embeds.get(num)
            if data is None:
                continue
            ext, blob, (w, h) = data
            images.append((ext, blob))
            width = 7.4
            height = width * h / w if w else 5.0
            if height > 4.6:
                width, height = width * 4.6 / height, 4.6
            caption = _caption(day, cols, at, r) if r.kind == "activities" else r.title
            cells.append(ooxml.para([ooxml.image(f"rIdImg{len(images)}", len(images), width, height, f.original)],
                                    align="center", line=None)
                         + ooxml.para(f"{num} {caption}", align="center", line=None, size=18))
        if cells:
            body.append(ooxml.para("照片", size=24, line=None, before=120, after=60, bold=True))
            if len(cells) % 2:
                cells.append(ooxml.para("", line=None))
            half = ooxml.TEXT_W // 2
            body.append(ooxml.table([cells[i:i + 2] for i in range(0, len(cells), 2)], [half, half]))
            if len(photos) > len(cells):
                body.append(ooxml.para(f"另有照片{len(photos) - len(images)}张，见本页后所附文件。", size=21, line=None))
        ooxml.write_docx(self.root / record.arcname, body, images, atomic=False)

    def run_department(self, i: int) -> None:
        """One department's 工作档案: its materials hard-linked from 分类档案, and its own 目录."""
        folder, dept, mats, missing, issues = self.dept_jobs[i]
        folder.mkdir(parents=True, exist_ok=True)
        base, made = os.fspath(folder), set()
        for m in mats:   # strings, not Path, and each folder made once: tens of thousands of links
            parts = m.arcname.split("/")
            sub = UNASSIGNED_DIR if m.kind == "unassigned" else parts[2]
            if sub not in made:
                os.makedirs(os.path.join(base, sub), exist_ok=True)
                made.add(sub)
            _link(os.path.join(self.root_str, m.arcname), os.path.join(base, sub, parts[-1]))
        _catalog_files(folder, f"{dept}文明单位创建工作档案目录", mats, missing, issues, stem=f"{safe_name(dept)}工作档案目录")

    # -------------------------------------------------------------- 档案目录
    def write_catalogs(self) -> None:
        _catalog_files(self.root, f"{self.year}年{self.config.unit}文明单位创建分类档案目录", self.materials,
                       self.missing, self.issues)


def _num(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cap(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cn_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _caption(day, cols: dict, at: int, r: RowEvidence) -> str:
    """时间、地点、人物、主题, from the row."""
    parts = [_cn_date(day) if day else "", cols["place"][at] or "", cols["host"][at] or r.department, r.title]
    people = cols["participants"][at]
    if people:
        parts[2] += f"{_num(people)}人"
    return " ".join(p for p in parts if p)


def _file_date(f: EvidenceFile, info) -> dt.date | None:
    if info and info[0]:
        return info[0].date() if isinstance(info[0], dt.datetime) else info[0]
    return None


READ_MAX = 32 * 1024 * 1024   # photos up to this size are read once into memory (header, copy, embed)


def _read_small(f: EvidenceFile) -> bytes | None:
    """A photo's bytes when small enough to hold (one at a time): else None (copied by the OS instead)."""
    if f.path is None or f.size > READ_MAX:
        return None
    try:
        with open(f.path, "rb", buffering=0) as src:
            if os.fstat(src.fileno()).st_size > READ_MAX:
                return None
            data = src.readall()   # sized by fstat: no buffer of READ_MAX allocated per photo
    except OSError:
        return None
    return data if len(data) <= READ_MAX else None


def _taken(raw) -> dt.datetime | None:
    if not isinstance(raw, str):
        return None
    m = re.match(r"(\d{4})[:\-](\d{2})[:\-](\d{2})", raw.strip())
    if not m:
        return None
    try:
        return dt.datetime(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _read_photo(path: Path | None, data: bytes | None = None) -> tuple:
    """(EXIF date taken or None, width, height, format) from the header; (None, 0, 0, None) when unreadable.
    A plain JPEG's header is parsed here (Pillow costs about half a millisecond a photo); anything else, or a
    JPEG this parser is not sure of, goes through Pillow."""
    from PIL import Image, UnidentifiedImageError
    if data is not None:
        fast = jpeg_header(data)
        if fast is not None:
            return fast
    if path is None and data is None:
        return (None, 0, 0, None)
    try:
        with Image.open(io.BytesIO(data) if data is not None else path) as im:
            exif = im.getexif()
            raw = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
            return (_taken(raw), im.width, im.height, im.format)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return (None, 0, 0, None)


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_header(data: bytes) -> tuple | None:
    """(date taken, width, height, "JPEG") of a JPEG read from its markers up to the scan, as Pillow reports
    them (EXIF DateTimeOriginal, else DateTime, of the first Exif segment); None when unsure (not a JPEG, a
    multi-picture MPO file, a malformed segment or EXIF block, no frame header): Pillow decides then."""
    if data[:3] != b"\xff\xd8\xff":
        return None
    exif, size = None, None
    at, end = 2, len(data)
    while at + 4 <= end:
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:      # fill byte
            at += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        if marker == 0xD9:
            return None
        if marker == 0xDA:      # the scan: every header segment has been seen
            if size is None:
                return None
            taken = _exif_date(exif) if exif is not None else None
            return None if taken is False else (taken, size[0], size[1], "JPEG")
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if length < 2 or at + 2 + length > end:
            return None
        seg = data[at + 4:at + 2 + length]
        if marker == 0xE1 and exif is None and seg[:6] == b"Exif\x00\x00":
            exif = seg[6:]
        elif marker == 0xE2 and seg[:4] == b"MPF\x00":
            return None         # Pillow opens these as MPO
        elif marker in _SOF and size is None:
            if len(seg) < 5:
                return None
            size = (int.from_bytes(seg[3:5], "big"), int.from_bytes(seg[1:3], "big"))
            if not size[0] or not size[1]:
                return None
        at += 2 + length
    return None


def _exif_date(tiff: bytes):
    """DateTimeOriginal (Exif IFD) or DateTime (IFD0) as a datetime, None when absent, False when unsure."""
    order = {b"II": "little", b"MM": "big"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return False

    def u(at: int, n: int) -> int:
        return int.from_bytes(tiff[at:at + n], order)

    def entries(at: int) -> dict[int, tuple[int, int, int]] | None:
        if at < 8 or at + 2 > len(tiff):
            return None
        n = u(at, 2)
        if at + 2 + 12 * n > len(tiff):
            return None
        return {u(at + 2 + 12 * i, 2): (u(at + 4 + 12 * i, 2), u(at + 6 + 12 * i, 4), at + 10 + 12 * i)
                for i in range(n)}

    def ascii_value(entry) -> str | None | bool:
        kind, count, where = entry
        if kind != 2:
            return False
        start = where if count <= 4 else u(where, 4)
        if start + count > len(tiff):
            return False
        value = tiff[start:start + count]
        return (value[:-1] if value.endswith(b"\x00") else value).decode("latin-1", "replace")

    if u(2, 2) != 42:
        return False
    ifd0 = entries(u(4, 4))
    if ifd0 is None:
        return False
    original = None
    if 0x8769 in ifd0:
        kind, count, where = ifd0[0x8769]
        sub = entries(u(where, 4)) if kind in (4, 13) and count == 1 else None
        if sub is None:
            return False
        if 0x9003 in sub:
            original = ascii_value(sub[0x9003])
            if original is False:
                return False
    raw = original or None
    if not raw and 0x0132 in ifd0:
        raw = ascii_value(ifd0[0x0132])
        if raw is False:
            return False
    return _taken(raw)


def _embeddable(path: Path, info: tuple, data: bytes | None = None) -> tuple[str, bytes, tuple[int, int]] | None:
    """The photo as (extension, bytes, size) for a Word page: as it is when small, else a resized JPEG."""
    from PIL import Image, ImageOps
    taken, w, h, fmt = info
    if not fmt:
        return None
    size = len(data) if data is not None else path.stat().st_size
    if fmt in ("JPEG", "PNG") and size <= EMBED_MAX_BYTES and max(w, h) <= EMBED_MAX_SIDE:
        return ("jpeg" if fmt == "JPEG" else "png", data if data is not None else path.read_bytes(), (w, h))
    try:
        with Image.open(io.BytesIO(data) if data is not None else path) as im:
            im.draft("RGB", (EMBED_MAX_SIDE, EMBED_MAX_SIDE))  # JPEG: decode at a reduced scale
            im = ImageOps.exif_transpose(im).convert("RGB")
            im.thumbnail((EMBED_MAX_SIDE, EMBED_MAX_SIDE))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=82)
            return ("jpeg", buf.getvalue(), im.size)
    except (OSError, ValueError, SyntaxError):
        return None


# ------------------------------------------------------------------ 测评材料提交表


def conclusion(sres, entries: list[dict], w) -> str:
    """A short conclusion written from the data, in the `分类档案` frames of wording.yaml (a standard with
    nothing gets the 书面简要说明 with its 【待核实】 marker to fill)."""
    std = sres.standard
    who = std.responsible_text or "、".join(std.responsible)
    if not entries and sres.metrics:  # a standard judged by its metrics (参与率, 注册率 …)
        from pipeline.catalog import format_percent
        parts = [w.fill("分类档案.指标情况", {"指标": m.metric.label, "要求": m.metric.requirement,
                                           "实际": format_percent(m.value) if m.value is not None else None},
                        required=True) for m in sres.metrics]
        return w.fill("分类档案.指标结论", {"指标情况": "；".join(parts), "状态": sres.status}, required=True)
    if not entries:
        return w.fill("分类档案.书面说明", {"部门": who}, required=True)
    acts = sum(e["label"] == "活动记录单" for e in entries)
    work = w.fill("分类档案.工作情况", {"活动数": acts, "文件数": len(entries) - acts}, required=True)
    files = sum(e["files"] for e in entries)
    text = w.fill("分类档案.提交表结论", {"部门": who, "工作情况": work, "材料数": files}, required=True)
    reasons = sres.evidence_reasons
    short = "；".join(reasons[:5]) + (f"等{len(reasons)}项" if len(reasons) > 5 else "")
    text += w.fill("分类档案.自查结果", {"达标": sres.status == MET, "状态": sres.status, "不足": short},
                   required=True)
    missing = sum(len(e["missing"]) for e in entries)
    if missing:
        text += w.fill("分类档案.缺少材料", {"缺少数": missing}, required=True)
    return text


def _submission_form(path: Path, sres, number: str, entries: list[dict], config: Config, year: int, w) -> str:
    """The 测评材料提交表 of one standard; returns its conclusion."""
    std = sres.standard
    listing = []
    for e in entries:
        extra = []
        if e["date"]:
            extra.append(_cn_date(e["date"]))
        extra.append(e["department"])
        if e["files"]:
            extra.append(f"附件{e['files']}份")
        if e["missing"]:
            extra.append("缺" + "、".join(e["missing"]))
        listing.append(w.fill("分类档案.清单条目", {"编号": e["number"], "类别": e["label"], "题名": e["title"],
                                                "说明": "，".join(extra)}, required=True))
    text = conclusion(sres, entries, w)
    fields = [("测评指标", std.indicator), ("测评项目", std.item), ("测评标准", f"{number} {std.title}"),
              ("责任部门", std.responsible_text or "、".join(std.responsible)),
              ("自查结论", text),
              ("材料清单", "\n".join(listing) if listing else w.text("分类档案.清单为空"))]
    body = [ooxml.title("测评材料提交表"),
            ooxml.para(f"单位：{config.unit}　　年度：{year}年　　编号：{number}", size=24, line=None, after=120),
            ooxml.table(fields, [1700, ooxml.TEXT_W - 1700], size=24, label_col=True),
            ooxml.para("填表人：　　　　　　审核人：　　　　　　日期：　　年　　月　　日", size=24, line=None, before=240)]
    ooxml.write_docx(path, body, atomic=False)
    return text


# ------------------------------------------------------------------ page counts


def _count_pages(materials: list[Material], root: Path, scratch: Path,
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


# ------------------------------------------------------------------ 目录 (xlsx and docx)

DOCX_CATALOG_MAX = 20_000     # rows of the Word 目录 (a printed table; the xlsx holds every row)
CATALOG_HEADERS = ("编号", "题名", "责任部门", "日期", "文号", "页数", "备注")
CATALOG_WIDTHS = (2000, 3600, 1300, 1750, 1800, 600, 2726)   # landscape A4: 13,776 twips of text width


def _catalog_rows(materials: list[Material]):
    for m in materials:
        yield (m.number, m.title, m.department, m.date, m.doc_number or None, m.pages, m.note or None)


def _catalog_files(folder: Path, heading: str, materials: list[Material], missing, issues: list[Issue],
               stem: str = "档案目录") -> None:
    from pipeline.documents.xlsx_stream import Print, Table, write_tables
    rows = [(*row, m.arcname) for row, m in zip(_catalog_rows(materials), materials)]
    write_tables(folder / f"{stem}.xlsx", [  # streamed: a city's 目录 has hundreds of thousands of rows
        Table("档案目录", (*CATALOG_HEADERS, "文件位置"), rows, (16, 40, 12, 11, 18, 6, 30, 60),
              boxed=len(rows) <= 500, freeze="C2", print=Print(heading, columns=7, landscape=True)),
        Table("缺少的材料", ("部门", "台账文件", "工作表", "行", "佐证材料"), missing, (12, 36, 10, 6, 30),
              print=Print(f"{heading} · 缺少的材料")),
        Table("佐证材料问题", ("级别", "部门", "文件", "行", "说明"),
              [("提醒" if i.level == "warning" else "说明", i.department, i.file, i.row, i.message) for i in issues],
              (6, 12, 40, 6, 80), print=Print(f"{heading} · 佐证材料问题"))])
    shown = materials[:DOCX_CATALOG_MAX]
    rows = ([m.number, m.title, m.department, _cn_date(m.date) if m.date else "", m.doc_number,
             "" if m.pages is None else str(m.pages), m.note] for m in shown)
    rest = ([ooxml.para(f"以上为前{len(shown)}条，其余{len(materials) - len(shown)}条见 {stem}.xlsx。", size=21,
                        line=None, before=120)] if len(materials) > len(shown) else [])
    body = _chain([ooxml.title(heading),
                   ooxml.para("页数：PDF 按实际页数，照片每张 1 页，Word 文件经 LibreOffice 计数；空白处见备注。",
                              size=21, line=None, after=120)],
                  ooxml.plain_table(rows, CATALOG_WIDTHS, CATALOG_HEADERS, size=18), rest)
    ooxml.write_docx(folder / f"{stem}.docx", body, landscape=True, atomic=False)


def _chain(*parts):
    for p in parts:
        yield from p


# ------------------------------------------------------------------ 各部门工作档案 and 部门单位任务台账


def _link(src: str, dst: str) -> None:
    """A hard link to a file of 分类档案 (the same bytes, no copy); a copy where links are not allowed."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _department_archives(b: _Builder, root: Path) -> None:
    """Per department: its own materials (the same files as in 分类档案, hard-linked) and its own 目录."""
    by_dept: dict[str, list[Material]] = {}
    for m in b.materials:
        if m.kind != "form":
            by_dept.setdefault(m.department or "部门未确定", []).append(m)
    missing_by: dict[str, list] = {}
    for x in b.missing:
        missing_by.setdefault(x[0], []).append(x)
    issues_by: dict[str | None, list[Issue]] = {}
    for i in b.issues:
        issues_by.setdefault(i.department, []).append(i)
    depts = [*b.config.department_names, *sorted(set(by_dept) - set(b.config.department_names))]
    b.dept_jobs = [(root / safe_name(d), d, by_dept.get(d, []), missing_by.get(d, []), issues_by.get(d, []))
                   for d in depts]
    _in_processes(_department_job, b, len(b.dept_jobs), len(b.materials) >= PARALLEL_ROWS)


def _write_task_ledger(b: _Builder, path: Path) -> None:
    """部门单位任务台账: per department, its standards, what each needs, what it submitted, what is missing."""
    from pipeline.documents.render_xlsx import STATUS_FILLS
    from pipeline.documents.workbook import Book, Print
    by_code = {s.standard.code: s for s in b.result.standards}
    submitted: dict[tuple[str, str], list[RowEvidence]] = {}
    for kind in ("activities", "documents"):
        for r in b.check.rows.get(kind, []):
            for code in r.codes:
                submitted.setdefault((r.department, code), []).append(r)
    rows = []
    for dept in b.config.department_names:
        for std in b.config.standards_for(dept):
            rules = b.config.evidence_rules(std.code)
            need = f"活动或文件不少于{std.min_evidence}项；每项活动照片不少于{rules.min_photos}张"
            if rules.number_types:
                need += f"；{'、'.join(rules.number_types)}类文件须有文号"
            got = submitted.get((dept, std.code), [])
            acts = [r for r in got if r.kind == "activities"]
            docs = [r for r in got if r.kind == "documents"]
            files = len({i for r in got for i in r.files})
            missing = "、".join(n for r in got for n in r.missing) or None
            problems = "；".join(dict.fromkeys(p for r in got for p in r.problems.get(std.code, ()))) or None
            rows.append((dept, std.code, std.short, std.evidence, need, len(acts), len(docs), files, missing,
                         problems, by_code[std.code].status))
    title = f"{b.year}年{b.config.unit}部门单位任务台账"
    book = Book()
    book.table("部门单位任务台账", ("部门", "编码", "测评标准", "应报材料", "要求", "已报活动", "已报文件", "佐证文件",
                                  "缺少的材料", "未满足的要求", "标准状态"), rows,
               (10, 8, 20, 36, 36, 8, 8, 8, 30, 40, 9), Print(title, landscape=True), status_col=11,
               fills=STATUS_FILLS, text_cols=(2,))
    book.table("未归类材料", ("部门", "文件", "原文件名"),
               [(b.check.files[i].department or "部门未确定", b.check.files[i].name, b.check.files[i].original)
                for i in b.check.unassigned], (12, 50, 30), Print(f"{title} · 未归类材料"))
    book.save(path)


# ------------------------------------------------------------------ the ZIP


def _write_zip(folder: Path, target: Path) -> int:
    """The folder as a ZIP (UTF-8 flagged names, compressed files stored, the rest deflated): atomic. Written
    directly (one local header and the data in one write per file, no seeking back) rather than through
    zipfile, whose per-member cost dominated with tens of thousands of small photos; files larger than
    READ_MAX are streamed in 1 MB pieces, so memory stays bounded."""
    total = 0
    root = os.fspath(folder)
    with atomic_path(target) as tmp:
        with open(tmp, "wb", buffering=4 * 1024 * 1024) as out:
            zw = _ZipWriter(out)
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                rel = os.path.relpath(dirpath, root)
                prefix = f"{folder.name}/" if rel == "." else f"{folder.name}/{rel.replace(os.sep, '/')}/"
                for name in sorted(filenames):
                    stored = os.path.splitext(name)[1].lower() in STORED
                    total += zw.add(os.path.join(dirpath, name), prefix + name, stored)
            zw.finish()
    return total


class _ZipWriter:
    """A ZIP written front to back (Zip64 where sizes, offsets or the number of entries need it)."""

    def __init__(self, out) -> None:
        self.out, self.offset, self.central, self.count = out, 0, [], 0

    def add(self, path: str, arcname: str, stored: bool) -> int:
        st = os.stat(path)
        name = arcname.encode("utf-8")
        flags = 0 if arcname.isascii() else 0x800
        when = _dos_time(st.st_mtime)
        method = 0 if stored else 8
        start = self.offset
        if st.st_size <= READ_MAX:
            with open(path, "rb") as src:
                data = src.read()
            size, crc = len(data), deflate.crc32(data)
            if not stored:
                comp = deflate.compressor()
                data = comp.compress(data) + comp.flush()
            csize = len(data)
            head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, *when, crc, csize, size, len(name), 0)
            self.out.write(head + name)
            self.out.write(data)
            self.offset += len(head) + len(name) + csize
        else:   # streamed: a Zip64 local header whose checksum and sizes are filled in afterwards
            head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, flags, method, *when, 0, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(name), 20)
            self.out.write(head + name + struct.pack("<HHQQ", 1, 16, 0, 0))
            crc, size, csize = 0, 0, 0
            comp = None if stored else deflate.compressor()
            with open(path, "rb") as src:
                while chunk := src.read(1024 * 1024):
                    crc, size = deflate.crc32(chunk, crc), size + len(chunk)
                    if comp is not None:
                        chunk = comp.compress(chunk)
                    csize += len(chunk)
                    self.out.write(chunk)
                if comp is not None:
                    chunk = comp.flush()
                    csize += len(chunk)
                    self.out.write(chunk)
            end = self.out.tell()
            self.out.seek(start + 14)
            self.out.write(struct.pack("<I", crc))
            self.out.seek(start + 30 + len(name) + 4)
            self.out.write(struct.pack("<QQ", size, csize))
            self.out.seek(end)
            self.offset = end
        extra = b""
        fields = []
        if size >= 0xFFFFFFFF or csize >= 0xFFFFFFFF or start >= 0xFFFFFFFF:
            fields = [size, csize, start]
            extra = struct.pack("<HH3Q", 1, 24, *fields)
        version = 45 if extra else 20
        self.central.append(struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | version, version, flags, method, *when, crc,
            0xFFFFFFFF if extra else csize, 0xFFFFFFFF if extra else size, len(name), len(extra), 0, 0, 0,
            (st.st_mode & 0xFFFF) << 16, 0xFFFFFFFF if extra else start) + name + extra)
        self.count += 1
        return size

    def finish(self) -> None:
        start = self.offset
        for record in self.central:
            self.out.write(record)
        size = sum(len(r) for r in self.central)
        n = self.count
        if n >= 0xFFFF or start >= 0xFFFFFFFF or size >= 0xFFFFFFFF:
            where = start + size
            self.out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, n, n, size, start))
            self.out.write(struct.pack("<IIQI", 0x07064B50, 0, where, 1))
            self.out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
        else:
            self.out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, size, start, 0))


def _dos_time(mtime: float) -> tuple[int, int]:
    """(DOS time, DOS date) of a modification time, clamped to 1980–2107 as zipfile does."""
    y, mo, d, h, mi, sec = time.localtime(mtime)[:6]
    if y < 1980:
        y, mo, d, h, mi, sec = 1980, 1, 1, 0, 0, 0
    elif y > 2107:
        y, mo, d, h, mi, sec = 2107, 12, 31, 23, 59, 59
    return (h << 11) | (mi << 5) | (sec // 2), ((y - 1980) << 9) | (mo << 5) | d
