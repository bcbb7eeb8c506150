"""A streaming writer for large, plain Excel tables (the ledger and the validation report).

openpyxl spends about 8 µs on every cell it writes; these workbooks hold millions of cells at city scale.
This writes the same SpreadsheetML directly: inline strings (text is never a formula), numbers, dates,
a bold header, column widths, a frozen header row, a filter and row colours by status.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing as mp
import os
import queue
import shutil
import struct
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Sequence
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from pipeline import deflate
from pipeline.atomic import atomic_path
from pipeline.values import clean_text

_EPOCH = dt.date(1899, 12, 30)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' \
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
# cellXfs: 0 plain, 1 header, 2 date, 3 boxed+wrap, 4 boxed+wrap date, 5 percent, 6 boxed percent
_HEADER, _DATE, _BOX, _BOX_DATE, _PCT, _BOX_PCT = 1, 2, 3, 4, 5, 6
_FILL_COLORS = ("C6EFCE", "FFC7CE", "FFEB9C", "D9D9D9")
_INF = float("inf")
MAX_CELL_TEXT = 32_000  # Excel holds at most 32,767 characters in a cell


@dataclass
class Table:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[float] = ()
    status_col: int | None = None          # 1-based column whose value colours the row
    fills: dict[str, str] = field(default_factory=dict)  # value -> colour (one of _FILL_COLORS)
    boxed: bool = False                    # borders and wrapped text on every data cell (small tables)
    percent_cols: Sequence[int] = ()


def _text(value: str) -> str:
    if not value.isprintable():
        value = clean_text(value)  # XML cannot hold control characters
    if len(value) > MAX_CELL_TEXT:
        value = value[:MAX_CELL_TEXT] + "…"
    if "&" in value or "<" in value or ">" in value:
        value = escape(value)
    return value


def _inline(text: str, style: str) -> str:
    """An inline string cell body; xml:space="preserve" only where spaces at the ends or newlines need it."""
    if not text.isprintable() or len(text) > MAX_CELL_TEXT or "&" in text or "<" in text or ">" in text:
        text = _text(text)
    if text[:1].isspace() or text[-1:].isspace() or "\n" in text or "\t" in text or "  " in text:
        return f' t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'
    return f' t="inlineStr"{style}><is><t>{text}</t></is></c>'


def _s(style: int) -> str:
    return f' s="{style}"' if style else ""


class Columns(list):
    """A table body given column by column (one sequence per column, all the same length).

    Skips transposing rows back into columns when the data already lives in a DataFrame."""


def _cell_body(v: Any, text_s: str, date_s: str, num_s: str, blank: str) -> str:
    """What follows `<c r="B7"` for one value: its type, style and content, or `blank` when empty."""
    t = type(v)
    if t is str:
        return _inline(v, text_s) if v else blank
    if v is None:
        return blank
    if t is float:
        return f"{num_s}><v>{v!r}</v></c>" if v == v and v not in (_INF, -_INF) else blank
    if t is int:
        return f"{num_s}><v>{v}</v></c>"
    if t is bool or t is np.bool_:
        return f' t="b"{text_s}><v>{int(v)}</v></c>'
    if isinstance(v, dt.date):
        day = v.date() if isinstance(v, dt.datetime) else v
        return f"{date_s}><v>{(day - _EPOCH).days}</v></c>"
    if isinstance(v, (int, float, np.integer, np.floating)):  # numpy scalars and other numbers
        num = float(v)
        return f"{num_s}><v>{num!r}</v></c>" if num == num and abs(num) != _INF else blank
    return _inline(str(v), text_s)


def _column_cells(values: Sequence[Any], styles: tuple[str, str, str, str]) -> np.ndarray:
    """The cell bodies of one column (each after its `<c r="B7`), every distinct value rendered once:
    columns repeat a lot (是/否, departments, file names, dates)."""
    text_s, date_s, num_s, blank = styles

    def body(v: Any) -> str:
        return '"' + _cell_body(v, text_s, date_s, num_s, blank)

    arr = np.fromiter(values, dtype=object, count=len(values))
    try:
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    except TypeError:  # unhashable values: render each one
        return np.fromiter((body(v) for v in arr), dtype=object, count=len(arr))
    kinds = {type(u) for u in uniques}
    if len(kinds) > 1 and kinds & {bool, np.bool_}:  # True == 1: keep booleans apart from numbers
        return np.fromiter((body(v) for v in arr), dtype=object, count=len(arr))
    rendered = np.empty(len(uniques) + 1, dtype=object)
    if kinds == {str}:  # the common case, without the type dispatch
        rendered[:-1] = [f'"{_inline(u, text_s)}' if u else f'"{blank}' for u in uniques]
    else:
        rendered[:-1] = [body(u) for u in uniques]
    rendered[-1] = f'"{blank}'  # code -1: None, NaN, NaT
    return rendered[codes]


def _as_columns(rows: Iterable[Sequence[Any]], ncol: int) -> list[Sequence[Any]]:
    if isinstance(rows, Columns):
        return list(rows)
    rows = list(rows)
    if not rows:
        return [[] for _ in range(ncol)]
    return [list(col) for col in itertools.zip_longest(*rows)][:ncol]


def _body_rows(table: Table, letters: list[str]) -> tuple[int, Iterable[str]]:
    """The number of data rows, and their <row> elements in chunks.

    Every cell body is rendered once per distinct value of its column; a chunk is then one join over
    constant pieces, row numbers and those bodies (no formatting per cell)."""
    ncol = len(letters)
    base = _BOX if table.boxed else 0
    percent = {p - 1 for p in table.percent_cols}
    text_s, date_s = _s(base), _s(_BOX_DATE if table.boxed else _DATE)
    blank = f"{text_s}/>"
    columns = _as_columns(table.rows, ncol)
    cells = [_column_cells(values, (text_s, date_s, _s((_BOX_PCT if table.boxed else _PCT) if c in percent else base),
                                    blank))
             for c, values in enumerate(columns)]
    n = len(columns[0]) if columns else 0
    opens = ['"><c r="A'] + [f'<c r="{letter}' for letter in letters[1:]]

    def chunk(start: int) -> str:
        stop = min(n, start + _CHUNK_ROWS)
        numbers = [str(r) for r in range(start + 2, stop + 2)]
        parts = [itertools.repeat('<row r="'), numbers]
        for c in range(ncol):
            parts += [itertools.repeat(opens[c]), numbers, cells[c][start:stop]]
        parts.append(itertools.repeat("</row>"))
        return "".join(itertools.chain.from_iterable(zip(*parts)))

    return n, (chunk(start) for start in range(0, n, _CHUNK_ROWS))


_CHUNK_ROWS = 4000


def _sheet_xml(table: Table, dxf: dict[str, int]):
    ncol = len(table.headers)
    letters = [get_column_letter(c) for c in range(1, ncol + 1)]
    yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}>'
    yield ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
           'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
           '<sheetFormatPr defaultRowHeight="15"/>')
    if table.widths:
        yield "<cols>" + "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                                 for i, w in enumerate(table.widths, 1)) + "</cols>"
    yield "<sheetData>"
    yield '<row r="1">' + "".join(f'<c r="{letters[i]}1" t="inlineStr" s="{_HEADER}"><is><t>{escape(str(h))}</t></is></c>'
                                  for i, h in enumerate(table.headers)) + "</row>"
    n, chunks = _body_rows(table, letters)
    yield from chunks
    r = n + 1
    yield "</sheetData>"
    last = letters[-1]
    yield f'<autoFilter ref="A1:{last}{max(r, 2)}"/>'
    if table.status_col and table.fills and r > 1:
        col = letters[table.status_col - 1]
        rules = "".join(f'<cfRule type="expression" dxfId="{dxf[color]}" priority="{k}"><formula>'
                        f'${col}2="{escape(text)}"</formula></cfRule>'
                        for k, (text, color) in enumerate(table.fills.items(), 1))
        yield f'<conditionalFormatting sqref="A2:{last}{r}">{rules}</conditionalFormatting>'
    yield "</worksheet>"


_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/><numFmt numFmtId="165" formatCode="0.0%"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="宋体"/><family val="2"/></font><font><b/><sz val="11"/><name val="宋体"/><family val="2"/></font></fonts>
<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill></fills>
<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border><border><left style="thin"><color rgb="FFA6A6A6"/></left><right style="thin"><color rgb="FFA6A6A6"/></right><top style="thin"><color rgb="FFA6A6A6"/></top><bottom style="thin"><color rgb="FFA6A6A6"/></bottom><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="7">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="164" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>
<dxfs count="{len(_FILL_COLORS)}">{"".join(f'<dxf><fill><patternFill><bgColor rgb="FF{c}"/></patternFill></fill></dxf>' for c in _FILL_COLORS)}</dxfs>
</styleSheet>"""


