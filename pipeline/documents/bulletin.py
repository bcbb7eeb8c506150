"""创建工作进度通报 (`bulletin`, issue 16): an internal one-to-two-page 简报 for the leadership group meeting.

As of a date (default today): 报送情况 (reported, not yet reported, late: 填报日期 after the configured deadline,
unreadable files, empty templates), 进展 (standards with evidence dated up to that date against all standards,
metrics against thresholds, per department what it has done and which of its standards still have no evidence),
下一步 (who must do what by when). The 期号 increments with every bulletin written into an output folder; it is
kept there in `.bulletin.json` (per year). Sentences: `config/wording.yaml`, section 进度通报; template
`config/templates/进度通报.docx`.

Two pages at most, whatever the unit's size: one sentence per group of departments owing the same standards
(by short name), the departments owing nothing in one sentence. The printed length is estimated (28 characters a
line, 22 lines a page, `text_lines`) and the text made terser step by step (`brevities`: owed standards per line
"…等N条", then fewer department lines with the rest counted in one "另有…" sentence, then "…等N个部门" lists)
until it fits. Nothing is dropped silently: a summarised bulletin says so and names the 明细 workbook written
beside it, which, like the console, holds every department's full list.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.catalog import format_percent
from pipeline import schedule
from pipeline.documents.halfyear import dated_until
from pipeline.documents.self_report import chinese_date
from pipeline.intake.lateness import late_departments
from pipeline.score import score_standards
from pipeline.vocabulary import EMPTY, NOT_SENT, STATE_LABELS, SUBMITTED, UNREADABLE

if TYPE_CHECKING:
    from pipeline.result import Result

TEMPLATE = "进度通报.docx"
NUMBERS = ".bulletin.json"


@dataclass
class Progress:
    """The facts of one bulletin."""

    date: dt.date
    deadline: dt.date | None
    reported: list[str]
    missing: list[str]
    late: list[str]
    unreadable: list[str]
    empty: list[str]
    standards: list
    with_evidence: list[str]
    metrics: list
    departments: list[tuple[str, int, int, list]]  # name, activities, documents, its own standards still owed
    shared: list  # standards every department answers for that have no evidence yet (listed once)
    next_stage: str = ""
    lines: list[str] = field(default_factory=list)  # the console summary
    brevity: object = None  # set by write_bulletin: how much the document summarised (Brevity)
    summarised: bool = False
    detail: str = ""        # the unabridged 明细 workbook's file name


def _dept_of_name(name: str, config) -> str | None:
    hits = []
    for d in config.departments:
        for alias in (d.name, *d.aliases):
            if alias and alias in name:
                hits.append((len(alias), d.name))
    return max(hits)[1] if hits else None


def progress(result: "Result", as_of: dt.date) -> Progress:
    cfg = result.config
    merged = result.merged
    used_by_dept: dict[str, int] = {}
    for kind in ("roster", "activities", "documents", "highlights", "honours"):
        frame = merged.used(kind)
        if not frame.empty:
            for dept, n in frame["department"].value_counts().items():
                used_by_dept[dept] = used_by_dept.get(dept, 0) + int(n)
    winners = merged.winners
    readable = {r.department for r in merged.records if r.readable and r.department}
    empty = [d for d in cfg.department_names if d in readable and not used_by_dept.get(d)]
    reported = [d for d in cfg.department_names if d in winners and d not in empty]
    unreadable_depts = {_dept_of_name(r.name, cfg) for r in merged.records if not r.readable}
    unreadable = [d for d in cfg.department_names if d in unreadable_depts and d not in winners and d not in empty]
    missing = [d for d in cfg.department_names if d not in winners and d not in unreadable and d not in empty]
    deadline = schedule.deadline(cfg, result.year)   # unit.yaml's month and day, in the bulletin's year
    late = [d for d in late_departments(winners, deadline, cfg.department_names) if d in reported]
    start = dt.date(result.year, 1, 1)
    acts = dated_until(merged.used("activities"), start, as_of)
    docs_all = merged.used("documents")
    docs = docs_all[[not isinstance(x, dt.date) or x <= as_of for x in docs_all["date"]]] if len(docs_all) \
        else docs_all
    standards = score_standards(cfg, result.metrics, acts, docs, set(winners))
    with_evidence = [s.standard.code for s in standards if s.evidence > 0 or s.standard.min_evidence <= 0]
    a_counts = acts["department"].value_counts() if len(acts) else {}
    d_counts = docs["department"].value_counts() if len(docs) else {}
    everyone = set(cfg.department_names)
    owing = [s for s in standards if s.standard.min_evidence > 0]   # metric-only standards owe no evidence
    shared = [s.standard for s in owing if s.evidence == 0 and set(s.standard.responsible) >= everyone]
    owed = {d: [s.standard for s in owing if d in s.standard.responsible and s.evidence == 0
                and not set(s.standard.responsible) >= everyone] for d in cfg.department_names}
    departments = [(d, int(a_counts.get(d, 0)), int(d_counts.get(d, 0)), owed[d]) for d in cfg.department_names]
    later = [s for s in schedule.stages(cfg, result.year) if (schedule.month_of(s["period"]) or 0) >= as_of.month
             and as_of.year == result.year]
    p = Progress(as_of, deadline, reported, missing, late, unreadable, empty, standards, with_evidence,
                 list(result.metrics.values()), departments, shared,
                 next_stage=(f"{schedule.month_of(later[0]['period'])}月底前" if later else "年底前"))
    p.lines = [f"截至{chinese_date(as_of)}：已报送 {len(reported)}/{len(cfg.department_names)} 个部门"
               + (f"，未报送：{'、'.join(missing)}" if missing else "")
               + (f"，逾期：{'、'.join(late)}" if late else "")
               + (f"，{STATE_LABELS[UNREADABLE]}：{'、'.join(unreadable)}" if unreadable else "")
               + (f"，空模板：{'、'.join(empty)}" if empty else ""),
               f"有佐证的测评标准 {len(with_evidence)}/{len(standards)} 条"]
    return p


def next_number(out: Path, year: int) -> int:
    data = _numbers(out)
    return int(data.get(str(year), 0)) + 1


def _numbers(out: Path) -> dict:
    try:
        return json.loads((out / NUMBERS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def save_number(out: Path, year: int, number: int) -> None:
    from pipeline.atomic import atomic_write_json
    data = _numbers(out)
    data[str(year)] = number
    atomic_write_json(out / NUMBERS, data)


def bulletin_name(year: int, number: int) -> str:
    return f"{year}年创建文明单位工作进度通报（第{number}期）.docx"


def issuer(config) -> str:
    group = config.settings.get("leadership_group") or {}
    name = str(group.get("name") or "")
    return f"{name}办公室" if name else str(config.settings.get("coordinator") or config.unit)


# ---------------------------------------------------------------- fitting two pages

PAGE_LINES = 22        # GB/T 9704: 22 lines of 28 characters in the type area
LINE_CHARS = 27        # 28 a line, less what line-breaking rules leave at line ends (no break before 、）…)
PAGES = 2
FIXED_LINES = 4 + 3 + 3 + 2  # 报头 (26 pt 报头, 期号, 发文 line and rule), the three headings, the 版记 with the
                             # blank line above it, a margin for paragraphs kept with the next
SAMPLE_LINES = 3             # the 示例数据 banner `mark_sample` puts on the first page


def text_lines(text: str, indent: float = 2, chars: int = LINE_CHARS) -> int:
    """Printed lines of a body paragraph (3号, first line indented two characters, 28 characters a line, counted
    as 27 for the room line-breaking rules leave at line ends)."""
    from pipeline.documents.docx_layout import text_width
    return max(1, math.ceil((text_width(text) + indent) / chars))


@dataclass(frozen=True)
class Brevity:
    """How much the bulletin summarises to stay within two pages (None: everything named)."""

    owed: int | None = None        # owed standards named per department line ("…等N条")
    groups: int | None = None      # department lines (the rest in one sentence "另有…")
    names: int | None = None       # names in any other list ("…等N个部门")
    metrics: bool = False          # passed metrics by count only


def brevities(groups: int) -> list[Brevity]:
    """From the full text to the tersest, in the order they are tried."""
    out = [Brevity(), Brevity(owed=3)]
    out += [Brevity(owed=3, groups=k) for k in range(groups - 1, 2, -1)]
    out += [Brevity(owed=3, groups=3, names=6, metrics=True), Brevity(owed=2, groups=2, names=3, metrics=True),
            Brevity(owed=2, groups=1, names=2, metrics=True), Brevity(owed=2, groups=0, names=1, metrics=True)]
    return out


def owing_groups(p: Progress) -> tuple[list[tuple[tuple, list]], list]:
    """Reported departments that owe the same standards, one group each (most owed first, then config
    order), and the reported departments that owe nothing."""
    groups: dict[tuple, list] = {}
    clear = []
    for dept in p.departments:
        if dept[0] not in p.reported:
            continue
        if dept[3]:
            groups.setdefault(tuple(s.code for s in dept[3]), []).append(dept)
        else:
            clear.append(dept)
    ordered = sorted(groups.items(), key=lambda kv: -len(kv[0]))  # stable: config order among equals
    return ordered, clear


class Composer:
    """The bulletin's paragraphs for one level of brevity (plain text; the writer lays them out)."""

    def __init__(self, p: Progress, w, cfg, detail_name: str):
        self.p, self.w, self.cfg, self.detail_name = p, w, cfg, detail_name
        self.deadline = chinese_date(p.deadline) if p.deadline else \
            w.fill("通用.待核实", {"事项": "报送截止日期"}, required=True)

    def few(self, items: list[str], cap: int | None, unit: str) -> str:
        """Items joined with 、; beyond `cap` the first ones and the count ("A、B等7个部门")."""
        items = list(items)
        if cap is None or len(items) <= cap:
            return "、".join(items)
        return self.w.fill("进度通报.列举", {"前几项": items[:cap], "个数": str(len(items)), "量词": unit},
                           required=True)

    def done(self, a: int, d: int) -> str:
        return self.w.fill("进度通报.已报条数", {"活动": a, "文件": d}, required=True)

    def compose(self, b: Brevity) -> tuple[dict[str, list[str]], bool]:
        """{block: paragraphs}, and whether anything was summarised."""
        p, w = self.p, self.w
        summarised = False

        def few(items, cap, unit):
            nonlocal summarised
            if cap is not None and len(items) > cap:
                summarised = True
            return self.few(items, cap, unit)

        total = len(self.cfg.department_names)
        report = w.fill("进度通报.报送概况", {"日期": chinese_date(p.date), "应报": total, "已报": len(p.reported),
                                          "未报": len(p.missing), "未报部门": few(p.missing, b.names, "个部门"),
                                          "全部": len(p.reported) == total,
                                          "已报部门": self.few(p.reported, b.names, "个部门")},  # older wordings
                        required=True)
        if p.late:
            report += w.fill("进度通报.逾期", {"截止": self.deadline, "部门": few(p.late, b.names, "个部门"),
                                            "个数": len(p.late)}, required=True)
        if p.unreadable:
            report += w.fill("进度通报.无法读取", {"部门": few(p.unreadable, b.names, "个部门"),
                                              "个数": len(p.unreadable)}, required=True)
        if p.empty:
            report += w.fill("进度通报.空模板", {"部门": few(p.empty, b.names, "个部门"), "个数": len(p.empty)},
                             required=True)

        state = w.fill("进度通报.标准进展", {"日期": chinese_date(p.date), "总数": str(len(p.standards)),
                                         "有": str(len(p.with_evidence)),
                                         "无": str(len(p.standards) - len(p.with_evidence))}, required=True)
        passed = [m for m in p.metrics if m.value is not None and m.passed]
        failed = [m for m in p.metrics if m.value is not None and not m.passed]
        nodata = [m for m in p.metrics if m.value is None]
        if b.metrics and b.names is not None and len(failed) > b.names:  # tersest: the failed ones counted
            summarised = True
            parts = [w.fill("进度通报.指标未达到数", {"指标": [m.metric.short_label for m in failed[:b.names]],
                                                    "个数": str(len(failed))}, required=True)]
        else:
            parts = [w.fill("进度通报.指标未达到", {"指标": m.metric.short_label, "实际": format_percent(m.value),
                                                   "要求": m.metric.requirement}, required=True) for m in failed]
        if passed:  # terse: the failed ones named, "其余N项达到要求" (their figures in the 明细 workbook)
            shown = [] if b.metrics and parts else [f"{m.metric.short_label}{format_percent(m.value)}" for m in passed]
            summarised = summarised or not shown
            text = w.fill("进度通报.指标达到", {"指标": shown, "个数": str(len(passed))}, required=True)
            parts = parts + [text] if not shown else [text] + parts
        if nodata:
            parts.append(w.fill("进度通报.指标无数据", {"指标": few([m.metric.short_label for m in nodata], b.names, "项")},
                                required=True))
        if parts:
            state += w.fill("进度通报.指标", {"个数": str(len(p.metrics)), "情况": "；".join(parts)}, required=True)
        progress = [state]
        if p.shared:
            progress.append(w.fill("进度通报.共同欠", {"欠": few([s.short for s in p.shared], b.owed, "条")},
                                   required=True))
        groups, clear = owing_groups(p)
        shown = groups if b.groups is None else groups[:b.groups]
        for codes, depts in shown:
            if b.names is not None and len(depts) > b.names:
                who = few([d[0] for d in depts], b.names, "个部门")
            else:
                who = "、".join(f"{d}（{self.done(a, n)}）" for d, a, n, _o in depts)
            owed = [s.short for s in depts[0][3]]
            progress.append(w.fill("进度通报.部门欠", {"部门": who, "欠": few(owed, b.owed, "条")}, required=True))
        rest = groups[len(shown):]
        if rest:
            summarised = True
            names = [d[0] for _c, depts in rest for d in depts]
            owed = {s.code for _c, depts in rest for s in depts[0][3]}
            progress.append(w.fill("进度通报.其余部门欠", {"部门": few(names, b.names or 3, "个部门"),
                                                     "条数": str(len(owed)), "另有": bool(shown)}, required=True))
        if clear:
            if b.names is not None and len(clear) > b.names:
                who = few([d[0] for d in clear], b.names, "个部门")
            else:
                who = "、".join(f"{d}（{self.done(a, n)}）" for d, a, n, _o in clear)
            progress.append(w.fill("进度通报.部门无欠", {"部门": who}, required=True))

        steps = []
        if p.missing:
            overdue = bool(p.deadline and p.date > p.deadline)
            steps.append(w.fill("进度通报.催报", {"部门": few(p.missing, b.names, "个部门"), "截止": self.deadline,
                                              "已过截止": overdue}, required=True))
        if p.unreadable:
            steps.append(w.fill("进度通报.重报", {"部门": few(p.unreadable, b.names, "个部门")}, required=True))
        if p.empty:
            steps.append(w.fill("进度通报.补填", {"部门": few(p.empty, b.names, "个部门")}, required=True))
        if groups or p.shared:
            steps.append(w.fill("进度通报.补充", {"时间": p.next_stage, "牵头": bool(groups),
                                              "共同": bool(p.shared)}, required=True))
        by_depts: dict[str, list[str]] = {}  # failed metrics of the same departments: one item
        everyone = set(self.cfg.department_names)
        for m in failed:
            std = next((s.standard for s in p.standards if m.metric.key in s.standard.metrics), None)
            if std is None:
                who = ""
            elif std.responsible_text and set(std.responsible) >= everyone:
                who = std.responsible_text  # as the catalog words it: 各部门
            else:
                who = few(list(std.responsible), b.names, "个部门")
            by_depts.setdefault(who, []).append(m.metric.short_label)
        if len(by_depts) > 1 and b.names is not None and b.names <= 2:  # tersest: one item for all metrics
            summarised = True
            labels = [m.metric.short_label for m in failed]
            steps.append(w.fill("进度通报.提高指标", {"部门": "", "指标": few(labels, b.names, "项指标"),
                                                  "时间": p.next_stage}, required=True))
        else:
            for who, labels in by_depts.items():
                steps.append(w.fill("进度通报.提高指标", {"部门": who, "指标": labels, "时间": p.next_stage},
                                    required=True))
        steps = [f"{k}.{t}" for k, t in enumerate(steps, 1)] or [w.text("进度通报.无事项")]
        if summarised:
            steps.append(w.fill("进度通报.明细", {"明细表": self.detail_name}, required=True))
        return {"报送": [report], "进展": progress, "下一步": steps}, summarised

    def fit(self, reserve: int = 0) -> tuple[dict[str, list[str]], Brevity, bool]:
        """The fullest text whose estimated length fits two pages (the tersest if none does)."""
        budget = PAGES * PAGE_LINES - FIXED_LINES - reserve
        groups, _clear = owing_groups(self.p)
        for b in brevities(len(groups)):
            blocks, summarised = self.compose(b)
            if sum(text_lines(t) for paras in blocks.values() for t in paras) <= budget:
                return blocks, b, summarised
        return blocks, b, summarised


