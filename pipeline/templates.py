"""One Excel template per department, generated from the catalog (contract section 2)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.catalog import Config
from pipeline.documents.workbook import Print, apply_print, row_height, save_workbook
from pipeline.schema import (DATA_SHEETS, DOC_TYPES, INFO_FIELDS, INFO_SHEET, NEGATIVE, SATISFACTION,
                             YES_NO, Column, SheetSpec, sheets_for)

LIST_SHEET = "下拉列表"
GUIDE_SHEET = "填表说明"
INPUT_ROWS = 500           # rows prepared (validation, unlocked) under each header
HEADER_ROW = 2             # row 1 is the sheet title
GUIDE_WIDTHS = (12, 22, 44, 28, 8)

_BOLD = Font(name="宋体", bold=True, size=11)
_TITLE = Font(name="黑体", size=14)
_BODY = Font(name="宋体", size=11)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQ_FILL = PatternFill("solid", fgColor="FCE4D6")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_UNLOCKED = Protection(locked=False)

# defined names for the dropdown lists
NAME_YESNO, NAME_SATISFACTION, NAME_DOCTYPE, NAME_STANDARDS = "是否", "满意度选项", "文件类型", "本部门测评标准"


def template_filename(config: Config, department: str) -> str:
    return f"{department}-{config.year}年文明单位创建台账.xlsx"


def write_templates(config: Config, out_dir: str | Path) -> list[Path]:
    """Write one workbook per department into out_dir; returns the paths."""
    from pipeline.atomic import claimed
    from pipeline.documents import official
    official.activate(config, config.year, catalog_updates=False)   # 填表说明: the year's official wording
    out = Path(out_dir)
    paths = [out / template_filename(config, dept) for dept in config.department_names]
    with claimed(out, "templates", [p.name for p in paths], "生成台账模板"):  # never over a file of the user's
        for dept, path in zip(config.department_names, paths):
            save_workbook(build_template(config, dept), path)
    return paths


def build_template(config: Config, department: str) -> Workbook:
    """The workbook for one department (not yet saved)."""
    wb = Workbook()
    guide = wb.active
    guide.title = GUIDE_SHEET
    standards = config.standards_for(department)
    _write_lists(wb, standards)
    _write_info(wb.create_sheet(INFO_SHEET), config, department)
    with_negative = department == config.settings.get("negative_list_department", "办公室")
    for spec in sheets_for(config):
        if spec is NEGATIVE and not with_negative:
            continue
        ws = wb.create_sheet(spec.name)
        _write_data_sheet(ws, spec, department, config.year)
        if spec is NEGATIVE:
            for i, item in enumerate(config.negative_items):
                ws.cell(HEADER_ROW + 1 + i, 1, item)
                ws.cell(HEADER_ROW + 1 + i, 1).protection = Protection(locked=True)
    _write_guide(guide, config, department, standards, with_negative)
    _print_setup(wb, config, department)
    wb.move_sheet(LIST_SHEET, offset=len(wb.sheetnames))
    wb.active = 1  # open on 填报信息
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == INFO_SHEET
    return wb


def _print_setup(wb: Workbook, config: Config, department: str) -> None:
    """Every sheet prints on A4, one page wide, with the header row repeated and the department in the header."""
    title = f"{config.unit}{config.year}年文明单位创建台账"
    for ws in wb.worksheets:
        if ws.title == LIST_SHEET:
            continue
        widths = [ws.column_dimensions[get_column_letter(c)].width or 9 for c in range(1, ws.max_column + 1)]
        repeat = f"{HEADER_ROW}:{HEADER_ROW}" if ws.title not in (GUIDE_SHEET, INFO_SHEET) else None
        apply_print(ws, Print(f"{title} · {ws.title}", department, landscape=False if ws.title in (GUIDE_SHEET, INFO_SHEET)
                              else None, gridlines=ws.title not in (GUIDE_SHEET, INFO_SHEET)),
                    widths, repeat_rows=repeat)


def _write_lists(wb: Workbook, standards: list) -> None:
    ws = wb.create_sheet(LIST_SHEET)
    ws.sheet_state = "hidden"
    columns = [(NAME_YESNO, YES_NO), (NAME_SATISFACTION, SATISFACTION), (NAME_DOCTYPE, DOC_TYPES),
               (NAME_STANDARDS, [s.label for s in standards] or ["（无）"])]
    for c, (name, values) in enumerate(columns, 1):
        ws.cell(1, c, name).font = _BOLD
        for r, v in enumerate(values, 2):
            ws.cell(r, c, v)
        letter = get_column_letter(c)
        ref = f"{quote_sheetname(LIST_SHEET)}!${letter}$2:${letter}${len(values) + 1}"
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
        ws.column_dimensions[letter].width = 40 if name == NAME_STANDARDS else 12
    ws.protection.sheet = True


def _write_info(ws, config: Config, department: str) -> None:
    ws["A1"], ws["B1"] = "项目", "内容"
    for cell in (ws["A1"], ws["B1"]):
        cell.font, cell.fill, cell.border, cell.alignment = _BOLD, _HEAD_FILL, _BOX, _CENTER
    prefilled = {"单位": config.unit, "部门": department, "年度": config.year, "模板版本": config.template_version}
    hints = {"填报人": "请填写填报人姓名", "联系电话": "请填写联系电话", "填报日期": "每次报送（含修改后重报）请更新为当天日期"}
    for r, key in enumerate(INFO_FIELDS, 2):
        a, b = ws.cell(r, 1, key), ws.cell(r, 2, prefilled.get(key))
        a.font, a.border, b.border, b.font = _BOLD if key == "部门" else _BODY, _BOX, _BOX, _BODY
        if key not in prefilled:
            b.protection = _UNLOCKED
            b.fill = _REQ_FILL if key == "填报日期" else PatternFill()
            ws.cell(r, 3, hints[key]).font = Font(name="宋体", size=10, color="808080")
    date_row = 2 + INFO_FIELDS.index("填报日期")
    ws.cell(date_row, 2).number_format = "yyyy-mm-dd"
    dv = _date_validation(config.year)
    dv.add(f"B{date_row}")
    ws.add_data_validation(dv)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width, ws.column_dimensions["C"].width = 12, 30, 40
    _protect(ws)


def _write_data_sheet(ws, spec: SheetSpec, department: str, year: int) -> None:
    ncol = len(spec.columns)
    ws.cell(1, 1, f"{department}{spec.title}").font = _TITLE
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(ncol, 2))
    ws.row_dimensions[1].height = 24
    first, last = HEADER_ROW + 1, HEADER_ROW + INPUT_ROWS
    for c, col in enumerate(spec.columns, 1):
        cell = ws.cell(HEADER_ROW, c, col.name)
        cell.font, cell.border, cell.alignment = _BOLD, _BOX, _CENTER
        cell.fill = _REQ_FILL if col.required else _HEAD_FILL
        letter = get_column_letter(c)
        ws.column_dimensions[letter].width = col.width
        for r in range(first, last + 1):
            data = ws.cell(r, c)
            data.protection = _UNLOCKED
            if col.kind == "date":
                data.number_format = "yyyy-mm-dd"
            elif col.text_format:  # 3.2.2 typed here must not become a date, 1001 not a number
                data.number_format = "@"
        dv = _validation_for(col, year)
        if dv is not None:
            dv.add(f"{letter}{first}:{letter}{last}")
            ws.add_data_validation(dv)
    ws.row_dimensions[HEADER_ROW].height = row_height([c.name for c in spec.columns],
                                                      [c.width for c in spec.columns]) or 20
    ws.freeze_panes = ws.cell(first, 1)
    _protect(ws)


def _validation_for(col: Column, year: int) -> DataValidation | None:
    lists = {"yesno": NAME_YESNO, "inservice": NAME_YESNO, "satisfaction": NAME_SATISFACTION,
             "doctype": NAME_DOCTYPE, "standard": NAME_STANDARDS}
    if col.kind in lists:
        # a typed value outside the list only warns: departments may tag another department's standard
        style = "warning" if col.kind == "standard" else "stop"
        # the defined name without a leading "=", as Excel itself writes it
        dv = DataValidation(type="list", formula1=lists[col.kind], allow_blank=True,
                            showErrorMessage=True, errorStyle=style)
        dv.errorTitle = "输入提示"
        dv.error = "请从下拉列表中选择。" if style == "stop" else "不是本部门的测评标准，确认要填写吗？"
        return dv
    if col.kind == "date":
        return _date_validation(year)
    if col.kind == "number":
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                            showErrorMessage=True, errorStyle="warning")
        dv.errorTitle, dv.error = "输入提示", "请填写数字，如 12。"
        return dv
    return None


def _date_validation(year: int) -> DataValidation:
    dv = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2099,12,31)",
                        allow_blank=True, showErrorMessage=True, errorStyle="warning")
    dv.errorTitle, dv.error = "输入提示", f"请填写日期，如 {year}-03-05。"
    return dv


def _guide_table(ws, r: int, title: str, headers: tuple[str, ...], rows: list[tuple]) -> int:
    """A titled, bordered table on the 填表说明 sheet starting at row r; returns its last row."""
    ws.cell(r, 1, title).font = _BOLD
    widths = [ws.column_dimensions[get_column_letter(c)].width for c in range(1, len(headers) + 1)]
    r += 1
    for c, h in enumerate(headers, 1):
        cell = ws.cell(r, c, h)
        cell.font, cell.fill, cell.border, cell.alignment = _BOLD, _HEAD_FILL, _BOX, _CENTER
    for values in rows:
        r += 1
        for c, v in enumerate(values, 1):
            cell = ws.cell(r, c, v)
            cell.alignment, cell.border, cell.font = _WRAP, _BOX, _BODY
        height = row_height([v if isinstance(v, str) else None for v in values], widths)
        if height:
            ws.row_dimensions[r].height = height
    return r


def _protect(ws) -> None:
    """Lock headers only; departments may still insert and delete rows, sort, filter and resize."""
    p = ws.protection
    p.sheet = True
    for attr in ("formatCells", "formatColumns", "formatRows", "insertRows", "deleteRows", "sort", "autoFilter"):
        setattr(p, attr, False)


def example_facts(config: Config, department: str, standards: list) -> dict[str, str]:
    """What the 填表说明's examples name, all from the profile: its year, this department, its own standards."""
    year = config.year
    first = standards[0].label if standards else ""
    docs = [s for s in standards if not s.metrics]
    return {"年度": str(year), "部门": department, "标准": first,
            "文件标准": (docs[-1] if docs else standards[-1]).label if standards else "",
            "文号": f"{config.short_name}发〔{year}〕1号"}


