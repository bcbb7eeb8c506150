"""A streaming writer for large, plain Excel tables (the ledger and the validation report).

openpyxl spends about 8 µs on every cell it writes; these workbooks hold millions of cells at city scale.
This writes the same SpreadsheetML directly: inline strings (text is never a formula), numbers, dates,
a bold header, column widths, a frozen header row, a filter and row colours by status.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence
from xml.sax.saxutils import escape

import numpy as np
from openpyxl.utils import get_column_letter

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


def _s(style: int) -> str:
    return f' s="{style}"' if style else ""


def _row_xml(r: str, values: Sequence[Any], letters: list[str], styles: tuple[str, str, list[str]]) -> str:
    """One <row>; dispatch on the exact type of each value (the hot loop of a city-scale ledger)."""
    text_s, date_s, num_s = styles
    out = [f'<row r="{r}">']
    for i, v in enumerate(values):
        t = type(v)
        if t is str:
            if v:
                out.append(f'<c r="{letters[i]}{r}" t="inlineStr"{text_s}><is><t xml:space="preserve">{_text(v)}</t></is></c>')
        elif v is None:
            continue
        elif t is float:
            if v == v and v not in (_INF, -_INF):
                out.append(f'<c r="{letters[i]}{r}"{num_s[i]}><v>{v!r}</v></c>')
        elif t is int:
            out.append(f'<c r="{letters[i]}{r}"{num_s[i]}><v>{v}</v></c>')
        elif t is bool or t is np.bool_:
            out.append(f'<c r="{letters[i]}{r}" t="b"{text_s}><v>{int(v)}</v></c>')
        elif isinstance(v, dt.date):
            day = v.date() if isinstance(v, dt.datetime) else v
            out.append(f'<c r="{letters[i]}{r}"{date_s}><v>{(day - _EPOCH).days}</v></c>')
        elif isinstance(v, (int, float, np.integer, np.floating)):  # numpy scalars and other numbers
            num = float(v)
            if num == num and abs(num) != _INF:
                out.append(f'<c r="{letters[i]}{r}"{num_s[i]}><v>{num!r}</v></c>')
        else:
            out.append(f'<c r="{letters[i]}{r}" t="inlineStr"{text_s}><is><t xml:space="preserve">{_text(str(v))}</t></is></c>')
    out.append("</row>")
    return "".join(out)


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
    base = _BOX if table.boxed else 0
    percent = {p - 1 for p in table.percent_cols}
    styles = (_s(base), _s(_BOX_DATE if table.boxed else _DATE),
              [_s((_BOX_PCT if table.boxed else _PCT) if c in percent else base) for c in range(ncol)])
    r = 1
    chunk: list[str] = []
    for values in table.rows:
        r += 1
        chunk.append(_row_xml(str(r), values, letters, styles))
        if len(chunk) >= 2000:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)
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


def write_tables(path: Path, tables: Sequence[Table]) -> None:
    """Write the tables as the sheets of one workbook (atomically)."""
    dxf = {c: i for i, c in enumerate(_FILL_COLORS)}
    for t in tables:
        for color in t.fills.values():
            if color not in dxf:
                raise ValueError(f"unsupported fill {color}")
    n = len(tables)
    sheets = "".join(f'<sheet name="{escape(t.title, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, t in enumerate(tables, 1))
    names = "".join(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                    f"'{escape(t.title).replace(chr(39), chr(39) * 2)}'!$A$1:${get_column_letter(len(t.headers))}$1"
                    f"</definedName>" for i, t in enumerate(tables))
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                    '<Default Extension="xml" ContentType="application/xml"/>'
                    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                    + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                              for i in range(1, n + 1)) + "</Types>")
        zf.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                    "</Relationships>")
        zf.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS}>'
                    f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
                    f"<definedNames>{names}</definedNames></workbook>")
        zf.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                    + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                              for i in range(1, n + 1))
                    + f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
                    "</Relationships>")
        zf.writestr("xl/styles.xml", _STYLES)
        for i, table in enumerate(tables, 1):
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as out:
                for part in _sheet_xml(table, dxf):
                    out.write(part.encode("utf-8"))
