"""Read every file in the inbox: find the sheets and header rows, keep raw values with their Excel row numbers."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import stat
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from pipeline.catalog import Config, normalize_name
from pipeline.intake import scan
from pipeline.intake.scan import MAX_CELLS, MAX_ROWS
from pipeline.intake.values import INVALID, clean_text, date_serial, is_blank, parse_date, serial_date
from pipeline.issues import Issue, make_issue
from pipeline.schema import DATA_SHEETS, INFO_FIELDS, INFO_SHEET, SheetSpec, sheet_for

#: read (the format is taken from the content: an .xlsx renamed .xls or a WPS .et saved as .xls is read all the same)
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlt", ".xlsb", ".ods", ".ots", ".et", ".ett"}
#: look like a spreadsheet but cannot be read: an error for the file (never silently ignored)
UNSUPPORTED_SUFFIXES = {".csv": "CSV", ".numbers": "Numbers", ".fods": "单文件 ODF（.fods）", ".uos": "UOF（.uos）",
                        ".dbf": "DBF", ".wk1": "Lotus"}
SPREADSHEET_SUFFIXES = WORKBOOK_SUFFIXES | set(UNSUPPORTED_SUFFIXES)
SKIP_NAMES = {"manifest.json", ".ds_store", "thumbs.db", "desktop.ini", ".gitkeep"}
WITHDRAWN_DIR = "已撤回"          # withdrawn files are kept here (never deleted) and read by nobody
HEADER_SCAN_ROWS = 10
MAX_DEPTH = 32                 # folder levels below the inbox that are walked

# limits that stop bombs and runaway sheets before memory grows
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COLUMNS = 200

_NOTE_PREFIX = re.compile(r"^(注|备注|说明|填表人|填报人|审核|制表|负责人|联系人|合计|总计|小计|签字|盖章)")


@dataclass
class RawSheet:
    """One recognised sheet: raw cells of the recognised columns, and each row's number as Excel shows it.

    Plain lists kept column by column, not a DataFrame: cheap to send back from a worker process, and
    merge joins the same column of every workbook into one frame per kind without transposing."""

    kind: str
    name: str
    columns: list[str]
    values: list[list]         # one list per entry of `columns`
    numbers: list[int]

    def __len__(self) -> int:
        return len(self.numbers)

    def column(self, key: str) -> list:
        if key not in self.columns:
            return [None] * len(self.numbers)
        return self.values[self.columns.index(key)]


@dataclass
class FileRecord:
    path: Path
    name: str                  # relative to the inbox, as the user sees it
    mtime: float
    sha256: str = ""
    readable: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    sheets: dict[str, list[RawSheet]] = field(default_factory=dict)
    department: str | None = None
    issues: list[Issue] = field(default_factory=list)
    date1904: bool = False     # the workbook counts its date serials from 1904-01-01 (Mac Excel, or the option)
    crashed: str = ""          # why its reading ended the reading worker (pipeline.intake.isolate): not read again

    @property
    def submitted_on(self) -> dt.date | None:
        value = parse_date(self.info.get("填报日期"))
        return None if value in (None, INVALID) else value


def list_inbox(inbox: Path) -> tuple[list[Path], list[Issue]]:
    """The workbooks in the inbox (recursively, sorted), and an issue for every other file."""
    files, issues = inbox_files(inbox)
    workbooks = []
    for path, rel in files:
        if path.suffix.lower() in SPREADSHEET_SUFFIXES:
            workbooks.append(path)
        else:
            issues.append(make_issue("file-ignored", file=rel))
    workbooks.sort()
    issues.sort(key=lambda i: i.file or "")
    return workbooks, issues


def inbox_files(inbox: Path) -> tuple[list[tuple[Path, str]], list[Issue]]:
    """Every regular file in the inbox as (path, path relative to the inbox), and the issues of the walk.

    The one walk of an inbox (workbooks and evidence alike). Walked without recursion and without following
    links: a FIFO or a device is reported and skipped (never opened), a link to anything outside the inbox is
    reported and not followed, a folder deeper than MAX_DEPTH is reported and not entered, a folder that cannot
    be listed is reported; a folder named like a workbook (`x.xlsx`) is just a folder. Office and LibreOffice
    lock files and hidden files are skipped silently, and so is the inbox's 已撤回/ folder (withdrawn files)."""
    files, issues = [], []
    root = inbox.resolve()
    stack = [(inbox, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            issues.append(make_issue("folder-unreadable", file=_rel(folder, inbox)))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith((".", "~$")) or name.lower() in SKIP_NAMES:
                continue  # hidden files, Office lock files, our own manifest
            if depth == 0 and name == WITHDRAWN_DIR:
                continue  # withdrawn by the coordinator: kept, never read
            path = Path(entry.path)
            rel = _rel(path, inbox)
            try:
                if entry.is_symlink():
                    target = path.resolve(strict=True)
                    if not target.is_relative_to(root):
                        issues.append(make_issue("link-outside", file=rel))
                        continue
                    if target.is_dir():
                        continue  # its files are listed where they really are
                    mode = target.stat().st_mode
                elif entry.is_dir(follow_symlinks=False):
                    if depth + 1 > MAX_DEPTH:
                        issues.append(make_issue("folder-too-deep", file=rel, depth=MAX_DEPTH))
                    else:
                        stack.append((path, depth + 1))
                    continue
                else:
                    mode = entry.stat(follow_symlinks=False).st_mode
            except (OSError, RuntimeError):  # a broken or looping link, a file gone meanwhile
                issues.append(make_issue("link-broken" if entry.is_symlink() else "file-special", file=rel))
                continue
            if not stat.S_ISREG(mode):
                issues.append(make_issue("file-special", file=rel))
            else:
                files.append((path, rel))
    files.sort(key=lambda f: f[1])
    return files, issues


def _rel(path: Path, inbox: Path) -> str:
    try:
        return path.relative_to(inbox).as_posix()
    except ValueError:
        return path.name


def read_workbook(path: Path, inbox: Path, config: Config) -> FileRecord:
    """Read one workbook; any failure becomes an issue on the record, never an exception. Untrusted files are
    read through pipeline.intake.isolate, which calls this in a worker process: a reader library's abort,
    panic or runaway allocation ends only that worker.

    A file that cannot be read is still attributed to a department when its name, its folder or the inbox's
    manifest names one, so that department counts as having sent something unreadable, not as 未报送."""
    rec = FileRecord(path=path, name=_rel(path, inbox), mtime=0.0)
    try:
        _read_into(rec, config)
    except _Refused as exc:
        _fail(rec, make_issue(exc.code, file=rec.name, **exc.fields))
    except MemoryError:
        raise  # the reading worker reports it (pipeline.intake.isolate)
    except Exception as exc:  # noqa: BLE001 - any failure is this file's problem only; the run goes on
        _fail(rec, make_issue("file-unreadable", file=rec.name, detail=_reason(exc)))
    if not rec.readable:
        rec.department = _department_hint(rec, inbox, config)
    return rec


def _fail(rec: FileRecord, issue: Issue) -> None:
    rec.readable, rec.sheets, rec.department = False, {}, None
    rec.issues.append(issue)


class _Refused(Exception):
    """A file refused before or while reading it: an issue code and its fields."""

    def __init__(self, code: str, **fields: Any) -> None:
        super().__init__(code)
        self.code, self.fields = code, fields


def _load(rec: FileRecord) -> bytes:
    """The file's bytes, its size checked before anything is read (a larger file is hashed in chunks and
    refused); never blocks on a FIFO or a device."""
    fd = os.open(rec.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _Refused("file-special")
        rec.mtime = info.st_mtime
        if info.st_size > MAX_FILE_BYTES:
            rec.sha256 = _stream_hash(fd)
            raise _Refused("file-too-large", detail=f"{info.st_size // (1024 * 1024)} MB")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:  # it grew while we looked
            raise _Refused("file-too-large", detail=f"超过 {MAX_FILE_BYTES // (1024 * 1024)} MB")
        return data
    finally:
        os.close(fd)


def _stream_hash(fd: int) -> str:
    digest = hashlib.sha256()
    while chunk := os.read(fd, 1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def _read_into(rec: FileRecord, config: Config) -> None:
    suffix = rec.path.suffix.lower()
    if suffix in UNSUPPORTED_SUFFIXES:
        raise _Refused("file-format-unsupported", detail=UNSUPPORTED_SUFFIXES[suffix])
    data = _load(rec)
    rec.sha256 = hashlib.sha256(data).hexdigest()
    problem, members = _precheck(rec.path, data)
    if problem:
        rec.issues.append(make_issue(problem[0], file=rec.name, detail=problem[1]))
        return
    layout = scan.inspect(data, lambda name: _sheet_kind(name) is not None, members)
    if layout.oversized:
        big = layout.oversized
        rec.info = _info_only(data, layout.safe)  # the department may still be named in 填报信息
        raise _Refused("sheet-too-large", sheet=big.sheet, value=big.ref, rows=big.rows, cols=big.columns,
                       max_rows=MAX_ROWS, max_cells=MAX_CELLS)
    sheets, merges = _read_sheets(rec.path, layout.lean or data)
    for name, ranges in layout.merges.items():
        merges.setdefault(name, ranges)
    rec.readable = True
    rec.date1904 = layout.date1904
    for code, sheet, cells in layout.formulas:
        shown = "、".join(cells[:10]) + ("等" if len(cells) > 10 else "")
        rec.issues.append(make_issue(code, file=rec.name, sheet=sheet, value=shown))
    if layout.incomplete:
        rec.issues.append(make_issue("formula-scan-incomplete", file=rec.name, seconds=int(scan.SCAN_SECONDS)))
    _extract(rec, sheets, merges, config)
    if not rec.sheets and not any(i.code == "header-not-found" for i in rec.issues):
        rec.issues.append(make_issue("no-data", file=rec.name))
    elif rec.sheets and not _has_data(rec):
        rec.issues.append(make_issue("template-empty", file=rec.name))
        rec.sheets = {}  # the template's own rows (负面清单 items) are not a submission
    rec.department = _department(rec, config, quiet=not rec.sheets)


def _info_only(data: bytes, safe: set[str]) -> dict[str, Any]:
    """填报信息 of a workbook refused for a runaway data sheet, when that sheet was measured within limits."""
    info: dict[str, Any] = {}
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            for name in wb.sheet_names:
                if name in safe and _sheet_kind(name) == "info":
                    for key, value in _read_info(wb.get_sheet_by_name(name).to_python(skip_empty_area=False)).items():
                        info.setdefault(key, value)
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 - best effort: the file name may still name the department
        return {}
    return info


def formula_problems(data: bytes) -> list[tuple[str, str, list[str]]]:
    """Cells calamine reads as blank although they hold something: formulas without a cached value
    (formula-uncached) and Excel error values such as #REF! (formula-error); as (code, sheet, cells)."""
    try:
        return scan.inspect(data, lambda name: _sheet_kind(name) is not None).formulas
    except Exception:  # noqa: BLE001 - a best-effort scan
        return []


def _department_hint(rec: FileRecord, inbox: Path, config: Config) -> str | None:
    """The department of a file that could not be read: its 填报信息 when that much could be read, its name,
    a folder above it, or the manifest."""
    stated = rec.info.get("部门")
    if not is_blank(stated) and config.resolve_department(stated):
        return config.resolve_department(stated)
    rel = Path(rec.name)
    for text in (rel.stem, *(p for p in reversed(rel.parent.parts))):
        dept = _department_in_text(config, text)
        if dept:
            return dept
    try:
        manifest = json.loads((inbox / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest.get("files", []):
            if entry.get("saved") == rel.name and entry.get("department"):
                return config.resolve_department(entry["department"])
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    return None


def _precheck(path: Path, data: bytes) -> tuple[tuple[str, str] | None, list[zipfile.ZipInfo] | None]:
    """A finding that ends the reading before any sheet is looked at, and the zip's members when it is one
    (scan.inspect reads them from here instead of parsing the directory again)."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE container: old .xls, or an encrypted xlsx
        if "EncryptionInfo".encode("utf-16-le") in data[:65536] or b"EncryptedPackage" in data or \
                "EncryptedPackage".encode("utf-16-le") in data:
            return ("file-encrypted", ""), None
        return None, None
    if data[:2] != b"PK":
        return ("file-unreadable", "不是 Excel 文件格式，可能是改了扩展名的其他文件"), None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile:
        return ("file-unreadable", "文件已损坏或不完整"), None
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        return ("file-too-large", f"解压后 {total // (1024 * 1024)} MB"), None
    return None, infos


def _reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return "文件已加密"
    if "zip" in text or "corrupt" in text or "invalid" in text:
        return "文件已损坏或格式不正确"
    return "文件格式无法识别"


Merges = dict[str, list[tuple[int, int, int, int]]]


def _read_sheets(path: Path, data: bytes) -> tuple[dict[str, list[list]], Merges]:
    """Raw grids (lists of rows, row 1 first) of the sheets we care about, and their merged ranges.

    The format is taken from the content, not the extension: an .xlsx renamed .xls is read all the same.
    What the reader libraries have to say (xlrd's `WARNING *** file size …` on its log file, pandas and openpyxl
    warnings) never reaches the console: a department's file is judged by our own issues only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read_sheets_quietly(path, data)


def _read_sheets_quietly(path: Path, data: bytes) -> tuple[dict[str, list[list]], Merges]:
    try:
        return _read_calamine(data)
    except _Refused:
        raise
    except Exception:  # noqa: BLE001 - old .xls that calamine cannot read: try xlrd
        if data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise
    import pandas as pd  # only here: a reading worker started with spawn (Windows) starts without pandas
    with pd.ExcelFile(io.BytesIO(data), engine="xlrd", engine_kwargs={"logfile": io.StringIO()}) as xl:
        out = {}
        for name in xl.sheet_names:
            if _sheet_kind(name) is not None:
                frame = xl.parse(name, header=None, dtype=object, keep_default_na=False, na_values=[""])
                _check_size(name, len(frame))
                out[name] = frame.astype(object).where(frame.notna(), "").to_numpy().tolist()
        return out, {}


def _read_calamine(data: bytes) -> tuple[dict[str, list[list]], Merges]:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        out, merges = {}, {}
        for name in wb.sheet_names:
            if _sheet_kind(name) is None:
                continue
            sheet = wb.get_sheet_by_name(name)
            _check_size(name, sheet.total_height)
            rows = sheet.to_python(skip_empty_area=False)
            _check_size(name, len(rows))
            wide = rows and max(map(len, rows)) > MAX_COLUMNS
            out[name] = [row[:MAX_COLUMNS] for row in rows] if wide else rows  # (fresh lists: no copy needed)
            ranges = sheet.merged_cell_ranges
            if ranges:
                merges[name] = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in ranges]
        return out, merges
    finally:
        wb.close()


def _check_size(name: str, rows: int) -> None:
    if rows > MAX_ROWS:
        raise _Refused("file-too-large", detail=f"工作表“{name}”超过 {MAX_ROWS} 行")


@lru_cache(maxsize=1024)  # every workbook names its sheets alike
def _sheet_kind(sheet_name: str) -> str | None:
    norm = normalize_name(sheet_name)
    if INFO_SHEET in norm:
        return "info"
    for spec in DATA_SHEETS:
        if spec.name in norm:
            return spec.kind
    return None


def _extract(rec: FileRecord, sheets: dict[str, list[list]], merges: Merges, config: Config) -> None:
    """Every sheet named like a kind is read (two 人员名单 sheets are both read: nothing is lost)."""
    names: dict[str, list[str]] = {}
    for name, grid in sheets.items():
        kind = _sheet_kind(name)
        names.setdefault(kind, []).append(name)
        if kind == "info":
            for key, value in _read_info(grid).items():
                rec.info.setdefault(key, value)
            continue
        spec = sheet_for(config, kind)
        raw = _read_table(grid, spec, rec, name, merges.get(name, ()))
        if raw is not None:
            _typed_values(rec, raw, spec, config)
            rec.sheets.setdefault(kind, []).append(raw)
    if rec.date1904 and isinstance(rec.info.get("填报日期"), (int, float)):
        rec.info["填报日期"] = serial_date(rec.info["填报日期"], date1904=True)
    for kind, found in names.items():
        if len(found) > 1:
            label = INFO_SHEET if kind == "info" else next(s.name for s in DATA_SHEETS if s.kind == kind)
            rec.issues.append(make_issue("sheet-duplicate", file=rec.name, value="、".join(found), kind=label))


_DATE_TYPES = (dt.date, dt.datetime, dt.timedelta)


def _typed_values(rec: FileRecord, raw: RawSheet, spec: SheetSpec, config: Config) -> None:
    """Undo what the office suite's cell formats did to what was typed, where the intent is certain:
    - a bare date serial in a 1904 workbook counts from 1904-01-01 (every serial, not only formatted dates);
    - a number wearing a date format in a numeric column (8 hours shown as 1900-01-08) is the number;
    - a date in a 测评标准 column equal to date(2000+a, b, c) where a.b.c is a catalog code is that code
      (Chinese-locale Calc and other suites turn a typed `3.2.2` into 2003-02-02).
    Only columns holding such values are walked (a set of the cell types is built first, at C speed)."""
    for col in spec.columns:
        if col.key not in raw.columns or col.kind not in ("date", "number", "standard"):
            continue
        values = raw.values[raw.columns.index(col.key)]
        types = set(map(type, values))
        if col.kind == "date":
            if rec.date1904 and (float in types or int in types or str in types):
                for i, v in enumerate(values):
                    if isinstance(v, (int, float, str)) and not isinstance(v, bool):
                        fixed = serial_date(v, date1904=True)
                        if fixed is not None:
                            values[i] = fixed
        elif not any(issubclass(t, _DATE_TYPES) for t in types):
            continue
        elif col.kind == "number":
            for i, v in enumerate(values):
                if isinstance(v, _DATE_TYPES):
                    number = date_serial(v, date1904=rec.date1904)
                    values[i] = number
                    rec.issues.append(make_issue("number-from-date", file=rec.name, sheet=raw.name,
                                                 row=raw.numbers[i], column=col.name, value=clean_text(v),
                                                 number=f"{number:g}"))
        else:
            for i, v in enumerate(values):
                if isinstance(v, dt.date) and not (isinstance(v, dt.datetime) and v.time() != dt.time()):
                    code = f"{v.year - 2000}.{v.month}.{v.day}"
                    if 0 < v.year - 2000 < 100 and code in config.standards:
                        values[i] = code
                        rec.issues.append(make_issue("standard-from-date", file=rec.name, sheet=raw.name,
                                                     row=raw.numbers[i], column=col.name, value=clean_text(v),
                                                     standard=code))


def _has_data(rec: FileRecord) -> bool:
    """Something a person entered: any row of a data sheet, or a 负面清单 row whose answer or note is filled
    (the template lists the negative-list items itself: an untouched template has only those)."""
    for kind, raws in rec.sheets.items():
        for raw in raws:
            if kind != "negative":
                if len(raw):
                    return True
                continue
            if any(_filled(v) for key in ("exists", "note") for v in raw.column(key)):
                return True
    return False


def _read_info(grid: list[list]) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for row in grid:
        if len(row) >= 2:
            key = normalize_name(row[0])
            if key in INFO_FIELDS and not is_blank(row[1]) and key not in info:
                info[key] = row[1]
    return info


@lru_cache(maxsize=4096)
def header_key(value: Any) -> str:
    """How a header cell is compared: no whitespace, NFKC (full-width brackets), no * or (必填)."""
    text = normalize_name(value)
    return re.sub(r"\*|\(必填\)|\(选填\)", "", text)


@lru_cache(maxsize=None)
def _header_lookup(spec: SheetSpec) -> dict[str, str]:
    lookup = {}
    for col in spec.columns:
        for name in (col.name, *col.aliases):
            lookup[header_key(name)] = col.key
    return lookup


def _filled(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, str):
        return not value.isspace()
    return not (isinstance(value, float) and value != value)


def _read_table(grid: list[list], spec: SheetSpec, rec: FileRecord, sheet_name: str,
                merges: Any = (), fast: bool = True) -> RawSheet | None:
    """Find the header row in the first rows, then keep every data row with its Excel row number.

    Blank rows are skipped; a row with text only outside the recognised columns, a lone note-like cell
    (注：…, 填表人：…) or the header repeated mid-table is reported as a note and not read as data.
    `fast=False` judges every row one by one (the tests compare both ways)."""
    lookup = _header_lookup(spec)
    needed = set(spec.header_keys)
    header_at, mapping = None, {}
    for r, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        found: dict[str, int] = {}
        for c, value in enumerate(row):
            key = lookup.get(header_key(value)) if isinstance(value, str) else None
            if key and key not in found:
                found[key] = c
        if needed <= set(found):
            header_at, mapping = r, found
            break
    if header_at is None:
        if any(_filled(v) for row in grid for v in row):
            required = "、".join(c.name for c in spec.columns if c.key in needed)
            rec.issues.append(make_issue("header-not-found", file=rec.name, sheet=sheet_name, required=required))
        return None
    if merges:
        _fill_merged(grid, merges, header_at, mapping, spec, rec, sheet_name)
    header = grid[header_at]
    content_cols = [c for k, c in mapping.items() if k != "seq"]
    seq_col = mapping.get("seq")
    used_cols = set(mapping.values())
    take = _getter(content_cols)
    reach = max(used_cols)
    header_cells = tuple(header[c] if c < len(header) else None for c in content_cols)
    lead_header = header_cells[0]
    quick = fast and len(content_cols) > 1
    keep: list[int] = []
    for r in range(header_at + 1, len(grid)):
        row = grid[r]
        width = len(row)
        cells = take(row) if width > reach else tuple(row[c] if c < width else None for c in content_cols)
        if quick:  # the first two recognised cells plainly filled (text or a number), the first not the header's:
            a, b = cells[0], cells[1]  # data whatever the others hold (the cell-by-cell test below says the same)
            ta, tb = type(a), type(b)
            if (ta is str and a and not a.isspace() or ta is float and a == a) and \
                    (tb is str and b and not b.isspace() or tb is float and b == b) and a != lead_header:
                keep.append(r)
                continue
        if row.count("") == width:
            continue  # an empty row (templates format hundreds of them in advance)
        if cells == header_cells:
            _note(rec, sheet_name, r + 1, next((v for v in cells if _filled(v)), ""))
            continue
        if "" not in cells and None not in cells and not any(isinstance(v, str) and v.isspace() for v in cells):
            keep.append(r)  # the common row: every recognised cell filled
            continue
        filled = [(v != "" and not v.isspace()) if type(v) is str else (v is not None and v == v) for v in cells]
        count = filled.count(True)
        if count > 1 and cells[filled.index(True)] != header_cells[filled.index(True)]:
            keep.append(r)  # some recognised cells left blank, and not a repeated header
            continue
        if count == 0:
            stray = [v for c, v in enumerate(row) if c not in used_cols and _filled(v)]
            seq = row[seq_col] if seq_col is not None and seq_col < width else None
            if isinstance(seq, str) and seq.strip() and not seq.strip().isdigit():
                stray.insert(0, seq)
            if stray:
                _note(rec, sheet_name, r + 1, stray[0])
            continue
        if count == 1:
            lone = next(v for v, f in zip(cells, filled) if f)
            if isinstance(lone, str) and _NOTE_PREFIX.match(unicodedata.normalize("NFKC", lone).strip()):
                _note(rec, sheet_name, r + 1, lone)
                continue
        if all(not f or (isinstance(v, str) and v == h) for v, f, h in zip(cells, filled, header_cells)):
            _note(rec, sheet_name, r + 1, next(v for v, f in zip(cells, filled) if f))
            continue
        keep.append(r)
    columns = list(mapping.values())
    kept_rows = [grid[r] for r in keep]
    if kept_rows and min(map(len, kept_rows)) > reach:
        values = [list(col) for col in zip(*map(_getter(columns), kept_rows))]
    else:
        values = [[row[c] if c < len(row) else None for row in kept_rows] for c in columns]
    repeated = _repeated_keys(spec)
    for j, key in enumerate(mapping):
        if key in repeated:
            values[j] = _shared_text(values[j])
    return RawSheet(spec.kind, sheet_name, list(mapping), values, [r + 1 for r in keep])


@lru_cache(maxsize=None)
def _repeated_keys(spec: SheetSpec) -> frozenset[str]:
    """The columns whose cells repeat a few values (是/否, dates, codes, numbers typed as text)."""
    return frozenset(c.key for c in spec.columns if c.kind not in ("text", "seq"))


def _shared_text(values: list) -> list:
    """A column of text with each repeated text one object: pickled once for the reading process (pickle
    sends an object it has sent before as a reference), held once there. Only text: equal numbers, dates
    or booleans may differ in type or sign (1.0 == True, 0.0 == -0.0) and are left as they are."""
    if set(map(type, values)) != {str}:
        return values
    seen: dict[str, str] = {}
    return list(map(seen.setdefault, values, values))


def _fill_merged(grid: list[list], merges: Any, header_at: int, mapping: dict[str, int], spec: SheetSpec,
                 rec: FileRecord, sheet_name: str) -> None:
    """A range merged over several data rows shows its value on each of them: its value (the first cell's)
    applies to every row it spans, in the range's first column."""
    names = None  # column index -> its header name, looked up once a range is filled
    for r0, c0, r1, c1 in sorted(merges):
        if r1 <= r0 or r0 <= header_at or r0 >= len(grid):
            continue  # one row, or in the title/header rows
        top = grid[r0]
        value = top[c0] if c0 < len(top) else None
        if not _filled(value):
            continue
        filled = False
        for r in range(r0 + 1, min(r1, len(grid) - 1) + 1):
            row = grid[r]
            if c0 < len(row) and not _filled(row[c0]):
                row[c0] = value
                filled = True
        if filled and names is None:
            names = {c: next(col.name for col in spec.columns if col.key == k) for k, c in mapping.items()}
        if filled and c0 in names:
            rec.issues.append(make_issue("merged-cells", file=rec.name, sheet=sheet_name, row=r0 + 1,
                                         column=names[c0], value=clean_text(value), last=r1 + 1))


def _getter(cols: list[int]):
    """A C-level picker of the given cells of a row, always returning a tuple."""
    if len(cols) == 1:
        col = cols[0]
        return lambda row: (row[col],)
    return itemgetter(*cols)


def _note(rec: FileRecord, sheet: str, row: int, value: Any) -> None:
    rec.issues.append(make_issue("note-row", file=rec.name, sheet=sheet, row=row, value=clean_text(value)))


_ALIAS_INDEX: dict[int, tuple[dict, dict[int, dict[str, tuple[int, str]]]]] = {}


def _department_in_text(config: Config, text: str) -> str | None:
    """config.department_in_text (the department whose name or alias is the longest one in the text, the first
    listed of equally long ones), by looking the text's substrings up instead of testing every alias: a file
    name is short, a city's catalog names a thousand departments."""
    aliases = config.alias_map
    found = _ALIAS_INDEX.get(id(aliases))
    if found is None or found[0] is not aliases:
        by_length: dict[int, dict[str, tuple[int, str]]] = {}
        for i, (alias, dept) in enumerate(aliases.items()):
            if alias:
                by_length.setdefault(len(alias), {})[alias] = (i, dept)
        if len(_ALIAS_INDEX) >= 8:  # a long-lived process that reloads its config keeps only the recent ones
            _ALIAS_INDEX.clear()
        found = _ALIAS_INDEX[id(aliases)] = (aliases, dict(sorted(by_length.items(), reverse=True)))
    norm = normalize_name(text)
    for length, table in found[1].items():
        hits = [table[part] for part in {norm[i:i + length] for i in range(len(norm) - length + 1)} if part in table]
        if hits:
            return min(hits)[1]
    return None


def _named_elsewhere(config: Config, name: str, dept: str) -> str | None:
    """The other department a file name names (longest match), when it does not also name `dept`."""
    named = _department_in_text(config, name)
    if named is None or named == dept:
        return None
    norm = normalize_name(name)
    if any(alias in norm for alias, d in config.alias_map.items() if d == dept and alias):
        return None  # 工会、团委联合….xlsx of 工会: the name names it too
    return named


def _department(rec: FileRecord, config: Config, quiet: bool = False) -> str | None:
    """From 填报信息/部门 (through aliases), else the file name; quiet for files with no data to attribute."""
    stated = rec.info.get("部门")
    if not is_blank(stated):
        dept = config.resolve_department(stated)
        if dept is None and not quiet:
            rec.issues.append(make_issue("department-unknown", file=rec.name, sheet=INFO_SHEET, column="部门",
                                         value=clean_text(stated), known="、".join(config.department_names)))
        named = _named_elsewhere(config, Path(rec.name).stem, dept) if dept else None
        if named:  # 团委-….xlsx whose 填报信息 says 工会: counted for 工会, and said so
            rec.issues.insert(0, make_issue("department-name-mismatch", file=rec.name, sheet=INFO_SHEET, column="部门",
                                         value=clean_text(stated), named=named, counted=dept, department=dept))
        return dept
    dept = _department_in_text(config, Path(rec.name).stem)
    if quiet:
        return dept
    if dept is None:
        rec.issues.append(make_issue("department-missing", file=rec.name, known="、".join(config.department_names)))
    else:
        rec.issues.append(make_issue("department-from-filename", file=rec.name, value=dept))
    return dept
