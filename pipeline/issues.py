"""Findings as data: a frozen Issue with a stable code and a Chinese message from one table."""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any

ERROR, WARNING, INFO = "error", "warning", "info"
LEVEL_ZH = {ERROR: "错误", WARNING: "提醒", INFO: "说明"}
#: codes also printed on the console, one line each, besides the counts (a file counted for another department)
ANNOUNCED = ("department-name-mismatch",)

#: code -> (level, message template). Placeholders: {row} {column} {value} and per-code extras.
MESSAGES: dict[str, tuple[str, str]] = {
    # files
    "file-ignored": (INFO, "不是 Excel 工作簿，已忽略；如需报送台账请使用 .xlsx 模板"),
    "file-unreadable": (ERROR, "文件无法打开（{detail}），请用 Excel 或 WPS 打开后另存为 .xlsx 重新报送"),
    "file-encrypted": (ERROR, "文件已加密，请取消密码后重新报送"),
    "file-too-large": (ERROR, "文件过大（{detail}），超出上限，请只保留本部门本年度台账后重新报送"),
    "file-duplicate": (WARNING, "与 {other} 内容完全相同，只计一份"),
    "formula-uncached": (WARNING, "单元格 {value} 是没有保存计算结果的公式（常见于程序生成的文件），已按空白处理；请在 Excel 或 WPS 中打开后保存，或把公式粘贴为数值后重新报送"),
    "formula-error-cells": (WARNING, "单元格 {value} 是公式错误值（如 #REF!、#DIV/0!），已按空白处理；请检查公式或直接填写内容"),
    "department-unknown": (ERROR, "“填报信息”中的部门“{value}”不在本单位部门名单中（{known}），请改为其中之一后重新报送；本文件数据未计入"),
    "department-missing": (ERROR, "无法确定报送部门：“填报信息”未填写部门，文件名中也没有部门名称；请在“填报信息”的“部门”一栏填写（{known}）后重新报送；本文件数据未计入"),
    "department-from-filename": (INFO, "“填报信息”未填写部门，按文件名认定为{value}"),
    "department-name-mismatch": (WARNING, "文件名表明是{named}的台账，但“填报信息”中的部门是“{value}”；已按“填报信息”计入{counted}。如文件名或“填报信息”填错，请改正后重新报送"),
    "superseded": (WARNING, "本部门有更新的报送（{winner}），此文件作废，其中数据不计入"),
    "no-data": (ERROR, "文件中没有找到任何台账工作表（人员名单、活动记录、制度文件等），请使用标准模板填报"),
    # sheets
    "sheet-missing": (WARNING, "缺少“{sheet}”工作表；如本部门确无此类内容可不报，否则请使用标准模板填报"),
    "sheet-duplicate": (INFO, "有多个名称含“{kind}”的工作表（{value}），已全部读取；如为重复内容请删除多余的工作表"),
    "header-not-found": (ERROR, "前10行中找不到表头（须有：{required}），请勿修改或删除模板的表头行"),
    "year-mismatch": (WARNING, "“填报信息”中的年度“{value}”与本次自查年度{year}不一致，请核对"),
    "template-version": (INFO, "模板版本“{value}”与当前版本“{expected}”不同；已按表头读取，下次请使用新模板"),
    # rows
    "missing-required": (ERROR, "第{row}行缺少{column}，请补填"),
    "invalid-date": (ERROR, "第{row}行{column}“{value}”不是有效日期，请按 {eg_date} 或 {eg_day} 填写"),
    "date-out-of-year": (ERROR, "第{row}行{column}“{value}”不在{year}年度内，本年度自查不计入；请核对日期"),
    "unknown-standard": (ERROR, "第{row}行{column}“{value}”不是有效的测评标准，请从下拉列表中选择{code_hint}"),
    "invalid-yesno": (WARNING, "第{row}行{column}“{value}”无法识别为是或否，已按未填处理；请填写“是”或“否”"),
    "invalid-satisfaction": (WARNING, "第{row}行{column}“{value}”无法识别，已按未填处理；请填写满意、基本满意或不满意"),
    "invalid-number": (WARNING, "第{row}行{column}“{value}”不是有效数字，已按未填处理；请只填数字，如 12"),
    "formula-error": (WARNING, "第{row}行{column}是公式错误值“{value}”，已按未填处理；请检查公式或直接填写内容"),
    "invalid-optional-date": (WARNING, "第{row}行{column}“{value}”不是有效日期，已按未填处理；请按 {eg_date} 填写"),
    "invalid-doctype": (WARNING, "第{row}行{column}“{value}”不在可选类型中，已按“其他”处理；请填写计划、方案、制度、总结、记录或其他"),
    "invalid-optional-standard": (WARNING, "第{row}行{column}“{value}”不是有效的测评标准，已按未填处理"),
    "duplicate-person": (WARNING, "第{row}行与 {other} 是同一人（{key}），只计一次"),
    "note-row": (INFO, "第{row}行“{value}”不在表格栏目内，视为备注，未作为数据读取"),
    "negative-exists": (WARNING, "第{row}行负面清单项目“{value}”填报为存在，将写入自查报告"),
    # files and cells as office suites and mailboxes really deliver them (issue 12)
    "file-format-unsupported": (ERROR, "{detail} 格式的文件无法读取，本部门按“文件无法读取”处理；请用 Excel 或 WPS 打开模板填写，另存为 .xlsx 后重新报送"),
    "file-special": (WARNING, "不是普通文件（如管道、设备或无法访问的文件），已跳过；请把台账文件本身放入收件箱"),
    "link-outside": (WARNING, "是指向收件箱以外位置的快捷链接，出于安全未读取；请把文件本身复制到收件箱"),
    "link-broken": (WARNING, "是失效或循环的快捷链接，已跳过；请把文件本身复制到收件箱"),
    "folder-too-deep": (WARNING, "文件夹层级超过 {depth} 层，其中的文件未读取；请把台账放在收件箱下较浅的文件夹中"),
    "folder-unreadable": (WARNING, "文件夹无法打开（没有权限或已被移走），其中的文件未读取"),
    "sheet-too-large": (ERROR, "工作表“{sheet}”的内容延伸到单元格 {value}（{rows} 行 × {cols} 列），超出上限（{max_rows} 行、{max_cells} 个单元格），本文件未读取；请删除表格以外远处单元格中的内容后重新报送"),
    "formula-scan-incomplete": (INFO, "文件中的公式较多，检查超过 {seconds} 秒后停止，部分公式单元格未检查；数据照常读取"),
    "template-empty": (ERROR, "工作簿中没有填写任何数据（空模板），本部门的测评标准按未填报处理；请填写人员名单、活动记录等后重新报送"),
    "merged-cells": (INFO, "第{row}行至第{last}行的{column}是合并单元格，已将“{value}”计入其中每一行"),
    "number-from-date": (WARNING, "第{row}行{column}被设成了日期格式（显示为“{value}”），已按数值 {number} 读取；请把该栏设为“常规”或“数值”格式后核对"),
    "standard-from-date": (WARNING, "第{row}行{column}被表格软件自动转成了日期“{value}”，已按测评标准 {standard} 读取；请把该栏设为“文本”格式，或从下拉列表选择"),
    "negative-unanswered": (WARNING, "第{row}行负面清单项目“{value}”未填写是否存在，请逐项填写“是”或“否”；未填完整时自查报告不作“不存在”的表述"),
    # evidence (佐证材料): files beside the workbooks, matched to the rows that name them
    "evidence-missing": (WARNING, "佐证材料“{value}”未找到，请随台账一并报送"),
    "evidence-other-department": (WARNING, "佐证材料“{value}”只在{owner}报送的文件中有同名文件，不能作为本部门的佐证，"
                                           "请随本部门台账一并报送"),
    "evidence-unassigned": (INFO, "此文件未被任何台账行的“佐证材料”引用，已列入{owner}未归类材料；如属某项活动或文件，请在该行“佐证材料”一栏填写此文件名"),
    "evidence-photos-short": (WARNING, "活动“{value}”只有{count}张照片，要求不少于{min}张"),
    "evidence-photos-none": (WARNING, "活动“{value}”没有照片，要求不少于{min}张"),
    "evidence-caption": (WARNING, "活动“{value}”缺少{fields}，照片说明（时间、地点、人物、主题）不完整，请补填"),
    "evidence-number-missing": (WARNING, "文件“{value}”（{type}）缺少文号，请补填"),
    "evidence-out-of-year": (WARNING, "文件“{value}”日期{date}不在{year}年度内，请核对"),
    "evidence-photo-date": (WARNING, "照片“{value}”拍摄于{date}，不在{year}年度内，请核对是否为本年度活动照片"),
    "archive-unsafe-entry": (WARNING, "压缩包中的“{value}”路径不安全（指向压缩包以外或为链接），已跳过"),
    "archive-too-large": (WARNING, "压缩包{detail}，超出上限，未解压；请分成几个小压缩包或直接发送照片"),
    "archive-unreadable": (WARNING, "压缩包无法打开（{detail}），未解压；请重新压缩为 .zip 后报送"),
    "archive-manual": (WARNING, "{kind} 压缩包不能自动解压，已保留原文件，请人工打开查看；以后请改用 .zip 格式报送"),
    # 工作亮点 that would read weakly in the 自查报告 (documents/highlights.py)
    "highlight-title-only": (WARNING, "第{row}行亮点“{value}”只是活动名称，请写明具体做法和成效（如参加人数、形成的机制、取得的效果），以便写入自查报告"),
    "highlight-too-short": (WARNING, "第{row}行亮点“{value}”过于简短（少于{min}字），请写明具体做法、数据和成效"),
    "highlight-same-frame": (WARNING, "第{row}行亮点“{value}”与其他部门的亮点句式雷同，请结合本部门实际写明具体做法、数据和成效"),
}


