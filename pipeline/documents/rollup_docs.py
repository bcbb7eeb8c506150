"""The roll-up's documents: the 汇总表 (xlsx, streamed) and the 汇总报告 (docx, GB/T 9704 styles of the bundled
自查报告 template; every sentence from config/wording.yaml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl.utils import get_column_letter

from pipeline.catalog import METRIC_KEYS
from pipeline.store.rollup import FAILED, MET, MISSING, PROBLEM_ZH, STATUSES, WEAK, Rollup
from pipeline.documents.words import Wording, join, metric_label, percent

STATUS_FILLS = {MET: "C6EFCE", FAILED: "FFC7CE", WEAK: "FFEB9C", MISSING: "D9D9D9"}
BELOW = "FFC7CE"
SMALL = 500   # up to this many units the tables get borders and row heights; above, printed gridlines


def _rows(ws, headers, rows, fills=None, formats=None, small=True) -> None:
    """A header row, then rows with per-cell fills (one list of colours per row)."""
    ws.table(headers, [], styled=small, filter=False)
    for i, values in enumerate(rows):
        ws.cells(values, styled=small, fills=fills[i] if fills else (), formats=formats)


def _label(key: str, facts: Rollup) -> str:
    """A metric's short name: the roll-up catalog's, else the label a unit's own scores carry (its catalog's
    own metric), else the key."""
    label = metric_label(key, facts.config)
    if label != key:
        return label
    return next((str(u.metrics[key]["label"]) for u in facts.units if (u.metrics.get(key) or {}).get("label")), key)


def write_rollup_workbook(facts: Rollup, path: Path) -> None:
    """汇总表: one row per unit, a sheet per 测评指标, the standards, the units missing, the problems."""
    from pipeline.documents.workbook import Book, Print
    cfg = facts.config
    keys = [k for k in METRIC_KEYS if any(k in u.metrics for u in facts.units)]
    keys += [k for k in dict.fromkeys(k for u in facts.units for k in u.metrics) if k not in keys]  # a catalog's own
    keys = keys or list(cfg.metrics)
    labels = [_label(k, facts) for k in keys]
    small = len(facts.units) <= SMALL
    year = f"{facts.year}年" if facts.year else ""
    title = f"{facts.organisation}{year}文明单位创建情况汇总表"
    book = Book()

    headers = ["排名", "单位", *STATUSES, "比较条数", *labels, "说明"]
    ws = book.sheet("汇总", [6, 26, 6, 7, 8, 7, 8, *([10] * len(keys)), 28], Print(title, landscape=True),
                    freeze="C3")
    ws.heading(f"{title}（按达标条数排名；红色为未达到要求的指标）")
    rows, fills = [], []
    for u in facts.units:
        counts = u.counts
        values = [u.rank, u.unit, *(counts[s] for s in STATUSES), len(u.statuses)]
        colour: list = [None] * len(values)
        for k in keys:
            m = u.metrics.get(k) or {}
            values.append(m.get("value"))
            colour.append(BELOW if m.get("passed") is False else None)
        values.append(f"测评细则为{u.catalog or '未注明'}，只比较编码相同的标准" if u.other_catalog else None)
        rows.append(values)
        fills.append(colour + [None])
    _rows(ws, headers, rows, fills, {8 + i: "0.0%" for i in range(len(keys))}, small)

    by_code = {s["code"]: s for s in facts.standard_counts()}
    for ind in cfg.indicators:
        stds = [s for it in ind.items for s in it.standards]
        ws = book.sheet(ind.name, [6, 26, *([11] * len(stds))], Print(f"{title} · {ind.name}", landscape=True),
                        freeze="C3")
        ws.heading(f"{ind.name}：各单位测评标准状态")
        rows = [[u.rank, u.unit, *(u.statuses.get(s.code, "不适用") for s in stds)] for u in facts.units]
        rows.append([None, "达标单位数", *(by_code[s.code]["counts"][MET] for s in stds)])
        first, last = ws.table(["排名", "单位", *(f"{s.code} {s.short}" for s in stds)], rows, styled=small,
                               filter=False)
        if facts.units:  # statuses coloured by conditional formats: one rule per status, not a style per cell
            ref = f"C{first + 1}:{get_column_letter(2 + len(stds))}{last - 1}"
            for status, colour in STATUS_FILLS.items():
                ws.colour(ref, f'C{first + 1}="{status}"', colour)

    ws = book.sheet("测评标准", [7, 9, 18, 8, 6, 6, 7, 6, 50], Print(f"{title} · 测评标准", landscape=True),
                    freeze="B3")
    ws.heading("各测评标准在各单位的达标情况")
    ws.table(["编码", "测评指标", "简称", "比较单位数", *STATUSES, "未达标单位（前30个）"],
             [[s["code"], s["indicator"], s["short"], s["compared"], *(s["counts"][st] for st in STATUSES),
               join(s["not_met"][:30]) + ("等" if len(s["not_met"]) > 30 else "") or None]
              for s in by_code.values()], text_cols=(1,), filter=False)

    if facts.expected_units:
        ws = book.sheet("未报送单位", [6, 40], Print(f"{title} · 未报送单位"), freeze="A3")
        ws.heading(f"应报送而未收到数据包的单位（{len(facts.missing_units)}个）")
        ws.table(["序号", "单位"], list(enumerate(facts.missing_units, 1)), filter=False)

    ws = book.sheet("问题", [5, 30, 20, 6, 12, 60, 9], Print(f"{title} · 数据包问题", landscape=True), freeze="A3")
    ws.heading("数据包问题（不影响其他单位的汇总）")
    _rows(ws, ["序号", "数据包", "单位", "年度", "问题", "说明", "是否计入汇总"],
          [[i, p.package, p.unit or None, p.year, PROBLEM_ZH.get(p.kind, p.kind), p.message,
            "未计入" if p.excluded else "已计入"] for i, p in enumerate(facts.problems, 1)],
          [[None] * 6 + [BELOW if p.excluded else None] for p in facts.problems])
    book.save(path)


# --- 汇总报告 ------------------------------------------------------------------------------------------------

REPORT_TEMPLATE = "汇总报告.docx"   # {标题} {正文} {落款}; page setup, styles and page numbers: GB/T 9704
_COMMON = ("测评细则", "标准数", "平均达标", "全部达标", "单位数")
#: wording keys of the 汇总报告 and the facts offered to them (checked by `python -m pipeline check`)
DECLARED = {f"汇总报告.{k}": v for k, v in {
    "标题": ("年度", "汇总单位"), "开头": ("年度", "汇总单位"), "总体_全部报送": _COMMON,
    "总体_有未报送": (*_COMMON, "应报单位数", "未报送单位", "未报送数"), "全部达标_有": ("全部达标数",),
    "全部达标_无": (), "指标_全部达到": ("指标", "要求"), "指标_部分未达到": ("指标", "未达到数", "要求"),
    "指标段": ("指标情况",), "前列": ("前列单位",), "前列_无": (), "薄弱": ("标准", "单位数", "占比"),
    "薄弱段": ("薄弱情况",), "薄弱_无": (), "跟进": ("单位", "原因"), "跟进_更多": ("单位数",), "跟进_无": (),
    "原因_指标": ("指标",), "原因_未填报": ("条数",), "原因_达标少": ("达标数",),
    "说明_问题": ("问题数", "问题类型"), "说明_问题_有未计入": ("问题数", "问题类型", "未汇总数"),
    "说明_细则不同": ("单位", "测评细则"), "说明_无问题": (),
    **{f"一级标题{n}": () for n in "一二三四五"}}.items()}
FOLLOW_UP_LISTED = 10
WEAK_LISTED = 5


def report_paragraphs(facts: Rollup, config_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """The 汇总报告 as (style, text) pairs, every sentence a wording entry filled with facts."""
    w = Wording("汇总报告", config_dir)
    cfg = facts.config
    n = len(facts.units)
    year = facts.year or cfg.year
    out: list[tuple[str, str]] = [("公文标题", w.say("标题", 年度=year, 汇总单位=facts.organisation))]
    out.append(("Normal", w.say("开头", 年度=year, 汇总单位=facts.organisation)))
    out.append(("一级标题", w.say("一级标题一")))
    full = [u for u in facts.units if u.statuses and u.met == len(u.statuses)]
    all_met = w.say("全部达标_有", 全部达标数=len(full)) if full else w.say("全部达标_无")
    avg = f"{sum(u.met for u in facts.units) / n:.1f}".rstrip("0").rstrip(".") if n else "0"
    common = {"测评细则": cfg.catalog_name or facts.catalog, "标准数": len(facts.codes), "平均达标": avg,
              "全部达标": all_met, "单位数": n}
    missing = facts.missing_units
    if missing:
        shown = join(missing[:5])
        out.append(("Normal", w.say("总体_有未报送", 应报单位数=len(facts.expected_units), 未报送单位=shown,
                                    未报送数=len(missing), **common)))
    else:
        out.append(("Normal", w.say("总体_全部报送", **common)))
    pieces = []
    for key, metric in cfg.metrics.items():
        measured = [u for u in facts.units if (u.metrics.get(key) or {}).get("passed") is not None]
        if not measured:
            continue
        below = [u for u in measured if u.metrics[key]["passed"] is False]
        label = _label(key, facts)
        if below:
            pieces.append(w.say("指标_部分未达到", 指标=label, 未达到数=len(below), 要求=metric.requirement))
        else:
            pieces.append(w.say("指标_全部达到", 指标=label, 要求=metric.requirement))
    if pieces:
        out.append(("Normal", w.say("指标段", 指标情况=join(pieces, "；"))))
    out.append(("一级标题", w.say("一级标题二")))
    leading = facts.leading()
    out.append(("Normal", w.say("前列", 前列单位=join([f"{u.unit}（{u.met}条）" for u in leading]))
                if leading else w.say("前列_无")))
    out.append(("一级标题", w.say("一级标题三")))
    weak = facts.weak_standards()[:WEAK_LISTED]
    if weak:
        parts = [w.say("薄弱", 标准=s["short"], 单位数=len(s["not_met"]), 占比=percent(len(s["not_met"]) / s["compared"]))
                 for s in weak]
        out.append(("Normal", w.say("薄弱段", 薄弱情况=join(parts, "，"))))
    else:
        out.append(("Normal", w.say("薄弱_无")))
    out.append(("一级标题", w.say("一级标题四")))
    follow = facts.follow_up()
    for u, why in follow[:FOLLOW_UP_LISTED]:
        reasons = []
        if why["below"]:
            reasons.append(w.say("原因_指标", 指标=join([_label(k, facts) for k in why["below"]])))
        if why["missing"]:
            reasons.append(w.say("原因_未填报", 条数=why["missing"]))
        if why["few"]:
            reasons.append(w.say("原因_达标少", 达标数=u.met))
        out.append(("Normal", w.say("跟进", 单位=u.unit, 原因=join(reasons, "，"))))
    if len(follow) > FOLLOW_UP_LISTED:
        out.append(("Normal", w.say("跟进_更多", 单位数=len(follow) - FOLLOW_UP_LISTED)))
    if not follow:
        out.append(("Normal", w.say("跟进_无")))
    out.append(("一级标题", w.say("一级标题五")))
    bad = [p for p in facts.problems if p.kind != "other-catalog"]
    if bad:
        excluded = len({p.package for p in bad if p.excluded})
        kinds = join(list(dict.fromkeys(PROBLEM_ZH.get(p.kind, p.kind) for p in bad)))
        n_bad = len({p.package for p in bad})
        out.append(("Normal", w.say("说明_问题_有未计入", 问题数=n_bad, 问题类型=kinds, 未汇总数=excluded) if excluded
                    else w.say("说明_问题", 问题数=n_bad, 问题类型=kinds)))
    other = [u.unit for u in facts.units if u.other_catalog]
    if other:
        out.append(("Normal", w.say("说明_细则不同", 单位=join(other[:5]) + ("等" if len(other) > 5 else ""),
                                    测评细则=cfg.catalog_name or facts.catalog)))
    if not bad and not other:
        out.append(("Normal", w.say("说明_无问题")))
    out.append(("落款", facts.organisation))
    out.append(("落款", _report_date(facts, w)))
    return out


def _report_date(facts: Rollup, w: Wording) -> str:
    """Today only when the roll-up is of the current year; a configured date; else a visible marker."""
    configured = facts.settings.get("report_date")
    if isinstance(configured, dt.date):
        day = configured
    elif facts.year == dt.date.today().year:
        day = dt.date.today()
    else:
        return Wording("通用", w.config_dir).say("待核实", 事项="落款日期")
    return f"{day.year}年{day.month}月{day.day}日"


def write_rollup_report(facts: Rollup, path: Path, config_dir: str | Path | None = None) -> None:
    """汇总报告: config/templates/汇总报告.docx ({标题} {正文} {落款}) filled through the documents' template
    renderer and GB/T 9704 layout helpers; the leading units' table follows their sentence."""
    from pipeline.documents.compose import render_template
    from pipeline.documents.docx_layout import signature_indents
    paragraphs = report_paragraphs(facts, config_dir)
    title, signature = paragraphs[0][1], paragraphs[-2:]
    body = paragraphs[1:-2]
    leaders = facts.units[:10] if facts.leading() else []
    w = Wording("汇总报告", config_dir)
    heading_two = w.say("一级标题二")

    def write_title(bw) -> None:
        bw.para(title, "公文标题", keep_next=True)

    def write_body(bw) -> None:
        after_heading = None
        for style, text in body:
            bw.para(text, style, keep_next=style == "一级标题")
            if after_heading is True:
                after_heading = False
                if leaders:
                    bw.table(["排名", "单位", "达标条数", "未达到要求的指标"],
                             [[str(u.rank), u.unit, f"{u.met}/{len(u.statuses)}",
                               join([_label(k, facts) for k in u.below]) or "无"] for u in leaders],
                             [16, 66, 24, 50], center_columns=(0, 2))
            if text == heading_two and after_heading is None:
                after_heading = True

    def write_signature(bw) -> None:
        bw.keep_previous()
        bw.blank(2, keep_next=True)
        name, date = signature[0][1], signature[1][1]
        name_indent, date_indent = signature_indents(name, date)
        bw.para(name, "落款", keep_next=True, right_indent_chars=name_indent)
        bw.para(date, "落款", right_indent_chars=date_indent)

    render_template(facts.config.template_file(REPORT_TEMPLATE),
                    {"标题": write_title, "正文": write_body, "落款": write_signature}, Path(path),
                    title=title, author=facts.organisation)


CHILD_MIN_UNITS = 200   # from this many units the 汇总表 is written by a forked child while the report is written


def start_rollup_workbook(facts: Rollup, path: Path):
    """The 汇总表 of many units in a forked child, while the parent writes the 汇总报告; None: write it inline."""
    import multiprocessing as mp
    from pipeline.processes import forks
    if len(facts.units) < CHILD_MIN_UNITS or not forks():   # without fork (Windows) it is written afterwards
        return None
    child = mp.get_context("fork").Process(target=write_rollup_workbook, args=(facts, path))
    child.start()
    return child
