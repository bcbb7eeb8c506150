"""Read every file in the inbox: find the sheets and header rows, keep raw values with their Excel row numbers."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import pandas as pd
from python_calamine import CalamineWorkbook

from pipeline import deflate
from pipeline.catalog import Config, normalize_name
from pipeline.issues import Issue, make_issue
from pipeline.schema import DATA_SHEETS, INFO_FIELDS, INFO_SHEET, SheetSpec
from pipeline.intake.values import INVALID, clean_text, is_blank, parse_date

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
SKIP_NAMES = {"manifest.json", ".ds_store", "thumbs.db", "desktop.ini", ".gitkeep"}
HEADER_SCAN_ROWS = 10

# limits that stop bombs and runaway sheets before memory grows
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200

_FORMULA_CELL = re.compile(rb"<f[ >/]")
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

    @property
    def submitted_on(self) -> dt.date | None:
        value = parse_date(self.info.get("填报日期"))
        return None if value in (None, INVALID) else value


def list_inbox(inbox: Path) -> tuple[list[Path], list[Issue]]:
    """The workbooks in the inbox (recursively, sorted), and an info issue for every other file."""
    workbooks, issues = [], []
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        rel = path.relative_to(inbox)
        if any(part.startswith(".") for part in rel.parts) or path.name.startswith("~$"):
            continue  # hidden files and Office lock files
        if path.name.lower() in SKIP_NAMES:
            continue
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            workbooks.append(path)
        else:
            issues.append(make_issue("file-ignored", file=rel.as_posix()))
    return workbooks, issues


def read_workbook(path: Path, inbox: Path, config: Config) -> FileRecord:
    """Read one workbook; any failure becomes an issue on the record, never an exception."""
    rec = FileRecord(path=path, name=path.relative_to(inbox).as_posix(), mtime=0.0)
    try:
        _read_into(rec, config)
    except _TooLarge as exc:
        _fail(rec, make_issue("file-too-large", file=rec.name, detail=str(exc)))
    except Exception as exc:  # noqa: BLE001 - any failure is this file's problem only; the run goes on
        _fail(rec, make_issue("file-unreadable", file=rec.name, detail=_reason(exc)))
    if not rec.readable and rec.department is None:  # a damaged file is filed under the department it names
        rec.department = config.department_in_text(Path(rec.name).stem)
    return rec


def _fail(rec: FileRecord, issue: Issue) -> None:
    rec.readable, rec.sheets, rec.department = False, {}, None
    rec.issues.append(issue)


def _read_into(rec: FileRecord, config: Config) -> None:
    rec.mtime = rec.path.stat().st_mtime
    data = rec.path.read_bytes()
    rec.sha256 = hashlib.sha256(data).hexdigest()
    problem = _precheck(rec.path, data)
    if problem:
        rec.issues.append(make_issue(problem[0], file=rec.name, detail=problem[1]))
        return
    sheets = _read_sheets(rec.path, data)
    rec.readable = True
    for code, sheet, cells in formula_problems(data):
        shown = "、".join(cells[:10]) + ("等" if len(cells) > 10 else "")
        rec.issues.append(make_issue(code, file=rec.name, sheet=sheet, value=shown))
    _extract(rec, sheets)
    if not rec.sheets and not any(i.code == "header-not-found" for i in rec.issues):
        rec.issues.append(make_issue("no-data", file=rec.name))
    rec.department = _department(rec, config, quiet=not rec.sheets)


_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+\d+)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>|<v/>")
_SHEET = re.compile(r'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_REL = re.compile(r'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"|<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')


def formula_problems(data: bytes) -> list[tuple[str, str, list[str]]]:
    """Cells calamine reads as blank although they hold something: formulas without a cached value
    (formula-uncached) and Excel error values such as #REF! (formula-error); as (code, sheet, cells)."""
    if data[:2] != b"PK":
        return []
    found = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = {i.filename: i for i in zf.infolist()}
        rels = _member(data, members["xl/_rels/workbook.xml.rels"]).decode("utf-8", "replace")
        targets = {m[0] or m[3]: (m[1] or m[2]) for m in _REL.findall(rels)}
        for sheet, rid in _SHEET.findall(_member(data, members["xl/workbook.xml"]).decode("utf-8", "replace")):
            target = targets.get(rid, "").lstrip("/")
            member = members.get(target if target.startswith("xl/") else f"xl/{target}")
            if member is None or _sheet_kind(sheet) is None:
                continue
            xml = _member(data, member)
            if not _FORMULA_CELL.search(xml) and b't="e"' not in xml:
                continue
            uncached, errors = [], []
            for attrs, body in _CELL.findall(xml):
                ref = _REF.search(attrs)
                if ref is None:
                    continue
                if b't="e"' in attrs:
                    errors.append(ref.group(1).decode())
                elif body and _FORMULA_CELL.search(body) and _uncached(attrs, body):
                    uncached.append(ref.group(1).decode())
            name = _unescape_xml(sheet)
            if uncached:
                found.append(("formula-uncached", name, uncached))
            if errors:
                found.append(("formula-error-cells", name, errors))
    except Exception:  # noqa: BLE001 - a best-effort scan of a file calamine has read: keep what was found
        return found
    return found


