"""The one writer path for every workbook the project writes or mails.

Every workbook a user opens or prints goes through here (or, for city-scale tables, through
`pipeline.documents.xlsx_stream`, which writes the same print setup into its own XML). Two promises hold for all
of them:

1. **Text stays text.** A value that looks like a formula (`=…`, `+…`, `-…`, `@…`: `=cmd|' /C calc'!A0`,
   `=HYPERLINK(…)`, `@SUM(…)`) is stored as a text cell with the "quote prefix" mark, so no office suite
   evaluates it, not even after the user edits the cell. Control and bidi-override characters are dropped
   (`documents.text.strip_controls`, the filter the Word documents use) from cells, sheet names and page
   headers; overlong text is cut to what a cell holds.
2. **Every sheet prints right.** A4, portrait or landscape chosen from the printed width (or given), fit to one
   page wide and as many tall as needed, the table's header row repeated on every page, a page header with the
   document title (left) and the department (right) where there is one, the footer `第 &P 页 共 &N 页`, margins
   for binding, borders (small tables) or printed gridlines (large ones), a print area that leaves out trailing
   technical columns, and row heights estimated from the text so wrapped cells show in full in Excel, WPS and
   LibreOffice.

The API (streamed: rows are written as they are added, so a sheet's widths, panes and print setup are given
when it is created):

    from pipeline.documents.workbook import Book, Print

    book = Book()
    ws = book.sheet("目录", widths=(8, 40, 12, 30), print=Print(title="2026年…档案目录", department="调宣部"),
                    freeze="A3")                       # freeze: the first scrolling cell (default: none)
    ws.heading("2026年天津市科学技术协会文明单位创建档案目录")   # a title row across the printed columns
    ws.note("说明：……")                                # a wrapped text row across the printed columns
    first, last = ws.table(("编号", "题名", "日期", "备注"), rows,
                           status_col=None, fills=None,     # colour rows by the value of a column
                           formats={3: "yyyy-mm-dd"},        # number formats by column (1-based)
                           text_cols=(1,),                   # code columns formatted as text (`@`)
                           styled=None,                      # borders + wrapping (default: up to 500 rows)
                           filter=True)                      # an AutoFilter on the first table of the sheet
    ws.blank()
    ws.add_chart(chart, "A20")                          # an openpyxl chart
    book.table("明细", headers, rows, widths=…, print=Print(…))  # a sheet holding one table, in one call
    book.save(path)          # written atomically (temporary file renamed into place)
    data = book.to_bytes()   # the same workbook as bytes, for a mail attachment

`Print(title, department=None, landscape=None, columns=None, gridlines=None)`: `landscape=None` chooses from
the printed width; `columns=n` prints the first n columns only (the rest is technical: file paths, row numbers);
`gridlines=None` prints gridlines only where the table has no borders. The header row of the first table on a
sheet is repeated on every printed page.

Workbooks built cell by cell with openpyxl (the department templates, which need protection, merged cells and
data validation) use the same two steps: `apply_print(ws, print, widths)` for each sheet, then
`save_workbook(wb, path)`, which stores any formula-looking text as text before writing atomically.
"""

from __future__ import annotations

import io
import math
from copy import copy
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from pipeline.atomic import atomic_path
from pipeline.documents import official
from pipeline.documents.text import strip_controls
from pipeline.intake.values import clean_text

MAX_CELL_TEXT = 32_000   # Excel holds at most 32,767 characters in a cell
SMALL_TABLE = 500        # tables up to this many rows get borders, wrapping and estimated row heights
FORMULA_START = ("=", "+", "-", "@")

A4 = 9                   # paperSize code of A4
PORTRAIT_WIDTH = 100     # printed column widths (Excel units) above this go landscape
LINE_HEIGHT = 15.0       # points per text line (宋体 11)
FOOTER = "第 &P 页 共 &N 页"
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.75, "bottom": 0.7, "header": 0.3, "footer": 0.3}  # inches

HEAD_FONT = Font(name="宋体", bold=True)
TITLE_FONT = Font(name="黑体", size=14)
NOTE_FONT = Font(name="宋体", size=11)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
HEAD_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
NOTE_ALIGN = Alignment(wrap_text=True, vertical="center")
BOLD_FONT = Font(name="宋体", size=11, bold=True)


@lru_cache(maxsize=None)
def solid_fill(color: str) -> PatternFill:
    """One PatternFill object per colour (long-lived: cell styles are cached by the identity of their parts)."""
    return PatternFill("solid", fgColor=color)


