"""Excel outputs: the validation report, the score workbook and the task-division ledger.

Every workbook is written through `pipeline.documents.workbook` (small ones) or `pipeline.documents.xlsx_stream`
(the city-scale ledger): text stays text and every sheet has its print setup.
"""

from __future__ import annotations

import datetime as dt
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import Marker
from openpyxl.chart.series import DataPoint
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties
from openpyxl.utils import get_column_letter

from pipeline.catalog import Config, format_percent
from pipeline.documents.workbook import Book, Print, Sheet, cell_value, safe_sheet_title
from pipeline.documents.xlsx_stream import EXCEL_MAX_ROWS, Columns, StreamBook, Table, write_tables
from pipeline.issues import ERROR, INFO, LEVEL_ZH, WARNING
from pipeline.score import FAILED, MET, MISSING, STATUSES, WEAK, standard_index
from pipeline.vocabulary import NOT_SENT, STATE_LABELS, SUBMITTED

if TYPE_CHECKING:
    from pipeline.result import Result

STATUS_FILLS = {MET: "C6EFCE", FAILED: "FFC7CE", WEAK: "FFEB9C", MISSING: "D9D9D9"}
SENT, NOT_SENT_LABEL = STATE_LABELS[SUBMITTED], STATE_LABELS[NOT_SENT]
LEVEL_FILLS = {"错误": "FFC7CE", "提醒": "FFEB9C"}
PASS_FILL, FAIL_FILL, NODATA_FILL = "C6EFCE", "FFC7CE", "FFEB9C"
SHEET_ZH = {"roster": "人员名单", "activities": "活动记录", "documents": "制度文件", "highlights": "工作亮点",
            "honours": "荣誉表彰", "negative": "负面清单自查"}
ISSUE_HEADERS = ("级别", "部门", "文件", "工作表", "行", "栏目", "原值", "说明")
_ISSUE_WIDTHS = (6, 10, 30, 10, 5, 12, 18, 60)
DEPT_ISSUE_HEADERS = ("级别", "工作表", "行", "栏目", "原值", "说明")
_DEPT_ISSUE_WIDTHS = (6, 10, 5, 12, 16, 50)
MAX_FILE_GROUPS = 3  # up to this many files, each file is named once above its own table
LEVEL_MEANING = ("错误：该行（或该文件）数据未计入统计，须改正后重新报送；"
                 "提醒：数据已计入，但请核对或补充；说明：供参考，无须处理。")
MAX_CELL_TEXT = 32_000
#: The 测评得分表 keeps its file name (contract section 6; the web page, history, archive and roll-up find it by
#: it) and says on its first lines what it holds, since the catalog gives the standards no points.
SCORES_NOTE = ("本表列出每条测评标准的达标状态（达标、未达标、佐证不足、未填报）和各项指标的实际值与要求；"
               "测评标准目录未规定各条标准的分值，故不计算分数。")


def new_workbook():
    """A streamed openpyxl workbook (kept for callers written before Book; prefer workbook.Book)."""
    from openpyxl import Workbook
    return Workbook(write_only=True)


def write_table(ws, headers: Sequence[str], rows, widths: Sequence[float] | None = None, start: int = 1,
                status_col: int | None = None, fills: dict[str, str] | None = None,
                formats: dict[int, str] | None = None, small: bool | None = None, title: str = "") -> int:
    """Append a table to a write-only sheet through the one writer path (text stays text; the first table of
    a sheet gets the print setup, a frozen header and a filter); returns the last row number written.
    Kept for callers written before Book; new code uses workbook.Book."""
    sheet = Sheet.__new__(Sheet)
    sheet.book, sheet.ws, sheet.widths, sheet.print = None, ws, tuple(widths or ()), Print(title)
    sheet.row, sheet._has_table, sheet._title_rows = start - 1, start != 1, None
    if start == 1:
        for c, w in enumerate(sheet.widths, 1):
            ws.column_dimensions[get_column_letter(c)].width = w
        ws.freeze_panes = "A2"
        from pipeline.documents.workbook import apply_print
        apply_print(ws, sheet.print, sheet.widths)
    _, last = sheet.table(headers, rows, status_col=status_col, fills=fills, formats=formats, styled=small)
    return last


