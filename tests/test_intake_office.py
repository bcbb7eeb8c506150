"""Workbooks as LibreOffice Calc really writes them, values typed under a Chinese locale (issue 12, items 1, 3, 4,
6, 7): every file here was produced by Calc itself through UNO (tests/office.py), one soffice run for all."""

import datetime as dt
from pathlib import Path
import shutil

import pytest

from builders import ACTIVITY_HEADERS, ROSTER_HEADERS, YEAR, issues, report
from office import calc_files

pytestmark = pytest.mark.needs("soffice", "calc", "uno")

INFO = [["单位", "天津市科学技术协会"], ["部门", None], ["年度", str(YEAR)], ["填报日期", f"{YEAR}-11-01"]]


def _serial_1904(day: dt.date) -> str:
    return str((day - dt.date(1904, 1, 1)).days)


def _book(name: str, dept: str, *, activities: list, roster: list | None = None, **extra) -> dict:
    info = [[k, dept if k == "部门" else v] for k, v in INFO]
    person = ["1", f"{dept}甲", str(sum(map(ord, dept))), "", "是", "否", "是", "", "8", "是", "满意", "是"]
    sheets = [{"name": "填报信息", "rows": info},
              {"name": "人员名单", "rows": [[f"{dept}人员名单"], ROSTER_HEADERS] + (roster or [person])},
              {"name": "活动记录", "rows": [[f"{dept}活动记录"], ACTIVITY_HEADERS] + activities}]
    for sheet in sheets:
        sheet.update(extra.pop(sheet["name"], {}))
    return {"name": name, "sheets": sheets, **extra}


def _activity(date: str, title: str, standard: str) -> list:
    return ["", date, title, standard, "", "10", "2", "机关", "内容", ""]


@pytest.fixture(scope="module")
def calc(tmp_path_factory):
    folder = tmp_path_factory.mktemp("calc")
    first = dt.date(YEAR, 3, 5)
    specs = [
        # LibreOffice's own format; the code typed as 3.2.2 (Calc makes it 2003-02-02); a date merged over two rows
        _book("团委-台账.ods", "团委", activities=[_activity(f"{YEAR}-03-05", "学雷锋志愿服务", "3.2.2"),
                                                  _activity("", "志愿服务进社区", "3.2.2 常态化志愿服务")],
              活动记录={"merge": ["B3:B4"]}),
        # the same in .xlsx, and hours 8 typed into a column formatted as a date (shown as 1900-01-08)
        _book("工会-台账.xlsx", "工会", activities=[_activity(f"{YEAR}-05-01", "劳动竞赛", "3.6.1"),
                                                   _activity("", "劳模宣讲", "3.6.1")],
              活动记录={"merge": ["B3:B4"]}, 人员名单={"formats": {"I3:I3": "YYYY-MM-DD"}}),
        # the 1904 date system: a date typed as its bare serial, and a date typed as a date
        _book("妇联-1904.xlsx", "妇联", null_date_1904=True,
              activities=[_activity(_serial_1904(first), "巾帼讲堂", "3.6.1"), _activity(f"{YEAR}-04-01", "家风", "3.6.1")],
              填报信息={}),
        _book("普及部-1904.xls", "普及部", null_date_1904=True,
              activities=[_activity(_serial_1904(first), "科普日", "3.6.1"), _activity(f"{YEAR}-04-01", "科普周", "3.6.1")]),
        # a WPS .et that is an .xls inside (what WPS writes when asked for compatibility)
        _book("机关纪委-台账.xls", "机关纪委", activities=[_activity(f"{YEAR}-06-01", "廉政教育", "3.6.1")]),
    ]
    files = calc_files(specs, folder)
    inbox = tmp_path_factory.mktemp("inbox")
    for name, path in files.items():
        target = inbox / ("机关纪委-台账.et" if name == "机关纪委-台账.xls" else name)
        shutil.copy2(path, target)
    scores = report(inbox, tmp_path_factory.mktemp("out"))
    return inbox, scores


def _dept(scores, name):
    return next(d for d in scores["departments"] if d["name"] == name)


def _file_issues(scores, file, code):
    return [i for i in issues(scores, code) if i["file"] == file]


