"""The 实施方案 (seed 002): basis, goal, 组织领导 with posts, 主要任务 from the catalog's 测评指标,
工作安排 （一）…（五）, an optional 落款, and the merged 任务分工 table as its attachment.

Sentences: ``config/wording.yaml`` section 实施方案; facts from unit.yaml (``basis``, ``guiding_thought``,
``leadership_group`` with ``leader_post``/``deputies``, ``party_meetings_per_year``, ``first_year``,
``first_year_stages``/``stages`` (pipeline.schedule), ``plan_signature``, ``plan_date``), the year's themes
(``official_wording.yaml``) and the catalog (``task`` per 测评指标, ``title_updates``). ``year`` (``plan --year``)
is the plan's year: its title, its 台账 names and its stage schedule (a continuing unit's plan does not restart
the first year's).
Template ``config/templates/实施方案.docx``: {标题} {依据} {工作目标} {组织领导} {主要任务} {工作安排} {落款} {附件}.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.catalog import Config
from pipeline.documents.compose import render_template
from pipeline.documents.docx_layout import signature_indents, title_lines
from pipeline.documents.self_report import CN_NUMBERS, ReportRun, chinese_date
from pipeline.documents.text import strip_marks
from pipeline.documents.wording import load_wording

PLAN_TEMPLATE = "实施方案.docx"
DECLARED = {"实施方案.任务兜底": ("项目",), "实施方案.副组长": ("副组长",), "实施方案.组长": ("组长",),
            "实施方案.成员": ("成员",), "实施方案.办公室": ("办公室",), "实施方案.安排四": ("阶段",),
            "实施方案.阶段条目": ("时间", "任务")}


def plan_name(config: Config, year: int | None = None) -> str:
    return f"{year or config.year}年{config.unit}创建文明单位工作实施方案.docx"


def _list(v) -> list[str]:
    if v is None:
        return []
    return [str(x).strip() for x in (v if isinstance(v, (list, tuple)) else [v]) if str(x).strip()]


def plan_rows(config: Config) -> list[list[str]]:
    rows = []
    for ind in config.indicators:
        for item in ind.items:
            for j, std in enumerate(item.standards, 1):
                depts = std.responsible_text.split("、") if std.responsible_text else list(std.responsible)
                rows.append([ind.name, item.name, f"{j}.{config.current_wording(std.title)}", "\n".join(depts)])
    return rows


def write_plan(config: Config, out_dir: Path, run: ReportRun | None = None, today: dt.date | None = None,
               year: int | None = None) -> Path:
    from pipeline import schedule
    from pipeline.documents import official
    year = year or config.year
    official.activate(config, year)
    theme = official.load_official(config.dir).theme(year)
    w = load_wording(config.dir)
    run = run or ReportRun()
    s = config.settings
    group = s.get("leadership_group") or {}
    short = config.short_name
    group_name = str(group.get("name") or f"{short}创建文明单位工作领导小组")
    leader = str(group.get("leader") or "")
    base = {"简称": short, "单位": config.unit, "年度": str(year)}
    title = w.fill("实施方案.标题", base, required=True)

    def b_title(bw):
        fixed = s.get("plan_title_lines")
        lines = [str(x) for x in fixed] if isinstance(fixed, list) and fixed else \
            title_lines(title, w.items("通用.标题词"), keep=[config.unit, short])
        bw.para("\n".join(lines), "公文标题", keep_next=True)

    def b_basis(bw):
        basis = _list(s.get("basis"))
        docs = "、".join(f"《{strip_marks(b)}》" if not b.startswith("《") else b for b in basis)
        bw.para(w.fill("实施方案.依据", {**base, "依据文件": docs}, required=True))

    def b_goal(bw):
        thought = str(s.get("guiding_thought") or "")   # a unit's own wording wins; else the year's themes
        bw.para(w.fill("实施方案.工作目标", {**base, "指导思想": thought, "大会精神": theme.get("大会精神"),
                                         "首要政治任务": theme.get("首要政治任务"),
                                         "学习教育": theme.get("学习教育")}, required=True))

    def b_group(bw):
        bw.para(w.fill("实施方案.领导小组成立", {**base, "领导小组": group_name}, required=True))
        for key, value in (("组长", leader),
                           ("副组长", "、".join(_list(group.get("deputies")))),
                           ("成员", "、".join(_list(group.get("members"))))):
            text = w.fill(f"实施方案.{key}", {key: value})
            if text:
                bw.para(text)
        office = str(group.get("office") or "")
        if office:
            bw.para(w.fill("实施方案.办公室", {"办公室": office}, required=True))

    def b_tasks(bw):
        for k, ind in enumerate(config.indicators):
            content = ind.task or w.fill("实施方案.任务兜底", {"项目": [i.name for i in ind.items]}, required=True)
            bw.para(w.fill("实施方案.任务条目", {"序号": CN_NUMBERS[k], "指标": ind.name,
                                             "内容": config.current_wording(content)}, required=True))

    def b_arrangements(bw):
        facts = {**base, "领导小组": group_name, "组长": leader, "组长职务": str(group.get("leader_post") or ""),
                 "党组会次数": str(s.get("party_meetings_per_year") or 2),
                 "测评细则": config.catalog_name or "文明单位测评细则", "指标数": len(config.indicators),
                 "项目数": sum(len(i.items) for i in config.indicators), "标准数": len(config.standards)}
        stages = [w.fill("实施方案.阶段条目", {"时间": str(x.get("period", "")), "任务": str(x.get("task", ""))})
                  for x in schedule.stages(config, year)]
        for key in ("安排一", "安排二", "安排三"):
            bw.para(w.fill(f"实施方案.{key}", facts, required=True))
        text = w.fill("实施方案.安排四", {"阶段": "；".join(x for x in stages if x)})
        if text:
            bw.para(text)
        bw.para(w.fill("实施方案.安排五", facts, required=True))

    def b_signature(bw):
        bw.keep_previous()
        bw.blank(keep_next=True)
        bw.para(w.fill("实施方案.附件说明", base, required=True), "附件说明", keep_next=True)
        if not s.get("plan_signature"):
            return
        configured = s.get("plan_date")
        if isinstance(configured, dt.date):   # month and day as configured, in the plan's year
            date_text = chinese_date(schedule.in_year(configured, year), w)
        elif year == (today or dt.date.today()).year:
            date_text = chinese_date(today or dt.date.today(), w)
        else:
            date_text = run.marker(w, w.text("自查报告.落款日期待核实"))
        bw.blank(2, keep_next=True)
        name_indent, date_indent = signature_indents(config.unit, date_text)
        bw.para(config.unit, "落款", keep_next=True, right_indent_chars=name_indent)
        bw.para(date_text, "落款", right_indent_chars=date_indent)

    def b_attachment(bw):
        bw.para(w.text("实施方案.附件标识"), "附件标识", keep_next=True, page_break=True)
        bw.blank(keep_next=True)
        bw.para(w.fill("实施方案.附件标题", base, required=True), "公文标题", keep_next=True)
        bw.blank(keep_next=True)
        bw.table(w.items("实施方案.附件表头"), plan_rows(config), [22, 26, 82, 26], merge_columns=[0, 1])

    blocks = {"标题": b_title, "依据": b_basis, "工作目标": b_goal, "组织领导": b_group, "主要任务": b_tasks,
              "工作安排": b_arrangements, "落款": b_signature, "附件": b_attachment}
    path = Path(out_dir) / plan_name(config, year)
    from pipeline.atomic import claimed
    with claimed(Path(path).parent, "plan", [Path(path).name], "生成实施方案"):  # never over a file of the user's
        render_template(config.template_file(PLAN_TEMPLATE), blocks, path, title=title, author=config.unit)
    return path
