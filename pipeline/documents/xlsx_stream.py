"""A streaming writer for large, plain Excel tables (the ledger) and for sheets of titles, notes and tables
(the 校验报告: `StreamBook`, with the API of `workbook.Book`).

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
import io
import itertools
import queue
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Sequence
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from openpyxl.utils import column_index_from_string, get_column_letter

from pipeline import deflate
from pipeline.atomic import atomic_path
from pipeline.documents import official
from pipeline.documents.text import strip_controls
from pipeline.documents.workbook import (FOOTER, LINE_HEIGHT, MARGINS, PORTRAIT_WIDTH, SMALL_TABLE, Print, cell_value,
                                         looks_like_formula, row_height, safe_sheet_title, text_lines)

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
    return _inline_worded(official.apply(text), style)   # current official wording (documents.official)


def _inline_worded(text: str, style: str) -> str:
    """`_inline` of a text already in the official wording."""
    if not text.isprintable() or len(text) > MAX_CELL_TEXT or "&" in text or "<" in text or ">" in text:
        text = _text(text)
    if text[:1].isspace() or text[-1:].isspace() or "\n" in text or "\t" in text or "  " in text:
        return f' t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'
    return f' t="inlineStr"{style}><is><t>{text}</t></is></c>'


_BATCH = 2048


def _inline_all(texts: list[str], style: str, end: bytes = b"") -> list[bytes]:
    """`'"' + _inline(text, style)` of each of many texts (the distinct texts of a column: 400,000 at city scale),
    followed by `end`, UTF-8 encoded. A batch whose joined text needs no care (printable, so no control
    character, newline or tab; no markup character; no text too long for a cell) skips the checks text by text:
    only plain spaces at the ends or doubled still ask for xml:space="preserve"; it is encoded at once and
    each text formatted into its cell as bytes. Any other batch goes text by text through `_inline`'s checks."""
    texts = official.apply_all(texts)

    def template(t_open: str) -> bytes:
        return (f'" t="inlineStr"{style}><is>{t_open}'.encode().replace(b"%", b"%%") + b"%s"
                + (b"</t></is></c>" + end).replace(b"%", b"%%"))
    plain, kept = template("<t>"), template('<t xml:space="preserve">')
    out: list[bytes] = []
    for at in range(0, len(texts), _BATCH):
        batch = texts[at:at + _BATCH]
        joined = "".join(batch)
        if not joined.isprintable() or "&" in joined or "<" in joined or ">" in joined \
                or max(map(len, batch)) > MAX_CELL_TEXT:
            out += [('"' + _inline_worded(t, style)).encode() + end for t in batch]
            continue
        encoded = "\0".join(batch).encode().split(b"\0")  # printable: no text holds a NUL
        if " " in joined:
            out += [(kept if t[:1] == " " or t[-1:] == " " or "  " in t else plain) % e
                    for t, e in zip(batch, encoded)]
        else:
            out += [plain % e for e in encoded]
    return out


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


