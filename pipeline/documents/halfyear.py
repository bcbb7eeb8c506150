"""上半年创建文明单位工作总结及下半年工作计划 (`halfyear`, issue 16), in the shape of seed 003.

Only activities and documents dated 1 January to 30 June of the year count (later rows of the same inbox are not
errors, just not yet due; undated documents are left out and counted on the console). 一、上半年工作开展情况 by
测评指标 with the figures woven in; 二、存在的不足: standards with no or too little evidence by 30 June and metrics
below their threshold; 三、下半年工作计划: per gap the responsible departments (catalog), the catalog's improvement
sentence and the first configured stage after June as the month, grouped by 测评指标, then the year's regular
second-half work (unit.yaml ``second_half_work``: 全国科普日, 我们的节日, 测评, 宪法宣传周, 迎检). A standard judged
by its metrics alone (``min_evidence: 0``) is never "without evidence". Dated ``halfyear_date`` or early July of
its year (pipeline.schedule); roster figures are labelled with the date they run to.
Sentences: `config/wording.yaml`, section 半年总结; template `config/templates/半年总结.docx`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.catalog import format_percent
from pipeline.documents.self_report import _total, chinese_date
from pipeline.documents.text import book, clean, strip_marks
from pipeline.score import MET, WEAK, score_standards, standard_index, tagged

if TYPE_CHECKING:
    from pipeline.result import Result

TEMPLATE = "半年总结.docx"


def dated_until(frame: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Rows whose date lies in [start, end] (undated rows are left out)."""
    if frame.empty:
        return frame
    keep = [isinstance(d, dt.date) and start <= d <= end for d in frame["date"]]
    return frame[keep]


def scored_until(result: "Result", end: dt.date):
    """Activities, documents and standards counting only rows dated from 1 January to `end`."""
    start = dt.date(result.year, 1, 1)
    acts = dated_until(result.merged.used("activities"), start, end)
    docs = dated_until(result.merged.used("documents"), start, end)
    standards = score_standards(result.config, result.metrics, acts, docs, set(result.merged.winners))
    return acts, docs, standards


def stage_month(period: str) -> int | None:
    m = re.search(r"(\d{1,2})\s*月", str(period))
    return int(m.group(1)) if m else None


def second_half_stages(config, year: int | None = None) -> list[dict]:
    from pipeline import schedule
    return [s for s in schedule.stages(config, year or config.year) if (stage_month(s.get("period", "")) or 0) >= 7]


@dataclass
class Gap:
    code: str
    short: str
    kind: str  # 无佐证 / 佐证不足 / 指标
    departments: list[str]
    improvement: str
    detail: str = ""
    who: str = ""  # the departments as the plan names them: the catalog's words (各部门) when all are responsible


@dataclass
class HalfYear:
    year: int
    acts: pd.DataFrame
    docs: pd.DataFrame
    standards: list
    gaps: list[Gap] = field(default_factory=list)
    undated_documents: int = 0


def half_year(result: "Result") -> HalfYear:
    end = dt.date(result.year, 6, 30)
    acts, docs, standards = scored_until(result, end)
    undated = sum(not isinstance(d, dt.date) for d in result.merged.used("documents")["date"])
    gaps = []
    everyone = set(result.config.department_names)
    for s in standards:
        std = s.standard
        depts = list(std.responsible)
        who = std.responsible_text if std.responsible_text and set(depts) >= everyone else "、".join(depts)
        failed = [m for m in s.metrics if m.passed is False]
        if std.min_evidence <= 0:
            pass   # judged by its metrics alone: no evidence is owed
        elif s.evidence == 0:
            gaps.append(Gap(std.code, std.short, "无佐证", depts, std.improvement, who=who))
        elif s.evidence < std.min_evidence:
            gaps.append(Gap(std.code, std.short, WEAK, depts, std.improvement,
                            f"{s.evidence}/{std.min_evidence}", who))
        for m in failed:
            gaps.append(Gap(std.code, std.short, "指标", depts, std.improvement,
                            f"{m.metric.label}为{format_percent(m.value)}，未达到“{m.metric.requirement}”", who))
    return HalfYear(result.year, acts, docs, standards, gaps, undated)


