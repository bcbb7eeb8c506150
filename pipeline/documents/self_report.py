"""The 自查报告 (outward, to the 文明办) and the facts it shares with the internal 工作情况提示.

Python composes facts (counts, example titles, which metrics fail, which standards lack evidence);
every sentence comes from ``config/wording.yaml`` (section 自查报告) and the fixed prose from the
Word template ``config/templates/自查报告.docx`` (placeholders ``{标题}`` ``{开头}`` ``{工作成效}``
``{存在问题}`` ``{下一步}`` ``{负面清单}`` ``{落款}`` ``{附件}``).

The outward report never names departments' reporting, error counts, catalog codes or "暂无法评定":
those go to ``internal.write_internal_notice``. What the data cannot support becomes a visible
【待核实：…】 marker, collected in ``ReportRun.markers`` (printed on the console and listed in the
internal document).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.catalog import Config, format_percent, normalize_name
from pipeline.documents.compose import render_template
from pipeline.documents.docx_layout import signature_indents, title_lines
from pipeline.documents.editor import (FrameBudget, LedgerRows, coverage, covered_value, coverage_marker_subject,
                                       edited, listing)
from pipeline.documents.text import book, clean, quote, strip_marks
from pipeline.documents.wording import Wording, load_wording
from pipeline.score import MET, WEAK, rows_where, tagged
from pipeline.vocabulary import FAILED, MISSING

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.result import Result

REPORT_TEMPLATE = "自查报告.docx"
CN_NUMBERS = list("一二三四五六七八九十") + [f"十{c}" for c in "一二三四五六七八九"] + ["二十"]
EXAMPLES_PER_ITEM = 3
MAX_PROBLEMS = 4
MAX_DIRECTIONS = 6
MAX_NAMED = 4          # standards named in one sentence; beyond, their 测评项目 are named
MAX_MEASURES = 3       # improvement measures in one 下一步 point
NOT_REPORTED = MISSING
#: wording keys the sample data may not reach, with the facts their writer offers (checked by `check`)
DECLARED = {
    "通用.待核实": ("事项",), "通用.落款日期": ("年", "月", "日"),
    "自查报告.负面清单有": ("简称", "负面清单"), "自查报告.负面清单无": ("简称", "负面清单"),
    "自查报告.负面清单条目": ("序号", "项目", "说明"), "自查报告.负面清单未填完": (),
    "自查报告.负面清单未报": (), "自查报告.问题无差距": ("简称",), "自查报告.其他亮点": ("亮点",),
    "自查报告.方向兜底": (), "自查报告.指标未达_不低于": ("实际句", "阈值", "较上年"),
    "自查报告.指标达标_不低于": ("指标", "实际", "阈值", "较上年"), "自查报告.指标未达_大于": ("实际句", "阈值", "较上年"),
    "自查报告.指标达标_大于": ("指标", "实际", "阈值", "较上年"),
    "自查报告.未评定标准": ("标准",), "自查报告.测评数据": (), "自查报告.落款日期待核实": (), "自查报告.荣誉": ("荣誉列表", "荣誉数", "多项荣誉"),
    "自查报告.荣誉条目": ("荣誉", "授予单位"), "自查报告.荣誉小标题": ("序号",),
    "自查报告.指标问题分析": ("各指标", "分析"),
    "自查报告.方向合并标题": ("标题甲", "标题乙"),
    "自查报告.佐证问题": ("标准简称", "多条标准"), "自查报告.指标问题原因": (),  # used when 编辑.… is removed
    **{f"自查报告.指标实际.{k}": ("分子", "分母", "实际", "指标") for k in (
        "participation_rate", "satisfaction_rate", "volunteer_registration_rate",
        "party_volunteer_registration_rate", "volunteer_service_rate", "legal_education_rate", "其他")},
}


# ------------------------------------------------------------------ shared helpers
def chinese_date(day: dt.date, w: Wording | None = None) -> str:
    w = w or load_wording()
    return w.fill("通用.落款日期", {"年": str(day.year), "月": str(day.month), "日": str(day.day)}, required=True)


def _total(values: pd.Series) -> int:
    """The sum of a parsed number column (floats, None where blank or invalid)."""
    try:
        return int(np.nansum(values.to_numpy(dtype=float, na_value=np.nan)))
    except (TypeError, ValueError):
        return int(sum(v for v in values if isinstance(v, float)))


def threshold_text(metric) -> str:
    return format_percent(metric.threshold, decimals=None)


def metric_actual(w: Wording, m, result: Result | None = None) -> str:
    """注册志愿者70人中参加志愿服务55人，占78.6% (shortfalls in words); with the roster coverage when
    a result is given and a department's roster is missing."""
    value = format_percent(m.value)
    facts = {"分子": str(m.numerator), "分母": str(m.denominator),
             "实际": covered_value(result, w, value) if result is not None else value, "指标": m.metric.label}
    key = f"自查报告.指标实际.{m.metric.key}"
    return w.fill(key if w.has(key) else "自查报告.指标实际.其他", facts, required=True)