def _year_unit(config: Config, year: int) -> str:
    return f"{year}年{config.unit}"


# ---------------------------------------------------------------- 校验报告

def _issue_get(issue: Any, name: str) -> Any:
    return issue.get(name) if isinstance(issue, dict) else getattr(issue, name)


_PLACE = ("sheet", "row", "column", "value", "message")
_place = attrgetter(*_PLACE)


def _issue_row(issue: Any, with_department: bool) -> tuple:
    if isinstance(issue, dict):
        level, place = issue.get("level"), tuple(issue.get(n) for n in _PLACE)
    else:  # an Issue: its attributes at once (12,000 issues, twice each, at city scale)
        level, place = issue.level, _place(issue)
    level = LEVEL_ZH.get(level, level)
    if with_department:
        return (level, _issue_get(issue, "department") or "（未归属）", _issue_get(issue, "file"), *place)
    return (level, *place)


def resubmission_deadline(config: Config, year: int | None = None) -> str:
    """The resubmission deadline in the report's year (unit.yaml's month and day: a 2024 report never asks
    for 2026)."""
    from pipeline import schedule
    day = schedule.resubmission_deadline(config, year or config.year)
    if isinstance(day, dt.date):
        return f"{day.year}年{day.month}月{day.day}日"
    return "【待核实：重新报送截止日期（config/unit.yaml 的 resubmission_deadline）】"


def coordinator_contact(config: Config) -> str:
    settings = config.settings
    coordinator = str(settings.get("coordinator") or "牵头部门")
    email = str(settings.get("coordinator_email") or (settings.get("mail") or {}).get("sender") or "")
    person = str(settings.get("coordinator_contact") or "")
    parts = [p for p in (person, f"邮箱 {email}" if email else "") if p]
    if not email:
        parts.append("【待核实：联系邮箱（config/unit.yaml 的 coordinator_email）】")
    return f"{config.short_name}{coordinator}（{'，'.join(parts)}）"


def department_sheet(book: Book | StreamBook, config: Config, year: int, department: str | None,
                     issues: Sequence[Any], file: str | None = None, superseded: Sequence[str] = (),
                     title: str | None = None) -> Sheet:
    """One department's sheet of the 校验报告, exactly as it is mailed back: a block saying what the levels mean,
    that rows with 错误 were not counted, the resubmission deadline and whom to contact; then the issues of each
    file (the file named once above its table). `issues` are Issue objects or their scores.json dicts."""
    name = department or "未归属"
    ws = book.sheet(title or name, _DEPT_ISSUE_WIDTHS,
                    Print(f"{_year_unit(config, year)}文明单位创建台账校验报告", department or "未归属文件",
                          landscape=False))
    levels = [_issue_get(i, "level") for i in issues]
    ws.heading(f"{name}{year}年文明单位创建台账校验问题")
    if department:
        ws.note(f"采用文件：{file or '（未报送可用的台账）'}"
                + (f"；作废文件（已被更新报送替代，其中数据不计入）：{'、'.join(superseded)}" if superseded else ""))
    else:
        ws.note("下列文件无法确定所属部门，其中数据均未计入；请报送部门在“填报信息”中填写部门，或在文件名中写明部门名称后重新报送。")
    ws.note(f"共发现错误 {levels.count(ERROR)} 处、提醒 {levels.count(WARNING)} 处、说明 {levels.count(INFO)} 处。"
            + LEVEL_MEANING)
    ws.note(f"请于{resubmission_deadline(config, year)}前，将改正后的台账（整个工作簿，并把“填报信息”的填报日期改为当天）"
            f"重新报送{coordinator_contact(config)}。", bold=True)
    by_file: dict[str, list] = {}
    for issue in issues:
        by_file.setdefault(_issue_get(issue, "file") or "", []).append(issue)
    files = sorted(by_file, key=lambda f: (f != (file or ""), f))
    if len(files) > MAX_FILE_GROUPS:  # many files (typically 未归属): one table with the file in each row
        ws.blank()
        ws.table(("级别", "文件", *DEPT_ISSUE_HEADERS[1:]),
                 [(row[0], _issue_get(i, "file"), *row[1:]) for i in issues for row in [_issue_row(i, False)]],
                 status_col=1, fills=LEVEL_FILLS)
        return ws
    for k, name_of_file in enumerate(files):
        group = by_file[name_of_file]
        ws.blank()
        ws.note(f"文件：{name_of_file or '（不涉及具体文件）'}（{len(group)} 处）", bold=True, fill="F2F2F2")
        ws.table(DEPT_ISSUE_HEADERS, [_issue_row(i, False) for i in group], status_col=1, fills=LEVEL_FILLS,
                 filter=k == 0 and len(files) == 1)
    if not issues:
        ws.blank()
        ws.note("本次校验未发现问题。")
    return ws