def column_text(text: str, facts: dict[str, str]) -> str:
    """A column's help or example with the profile's facts in place of {年度} {部门} …"""
    for name, value in facts.items():
        text = text.replace("{" + name + "}", value)
    return text


def _coordinator(config: Config) -> str:
    """（党建办） when unit.yaml names the coordinating department and it is one of the unit's."""
    name = config.resolve_department(config.settings.get("coordinator"))
    return f"（{name}）" if name else ""


def _write_guide(ws, config: Config, department: str, standards: list, with_negative: bool) -> None:
    for letter, width in zip("ABCDE", GUIDE_WIDTHS):  # about one portrait page wide
        ws.column_dimensions[letter].width = width
    ws.cell(1, 1, f"{config.unit}{config.year}年文明单位创建台账（{department}）填表说明").font = _TITLE
    ws.merge_cells("A1:E1")
    steps = [
        "1. 先填“填报信息”：填报人、联系电话、填报日期（每次修改后重报都请改为当天日期，以最新日期为准）。",
        "2. 各工作表从表头下一行开始逐行填写，不要修改表头、不要合并单元格；可以插入或删除行。",
        f"3. 是/否栏填“是”或“否”（也认得 √、×、Y、N、有、无）；日期填 {config.year}-03-05 或 {config.year}年3月5日。",
        f"4. 活动记录只填{config.year}年度的活动（往年的不计入）；“测评标准”从下拉列表选择，编码在前即可"
        + (f"（如 {standards[0].code}）。" if standards else "。"),
        "5. 人员名单填本部门全体人员，每人一行；兼职或借调人员只在一个部门填报，重复的只计一次。",
        "6. 填好后保存为 .xlsx，文件名保留部门名称，用电子邮件发给牵头部门" + _coordinator(config) + "。",
    ]
    r = 3
    for s in steps:  # each step wraps across the printed width (A:E), as tall as its text
        ws.cell(r, 1, s).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(r, 1).font = _BODY
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=5)
        ws.row_dimensions[r].height = row_height([s], [sum(GUIDE_WIDTHS)]) or 16
        r += 1
    r = _guide_table(ws, r + 1, "本部门负责的测评标准", ("编码", "简称", "测评标准", "须报送的佐证", "最少条数"),
                     [(s.code, s.short, s.title, s.evidence, s.min_evidence) for s in standards])
    rows = []
    facts = example_facts(config, department, standards)
    for spec in sheets_for(config):
        if spec is NEGATIVE and not with_negative:
            continue
        for col in spec.columns:
            if col.kind != "seq":
                rows.append((spec.name, col.name, column_text(col.help, facts), column_text(col.example, facts),
                             "是" if col.required else ""))
    _guide_table(ws, r + 2, "各栏填写方法", ("工作表", "栏目", "填写方法", "示例", "必填"), rows)
    _protect(ws)