def detail_name(year: int, number: int) -> str:
    return f"{year}年创建文明单位工作进度通报明细（第{number}期）.xlsx"


def write_detail(p: Progress, cfg, path: Path) -> None:
    """Every fact of the bulletin, unabridged: one row per department, one row per standard."""
    from pipeline.documents.workbook import Book, Print
    book = Book()
    title = path.stem
    state = {}
    for names, text in ((p.reported, STATE_LABELS[SUBMITTED]), (p.missing, STATE_LABELS[NOT_SENT]),
                        (p.unreadable, STATE_LABELS[UNREADABLE]), (p.empty, STATE_LABELS[EMPTY])):
        for d in names:
            state[d] = text
    for d in p.late:
        state[d] = "已报送（逾期）"
    rows = [(d, state.get(d, ""), a, n, len(owed), "、".join(f"{s.code} {s.short}" for s in owed))
            for d, a, n, owed in p.departments]
    ws = book.sheet("各部门", widths=(14, 14, 8, 8, 10, 60), print=Print(title=title))
    ws.heading(f"{title}：各部门（截至{chinese_date(p.date)}）")
    if p.shared:
        ws.note("各部门共同负责、尚无佐证的测评标准：" + "、".join(f"{s.code} {s.short}" for s in p.shared))
    ws.table(("部门", "报送情况", "活动", "文件", "牵头标准中尚无佐证的条数", "牵头的测评标准中尚无佐证的"), rows)
    std_rows = [(s.standard.code, s.standard.short, "、".join(s.standard.responsible), s.activities, s.documents,
                 "有" if s.evidence > 0 else "无") for s in p.standards]
    ws = book.sheet("测评标准", widths=(8, 26, 40, 8, 8, 8), print=Print(title=title))
    ws.heading(f"{title}：测评标准（截至{chinese_date(p.date)}）")
    ws.table(("编码", "测评标准", "负责部门", "活动", "文件", "佐证"), std_rows, text_cols=(1,))
    owner = {k: s.standard for s in p.standards for k in s.standard.metrics}
    metric_rows = [(m.metric.label, m.numerator, m.denominator,
                    format_percent(m.value) if m.value is not None else "暂无数据", m.metric.requirement,
                    "" if m.passed is None else ("达到" if m.passed else "未达到"),
                    f"{owner[m.metric.key].code} {owner[m.metric.key].short}" if m.metric.key in owner else "",
                    "、".join(owner[m.metric.key].responsible) if m.metric.key in owner else "")
                   for m in p.metrics]
    ws = book.sheet("指标", widths=(36, 8, 8, 10, 12, 8, 26, 40), print=Print(title=title))
    ws.heading(f"{title}：指标（截至{chinese_date(p.date)}）")
    ws.table(("指标", "分子", "分母", "实际", "要求", "是否达到", "测评标准", "负责部门"), metric_rows)
    book.save(path)


