"""Every workbook the project writes or mails prints right, reads at a glance and keeps text as text.

The workbooks: the department templates, the 校验报告 (and the department sheet mailed with a receipt), the
测评得分表, the 任务分解一览台账 (streamed). Page setup, print titles and formulas are read from the XML itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest

from builders import YEAR, activity, document, person, report, run, staff, workbook
from pipeline.catalog import load_config
from pipeline.documents.render_xlsx import department_sheet, department_workbook
from pipeline.documents.workbook import Book, Print, display_width, save_workbook
from pipeline.schema import TEMPLATE_FORMAT
from pipeline.templates import HEADER_ROW, build_template, write_templates

ROOT = Path(__file__).resolve().parent.parent
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
      "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
HOSTILE = ("=cmd|' /C calc'!A0", '=HYPERLINK("http://example.com","点我")', "+1+2", "-3+4 总结", "@SUM(1,2)")
LEDGER_MAX_PAGES = 12       # the bundled sample's ledger as LibreOffice prints it (8 pages when measured)
VALIDATION_MAX_PAGES = 16   # the bundled sample's 校验报告: 11 pages for 11 sheets when measured (23 before); 16 with the evidence warnings (活动 without photos)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """An inbox whose cells and file names look like formulas, reported once."""
    base = tmp_path_factory.mktemp("hostile")
    inbox = base / "inbox"
    roster = staff(3) + [person(HOSTILE[0], "9001", satisfaction=HOSTILE[1])]
    workbook(inbox / "工会-台账.xlsx", "工会", roster=roster,
             activities=[activity(f"{YEAR}-04-0{i + 1}", text, "3.6.1") for i, text in enumerate(HOSTILE)],
             documents=[document(HOSTILE[1], "3.6.1"), document(HOSTILE[3], "2.1.2")])
    workbook(inbox / "=1+2 团委.xlsx", "团委", roster=[person(None, "1")] + staff(2, start=50))
    (inbox / "妇联-台账.xlsx").write_bytes(b"PK\x03\x04 damaged")  # a damaged file naming its department
    scores = report(inbox, base / "out")
    return scores, base / "out"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    return report(ROOT / "examples" / "inbox", out), out


@pytest.fixture(scope="module")
def templates(tmp_path_factory, config):
    out = tmp_path_factory.mktemp("templates")
    return write_templates(config, out)


def _out(out: Path, name: str) -> Path:
    (path,) = out.glob(f"*{name}.xlsx")
    return path


# ---------------------------------------------------------------- reading the package

def _sheets(path: Path) -> dict[str, dict]:
    """Per visible sheet: its XML root, print titles and print area (from workbook.xml)."""
    with zipfile.ZipFile(path) as zf:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels}
        names: dict[tuple[int, str], str] = {}
        for dn in book.iterfind("m:definedNames/m:definedName", NS):
            if dn.get("localSheetId") is not None:
                names[(int(dn.get("localSheetId")), dn.get("name"))] = dn.text
        out = {}
        for i, sheet in enumerate(book.iterfind("m:sheets/m:sheet", NS)):
            if sheet.get("state") == "hidden":
                continue
            target = targets[sheet.get(f"{{{NS['r']}}}id")].lstrip("/")
            member = target if target.startswith("xl/") else f"xl/{target}"
            out[sheet.get("name")] = {"xml": ET.fromstring(zf.read(member)),
                                      "titles": names.get((i, "_xlnm.Print_Titles")),
                                      "area": names.get((i, "_xlnm.Print_Area"))}
        return out


def _assert_prints_right(path: Path, tables: bool = True, skip_titles: tuple[str, ...] = ()) -> dict[str, dict]:
    """Every visible sheet: A4, one page wide, as many tall as needed, footer with page numbers, margins;
    sheets holding a table repeat its header row on every page."""
    sheets = _sheets(path)
    assert sheets, path
    for name, s in sheets.items():
        root = s["xml"]
        setup = root.find("m:pageSetup", NS)
        assert setup is not None, (path.name, name)
        assert setup.get("paperSize") == "9" and setup.get("orientation") in ("portrait", "landscape"), (path.name, name)
        assert setup.get("fitToWidth") == "1" and setup.get("fitToHeight") == "0", (path.name, name)
        fit = root.find("m:sheetPr/m:pageSetUpPr", NS)
        assert fit is not None and fit.get("fitToPage") in ("1", "true"), (path.name, name)
        footer = root.find("m:headerFooter/m:oddFooter", NS)
        assert footer is not None and "第 &P 页 共 &N 页" in footer.text, (path.name, name)
        header = root.find("m:headerFooter/m:oddHeader", NS)
        assert header is not None and "年" in header.text, (path.name, name)  # the document's title
        margins = root.find("m:pageMargins", NS)
        assert margins is not None and float(margins.get("left")) >= 0.4, (path.name, name)
        if tables and name not in skip_titles:
            assert s["titles"] and re.fullmatch(r"'?.+'?!\$\d+:\$\d+", s["titles"]), (path.name, name, s["titles"])
    return sheets


def _no_formulas(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        for n in zf.namelist():
            if n.startswith("xl/worksheets/"):
                assert "<f>" not in zf.read(n).decode() and "<f " not in zf.read(n).decode(), (path.name, n)


def _texts(path: Path) -> dict[str, str]:
    """Every text value of the workbook -> its data type, as openpyxl reads it."""
    wb = openpyxl.load_workbook(path)
    return {c.value: c.data_type for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str)}


# ---------------------------------------------------------------- one writer path: text stays text

def test_formula_looking_text_stays_text_in_every_workbook(hostile, config):
    scores, out = hostile
    mailed = out / "mailed.xlsx"
    mailed.write_bytes(department_workbook(config, scores, "工会"))
    for path, expected in ((_out(out, "任务分解一览台账"), HOSTILE), (_out(out, "校验报告"), HOSTILE[1:2] + ("=1+2 团委.xlsx",)),
                           (_out(out, "测评得分表"), ("=1+2 团委.xlsx",)), (mailed, HOSTILE[1:2])):
        _no_formulas(path)
        texts = _texts(path)
        for text in expected:
            found = [v for v in texts if text in v]
            assert found, (path.name, text)
            assert all(texts[v] == "s" for v in found), (path.name, text)
        _assert_prints_right(path)


def test_cell_by_cell_workbooks_are_defused_on_save(tmp_path, config):
    """A template (or any workbook built cell by cell) holding formula-looking text, e.g. from config."""
    wb = build_template(config, "工会")
    wb["活动记录"].cell(HEADER_ROW + 1, 3, HOSTILE[0])
    wb["填报信息"]["C2"] = HOSTILE[1]
    path = tmp_path / "t.xlsx"
    save_workbook(wb, path)
    _no_formulas(path)
    ws = openpyxl.load_workbook(path)["活动记录"]
    cell = ws.cell(HEADER_ROW + 1, 3)
    assert cell.value == HOSTILE[0] and cell.data_type == "s" and cell.quotePrefix


def test_book_api_prints_and_stores_text(tmp_path):
    book = Book()
    ws = book.sheet("目录", (8, 40, 12, 30, 30), Print("2026年档案目录", "调宣部", columns=4), freeze="A4")
    ws.heading("2026年档案目录")
    ws.note("说明：" + "编号按测评标准排列。" * 12)
    first, last = ws.table(("编号", "题名", "日期", "备注", "来源"), [("3.2.2", HOSTILE[0], None, HOSTILE[4], "x.xlsx")],
                           text_cols=(1,))
    path = tmp_path / "b.xlsx"
    book.save(path)
    (s,) = _assert_prints_right(path).values()
    assert s["titles"] == "'目录'!$3:$3" and s["area"] == "'目录'!$A$1:$D$4"  # the technical 来源 is not printed
    assert s["xml"].find("m:pageSetup", NS).get("orientation") == "portrait"  # 90 printed units of 120
    wb = openpyxl.load_workbook(path)["目录"]
    assert wb["A4"].number_format == "@" and wb["B4"].data_type == "s" and wb["B4"].quotePrefix
    assert wb.row_dimensions[2].height > 15  # the wrapped note shows in full
    assert "调宣部" in wb.oddHeader.right.text and wb.freeze_panes == "A4"


# ---------------------------------------------------------------- templates

def test_templates_print_right_with_text_code_columns_and_excel_style_formulas(templates, config):
    for path in templates:
        sheets = _assert_prints_right(path, skip_titles=("填表说明", "填报信息"))
        assert sheets["填表说明"]["xml"].find("m:pageSetup", NS).get("orientation") == "portrait"
        wb = openpyxl.load_workbook(path)
        dept = wb["填报信息"]["B3"].value
        assert dept in path.name and dept in wb["人员名单"].oddHeader.right.text
        codes = {"人员名单": "工号", "活动记录": "测评标准", "制度文件": "文号"}
        for sheet, column in codes.items():
            ws = wb[sheet]
            headers = [c.value for c in ws[HEADER_ROW]]
            col = headers.index(column) + 1
            assert ws.cell(HEADER_ROW + 1, col).number_format == "@", (path.name, sheet)
            assert ws.cell(HEADER_ROW + 300, col).number_format == "@", (path.name, sheet)
            assert sheets[sheet]["titles"].endswith(f"!$2:$2")
        assert wb["制度文件"].cell(HEADER_ROW, 7).value == "佐证材料"
        std = [c.value for c in wb["制度文件"][HEADER_ROW]].index("测评标准") + 1
        assert wb["制度文件"].cell(HEADER_ROW + 1, std).number_format == "@"
        with zipfile.ZipFile(path) as zf:
            for n in zf.namelist():
                if n.startswith("xl/worksheets/sheet"):
                    formulas = re.findall(r"<(?:x14:)?formula1>(.*?)</", zf.read(n).decode())
                    assert all(not f.startswith("=") for f in formulas), (path.name, n, formulas)
    assert TEMPLATE_FORMAT >= 2 and config.template_version == "2026.2"


def test_guide_wraps_each_step_within_the_printed_width(templates):
    ws = openpyxl.load_workbook(templates[0])["填表说明"]
    steps = [r for r in range(3, 9) if str(ws.cell(r, 1).value or "")[:2] in {f"{i}." for i in range(1, 7)}]
    assert len(steps) == 6
    merged = {str(m) for m in ws.merged_cells.ranges}
    for r in steps:
        assert ws.cell(r, 1).alignment.wrap_text and f"A{r}:E{r}" in merged
    printed = sum(ws.column_dimensions[c].width for c in "ABCDE")
    assert printed <= 120  # about one portrait page: not shrunk to an unreadable size
    for r in steps:  # each step's row is tall enough for its text at that width (CJK: two units a character)
        lines = int(ws.row_dimensions[r].height // 15)
        assert display_width(ws.cell(r, 1).value) <= lines * (printed - 1.5), r


def test_older_templates_are_still_read_and_noted_once(tmp_path):
    """A format-1 workbook (制度文件 without 佐证材料, 模板版本 2026.1) is read; one notice for the file;
    none when the version differs only by the year the report is for."""
    inbox = tmp_path / "inbox"
    workbook(inbox / "工会-台账.xlsx", "工会", roster=staff(2), info={"模板版本": "2026.1"},
             documents=[document("工会工作制度", "2.1.2")])
    scores = report(inbox, tmp_path / "out")
    notes = [i for i in scores["issues"] if i["code"] == "template-version"]
    assert len(notes) == 1 and notes[0]["department"] == "工会" and "2026.2" in notes[0]["message"]
    assert scores["rows"]["documents"]["used"] == 1
    old = tmp_path / "old"
    workbook(old / "工会-台账.xlsx", "工会", roster=staff(2),
             info={"模板版本": f"{YEAR - 1}.2", "年度": YEAR - 1, "填报日期": f"{YEAR - 1}-11-01"},
             activities=[activity(f"{YEAR - 1}-05-01", "去年活动", "3.6.1")])
    last_year = report(old, tmp_path / "out-old", "--year", str(YEAR - 1))
    assert [i for i in last_year["issues"] if i["code"] == "template-version"] == []


def test_documents_evidence_column_is_read(tmp_path, config):
    wb = build_template(config, "工会")
    ws = wb["制度文件"]
    ws.cell(HEADER_ROW + 1, 2, "工会工作制度")
    ws.cell(HEADER_ROW + 1, 6, config.standards["2.1.2"].label)
    ws.cell(HEADER_ROW + 1, 7, "工会工作制度.pdf")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    save_workbook(wb, inbox / "工会.xlsx")
    report(inbox, tmp_path / "out")
    ledger = openpyxl.load_workbook(_out(tmp_path / "out", "任务分解一览台账"))
    assert [r[1] for r in ledger["任务分解"].iter_rows(min_row=2, values_only=True) if r[2] == "2.1.2"]
    from pipeline.report import collect
    result = collect(inbox, config)
    assert result.merged.used("documents")["evidence"].tolist() == ["工会工作制度.pdf"]


# ---------------------------------------------------------------- 校验报告

def test_department_sheet_opens_with_the_block_and_reads_without_noise(hostile, config):
    scores, out = hostile
    wb = openpyxl.load_workbook(_out(out, "校验报告"))
    assert wb.sheetnames[:2] == ["汇总", "全部问题"]
    assert "妇联" in wb.sheetnames  # the damaged file names its department: not 未归属
    assert all(i["department"] == "妇联" for i in scores["issues"] if i["file"] == "妇联-台账.xlsx")
    rows = [r for r in wb["工会"].iter_rows(values_only=True)]
    block = "\n".join(str(r[0]) for r in rows[:6])
    assert "错误：" in block and "提醒：" in block and "说明：" in block and "未计入" in block
    assert "2026年11月20日前" in block and "调宣部" in block and "coordinator_email" in block  # 待核实 marker
    assert "采用文件：工会-台账.xlsx" in block
    header = next(i for i, r in enumerate(rows) if r[:2] == ("级别", "工作表"))
    assert rows[header][:6] == ("级别", "工作表", "行", "栏目", "原值", "说明")
    assert len([c for c in rows[header] if c]) == 6  # no 部门, no 文件 column on a department's sheet
    data = [r for r in rows[header + 1:] if r[0] in ("错误", "提醒", "说明")]
    assert data and all(r[5] for r in data)
    sheets = _assert_prints_right(_out(out, "校验报告"))
    assert sheets["工会"]["titles"] == f"'工会'!${header + 1}:${header + 1}"
    assert sheets["工会"]["xml"].find("m:pageSetup", NS).get("orientation") == "portrait"
    assert "工会" in wb["工会"].oddHeader.right.text


def test_mailed_department_sheet_is_the_report_sheet(hostile, config):
    scores, out = hostile
    data = department_workbook(config, scores, "工会")
    path = out / "工会-mailed.xlsx"
    path.write_bytes(data)
    mailed = openpyxl.load_workbook(path)
    assert mailed.sheetnames == ["工会"]
    report_rows = list(openpyxl.load_workbook(_out(out, "校验报告"))["工会"].iter_rows(values_only=True))
    assert list(mailed["工会"].iter_rows(values_only=True)) == report_rows
    _assert_prints_right(path)


def test_a_sheet_for_many_files_is_one_table_naming_the_file_in_each_row(config, tmp_path):
    issues = [{"level": "error", "code": "department-missing", "file": f"台账{k}.xlsx", "sheet": None, "row": None,
               "column": None, "value": None, "message": "无法确定报送部门"} for k in range(5)]
    book = Book()
    department_sheet(book, config, YEAR, None, issues)
    path = tmp_path / "u.xlsx"
    book.save(path)
    rows = list(openpyxl.load_workbook(path)["未归属"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "级别")
    assert rows[header][:3] == ("级别", "文件", "工作表") and [r[1] for r in rows[header + 1:]] == [
        f"台账{k}.xlsx" for k in range(5)]
    assert not any(str(r[0]).startswith("文件：") for r in rows)
    _assert_prints_right(path)


# ---------------------------------------------------------------- 测评得分表

def _chart_xml(path: Path) -> tuple[ET.Element, ET.Element]:
    with zipfile.ZipFile(path) as zf:
        chart = next(n for n in zf.namelist() if n.startswith("xl/charts/chart"))
        drawing = next(n for n in zf.namelist() if n.startswith("xl/drawings/drawing") and n.endswith(".xml"))
        return ET.fromstring(zf.read(chart)), ET.fromstring(zf.read(drawing))


def test_chart_reads_at_a_glance(sample):
    scores, out = sample
    path = _out(out, "测评得分表")
    chart, drawing = _chart_xml(path)
    bar = chart.find(".//c:barChart", NS)
    assert bar.find("c:barDir", NS).get("val") == "col"
    (bars,) = bar.findall("c:ser", NS)
    assert bars.find("c:dLbls/c:showVal", NS).get("val") == "1"
    assert bars.find("c:dLbls/c:numFmt", NS).get("formatCode") == "0.0%"
    failing = [i for i, m in enumerate(scores["metrics"].values()) if m["passed"] is False]
    assert failing  # the sample has a failing rate (志愿服务参与率)
    red = [int(p.find("c:idx", NS).get("val")) for p in bars.findall("c:dPt", NS)
           if p.find(".//a:srgbClr", NS).get("val") == "E0403A"]
    assert red == failing
    (req,) = chart.findall(".//c:lineChart/c:ser", NS)  # the requirement: markers, no line
    assert req.find("c:marker/c:symbol", NS).get("val") == "dash"
    assert req.find("c:spPr/a:ln/a:noFill", NS) is not None
    wb = openpyxl.load_workbook(path)
    ws = wb["汇总"]
    labels = [ws[f"A{r}"].value for r in range(1, ws.max_row + 1)]
    first = labels.index("参与率")
    assert labels[first:first + 6] == ["参与率", "满意度", "志愿者注册率", "党员注册率", "志愿服务参与率", "普法普及率"]
    cats = chart.find(".//c:barChart/c:ser/c:cat//c:f", NS).text
    assert cats.endswith(f"$A${first + 1}:$A${first + 6}")
    low = float(chart.find(".//c:valAx/c:scaling/c:min", NS).get("val"))
    assert 0 < low < min(m["value"] for m in scores["metrics"].values() if m["value"] is not None)
    anchor = drawing.find(".//{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}from")
    row = int(anchor.find("{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}row").text)
    col = int(anchor.find("{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}col").text)
    assert col == 0 and row >= first + 6  # under the table, at its left edge: printed on the same page
    assert "不计算分数" in str(ws["A2"].value)  # the workbook says it holds statuses, not points
    _assert_prints_right(path)


def test_department_rates_coloured_and_counted(sample, config):
    scores, out = sample
    wb = openpyxl.load_workbook(_out(out, "测评得分表"))
    ws = wb["部门"]
    header = next(r for r in range(1, 5) if ws.cell(r, 1).value == "部门")
    heads = [c.value for c in ws[header]]
    assert heads[3:9] == ["参与率", "满意度", "志愿者注册率", "党员注册率", "志愿服务参与率", "普法普及率"]
    below = heads.index("未达要求（项）") + 1
    metrics = [config.metrics[k] for k in config.metrics]
    for d in scores["departments"]:
        r = next(r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value == d["name"])
        if not d["submitted"]:
            assert ws.cell(r, below).value is None
            continue
        expected = sum(1 for m in metrics
                       if (c := d["metrics"].get(m.key)) and c["denominator"] and not m.passes(c["value"]))
        assert ws.cell(r, below).value == expected, d["name"]
    rules = {str(cf.sqref): [rule.formula[0] for rule in cf.rules] for cf in ws.conditional_formatting}
    col = openpyxl.utils.get_column_letter(4)
    assert any(ref.startswith(f"{col}{header + 1}") and any("<=0.9" in f for f in fs) for ref, fs in rules.items())
    sheets = _assert_prints_right(_out(out, "测评得分表"))
    assert sheets["部门"]["area"].endswith(f"${openpyxl.utils.get_column_letter(len(heads) - 1)}${ws.max_row}")


# ---------------------------------------------------------------- 任务分解一览台账

def test_ledger_panes_entries_and_print_areas(sample):
    scores, out = sample
    path = _out(out, "任务分解一览台账")
    sheets = _assert_prints_right(path)
    pane = sheets["任务分解"]["xml"].find(".//m:pane", NS)
    assert pane.get("xSplit") == "3" and pane.get("ySplit") == "1" and pane.get("topLeftCell") == "D2"
    assert sheets["活动明细"]["xml"].find(".//m:pane", NS).get("topLeftCell") == "C2"
    assert sheets["活动明细"]["area"] == f"'活动明细'!$A$1:$J${scores['rows']['activities']['used'] + 1}"
    assert sheets["任务分解"]["xml"].find("m:pageSetup", NS).get("orientation") == "landscape"
    rows = sheets["任务分解"]["xml"].findall(".//m:sheetData/m:row", NS)
    assert any(r.get("customHeight") == "1" and float(r.get("ht")) > 30 for r in rows[1:])
    wb = openpyxl.load_workbook(path)
    tasks = {r[2]: r for r in wb["任务分解"].iter_rows(min_row=2, values_only=True)}
    entries = [line for r in tasks.values() if r[6] for line in r[6].split("\n")]
    assert entries and all(re.fullmatch(r"\d{4}-\d{2}-\d{2} .+（[^（）]+）", e) for e in entries), entries[:3]
    assert not any(".xlsx" in e or "第" in e and "行）" in e for e in entries)  # the source is in 活动明细
    acts = list(wb["活动明细"].iter_rows(min_row=2, values_only=True))
    assert all(r[10] and r[11] and isinstance(r[12], int) for r in acts)


# ---------------------------------------------------------------- as LibreOffice prints them

def _soffice():
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.needs("soffice", "calc", "cjk-fonts")
def test_sample_ledger_and_validation_report_print_on_few_pages(sample, tmp_path):
    _, out = sample
    pdfs = tmp_path / "pdf"
    paths = [_out(out, "任务分解一览台账"), _out(out, "校验报告")]
    subprocess.run([_soffice(), f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(pdfs), *map(str, paths)], check=True, capture_output=True, timeout=300)
    pages = {}
    for path in paths:
        data = (pdfs / f"{path.stem}.pdf").read_bytes()
        pages[path.stem] = len(re.findall(rb"/Type\s*/Page[^s]", data))
        boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
        pages_a4 = [sorted((round(float(w)), round(float(h)))) for w, h in boxes if w != h]  # w == h: the page tree
        assert pages_a4 and all(box == [595, 842] for box in pages_a4)  # A4, portrait or landscape
    ledger, validation = pages[paths[0].stem], pages[paths[1].stem]
    assert 1 <= ledger <= LEDGER_MAX_PAGES, pages
    # each department's sheet prints on its own page(s), to hand over: one page each for the sample
    sheets = len(openpyxl.load_workbook(paths[1], read_only=True).sheetnames)
    assert sheets <= validation <= min(sheets + 4, VALIDATION_MAX_PAGES), (pages, sheets)


def _layout(path: Path) -> dict:
    """What a reader of the workbook sees: per sheet its cell values (and text cells' type and quote prefix),
    merged ranges, row heights, column widths, panes, print titles and area, filter, conditional colours and
    the page setup."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb:
        cells = {c.coordinate: (c.value, c.data_type, c.quotePrefix, c.font.b, c.alignment.wrap_text,
                                c.border.left.style, (c.fill.fgColor.rgb or "")[-6:] if c.fill.fill_type else None)
                 for row in ws.iter_rows() for c in row if c.value is not None}
        out[ws.title] = {
            "cells": cells, "merged": sorted(map(str, ws.merged_cells.ranges)),
            "heights": {r: d.height for r, d in ws.row_dimensions.items() if d.height},
            "widths": {c: d.width for c, d in ws.column_dimensions.items() if d.width},
            "freeze": ws.freeze_panes, "titles": ws.print_title_rows, "area": ws.print_area,
            "filter": ws.auto_filter.ref, "orientation": ws.page_setup.orientation,
            "grid": bool(ws.print_options.gridLines), "header": (ws.oddHeader.left.text, ws.oddHeader.right.text),
            "footer": ws.oddFooter.center.text,
            "colours": sorted((str(cf.sqref), r.formula[0], r.priority) for cf in ws.conditional_formatting
                              for r in cf.rules)}
    return out


@pytest.mark.parametrize("which", ["sample", "hostile"])
def test_streamed_validation_report_equals_the_openpyxl_one(which, sample, hostile, config, tmp_path, monkeypatch):
    """The 校验报告 is streamed (xlsx_stream.StreamBook, ~0.7 ms a department sheet instead of ~5 ms through
    openpyxl): every cell value, text type and quote prefix, merge, height, pane, print title, filter and
    conditional colour is what workbook.Book writes for the same sheets."""
    import pipeline.documents.render_xlsx as RX
    from pipeline.report import collect

    inbox = ROOT / "examples" / "inbox" if which == "sample" else hostile[1].parent / "inbox"
    result = collect(inbox, config)
    RX.write_validation_report(result, tmp_path / "streamed.xlsx")
    monkeypatch.setattr(RX, "StreamBook", Book)
    RX.write_validation_report(result, tmp_path / "openpyxl.xlsx")
    streamed, reference = _layout(tmp_path / "streamed.xlsx"), _layout(tmp_path / "openpyxl.xlsx")
    assert list(streamed) == list(reference) and len(streamed) >= 4
    for title in reference:
        assert streamed[title] == reference[title], title
    _assert_prints_right(tmp_path / "streamed.xlsx")


# ---------------------------------------------------------------- one writer path: no bidi or control characters

BIDI = "\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
UNFIT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]"
                   "|_x00[01][0-9A-Fa-f]_|_x202[A-Ea-e]_|_x206[6-9]_")