PARALLEL_ROWS = 50_000  # a sheet with this many rows is rendered by a forked child while the rest is written
_ZIP32_LIMIT = 0xFFFF_FFFF


def write_tables(path: Path, tables: Sequence[Table]) -> None:
    """Write the tables as the sheets of one workbook (atomically).

    Large sheets are rendered and compressed by forked children, one per sheet, and the members are then
    stored into the zip as they are; otherwise (or on a platform without fork) one zipfile stream."""
    dxf = {c: i for i, c in enumerate(_FILL_COLORS)}
    for t in tables:
        for color in t.fills.values():
            if color not in dxf:
                raise ValueError(f"unsupported fill {color}")
    package = _package_parts(tables)
    sheets = [(f"xl/worksheets/sheet{i}.xml", t) for i, t in enumerate(tables, 1)]
    big = {name for name, t in sheets if _row_count(t) >= PARALLEL_ROWS}
    with atomic_path(path) as tmp:
        if big and "fork" in mp.get_all_start_methods() and not mp.current_process().daemon \
                and _write_parallel(tmp, package, sheets, big, dxf):
            return
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, text in package:
                zf.writestr(name, text)
            for name, table in sheets:
                with zf.open(name, "w", force_zip64=True) as out:
                    _write_parts(out, _sheet_xml(table, dxf))