@dataclass(frozen=True)
class Print:
    """How a sheet prints (see the module docstring)."""

    title: str = ""
    department: str | None = None
    landscape: bool | None = None
    columns: int | None = None
    gridlines: bool | None = None


# ---------------------------------------------------------------- values

def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value[:1] in FORMULA_START


def cell_value(value: Any) -> Any:
    """A value as a cell holds it: text cleaned of control characters and capped, lists joined, None for blanks."""
    if value is None or isinstance(value, (bool, int, float)) or hasattr(value, "isoformat"):
        if isinstance(value, float) and value != value:
            return None
        return value
    if isinstance(value, (tuple, list)):
        return "、".join(map(str, value)) or None
    text = official.apply(clean_text(value))   # current official wording in every workbook too
    if not text.isprintable():  # newlines, or a control or bidi character
        text = strip_controls(text)
    return (text[:MAX_CELL_TEXT] + "…") if len(text) > MAX_CELL_TEXT else (text or None)


def as_text(cell) -> None:
    """Mark a cell holding formula-looking text as text (also after the user edits it: the quote prefix)."""
    cell.data_type = "s"
    cell.quotePrefix = True


def display_width(text: str) -> int:
    """Width in Excel column units: CJK and full-width characters take two."""
    if text.isascii():
        return len(text)
    # CJK and full-width characters take 3 bytes in UTF-8, ASCII 1: counted in C, not per character
    return len(text) + (len(text.encode("utf-8", "replace")) - len(text)) // 2


def text_lines(value: Any, width: float) -> int:
    """How many lines a wrapped cell of this column width needs for this value."""
    if value is None:
        return 1
    if isinstance(value, str) and len(value) <= _SHORT:
        return _short_lines(value, width)
    text = value if isinstance(value, str) else (f"{value:%Y-%m-%d}" if hasattr(value, "strftime") else str(value))
    return _lines(text, width)


_SHORT = 300  # texts this short have their line counts remembered (a bounded cache of small keys)


@lru_cache(maxsize=1 << 14)
def _short_lines(text: str, width: float) -> int:
    """`_lines`, remembered: the same messages, files and values recur over a 校验报告's 1,000 sheets."""
    return _lines(text, width)


def _lines(text: str, width: float) -> int:
    usable = max(1.0, width - 1.5)  # cell padding
    return sum(max(1, math.ceil(display_width(line) / usable)) for line in text.split("\n")) or 1


def row_height(values: Sequence[Any], widths: Sequence[float], cap: int = 15) -> float | None:
    """An explicit row height that shows every wrapped value, or None when one line is enough."""
    lines = 1
    for v, w in zip(values, widths):
        if isinstance(v, str) and w:  # numbers and dates do not wrap
            lines = max(lines, text_lines(v, w))
    return None if lines <= 1 else min(lines, cap) * LINE_HEIGHT + 3


# ---------------------------------------------------------------- print setup

def _header_text(text: str) -> str:
    return strip_controls(text).replace("&", "&&")


def apply_print(ws, print: Print, widths: Sequence[float] = (), repeat_rows: str | None = None,
                last_row: int | None = None) -> None:
    """The print setup of one sheet (openpyxl worksheet, write-only or not; before its first row is written).
    The print area (`print.columns`) needs the sheet's last row: given here, or set by Book.save."""
    printed = list(widths[:print.columns] if print.columns else widths)
    landscape = print.landscape if print.landscape is not None else sum(printed or [0]) > PORTRAIT_WIDTH
    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    for side, inches in MARGINS.items():
        setattr(ws.page_margins, side, inches)
    ws.print_options.horizontalCentered = True
    if print.gridlines:
        ws.print_options.gridLines = True
    hf = ws.HeaderFooter
    if print.title:
        hf.oddHeader.left.text, hf.oddHeader.left.size = _header_text(print.title), 9
    if print.department:
        hf.oddHeader.right.text, hf.oddHeader.right.size = _header_text(print.department), 9
    hf.oddFooter.center.text, hf.oddFooter.center.size = FOOTER, 9
    if repeat_rows:
        ws.print_title_rows = repeat_rows
    if print.columns and last_row:
        ws.print_area = f"A1:{get_column_letter(print.columns)}{last_row}"


# ---------------------------------------------------------------- streamed workbooks

