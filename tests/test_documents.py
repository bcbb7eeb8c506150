"""The printed documents: 自查报告, 实施方案, and the Excel outputs, opened and read back."""

import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from conftest import needs
from builders import YEAR, activity, document, report, run, staff, workbook

ROOT = Path(__file__).resolve().parent.parent


def _text(doc):
    return [p.text for p in doc.paragraphs]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The bundled sample inbox, rendered once."""
    out = tmp_path_factory.mktemp("out")
    # (a module fixture runs before conftest's per-test history database: it gets its own)
    scores = report(ROOT / "examples" / "inbox", out, "--history",
                    str(tmp_path_factory.mktemp("history") / "history.sqlite"))
    (docx,) = out.glob("*自查报告.docx")
    return scores, out, Document(docx)


def test_negative_list_items_marked_yes_are_listed(tmp_path):
    inbox = tmp_path / "inbox"
    workbook(inbox / "办公室.xlsx", "办公室", roster=staff(2),
             negative=[["发生重大安全生产责任事故", "否", None], ["被列为严重失信主体", "是", "已于10月整改完毕"]])
    report(inbox, tmp_path / "out")
    (docx,) = (tmp_path / "out").glob("*自查报告.docx")
    paras = _text(Document(docx))
    assert "经自查，市科协存在《天津市文明单位创建动态管理措施（负面清单）》中的下列情况：" in paras
    assert "1.被列为严重失信主体：已于10月整改完毕。" in paras
    assert not any("不存在" in p for p in paras)


def test_gbt_9704_page_setup_and_fonts(sample):
    _, _, doc = sample
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert [round(x.mm) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)] == [37, 35, 28, 26]
    styles = doc.styles

    def east_asia(name):
        return styles[name].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))
    assert east_asia("Normal") == "仿宋_GB2312" and styles["Normal"].font.size == Pt(16)
    assert east_asia("公文标题") == "方正小标宋简体" and styles["公文标题"].font.size == Pt(22)
    assert east_asia("一级标题") == "黑体" and east_asia("二级标题") == "楷体_GB2312" and east_asia("三级标题") == "仿宋_GB2312"
    pf = styles["Normal"].paragraph_format
    assert pf.line_spacing == Pt(28.95) and pf.first_line_indent == Pt(32)
    ind = styles["Normal"].element.pPr.find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"
    footer = sec.footer.paragraphs[0]
    assert footer.text.startswith("— ") and footer.text.endswith(" —")
    assert "PAGE" in footer._p.xml and east_asia("页码") == "宋体" and styles["页码"].font.size == Pt(14)


def test_report_text_has_no_placeholders_or_missing_values(sample):
    _, _, doc = sample
    text = "\n".join(_text(doc)) + "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    for bad in ("None", "nan", "{{", "{%", "}}", "为。", "为，", "%%"):
        assert bad not in text, bad
    assert not any(p.strip() in ("。", "，") for p in _text(doc))


def test_hostile_text_is_escaped_and_control_characters_stripped(tmp_path):
    inbox = tmp_path / "inbox"
    evil = "<b>&\"'亮点_x000B_{{ unit }}"   # a control character as Excel stores it
    workbook(inbox / "团委.xlsx", "团委", roster=staff(2), highlights=[["3.6.1", evil]],
             activities=[activity(f"{YEAR}-04-01", "=cmd|' /C calc'!A0", "3.6.1"),
                         activity(f"{YEAR}-04-02", "@SUM(1+1)", "3.6.1")],
             documents=[document("+1 制度", "3.6.1"), document("-2 总结", "3.6.1")])
    report(inbox, tmp_path / "out")
    (docx,) = (tmp_path / "out").glob("*自查报告.docx")
    body = "".join(_text(Document(docx)))
    assert "＜b＞＆\"'亮点{{ unit }}" in body and "_x000B_" not in body   # the one filter: GB/T 15834 forms
    (ledger,) = (tmp_path / "out").glob("*任务分解一览台账.xlsx")
    ws = openpyxl.load_workbook(ledger)["活动明细"]
    titles = {ws.cell(r, 2).value: ws.cell(r, 2).data_type for r in range(2, ws.max_row + 1)}
    assert titles == {"=cmd|' /C calc'!A0": "s", "@SUM(1+1)": "s"}
    with zipfile.ZipFile(ledger) as zf:
        assert not any("<f>" in zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))


def test_score_workbook_has_chart_colours_and_sheets(sample):
    scores, out, _ = sample
    (path,) = out.glob("*测评得分表.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", "测评标准", "部门"]
    with zipfile.ZipFile(path) as zf:
        assert any(n.startswith("xl/charts/chart") for n in zf.namelist())
    ws = wb["测评标准"]
    assert ws.conditional_formatting and ws.max_row == 36
    statuses = [ws.cell(r, 10).value for r in range(2, 37)]
    assert statuses == [s["status"] for s in scores["standards"]]
    summary = [r for r in wb["汇总"].iter_rows(values_only=True)]
    assert ("未达标", sum(s["status"] == "未达标" for s in scores["standards"])) in [r[:2] for r in summary]


def test_ledger_traces_every_activity_to_its_source(sample):
    scores, out, _ = sample
    (path,) = out.glob("*任务分解一览台账.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:4] == ["任务分解", "活动明细", "制度文件明细", "人员名单汇总"]
    assert wb.sheetnames[4:] == ["佐证材料", "未归类佐证材料"]  # the sample inbox carries evidence files
    acts = list(wb["活动明细"].iter_rows(min_row=2, values_only=True))
    assert len(acts) == scores["rows"]["activities"]["used"]
    assert all(r[10] and r[11] == "活动记录" and isinstance(r[12], int) for r in acts)
    tasks = {r[2]: r for r in wb["任务分解"].iter_rows(min_row=2, values_only=True)}
    assert tasks["3.4.1"][5] == "反协办" and tasks["3.2.2"][8] == "未达标"


@pytest.mark.needs("soffice")
def test_report_converts_to_a4_pdf_and_page_one_renders(sample, tmp_path):
    _, out, _ = sample
    result = run("pdf", "--out", str(out))
    assert result.exit_code == 0, result.output
    (pdf,) = out.glob("*自查报告.pdf")
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert boxes and all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes)
    needs("pdftoppm")  # the PDF is checked above; rendering page 1 needs poppler
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    (png,) = tmp_path.glob("p*.png")
    assert png.stat().st_size > 2000
