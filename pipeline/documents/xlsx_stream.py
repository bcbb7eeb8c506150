"""A streaming writer for large, plain Excel tables (the ledger and the validation report).

openpyxl spends about 8 µs on every cell it writes; these workbooks hold millions of cells at city scale.
This writes the same SpreadsheetML directly: inline strings (text is never a formula), numbers, dates,
a bold header, column widths, frozen panes, a filter, row colours by status, and the print setup every
workbook of the project has (`pipeline.documents.workbook.Print`: A4, orientation from the printed width,
one page wide, the header row repeated on every page, page header with the title and department, footer
`第 &P 页 共 &N 页`, gridlines or borders, a print area leaving out trailing technical columns, row heights
estimated for the wrapped text of small tables). The print setup is a few elements per sheet: it costs
nothing per row.
"""

from __future__ import annotations

import dataclasses
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
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Sequence
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from openpyxl.utils import column_index_from_string, get_column_letter

from pipeline import deflate
from pipeline.atomic import atomic_path
from pipeline.documents.text import strip_controls
from pipeline.documents.workbook import FOOTER, MARGINS, PORTRAIT_WIDTH, Print, row_height, safe_sheet_title

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
    freeze: str = "A2"                     # the first cell that scrolls (A2: the header row stays)
    print: Print = field(default_factory=Print)


def _text(value: str) -> str:
    if not value.isprintable():
        value = strip_controls(value)  # control and bidi characters: the filter of every output
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


def _body_rows(table: Table, letters: list[str], columns: list[Sequence[Any]], start: int, stop: int) -> Iterable[str]:
    """The <row> elements of data rows [start, stop), in chunks.

    Every cell body is rendered once per distinct value of its column; a chunk is then one join over
    constant pieces, row numbers and those bodies (no formatting per cell)."""
    ncol = len(letters)
    base = _BOX if table.boxed else 0
    percent = {p - 1 for p in table.percent_cols}
    text_s, date_s = _s(base), _s(_BOX_DATE if table.boxed else _DATE)
    blank = f"{text_s}/>"
    cells = [_column_cells(values[start:stop],
                           (text_s, date_s, _s((_BOX_PCT if table.boxed else _PCT) if c in percent else base), blank))
             for c, values in enumerate(columns)]
    opens = ['"><c r="A'] + [f'<c r="{letter}' for letter in letters[1:]]
    n = stop - start
    heights = _heights(table, columns, start, stop) if table.boxed else None

    def chunk(at: int) -> str:
        end = min(n, at + _CHUNK_ROWS)
        numbers = [str(r) for r in range(start + at + 2, start + end + 2)]
        parts = [itertools.repeat('<row r="'), numbers]
        if heights is not None:
            parts.append(heights[at:end])
        for c in range(ncol):
            parts += [itertools.repeat(opens[c]), numbers, cells[c][at:end]]
        parts.append(itertools.repeat("</row>"))
        return "".join(itertools.chain.from_iterable(zip(*parts)))

    return (chunk(at) for at in range(0, n, _CHUNK_ROWS))


_CHUNK_ROWS = 4000


def _heights(table: Table, columns: list[Sequence[Any]], start: int, stop: int) -> list[str]:
    """Row attributes giving each wrapped row of a small (boxed) table the height its text needs."""
    out = []
    for i in range(start, stop):
        height = row_height([col[i] if isinstance(col[i], str) else None for col in columns], table.widths, cap=27)
        out.append(f'" ht="{height}" customHeight="1' if height else "")
    return out


