"""Excel outputs: the validation report, the score workbook and the task-division ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipeline.atomic import atomic_save_workbook
from pipeline.catalog import format_percent
from pipeline.issues import LEVEL_ZH
from pipeline.score import FAILED, MET, MISSING, STATUSES, WEAK, tagged
from pipeline.values import clean_text

if TYPE_CHECKING:
    from pipeline.report import Result

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


def cell_value(value: Any) -> Any:
    """Values as cells: text cleaned of control characters, None for blanks."""
    if value is None or isinstance(value, (bool, int, float)) or hasattr(value, "isoformat"):
        return value
    if isinstance(value, (tuple, list)):
        return "、".join(map(str, value)) or None
    return clean_text(value) or None


def put(ws, row: int, col: int, value: Any):
    """Write one cell; text that starts like a formula (= + - @) stays text."""
    v = cell_value(value)
    cell = ws.cell(row, col)
    cell.value = v
    if isinstance(v, str) and v[:1] in "=+-@":
        cell.data_type = "s"
    elif hasattr(v, "isoformat") and not isinstance(v, str):
        cell.number_format = "yyyy-mm-dd"
    return cell


def write_table(ws, headers: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int] | None = None,
                start: int = 1, status_col: int | None = None, fills: dict[str, str] | None = None) -> int:
    """A header row and data rows with borders, filter and frozen header; returns the last row written."""
    for c, h in enumerate(headers, 1):
        cell = ws.cell(start, c, h)
        cell.font, cell.fill, cell.border = _HEAD, _HEAD_FILL, _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    r = start
    for r, values in enumerate(rows, start + 1):
        for c, v in enumerate(values, 1):
            cell = put(ws, r, c, v)
            cell.border, cell.alignment = _BOX, _WRAP
    for c, w in enumerate(widths or [], 1):
        ws.column_dimensions[get_column_letter(c)].width = w
    last_col = get_column_letter(len(headers))
    if start == 1:
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{last_col}{max(r, 2)}"
    if status_col and fills and r > start:
        col = get_column_letter(status_col)
        for text, color in fills.items():
            ws.conditional_formatting.add(
                f"A{start + 1}:{last_col}{r}",
                FormulaRule(formula=[f'${col}{start + 1}="{text}"'], fill=PatternFill("solid", bgColor=color)))
    return r


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
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    rows = []
    for dept in cfg.department_names:
        win = result.merged.winners.get(dept)
        errors, warnings = result.department_issue_counts(dept)
        rows.append((dept, "已报送" if win else "未报送", win.name if win else None,
                     "\n".join(r.name for r in result.merged.superseded.get(dept, [])) or None, errors, warnings))
    last = write_table(ws, ("部门", "报送情况", "采用文件", "作废文件（已被更新报送替代）", "错误", "提醒"), rows,
                       (12, 10, 40, 40, 8, 8), status_col=2, fills={"未报送": "FFC7CE"})
    start = last + 3
    ws.cell(start - 1, 1, "数据行核对（读取 = 采用 + 退回 + 重复 + 作废）").font = _HEAD
    counts = result.row_counts()
    write_table(ws, ("工作表", "读取", "采用", "退回（有错误）", "重复", "作废"),
                [(SHEET_ZH[k], v["read"], v["used"], v["rejected"], v["duplicate"], v["superseded"])
                 for k, v in counts.items()], start=start)
    all_ws = wb.create_sheet("全部问题")
    write_table(all_ws, ISSUE_HEADERS, _issue_rows(result.issues), (6, 11, 34, 12, 6, 14, 20, 70),
                status_col=1, fills=LEVEL_FILLS)
    groups = [(d, [i for i in result.issues if i.department == d]) for d in cfg.department_names]
    groups.append(("未归属", [i for i in result.issues if i.department is None]))
    for name, issues in groups:
        if not issues:
            continue
        dws = wb.create_sheet(_safe_sheet_title(name))
        write_table(dws, ISSUE_HEADERS, _issue_rows(issues), (6, 11, 34, 12, 6, 14, 20, 70),
                    status_col=1, fills=LEVEL_FILLS)
    atomic_save_workbook(wb, path)


def write_scores_workbook(result: "Result", path: Path) -> None:
    """测评得分表: summary with a chart of metrics against thresholds, per standard, per department."""
    cfg = result.config
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.cell(1, 1, f"{cfg.unit}{result.year}年文明单位创建测评得分汇总").font = Font(name="黑体", size=14)
    status_counts = {s: sum(r.status == s for r in result.standards) for s in STATUSES}
    last = write_table(ws, ("测评标准状态", "条数"), [(s, n) for s, n in status_counts.items()] +
                       [("合计", len(result.standards))], start=3)
    r = last + 2
    ws.cell(r, 1, f"报送部门：{len(result.submitted)}/{len(cfg.department_names)}"
                  + (f"（未报送：{'、'.join(result.missing)}）" if result.missing else "")).font = _HEAD
    mstart = r + 2
    rows = []
    for m in result.metrics.values():
        verdict = {True: "达到", False: "未达到", None: "无数据"}[m.passed]
        rows.append((m.metric.label, m.numerator, m.denominator, m.value, m.metric.threshold,
                     m.metric.requirement, verdict))
    mlast = write_table(ws, ("指标", "分子", "分母", "实际值", "要求值", "要求", "结果"), rows, start=mstart,
                        status_col=7, fills={"未达到": "FFC7CE", "达到": "C6EFCE", "无数据": "FFEB9C"})
    for row in ws.iter_rows(min_row=mstart + 1, max_row=mlast, min_col=4, max_col=5):
        for cell in row:
            cell.number_format = "0.0%"
    for c, w in enumerate((40, 8, 8, 10, 10, 12, 10), 1):
        ws.column_dimensions[get_column_letter(c)].width = w
    if rows:
        chart = BarChart()
        chart.type, chart.title = "bar", "各项指标与要求"
        chart.y_axis.title, chart.y_axis.number_format = "比例", "0%"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
        data = Reference(ws, min_col=4, max_col=5, min_row=mstart, max_row=mlast)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=mstart + 1, max_row=mlast))
        chart.height, chart.width = 9, 18
        ws.add_chart(chart, f"I{mstart}")

    sws = wb.create_sheet("测评标准")
    srows = []
    for s in result.standards:
        std = s.standard
        detail = []
        for m in s.metrics:
            detail.append(f"{m.metric.label}{_pct(m)}（要求{m.metric.requirement}）")
        if s.missing_departments:
            detail.append("未报送：" + "、".join(s.missing_departments))
        srows.append((std.code, std.indicator, std.item, std.short, std.title, "、".join(std.responsible),
                      s.activities, s.documents, std.min_evidence, s.status, "；".join(detail) or None))
    write_table(sws, ("编码", "测评指标", "测评项目", "简称", "测评标准", "责任部门", "活动", "文件", "最少佐证",
                      "状态", "说明"), srows, (8, 10, 14, 18, 50, 20, 6, 6, 8, 9, 40),
                status_col=10, fills=STATUS_FILLS)

    dws = wb.create_sheet("部门")
    keys = list(cfg.metrics)
    drows = []
    for dept in cfg.department_names:
        counts = result.department_counts.get(dept, {})
        errors, warnings = result.department_issue_counts(dept)
        win = result.merged.winners.get(dept)
        staff = counts.get("participation_rate", (0, 0))[1] if counts else None
        values = [(counts[k][0] / counts[k][1]) if counts.get(k) and counts[k][1] else None for k in keys]
        drows.append((dept, "已报送" if win else "未报送", win.name if win else None, staff, *values, errors, warnings))
    dlast = write_table(dws, ("部门", "报送情况", "文件", "在职人数", *(cfg.metrics[k].label for k in keys),
                              "错误", "提醒"), drows, (10, 9, 34, 9, *([14] * len(keys)), 6, 6),
                        status_col=2, fills={"未报送": "FFC7CE"})
    for row in dws.iter_rows(min_row=2, max_row=dlast, min_col=5, max_col=4 + len(keys)):
        for cell in row:
            cell.number_format = "0.0%"
    atomic_save_workbook(wb, path)


def _pct(m) -> str:
    return "无数据" if m.value is None else format_percent(m.value)


def _source(row) -> str:
    return f"{row['file']} {row['sheet']} 第{int(row['row'])}行"


def write_ledger(result: "Result", path: Path) -> None:
    """任务分解一览台账: per standard, with every activity and document traced to its file and row."""
    acts, docs = result.merged.used("activities"), result.merged.used("documents")
    wb = Workbook()
    ws = wb.active
    ws.title = "任务分解"

    rows = []
    for s in result.standards:
        std = s.standard
        a = tagged(acts, {std.code}).sort_values(["date", "file", "row"])
        d = tagged(docs, {std.code}).sort_values(["file", "row"])
        alines = [f"{r['date']:%Y-%m-%d} {r['title']}（{_source(r)}）" for _, r in a.iterrows()]
        dlines = [f"{(r['date'].isoformat() + ' ') if r['date'] else ''}{r['title']}（{_source(r)}）"
                  for _, r in d.iterrows()]
        rows.append((std.indicator, std.item, std.code, std.title, "、".join(std.responsible),
                     "、".join(s.missing_departments) or None, "\n".join(alines) or None,
                     "\n".join(dlines) or None, s.status))
    write_table(ws, ("工作指标", "工作项目", "编码", "任务分工", "责任部门", "未报送部门", "活动（日期 名称 来源）",
                     "制度文件（来源）", "状态"), rows, (10, 14, 8, 50, 18, 14, 60, 50, 9),
                status_col=9, fills=STATUS_FILLS)

    aws = wb.create_sheet("活动明细")
    write_table(aws, ("日期", "活动名称", "测评标准", "主办部门", "参加人数", "时长(小时)", "地点", "活动内容",
                      "佐证材料", "报送部门", "来源文件", "工作表", "行"),
                [(r["date"], r["title"], r["standard"], r["host"], r["participants"], r["hours"], r["place"],
                  r["content"], r["evidence"], r["department"], r["file"], r["sheet"], int(r["row"]))
                 for _, r in acts.sort_values(["date", "file", "row"]).iterrows()],
                (11, 30, 12, 10, 8, 8, 14, 40, 20, 10, 34, 10, 6))
    dws = wb.create_sheet("制度文件明细")
    write_table(dws, ("文件名称", "文号", "日期", "类型", "测评标准", "报送部门", "来源文件", "工作表", "行"),
                [(r["title"], r["number"], r["date"], r["type"], r["standard"], r["department"], r["file"],
                  r["sheet"], int(r["row"])) for _, r in docs.sort_values(["file", "row"]).iterrows()],
                (36, 20, 11, 8, 12, 10, 34, 10, 6))
    roster = result.merged.used("roster")
    yn = {True: "是", False: "否", None: None}
    rws = wb.create_sheet("人员名单汇总")
    write_table(rws, ("姓名", "工号", "部门", "在职", "党员", "注册志愿者", "参加志愿服务", "志愿服务时长(小时)",
                      "参与创建工作", "满意度", "参加普法教育", "来源文件", "行"),
                [(r["name"], r["staff_id"], r["dept"], yn[r["in_service"]], yn[r["party"]], yn[r["volunteer"]],
                  yn[r["served"]], r["service_hours"], yn[r["participates"]], r["satisfaction"], yn[r["legal_edu"]],
                  r["file"], int(r["row"])) for _, r in roster.iterrows()],
                (10, 8, 10, 6, 6, 8, 8, 10, 8, 8, 8, 34, 6))
    atomic_save_workbook(wb, path)