def _member(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """One member's bytes straight from the archive in memory (no CRC pass: calamine has read them)."""
    if info.flag_bits & 1:
        raise ValueError("encrypted member")
    at = info.header_offset
    if data[at:at + 4] != b"PK\x03\x04":
        raise ValueError("bad local header")
    name_len, extra_len = struct.unpack("<HH", data[at + 26:at + 30])
    start = at + 30 + name_len + extra_len
    raw = data[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        return raw[:info.file_size]
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise ValueError("unsupported compression")
    return deflate.inflate(raw, info.file_size)


def _uncached(attrs: bytes, body: bytes) -> bool:
    """A formula cell without a value: no <v>, or an empty one that is not a cached empty text
    (openpyxl and other scripts write `<f>…</f><v></v>`; Excel writes `t="str"` for a formula giving "")."""
    value = _VALUE.search(body)
    return value is None or (not value.group(1) and b't="str"' not in attrs)


def _unescape_xml(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


class _TooLarge(Exception):
    pass


def _precheck(path: Path, data: bytes) -> tuple[str, str] | None:
    if len(data) > MAX_FILE_BYTES:
        return "file-too-large", f"{len(data) // (1024 * 1024)} MB"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE container: old .xls, or an encrypted xlsx
        if "EncryptionInfo".encode("utf-16-le") in data[:65536] or b"EncryptedPackage" in data or \
                "EncryptedPackage".encode("utf-16-le") in data:
            return "file-encrypted", ""
        return None
    if data[:2] != b"PK":
        return "file-unreadable", "不是 Excel 文件格式，可能是改了扩展名的其他文件"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile:
        return "file-unreadable", "文件已损坏或不完整"
    if total > MAX_UNCOMPRESSED_BYTES:
        return "file-too-large", f"解压后 {total // (1024 * 1024)} MB"
    return None


def _reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return "文件已加密"
    if "zip" in text or "corrupt" in text or "invalid" in text:
        return "文件已损坏或格式不正确"
    return "文件格式无法识别"


def _read_sheets(path: Path, data: bytes) -> dict[str, list[list]]:
    """Raw grids (lists of rows, row 1 first) of the sheets we care about.

    The format is taken from the content, not the extension: an .xlsx renamed .xls is read all the same."""
    try:
        return _read_calamine(data)
    except _TooLarge:
        raise
    except Exception:  # noqa: BLE001 - old .xls that calamine cannot read: try xlrd
        if path.suffix.lower() != ".xls":
            raise
    with pd.ExcelFile(path, engine="xlrd") as xl:
        out = {}
        for name in xl.sheet_names:
            if _sheet_kind(name) is not None:
                frame = xl.parse(name, header=None, dtype=object, keep_default_na=False, na_values=[""])
                _check_size(name, len(frame))
                out[name] = frame.astype(object).where(frame.notna(), "").to_numpy().tolist()
        return out


def _read_calamine(data: bytes) -> dict[str, list[list]]:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        out = {}
        for name in wb.sheet_names:
            if _sheet_kind(name) is None:
                continue
            sheet = wb.get_sheet_by_name(name)
            _check_size(name, sheet.total_height)  # from the sheet's dimension, before converting
            rows = sheet.to_python(skip_empty_area=False)
            _check_size(name, len(rows))            # files without a dimension record
            out[name] = [row[:MAX_COLUMNS] for row in rows]
        return out
    finally:
        wb.close()


def _check_size(name: str, rows: int) -> None:
    if rows > MAX_ROWS:
        raise _TooLarge(f"工作表“{name}”超过 {MAX_ROWS} 行")


def _sheet_kind(sheet_name: str) -> str | None:
    norm = normalize_name(sheet_name)
    if INFO_SHEET in norm:
        return "info"
    for spec in DATA_SHEETS:
        if spec.name in norm:
            return spec.kind
    return None


def _extract(rec: FileRecord, sheets: dict[str, list[list]]) -> None:
    """Every sheet named like a kind is read (two 人员名单 sheets are both read: nothing is lost)."""
    names: dict[str, list[str]] = {}
    for name, grid in sheets.items():
        kind = _sheet_kind(name)
        names.setdefault(kind, []).append(name)
        if kind == "info":
            for key, value in _read_info(grid).items():
                rec.info.setdefault(key, value)
            continue
        spec = next(s for s in DATA_SHEETS if s.kind == kind)
        raw = _read_table(grid, spec, rec, name)
        if raw is not None:
            rec.sheets.setdefault(kind, []).append(raw)
    for kind, found in names.items():
        if len(found) > 1:
            label = INFO_SHEET if kind == "info" else next(s.name for s in DATA_SHEETS if s.kind == kind)
            rec.issues.append(make_issue("sheet-duplicate", file=rec.name, value="、".join(found), kind=label))


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


def _read_table(grid: list[list], spec: SheetSpec, rec: FileRecord, sheet_name: str) -> RawSheet | None:
    """Find the header row in the first rows, then keep every data row with its Excel row number.

    Blank rows are skipped; a row with text only outside the recognised columns, a lone note-like cell
    (注：…, 填表人：…) or the header repeated mid-table is reported as a note and not read as data."""
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
    header = grid[header_at]
    content_cols = [c for k, c in mapping.items() if k != "seq"]
    seq_col = mapping.get("seq")
    used_cols = set(mapping.values())
    take = _getter(content_cols)
    reach = max(used_cols)
    header_cells = tuple(header[c] if c < len(header) else None for c in content_cols)
    keep: list[int] = []
    for r in range(header_at + 1, len(grid)):
        row = grid[r]
        width = len(row)
        if row.count("") == width:
            continue  # an empty row (templates format hundreds of them in advance)
        cells = take(row) if width > reach else tuple(row[c] if c < width else None for c in content_cols)
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
    if keep and all(len(grid[r]) > reach for r in keep):
        values = [list(col) for col in zip(*map(_getter(columns), (grid[r] for r in keep)))]
    else:
        values = [[grid[r][c] if c < len(grid[r]) else None for r in keep] for c in columns]
    return RawSheet(spec.kind, sheet_name, list(mapping), values, [r + 1 for r in keep])


def _getter(cols: list[int]):
    """A C-level picker of the given cells of a row, always returning a tuple."""
    if len(cols) == 1:
        col = cols[0]
        return lambda row: (row[col],)
    return itemgetter(*cols)


def _note(rec: FileRecord, sheet: str, row: int, value: Any) -> None:
    rec.issues.append(make_issue("note-row", file=rec.name, sheet=sheet, row=row, value=clean_text(value)))


def _department(rec: FileRecord, config: Config, quiet: bool = False) -> str | None:
    """From 填报信息/部门 (through aliases), else the file name; quiet for files with no data to attribute."""
    stated = rec.info.get("部门")
    known = "、".join(config.department_names)
    if not is_blank(stated):
        dept = config.resolve_department(stated)
        if dept is None and not quiet:
            rec.issues.append(make_issue("department-unknown", file=rec.name, sheet=INFO_SHEET, column="部门",
                                         value=clean_text(stated), known=known))
        return dept
    dept = config.department_in_text(Path(rec.name).stem)
    if quiet:
        return dept
    if dept is None:
        rec.issues.append(make_issue("department-missing", file=rec.name, known=known))
    else:
        rec.issues.append(make_issue("department-from-filename", file=rec.name, value=dept))
    return dept
