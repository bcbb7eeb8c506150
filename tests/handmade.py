"""Workbooks written part by part, by hand (no library between the test and the bytes): the crafted inputs of
the isolation tests (issue 23 item 1)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKSHEET = RELS + "/worksheet"

#: how the 人员名单 sheet is named in xl/workbook.xml: as Excel writes it, and three spellings a regular
#: expression misses but an XML parser (and calamine) reads as the same sheet
ROSTER_SPELLINGS = {
    "plain": '<sheet name="人员名单" sheetId="2" r:id="rId2"/>',
    "charref": '<sheet name="&#x4EBA;员名单" sheetId="2" r:id="rId2"/>',
    "prefix": f'<sheet xmlns:rel="{RELS}" name="人员名单" sheetId="2" rel:id="rId2"/>',
    "gt": '<sheet note="a>b" name="人员名单" sheetId="2" r:id="rId2"/>',
}
FAR = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'


def _cell(ref: str, value) -> str:
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def _sheet(rows: list[list], extra: str = "") -> str:
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(row) if v is not None)
        body.append(f'<row r="{r}">{cells}</row>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}" '
            f'xmlns:r="{RELS}"><sheetData>{"".join(body)}{extra}</sheetData></worksheet>')


def handmade_xlsx(path: Path, department: str, *, spelling: str = "plain", far: bool = False,
                  people: int = 3, roster_extra: str = "") -> Path:
    """A department workbook of two sheets (填报信息, 人员名单) written part by part. `spelling` chooses how the
    roster's sheet element is written (ROSTER_SPELLINGS); `far` puts a value in XFD1048576 of the roster (a
    dense range of 17 billion cells for a reader that builds one)."""
    info = [["填报信息", None], ["部门", department], ["年度", 2026], ["填报人", "测试"], ["填报日期", "2026-11-01"]]
    roster = [["序号", "姓名", "工号", "在职", "参与创建工作", "满意度"]]
    roster += [[i, f"{department}{i}", f"{department}-{i:03d}", "是", "是", "满意"] for i in range(1, people + 1)]
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{MAIN}" '
                f'xmlns:r="{RELS}"><sheets><sheet name="填报信息" sheetId="1" r:id="rId1"/>'
                f'{ROSTER_SPELLINGS[spelling]}</sheets></workbook>')
    rels = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{WORKSHEET}" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{WORKSHEET}" Target="worksheets/sheet2.xml"/></Relationships>')
    root_rels = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG}">'
                 f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/'
             'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
             'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
             'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/'
             'sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
             '</Types>')
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", root_rels)
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", rels)
        zf.writestr("xl/worksheets/sheet1.xml", _sheet(info))
        zf.writestr("xl/worksheets/sheet2.xml", _sheet(roster, (FAR if far else "") + roster_extra))
    return path