def _unfit_in_package(path: Path) -> list[tuple[str, str]]:
    """(member, characters) for every XML part of an xlsx/docx that holds a control or bidi character."""
    found = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith((".xml", ".rels")):
                hits = UNFIT.findall(zf.read(name).decode("utf-8"))
                if hits:
                    found.append((name, "".join(hits)))
    return found


def test_no_output_holds_bidi_or_control_characters(tmp_path, config):
    """Right-to-left overrides and control characters typed into a ledger (and into the unit's name and a file
    name) reach no workbook: 任务分解台账, 校验报告, 测评得分表, the mailed department sheet, the bulletin's 明细
    and the roll-up's 汇总表; nor any Word document. The words around them are kept."""
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    text = (cfg / "unit.yaml").read_text(encoding="utf-8")
    (cfg / "unit.yaml").write_text(re.sub(r"(?m)^unit:.*$", lambda m: 'unit: "天津市科学\\u202e技术协会"', text, count=1),
                                   encoding="utf-8")
    inbox = tmp_path / "inbox"
    evil = f"科普{BIDI}_x001B_[31m\x9b讲座_x0007_"  # C0 controls as a workbook stores them, C1 as they are
    workbook(inbox / "工会-台账\u202egpj.xlsx", "工会", info={"填报人": f"张{BIDI}三"},
             roster=staff(3) + [person(f"李{BIDI}四", "9001", satisfaction=f"很好{BIDI}")],
             activities=[activity(f"{YEAR}-04-01", evil, "3.6.1"), activity(f"{YEAR}-04-02", "正常活动", "9.9.9")],
             documents=[document(f"制度{BIDI}文件", "2.1.2")], highlights=[["3.6.1", f"亮点{BIDI}_x001B_]0;x_x0007_内容"]])
    out = tmp_path / "out"
    scores = report(inbox, out, "--config", str(cfg))
    mailed = out / "mailed.xlsx"
    mailed.write_bytes(department_workbook(load_config(cfg), scores, "工会"))
    assert run("bulletin", "--inbox", str(inbox), "--out", str(tmp_path / "b"), "--config", str(cfg),
               "--date", f"{YEAR}-09-15").exit_code == 0
    assert run("export", "--scores", str(out), "--out", str(tmp_path / "pk" / "unit.zip"), "--config", str(cfg)).exit_code == 0
    assert run("rollup", "--packages", str(tmp_path / "pk"), "--out", str(tmp_path / "r"),
               "--config", str(cfg)).exit_code == 0
    books = [*out.glob("*.xlsx"), *(tmp_path / "b").glob("*明细*.xlsx"), *(tmp_path / "r").glob("*.xlsx")]
    names = " ".join(p.name for p in books)
    for part in ("任务分解", "校验报告", "测评得分表", "mailed", "明细", "汇总表"):
        assert part in names, (part, names)
    for path in books + [*out.glob("*.docx"), *(tmp_path / "r").glob("*.docx")]:
        assert _unfit_in_package(path) == [], path.name
    ledger = _texts(_out(out, "任务分解一览台账"))
    assert any("科普[31m讲座" in v for v in ledger), "the words around the characters are kept"
    checked = _texts(_out(out, "校验报告"))
    assert any("9.9.9" in v for v in checked) and any("李四" in v or "很好" in v for v in checked)
    assert any("天津市科学技术协会" in v for v in _texts(next((tmp_path / "r").glob("*.xlsx"))))


def test_cell_by_cell_workbooks_lose_bidi_and_control_characters_on_save(tmp_path, config):
    wb = build_template(config, "工会")
    wb["填报信息"]["C2"] = f"说明{BIDI}\x9b文字"
    wb["活动记录"].title = "活动\u202e记录"
    path = tmp_path / "t.xlsx"
    save_workbook(wb, path)
    assert _unfit_in_package(path) == []
    book = openpyxl.load_workbook(path)
    assert "活动记录" in book.sheetnames and book["填报信息"]["C2"].value == "说明文字"