def department_workbook(config: Config, scores: dict, department: str) -> bytes | None:
    """That department's sheet of the 校验报告 as a workbook of its own (the attachment of a receipt),
    built from scores.json by the same code that writes the sheet into the 校验报告; None without issues."""
    dept = next((d for d in scores.get("departments", []) if d["name"] == department), None)
    issues = [i for i in scores.get("issues", []) if i.get("department") == department]
    if dept is None or not issues:
        return None
    book = StreamBook()
    department_sheet(book, config, scores["year"], department, issues, dept.get("file"), dept.get("superseded", []))
    return book.to_bytes()


def write_validation_report(result: "Result", path: Path) -> None:
    """校验报告: a summary, every issue, and one sheet per department to mail back as it is (streamed:
    pipeline.documents.xlsx_stream.StreamBook, the same cells as workbook.Book would write)."""
    cfg = result.config
    book = StreamBook()
    title = f"{_year_unit(cfg, result.year)}文明单位创建台账校验报告"
    ws = book.sheet("汇总", (12, 10, 36, 36, 7, 7), Print(title))
    ws.heading(title)
    ws.note(LEVEL_MEANING + "各部门的问题见以其部门命名的工作表，可直接打印或发给该部门。")
    rows = []
    for dept in cfg.department_names:
        win = result.merged.winners.get(dept)
        errors, warnings = result.department_issue_counts(dept)
        rows.append((dept, SENT if win else NOT_SENT_LABEL, win.name if win else None,
                     "\n".join(r.name for r in result.merged.superseded.get(dept, [])) or None, errors, warnings))
    ws.table(("部门", "报送情况", "采用文件", "作废文件（已被更新报送替代）", "错误", "提醒"), rows,
             status_col=2, fills={NOT_SENT_LABEL: "FFC7CE"})
    ws.blank()
    ws.note("数据行核对（读取 = 采用 + 退回 + 重复 + 作废）", bold=True)
    counts = result.row_counts()
    ws.table(("工作表", "读取", "采用", "退回（有错误）", "重复", "作废"),
             [(SHEET_ZH[k], v["read"], v["used"], v["rejected"], v["duplicate"], v["superseded"])
              for k, v in counts.items()])
    titles: set[str] = {"汇总"}
    _all_issue_sheets(book, cfg, result.year, result.issues, titles)
    by_dept: dict[str | None, list] = {}
    known = set(cfg.department_names)
    for issue in result.issues:
        by_dept.setdefault(issue.department if issue.department in known else None, []).append(issue)
    per_sheet = max(1, EXCEL_MAX_ROWS - 1000)  # room for the block and a title per file above the issues
    for name in [*cfg.department_names, None]:
        found = by_dept.get(name)
        if not found:
            continue
        win = result.merged.winners.get(name) if name else None
        superseded = [r.name for r in result.merged.superseded.get(name, [])] if name else []
        for k, at in enumerate(range(0, len(found), per_sheet)):
            label = name or "未归属"
            sheet_title = _unique_title(label if k == 0 else f"{label[:24]}（续{k}）", titles)
            department_sheet(book, cfg, result.year, name, found[at:at + per_sheet], win.name if win else None,
                             superseded, title=sheet_title)
    book.save(path)


