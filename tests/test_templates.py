"""Per-department Excel templates generated from the catalog."""

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from builders import YEAR, report, run
from pipeline.schema import DATA_SHEETS
from pipeline.templates import HEADER_ROW, LIST_SHEET, template_filename

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def generated(tmp_path_factory, config):
    out = tmp_path_factory.mktemp("templates")
    result = run("templates", "--out", str(out))
    assert result.exit_code == 0 and "10" in result.output
    return out


def _resolve(wb, formula):
    """The values a list validation offers, through its defined name."""
    name = formula.lstrip("=")
    dn = wb.defined_names[name]
    (sheet, ref), = list(dn.destinations)
    return [c.value for row in wb[sheet][ref.replace("$", "")] for c in row]


def test_one_workbook_per_department(generated, config):
    names = sorted(p.name for p in generated.glob("*.xlsx"))
    assert names == sorted(template_filename(config, d) for d in config.department_names)


def test_sheets_and_headers(generated, config):
    wb = openpyxl.load_workbook(generated / template_filename(config, "调宣部"))
    assert wb.sheetnames == ["填表说明", "填报信息", "人员名单", "活动记录", "制度文件", "工作亮点", "荣誉表彰", LIST_SHEET]
    assert wb[LIST_SHEET].sheet_state == "hidden"
    for spec in DATA_SHEETS[:5]:
        ws = wb[spec.name]
        assert [c.value for c in ws[HEADER_ROW]][:len(spec.columns)] == [c.name for c in spec.columns]
        assert ws.freeze_panes == f"A{HEADER_ROW + 1}"
    info = {r[0].value: r[1].value for r in wb["填报信息"].iter_rows(min_row=2)}
    assert info["单位"] == "天津市科学技术协会" and info["部门"] == "调宣部" and info["年度"] == config.year
    assert info["模板版本"] == config.template_version and info["填报日期"] is None


def test_only_office_gets_the_negative_list(generated, config):
    office = openpyxl.load_workbook(generated / template_filename(config, "办公室"))
    ws = office["负面清单自查"]
    items = [ws.cell(r, 1).value for r in range(HEADER_ROW + 1, HEADER_ROW + 1 + len(config.negative_items))]
    assert items == list(config.negative_items)
    other = openpyxl.load_workbook(generated / template_filename(config, "工会"))
    assert "负面清单自查" not in other.sheetnames


def test_dropdowns_resolve_to_the_right_lists(generated, config):
    wb = openpyxl.load_workbook(generated / template_filename(config, "团委"))
    expect = {"人员名单": {"党员": ["是", "否"], "满意度": ["满意", "基本满意", "不满意"]},
              "活动记录": {"测评标准": [s.label for s in config.standards_for("团委")]},
              "制度文件": {"类型": ["计划", "方案", "制度", "总结", "记录", "其他"],
                       "测评标准": [s.label for s in config.standards_for("团委")]}}
    for sheet, columns in expect.items():
        ws = wb[sheet]
        headers = {c.value: c.column_letter for c in ws[HEADER_ROW]}
        for column, values in columns.items():
            dvs = [dv for dv in ws.data_validations.dataValidation
                   if dv.type == "list" and any(str(r).startswith(f"{headers[column]}{HEADER_ROW + 1}") for r in dv.sqref.ranges)]
            assert len(dvs) == 1, (sheet, column)
            assert _resolve(wb, dvs[0].formula1) == values


def test_department_specific_standards(generated, config):
    wb = openpyxl.load_workbook(generated / template_filename(config, "机关纪委"))
    labels = _resolve(wb, "=本部门测评标准")
    assert labels == [s.label for s in config.standards_for("机关纪委")]
    assert labels[0] == "1.3.2 党风廉政和反腐败教育" and "1.1.1 党的理论教育和党性教育" not in labels
    guide = [c.value for row in wb["填表说明"].iter_rows() for c in row if c.value]
    assert "1.3.2" in guide and any("党风廉政建设制度" in str(v) for v in guide)


def test_date_validation_and_locked_headers(generated, config):
    wb = openpyxl.load_workbook(generated / template_filename(config, "工会"))
    ws = wb["活动记录"]
    assert any(dv.type == "date" and "B3" in str(dv.sqref) for dv in ws.data_validations.dataValidation)
    assert ws.protection.sheet is True and ws.protection.insertRows is False
    assert ws.cell(HEADER_ROW, 2).protection.locked is True
    assert ws.cell(HEADER_ROW + 1, 2).protection.locked is False


def _content(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    out = {"names": sorted((n, str(d.attr_text)) for n, d in wb.defined_names.items())}
    for ws in wb.worksheets:
        out[ws.title] = ([[c.value for c in row] for row in ws.iter_rows()],
                         sorted((dv.type, str(dv.formula1), str(dv.sqref)) for dv in ws.data_validations.dataValidation))
    return out


def test_committed_templates_match_the_catalog(generated, config):
    """Fails when config/ changes and `make templates` was not run (input_templates/ would drift)."""
    committed = ROOT / "input_templates"
    for dept in config.department_names:
        name = template_filename(config, dept)
        assert (committed / name).is_file(), f"input_templates/{name} 缺失，请运行 make templates"
        assert _content(committed / name) == _content(generated / name), f"{name} 与目录不一致，请运行 make templates"


def test_filled_template_is_read_back(generated, config, tmp_path):
    wb = openpyxl.load_workbook(generated / template_filename(config, "团委"))
    wb["填报信息"]["B7"] = dt.date(YEAR, 11, 1)
    roster = wb["人员名单"]
    for i, row in enumerate([("李雷", "T1", "是", "是", "是", 6), ("韩梅梅", "T2", "否", "是", "否", None)]):
        r = HEADER_ROW + 1 + i
        roster.cell(r, 2, row[0]); roster.cell(r, 3, row[1]); roster.cell(r, 6, row[2])
        roster.cell(r, 7, row[3]); roster.cell(r, 8, row[4]); roster.cell(r, 9, row[5])
        roster.cell(r, 10, "是"); roster.cell(r, 11, "满意"); roster.cell(r, 12, "是")
    acts = wb["活动记录"]
    acts.cell(HEADER_ROW + 1, 2, dt.date(YEAR, 3, 5))
    acts.cell(HEADER_ROW + 1, 3, "学雷锋志愿服务")
    acts.cell(HEADER_ROW + 1, 4, config.standards["3.2.2"].label)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wb.save(inbox / "团委.xlsx")
    scores = report(inbox, tmp_path / "out")
    assert scores["rows"]["roster"] == {"read": 2, "used": 2, "rejected": 0, "duplicate": 0, "superseded": 0}
    assert scores["rows"]["activities"]["used"] == 1
    tw = next(d for d in scores["departments"] if d["name"] == "团委")
    assert tw["submitted"] and tw["metrics"]["volunteer_registration_rate"] == {"numerator": 2, "denominator": 2,
                                                                                 "value": 1.0}
    std = next(s for s in scores["standards"] if s["code"] == "3.2.2")
    assert std["activities"] == 1
    assert [i for i in scores["issues"] if i["level"] == "error"] == []