def _row_count(table: Table) -> int:
    if isinstance(table.rows, Columns):
        return len(table.rows[0]) if table.rows else 0
    return len(table.rows) if isinstance(table.rows, (list, tuple)) else 0


def _package_parts(tables: Sequence[Table]) -> list[tuple[str, str]]:
    """Every member of the package but the sheets."""
    n = len(tables)
    sheets = "".join(f'<sheet name="{escape(t.title, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, t in enumerate(tables, 1))
    names = "".join(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                    f"'{escape(t.title).replace(chr(39), chr(39) * 2)}'!$A$1:${get_column_letter(len(t.headers))}$1"
                    f"</definedName>" for i, t in enumerate(tables))
    return [
        ("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
         '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
         + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   for i in range(1, n + 1)) + "</Types>"),
        ("_rels/.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         "</Relationships>"),
        ("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS}>'
         f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
         f"<definedNames>{names}</definedNames></workbook>"),
        ("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i in range(1, n + 1))
         + f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
         "</Relationships>"),
        ("xl/styles.xml", _STYLES),
    ]


def _write_parts(out: IO[bytes], parts: Iterable[str]) -> None:
    """Build and encode the XML here while another thread compresses the previous part: deflate releases
    the GIL, so a large sheet uses a second core when one is free."""
    pending: queue.Queue = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def drain() -> None:
        while (data := pending.get()) is not None:
            if not failed:
                try:
                    out.write(data)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    failed.append(exc)

    writer = threading.Thread(target=drain, daemon=True)
    writer.start()
    try:
        for part in parts:
            if failed:
                break
            pending.put(part.encode("utf-8"))
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]


@dataclass
class _Member:
    """One compressed zip member: a raw deflate stream in memory or in a temporary file."""

    name: str
    crc: int = 0
    size: int = 0
    compressed: int = 0
    data: bytes | None = None
    file: Path | None = None