@dataclass
class ReportRun:
    """What one run of the documents found that a person must check: the 【待核实】 markers and warnings."""

    markers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    date_text: str = ""  # the 自查报告's signature date (or its marker)
    marker_texts: list[str] = field(default_factory=list)  # the markers as printed: 【待核实：…】

    def marker(self, w: Wording, subject: str) -> str:
        text = w.fill("通用.待核实", {"事项": subject}, required=True)
        if subject not in self.markers:
            self.markers.append(subject)
            self.marker_texts.append(text)
        return text

    @property
    def notes(self) -> list[str]:
        """What the console lists after a run: warnings, then every marker."""
        return self.warnings + self.marker_texts


def report_date(config: Config, year: int, w: Wording, run: ReportRun, today: dt.date | None = None) -> str:
    """The signature date: report_date from config; today when the report year is this year; else a marker."""
    today = today or dt.date.today()
    configured = config.settings.get("report_date")
    if isinstance(configured, dt.datetime):
        configured = configured.date()
    if isinstance(configured, dt.date):
        if configured.year != year:
            run.warnings.append(w.fill("内部提示.日期超出年度", {"日期": chinese_date(configured, w), "年度": str(year)},
                                       required=True))
        return chinese_date(configured, w)
    if year == today.year:
        return chinese_date(today, w)
    return run.marker(w, w.text("自查报告.落款日期待核实"))


def is_mass_organisation(name: str, w: Wording) -> bool:
    words = {normalize_name(x) for x in w.items("自查报告.群团组织")}
    return normalize_name(name) in words


def _dept_prefixes(config: Config) -> list[str]:
    names = {n for d in config.departments for n in (d.name, *d.aliases)}
    return sorted(names, key=len, reverse=True)


def _sentence(text: str) -> str:
    text = text.strip().rstrip("，,;；")
    return text if not text or text[-1] in "。！？…" else text + "。"


def merge_highlights(texts: list[str], prefixes: list[str], named_titles: list[str]) -> str:
    """Highlights of one 测评项目 as one flowing text: no department name in front, no repeat of an
    activity title already named, no duplicates."""
    out: list[str] = []
    seen_norm = {re.sub(r"\W", "", t) for t in named_titles}
    for raw in texts:
        for line in str(raw).splitlines():
            t = clean(line)
            if not t:
                continue
            for p in prefixes:
                if t.startswith(p) and len(t) > len(p) + 2:
                    t = t[len(p):].lstrip("，,：: ")
                    break
            norm = re.sub(r"\W", "", t)
            if not norm or norm in seen_norm or any(norm in s for s in seen_norm if len(norm) >= 4):
                continue
            seen_norm.add(norm)
            out.append(_sentence(t))
    return "".join(out)