def write_bulletin(result: "Result", out: Path, as_of: dt.date, number: int,
                   reserve: int = 0) -> tuple[Path, Progress]:
    """The docx (two pages at most: summarised where needed) and its unabridged 明细 workbook.
    `reserve`: lines the caller adds to the first page afterwards (the 示例数据 banner)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
    from docx.shared import Mm, Pt, RGBColor

    from pipeline.documents.compose import render_template
    from pipeline.documents.docx_layout import TYPE_WIDTH_MM
    from pipeline.documents.wording import load_wording

    cfg, w = result.config, load_wording(result.config.dir)
    p = progress(result, as_of)
    date_text = chinese_date(as_of)
    detail = detail_name(result.year, number)
    blocks, brevity, summarised = Composer(p, w, cfg, Path(detail).stem).fit(reserve)

    def rule(paragraph, side: str, size: int, color: str) -> None:
        ppr = paragraph._p.get_or_add_pPr()
        border = ppr.find(qn("w:pBdr"))
        if border is None:
            border = OxmlElement("w:pBdr")
            ppr.append(border)
        line = OxmlElement(f"w:{side}")
        for k, v in (("val", "single"), ("sz", str(size)), ("space", "1"), ("color", color)):
            line.set(qn(f"w:{k}"), v)
        border.append(line)

    def header(bw):
        t = bw.para(w.text("进度通报.报头"), "公文标题", align=WD_ALIGN_PARAGRAPH.CENTER)
        for r in t.runs:
            r.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
            r.font.size = Pt(26)
        bw.para(w.fill("进度通报.期号", {"年度": str(result.year), "期号": str(number)}, required=True),
                align=WD_ALIGN_PARAGRAPH.CENTER, first_indent_chars=0)
        # 简报 style: the issuer at the left, the date at the right, a red line under both
        line = bw.para(w.fill("进度通报.发文单位", {"发文单位": issuer(cfg)}, required=True) + "\t" + date_text,
                       align=WD_ALIGN_PARAGRAPH.LEFT, first_indent_chars=0)
        line.paragraph_format.tab_stops.add_tab_stop(Mm(TYPE_WIDTH_MM - 1), WD_TAB_ALIGNMENT.RIGHT)
        for r in line.runs:
            r.font.size = Pt(14)
        rule(line, "bottom", 18, "C00000")

    def paras(name):
        def block(bw):
            for text in blocks[name]:
                bw.para(text)
        return block

    def signature(bw):
        # 版记: 4号, between a line above and a line below, kept together at the end
        lines = [w.fill("进度通报.版记报", {"发文单位": issuer(cfg)}, required=True),
                 w.fill("进度通报.版记送", {"发文单位": issuer(cfg)}, required=True)]
        lines = [x for x in lines if x]
        bw.keep_previous()
        bw.para("", keep_next=True)
        for k, text in enumerate(lines):
            para = bw.para(text, first_indent_chars=0, left_indent_chars=0.5, keep_next=k < len(lines) - 1)
            for r in para.runs:
                r.font.size = Pt(14)
            if k == 0:
                rule(para, "top", 8, "000000")
            if k == len(lines) - 1:
                rule(para, "bottom", 8, "000000")

    title = w.fill("进度通报.标题", {"年度": str(result.year), "期号": str(number)}, required=True)
    path = out / bulletin_name(result.year, number)
    render_template(cfg.template_file(TEMPLATE), {"报头": header, "报送": paras("报送"), "进展": paras("进展"),
                                                  "下一步": paras("下一步"), "落款": signature}, path,
                    title=title, author=cfg.unit)
    write_detail(p, cfg, out / detail)
    p.brevity, p.summarised, p.detail = brevity, summarised, detail
    if not summarised:
        p.lines.append(f"各部门、测评标准、指标明细见 {detail}")
    if summarised:  # what the document names in short, in full here
        groups, clear = owing_groups(p)
        p.lines.append(f"通报限于两页，部分名单从简；完整内容见 {detail}：")
        for codes, depts in groups:
            p.lines.append(f"  {'、'.join(d[0] for d in depts)} 尚无佐证：{'、'.join(codes)}")
        if clear:
            p.lines.append(f"  牵头标准均已有佐证：{'、'.join(d[0] for d in clear)}")
    return path, p