#: hints a message may name; the caller passes the profile's own (a code of this catalog, a date in its year)
HINT_DEFAULTS = {"code_hint": "", "eg_date": "“年-月-日”", "eg_day": "“某年某月某日”"}


def profile_hints(config, year: int, department: str | None = None) -> dict[str, str]:
    """The hints of messages from this profile: `（如 1.1.1）` names a code of this catalog, dates its year."""
    code = config.example_code(department)
    return {"code_hint": f"（如 {code}）" if code else "", "eg_date": f"{year}-03-05", "eg_day": f"{year}年3月5日"}


@dataclass(frozen=True)
class Issue:
    level: str
    code: str
    file: str | None
    sheet: str | None
    row: int | None
    column: str | None
    value: Any
    message: str
    department: str | None = None

    def as_dict(self) -> dict:
        d = {name: getattr(self, name) for name in _issue_fields()}  # asdict() deep-copies: 0.1 ms an issue
        d["value"] = _jsonable(self.value)
        return d

    @property
    def place(self) -> str:
        """`工会-台账.xlsx / 人员名单 / 第5行 / 姓名`."""
        parts = [self.file or "", self.sheet or "", f"第{self.row}行" if self.row else "", self.column or ""]
        return " / ".join(p for p in parts if p)

    def line(self) -> str:
        return f"{self.place}：{self.message}" if self.place else self.message


def make_issue(code: str, *, file: str | None = None, sheet: str | None = None, row: int | None = None,
               column: str | None = None, value: Any = None, department: str | None = None,
               level: str | None = None, **extra: Any) -> Issue:
    """Build an Issue with its message from the table."""
    default_level, template = MESSAGES[code]
    for key, value_ in HINT_DEFAULTS.items():  # hints the profile gives (validate passes this catalog's and year's)
        extra.setdefault(key, value_)
    shown = "" if value is None else _display(value)
    message = template.format(row=row, column=column or "", value=shown, sheet=sheet or "", **extra)
    return Issue(level or default_level, code, file, sheet, row, column, _jsonable(value), message, department)


def _display(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if hasattr(value, "hour") and not (value.hour or value.minute) else value.isoformat()
    return str(value)


@functools.lru_cache(maxsize=1)
def _issue_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Issue))