def _sheet_xml(table: Table, dxf: dict[str, int], start: int = 0, stop: int | None = None):
    """The sheet's XML; or the part of it holding data rows [start, stop), the head going with the part
    that starts at row 0 and the tail with the part that ends at the last row."""
    ncol = len(table.headers)
    letters = [get_column_letter(c) for c in range(1, ncol + 1)]
    columns = _as_columns(table.rows, ncol)
    n = len(columns[0]) if columns else 0
    stop = n if stop is None else stop
    if start == 0:
        yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}>'
        yield '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        yield f'<sheetViews><sheetView workbookViewId="0">{_pane(table.freeze)}</sheetView></sheetViews>' \
              '<sheetFormatPr defaultRowHeight="15"/>'
        if table.widths:
            yield "<cols>" + "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                                     for i, w in enumerate(table.widths, 1)) + "</cols>"
        yield "<sheetData>"
        height = row_height(table.headers, table.widths)
        yield (f'<row r="1" ht="{height}" customHeight="1">' if height else '<row r="1">') + "".join(f'<c r="{letters[i]}1" t="inlineStr" s="{_HEADER}"><is><t>{escape(strip_controls(str(h)))}</t></is></c>'
                                      for i, h in enumerate(table.headers)) + "</row>"
    yield from _body_rows(table, letters, columns, start, stop)
    if stop < n:
        return
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
    yield _print_xml(table)
    yield "</worksheet>"


def _pane(freeze: str) -> str:
    """The frozen pane whose first scrolling cell is `freeze` (A2: the header row; C2: also columns A-B)."""
    letters = freeze.rstrip("0123456789")
    row = int(freeze[len(letters):])
    col = column_index_from_string(letters)
    if row <= 1 and col <= 1:
        return ""
    split = (f' xSplit="{col - 1}"' if col > 1 else "") + (f' ySplit="{row - 1}"' if row > 1 else "")
    pane = "bottomRight" if col > 1 and row > 1 else ("bottomLeft" if row > 1 else "topRight")
    return (f'<pane{split} topLeftCell="{freeze}" activePane="{pane}" state="frozen"/>'
            f'<selection pane="{pane}" activeCell="{freeze}" sqref="{freeze}"/>')


def _printed_width(table: Table) -> float:
    widths = list(table.widths[:table.print.columns] if table.print.columns else table.widths)
    return sum(widths) if widths else 10.0 * len(table.headers)


def _header_text(text: str) -> str:
    return escape(strip_controls(text).replace("&", "&&"))


def _print_xml(table: Table) -> str:
    """printOptions, pageMargins, pageSetup and headerFooter: the print setup of workbook.apply_print."""
    p = table.print
    landscape = p.landscape if p.landscape is not None else _printed_width(table) > PORTRAIT_WIDTH
    grid = p.gridlines if p.gridlines is not None else not table.boxed
    margins = " ".join(f'{k}="{v}"' for k, v in MARGINS.items())
    head = ""
    if p.title:
        head += f"&amp;L&amp;9 {_header_text(p.title)}"
    if p.department:
        head += f"&amp;R&amp;9 {_header_text(p.department)}"
    grid_attr = ' gridLines="1"' if grid else ""
    return (f'<printOptions horizontalCentered="1"{grid_attr}/>'
            f"<pageMargins {margins}/>"
            f'<pageSetup paperSize="9" orientation="{"landscape" if landscape else "portrait"}" '
            f'fitToWidth="1" fitToHeight="0"/>'
            f'<headerFooter>{f"<oddHeader>{head}</oddHeader>" if head else ""}'
            f"<oddFooter>&amp;C&amp;9 {escape(FOOTER)}</oddFooter></headerFooter>")


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


PARALLEL_ROWS = 50_000  # a sheet with this many rows is rendered in pieces by forked children
_ZIP32_LIMIT = 0xFFFF_FFFF