def _all_issue_sheets(book: Book | StreamBook, config: Config, year: int, issues: list, titles: set[str]) -> None:
    """全部问题, continued on 全部问题（续1）… past the rows an Excel sheet holds."""
    per_sheet = EXCEL_MAX_ROWS - 1
    for k, at in enumerate(range(0, max(len(issues), 1), per_sheet)):  # 全部问题 is there even when empty
        title = _unique_title("全部问题" if k == 0 else f"全部问题（续{k}）", titles)
        book.table(title, ISSUE_HEADERS, [_issue_row(i, True) for i in issues[at:at + per_sheet]], _ISSUE_WIDTHS,
                   Print(f"{_year_unit(config, year)}文明单位创建台账校验报告 · 全部问题"), freeze="A2",
                   status_col=1, fills=LEVEL_FILLS)


def _unique_title(name: str, taken: set[str]) -> str:
    base = safe_sheet_title(name)
    title, k = base, 1
    while title in taken:
        k += 1
        title = f"{base[:28]}_{k}"
    taken.add(title)
    return title


# ---------------------------------------------------------------- 测评得分表

def _fails(metric, value: float | None) -> bool | None:
    return None if value is None else not metric.passes(value)


def _threshold_rule(metric, cell: str) -> str:
    """A formula true when the cell's rate fails the metric's threshold (the catalog's operator)."""
    op = "<=" if metric.op == ">" else "<"
    return f"AND(ISNUMBER({cell}),{cell}{op}{metric.threshold!r})"


def _pass_rule(metric, cell: str) -> str:
    return f"AND(ISNUMBER({cell}),{cell}{metric.op}{metric.threshold!r})"


def write_scores_workbook(result: "Result", path: Path) -> None:
    """测评得分表: summary with a chart of metrics against thresholds, per standard, per department."""
    cfg = result.config
    book = Book()
    title = f"{_year_unit(cfg, result.year)}文明单位创建测评达标情况"
    ws = book.sheet("汇总", (16, 7, 7, 9, 9, 22, 30), Print(title))
    ws.heading(title)
    ws.note(SCORES_NOTE)
    status_counts = {s: sum(r.status == s for r in result.standards) for s in STATUSES}
    ws.table(("测评标准状态", "条数"), [*status_counts.items(), ("合计", len(result.standards))],
             status_col=1, fills=STATUS_FILLS, filter=False)
    note = f"报送部门：{len(result.submitted)}/{len(cfg.department_names)}"
    if result.missing:
        shown = result.missing[:20]
        note += f"（未报送：{'、'.join(shown)}{'等' if len(result.missing) > 20 else ''}）"
    ws.blank()
    ws.note(note)
    from pipeline.score import roster_coverage  # contract §4 Coverage: what the rates below cover
    counted, missing = roster_coverage(cfg, result.department_counts)
    if missing and counted:
        ws.note(f"以下指标按{len(counted)}个部门的人员名单统计（人员名单未计入：{'、'.join(missing[:20])}"
                f"{'等' if len(missing) > 20 else ''}），不是全单位的数字。")
    ws.blank()
    rows = []
    for m in result.metrics.values():
        req = m.metric.requirement
        verdict = {True: f"达到（{req}）", False: f"未达到（须{req}）", None: "无数据"}[m.passed]
        rows.append((m.metric.short_label, m.numerator, m.denominator, m.value, m.metric.threshold, verdict,
                     m.metric.label))
    mstart, mlast = ws.table(("指标", "分子", "分母", "实际值", "要求值", "结果", "指标全称"), rows,
                             formats={4: "0.0%", 5: "0.0%"}, filter=False)
    for r, m in enumerate(result.metrics.values(), mstart + 1):
        color = {True: PASS_FILL, False: FAIL_FILL, None: NODATA_FILL}[m.passed]
        ws.colour(f"D{r}", "TRUE", color)
        ws.colour(f"F{r}", "TRUE", color)
    if rows:
        ws.blank()
        chart_row = ws.row + 1
        ws.add_chart(_metrics_chart(result, ws, mstart, mlast), f"A{chart_row}")
        for _ in range(17):  # the chart's rows: keeps it inside the print area
            ws.blank()

    srows = []
    for s in result.standards:
        std = s.standard
        detail = [f"{m.metric.short_label}{_pct(m)}（要求{m.metric.requirement}）" for m in s.metrics]
        if s.missing_departments:
            detail.append("未报送：" + "、".join(s.missing_departments))
        srows.append((std.code, std.indicator, std.item, std.short, std.title, std.responsible_text,
                      s.activities, s.documents, std.min_evidence, s.status, "；".join(detail) or None))
    book.table("测评标准", ("编码", "测评指标", "测评项目", "简称", "测评标准", "责任部门", "活动", "文件",
                        "最少佐证", "状态", "说明"), srows,
               (7, 9, 12, 16, 46, 16, 5, 5, 6, 8, 34), Print(f"{title} · 测评标准"), freeze="B2",
               status_col=10, fills=STATUS_FILLS, text_cols=(1,))
    _department_metrics(book, result, title)
    from pipeline.documents.history_docs import add_history_sheet
    add_history_sheet(book, result, title)  # 历年对比, when the history database holds an earlier year
    book.save(path)


