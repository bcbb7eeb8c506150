"""创建工作情况提示（内部）: what the outward 自查报告 leaves out, for the coordinator and the leadership group.

Written by the same run as the 自查报告: who reported (files, superseded submissions, issue counts),
which standards cannot be judged and why, what the departments must fix (with catalog codes), and
every 【待核实】 marker of the run. Sentences: ``config/wording.yaml`` section 内部提示; template
``config/templates/内部提示.docx`` (placeholders {标题} {说明} {报送} {评定} {整改} {待核实} {落款}).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from docx.enum.text import WD_ALIGN_PARAGRAPH

from pipeline.documents.compose import render_template
from pipeline.documents.docx_layout import signature_indents
from pipeline.documents.self_report import FAILED, NOT_REPORTED, ReportRun, metric_actual
from pipeline.documents.wording import load_wording
from pipeline.score import WEAK

if TYPE_CHECKING:
    from pipeline.result import Result

INTERNAL_TEMPLATE = "内部提示.docx"
DECLARED = {"内部提示.评定条目": ("编码", "简称", "部门"), "内部提示.评定无": (), "内部提示.整改无": (),
            "内部提示.待核实无": (), "内部提示.待核实条目": ("序号", "事项"), "内部提示.日期超出年度": ("日期", "年度"),
            "内部提示.未报条目": ("部门",), "内部提示.整改指标": ("编码", "简称", "实际句", "要求", "部门"),
            "内部提示.整改佐证": ("编码", "简称", "现有", "应有", "部门", "佐证问题"),
            "内部提示.整改错误": ("错误", "提醒", "校验报告")}


def internal_name(year: int) -> str:
    return f"{year}年创建文明单位工作情况提示（内部）.docx"


def write_internal_notice(result: Result, path: Path, run: ReportRun, validation_name: str = "",
                          date_text: str = "") -> None:
    cfg, w = result.config, load_wording(result.config.dir)
    year = str(result.year)

    def title(bw):
        bw.para(w.fill("内部提示.标题", {"年度": year}, required=True), "公文标题", keep_next=True)

    def intro(bw):
        bw.para(w.fill("内部提示.说明", {"年度": year}, required=True))

    def submissions(bw):
        missing = result.missing
        bw.para(w.fill("内部提示.报送概况", {"应报": len(cfg.departments), "已报": len(result.submitted),
                                         "未报": len(missing), "未报部门": missing}, required=True))
        for dept in cfg.department_names:
            win = result.merged.winners.get(dept)
            if win is None:
                bw.para(w.fill("内部提示.未报条目", {"部门": dept}, required=True))
                continue
            errors, warnings = result.department_issue_counts(dept)
            superseded = [f"“{r.name}”" for r in result.merged.superseded.get(dept, [])]
            checked = w.fill("内部提示.校验句", {"错误": errors, "提醒": warnings}, required=True)
            bw.para(w.fill("内部提示.报送条目", {"部门": dept, "文件": win.name, "作废": superseded,
                                             "校验句": checked}, required=True), align=WD_ALIGN_PARAGRAPH.LEFT)

    def unjudged(bw):
        rows = [s for s in result.standards if s.status == NOT_REPORTED]
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
                bw.para(w.fill("内部提示.整改佐证", {"编码": s.standard.code, "简称": s.standard.short,
                                                 "现有": str(s.evidence), "应有": str(s.standard.min_evidence),
                                                 "部门": depts, "佐证问题": shown}, required=True))
                wrote = True
        errors = sum(i.level == "error" for i in result.issues)
        warnings = sum(i.level == "warning" for i in result.issues)
        if errors or warnings:
            bw.para(w.fill("内部提示.整改错误", {"错误": str(errors), "提醒": str(warnings),
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
        name_indent, date_indent = signature_indents(cfg.unit, date_text)
        bw.para(cfg.unit, "落款", keep_next=True, right_indent_chars=name_indent)
        if date_text:
            bw.para(date_text, "落款", right_indent_chars=date_indent)

    from pipeline.documents.history_docs import internal_block  # 届期 table from the history database
    blocks = {"标题": title, "说明": intro, "报送": submissions, "评定": unjudged, "整改": fixes,
              "待核实": markers, "历年对比": internal_block(result), "落款": signature}
    render_template(cfg.template_file(INTERNAL_TEMPLATE), blocks, Path(path),
                    title=w.fill("内部提示.标题", {"年度": year}, required=True), author=cfg.unit)