class Sheet:
    """One streamed sheet of a Book: rows are written in order as they are added."""

    def __init__(self, book: "Book", title: str, widths: Sequence[float], print: Print, freeze: str | None) -> None:
        self.book, self.widths, self.print = book, tuple(widths), print
        self.ws = book.wb.create_sheet(title)
        self.row = 0                      # the last row written
        self._has_table = False
        self._title_rows: str | None = None
        for c, w in enumerate(self.widths, 1):
            self.ws.column_dimensions[get_column_letter(c)].width = w
        if freeze:
            self.ws.freeze_panes = freeze
        apply_print(self.ws, print, self.widths)

    @property
    def title(self) -> str:
        return self.ws.title

    @property
    def span(self) -> int:
        """How many columns a title or note row spans: the printed ones."""
        return self.print.columns or len(self.widths) or 1

    def _append(self, cells: list, height: float | None = None) -> int:
        self.row += 1
        if height:
            self.ws.row_dimensions[self.row].height = height
        self.ws.append(cells)
        return self.row

    def _cell(self, value: Any, *, styled: bool = False, number_format: str | None = None,
              font: Font | None = None, fill: PatternFill | None = None, align: Alignment | None = None,
              border: Border | None = None):
        v = cell_value(value)
        special = looks_like_formula(v)
        is_date = hasattr(v, "isoformat") and not isinstance(v, str)
        if not (styled or special or is_date or number_format or font or fill or align or border):
            return v
        cell = WriteOnlyCell(self.ws, value=v)
        # openpyxl hashes every style part on every assignment; the same combination is applied by copying
        # the style array of the first cell that had it (parts are module constants, so ids are stable)
        cache = _style_cache(self.ws.parent)
        key = (styled, special, is_date, number_format, id(font), id(fill), id(align), id(border))
        hit = cache.get(key)
        if hit is not None:
            cell._style = copy(hit[0])
            if special:
                cell.data_type = "s"
            return cell
        if special:
            as_text(cell)
        if is_date:
            cell.number_format = "yyyy-mm-dd"
        if number_format:
            cell.number_format = number_format
        if styled:
            cell.border, cell.alignment = BOX, WRAP
        if font:
            cell.font = font
        if fill:
            cell.fill = fill
        if align:
            cell.alignment = align
        if border:
            cell.border = border
        cache[key] = (copy(cell._style), (font, fill, align, border))  # the parts kept alive with their ids
        return cell

    def blank(self) -> int:
        return self._append([])

    def _spanning(self, text: str, font: Font, height: float | None, fill: PatternFill | None = None) -> int:
        cell = self._cell(text, font=font, fill=fill, align=NOTE_ALIGN)
        span = self.span
        row = self._append([cell], height)
        if span > 1:
            self.ws.merged_cells.add(f"A{row}:{get_column_letter(span)}{row}")
        return row

    def heading(self, text: str) -> int:
        """A title row across the printed columns (黑体 14)."""
        lines = text_lines(text, sum(self.widths[:self.span]) / 1.3 or 40)  # 14 pt: wider glyphs
        return self._spanning(text, TITLE_FONT, max(24.0, lines * 20.0 + 4))

    def note(self, text: str, bold: bool = False, fill: str | None = None) -> int:
        """A wrapped text row across the printed columns, as tall as its text needs."""
        lines = text_lines(text, sum(self.widths[:self.span]) or 60)
        return self._spanning(text, BOLD_FONT if bold else NOTE_FONT, lines * LINE_HEIGHT + 4 if lines > 1 else None,
                              solid_fill(fill) if fill else None)

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, status_col: int | None = None,
              fills: dict[str, str] | None = None, formats: dict[int, str] | None = None,
              text_cols: Sequence[int] = (), styled: bool | None = None, filter: bool = True,
              heights: bool | None = None) -> tuple[int, int]:
        """A header row and data rows; returns (header row, last row). The first table's header row is
        repeated on every printed page and gets the filter."""
        rows = list(rows)
        styled = len(rows) <= SMALL_TABLE if styled is None else styled
        heights = styled if heights is None else heights
        widths = self.widths
        formats = dict(formats or {})
        for c in text_cols:
            formats.setdefault(c, "@")
        header = [self._cell(h, font=HEAD_FONT, fill=HEAD_FILL, align=HEAD_ALIGN, border=BOX) for h in headers]
        first = self._append(header, row_height(headers, widths))
        for values in rows:
            values = [cell_value(v) for v in values]
            cells = [self._cell(v, styled=styled, number_format=formats.get(c)) for c, v in enumerate(values, 1)]
            self._append(cells, row_height(values, widths) if heights else None)
        last = self.row
        last_col = get_column_letter(len(headers))
        if not self._has_table:
            self._has_table = True
            self.ws.print_title_rows = f"{first}:{first}"
            if filter:
                self.ws.auto_filter.ref = f"A{first}:{last_col}{max(last, first + 1)}"
            if not styled and self.print.gridlines is None:
                self.ws.print_options.gridLines = True
        if status_col and fills and rows:
            col = get_column_letter(status_col)
            for text, color in fills.items():
                self.ws.conditional_formatting.add(
                    f"A{first + 1}:{last_col}{last}",
                    FormulaRule(formula=[f'${col}{first + 1}="{text}"'], fill=PatternFill("solid", bgColor=color)))
        return first, last

    def cells(self, values: Sequence[Any], *, bold: bool = False, styled: bool = False,
              fills: Sequence[str | None] = (), formats: dict[int, str] | None = None) -> int:
        """One plain row of values (e.g. a label beside a figure); fills colour single cells."""
        formats = formats or {}
        font = BOLD_FONT if bold else None
        out = []
        for c, v in enumerate(values, 1):
            fill = fills[c - 1] if c - 1 < len(fills) and fills[c - 1] else None
            out.append(self._cell(v, styled=styled, number_format=formats.get(c), font=font,
                                  fill=solid_fill(fill) if fill else None))
        return self._append(out, row_height([cell_value(v) for v in values], self.widths) if styled else None)

    def colour(self, ref: str, formula: str, color: str, font_color: str | None = None) -> None:
        """Conditional colour for a range (a formula relative to its top-left cell)."""
        self.ws.conditional_formatting.add(ref, FormulaRule(
            formula=[formula], fill=PatternFill("solid", bgColor=color),
            font=Font(color=font_color) if font_color else None))

    def add_chart(self, chart, anchor: str) -> None:
        self.ws.add_chart(chart, anchor)