def _metrics_chart(result: "Result", ws: Sheet, mstart: int, mlast: int) -> BarChart:
    """Actual rates as bars (failing ones red, with their values), the requirement as a marker on each bar;
    the axis starts near the lowest value, so 90.0% against a requirement of 大于90% reads at a glance."""
    metrics = list(result.metrics.values())
    values = [m.value for m in metrics if m.value is not None] + [m.metric.threshold for m in metrics]
    low = max(0.0, (int(min(values) * 10) - 1) / 10) if values else 0.0
    bar = BarChart()
    bar.type, bar.grouping = "col", "clustered"
    bar.title = "各项指标实际值与要求（红色为未达到）"
    bar.add_data(Reference(ws.ws, min_col=4, min_row=mstart, max_row=mlast), titles_from_data=True)
    bar.set_categories(Reference(ws.ws, min_col=1, min_row=mstart + 1, max_row=mlast))
    series = bar.series[0]
    series.graphicalProperties = GraphicalProperties(solidFill="5B9BD5")
    for i, m in enumerate(metrics):
        if m.passed is False:
            point = DataPoint(idx=i)
            point.graphicalProperties = GraphicalProperties(solidFill="E0403A")
            series.dPt.append(point)
    series.dLbls = DataLabelList()
    series.dLbls.showVal, series.dLbls.numFmt, series.dLbls.position = True, "0.0%", "outEnd"
    for attr in ("showSerName", "showCatName", "showLegendKey", "showPercent"):
        setattr(series.dLbls, attr, False)
    bar.gapWidth = 60
    line = LineChart()
    line.add_data(Reference(ws.ws, min_col=5, min_row=mstart, max_row=mlast), titles_from_data=True)
    req = line.series[0]
    req.marker = Marker(symbol="dash", size=18)
    req.marker.graphicalProperties = GraphicalProperties(solidFill="000000", ln=LineProperties(solidFill="000000"))
    req.graphicalProperties = GraphicalProperties(ln=LineProperties(noFill=True))
    req.smooth = False
    bar += line
    bar.y_axis.number_format = "0%"
    bar.y_axis.scaling.min, bar.y_axis.scaling.max = low, 1.0
    bar.y_axis.majorUnit = 0.05 if low >= 0.5 else 0.1
    bar.y_axis.title = "比例"
    bar.y_axis.delete = False
    bar.x_axis.delete = False
    bar.legend.position = "b"
    bar.height, bar.width = 8.5, 16.5
    return bar