def _gaps_by_indicator(cfg, gaps: list[Gap]) -> list[tuple[str, list[Gap]]]:
    """The gaps grouped by 测评指标 (one plan item each), a standard once, in catalog order."""
    indicator_of = {s.code: ind.name for ind in cfg.indicators for item in ind.items for s in item.standards}
    groups: dict[str, list[Gap]] = {ind.name: [] for ind in cfg.indicators}
    seen = set()
    for g in gaps:
        if g.code not in seen:
            seen.add(g.code)
            groups.setdefault(indicator_of.get(g.code, ""), []).append(g)
    return [(name, items) for name, items in groups.items() if items]


def _who(cfg, gaps: list[Gap]) -> str:
    """The departments of a plan item: 各部门 (the catalog's words) when together they are all, else their names
    in the unit's order."""
    named = {d for g in gaps for d in g.departments}
    if named >= set(cfg.department_names):
        words = [g.who for g in gaps if g.who and not set(g.who.split("、")) <= set(cfg.department_names)]
        return words[0].split("、")[-1] if words else "各部门"
    return "、".join(d for d in cfg.department_names if d in named)


def halfyear_name(year: int) -> str:
    return f"{year}年上半年创建文明单位工作总结及下半年工作计划.docx"


def write_halfyear(result: "Result", out: Path, today: dt.date | None = None) -> tuple[Path, HalfYear]:
    from pipeline.documents.compose import render_template
    from pipeline.documents.docx_layout import signature_indents
    from pipeline.documents.filing import _chinese_number, title_text
    from pipeline.documents.wording import load_wording

    from pipeline import schedule
    from pipeline.documents import official
    cfg, w = result.config, load_wording(result.config.dir)
    official.activate(cfg, result.year, half=True)   # the first half's official wording (before a plenum)
    theme = official.load_official(cfg.dir).theme(result.year, half=True)
    h = half_year(result)
    year = str(result.year)
    title = w.fill("半年总结.标题", {"单位": cfg.unit, "年度": year}, required=True)
    index = {"a": standard_index(h.acts), "d": standard_index(h.docs)}
    by_code = {s.standard.code: s for s in h.standards}
    stages = second_half_stages(cfg, result.year)
    month = (f"{schedule.month_of(stages[0]['period'])}月底前" if stages else "年底前")
    signed = schedule.halfyear_date(cfg, result.year)   # early July of its year unless configured
    date_text = chinese_date(signed)
    rosters = [r.submitted_on for d, r in result.merged.winners.items() if isinstance(r.submitted_on, dt.date)]
    # rosters run to the day they were sent: that day, unless it lies after the document's own date (a summary
    # written afterwards from a later inbox), when the figures are said to come from the rosters sent
    counted_to = chinese_date(max(rosters)) if rosters and max(rosters) <= signed else ""

    from pipeline.documents.editor import edited
    half = edited(result).until(dt.date(result.year, 6, 30))  # the first half as the 自查报告 counts (issue 22)

    def head(bw):
        bw.para(title_text(w, cfg, title), "公文标题", keep_next=True)

    def opening(bw):
        lead = w.fill("年度主题.半年总结", {k: theme.get(k) for k in ("大会精神", "学习教育")})
        bw.para(w.fill("半年总结.开头", {"年度": year, "简称": cfg.short_name, "测评细则": cfg.catalog_name,
                                      "主题": lead,
                                      "活动数": len(half.events), "人次": sum(e.participants or 0 for e in half.events),
                                      "文件数": len(half.docs)}, required=True))

    def work(bw):
        for k, ind in enumerate(cfg.indicators, 1):
            codes = {s.code for item in ind.items for s in item.standards}
            a, d = tagged(h.acts, codes, index["a"]), tagged(h.docs, codes, index["d"])
            # the first half's activities as the 自查报告 writes them: grouped, without sequence numbers, 印发 rows
            # as documents, ordered by political weight (documents/editor.py)
            titles = [g.phrase() for g in half.groups(codes)][:4]
            docs = [book(t) for t in half.documents(codes)][:2]
            metrics = [m for c in sorted(codes) for m in by_code[c].metrics if m.value is not None]
            bw.para(w.fill("半年总结.指标小标题", {"序号": _chinese_number(k), "指标": ind.name}, required=True),
                    "二级标题" if "二级标题" in [s.name for s in bw.doc.styles] else "Normal", keep_next=True)
            count, people = half.totals(codes)
            facts = {"指标": ind.name, "方面": [i.name for i in ind.items], "活动数": count,
                     "人次": people or 0, "示例活动": titles, "文件数": len(half.documents(codes)),
                     "示例文件": "".join(docs)}
            text = w.fill("半年总结.指标情况", facts, required=True)
            if metrics:
                text += w.fill("半年总结.指标数值", {"各指标": "，".join(f"{m.metric.label}为{format_percent(m.value)}"
                                                                  for m in metrics), "日期": counted_to},
                               required=True)
            bw.para(text)

    def gaps(bw):
        # a standard whose responsible departments did not report is 【待核实】, never "not done" (issue 22)
        from pipeline.documents.text import quote
        from pipeline.score import MISSING
        unreported = [s.standard.short for s in h.standards if s.status == MISSING]
        none = [g for g in h.gaps if g.kind == "无佐证" and g.short not in unreported]
        weak = [g for g in h.gaps if g.kind == WEAK]
        low = [g for g in h.gaps if g.kind == "指标"]
        if not h.gaps:
            bw.para(w.text("半年总结.无不足"))
        order = iter("一二三四")  # 一是、二是… only for the kinds there are
        if none:
            bw.para(w.fill("半年总结.不足无佐证", {"序号": next(order), "条数": len(none), "多条": len(none) > 1,
                                              "标准": [g.short for g in none]}, required=True))
        if weak:
            bw.para(w.fill("半年总结.不足佐证少", {"序号": next(order), "条数": len(weak), "多条": len(weak) > 1,
                                              "标准": [g.short for g in weak]}, required=True))
        if low:
            bw.para(w.fill("半年总结.不足指标", {"序号": next(order), "情况": "；".join(g.detail for g in low),
                                              "编码": "、".join(g.code for g in low),
                                              "简称": "、".join(g.short for g in low)}, required=True))
        if unreported:
            bw.para(w.fill("通用.待核实", {"事项": w.fill("编辑.未报标准", {
                "标准": "".join(quote(x) for x in unreported), "写法一": True, "写法二": False, "写法三": False},
                required=True)}, required=True))

    def plan(bw):
        k = 0
        for ind, gaps in _gaps_by_indicator(cfg, h.gaps):   # one item per 测评指标, in catalog order
            k += 1
            measures = list(dict.fromkeys(g.improvement.rstrip("。") for g in gaps if g.improvement))
            bw.para(w.fill("半年总结.计划条目", {"序号": str(k), "指标": ind, "措施": "；".join(measures[:4]),
                                             "部门": _who(cfg, gaps), "月份": month,
                                             "编码": "、".join(g.code for g in gaps),   # for a unit's own wording
                                             "简称": "、".join(dict.fromkeys(g.short for g in gaps))},
                           required=True))
        if not k:
            bw.para(w.text("半年总结.计划无"))
        for s in schedule.second_half_work(cfg, result.year):   # the year's regular second-half work
            k += 1
            bw.para(w.fill("半年总结.常规工作条目", {"序号": str(k), "时间": str(s.get("period", "")),
                                                 "任务": str(s.get("task", "")).rstrip("。")}, required=True))

    def signature(bw):
        bw.keep_previous()
        bw.blank(2, keep_next=True)
        name_indent, date_indent = signature_indents(cfg.unit, date_text)
        bw.para(cfg.unit, "落款", keep_next=True, right_indent_chars=name_indent)
        bw.para(date_text, "落款", right_indent_chars=date_indent)

    path = out / halfyear_name(result.year)
    render_template(cfg.template_file(TEMPLATE), {"标题": head, "开头": opening, "工作情况": work, "不足": gaps,
                                                  "计划": plan, "落款": signature}, path, title=title,
                    author=cfg.unit)
    return path, h
