"""History in the documents: the 历年对比 sheet of the 测评得分表, the year-over-year sentence pieces of the
自查报告 and the 届期 table of the internal document (facts from pipeline.store.history, words from config)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openpyxl.chart import LineChart, Reference
from openpyxl.utils import get_column_letter

from pipeline.store.history import Change, HistoryFacts
from pipeline.store.words import Wording, metric_label, percent

if TYPE_CHECKING:
    from pipeline.result import Result

SHEET = "历年对比"
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
    for row in term["metrics"]:
        row["label"] = cfg.metrics[row["key"]].label if row["key"] in cfg.metrics else row["key"]
        row["shown"] = {y: percent(v) for y, v in row["values"].items()}
        row["average_shown"] = percent(row["average"])
    for w in term["weak_two_years"]:
        std = cfg.standards.get(w["code"])
        w["short"] = std.short if std else w["title"][:14]
    return term
