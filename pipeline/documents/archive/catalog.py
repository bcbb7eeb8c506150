"""The 档案目录 (xlsx streamed, docx printed) of the archive and of each department."""

from __future__ import annotations

from pathlib import Path

from pipeline.documents import ooxml
from pipeline.documents.archive.forms import cn_date
from pipeline.documents.archive.layout import Material
from pipeline.issues import Issue

DOCX_CATALOG_MAX = 20_000     # rows of the Word 目录 (a printed table; the xlsx holds every row)
CATALOG_HEADERS = ("编号", "题名", "责任部门", "日期", "文号", "页数", "备注")
CATALOG_WIDTHS = (2000, 3600, 1300, 1750, 1800, 600, 2726)   # landscape A4: 13,776 twips of text width


def _catalog_rows(materials: list[Material]):
    for m in materials:
        yield (m.number, m.title, m.department, m.date, m.doc_number or None, m.pages, m.note or None)


def catalog_files(folder: Path, heading: str, materials: list[Material], missing, issues: list[Issue],
               stem: str = "档案目录") -> None:
    from pipeline.documents.xlsx_stream import Print, Table, write_tables
    rows = [(*row, m.arcname, m.ledger or None) for row, m in zip(_catalog_rows(materials), materials)]
    write_tables(folder / f"{stem}.xlsx", [  # streamed: a city's 目录 has hundreds of thousands of rows
        Table("档案目录", (*CATALOG_HEADERS, "文件位置", "台账来源"), rows, (16, 40, 12, 11, 18, 6, 30, 60, 40),
              boxed=len(rows) <= 500, freeze="C2", print=Print(heading, columns=7, landscape=True)),
        Table("缺少的材料", ("部门", "台账文件", "工作表", "行", "佐证材料"), missing, (12, 36, 10, 6, 30),
              print=Print(f"{heading} · 缺少的材料")),
        Table("佐证材料问题", ("级别", "部门", "文件", "行", "说明"),
              [("提醒" if i.level == "warning" else "说明", i.department, i.file, i.row, i.message) for i in issues],
              (6, 12, 40, 6, 80), print=Print(f"{heading} · 佐证材料问题"))])
    shown = materials[:DOCX_CATALOG_MAX]
    rows = ([m.number, m.title, m.department, cn_date(m.date) if m.date else "", m.doc_number,
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
