"""Build the docxtpl Word templates in config/templates/ (GB/T 9704-2012 layout).

The generated .docx files are committed; a coordinator may edit their wording in Word.
Run again only to reset them: python tools/build_word_templates.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

OUT = Path(__file__).resolve().parent.parent / "config" / "templates"

FANGSONG, HEITI, KAITI, XBS, SONG = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"
LINE = Pt(28.95)   # 22 lines on the A4 text block
BODY = Pt(16)      # 3号
TITLE = Pt(22)     # 2号
PAGE_NO = Pt(14)   # 4号
TABLE = Pt(12)     # 小4号


def set_fonts(rpr_owner, east_asia: str, latin: str = "Times New Roman") -> None:
    """Latin and East Asian fonts; w:eastAsia is what Word and WPS use for Chinese."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), latin)


def style(doc, name: str, font: str, size, *, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = True,
          exact: bool = True, bold: bool = False, latin: str = "Times New Roman"):
    try:
        st = doc.styles[name]
    except KeyError:
        st = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = doc.styles["Normal"]
        st.quick_style = True
    st.font.size, st.font.bold = size, bold
    st.font.name = latin
    set_fonts(st.element, font, latin)
    pf = st.paragraph_format
    pf.alignment = align
    pf.space_before = pf.space_after = Pt(0)
    if exact:
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, LINE
    else:
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.SINGLE, 1.0
    ppr = st.element.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    if indent:
        ind.set(qn("w:firstLineChars"), "200")
        ind.set(qn("w:firstLine"), str(int(size.pt * 2 * 20)))
    else:
        ind.set(qn("w:firstLineChars"), "0")
        ind.set(qn("w:firstLine"), "0")
    return st