def _column_cells(values: Sequence[Any], styles: tuple[str, str, str, str], end: bytes = b"") -> np.ndarray:
    """The cell bodies of one column (each after its `<c r="B7`), followed by `end` (what comes next in the
    row), UTF-8 encoded, every distinct value rendered and encoded once: columns repeat a lot (是/否,
    departments, file names, dates)."""
    text_s, date_s, num_s, blank = styles

    def body(v: Any) -> bytes:
        return ('"' + _cell_body(v, text_s, date_s, num_s, blank)).encode() + end

    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        arr = values   # a frame's column already (no copy through Python iteration)
    else:
        arr = np.fromiter(values, dtype=object, count=len(values))
    if len(arr) >= _DISTINCT_MIN and _distinct_texts(arr):   # names, numbers: nothing to share
        out = np.empty(len(arr), dtype=object)
        out[:] = _inline_all(arr.tolist(), text_s, end)
        return out
    try:
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    except TypeError:  # unhashable values: render each one
        return np.fromiter((body(v) for v in arr), dtype=object, count=len(arr))
    kinds = {type(u) for u in uniques}
    if len(kinds) > 1 and kinds & {bool, np.bool_}:  # True == 1: keep booleans apart from numbers
        return np.fromiter((body(v) for v in arr), dtype=object, count=len(arr))
    rendered = np.empty(len(uniques) + 1, dtype=object)
    empty = f'"{blank}'.encode() + end
    if kinds == {str}:  # the common case, without the type dispatch
        texts = [u for u in uniques if u]
        if len(texts) == len(uniques):
            rendered[:-1] = _inline_all(texts, text_s, end)
        else:
            bodies = iter(_inline_all(texts, text_s, end))
            rendered[:-1] = [next(bodies) if u else empty for u in uniques]
    else:
        rendered[:-1] = [body(u) for u in uniques]
    rendered[-1] = empty  # code -1: None, NaN, NaT
    return rendered[codes]


_DISTINCT_MIN = 5000


