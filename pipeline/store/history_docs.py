"""History in the documents: the 历年对比 sheet of the 测评得分表, the year-over-year sentence pieces of the
自查报告 and the 届期 table of the internal document (facts from pipeline.store.history, words from config)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipeline.store.history import Change, HistoryFacts
from pipeline.store.words import Wording, metric_label, percent

if TYPE_CHECKING:
    from pipeline.result import Result

SHEET = "历年对比"
MAX_YEARS = 10
_HEAD = Font(name="宋体", bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _facts(result: "Result") -> HistoryFacts | None:
    facts = getattr(result, "history", None)
    return facts if isinstance(facts, HistoryFacts) else None


def add_history_sheet(wb: Any, result: "Result") -> None:
    """The 历年对比 sheet (a table of the recorded years and a line chart per metric), when the history holds
    an earlier year measured with the same catalog; nothing otherwise."""
    facts = _facts(result)
    if facts is None or facts.problem:
        return
    years = [r for r in facts.comparable if r.year <= result.year][-MAX_YEARS:]
    if len(years) < 2:
        return
    cfg = result.config
    keys = [k for k in cfg.metrics if any(k in r.metrics for r in years)]
    ws = wb.create_sheet(SHEET)
    widths = [8, 10] + [11, 9] * len(keys)
    for c, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(c)].width = w
    title = WriteOnlyCell(ws, value=f"{cfg.unit}历年测评指标对比（{years[0].year}—{years[-1].year}年，"
                                    f"测评细则 {facts.catalog}）")
    title.font = Font(name="黑体", size=14)
    ws.append([title])
    header = ["年度", "达标条数"]
    for k in keys:
        header += [metric_label(k, cfg), "要求"]
    ws.append([_head(ws, h) for h in header])
    for r in years:
        row = [_plain(ws, r.year), _plain(ws, r.met)]
        for k in keys:
            m = r.metrics.get(k) or {}
            row += [_plain(ws, m.get("value"), "0.0%"), _plain(ws, m.get("threshold"), "0%")]
        ws.append(row)
    first, last = 3, 2 + len(years)
    ws.freeze_panes = "B3"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    cats = Reference(ws, min_col=1, min_row=first, max_row=last)
    for i, k in enumerate(keys):
        col = 3 + 2 * i
        chart = LineChart()
        chart.title = metric_label(k, cfg)
        chart.y_axis.number_format = "0%"
        chart.y_axis.title = "比例"
        chart.x_axis.title = "年度"
        chart.add_data(Reference(ws, min_col=col, max_col=col + 1, min_row=2, max_row=last), titles_from_data=True)
        chart.set_categories(cats)
        chart.series[1].graphicalProperties.line.dashStyle = "dash"   # the requirement, dashed
        chart.height, chart.width = 7, 12
        anchor_row = last + 3 + (i // 2) * 15
        anchor_col = get_column_letter(1 + (i % 2) * 8)
        ws.add_chart(chart, f"{anchor_col}{anchor_row}")


def _head(ws, value):
    cell = WriteOnlyCell(ws, value=value)
    cell.font, cell.fill, cell.border, cell.alignment = _HEAD, _HEAD_FILL, _BOX, _CENTER
    return cell


def _plain(ws, value, fmt: str | None = None):
    cell = WriteOnlyCell(ws, value=value)
    cell.border = _BOX
    if fmt:
        cell.number_format = fmt
    return cell


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