class _Deflater:
    """A write()-able raw deflate stream into a file, keeping what the zip headers need."""

    def __init__(self, member: _Member, out: IO[bytes]) -> None:
        self.member, self.out = member, out
        self.stream = deflate.compressor()

    def write(self, data: bytes) -> None:
        m = self.member
        m.crc = deflate.crc32(data, m.crc)
        m.size += len(data)
        self._emit(self.stream.compress(data))

    def close(self) -> None:
        self._emit(self.stream.flush())

    def _emit(self, chunk: bytes) -> None:
        self.member.compressed += len(chunk)
        self.out.write(chunk)


def _deflate_sheet(member: _Member, table: Table, dxf: dict[str, int]) -> _Member:
    with open(member.file, "wb") as f:
        out = _Deflater(member, f)
        _write_parts(out, _sheet_xml(table, dxf))
        out.close()
    return member


def _deflate_in_child(member: _Member, table: Table, dxf: dict[str, int], conn) -> None:
    try:
        conn.send(_deflate_sheet(member, table, dxf))
    except BaseException:  # noqa: BLE001 - the parent renders this sheet itself; no traceback for users
        conn.send(None)
    finally:
        conn.close()


def _write_parallel(target: Path, package: list[tuple[str, str]], sheets: list[tuple[str, Table]],
                    big: set[str], dxf: dict[str, int]) -> bool:
    """Render every large sheet in its own forked child; False when the result would need zip64."""
    ctx = mp.get_context("fork")
    scratch = []
    try:
        children = {}
        for name, table in sheets:
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=target.parent)
            os.close(fd)
            scratch.append(Path(tmp))
            member = _Member(name, file=Path(tmp))
            if name in big:
                reader, writer = ctx.Pipe(duplex=False)
                child = ctx.Process(target=_deflate_in_child, args=(member, table, dxf, writer), daemon=True)
                child.start()
                writer.close()
                children[name] = (child, reader)
        members = []
        for text_name, text in package:
            data = text.encode("utf-8")
            packed = deflate.compressor()
            raw = packed.compress(data) + packed.flush()
            members.append(_Member(text_name, deflate.crc32(data), len(data), len(raw), data=raw))
        for (name, table), tmp in zip(sheets, scratch):
            if name not in children:
                members.append(_deflate_sheet(_Member(name, file=tmp), table, dxf))
                continue
            child, reader = children[name]
            try:
                done = reader.recv()
            except EOFError:
                done = None
            child.join()
            if done is None or child.exitcode != 0:  # the child failed: render it here
                done = _deflate_sheet(_Member(name, file=tmp), table, dxf)
            members.append(done)
        if sum(m.compressed + 200 for m in members) >= _ZIP32_LIMIT or any(m.size >= _ZIP32_LIMIT for m in members):
            return False
        _write_zip(target, members)
        return True
    finally:
        for tmp in scratch:
            tmp.unlink(missing_ok=True)


def _write_zip(target: Path, members: list[_Member]) -> None:
    """A plain (zip32) archive of already-compressed members."""
    now = time.localtime()
    dos_time = (now.tm_hour << 11) | (now.tm_min << 5) | (now.tm_sec // 2)
    dos_date = ((now.tm_year - 1980) << 9) | (now.tm_mon << 5) | now.tm_mday
    central = []
    with open(target, "wb") as f:
        for m in members:
            offset = f.tell()
            name = m.name.encode("utf-8")
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, dos_time, dos_date,
                                m.crc, m.compressed, m.size, len(name), 0) + name)
            if m.data is not None:
                f.write(m.data)
            else:
                with open(m.file, "rb") as src:
                    shutil.copyfileobj(src, f, 1 << 20)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, dos_time, dos_date,
                                       m.crc, m.compressed, m.size, len(name), 0, 0, 0, 0, 0, offset) + name)
        start = f.tell()
        for entry in central:
            f.write(entry)
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), f.tell() - start, start, 0))