def _department_metrics(book: Book, result: "Result", title: str) -> None:
    """Per department: each rate coloured against its threshold, and how many fall below."""
    cfg = result.config
    keys = list(cfg.metrics)
    metrics = [cfg.metrics[k] for k in keys]
    drows = []
    for dept in cfg.department_names:
        counts = result.department_counts.get(dept, {})
        errors, warnings = result.department_issue_counts(dept)
        win = result.merged.winners.get(dept)
        staff = counts["participation_rate"][1] if "participation_rate" in counts else None
        values = [(counts[k][0] / counts[k][1]) if counts.get(k) and counts[k][1] else None for k in keys]
        below = sum(bool(_fails(m, v)) for m, v in zip(metrics, values)) if win else None
        drows.append((dept, SENT if win else NOT_SENT_LABEL, staff, *values, below, errors, warnings,
                      win.name if win else None))
    n = len(keys)
    headers = ("部门", "报送情况", "在职人数", *(m.short_label for m in metrics), "未达要求（项）", "错误", "提醒",
               "采用文件")
    widths = (10, 8, 8, *([9] * n), 9, 6, 6, 34)
    ws = book.sheet("部门", widths, Print(f"{title} · 各部门", columns=len(headers) - 1), freeze="B3")
    ws.note("各项比例按部门计算，与要求比较：红色为未达到，绿色为达到，空白为无数据；“未达要求（项）”为该部门未达到要求的指标个数。")
    first, last = ws.table(headers, drows, status_col=2, fills={NOT_SENT_LABEL: "FFC7CE"},
                           formats={4 + i: "0.0%" for i in range(n)})
    if last > first:
        for i, m in enumerate(metrics):
            col = get_column_letter(4 + i)
            ref = f"{col}{first + 1}:{col}{last}"
            ws.colour(ref, _threshold_rule(m, f"{col}{first + 1}"), FAIL_FILL, "9C0006")
            ws.colour(ref, _pass_rule(m, f"{col}{first + 1}"), PASS_FILL)
        col = get_column_letter(4 + n)
        ws.colour(f"{col}{first + 1}:{col}{last}", f"AND(ISNUMBER({col}{first + 1}),{col}{first + 1}>0)", FAIL_FILL)


def _pct(m) -> str:
    return "无数据" if m.value is None else format_percent(m.value)


# ---------------------------------------------------------------- 任务分解一览台账

LEDGER_LIST_MAX = 50  # entries listed per standard in 任务分解; the detail sheets hold them all


def _rows(frame, *names):
    """Rows of a frame as tuples of the named columns (much faster than iterrows)."""
    return zip(*(frame[n].tolist() for n in names))


def _columns(frame, *names, replaced=None) -> Columns:
    """The named columns of a frame, for the streaming writer (no transposing into rows and back); `replaced`:
    columns given in place of the frame's own (no copy of a city-scale frame to replace a few)."""
    replaced = replaced or {}
    return Columns((replaced[n] if n in replaced else frame[n]).to_numpy(dtype=object) for n in names)


def _tagged_lines(frame, code: str, index: dict[str, list[int]], fmt, names) -> str | None:
    """The first LEDGER_LIST_MAX rows tagged with the standard, one line each, and how many there are in all
    (only the rows listed are taken out of the frame: a standard of a city's ledger has thousands)."""
    positions = sorted(set(index.get(code, ())))
    lines = [fmt(r) for r in _rows(frame.iloc[positions[:LEDGER_LIST_MAX]], *names)]
    if len(positions) > LEDGER_LIST_MAX:
        lines.append(f"……等共{len(positions)}项，见明细工作表")
    return "\n".join(lines) or None


def _day(date) -> str:
    return f"{date:%Y-%m-%d} " if date is not None and date == date else ""


def _activity_entry(row) -> str:
    """`日期 名称（部门）`: the exact source (file, sheet, row) is in 活动明细."""
    date, title, dept = row
    return f"{_day(date)}{cell_value(title) or ''}（{dept}）"


def _document_entry(row) -> str:
    date, title, number, dept = row
    number = cell_value(number)
    return f"{_day(date)}{cell_value(title) or ''}{' ' + number if number else ''}（{dept}）"


def _codes(frame) -> dict:
    return {"standard": frame["standard"].map(lambda codes: "、".join(codes or ()))}