def test_ods_and_et_workbooks_are_read_as_submissions(calc):
    _, scores = calc
    for dept, file in (("团委", "团委-台账.ods"), ("机关纪委", "机关纪委-台账.et")):
        d = _dept(scores, dept)
        assert (d["submitted"], d["file"], d["state"]) == (True, file, "submitted")
    assert not [i for i in scores["issues"] if i["code"] == "file-ignored" and i["file"].endswith((".ods", ".et"))]


def test_a_code_typed_into_chinese_calc_and_stored_as_a_date_is_read_back_as_the_code(calc):
    _, scores = calc
    for file in ("团委-台账.ods", "工会-台账.xlsx"):
        assert not _file_issues(scores, file, "unknown-standard"), file
    (warn,) = _file_issues(scores, "团委-台账.ods", "standard-from-date")
    assert (warn["level"], warn["sheet"], warn["row"], warn["column"], warn["value"]) == \
        ("warning", "活动记录", 3, "测评标准", "2003-02-02")
    assert "3.2.2" in warn["message"] and "文本" in warn["message"]
    warns = _file_issues(scores, "工会-台账.xlsx", "standard-from-date")
    assert [w["row"] for w in warns] == [3, 4] and all("3.6.1" in w["message"] for w in warns)
    assert scores["rows"]["activities"]["rejected"] == 0


def test_a_date_merged_over_two_activity_rows_counts_on_both(calc):
    _, scores = calc
    for file in ("团委-台账.ods", "工会-台账.xlsx"):
        assert not _file_issues(scores, file, "missing-required"), file
        (info,) = _file_issues(scores, file, "merged-cells")
        assert (info["level"], info["row"], info["column"]) == ("info", 3, "日期")
        assert "第3行至第4行" in info["message"]
    code = next(s for s in scores["standards"] if s["code"] == "3.2.2")
    assert code["activities"] == 2  # both rows of 团委, the second under the merged date


def test_a_number_wearing_a_date_format_is_read_as_the_number(calc):
    _, scores = calc
    (warn,) = _file_issues(scores, "工会-台账.xlsx", "number-from-date")
    assert (warn["level"], warn["sheet"], warn["row"], warn["column"]) == \
        ("warning", "人员名单", 3, "志愿服务时长(小时)")
    assert "1900-01-08" in warn["message"] and "数值 8" in warn["message"]
    assert not _file_issues(scores, "工会-台账.xlsx", "invalid-number")
    # a registered volunteer with 8 hours served: counted (the 参加志愿服务 cell is blank)
    rate = _dept(scores, "工会")["metrics"]["volunteer_service_rate"]
    assert (rate["numerator"], rate["denominator"]) == (1, 1)


def test_bare_date_serials_follow_the_workbooks_1904_date_system(calc):
    _, scores = calc
    for file in ("妇联-1904.xlsx", "普及部-1904.xls"):
        assert not _file_issues(scores, file, "date-out-of-year"), file
        assert not _file_issues(scores, file, "invalid-date"), file
    assert _dept(scores, "妇联")["submitted"] and _dept(scores, "普及部")["submitted"]
    assert scores["rows"]["activities"]["used"] == 2 + 2 + 2 + 2 + 1


def test_an_ods_whose_repeated_cells_reach_too_far_is_refused_before_reading(calc, tmp_path):
    """Calc writes runs of equal cells as one cell with number-columns-repeated: a valued run 16,000 wide on
    1,000 repeated rows is a 16-million-cell grid for the reader; the file is refused, its department kept."""
    import io
    import re
    import zipfile

    from pipeline.catalog import load_config
    from pipeline.intake.ingest import read_workbook
    inbox, _ = calc
    src = (inbox / "团委-台账.ods").read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "content.xml":
                head, rest = data.split(b"<table:table-row", 1)  # the first row of the first sheet
                rest = re.sub(rb"<table:table-cell ", b'<table:table-cell table:number-columns-repeated="16000" ',
                              rest, count=1)
                data = head + b'<table:table-row table:number-rows-repeated="1000"' + rest
            zout.writestr(info, data)
    path = tmp_path / "团委-重复.ods"
    path.write_bytes(out.getvalue())
    rec = read_workbook(path, tmp_path, load_config(Path(__file__).resolve().parent.parent / "config"))
    assert [i.code for i in rec.issues] == ["sheet-too-large"] and rec.department == "团委"
    assert rec.issues[0].sheet == "填报信息" and "1000 行 × 16000 列" in rec.issues[0].message
