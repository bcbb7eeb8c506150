"""The printed documents: 自查报告, 实施方案, and the Excel outputs, opened and read back."""

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from docxtpl import DocxTemplate

from builders import YEAR, activity, document, report, run, staff, workbook
from pipeline.catalog import load_config
from pipeline.documents.pdf import soffice
from pipeline.documents.render_docx import REPORT_TEMPLATE, PLAN_TEMPLATE, jinja_env, plan_context, report_context, template_path
from pipeline.report import collect

ROOT = Path(__file__).resolve().parent.parent


def _text(doc):
    return [p.text for p in doc.paragraphs]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The bundled sample inbox, rendered once."""
    out = tmp_path_factory.mktemp("out")
    scores = report(ROOT / "examples" / "inbox", out)
    (docx,) = out.glob("*自查报告.docx")
    return scores, out, Document(docx)


def _section(paras, start, end):
    i = paras.index(start)
    j = paras.index(end) if end else len(paras)
    return paras[i + 1:j]


def test_report_file_name_and_section_order(sample):
    _, out, doc = sample
    assert (out / f"{YEAR}年天津市科学技术协会创建文明单位工作自查报告.docx").is_file()
    heads = [p.text for p in doc.paragraphs if p.style.name == "一级标题"]
    assert heads == ["一、工作成效", "二、存在问题", "三、下一步努力方向", "四、负面清单情况"]
    paras = _text(doc)
    assert paras[0] == f"天津市科学技术协会{YEAR}年创建文明单位工作自查报告"
    assert paras[2].startswith(f"{YEAR}年，在市委、市政府领导下，在市文明委、市级机关工委指导下") and paras[2].endswith("现将自查情况报告如下：")
    assert [p.text for p in doc.paragraphs if p.style.name == "二级标题"][:3] == ["（一）思想建设", "（二）创建管理", "（三）基础建设"]


def test_metrics_are_woven_in_as_percentages(sample):
    scores, _, doc = sample
    body = "".join(_text(doc))
    for key, m in scores["metrics"].items():
        assert f"为{m['value'] * 100:.1f}%" in body, key
    assert "注册志愿者人数占在职干部职工总数的比例为" in body


def test_highlights_verbatim_and_honours(sample):
    _, _, doc = sample
    paras = _text(doc)
    assert "组建青年科技志愿服务队，全年开展志愿服务活动24次，累计服务时长560小时。" in paras
    assert any(p.startswith("全年获得荣誉表彰2项：") and "全国科普工作先进集体" in p for p in paras)


def test_problems_list_exactly_the_standards_not_met(sample):
    scores, _, doc = sample
    problems = _section(_text(doc), "二、存在问题", "三、下一步努力方向")
    listed = {m.group(1) for p in problems for m in [re.match(r"测评标准(\d+\.\d+\.\d+)", p)] if m}
    expected = {s["code"] for s in scores["standards"] if s["status"] in ("未达标", "佐证不足")}
    assert listed == expected and expected
    failing = next(s for s in scores["standards"] if s["status"] == "未达标")
    m = scores["metrics"]["volunteer_service_rate"]
    assert any(f"参加志愿服务的注册志愿者比例为{m['value'] * 100:.1f}%" in p and "未达到90%以上的要求" in p
               for p in problems), failing
    assert "反协办未报送创建台账。" in problems


def test_next_steps_use_catalog_improvements_then_general_directions(sample):
    scores, _, doc = sample
    steps = _section(_text(doc), "三、下一步努力方向", "四、负面清单情况")
    cfg = load_config(ROOT / "config")
    weak = [s for s in scores["standards"] if s["status"] != "达标"]
    for s in weak:
        assert any(cfg.standards[s["code"]].improvement in p for p in steps)
    assert steps[-2].startswith(f"{len(steps) - 1}.强化组织保障力量。")
    assert steps[-1] == f"{len(steps)}.抓好台账报送。督促反协办按时报送创建台账，做到应报尽报、逐项有据。"


def test_next_steps_never_empty_with_a_bare_catalog(tmp_path):
    inbox = tmp_path / "inbox"
    for dept in ("办公室", "科普股", "机关支部"):
        workbook(inbox / f"{dept}.xlsx", dept, roster=staff(3, prefix=dept, start=len(dept) * 100),
                 activities=[activity(f"{YEAR}-0{m}-01", f"学习{m}", "1.1.1") for m in range(1, 10)]
                 + [activity(f"{YEAR}-1{m}-01", f"学习1{m}", "1.1.1") for m in range(0, 3)])
    report(inbox, tmp_path / "out", "--config", str(ROOT / "examples" / "county_config"))
    (docx,) = (tmp_path / "out").glob("*自查报告.docx")
    steps = _section(_text(Document(docx)), "三、下一步努力方向", "四、负面清单情况")
    assert steps == ["1.巩固创建成果。对照测评标准逐项查漏补缺，推动文明单位创建工作常态化、长效化。"]


def test_negative_list_sentence_when_nothing_found(sample):
    _, _, doc = sample
    assert "经自查，市科协不存在《天津市文明单位创建动态管理措施（负面清单）》有关项目情况。" in _text(doc)


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


def test_signature_date_and_appendix_table(sample):
    scores, _, doc = sample
    paras = [p for p in doc.paragraphs if p.style.name == "落款"]
    assert paras[0].text == "天津市科学技术协会" and re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", paras[1].text)
    assert paras[1].alignment is None or paras[1].style.paragraph_format.alignment == 2   # right
    table = doc.tables[-1]
    assert [c.text for c in table.rows[0].cells] == ["编码", "测评标准", "责任部门", "活动", "文件", "状态"]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert len(rows) == 35
    assert rows[0][0] == "1.1.1" and rows[0][5] == scores["standards"][0]["status"]
    assert rows[15][0] == "2.2.4" and rows[15][2] == "各部门"


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


def test_templates_declare_no_variable_the_context_lacks(sample, tmp_path):
    cfg = load_config(ROOT / "config")
    result = collect(ROOT / "examples" / "inbox", cfg)
    for name, context in ((REPORT_TEMPLATE, report_context(result)), (PLAN_TEMPLATE, plan_context(cfg))):
        tpl = DocxTemplate(template_path(cfg, name))
        declared = tpl.get_undeclared_template_variables(jinja_env())
        # names the template assigns itself ({% set ns = namespace() %}) are not context variables
        with zipfile.ZipFile(template_path(cfg, name)) as zf:
            xml = zf.read("word/document.xml").decode()
        own = set(re.findall(r"{%p?\s*set\s+(\w+)\s*=", xml))
        assert declared - own <= set(context), (name, declared - own - set(context))


def test_hostile_text_is_escaped_and_control_characters_stripped(tmp_path):
    inbox = tmp_path / "inbox"
    evil = "<b>&\"'亮点_x000B_{{ unit }}"   # a control character as Excel stores it
    workbook(inbox / "团委.xlsx", "团委", roster=staff(2), highlights=[["3.6.1", evil]],
             activities=[activity(f"{YEAR}-04-01", "=cmd|' /C calc'!A0", "3.6.1"),
                         activity(f"{YEAR}-04-02", "@SUM(1+1)", "3.6.1")],
             documents=[document("+1 制度", "3.6.1"), document("-2 总结", "3.6.1")])
    report(inbox, tmp_path / "out")
    (docx,) = (tmp_path / "out").glob("*自查报告.docx")
    assert "<b>&\"'亮点{{ unit }}" in _text(Document(docx))
    (ledger,) = (tmp_path / "out").glob("*任务分解一览台账.xlsx")
    ws = openpyxl.load_workbook(ledger)["活动明细"]
    titles = {ws.cell(r, 2).value: ws.cell(r, 2).data_type for r in range(2, ws.max_row + 1)}
    assert titles == {"=cmd|' /C calc'!A0": "s", "@SUM(1+1)": "s"}
    with zipfile.ZipFile(ledger) as zf:
        assert not any("<f>" in zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))


def test_plan_has_sections_and_merged_task_table(tmp_path):
    result = run("plan", "--out", str(tmp_path))
    assert result.exit_code == 0
    (docx,) = tmp_path.glob("*实施方案.docx")
    doc = Document(docx)
    heads = [p.text for p in doc.paragraphs if p.style.name == "一级标题"]
    assert heads == ["一、工作目标", "二、组织领导", "三、主要任务", "四、工作安排", "五、强化考核监督"]
    assert "组长：卢双盈" in _text(doc) and any(p.startswith("3.11月份：") for p in _text(doc))
    table = doc.tables[-1]
    assert [c.text for c in table.rows[0].cells] == ["工作指标", "工作项目", "任务分工", "责任部门"]
    assert len(table.rows) == 36
    merges = [[tc.find(qn("w:tcPr")).find(qn("w:vMerge")) for tc in tr.findall(qn("w:tc"))[:2]] for tr in table._tbl.findall(qn("w:tr"))[1:]]
    col0 = [m.get(qn("w:val")) for m, _ in merges]
    col1 = [m.get(qn("w:val")) for _, m in merges]
    assert col0.count("restart") == 3 and col1.count("restart") == 12
    assert table.cell(1, 0).text == "思想建设" and table.cell(9, 0).text == "创建管理"
    assert table.cell(16, 3).text == "各部门"


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


needs_lo = pytest.mark.skipif(soffice() is None and not os.environ.get("CI"),
                              reason="LibreOffice 未安装（CI 会安装并运行此测试）")


@needs_lo
def test_report_converts_to_a4_pdf_and_page_one_renders(sample, tmp_path):
    _, out, _ = sample
    result = run("pdf", "--out", str(out))
    assert result.exit_code == 0, result.output
    (pdf,) = out.glob("*自查报告.pdf")
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert boxes and all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
        (png,) = tmp_path.glob("p*.png")
        assert png.stat().st_size > 2000