def write_ledger(result: "Result", path: Path) -> None:
    """任务分解一览台账: per standard, with every activity and document traced to its file and row.

    Streamed with pipeline.documents.xlsx_stream: at city scale the detail sheets hold millions of cells."""
    cfg = result.config
    title = f"{_year_unit(cfg, result.year)}文明单位创建任务分解一览台账"
    from pipeline.documents.editor import in_order
    acts, docs = in_order(result, "activities"), in_order(result, "documents")
    act_index, doc_index = standard_index(acts), standard_index(docs)
    rows = []
    for s in result.standards:
        std = s.standard
        rows.append((std.indicator, std.item, std.code, std.title, std.responsible_text,
                     "、".join(s.missing_departments) or None,
                     _tagged_lines(acts, std.code, act_index, _activity_entry, ("date", "title", "department")),
                     _tagged_lines(docs, std.code, doc_index, _document_entry,
                                   ("date", "title", "number", "department")), s.status))
    roster = result.merged.used("roster")
    yn = {True: "是", False: "否", None: None}
    flags = ("in_service", "party", "volunteer", "served", "participates", "legal_edu")
    mapped = {f: roster[f].map(yn) for f in flags} if len(roster) else {}
    write_tables(path, [
        Table("任务分解", ("工作指标", "工作项目", "编码", "任务分工", "责任部门", "未报送部门", "活动（日期 名称（部门））",
                       "制度文件（日期 名称 文号（部门））", "状态"), rows, (8, 12, 7, 44, 14, 12, 46, 40, 8),
              status_col=9, fills=STATUS_FILLS, boxed=True, freeze="D2", print=Print(f"{title} · 任务分解")),
        Table("活动明细", ("日期", "活动名称", "测评标准", "主办部门", "参加人数", "时长(小时)", "地点", "活动内容", "佐证材料",
                       "报送部门", "来源文件", "工作表", "行"),
              _columns(acts, "date", "title", "standard", "host", "participants", "hours", "place", "content",
                       "evidence", "department", "file", "sheet", "row", replaced=_codes(acts)),
              (11, 30, 12, 10, 8, 8, 14, 40, 20, 10, 34, 10, 6),
              freeze="C2", print=Print(f"{title} · 活动明细", columns=10)),
        Table("制度文件明细", ("文件名称", "文号", "日期", "类型", "测评标准", "报送部门", "来源文件", "工作表", "行"),
              _columns(docs, "title", "number", "date", "type", "standard", "department", "file", "sheet", "row",
                       replaced=_codes(docs)),
              (36, 20, 11, 8, 12, 10, 34, 10, 6), freeze="B2", print=Print(f"{title} · 制度文件明细", columns=6)),
        Table("人员名单汇总", ("姓名", "工号", "部门", "在职", "党员", "注册志愿者", "参加志愿服务", "志愿服务时长(小时)",
                         "参与创建工作", "满意度", "参加普法教育", "来源文件", "行"),
              _columns(roster, "name", "staff_id", "dept", "in_service", "party", "volunteer", "served",
                       "service_hours", "participates", "satisfaction", "legal_edu", "file", "row", replaced=mapped),
              (10, 8, 10, 6, 6, 8, 8, 10, 8, 8, 8, 34, 6), freeze="B2",
              print=Print(f"{title} · 人员名单汇总", columns=11)),
        *_evidence_tables(result, title),
    ])


def _evidence_tables(result: "Result", title: str) -> list:
    """The 目录-level evidence facts per standard (intake/evidence.py), when the inbox carries evidence."""
    check = result.evidence
    if check is None or not check.enabled:
        return []
    rows = [(s.standard.code, s.standard.short, s.activities + s.documents, s.evidence_files, s.evidence_missing,
             "\n".join(s.evidence_reasons[:20]) + (f"\n……等{len(s.evidence_reasons)}项" if len(s.evidence_reasons) > 20
                                                   else "") or None, s.status) for s in result.standards]
    files = [(check.files[i].department or "部门未确定", check.files[i].name) for i in check.unassigned]
    return [Table("佐证材料", ("编码", "测评标准", "活动和文件", "佐证文件", "缺少的材料", "未满足的佐证要求", "状态"), rows,
                  (8, 20, 10, 10, 10, 70, 9), status_col=7, fills=STATUS_FILLS, boxed=True,
                  print=Print(f"{title} · 佐证材料")),
            Table("未归类佐证材料", ("部门", "文件"), files, (12, 60), print=Print(f"{title} · 未归类佐证材料"))]