def write_tables(path: Path, tables: Sequence[Table]) -> None:
    """Write the tables as the sheets of one workbook (atomically).

    Large sheets are cut into row ranges, shared out among this process and forked children that render
    and compress them at the same time; the pieces are joined into their members as they are (deflate
    streams concatenate). Otherwise, or on a
    platform without fork, one zipfile stream."""
    dxf = {c: i for i, c in enumerate(_FILL_COLORS)}
    for t in tables:
        for color in t.fills.values():
            if color not in dxf:
                raise ValueError(f"unsupported fill {color}")
    tables = [part for t in tables for part in _within_sheet_limit(t)]
    for t in tables:
        if not t.title.isprintable():
            t.title = safe_sheet_title(t.title)
    package = _package_parts(tables)
    sheets = [(f"xl/worksheets/sheet{i}.xml", t) for i, t in enumerate(tables, 1)]
    parallel = any(_row_count(t) >= PARALLEL_ROWS for _, t in sheets) and "fork" in mp.get_all_start_methods() \
        and not mp.current_process().daemon
    with atomic_path(path) as tmp:
        if parallel and _write_parallel(tmp, package, sheets, dxf):
            return
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, text in package:
                zf.writestr(name, text)
            for name, table in sheets:
                with zf.open(name, "w", force_zip64=True) as out:
                    _write_parts(out, _sheet_xml(table, dxf))


EXCEL_MAX_ROWS = 1_048_576  # rows in one Excel sheet, the header included


def _within_sheet_limit(table: Table) -> list[Table]:
    """A table longer than an Excel sheet continues on sheets titled 标题（续1）, 标题（续2）…"""
    limit = EXCEL_MAX_ROWS - 1
    n = _row_count(table)
    if n <= limit:
        return [table]
    columns = _as_columns(table.rows, len(table.headers))
    return [dataclasses.replace(table, title=table.title if k == 0 else f"{table.title[:24]}（续{k}）",
                                rows=Columns(col[at:at + limit] for col in columns))
            for k, at in enumerate(range(0, n, limit))]


def _row_count(table: Table) -> int:
    if isinstance(table.rows, Columns):
        return len(table.rows[0]) if table.rows else 0
    return len(table.rows) if isinstance(table.rows, (list, tuple)) else 0


