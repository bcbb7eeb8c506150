"""Excel outputs: the validation report, the score workbook and the task-division ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipeline.atomic import atomic_save_workbook
from pipeline.catalog import format_percent
from pipeline.issues import LEVEL_ZH
from pipeline.score import FAILED, MET, MISSING, STATUSES, WEAK, standard_index, tagged
from pipeline.intake.values import clean_text
from pipeline.documents.xlsx_stream import EXCEL_MAX_ROWS, Columns, Table, write_tables

if TYPE_CHECKING:
    from pipeline.result import Result

_HEAD = Font(name="宋体", bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
STATUS_FILLS = {MET: "C6EFCE", FAILED: "FFC7CE", WEAK: "FFEB9C", MISSING: "D9D9D9"}
LEVEL_FILLS = {"错误": "FFC7CE", "提醒": "FFEB9C"}
SHEET_ZH = {"roster": "人员名单", "activities": "活动记录", "documents": "制度文件", "highlights": "工作亮点",
            "honours": "荣誉表彰", "negative": "负面清单自查"}
ISSUE_HEADERS = ("级别", "部门", "文件", "工作表", "行", "列", "原值", "说明")


MAX_CELL_TEXT = 32_000   # Excel holds at most 32,767 characters in a cell
SMALL_TABLE = 500        # tables up to this many rows get borders and wrapped text on every cell


def cell_value(value: Any) -> Any:
    """Values as cells: text cleaned of control characters and capped in length, None for blanks."""
    if value is None or isinstance(value, (bool, int, float)) or hasattr(value, "isoformat"):
        return value
    if isinstance(value, (tuple, list)):
        return "、".join(map(str, value)) or None
    text = clean_text(value)
    return (text[:MAX_CELL_TEXT] + "…") if len(text) > MAX_CELL_TEXT else (text or None)


def new_workbook() -> Workbook:
    """Workbooks are streamed (write-only): fast and light however many rows there are."""
    return Workbook(write_only=True)


def _cell(ws, value: Any, styled: bool = False, number_format: str | None = None):
    """A value for ws.append: plain where possible; a styled cell for formula-looking text, dates, formats."""
    v = cell_value(value)
    special = isinstance(v, str) and v[:1] in "=+-@"
    is_date = hasattr(v, "isoformat") and not isinstance(v, str)
    if not (styled or special or is_date or number_format):
        return v
    cell = WriteOnlyCell(ws, value=v)
    if special:
        cell.data_type = "s"  # text that starts like a formula stays text
    if is_date:
        cell.number_format = "yyyy-mm-dd"
    if number_format:
        cell.number_format = number_format
    if styled:
        cell.border, cell.alignment = _BOX, _WRAP
    return cell


def write_table(ws, headers: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int] | None = None,
                start: int = 1, status_col: int | None = None, fills: dict[str, str] | None = None,
                formats: dict[int, str] | None = None, small: bool | None = None) -> int:
    """Append a header row and data rows to a write-only sheet; returns the last row number written.

    The first table of a sheet (start=1) gets a frozen header and a filter; status_col colours rows by value."""
    rows = list(rows)
    styled = len(rows) <= SMALL_TABLE if small is None else small
    if start == 1:
        for c, w in enumerate(widths or [], 1):
            ws.column_dimensions[get_column_letter(c)].width = w
        ws.freeze_panes = "A2"
    header = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font, cell.fill, cell.border = _HEAD, _HEAD_FILL, _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header.append(cell)
    ws.append(header)
    formats = formats or {}
    for values in rows:
        ws.append([_cell(ws, v, styled, formats.get(c)) for c, v in enumerate(values, 1)])
    last = start + len(rows)
    last_col = get_column_letter(len(headers))
    if start == 1:
        ws.auto_filter.ref = f"A1:{last_col}{max(last, 2)}"
    if status_col and fills and rows:
        col = get_column_letter(status_col)
        for text, color in fills.items():
            ws.conditional_formatting.add(
                f"A{start + 1}:{last_col}{last}",
                FormulaRule(formula=[f'${col}{start + 1}="{text}"'], fill=PatternFill("solid", bgColor=color)))
    return last


def _title(ws, text: str) -> None:
    cell = WriteOnlyCell(ws, value=text)
    cell.font = Font(name="黑体", size=14)
    ws.append([cell])


def _issue_rows(issues) -> list[tuple]:
    return [(LEVEL_ZH[i.level], i.department or "（未归属）", i.file, i.sheet, i.row, i.column, i.value, i.message)
            for i in issues]


def _safe_sheet_title(text: str) -> str:
    for ch in "[]:*?/\\":
        text = text.replace(ch, "_")
    return text[:31] or "_"


def write_validation_report(result: "Result", path: Path) -> None:
    """校验报告: a summary, every issue, and one sheet per department to mail back as it is."""
    cfg = result.config
    wb = new_workbook()
    ws = wb.create_sheet("汇总")
    rows = []
    for dept in cfg.department_names:
        win = result.merged.winners.get(dept)
        errors, warnings = result.department_issue_counts(dept)
        rows.append((dept, "已报送" if win else "未报送", win.name if win else None,
                     "\n".join(r.name for r in result.merged.superseded.get(dept, [])) or None, errors, warnings))
    last = write_table(ws, ("部门", "报送情况", "采用文件", "作废文件（已被更新报送替代）", "错误", "提醒"), rows,
                       (12, 10, 40, 40, 8, 8), status_col=2, fills={"未报送": "FFC7CE"})
    ws.append([])
    ws.append([WriteOnlyCell(ws, value="数据行核对（读取 = 采用 + 退回 + 重复 + 作废）")])
    ws.append([])
    counts = result.row_counts()
    write_table(ws, ("工作表", "读取", "采用", "退回（有错误）", "重复", "作废"),
                [(SHEET_ZH[k], v["read"], v["used"], v["rejected"], v["duplicate"], v["superseded"])
                 for k, v in counts.items()], start=last + 4)
    titles: set[str] = {"汇总"}
    _issue_sheets(wb, "全部问题", result.issues, titles)
    by_dept: dict[str | None, list] = {}
    for issue in result.issues:
        by_dept.setdefault(issue.department if issue.department in cfg.department_names else None, []).append(issue)
    for name in [*cfg.department_names, None]:
        if by_dept.get(name):
            _issue_sheets(wb, name or "未归属", by_dept[name], titles)
    atomic_save_workbook(wb, path)


def _issue_sheets(wb, name: str, issues: list, titles: set[str]) -> None:
    """The issues on one sheet, continued on 名称（续1）… past the rows an Excel sheet holds."""
    per_sheet = EXCEL_MAX_ROWS - 1
    for k, at in enumerate(range(0, max(len(issues), 1), per_sheet)):  # 全部问题 is there even when empty
        title = _unique_title(name if k == 0 else f"{name[:24]}（续{k}）", titles)
        write_table(wb.create_sheet(title), ISSUE_HEADERS, _issue_rows(issues[at:at + per_sheet]), _ISSUE_WIDTHS,
                    status_col=1, fills=LEVEL_FILLS)


_ISSUE_WIDTHS = (6, 11, 34, 12, 6, 14, 20, 70)


def _unique_title(name: str, taken: set[str]) -> str:
    base = _safe_sheet_title(name)
    title, k = base, 1
    while title in taken:
        k += 1
        title = f"{base[:28]}_{k}"
    taken.add(title)
    return title


def write_scores_workbook(result: "Result", path: Path) -> None:
    """测评得分表: summary with a chart of metrics against thresholds, per standard, per department."""
    cfg = result.config
    wb = new_workbook()
    ws = wb.create_sheet("汇总")
    for c, w in enumerate((40, 8, 8, 10, 10, 12, 10), 1):
        ws.column_dimensions[get_column_letter(c)].width = w
    _title(ws, f"{cfg.unit}{result.year}年文明单位创建测评得分汇总")
    ws.append([])
    status_counts = {s: sum(r.status == s for r in result.standards) for s in STATUSES}
    last = write_table(ws, ("测评标准状态", "条数"), [*status_counts.items(), ("合计", len(result.standards))], start=3)
    ws.append([])
    note = f"报送部门：{len(result.submitted)}/{len(cfg.department_names)}"
    if result.missing:
        shown = result.missing[:20]
        note += f"（未报送：{'、'.join(shown)}{'等' if len(result.missing) > 20 else ''}）"
    ws.append([WriteOnlyCell(ws, value=note)])
    ws.append([])
    mstart = last + 4
    rows = []
    for m in result.metrics.values():
        verdict = {True: "达到", False: "未达到", None: "无数据"}[m.passed]
        rows.append((m.metric.label, m.numerator, m.denominator, m.value, m.metric.threshold,
                     m.metric.requirement, verdict))
    mlast = write_table(ws, ("指标", "分子", "分母", "实际值", "要求值", "要求", "结果"), rows, start=mstart,
                        status_col=7, fills={"未达到": "FFC7CE", "达到": "C6EFCE", "无数据": "FFEB9C"},
                        formats={4: "0.0%", 5: "0.0%"})
    if rows:
        chart = BarChart()
        chart.type, chart.title = "bar", "各项指标与要求"
        chart.y_axis.title, chart.y_axis.number_format = "比例", "0%"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
        chart.add_data(Reference(ws, min_col=4, max_col=5, min_row=mstart, max_row=mlast), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=mstart + 1, max_row=mlast))
        chart.height, chart.width = 9, 18
        ws.add_chart(chart, f"I{mstart}")

    srows = []
    for s in result.standards:
        std = s.standard
        detail = [f"{m.metric.label}{_pct(m)}（要求{m.metric.requirement}）" for m in s.metrics]
        if s.missing_departments:
            detail.append("未报送：" + "、".join(s.missing_departments))
        srows.append((std.code, std.indicator, std.item, std.short, std.title, std.responsible_text,
                      s.activities, s.documents, std.min_evidence, s.status, "；".join(detail) or None))
    write_table(wb.create_sheet("测评标准"), ("编码", "测评指标", "测评项目", "简称", "测评标准", "责任部门", "活动", "文件",
                                          "最少佐证", "状态", "说明"), srows,
                (8, 10, 14, 18, 50, 20, 6, 6, 8, 9, 40), status_col=10, fills=STATUS_FILLS)

    keys = list(cfg.metrics)
    drows = []
    for dept in cfg.department_names:
        counts = result.department_counts.get(dept, {})
        errors, warnings = result.department_issue_counts(dept)
        win = result.merged.winners.get(dept)
        staff = counts["participation_rate"][1] if "participation_rate" in counts else None
        values = [(counts[k][0] / counts[k][1]) if counts.get(k) and counts[k][1] else None for k in keys]
        drows.append((dept, "已报送" if win else "未报送", win.name if win else None, staff, *values, errors, warnings))
    write_table(wb.create_sheet("部门"), ("部门", "报送情况", "文件", "在职人数", *(cfg.metrics[k].label for k in keys),
                                        "错误", "提醒"), drows, (10, 9, 34, 9, *([14] * len(keys)), 6, 6),
                status_col=2, fills={"未报送": "FFC7CE"}, formats={5 + i: "0.0%" for i in range(len(keys))})
    from pipeline.store.history_docs import add_history_sheet
    add_history_sheet(wb, result)  # 历年对比, when the history database holds an earlier year
    atomic_save_workbook(wb, path)


def _pct(m) -> str:
    return "无数据" if m.value is None else format_percent(m.value)


LEDGER_LIST_MAX = 50  # entries listed per standard in 任务分解; the detail sheets hold them all


def _rows(frame, *names):
    """Rows of a frame as tuples of the named columns (much faster than iterrows)."""
    return zip(*(frame[n].tolist() for n in names))


def _columns(frame, *names) -> Columns:
    """The named columns of a frame, for the streaming writer (no transposing into rows and back)."""
    return Columns(frame[n].to_numpy(dtype=object) for n in names)


def _lines(frame, fmt) -> str | None:
    entries = _rows(frame.head(LEDGER_LIST_MAX), "date", "title", "file", "sheet", "row")
    lines = [fmt(r) for r in entries]
    if len(frame) > LEDGER_LIST_MAX:
        lines.append(f"……等共{len(frame)}项，见明细工作表")
    return "\n".join(lines) or None


def _entry(row) -> str:
    date, title, file, sheet, line = row
    day = f"{date:%Y-%m-%d} " if date else ""
    return f"{day}{title}（{file} {sheet} 第{int(line)}行）"


def _codes(frame):
    return frame.assign(standard=frame["standard"].map(lambda codes: "、".join(codes or ())))


def write_ledger(result: "Result", path: Path) -> None:
    """任务分解一览台账: per standard, with every activity and document traced to its file and row.

    Streamed with pipeline.documents.xlsx_stream: at city scale the detail sheets hold millions of cells."""
    acts = result.merged.used("activities").sort_values(["date", "file", "row"], na_position="first")
    docs = result.merged.used("documents").sort_values(["file", "row"])
    act_index, doc_index = standard_index(acts), standard_index(docs)
    rows = []
    for s in result.standards:
        std = s.standard
        rows.append((std.indicator, std.item, std.code, std.title, std.responsible_text,
                     "、".join(s.missing_departments) or None, _lines(tagged(acts, {std.code}, act_index), _entry),
                     _lines(tagged(docs, {std.code}, doc_index), _entry), s.status))
    roster = result.merged.used("roster")
    yn = {True: "是", False: "否", None: None}
    flags = ("in_service", "party", "volunteer", "served", "participates", "legal_edu")
    mapped = roster.assign(**{f: roster[f].map(yn) for f in flags}) if len(roster) else roster
    acts, docs = _codes(acts), _codes(docs)
    write_tables(path, [
        Table("任务分解", ("工作指标", "工作项目", "编码", "任务分工", "责任部门", "未报送部门", "活动（日期 名称 来源）",
                       "制度文件（来源）", "状态"), rows, (10, 14, 8, 50, 18, 14, 60, 50, 9),
              status_col=9, fills=STATUS_FILLS, boxed=True),
        Table("活动明细", ("日期", "活动名称", "测评标准", "主办部门", "参加人数", "时长(小时)", "地点", "活动内容", "佐证材料",
                       "报送部门", "来源文件", "工作表", "行"),
              _columns(acts, "date", "title", "standard", "host", "participants", "hours", "place", "content",
                       "evidence", "department", "file", "sheet", "row"), (11, 30, 12, 10, 8, 8, 14, 40, 20, 10, 34, 10, 6)),
        Table("制度文件明细", ("文件名称", "文号", "日期", "类型", "测评标准", "报送部门", "来源文件", "工作表", "行"),
              _columns(docs, "title", "number", "date", "type", "standard", "department", "file", "sheet", "row"),
              (36, 20, 11, 8, 12, 10, 34, 10, 6)),
        Table("人员名单汇总", ("姓名", "工号", "部门", "在职", "党员", "注册志愿者", "参加志愿服务", "志愿服务时长(小时)",
                         "参与创建工作", "满意度", "参加普法教育", "来源文件", "行"),
              _columns(mapped, "name", "staff_id", "dept", "in_service", "party", "volunteer", "served",
                       "service_hours", "participates", "satisfaction", "legal_edu", "file", "row"),
              (10, 8, 10, 6, 6, 8, 8, 10, 8, 8, 8, 34, 6)),
    ])