def _distinct_texts(arr: np.ndarray) -> bool:
    """Whether a column is non-empty text throughout and looks distinct (a sample of it is): then each value
    is rendered as it is, without finding the distinct ones first (which is what it would render anyway)."""
    # samples across it and of its first rows: a column sorted by file repeats in runs
    spread, run = arr[::max(1, len(arr) // 512)].tolist(), arr[:512].tolist()
    try:
        if len(set(spread)) < 0.9 * len(spread) or len(set(run)) < 0.9 * len(run):
            return False
    except TypeError:
        return False
    return all(type(v) is str for v in spread) and pd.api.types.infer_dtype(arr, skipna=False) == "string" \
        and all(type(v) is str and v for v in arr.tolist())


def _as_columns(rows: Iterable[Sequence[Any]], ncol: int) -> list[Sequence[Any]]:
    if isinstance(rows, Columns):
        return list(rows)
    rows = list(rows)
    if not rows:
        return [[] for _ in range(ncol)]
    return [list(col) for col in itertools.zip_longest(*rows)][:ncol]


def _body_rows(table: Table, letters: list[str], columns: list[Sequence[Any]], start: int,
               stop: int) -> Iterable[bytes]:
    """The <row> elements of data rows [start, stop), in chunks of UTF-8.

    Every cell body is rendered and encoded once per distinct value of its column, with what follows it in
    the row (the next cell's `<c r="C`, or `</row>`); a row is then its head (`<row r="7"><c r="A7`), and
    per later cell its row number and body: one join of bytes (no formatting per cell, no encoding of the
    200 MB of XML a city-scale ledger holds, and 2 pieces a cell to join)."""
    ncol = len(letters)
    base = _BOX if table.boxed else 0
    percent = {p - 1 for p in table.percent_cols}
    text_s, date_s = _s(base), _s(_BOX_DATE if table.boxed else _DATE)
    blank = f"{text_s}/>"
    ends = [f'<c r="{letter}'.encode() for letter in letters[1:]] + [b"</row>"]
    cells = [_column_cells(values[start:stop],
                           (text_s, date_s, _s((_BOX_PCT if table.boxed else _PCT) if c in percent else base), blank),
                           ends[c])
             for c, values in enumerate(columns)]
    n = stop - start
    heights = _heights(table, columns, start, stop) if table.boxed else None

    def chunk(at: int) -> bytes:
        end = min(n, at + _CHUNK_ROWS)
        numbers = [b"%d" % r for r in range(start + at + 2, start + end + 2)]
        if heights is None:
            heads = [b'<row r="%s"><c r="A%s' % (r, r) for r in numbers]
        else:
            heads = [b'<row r="%s%s"><c r="A%s' % (r, h, r) for r, h in zip(numbers, heights[at:end])]
        parts = [heads, cells[0][at:end]]
        for c in range(1, ncol):
            parts += [numbers, cells[c][at:end]]
        return b"".join(map(b"".join, zip(*parts)))  # row by row: twice as fast as one join over every piece

    return (chunk(at) for at in range(0, n, _CHUNK_ROWS))


_CHUNK_ROWS = 4000


def _heights(table: Table, columns: list[Sequence[Any]], start: int, stop: int) -> list[bytes]:
    """Row attributes giving each wrapped row of a small (boxed) table the height its text needs."""
    out = []
    for i in range(start, stop):
        height = row_height([col[i] if isinstance(col[i], str) else None for col in columns], table.widths, cap=27)
        out.append(f'" ht="{height}" customHeight="1'.encode() if height else b"")
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


def _printed_width(p: Print, widths: Sequence[float], ncol: int) -> float:
    printed = list(widths[:p.columns] if p.columns else widths)
    return sum(printed) if printed else 10.0 * ncol


def _header_text(text: str) -> str:
    return escape(strip_controls(text).replace("&", "&&"))


def _print_xml(table: Table) -> str:
    """printOptions, pageMargins, pageSetup and headerFooter: the print setup of workbook.apply_print."""
    p = table.print
    return _print_setup(p, _printed_width(p, table.widths, len(table.headers)) > PORTRAIT_WIDTH,
                        p.gridlines if p.gridlines is not None else not table.boxed)


def _print_setup(p: Print, wide: bool, grid: bool) -> str:
    landscape = p.landscape if p.landscape is not None else wide
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


# cellXfs 7-13: the block sheets of StreamBook (text typed as text, a title, notes)
_TEXT, _BOX_TEXT, _TITLE, _NOTE, _NOTE_BOLD, _NOTE_BOLD_SHADED, _NOTE_SHADED = 7, 8, 9, 10, 11, 12, 13
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/><numFmt numFmtId="165" formatCode="0.0%"/></numFmts>
<fonts count="3"><font><sz val="11"/><name val="宋体"/><family val="2"/></font><font><b/><sz val="11"/><name val="宋体"/><family val="2"/></font><font><sz val="14"/><name val="黑体"/><family val="2"/></font></fonts>
<fills count="4"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill><fill><patternFill patternType="solid"><fgColor rgb="FFF2F2F2"/><bgColor indexed="64"/></patternFill></fill></fills>
<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border><border><left style="thin"><color rgb="FFA6A6A6"/></left><right style="thin"><color rgb="FFA6A6A6"/></right><top style="thin"><color rgb="FFA6A6A6"/></top><bottom style="thin"><color rgb="FFA6A6A6"/></bottom><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="14">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="164" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" quotePrefix="1" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>
<xf numFmtId="0" fontId="1" fillId="3" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>
<xf numFmtId="0" fontId="0" fillId="3" borderId="0" xfId="0" applyFill="1" applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>
</cellXfs>
<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>
<dxfs count="{len(_FILL_COLORS)}">{"".join(f'<dxf><fill><patternFill><bgColor rgb="FF{c}"/></patternFill></fill></dxf>' for c in _FILL_COLORS)}</dxfs>
</styleSheet>"""


def write_tables(path: Path, tables: Sequence[Table]) -> None:
    """Write the tables as the sheets of one workbook (atomically), each sheet streamed into its member
    (zipfile, deflated by ISA-L: pipeline.deflate.ZipFile) while it is rendered.

    (Until 2026-12 large sheets were cut into row ranges rendered by forked children and joined by a
    hand-written ZIP writer: measured 1.22x at best on the 1,000-unit ledger on two cores, less than the
    1.3x that would pay for a second path Windows never runs.)"""
    dxf = {c: i for i, c in enumerate(_FILL_COLORS)}
    for t in tables:
        for color in t.fills.values():
            if color not in dxf:
                raise ValueError(f"unsupported fill {color}")
    tables = [part for t in tables for part in _within_sheet_limit(t)]
    for t in tables:
        if not t.title.isprintable():
            t.title = safe_sheet_title(t.title)
    with atomic_path(path) as tmp:
        with deflate.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, text in _package_parts(tables):
                zf.writestr(name, text)
            for i, table in enumerate(tables, 1):
                with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as out:
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


def _write_parts(out: IO[bytes], parts: Iterable[str | bytes]) -> None:
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
            pending.put(part if isinstance(part, bytes) else part.encode("utf-8"))
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]


# ---------------------------------------------------------------- sheets of blocks (the 校验报告)

class StreamSheet:
    """One sheet of a StreamBook: titles, notes and tables one below the other, as `workbook.Sheet` writes them
    (the same cells, merges, heights, fills and print setup) but rendered straight into SpreadsheetML.

    The 校验报告 has a sheet per department (1,000 at city scale); through openpyxl each cost about 5 ms."""

    def __init__(self, book: "StreamBook", title: str, widths: Sequence[float], print: Print,
                 freeze: str | None) -> None:
        self.book, self.title, self.widths, self.print = book, title, tuple(widths), print
        self.freeze = freeze or "A1"
        self.row = 0                       # the last row written
        self._rows: list[str] = []
        self._merges: list[str] = []
        self._formats: list[tuple[str, str, int]] = []   # (range, rules with {} for priorities, count)
        self._filter: str | None = None
        self._titles: str | None = None
        self._grid = bool(print.gridlines)
        self._packed: tuple[bytes, int] | None = None  # the finished sheet's XML, deflated, and its size

    def pack(self) -> None:
        """Keep the finished sheet as deflated XML until the book is saved: the 校验报告's 1,000 department
        sheets held 60 MB as text (2 MB deflated). Nothing can be added to it afterwards."""
        if self._packed is None:
            text = self.data()
            squeeze = deflate.compressor()
            self._packed = (squeeze.compress(text) + squeeze.flush(), len(text))
            self._rows = _Finished()

    @property
    def span(self) -> int:
        return self.print.columns or len(self.widths) or 1

    def _spanning(self, text: str, style: int, height: float | None) -> int:
        self.row += 1
        r = self.row
        value = cell_value(text)
        body = _block_cell(value, style, style) if value is not None else f' s="{style}"/>'
        self._rows.append(f'<row r="{r}"{_height(height)}><c r="A{r}"{body}</row>')
        if self.span > 1:
            self._merges.append(f"A{r}:{get_column_letter(self.span)}{r}")
        return r

    def blank(self) -> int:
        self.row += 1
        self._rows.append(f'<row r="{self.row}"/>')
        return self.row

    def heading(self, text: str) -> int:
        """A title row across the printed columns (黑体 14)."""
        lines = text_lines(text, sum(self.widths[:self.span]) / 1.3 or 40)
        return self._spanning(text, _TITLE, max(24.0, lines * 20.0 + 4))

    def note(self, text: str, bold: bool = False, fill: str | None = None) -> int:
        """A wrapped text row across the printed columns, as tall as its text needs (fill: F2F2F2 only)."""
        if fill not in (None, "F2F2F2"):
            raise ValueError(f"unsupported note fill {fill}")
        lines = text_lines(text, sum(self.widths[:self.span]) or 60)
        style = (_NOTE_BOLD_SHADED if fill else _NOTE_BOLD) if bold else (_NOTE_SHADED if fill else _NOTE)
        return self._spanning(text, style, lines * LINE_HEIGHT + 4 if lines > 1 else None)

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, status_col: int | None = None,
              fills: dict[str, str] | None = None, styled: bool | None = None, filter: bool = True,
              heights: bool | None = None) -> tuple[int, int]:
        """A header row and data rows; returns (header row, last row). The first table's header row is
        repeated on every printed page and gets the filter (as workbook.Sheet.table)."""
        rows = list(rows)
        styled = len(rows) <= SMALL_TABLE if styled is None else styled
        heights = styled if heights is None else heights
        widths, letters = self.widths, [get_column_letter(c) for c in range(1, len(headers) + 1)]
        self.row += 1
        first = self.row
        head = "".join(f'<c r="{letter}{first}"{_block_cell(cell_value(h), _HEADER, _HEADER)}'
                       for letter, h in zip(letters, headers))
        self._rows.append(f'<row r="{first}"{_height(row_height(headers, widths))}>{head}</row>')
        text_s, date_s, quoted_s = (_BOX, _BOX_DATE, _BOX_TEXT) if styled else (0, _DATE, _TEXT)
        cells_of = self.book._cells.setdefault((text_s, date_s, quoted_s), {})
        bodies = self.book._bodies.setdefault((text_s, date_s, quoted_s), {})
        out = self._rows
        for values in rows:
            self.row += 1
            r = self.row
            shown, cells = [], []
            for letter, v in zip(letters, values):
                t = type(v)
                known = cells_of.get((t, v)) if t is str or t is int or v is None else None
                if known is None:
                    cv = cell_value(v)
                    key = (type(cv), cv)
                    body = bodies.get(key)
                    if body is None:
                        body = bodies[key] = _block_cell(cv, text_s, date_s, quoted_s)
                    known = (cv, body)
                    if t is str or t is int or v is None:
                        cells_of[(t, v)] = known
                shown.append(known[0])
                cells.append(f'<c r="{letter}{r}"{known[1]}')
            out.append(f'<row r="{r}"{_height(row_height(shown, widths) if heights else None)}>{"".join(cells)}</row>')
        last = self.row
        last_col = letters[-1]
        if self._titles is None:
            self._titles = f"{first}:{first}"
            if filter:
                self._filter = f"A{first}:{last_col}{max(last, first + 1)}"
            if not styled and self.print.gridlines is None:
                self._grid = True
        if status_col and fills and rows:
            col = letters[status_col - 1]
            rules = "".join(f'<cfRule type="expression" dxfId="{_FILL_COLORS.index(color)}" priority="{{}}"><formula>'
                            f'${col}{first + 1}="{escape(text)}"</formula></cfRule>' for text, color in fills.items())
            self._formats.append((f"A{first + 1}:{last_col}{last}", rules, len(fills)))
        return first, last

    def data(self) -> bytes:
        """The sheet's XML, UTF-8 encoded."""
        if self._packed is not None:
            raw, size = self._packed
            return deflate.inflate(raw, size)
        return "".join(self.xml()).encode("utf-8")

    def xml(self) -> Iterable[str]:
        if self._packed is not None:
            yield self.data().decode("utf-8")
            return
        yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}>'
        yield '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        yield f'<sheetViews><sheetView workbookViewId="0">{_pane(self.freeze)}</sheetView></sheetViews>' \
              '<sheetFormatPr defaultRowHeight="15"/>'
        if self.widths:
            yield "<cols>" + "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                                     for i, w in enumerate(self.widths, 1)) + "</cols>"
        yield "<sheetData>"
        yield from self._rows
        yield "</sheetData>"
        if self._filter:
            yield f'<autoFilter ref="{self._filter}"/>'
        if self._merges:
            yield f'<mergeCells count="{len(self._merges)}">' + "".join(
                f'<mergeCell ref="{m}"/>' for m in self._merges) + "</mergeCells>"
        priority = 0
        for ref, rules, count in self._formats:
            yield f'<conditionalFormatting sqref="{ref}">' + rules.format(
                *range(priority + 1, priority + count + 1)) + "</conditionalFormatting>"
            priority += count
        printed = list(self.widths[:self.print.columns] if self.print.columns else self.widths)
        yield _print_setup(self.print, sum(printed or [0]) > PORTRAIT_WIDTH, self._grid)
        yield "</worksheet>"

    def defined_names(self, index: int) -> str:
        quoted = "'" + escape(self.title).replace("'", "''") + "'"
        names = ""
        if self._filter:
            names += (f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
                      f"{quoted}!{_absolute(self._filter)}</definedName>")
        if self.print.columns and self.row:
            names += (f'<definedName name="_xlnm.Print_Area" localSheetId="{index}">'
                      f"{quoted}!$A$1:${get_column_letter(self.print.columns)}${self.row}</definedName>")
        if self._titles:
            start, stop = self._titles.split(":")
            names += f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">{quoted}!${start}:${stop}</definedName>'
        return names


class _Finished(list):
    """The rows of a packed sheet: adding one is a mistake of the caller's, not a row lost."""

    def append(self, row: str) -> None:
        raise RuntimeError("this sheet is finished (a later sheet was begun): rows cannot be added to it")


class StreamBook:
    """A workbook of block sheets (`StreamSheet`), with the API of `workbook.Book` that the 校验报告 uses:
    `sheet(...)`, `table(...)`, `save(path)`, `to_bytes()`. Text stays text (formula-looking text is an inline
    string with the quote prefix), every sheet has the project's print setup; written with zipfile."""

    def __init__(self) -> None:
        self.sheets: list[StreamSheet] = []
        # the same texts and cells recur over the 1,000 department sheets: each cleaned and rendered once
        self._cells: dict[tuple, dict[tuple, tuple]] = {}  # styles -> {(type, typed value): (cell value, body)}
        self._bodies: dict[tuple, dict[tuple, str]] = {}   # styles -> {(type, cell value): cell body}

    def sheet(self, title: str, widths: Sequence[float] = (), print: Print = Print(),
              freeze: str | None = None) -> StreamSheet:
        sheet = StreamSheet(self, safe_sheet_title(title), widths, print, freeze)
        if self.sheets:
            self.sheets[-1].pack()  # sheets are filled one after the other: the one before is finished
        self.sheets.append(sheet)
        return sheet

    def table(self, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
              widths: Sequence[float] = (), print: Print = Print(), freeze: str | None = "A2",
              **options) -> StreamSheet:
        sheet = self.sheet(title, widths, print, freeze)
        sheet.table(headers, rows, **options)
        return sheet

    def _write(self, target) -> None:
        n = len(self.sheets)
        sheets = "".join(f'<sheet name="{escape(s.title, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, s in enumerate(self.sheets, 1))
        names = "".join(s.defined_names(i) for i, s in enumerate(self.sheets))
        parts = _package_parts([Table("x", ("x",), [])] * n)   # the content types and relationships of n sheets
        parts[2] = ("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS}>'
                    f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
                    + (f"<definedNames>{names}</definedNames>" if names else "") + "</workbook>")
        with deflate.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, text in parts:
                zf.writestr(name, text)
            for i, sheet in enumerate(self.sheets, 1):
                zf.writestr(f"xl/worksheets/sheet{i}.xml", sheet.data())

    def save(self, path: str | Path) -> None:
        """Write the workbook atomically."""
        with atomic_path(Path(path)) as tmp:
            self._write(tmp)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self._write(buf)
        return buf.getvalue()


def _height(height: float | None) -> str:
    return f' ht="{height}" customHeight="1"' if height else ""


def _absolute(ref: str) -> str:
    """A1:F9 -> $A$1:$F$9"""
    return ":".join("$" + p.rstrip("0123456789") + "$" + p[len(p.rstrip("0123456789")):] for p in ref.split(":"))


def _block_cell(v: Any, text_s: int, date_s: int, quoted_s: int | None = None) -> str:
    """What follows `<c r="B7"` for a value already passed through workbook.cell_value."""
    if v is None:
        return f'{_s(text_s)}/>'
    if isinstance(v, str) and quoted_s is not None and looks_like_formula(v):
        return _inline(v, _s(quoted_s))
    return _cell_body(v, _s(text_s), _s(date_s), _s(text_s), f"{_s(text_s)}/>")