def _package_parts(tables: Sequence[Table]) -> list[tuple[str, str]]:
    """Every member of the package but the sheets."""
    n = len(tables)
    sheets = "".join(f'<sheet name="{escape(t.title, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, t in enumerate(tables, 1))
    names = "".join(_defined_names(i, t) for i, t in enumerate(tables))
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


def _defined_names(i: int, t: Table) -> str:
    """The filter range, the header row repeated on every printed page, and the print area (when it leaves
    out trailing technical columns)."""
    quoted = "'" + escape(t.title).replace("'", "''") + "'"
    names = (f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
             f"{quoted}!$A$1:${get_column_letter(len(t.headers))}$1</definedName>")
    if t.print.columns:
        names += (f'<definedName name="_xlnm.Print_Area" localSheetId="{i}">'
                  f"{quoted}!$A$1:${get_column_letter(t.print.columns)}${_row_count(t) + 1}</definedName>")
    return names + f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{quoted}!$1:$1</definedName>'


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
    """One compressed zip member: a raw deflate stream in memory or in temporary files (pieces)."""

    name: str
    crc: int = 0
    size: int = 0
    compressed: int = 0
    data: bytes | None = None
    files: list[Path] = field(default_factory=list)


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

    def close(self, final: bool) -> None:
        """A piece followed by others ends on a byte boundary without the final-block mark."""
        self._emit(self.stream.flush() if final else self.stream.flush(zlib.Z_SYNC_FLUSH))

    def _emit(self, chunk: bytes) -> None:
        self.member.compressed += len(chunk)
        self.out.write(chunk)


@dataclass
class _Piece:
    """Rows [start, stop) of one sheet, compressed into `file`."""

    table: Table
    start: int
    stop: int
    final: bool
    file: Path
    done: _Member | None = None


def _pieces(table: Table) -> list[tuple[int, int]]:
    n = _row_count(table)
    parts = min(-(-n // PARALLEL_ROWS), os.cpu_count() or 1) if deflate.crc32_combine else 1
    if n < PARALLEL_ROWS or parts < 2:
        return [(0, n)]
    bounds = [n * i // parts for i in range(parts + 1)]
    return list(zip(bounds, bounds[1:]))


def _render(piece: _Piece, dxf: dict[str, int]) -> _Member:
    member = _Member("", files=[piece.file])
    with open(piece.file, "wb") as f:
        out = _Deflater(member, f)
        _write_parts(out, _sheet_xml(piece.table, dxf, piece.start, piece.stop))
        out.close(piece.final)
    return member


def _render_in_child(pieces: list[_Piece], dxf: dict[str, int], conn) -> None:
    try:
        conn.send([_render(piece, dxf) for piece in pieces])
    except BaseException:  # noqa: BLE001 - the parent renders these pieces itself; no traceback for users
        conn.send(None)
    finally:
        conn.close()


def _lanes(pieces: list[_Piece], n: int) -> list[list[_Piece]]:
    """The pieces shared out among n processes (this one first): largest first, each to the least loaded."""
    lanes: list[list[_Piece]] = [[] for _ in range(max(1, n))]
    load = [0] * len(lanes)
    for piece in sorted(pieces, key=lambda p: p.stop - p.start, reverse=True):
        i = load.index(min(load))
        lanes[i].append(piece)
        load[i] += piece.stop - piece.start + 1
    return lanes


def _joined(name: str, parts: list[_Member]) -> _Member:
    """One member from pieces whose deflate streams follow each other."""
    member = _Member(name, crc=parts[0].crc, size=parts[0].size, compressed=parts[0].compressed,
                     files=list(parts[0].files))
    for part in parts[1:]:
        member.crc = deflate.crc32_combine(member.crc, part.crc, part.size)
        member.size += part.size
        member.compressed += part.compressed
        member.files += part.files
    return member


def _write_parallel(target: Path, package: list[tuple[str, str]], sheets: list[tuple[str, Table]],
                    dxf: dict[str, int]) -> bool:
    """Render the pieces of every sheet in as many processes as there are cores (this one and forked
    children); False when the archive would need zip64 (then the caller writes it with zipfile)."""
    ctx = mp.get_context("fork")
    plan: list[tuple[str, list[_Piece]]] = []
    try:
        for name, table in sheets:
            spans = _pieces(table)
            pieces = []
            for k, (start, stop) in enumerate(spans):
                fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=target.parent)
                os.close(fd)
                pieces.append(_Piece(table, start, stop, k == len(spans) - 1, Path(tmp)))
            plan.append((name, pieces))
        lanes = _lanes([piece for _, pieces in plan for piece in pieces], os.cpu_count() or 1)
        children = []
        for lane in lanes[1:]:
            if lane:
                reader, writer = ctx.Pipe(duplex=False)
                child = ctx.Process(target=_render_in_child, args=(lane, dxf, writer), daemon=True)
                child.start()
                writer.close()
                children.append((lane, child, reader))
        members = []
        for text_name, text in package:
            data = text.encode("utf-8")
            packed = deflate.compressor()
            raw = packed.compress(data) + packed.flush()
            members.append(_Member(text_name, deflate.crc32(data), len(data), len(raw), data=raw))
        for piece in lanes[0]:
            piece.done = _render(piece, dxf)
        for lane, child, reader in children:
            try:
                done = reader.recv()
            except EOFError:
                done = None
            child.join()
            if done is None or child.exitcode != 0:  # the child failed: render its pieces here
                done = [_render(piece, dxf) for piece in lane]
            for piece, member in zip(lane, done):
                piece.done = member
        members += [_joined(name, [p.done for p in pieces]) for name, pieces in plan]
        if sum(m.compressed + 200 for m in members) >= _ZIP32_LIMIT or any(m.size >= _ZIP32_LIMIT for m in members):
            return False
        _write_zip(target, members)
        return True
    finally:
        for _, pieces in plan:
            for piece in pieces:
                piece.file.unlink(missing_ok=True)


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
            for part in m.files:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, f, 1 << 20)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, dos_time, dos_date,
                                       m.crc, m.compressed, m.size, len(name), 0, 0, 0, 0, 0, offset) + name)
        start = f.tell()
        for entry in central:
            f.write(entry)
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), f.tell() - start, start, 0))
