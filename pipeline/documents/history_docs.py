"""History in the documents: the 历年对比 sheet of the 测评得分表, the year-over-year sentence pieces of the
自查报告 and the 届期 table of the internal document (facts from pipeline.store.history, words from config)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openpyxl.chart import LineChart, Reference
from openpyxl.utils import get_column_letter

from pipeline.catalog import format_percent
from pipeline.store.history import Change, HistoryFacts
from pipeline.documents.words import Wording, metric_label, percent

if TYPE_CHECKING:
    from pipeline.result import Result

SHEET = "历年对比"
_CHANGE_FACTS = ("百分点", "上年", "本年", "上年年度")
#: wording keys and the facts offered to them (checked by `python -m pipeline check`)
DECLARED = {**{f"历年对比.{k}": _CHANGE_FACTS for k in ("提高", "降低", "持平")},
            "历年对比.内部标题": (), "历年对比.内部说明": ("起始年", "截止年"), "历年对比.表头指标": (),
            "历年对比.表头平均": (), "历年对比.达标条数": (), "历年对比.要求有变化": ("指标",),
            "历年对比.连续未达标": ("标准",), "历年对比.连续未达标_无": (),
            "历年对比.标准条目": ("编码", "简称", "年份")}
MAX_YEARS = 10


def _facts(result: "Result") -> HistoryFacts | None:
    facts = getattr(result, "history", None)
    return facts if isinstance(facts, HistoryFacts) else None


def add_history_sheet(book: Any, result: "Result", title: str = "") -> None:
    """The 历年对比 sheet of a Book (a table of the recorded years and a line chart per metric), when the
    history holds an earlier year measured with the same catalog; nothing otherwise."""
    from pipeline.documents.workbook import Print
    facts = _facts(result)
    if facts is None or facts.problem:
        return
    years = [r for r in facts.comparable if r.year <= result.year][-MAX_YEARS:]
    if len(years) < 2:
        return
    cfg = result.config
    keys = [k for k in cfg.metrics if any(k in r.metrics for r in years)]
    widths = [7, 8] + [10, 7] * len(keys)
    ws = book.sheet(SHEET, widths, Print(f"{title} · 历年对比" if title else SHEET, landscape=True), freeze="B3")
    ws.heading(f"{cfg.unit}历年测评指标对比（{years[0].year}—{years[-1].year}年，同一测评细则）")
    header = ["年度", "达标条数"]
    for k in keys:
        header += [metric_label(k, cfg), "要求"]
    rows = []
    for r in years:
        row: list[Any] = [r.year, r.met]
        for k in keys:
            m = r.metrics.get(k) or {}
            row += [m.get("value"), m.get("threshold")]
        rows.append(row)
    formats = {3 + 2 * i: "0.0%" for i in range(len(keys))} | {4 + 2 * i: "0%" for i in range(len(keys))}
    first, last = ws.table(header, rows, formats=formats, filter=False)
    ws.blank()
    cats = Reference(ws.ws, min_col=1, min_row=first + 1, max_row=last)
    at = ws.row + 1
    for i, k in enumerate(keys):
        col = 3 + 2 * i
        chart = LineChart()
        chart.title = metric_label(k, cfg)
        chart.y_axis.number_format = "0%"
        chart.y_axis.title = "比例"
        chart.x_axis.title = "年度"
        chart.y_axis.delete = chart.x_axis.delete = False
        chart.add_data(Reference(ws.ws, min_col=col, max_col=col + 1, min_row=first, max_row=last),
                       titles_from_data=True)
        chart.set_categories(cats)
        from openpyxl.chart.marker import Marker
        for series in chart.series:
            series.smooth = False              # straight segments between the recorded years
        chart.series[0].marker = Marker(symbol="circle", size=6)
        chart.series[1].graphicalProperties.line.dashStyle = "dash"   # the requirement, dashed
        chart.legend.position = "b"
        chart.height, chart.width = 6.5, 11
        ws.add_chart(chart, f"{get_column_letter(1 + (i % 2) * 7)}{at + (i // 2) * 14}")
    for _ in range(14 * ((len(keys) + 1) // 2)):  # the charts' rows: inside the print area
        ws.blank()


def change_phrase(change: Change | None, config_dir: Any = None) -> str:
    """较上年提高3.2个百分点 / 较上年降低… / 与上年持平 (from config/wording.yaml), or "" without a change."""
    if change is None:
        return ""
    w = Wording("历年对比", config_dir)
    key = {"up": "提高", "down": "降低", "same": "持平"}[change.direction]
    points = f"{abs(change.points):.1f}".rstrip("0").rstrip(".")
    return w.say(key, 百分点=points, 上年=percent(change.previous), 本年=percent(change.current),
                 上年年度=change.previous_year)


def metric_changes(result: "Result") -> dict[str, str]:
    """Metric key -> the year-over-year phrase, for the metrics the documents may compare."""
    facts = _facts(result)
    if facts is None or facts.problem:
        return {}
    cdir = result.config.dir
    return {k: change_phrase(c, cdir) for k, c in facts.changes().items()}


def term_table(result: "Result", length: int = 3) -> dict | None:
    """The 届期 table for the internal document: this year and the two before it (same catalog), each metric
    per year and its average, standards met per year, standards not met two years running; None without an
    earlier year."""
    facts = _facts(result)
    if facts is None or facts.problem:
        return None
    term = facts.term(length)
    if len(term["years"]) < 2:
        return None
    cfg = result.config
    order = {k: i for i, k in enumerate(cfg.metrics)}
    term["metrics"].sort(key=lambda row: order.get(row["key"], len(order)))
    for row in term["metrics"]:
        row["label"] = cfg.metrics[row["key"]].label if row["key"] in cfg.metrics else row["key"]
        row["shown"] = {y: "—" if v is None else format_percent(v) for y, v in row["values"].items()}
        row["average_shown"] = "—" if row["average"] is None else format_percent(row["average"])
    for w in term["weak_two_years"]:
        std = cfg.standards.get(w["code"])
        w["short"] = std.short if std else w["title"][:14]
    return term


def internal_block(result: "Result"):
    """The 届期 block of the internal 工作情况提示 (template placeholder {历年对比}): a heading, the table of
    this year and the two before it with averages, and the standards not met two years running. Writes
    nothing without an earlier year."""
    term = term_table(result)

    def block(bw) -> None:
        if term is None:
            return
        w = Wording("历年对比", result.config.dir)
        years = term["years"]
        bw.para(w.say("内部标题"), "一级标题", keep_next=True)
        bw.para(w.say("内部说明", 起始年=years[0], 截止年=years[-1]), keep_next=True)
        rows = []
        for row in term["metrics"]:
            label = metric_label(row["key"], result.config)
            if not row["same_threshold"]:
                label = w.say("要求有变化", 指标=label)
            rows.append([label, *(row["shown"].get(y, "—") for y in years), row["average_shown"]])
        avg = term["met_average"]
        rows.append([w.say("达标条数"), *(f"{term['met'][y]}/{term['n_standards'][y]}" for y in years),
                     f"{avg:.1f}".rstrip("0").rstrip(".") if avg is not None else "—"])
        rest = (150 - 46) / (len(years) + 1)
        bw.table([w.say("表头指标"), *(f"{y}年" for y in years), w.say("表头平均")], rows,
                 [46, *([rest] * (len(years) + 1))], center_columns=range(1, len(years) + 2))
        weak = term["weak_two_years"]
        if weak:
            items = [w.say("标准条目", 编码=x["code"], 简称=x["short"], 年份="、".join(str(y) for y in x["years"]))
                     for x in weak]
            bw.para(w.say("连续未达标", 标准="；".join(items)))
        else:
            bw.para(w.say("连续未达标_无"))

    return block
