"""创建工作情况提示（内部）: what the outward 自查报告 leaves out, for the coordinator and the leadership group.

Written with the 自查报告, from the 领导小组办公室 to the leadership group: a one-paragraph summary (standards by
status, departments reported), who reported (files, superseded submissions, issue counts; a passed deadline is
said to have passed), which standards cannot be judged and why, what the departments must fix (with catalog
codes), the evidence they still owe (files named in ledgers and not sent, one photo filed for several
activities), and every 【待核实】 marker. Office language only: no software words. Sentences: ``config/wording.yaml`` section 内部提示; template
``config/templates/内部提示.docx`` (placeholders {标题} {说明} {报送} {评定} {整改} {待核实} {落款}).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from docx.enum.text import WD_ALIGN_PARAGRAPH

from pipeline.documents.compose import render_template
from pipeline.documents.docx_layout import signature_indents
from pipeline.documents.self_report import ReportRun, chinese_date, metric_actual
from pipeline.documents.wording import load_wording
from pipeline.vocabulary import FAILED, MET, MISSING, WEAK

if TYPE_CHECKING:
    from pipeline.result import Result

INTERNAL_TEMPLATE = "内部提示.docx"
DECLARED = {"内部提示.评定条目": ("编码", "简称", "部门"), "内部提示.评定无": (), "内部提示.整改无": (),
            "内部提示.待核实无": (), "内部提示.待核实条目": ("序号", "事项"), "内部提示.日期超出年度": ("日期", "年度"),
            "内部提示.未报条目": ("部门", "截止", "已过截止"), "内部提示.佐证缺漏": ("部门", "缺少数", "示例", "条数", "不符示例"),
            "内部提示.照片重复": ("照片", "部门", "次数"), "内部提示.整改指标": ("编码", "简称", "实际句", "要求", "部门"),
            "内部提示.整改佐证": ("编码", "简称", "现有", "应有", "部门", "佐证问题"),
            "内部提示.整改错误": ("错误", "提醒", "校验报告")}


def internal_name(year: int) -> str:
    return f"{year}年创建文明单位工作情况提示（内部）.docx"


STATUS_NAMES = {MET: MET, FAILED: "指标未达标", WEAK: "佐证材料待补充",
                MISSING: "责任部门未报送、暂无法评定"}   # as the leadership group reads them


def office_name(cfg) -> str:
    """The 领导小组办公室 the notice comes from (unit.yaml leadership_group.name + 办公室)."""
    group = cfg.settings.get("leadership_group") or {}
    name = str(group.get("name") or f"{cfg.short_name}创建文明单位工作领导小组")
    return name if name.endswith("办公室") else f"{name}办公室"


def write_internal_notice(result: Result, path: Path, run: ReportRun, validation_name: str = "",
                          date_text: str = "", today=None) -> None:
    from pipeline import schedule
    cfg, w = result.config, load_wording(result.config.dir)
    year = str(result.year)
    as_of = schedule.document_day(result.year, today)
    deadline = schedule.deadline(cfg, result.year)

    def title(bw):
        bw.para(w.fill("内部提示.标题", {"年度": year}, required=True), "公文标题", keep_next=True)

    def intro(bw):
        counts = {}
        for s in result.standards:
            counts[s.status] = counts.get(s.status, 0) + 1
        states = [w.fill("内部提示.状态条数", {"状态": STATUS_NAMES.get(k, k), "条数": str(counts[k])}, required=True)
                  for k in STATUS_NAMES if counts.get(k)]
        bw.para(w.fill("内部提示.说明", {"年度": year, "测评细则": cfg.catalog_name, "标准数": str(len(result.standards)),
                                     "各状态": "，".join(states), "应报": str(len(cfg.departments)),
                                     "已报": str(len(result.submitted))}, required=True))

    def submissions(bw):
        missing = result.missing
        bw.para(w.fill("内部提示.报送概况", {"应报": len(cfg.departments), "已报": len(result.submitted),
                                         "未报": len(missing), "未报部门": missing}, required=True))
        for dept in cfg.department_names:
            win = result.merged.winners.get(dept)
            if win is None:
                bw.para(w.fill("内部提示.未报条目", {"部门": dept, "截止": chinese_date(deadline) if deadline else "",
                                                 "已过截止": schedule.passed(deadline, as_of)}, required=True))
                continue
            errors, warnings = result.department_issue_counts(dept)
            superseded = [f"“{r.name}”" for r in result.merged.superseded.get(dept, [])]
            checked = w.fill("内部提示.校验句", {"错误": errors, "提醒": warnings}, required=True)
            bw.para(w.fill("内部提示.报送条目", {"部门": dept, "文件": win.name, "作废": superseded,
                                             "校验句": checked}, required=True), align=WD_ALIGN_PARAGRAPH.LEFT)

    def unjudged(bw):
        rows = [s for s in result.standards if s.status == MISSING]
        if not rows:
            bw.para(w.text("内部提示.评定无"))
        for s in rows:
            bw.para(w.fill("内部提示.评定条目", {"编码": s.standard.code, "简称": s.standard.short,
                                             "部门": list(s.standard.responsible)}, required=True))

    def fixes(bw):
        wrote = False
        for s in result.standards:
            depts = list(s.standard.responsible)
            if s.status == FAILED:
                for m in s.metrics:
                    if m.passed is False:
                        bw.para(w.fill("内部提示.整改指标", {"编码": s.standard.code, "简称": s.standard.short,
                                                         "实际句": metric_actual(w, m), "要求": m.metric.requirement,
                                                         "部门": depts}, required=True))
                        wrote = True
            elif s.status == WEAK:
                reasons = s.evidence_reasons  # the evidence rules it fails (intake/evidence.py), as sentences
                shown = "；".join(reasons[:3]) + (f"等{len(reasons)}项" if len(reasons) > 3 else "")
                owners = s.standard.responsible_text if set(depts) >= set(cfg.department_names) else depts
                bw.para(w.fill("内部提示.整改佐证", {"编码": s.standard.code, "简称": s.standard.short,
                                                 "现有": s.evidence, "应有": str(s.standard.min_evidence),
                                                 "部门": owners, "佐证问题": shown}, required=True))
                wrote = True
        wrote = evidence_shortfalls(bw, result, w) or wrote
        errors = sum(i.level == "error" for i in result.issues)
        warnings = sum(i.level == "warning" for i in result.issues)
        if errors or warnings:
            bw.para(w.fill("内部提示.整改错误", {"错误": errors, "提醒": warnings,
                                             "校验报告": Path(validation_name).stem or "校验报告"}, required=True))
            wrote = True
        if not wrote:
            bw.para(w.text("内部提示.整改无"))

    def markers(bw):
        items = list(run.warnings) + list(run.markers)
        if not items:
            bw.para(w.text("内部提示.待核实无"))
        for k, m in enumerate(items, 1):
            bw.para(w.fill("内部提示.待核实条目", {"序号": str(k), "事项": m}, required=True))
        from pipeline.documents.editor import internal_notes
        internal_notes(bw, result, w)  # what the editor kept out of the outward documents (issue 22)

    def signature(bw):
        bw.keep_previous()
        bw.blank(2, keep_next=True)
        name_indent, date_indent = signature_indents(office_name(cfg), date_text)
        bw.para(office_name(cfg), "落款", keep_next=True, right_indent_chars=name_indent)
        if date_text:
            bw.para(date_text, "落款", right_indent_chars=date_indent)

    from pipeline.documents.history_docs import internal_block  # 届期 table from the history database
    blocks = {"标题": title, "说明": intro, "报送": submissions, "评定": unjudged, "整改": fixes,
              "待核实": markers, "历年对比": internal_block(result), "落款": signature}
    render_template(cfg.template_file(INTERNAL_TEMPLATE), blocks, Path(path),
                    title=w.fill("内部提示.标题", {"年度": year}, required=True), author=cfg.unit)


def evidence_shortfalls(bw, result: "Result", w) -> bool:
    """Per department: files its ledger names that were not sent; photos filed for several activities. True when
    anything was written."""
    check = result.evidence
    if check is None or not check.enabled:
        return False
    wrote = False
    missing: dict[str, list[str]] = {}
    failing: dict[str, list[str]] = {}   # department -> the first rule each of its failing rows breaks
    used_by: dict[int, list] = {}
    for kind in ("activities", "documents"):
        for r in check.rows.get(kind, []):
            missing.setdefault(r.department, []).extend(r.missing)
            problems = [p for ps in r.problems.values() for p in ps]
            if problems:
                failing.setdefault(r.department, []).append(problems[0])
            if kind == "activities":
                for i in r.files:
                    used_by.setdefault(i, []).append(r)
    for dept in [*result.config.department_names, *sorted(set(missing) - set(result.config.department_names))]:
        names = list(dict.fromkeys(missing.get(dept, [])))
        rules = list(dict.fromkeys(failing.get(dept, [])))
        if names or rules:
            bw.para(w.fill("内部提示.佐证缺漏", {"部门": dept, "缺少数": len(names),
                                            "示例": "、".join(f"“{n}”" for n in names[:3]),
                                            "条数": len(failing.get(dept, [])),
                                            "不符示例": rules[0].rstrip("。") if rules else ""}, required=True))
            wrote = True
    for i, rows in used_by.items():
        f = check.files[i]
        if f.kind == "photo" and len({(r.title, r.department) for r in rows}) > 1:
            bw.para(w.fill("内部提示.照片重复", {"照片": f.original, "部门": f.department or rows[0].department,
                                            "次数": str(len(rows))}, required=True))
            wrote = True
    return wrote