def new_document():
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(15), Mm(25)
    style(doc, "Normal", FANGSONG, BODY)
    style(doc, "公文标题", XBS, TITLE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    style(doc, "一级标题", HEITI, BODY)
    style(doc, "二级标题", KAITI, BODY)
    style(doc, "三级标题", FANGSONG, BODY)
    style(doc, "落款", FANGSONG, BODY, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    style(doc, "附件标识", HEITI, BODY, align=WD_ALIGN_PARAGRAPH.LEFT, indent=False)
    style(doc, "表格文字", FANGSONG, TABLE, align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, exact=False)
    style(doc, "表头文字", HEITI, TABLE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=False)
    style(doc, "页码", SONG, PAGE_NO, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=False)
    for p in doc.paragraphs:
        p._element.getparent().remove(p._element)
    _page_numbers(doc)
    return doc


def _page_numbers(doc) -> None:
    """`— 1 —` in 4号宋体: odd pages on the right, even pages on the left (GB/T 9704 7.5)."""
    doc.settings.odd_and_even_pages_header_footer = True
    sec = doc.sections[0]
    for footer, align in ((sec.footer, WD_ALIGN_PARAGRAPH.RIGHT), (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles["页码"]
        p.alignment = align
        p.paragraph_format.left_indent = Pt(14) if align == WD_ALIGN_PARAGRAPH.LEFT else None
        p.paragraph_format.right_indent = Pt(14) if align == WD_ALIGN_PARAGRAPH.RIGHT else None
        p.add_run("— ")
        _field(p, "PAGE")
        p.add_run(" —")


def _field(paragraph, code: str) -> None:
    run = paragraph.add_run()
    for tag, attr in (("w:fldChar", "begin"), ("w:instrText", None), ("w:fldChar", "separate")):
        el = OxmlElement(tag)
        if attr:
            el.set(qn("w:fldCharType"), attr)
        else:
            el.set(qn("xml:space"), "preserve")
            el.text = f" {code} "
        run._r.append(el)
    paragraph.add_run("1")
    end = paragraph.add_run()
    el = OxmlElement("w:fldChar")
    el.set(qn("w:fldCharType"), "end")
    end._r.append(el)


def para(doc, text: str = "", style_name: str = "Normal"):
    p = doc.add_paragraph(style=doc.styles[style_name])
    if text:
        p.add_run(text)
    return p


def page_break(doc) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.first_line_indent = Pt(0)
    p.add_run().add_break(WD_BREAK.PAGE)


def table(doc, headers: list[str], cells: list[str], widths: list[float], loop: str | None, endloop: str | None):
    """A bordered table: header row (repeated on every page), then a docxtpl loop row."""
    rows = 1 + (3 if loop else 1)
    t = doc.add_table(rows=rows, cols=len(headers))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for c, h in enumerate(headers):
        cell = t.cell(0, c)
        cell.paragraphs[0].style = doc.styles["表头文字"]
        cell.paragraphs[0].add_run(h)
    tr_pr = t.rows[0]._tr.get_or_add_trPr()
    head = OxmlElement("w:tblHeader")
    tr_pr.append(head)
    body = 2 if loop else 1
    if loop:
        t.cell(1, 0).paragraphs[0].add_run(loop)
        t.cell(3, 0).paragraphs[0].add_run(endloop)
    for c, text in enumerate(cells):
        p = t.cell(body, c).paragraphs[0]
        p.style = doc.styles["表格文字"]
        p.add_run(text)
    t.autofit = False
    for c, w in enumerate(widths):
        t.columns[c].width = Mm(w)
        for row in t.rows:
            row.cells[c].width = Mm(w)
    return t


def build_report() -> None:
    doc = new_document()
    para(doc, "{{ unit }}{{ year }}年创建文明单位工作自查报告", "公文标题")
    para(doc, "")
    para(doc, "{{ year }}年，{% if leadership_phrase %}{{ leadership_phrase }}，{% endif %}{% if guidance_phrase %}"
              "{{ guidance_phrase }}，{% endif %}{{ short_name }}对照《{{ catalog_name }}》{{ n_indicators }}个测评指标、"
              "{{ n_items }}个测评项目、{{ n_standards }}条测评标准，组织{{ n_departments }}个部门逐项开展创建工作和自查。"
              "{% if n_submitted %}{{ n_submitted }}个部门报送了创建台账，{% endif %}{{ n_standards }}条测评标准中达标"
              "{{ n_met }}条。现将自查情况报告如下：")
    para(doc, "一、工作成效", "一级标题")
    para(doc, "{% if total_activities %}全年各部门共开展创建活动{{ total_activities }}次{% if total_participants %}，"
              "参加{{ total_participants }}人次{% endif %}{% endif %}{% if total_documents %}{% if total_activities %}，"
              "{% endif %}制定印发计划、方案、制度等文件{{ total_documents }}份{% endif %}{% if total_activities or "
              "total_documents %}；{% endif %}{% if staff %}在职干部职工{{ staff }}人{% if party %}，其中党员{{ party }}人"
              "{% endif %}{% if volunteers %}，注册志愿者{{ volunteers }}人{% endif %}。{% else %}各部门尚未报送人员名单。"
              "{% endif %}")
    para(doc, "{%p for ind in indicators %}")
    para(doc, "（{{ cn[loop.index0] }}）{{ ind.name }}", "二级标题")
    para(doc, "{%p for item in ind.parts %}")
    para(doc, "{{ loop.index }}.{{ item.name }}。{% if item.activities %}全年开展相关活动{{ item.activities }}次"
              "{% if item.participants %}、参加{{ item.participants }}人次{% endif %}{% if item.examples %}，主要有"
              "{% for e in item.examples %}“{{ e }}”{% endfor %}等{% endif %}{% if item.documents %}；{% else %}。"
              "{% endif %}{% endif %}{% if item.documents %}制定印发{% for d in item.document_titles %}《{{ d }}》"
              "{% endfor %}等文件{{ item.documents }}份。{% endif %}{% for m in item.metrics %}{{ m.label }}为"
              "{{ m.pct }}{% if m.passed %}，{% if m.strict %}高于{{ m.threshold }}{% else %}达到不低于{{ m.threshold }}"
              "{% endif %}的要求{% else %}，未达到{% if m.strict %}{{ m.threshold }}以上{% else %}不低于{{ m.threshold }}"
              "{% endif %}的要求{% endif %}。{% endfor %}", "三级标题")
    para(doc, "{%p for h in item.highlights %}")
    para(doc, "{{ h }}")
    para(doc, "{%p endfor %}")
    para(doc, "{%p endfor %}")
    para(doc, "{%p endfor %}")
    para(doc, "{%p if honours %}")
    para(doc, "（{{ cn[indicators|length] }}）荣誉表彰", "二级标题")
    para(doc, "全年获得荣誉表彰{{ honours|length }}项：{% for h in honours %}{% if h.winner %}{{ h.winner }}{% endif %}"
              "{% if h.grantor %}获{{ h.grantor }}授予{% else %}获得{% endif %}“{{ h.title }}”{% if h.date %}"
              "（{{ h.date }}）{% endif %}{% if not loop.last %}；{% endif %}{% endfor %}。")
    para(doc, "{%p endif %}")

    para(doc, "二、存在问题", "一级标题")
    para(doc, "{%p if not (failed or weak or missing_departments or data_errors) %}")
    para(doc, "虽然{{ short_name }}创建工作取得了一些成绩，{{ n_standards }}条测评标准均已达标，但对照创建要求仍有提升空间，"
              "创建品牌亮点还不多，个别工作落小落细还不够到位。")
    para(doc, "{%p else %}")
    para(doc, "虽然{{ short_name }}创建工作取得了一些成绩，但对照《{{ catalog_name }}》还有差距，主要是：")
    para(doc, "{%p set ns = namespace(n=0) %}")
    para(doc, "{%p if failed %}")
    para(doc, "（{{ cn[ns.n] }}）部分指标未达到测评要求{% set ns.n = ns.n + 1 %}", "二级标题")
    para(doc, "{%p for s in failed %}")
    para(doc, "测评标准{{ s.code }}“{{ s.short }}”：{% for m in s.metrics %}{{ m.label }}为{{ m.pct }}"
              "{% if m.numerator is not none %}（{{ m.numerator }}/{{ m.denominator }}）{% endif %}，未达到"
              "{% if m.strict %}{{ m.threshold }}以上{% else %}不低于{{ m.threshold }}{% endif %}的要求"
              "{% if not loop.last %}；{% endif %}{% endfor %}。")
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")
    para(doc, "{%p if weak %}")
    para(doc, "（{{ cn[ns.n] }}）部分测评标准佐证材料不足{% set ns.n = ns.n + 1 %}", "二级标题")
    para(doc, "{%p for s in weak %}")
    para(doc, "测评标准{{ s.code }}“{{ s.short }}”：{% if s.short_of_evidence %}{% if s.evidence %}现有活动记录和"
              "制度文件{{ s.evidence }}条，少于{{ s.min_evidence }}条的要求{% else %}尚无活动记录和制度文件{% endif %}"
              "{% if s.no_data %}；{% endif %}{% endif %}{% for m in s.no_data %}{{ m }}{% if not loop.last %}、{% endif %}"
              "{% endfor %}{% if s.no_data %}缺少统计数据{% endif %}"
              "{% if s.reasons %}{% if s.short_of_evidence or s.no_data %}；{% endif %}{% for r in s.reasons %}{{ r }}"
              "{% if not loop.last %}；{% endif %}{% endfor %}{% if s.reasons_more %}等{{ s.reasons_more + s.reasons|length }}项"
              "{% endif %}{% endif %}。")
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")
    para(doc, "{%p if missing_departments %}")
    para(doc, "（{{ cn[ns.n] }}）部分部门未报送创建台账{% set ns.n = ns.n + 1 %}", "二级标题")
    para(doc, "{% for d in missing_departments %}{{ d }}{% if not loop.last %}、{% endif %}{% endfor %}未报送创建台账"
              "{% if missing_standards %}，测评标准{% for s in missing_standards %}{{ s.code }}“{{ s.short }}”"
              "{% if not loop.last %}、{% endif %}{% endfor %}无责任部门报送，暂无法评定{% endif %}。")
    para(doc, "{%p endif %}")
    para(doc, "{%p if data_errors %}")
    para(doc, "（{{ cn[ns.n] }}）台账填报质量有待提高{% set ns.n = ns.n + 1 %}", "二级标题")
    para(doc, "各部门报送的台账中有{{ data_errors }}处填报错误，相关数据未计入统计，已将校验报告反馈有关部门整改。")
    para(doc, "{%p endif %}")
    para(doc, "{%p endif %}")

    para(doc, "三、下一步努力方向", "一级标题")
    para(doc, "{%p for d in directions %}")
    para(doc, "{{ loop.index }}.{{ d.title }}。{{ d.text }}")
    para(doc, "{%p endfor %}")
    para(doc, "{%p if missing_departments %}")
    para(doc, "{{ directions|length + 1 }}.抓好台账报送。督促{% for d in missing_departments %}{{ d }}"
              "{% if not loop.last %}、{% endif %}{% endfor %}按时报送创建台账，做到应报尽报、逐项有据。")
    para(doc, "{%p endif %}")
    para(doc, "{%p if not directions and not missing_departments %}")
    para(doc, "1.巩固创建成果。对照测评标准逐项查漏补缺，推动文明单位创建工作常态化、长效化。")
    para(doc, "{%p endif %}")

    para(doc, "四、负面清单情况", "一级标题")
    para(doc, "{%p if negative_submitted and not negative_found %}")
    para(doc, "经自查，{{ short_name }}不存在《{{ negative_title }}》有关项目情况。")
    para(doc, "{%p elif negative_found %}")
    para(doc, "经自查，{{ short_name }}存在《{{ negative_title }}》中的下列情况：")
    para(doc, "{%p for n in negative_found %}")
    para(doc, "{{ loop.index }}.{{ n.item }}{% if n.note %}：{{ n.note }}{% endif %}。")
    para(doc, "{%p endfor %}")
    para(doc, "{%p else %}")
    para(doc, "负面清单自查表尚未报送，待{{ negative_department }}报送后补充。")
    para(doc, "{%p endif %}")
    para(doc, "")
    para(doc, "")
    sig = para(doc, "{{ unit }}", "落款")
    sig.paragraph_format.right_indent = Pt(64)
    date = para(doc, "{{ report_date }}", "落款")
    date.paragraph_format.right_indent = Pt(64)

    page_break(doc)
    para(doc, "附件", "附件标识")
    para(doc, "测评标准达标情况一览表", "公文标题")
    table(doc, ["编码", "测评标准", "责任部门", "活动", "文件", "状态"],
          ["{{ s.code }}", "{{ s.short }}", "{{ s.responsible }}", "{{ s.activities }}", "{{ s.documents }}",
           "{{ s.status }}"],
          [14, 54, 42, 12, 12, 22], "{%tr for s in standards %}", "{%tr endfor %}")
    doc.save(OUT / "自查报告.docx")


def build_plan() -> None:
    doc = new_document()
    para(doc, "{{ unit }}创建文明单位工作实施方案", "公文标题")
    para(doc, "")
    para(doc, "为深入推进精神文明建设，根据《{{ catalog_name }}》有关要求，结合{{ short_name }}实际，制定创建文明单位工作方案，"
              "具体内容如下：")
    para(doc, "一、工作目标", "一级标题")
    para(doc, "深入学习贯彻习近平新时代中国特色社会主义思想，积极培育和践行社会主义核心价值观，努力将{{ short_name }}建设成为"
              "精神文明建设成效突出、职工素质较高、业务工作一流、社会形象良好的文明单位。")
    para(doc, "二、组织领导", "一级标题")
    para(doc, "成立{{ group.name }}。")
    para(doc, "组长：{{ group.leader }}")
    para(doc, "{%p if group.members %}")
    para(doc, "成员：{{ group.members }}")
    para(doc, "{%p endif %}")
    para(doc, "{{ group.office }}")
    para(doc, "三、主要任务", "一级标题")
    para(doc, "{%p for ind in indicators %}")
    para(doc, "（{{ ind.cn_index }}）做好{{ ind.name }}。围绕{{ ind.item_names }}{{ ind.n_items }}个测评项目、"
              "{{ ind.n_standards }}条测评标准，逐项明确责任部门和工作要求。")
    para(doc, "{%p endfor %}")
    para(doc, "四、工作安排", "一级标题")
    para(doc, "（一）明确工作任务分工", "二级标题")
    para(doc, "按照《{{ catalog_name }}》{{ n_indicators }}个测评指标、{{ n_items }}个测评项目、{{ n_standards }}条测评标准，"
              "组织各部门细化工作项目和计划安排，形成任务分工（见附件），明确工作任务分工和基本要求。")
    para(doc, "（二）建立创建台账", "二级标题")
    para(doc, "各部门按统一模板建立{{ year }}年度创建工作台账，记录人员、活动、制度文件、工作亮点和荣誉表彰，"
              "按时报送{{ coordinator }}汇总，作为自查和申报的依据。")
    para(doc, "（三）阶段任务安排", "二级标题")
    para(doc, "{%p for s in stages %}")
    para(doc, "{{ loop.index }}.{{ s.period }}：{{ s.task }}。")
    para(doc, "{%p endfor %}")
    para(doc, "五、强化考核监督", "一级标题")
    para(doc, "始终坚持把文明创建工作放在重要位置，纳入内部绩效考核，做好监督检查，常抓不懈，确保工作方案和制度落实。")
    para(doc, "")
    para(doc, "附件：{{ year }}年{{ short_name }}创建文明单位工作任务分工表")
    page_break(doc)
    para(doc, "附件", "附件标识")
    para(doc, "{{ year }}年{{ short_name }}创建文明单位工作任务分工表", "公文标题")
    t = table(doc, ["工作指标", "工作项目", "任务分工", "责任部门"],
              ["{% if r.ind_first %}{{ r.indicator }}{% endif %}", "{% if r.item_first %}{{ r.item }}{% endif %}",
               "{{ r.task }}", "{{ r.responsible }}"],
              [22, 30, 84, 26], "{%tr for r in rows %}", "{%tr endfor %}")
    for col, flag in ((0, "r.ind_first"), (1, "r.item_first")):
        tc_pr = t.cell(2, col)._tc.get_or_add_tcPr()
        vm = OxmlElement("w:vMerge")
        vm.set(qn("w:val"), "{% if " + flag + " %}restart{% else %}continue{% endif %}")
        tc_pr.append(vm)
    doc.save(OUT / "实施方案.docx")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    build_report()
    build_plan()
    print(f"已生成 Word 模板：{OUT}", file=sys.stderr)