# ------------------------------------------------------------------ the report
class SelfReport(LedgerRows):
    """Builds the blocks of the 自查报告 from a Result."""

    def __init__(self, result: Result, run: ReportRun | None = None, today: dt.date | None = None):
        self.r = result
        self.cfg = result.config
        self.w = load_wording(self.cfg.dir)
        self.run = run or ReportRun()
        self.today = today
        merged = result.merged
        self.highlights = merged.used("highlights")
        self.by_code = {s.standard.code: s for s in result.standards}
        self.short = self.cfg.short_name
        self.date_text = report_date(self.cfg, result.year, self.w, self.run, today)
        from pipeline.documents.history_docs import metric_changes
        self.changes = metric_changes(result)  # metric -> 较上年提高…个百分点 (history database; same catalog only)
        self.run.date_text = self.date_text
        self.prefixes = _dept_prefixes(self.cfg)
        self.attachment = bool(self.cfg.settings.get("report_attachment", True))
        self.ed = edited(result)  # the edited facts (pipeline/documents/editor.py), shared with the 说明报告
        item_names = [i.name for ind in self.cfg.indicators for i in ind.items]
        labels = [m.label for m in self.cfg.metrics.values()]
        self.frames = FrameBudget(sorted({*self.ed.phrases(), *item_names, *labels}, key=len, reverse=True))
        self.coverage_subject = coverage_marker_subject(result, self.w)

    # -- facts
    def title(self) -> str:
        return self.w.fill("自查报告.标题", {"单位": self.cfg.unit, "年度": str(self.r.year)}, required=True)

    def item_facts(self, item, k: int) -> dict[str, Any]:
        codes = {s.code for s in item.standards}
        groups = self.ed.groups(codes)
        count, people = self.ed.totals(codes)
        doc_titles = self.ed.documents(codes)
        passed = [m for s in item.standards for m in self.by_code[s.code].metrics if m.passed]
        unreported = [s.short for s in item.standards if self.by_code[s.code].status == NOT_REPORTED]
        return {
            "项目": item.name, "序号": str(k), "活动数": count, "人次": people or 0,
            "列举": listing(groups, EXAMPLES_PER_ITEM + 1), "多个活动": count > 1,
            "文件数": len(doc_titles), "示例文件": "".join(book(t) for t in doc_titles[:2]),
            "多个文件": len(doc_titles) > 1, "通过指标": passed, "未报标准": unreported,
            "亮点": "".join(self.ed.highlights(codes)),
        }

    def coverage_marker(self) -> str:
        """The partial-roster marker, printed once per document beside the first rate."""
        if not self.coverage_subject or self.coverage_subject in self.run.markers:
            return ""
        return self.run.marker(self.w, self.coverage_subject)

    def metrics_sentence(self, passed) -> str:
        """The passing rates of one item; each rate in the first variant whose frame is still under its limit.
        Over a partial roster the first sentence says in front what the rates cover (with the marker, see
        coverage_marker), later rates say it after the figure."""
        if not passed:
            return ""
        counted = str(len(coverage(self.r)[0]))
        first = bool(self.coverage_subject) and self.coverage_subject not in self.run.markers
        parts = []
        for i, m in enumerate(passed):
            actual = format_percent(m.value)
            if self.coverage_subject and not first:
                actual += self.w.fill("编辑.覆盖说明", {"部门数": counted}, required=True)
            facts = {"指标": m.metric.label, "实际": actual, "阈值": threshold_text(m.metric),
                     "较上年": self.changes.get(m.metric.key, "")}
            own = "编辑.指标达标_大于" if m.metric.op == ">" else "编辑.指标达标_不低于"
            if self.w.has(own):
                ways = self.WAYS[:3]
                cands = [self.w.fill(own, {**facts, **{x: x == way for x in self.WAYS}}) for way in ways]
            else:
                key = "自查报告.指标达标_大于" if m.metric.op == ">" else "自查报告.指标达标_不低于"
                cands = [self.w.fill(key, facts, required=True)]
            if first and i == 0:
                cands = [self.w.fill("编辑.覆盖前缀", {"部门数": counted}, required=True) + c for c in cands]
            parts.append(self.frames.choose(cands))
        return self.w.fill("自查报告.指标达标句", {"各指标": "；".join(parts)})

    WAYS = ("写法一", "写法二", "写法三", "写法四", "写法五", "写法六")

    def activity_clause(self, f: dict, rotation: int) -> str:
        """The item's activities in one clause; the frame is chosen so that none is used more than twice."""
        if not f["列举"]:
            return ""
        if not f["多个活动"]:
            return self.frames.choose([self.w.fill("编辑.项目单个活动", {**{n: f[n] for n in ("列举", "人次")},
                                                                   **{k: k == way for k in self.WAYS}})
                                       for way in self.WAYS])
        ways = self.WAYS[rotation % 6:] + self.WAYS[:rotation % 6]
        facts = {n: f[n] for n in ("列举", "活动数", "人次", "项目")}
        return self.frames.choose([self.w.fill("编辑.项目活动", {**facts, **{k: k == way for k in self.WAYS}})
                                   for way in ways])

    def item_paragraph(self, f: dict, rotation: int) -> str:
        acts = self.activity_clause(f, rotation)
        docs = self.w.fill("自查报告.项目文件", {n: f[n] for n in ("示例文件", "文件数", "多个文件")})
        facts = "，".join(x for x in (acts, docs) if x)
        metrics = self.metrics_sentence(f["通过指标"])
        unreported = ""
        if f["未报标准"]:  # its departments did not report: a marker, never "not done" (listed for the internal
            names = "".join(quote(x) for x in f["未报标准"])
            subject = self.frames.choose([self.w.fill("编辑.未报标准", {"标准": names, **{k: k == way for k in self.WAYS}})
                                          for way in self.WAYS[:3]])
            unreported = self.w.fill("通用.待核实", {"事项": subject}, required=True) if self.attachment else \
                self.run.marker(self.w, subject)  # notice by the 一览表's rows, or here when there is none)
        body = (facts + "。" if facts else "") + metrics
        if metrics:
            unreported = self.coverage_marker() + unreported
        if not body and not f["亮点"]:
            return self.w.fill("自查报告.项目段落", {"序号": f["序号"], "项目": f["项目"], "事实": "", "亮点": unreported})
        return self.w.fill("自查报告.项目段落", {"序号": f["序号"], "项目": f["项目"],
                                             "事实": body.rstrip("。"), "亮点": f["亮点"]}) + unreported

    def scope(self) -> str:
        mass = [d.name for d in self.cfg.departments if is_mass_organisation(d.name, self.w)]
        return self.w.fill("自查报告.组织范围", {"群团": mass}, required=True)

    # -- blocks
    def block_title(self, bw) -> None:
        words = self.w.items("通用.标题词")
        fixed = self.cfg.settings.get("report_title_lines")
        lines = [str(x) for x in fixed] if isinstance(fixed, list) and fixed else \
            title_lines(self.title(), words, keep=[self.cfg.unit, self.short])
        bw.para("\n".join(lines), "公文标题", keep_next=True)

    def block_opening(self, bw) -> None:
        lead = self.w.fill("自查报告.领导指导", {
            "领导表述": str(self.cfg.settings.get("leadership_phrase") or "").rstrip("，,"),
            "指导表述": str(self.cfg.settings.get("guidance_phrase") or "").rstrip("，,")})
        facts = {"年度": str(self.r.year), "领导指导": lead, "简称": self.short,
                 "工作思路": self.w.fill("自查报告.工作思路", {"简称": self.short}),
                 "测评细则": self.cfg.catalog_name or "文明单位测评细则",
                 "指标数": len(self.cfg.indicators), "项目数": sum(len(i.items) for i in self.cfg.indicators),
                 "标准数": len(self.r.standards), "活动数": len(self.ed.events),
                 "人次": sum(e.participants or 0 for e in self.ed.events),
                 "文件数": len(self.ed.docs), "组织范围": self.scope()}
        bw.para(self.w.fill("自查报告.开头", facts, required=True))

    def block_results(self, bw) -> None:
        k = 0
        rotation = 0
        for ind in self.cfg.indicators:
            paras = []
            for item in ind.items:
                f = self.item_facts(item, len(paras) + 1)
                text = self.item_paragraph(f, rotation)
                if text:
                    paras.append(text)
                    rotation += 1
            if not paras:
                continue
            bw.para(self.w.fill("自查报告.指标小标题", {"序号": CN_NUMBERS[k], "指标": ind.name}, required=True),
                    "二级标题", keep_next=True)
            k += 1
            for p in paras:
                bw.para(p, "三级标题")
        text = "".join(self.ed.highlights(None))
        if text:
            bw.para(self.w.fill("自查报告.其他亮点", {"亮点": text}))
        honours = self.r.merged.used("honours")
        if not honours.empty:
            entries = [self.w.fill("自查报告.荣誉条目", {"荣誉": quote(t),
                                                     "授予单位": clean(g)})
                       for t, g in dict.fromkeys(zip(honours["title"], honours["grantor"]))]
            bw.para(self.w.fill("自查报告.荣誉小标题", {"序号": CN_NUMBERS[k]}, required=True), "二级标题", keep_next=True)
            bw.para(self.w.fill("自查报告.荣誉", {"荣誉列表": entries, "荣誉数": len(entries),
                                               "多项荣誉": len(entries) > 1}, required=True))

    def problems(self) -> list[tuple[str, str]]:
        """At most four (heading, analysis) pairs, failing metrics first."""
        out: list[tuple[str, str]] = []
        failing = [m for m in self.r.metrics.values() if m.passed is False]
        shortfalls: list[tuple[str, str]] = []  # (heading, shortfall sentence) per failing metric
        room = MAX_PROBLEMS - bool([s for s in self.r.standards if s.status == WEAK])
        for k, m in enumerate(failing):  # what a rate covers: said once per heading
            key = "自查报告.指标未达_大于" if m.metric.op == ">" else "自查报告.指标未达_不低于"
            first = k < room - 1 or k == room - 1 or len(failing) <= room
            shortfall = self.w.fill(key, {"实际句": metric_actual(self.w, m, self.r if first else None),
                                          "阈值": threshold_text(m.metric),
                                          "较上年": self.changes.get(m.metric.key, "")}, required=True)
            title_key = f"自查报告.指标问题标题.{m.metric.key}"
            title = self.w.text(title_key) if self.w.has(title_key) else \
                (m.metric.problem_title or f"{m.metric.short_label}还有差距")  # a catalog's own metric
            shortfalls.append((title, shortfall))
        weak_problem: list[tuple[str, str]] = []
        weak = [s for s in self.r.standards if s.status == WEAK]
        if weak:  # a few standards by their short names; many by their 测评项目
            names = [s.standard.short for s in weak]
            if len(names) > MAX_NAMED:
                names = list(dict.fromkeys(s.standard.item for s in weak))[:MAX_NAMED]
            weak_problem.append((self.w.fill("自查报告.佐证问题标题", {"简称": self.short}, required=True),
                                 self.w.fill("编辑.佐证问题" if self.w.has("编辑.佐证问题") else "自查报告.佐证问题",
                                             {"标准简称": names, "多条标准": len(names) > 1}, required=True)))
        room = MAX_PROBLEMS - len(weak_problem)  # metrics beyond the room share the last metric heading
        groups = [[x] for x in shortfalls]
        if len(groups) > room:
            groups = groups[:room - 1] + [shortfalls[room - 1:]]
        for group in groups:
            title = group[0][0] if len(group) == 1 else self.w.text("编辑.指标合并标题")
            reasons = [self.w.fill("编辑.指标问题原因", {x: x == way for x in self.WAYS})
                       for way in self.WAYS[:3]] if self.w.has("编辑.指标问题原因") else []
            reason = self.frames.choose([r for r in reasons if r]) or self.w.text("自查报告.指标问题原因")
            text = self.frames.add(self.w.fill("自查报告.指标问题分析", {
                "各指标": "；".join(sf for _, sf in group), "分析": reason}, required=True))
            out.append((title, text + self.coverage_marker()))
        out += weak_problem
        if out and len(out) < MAX_PROBLEMS:
            out.append((self.w.text("自查报告.综合问题标题"), self.w.fill("自查报告.综合问题", {"简称": self.short},
                                                                   required=True)))
        return out

    def block_problems(self, bw) -> None:
        problems = self.problems()
        if not problems:
            bw.para(self.w.fill("自查报告.问题无差距", {"简称": self.short}, required=True))
        else:
            bw.para(self.w.fill("自查报告.问题开头", {"简称": self.short}, required=True))
            for k, (title, text) in enumerate(problems):
                bw.para(self.w.fill("自查报告.问题小标题", {"序号": CN_NUMBERS[k], "标题": title}, required=True),
                        "二级标题", keep_next=True)
                bw.para(text)
        closing = self.w.fill("自查报告.问题结尾", {"简称": self.short})
        if closing:
            bw.para(closing)

    def directions(self) -> list[tuple[str, str]]:
        general = [dict(g, text=g.get("text") or self.year_theme_text()) if isinstance(g, dict) and
                   g.get("year_theme") else g for g in (self.cfg.settings.get("general_directions") or [])]
        general = [g for g in general if isinstance(g, dict) and g.get("title") and g.get("text")]
        first = [g for g in general if g.get("first")]
        rest = [g for g in general if not g.get("first")]
        specific: list[tuple[str, str]] = []
        for ind in self.cfg.indicators:
            titles, texts = [], []
            for item in ind.items:
                weak = [self.by_code[s.code] for s in item.standards if self.by_code[s.code].status != MET]
                if not weak:
                    continue
                titles.append(item.direction_title or item.name)
                texts.extend((s.status != FAILED, s.standard.improvement) for s in weak if s.standard.improvement)
            texts = [t for _, t in sorted(texts, key=lambda x: x[0])]  # measures for failing metrics first
            if titles and texts:
                title = titles[0] if len(titles) == 1 else self.w.fill(
                    "自查报告.方向合并标题", {"标题甲": titles[0], "标题乙": titles[1]}, required=True)
                specific.append((title, "".join(list(dict.fromkeys(texts))[:MAX_MEASURES])))
        points = [(str(g["title"]), str(g["text"])) for g in first] + specific
        points += [(str(g["title"]), str(g["text"])) for g in rest]
        return points[:MAX_DIRECTIONS]

    def year_theme_text(self) -> str:
        """The theory direction in the year's official wording (official_wording.yaml, wording 年度主题.理论方向);
        a year still to be verified there is listed among the internal notice's 待核实 items."""
        from pipeline.documents import official
        theme = official.load_official(self.cfg.dir).theme(self.r.year)
        if theme.get("待核实"):
            self.run.warnings.append(f"{self.r.year}年的年度主题尚待核实（config/official_wording.yaml）："
                                     f"{theme['待核实']}")
        return self.w.fill("年度主题.理论方向", {k: theme.get(k) for k in ("首要政治任务", "学习教育", "大会精神")})

    def block_directions(self, bw) -> None:
        points = self.directions()
        if not points:
            title, _, text = self.w.text("自查报告.方向兜底").partition("。")
            points = [(title, text)]
        for k, (title, text) in enumerate(points, 1):
            bw.para(self.w.fill("自查报告.方向条目", {"序号": str(k), "标题": title.rstrip("。"),
                                                   "内容": _sentence(text)}, required=True))

    def negative_state(self) -> tuple[str, list[dict]]:
        """("none" | "found" | "incomplete" | "missing", rows marked yes)."""
        cfg = self.cfg
        neg = self.r.merged.used("negative")
        if neg.empty:
            return "missing", []
        answers: dict[str, Any] = {}
        keys: dict[str, str] = {}  # item -> its key: the same items in every department's list
        for item, exists, note in zip(neg["item"], neg["exists"], neg["note"]):
            key = keys.get(item) if type(item) is str else None
            if key is None:
                key = normalize_name(item)
                if type(item) is str:
                    keys[item] = key
            if exists is True or key not in answers or answers[key][0] is None:
                answers[key] = (exists if exists in (True, False) else None, clean(item), clean(note))
        found = [{"项目": v[1], "说明": v[2]} for v in answers.values() if v[0] is True]
        required = [normalize_name(x) for x in cfg.negative_items] or list(answers)
        names = {normalize_name(x): clean(x) for x in cfg.negative_items}
        self.unanswered = list(dict.fromkeys(
            [names.get(k, k) for k in required if k not in answers or answers[k][0] is None]
            + [v[1] for v in answers.values() if v[0] is None]))
        complete = not self.unanswered
        if found:
            return ("found" if complete else "incomplete"), found
        return ("none" if complete else "incomplete"), []

    def block_negative(self, bw) -> None:
        state, found = self.negative_state()
        facts = {"简称": self.short, "负面清单": strip_marks(self.cfg.negative_title)}
        if found:
            bw.para(self.w.fill("自查报告.负面清单有", facts, required=True))
            for k, f in enumerate(found, 1):
                bw.para(self.w.fill("自查报告.负面清单条目", {"序号": str(k), **f}, required=True))
        if state == "none":
            bw.para(self.w.fill("自查报告.负面清单无", facts, required=True))
        elif state == "incomplete":  # the standard sentence, the marker only on the items not answered
            if not found:
                bw.para(self.w.fill("自查报告.负面清单无", facts, required=True))
            bw.para(self.run.marker(self.w, self.w.fill("编辑.负面清单未答", {
                "项目": [quote(x) for x in self.unanswered]}, required=True)))
        elif state == "missing":
            bw.para(self.run.marker(self.w, self.w.text("自查报告.负面清单未报")))

    def block_signature(self, bw) -> None:
        bw.keep_previous()
        if self.attachment:
            bw.blank(keep_next=True)
            bw.para(self.w.fill("自查报告.附件说明", {"附件名": self.w.text("自查报告.附件名")}, required=True),
                    "附件说明", keep_next=True)
        bw.blank(2, keep_next=True)
        name_indent, date_indent = signature_indents(self.cfg.unit, self.date_text)
        bw.para(self.cfg.unit, "落款", keep_next=True, right_indent_chars=name_indent)
        bw.para(self.date_text, "落款", right_indent_chars=date_indent)

    def attachment_rows(self) -> list[list[str]]:
        rows = []
        k = 0
        for ind in self.cfg.indicators:
            for item in ind.items:
                for s in item.standards:
                    k += 1
                    sr = self.by_code[s.code]
                    n_acts, _ = self.ed.totals({s.code})  # each event once, 印发 rows as documents
                    done = self.w.fill("自查报告.开展情况", {"活动数": n_acts, "文件数": len(self.ed.documents({s.code})),
                                                         "数据": self._data_note(sr)})
                    if sr.status == NOT_REPORTED:  # listed as a marker; the cell shows the short form
                        self.run.marker(self.w, self.w.fill("自查报告.未评定标准", {"标准": s.short}, required=True))
                    if not done or done == "无相关记录":  # an outward summary: what the unit is doing about it
                        done = self.w.text("编辑.一览表未报" if sr.status == NOT_REPORTED else "编辑.一览表无记录")
                    status = self.w.text(f"自查报告.自查结果.{sr.status}")
                    rows.append([str(k), item.name, self.cfg.current_wording(s.short), done, status])
        return rows

    def _data_note(self, sr) -> str:
        if not any(m.value is not None for m in sr.metrics):
            return ""
        from pipeline.documents.editor import coverage
        counted, missing = coverage(self.r)
        if missing and counted:  # says what it covers
            return self.w.fill("编辑.一览表覆盖", {"部门数": str(len(counted))}, required=True)
        return self.w.text("自查报告.测评数据")

    def block_attachment(self, bw) -> None:
        if not self.attachment:
            return
        bw.para(self.w.text("自查报告.附件标识"), "附件标识", keep_next=True, page_break=True)
        bw.blank(keep_next=True)
        bw.para(self.w.text("自查报告.附件名"), "公文标题", keep_next=True)
        bw.blank(keep_next=True)
        bw.table(self.w.items("自查报告.附件表头"), self.attachment_rows(), [14, 32, 50, 36, 24],
                 merge_columns=[1], center_columns=[0, 4])

    def blocks(self) -> dict:
        return {"标题": self.block_title, "开头": self.block_opening, "工作成效": self.block_results,
                "存在问题": self.block_problems, "下一步": self.block_directions, "负面清单": self.block_negative,
                "落款": self.block_signature, "附件": self.block_attachment}


def write_self_report(result: Result, path: Path, run: ReportRun | None = None,
                      today: dt.date | None = None) -> ReportRun:
    """Write the 自查报告; returns the run's markers and warnings."""
    report = SelfReport(result, run, today)
    render_template(result.config.template_file(REPORT_TEMPLATE), report.blocks(), Path(path),
                    title=report.title(), author=result.config.unit)
    return report.run