def _style_cache(wb) -> dict:
    cache = getattr(wb, "_pipeline_styles", None)
    if cache is None:
        cache = wb._pipeline_styles = {}
    return cache


class Book:
    """A new workbook whose sheets are written through this module (see the module docstring)."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self.sheets: list[Sheet] = []

    def sheet(self, title: str, widths: Sequence[float] = (), print: Print = Print(),
              freeze: str | None = None) -> Sheet:
        sheet = Sheet(self, safe_sheet_title(title), widths, print, freeze)
        self.sheets.append(sheet)
        return sheet

    def table(self, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
              widths: Sequence[float] = (), print: Print = Print(), freeze: str | None = "A2", **options) -> Sheet:
        """A sheet holding one table with a frozen header row."""
        sheet = self.sheet(title, widths, print, freeze)
        sheet.table(headers, rows, **options)
        return sheet

    def _finish(self) -> None:
        for sheet in self.sheets:
            if sheet.print.columns and sheet.row:
                sheet.ws.print_area = f"A1:{get_column_letter(sheet.print.columns)}{sheet.row}"

    def save(self, path: str | Path) -> None:
        """Write the workbook atomically."""
        self._finish()
        with atomic_path(path) as tmp:
            self.wb.save(tmp)

    def to_bytes(self) -> bytes:
        self._finish()
        buf = io.BytesIO()
        self.wb.save(buf)
        return buf.getvalue()


def safe_sheet_title(text: str) -> str:
    text = strip_controls(text)
    for ch in "[]:*?/\\":
        text = text.replace(ch, "_")
    return text[:31] or "_"


# ---------------------------------------------------------------- workbooks built cell by cell

def defuse(wb) -> int:
    """Store every formula-looking value of an openpyxl workbook (not write-only) as text, and drop control and
    bidi characters from its text; returns how many cells were made text.

    The project never writes a live formula into a cell: a cell openpyxl would write as a formula holds text a
    user or a department typed."""
    n = 0
    for ws in wb.worksheets:
        if not ws.title.isprintable():
            ws.title = safe_sheet_title(ws.title)
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and not cell.value.isprintable():
                    cell.value = strip_controls(cell.value)
                if cell.data_type == "f" or (cell.data_type == "s" and looks_like_formula(cell.value)):
                    as_text(cell)
                    n += 1
                elif cell.data_type == "s" and isinstance(cell.value, str):
                    current = official.apply(cell.value)   # a workbook built cell by cell: the official wording
                    if current != cell.value:
                        cell.value = current
    return n


def save_workbook(wb, path: str | Path) -> None:
    """Save an openpyxl workbook built cell by cell: formula-looking text as text, then atomically."""
    defuse(wb)
    with atomic_path(path) as tmp:
        wb.save(tmp)


def workbook_bytes(wb) -> bytes:
    defuse(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
