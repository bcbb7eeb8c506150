"""`report` on real inboxes: contract sections 2-6, one test per rule."""

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import openpyxl
import pytest

from builders import (ACTIVITY_HEADERS, YEAR, activity, balanced, document, issues, person, report, run, staff,
                      workbook)

ROOT = Path(__file__).resolve().parent.parent
COUNTY = ROOT / "examples" / "county_config"


def _dept(scores, name):
    return next(d for d in scores["departments"] if d["name"] == name)


def _std(scores, code):
    return next(s for s in scores["standards"] if s["code"] == code)


# ---------------------------------------------------------------- a messy inbox with every variant

def _messy_workbook(path: Path) -> None:
    """Title rows, merged cells, reordered/extra columns, spaced and full-width headers, blank rows, notes."""
    wb = openpyxl.Workbook()
    info = wb.active
    info.title = "填报信息"
    for r, (k, v) in enumerate([("单位", "天津市科学技术协会"), ("部门", "机关党委"), ("填报日期", "2026年11月3日")], 1):
        info.cell(r, 1, k), info.cell(r, 2, v)
    ws = wb.create_sheet("2026年人员名单（机关党委办）")
    ws["A1"] = "机关党委办人员名单"
    ws.merge_cells("A1:H1")
    ws["A2"] = "填表说明：每人一行"
    headers = ["备注", "姓  名", "参与创建工作", "工号", "党员", "注册志愿者", "参加志愿服务", "志愿服务时长（小时）",
               "满意度", " 参加普法教育 ", "在职"]
    for c, h in enumerate(headers, 1):
        ws.cell(4, c, h)
    rows = [
        ["", "甲", "是", 2001, "√", "Y", "有", "8小时", "满意", "yes", None],
        ["", "乙", "y", "2002", "1", "是", "否", 0, "基本满意", 1, "是"],
        [None] * 11,                                           # blank row mid-table
        ["调入", "丙", "有", "2003", "否", "×", "N", None, "很好", "√", None],   # 很好: warning, still used
        ["", "丁", "是", "2004", "是", "是", "否", "12", "满意", "是", "退休"],   # retired: not in denominators
        ["", None, "是", "2005", "是", "是", "是", None, "满意", "是", None],     # missing 姓名: rejected
        [None] * 11,
        ["注：以上人员为在编在岗人员", None, None, None, None, None, None, None, None, None, None],  # a note
    ]
    for r, values in enumerate(rows, 5):
        for c, v in enumerate(values, 1):
            if v is not None:
                ws.cell(r, c, v)
    acts = wb.create_sheet("活动记录")
    acts["A1"] = "活动记录"
    reordered = ["活动名称", "日期", "测评标准", "参加人数", "额外说明"]
    for c, h in enumerate(reordered, 1):
        acts.cell(3, c, h)
    act_rows = [
        ["主题党日", dt.date(YEAR, 3, 5), "1.3.1", "20人", "x"],
        ["廉政教育", f"{YEAR}.4.6", "1.3.2 党风廉政和反腐败教育", 15, None],
        ["志愿服务", f"{YEAR}年5月7日", "3.2.2", "30", None],
        ["读书会", f"{YEAR}0608", "3.6.2", 12.0, None],
        ["普法讲座", f"{YEAR}/7/9", "3.5.1", None, None],
        ["宪法周", (dt.date(YEAR, 12, 4) - dt.date(1899, 12, 30)).days, "3.5.1", None, None],  # an Excel serial
        ["跨年活动", f"{YEAR - 1}-12-30", "3.2.2", 5, None],     # outside the year: rejected
        ["未知标准", f"{YEAR}-02-02", "9.9.9", 5, None],          # unknown code: rejected
        ["无日期活动", None, "3.2.2", 5, None],                   # missing required date: rejected
        ["坏日期", "去年", "3.2.2", 5, None],                      # invalid date: rejected
    ]
    for r, values in enumerate(act_rows, 4):
        for c, v in enumerate(values, 1):
            if v is not None:
                acts.cell(r, c, v)
    wb.save(path)


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    inbox = tmp_path_factory.mktemp("inbox")
    _messy_workbook(inbox / "党委台账.xlsx")
    # no 填报信息 department: taken from the file name (longest match)
    workbook(inbox / "2026团委报送.xlsx", None, roster=[person("甲", 2001), person("戊", "3001")],
             activities=[activity(f"{YEAR}-05-04", "五四青年节", "3.6.1 文化体育活动")])
    # an unknown department
    workbook(inbox / "外单位.xlsx", "宣传处", roster=[person("某某", "9001")])
    # a resubmission: the earlier 填报日期 loses, whatever the file name
    workbook(inbox / "工会-终稿.xlsx", "工会", submitted="2026-11-10", roster=[person("己", "4001")])
    workbook(inbox / "工会-初稿.xlsx", "工会", submitted="2026.10.1", roster=[person("庚", "4002"), person("辛", "4003")],
             activities=[activity(f"{YEAR}-03-01", "初稿活动", "3.6.1")])
    (inbox / "损坏.xlsx").write_bytes(b"PK\x03\x04 this is not a zip")
    (inbox / "~$工会-终稿.xlsx").write_bytes(b"lock")
    (inbox / "照片.jpg").write_bytes(b"\xff\xd8\xff")
    (inbox / "说明.docx").write_bytes(b"PK")
    _xls(inbox / "妇联旧表.xls")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    scores = report(inbox, tmp_path_factory.mktemp("out"))
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    return scores, before, after


def _xls(path: Path) -> None:
    import xlwt
    book = xlwt.Workbook(encoding="utf-8")
    info = book.add_sheet("填报信息")
    info.write(0, 0, "部门"), info.write(0, 1, "妇联")
    ws = book.add_sheet("人员名单")
    for c, h in enumerate(["序号", "姓名", "工号", "参与创建工作", "满意度"]):
        ws.write(1, c, h)
    ws.write(2, 1, "壬"), ws.write(2, 2, "5001"), ws.write(2, 3, "是"), ws.write(2, 4, "满意")
    acts = book.add_sheet("活动记录")
    for c, h in enumerate(ACTIVITY_HEADERS):
        acts.write(0, c, h)
    acts.write(1, 1, f"{YEAR}-03-08"), acts.write(1, 2, "三八节活动"), acts.write(1, 3, "3.1.3")
    book.save(str(path))


def test_row_accounting_holds_for_every_sheet_kind(messy):
    scores, _, _ = messy
    balanced(scores)
    assert scores["rows"]["roster"] == {"read": 12, "used": 7, "rejected": 2, "duplicate": 1, "superseded": 2}
    assert scores["rows"]["activities"] == {"read": 13, "used": 8, "rejected": 4, "duplicate": 0, "superseded": 1}


def test_headers_found_below_title_rows_in_any_order_with_spaces_and_fullwidth_brackets(messy):
    scores, _, _ = messy
    d = _dept(scores, "机关党委办")
    assert d["submitted"] and d["file"] == "党委台账.xlsx"
    # 甲 乙 丙 in service (丁 retired, 无名 rejected): 3 staff; 甲 volunteer served 8 h
    assert d["metrics"]["participation_rate"]["denominator"] == 3
    assert d["metrics"]["volunteer_registration_rate"] == {"numerator": 2, "denominator": 3, "value": pytest.approx(2 / 3, abs=1e-6)}


def test_yes_no_spellings_and_numbers_with_units(messy):
    scores, _, _ = messy
    d = _dept(scores, "机关党委办")["metrics"]
    assert d["participation_rate"]["numerator"] == 3        # 是 / y / 有
    assert d["legal_education_rate"]["numerator"] == 3      # yes / 1 / √
    assert d["party_volunteer_registration_rate"] == {"numerator": 2, "denominator": 2, "value": 1.0}  # √ and 1
    assert d["volunteer_service_rate"]["numerator"] == 1    # 有; 8小时 read as a number


def test_invalid_optional_value_is_a_warning_and_the_row_is_used(messy):
    scores, _, _ = messy
    (w,) = issues(scores, "invalid-satisfaction")
    assert w["level"] == "warning" and w["value"] == "很好" and w["row"] == 8 and w["column"] == "满意度"
    assert _dept(scores, "机关党委办")["metrics"]["satisfaction_rate"] == {"numerator": 2, "denominator": 2, "value": 1.0}


def test_missing_required_field_is_rejected_with_its_place(messy):
    scores, _, _ = messy
    miss = [i for i in issues(scores, "missing-required") if "人员名单" in i["sheet"]]
    assert [(i["file"], i["row"], i["column"]) for i in miss] == [("党委台账.xlsx", 10, "姓名")]
    assert "第10行缺少姓名" in miss[0]["message"]
    dates = [i for i in issues(scores, "missing-required") if i["sheet"] == "活动记录"]
    assert [(i["row"], i["column"]) for i in dates] == [(12, "日期")]


def test_note_under_the_table_is_reported_not_read(messy):
    scores, _, _ = messy
    (note,) = issues(scores, "note-row")
    assert note["row"] == 12 and note["level"] == "info" and "注：" in note["message"]


def test_all_date_forms_and_activities_outside_the_year(messy):
    scores, _, _ = messy
    out = issues(scores, "date-out-of-year")
    assert [(i["row"], i["value"]) for i in out] == [(10, f"{YEAR - 1}-12-30")]
    assert [i["row"] for i in issues(scores, "invalid-date")] == [13]
    assert _std(scores, "3.5.1")["activities"] == 2          # 2026/7/9 and an Excel serial


def test_unknown_standard_code_is_rejected_and_labels_are_accepted(messy):
    scores, _, _ = messy
    (bad,) = issues(scores, "unknown-standard")
    assert bad["value"] == "9.9.9" and bad["row"] == 11 and bad["level"] == "error"
    assert _std(scores, "1.3.2")["activities"] == 1          # given as “1.3.2 党风廉政和反腐败教育”
    assert _std(scores, "3.6.1")["activities"] == 1          # label from 团委; 工会's draft does not count


def test_department_from_alias_and_from_file_name(messy):
    scores, _, _ = messy
    assert _dept(scores, "机关党委办")["file"] == "党委台账.xlsx"
    assert _dept(scores, "团委")["file"] == "2026团委报送.xlsx"
    assert [i["file"] for i in issues(scores, "department-from-filename")] == ["2026团委报送.xlsx"]


def test_unknown_department_is_an_error_listing_the_known_ones(messy):
    scores, _, _ = messy
    (err,) = issues(scores, "department-unknown")
    assert err["file"] == "外单位.xlsx" and err["value"] == "宣传处"
    assert "办公室、调宣部" in err["message"] and "反协办" in err["message"]


def test_resubmission_latest_submission_date_wins(messy):
    scores, _, _ = messy
    union = _dept(scores, "工会")
    assert union["file"] == "工会-终稿.xlsx" and union["superseded"] == ["工会-初稿.xlsx"]
    assert union["metrics"]["participation_rate"]["denominator"] == 1
    (s,) = issues(scores, "superseded")
    assert s["file"] == "工会-初稿.xlsx" and "工会-终稿.xlsx" in s["message"]


def test_same_person_in_two_departments_is_counted_once(messy):
    scores, _, _ = messy
    (dup,) = issues(scores, "duplicate-person")
    assert dup["file"] == "2026团委报送.xlsx" and dup["row"] == 3 and "党委台账.xlsx 第5行" in dup["message"]
    assert scores["metrics"]["participation_rate"]["denominator"] == 6   # 甲乙丙 戊 己 壬


def test_corrupt_file_lock_file_photos_and_docx(messy):
    scores, _, _ = messy
    (bad,) = issues(scores, "file-unreadable")
    assert bad["file"] == "损坏.xlsx" and bad["level"] == "error"
    # a photo or a Word file beside the workbooks is evidence: listed as unassigned (no row names it), never "ignored"
    assert not issues(scores, "file-ignored")
    assert [i["file"] for i in issues(scores, "evidence-unassigned")] == ["说明.docx"]  # the photo is matched
    assert not [i for i in scores["issues"] if (i["file"] or "").startswith("~$")]


def test_old_xls_is_read(messy):
    scores, _, _ = messy
    d = _dept(scores, "妇联")
    assert d["submitted"] and d["file"] == "妇联旧表.xls"
    assert _std(scores, "3.1.3")["activities"] == 1


def test_inputs_are_never_modified(messy):
    _, before, after = messy
    assert before == after


def test_departments_list_every_configured_department(messy):
    scores, _, _ = messy
    assert [d["name"] for d in scores["departments"]][:3] == ["办公室", "调宣部", "组人部"]
    assert len(scores["departments"]) == 10
    office = _dept(scores, "办公室")
    assert office == {"name": "办公室", "submitted": False, "file": None, "superseded": [], "errors": 0,
                      "warnings": 0, "metrics": {}, "state": "missing", "state_files": []}


# ---------------------------------------------------------------- thresholds and statuses

def _inbox_with(tmp_path, roster, **kw):
    inbox = tmp_path / "inbox"
    workbook(inbox / "调宣部.xlsx", "调宣部", roster=roster, **kw)
    return inbox


def test_exactly_90_percent_is_not_above_90(tmp_path):
    roster = staff(9) + staff(1, prefix="未参与", start=100, participates="否")
    scores = report(_inbox_with(tmp_path, roster), tmp_path / "out")
    m = scores["metrics"]["participation_rate"]
    coverage = m.pop("coverage")  # contract §4 Coverage: the rosters counted, the ones missing
    assert m == {"numerator": 9, "denominator": 10, "value": 0.9, "threshold": 0.9, "op": ">", "passed": False}
    assert coverage["counted"] == ["调宣部"] and "调宣部" not in coverage["missing"]
    assert len(coverage["missing"]) == len(scores["departments"]) - 1
    assert _std(scores, "2.2.4")["status"] == "未达标"


def test_above_threshold_passes(tmp_path):
    roster = staff(10) + staff(1, prefix="未参与", start=100, participates="否")
    scores = report(_inbox_with(tmp_path, roster), tmp_path / "out")
    assert scores["metrics"]["participation_rate"]["passed"] is True
    assert _std(scores, "2.2.4")["status"] == "达标"


def test_greater_or_equal_operator_from_another_catalog(tmp_path):
    inbox = tmp_path / "inbox"
    roster = staff(9, volunteer="是") + staff(1, prefix="x", start=50, participates="否")
    workbook(inbox / "科普股.xlsx", "科普科", roster=roster,
             activities=[activity(f"{YEAR}-01-05", "志愿者注册", "2.1.1")])
    scores = report(inbox, tmp_path / "out", "--config", str(COUNTY))
    assert scores["catalog"] == "county-2023" and scores["unit"] == "某县科学技术局"
    assert scores["metrics"]["participation_rate"]["op"] == ">=" and scores["metrics"]["participation_rate"]["passed"]
    assert _std(scores, "1.1.2")["status"] == "达标"
    assert _std(scores, "1.1.1")["status"] == "未填报"       # only 机关支部 is responsible, and it did not report
    assert [d["name"] for d in scores["departments"]] == ["办公室", "科普股", "机关支部"]


def test_zero_denominator_gives_null_and_the_standard_is_not_met(tmp_path):
    roster = staff(5, party="否")
    scores = report(_inbox_with(tmp_path, roster), tmp_path / "out")
    m = scores["metrics"]["party_volunteer_registration_rate"]
    assert m["denominator"] == 0 and m["value"] is None and m["passed"] is None
    assert _std(scores, "3.2.1")["status"] != "达标"


def test_status_not_reported_when_no_responsible_department_submitted(tmp_path):
    scores = report(_inbox_with(tmp_path, staff(3)), tmp_path / "out")
    assert _std(scores, "3.3.1")["status"] == "未填报"        # 组人部 only
    assert _std(scores, "3.3.1")["responsible"] == ["组人部"]


def test_status_order_failed_before_weak_evidence(tmp_path):
    inbox = tmp_path / "inbox"
    workbook(inbox / "团委.xlsx", "团委", roster=staff(4, volunteer="否"))
    scores = report(inbox, tmp_path / "out")
    assert _std(scores, "3.2.1")["status"] == "未达标"        # no evidence either, but the metric fails first


def test_evidence_counts_from_any_department_and_min_evidence(tmp_path):
    inbox = tmp_path / "inbox"
    workbook(inbox / "调宣部.xlsx", "调宣部", roster=staff(3),
             activities=[activity(f"{YEAR}-03-01", "党组会议", "2.1.1")],
             documents=[document("创建计划", "2.1.2 年度计划、专人负责、经费保障")])
    workbook(inbox / "工会.xlsx", "工会", roster=staff(2, start=10),
             activities=[activity(f"{YEAR}-09-01", "党组会议（二）", "2.1.1")])
    scores = report(inbox, tmp_path / "out")
    s = _std(scores, "2.1.1")
    assert (s["activities"], s["documents"], s["status"]) == (2, 0, "达标")   # min_evidence 2, one from 工会
    assert _std(scores, "2.1.2") | {} == _std(scores, "2.1.2") and _std(scores, "2.1.2")["documents"] == 1
    assert _std(scores, "2.1.2")["status"] == "达标"


def test_scores_json_shape(tmp_path):
    scores = report(_inbox_with(tmp_path, staff(3)), tmp_path / "out")
    assert set(scores) >= {"unit", "year", "catalog", "metrics", "standards", "departments", "rows", "issues"}
    assert scores["year"] == YEAR and scores["catalog"] == "tianjin-2018"
    assert set(scores["metrics"]["participation_rate"]) == {"numerator", "denominator", "value", "threshold", "op",
                                                            "passed", "coverage"}
    assert set(scores["metrics"]["participation_rate"]["coverage"]) == {"counted", "missing"}
    s = scores["standards"][0]
    assert set(s) == {"code", "title", "status", "activities", "documents", "responsible", "metrics",
                      "evidence_files", "evidence_missing", "evidence_reasons"}  # evidence facts (additive)
    assert len(scores["standards"]) == 35


def test_year_option_changes_the_report_year(tmp_path):
    inbox = _inbox_with(tmp_path, staff(2), activities=[activity(f"{YEAR - 1}-05-01", "去年活动", "3.6.1")])
    scores = report(inbox, tmp_path / "out", "--year", str(YEAR - 1))
    assert scores["year"] == YEAR - 1 and _std(scores, "3.6.1")["activities"] == 1


# ---------------------------------------------------------------- the validation workbook and the command

def test_issues_past_the_rows_of_an_excel_sheet_continue_on_more_sheets(tmp_path, monkeypatch):
    from pipeline.documents import render_xlsx
    monkeypatch.setattr(render_xlsx, "EXCEL_MAX_ROWS", 3)  # 2 issues per sheet
    inbox = tmp_path / "inbox"
    workbook(inbox / "工会-台账.xlsx", "工会", roster=[person(None, str(i)) for i in range(5)])
    scores = report(inbox, tmp_path / "out")
    (path,) = (tmp_path / "out").glob("*校验报告.xlsx")
    wb = openpyxl.load_workbook(path)
    parts = [n for n in wb.sheetnames if n.startswith("全部问题")]
    assert parts[:2] == ["全部问题", "全部问题（续1）"] and len(parts) == -(-len(scores["issues"]) // 2)
    assert sum(wb[n].max_row - 1 for n in parts) == len(scores["issues"])
    assert "工会（续1）" in wb.sheetnames


def test_validation_workbook(messy, tmp_path):
    inbox = tmp_path / "inbox"
    workbook(inbox / "工会-台账.xlsx", "工会", roster=[person(None, "1"), person("张三", "2")])
    report(inbox, tmp_path / "out")
    (path,) = (tmp_path / "out").glob("*校验报告.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == ["汇总", "全部问题"] and "工会" in wb.sheetnames
    rows = list(wb["工会"].iter_rows(values_only=True))
    assert ("级别", "工作表", "行", "栏目", "原值", "说明") in rows  # the file is named once, above the table
    assert ("错误", "人员名单", 3, "姓名", None, "第3行缺少姓名，请补填") in rows
    assert any(str(r[0]).startswith("文件：工会-台账.xlsx（") for r in rows)
    summary = {r[0]: r for r in wb["汇总"].iter_rows(values_only=True) if r[0]}
    assert summary["工会"][1] == "已报送" and summary["工会"][4] == 1 and summary["办公室"][1] == "未报送"
    assert summary["人员名单"][1:6] == (2, 1, 1, 0, 0)


def test_missing_inbox_is_one_chinese_line_and_nonzero(tmp_path):
    result = run("report", "--inbox", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert result.exit_code != 0
    assert result.output.strip() == f"错误：收件箱文件夹不存在：{tmp_path / 'nope'}"


def test_empty_inbox_still_produces_documents(tmp_path):
    (tmp_path / "inbox").mkdir()
    scores = report(tmp_path / "inbox", tmp_path / "out")
    assert all(not d["submitted"] for d in scores["departments"])
    assert {s["status"] for s in scores["standards"]} == {"未填报"}
    assert len(list((tmp_path / "out").glob("*自查报告.docx"))) == 1


def test_every_command_has_chinese_help_and_is_in_the_docs():
    from pipeline.cli import main
    readme = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert sorted(main.commands) == ["archive", "bulletin", "check", "collect", "export", "halfyear", "history", "notify", "pdf", "plan", "report",
                                     "rollup", "serve", "templates"]
    for command in main.commands:
        result = run(command, "--help")
        assert result.exit_code == 0 and "用法：" in result.output and "显示本帮助并退出" in result.output
        assert f"## {command}\n" in readme and main.commands[command].help.split("，")[0] in readme, command


def test_console_summary_names_outputs(tmp_path):
    inbox = _inbox_with(tmp_path, staff(3))
    result = run("report", "--inbox", str(inbox), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0
    assert "报送部门 1/10" in result.output and "测评标准：" in result.output and "scores.json" in result.output
    assert json.loads((tmp_path / "out" / "scores.json").read_text(encoding="utf-8"))["rows"]["roster"]["used"] == 3


def test_resubmission_tie_goes_to_the_later_file(tmp_path):
    inbox = tmp_path / "inbox"
    a = workbook(inbox / "工会A.xlsx", "工会", submitted="2026-11-01", roster=staff(1))
    b = workbook(inbox / "工会B.xlsx", "工会", submitted="2026-11-01", roster=staff(2))
    os.utime(a, (2_000_000_000, 2_000_000_000))
    os.utime(b, (1_900_000_000, 1_900_000_000))
    scores = report(inbox, tmp_path / "out")
    assert _dept(scores, "工会")["file"] == "工会A.xlsx" and _dept(scores, "工会")["superseded"] == ["工会B.xlsx"]


def test_error_value_text_in_a_required_column_rejects_the_row(tmp_path):
    inbox = tmp_path / "inbox"
    path = workbook(inbox / "工会.xlsx", "工会", roster=[person("#REF!", "1"), person("张三", "2", hours="#DIV/0!")])
    wb = openpyxl.load_workbook(path)
    for ref in ("B3", "I4"):
        wb["人员名单"][ref].data_type = "s"  # the error text as a string, as old .xls readers hand it over
    wb.save(path)
    scores = report(inbox, tmp_path / "out")
    assert scores["rows"]["roster"]["used"] == 1 and scores["rows"]["roster"]["rejected"] == 1
    codes = sorted((i["row"], i["code"]) for i in scores["issues"] if i["code"] in ("formula-error", "missing-required"))
    assert codes == [(3, "formula-error"), (3, "missing-required"), (4, "formula-error")]


def test_validating_batches_while_reading_equals_validating_the_winners(monkeypatch):
    """report validates each batch of workbooks as it is read, superseded drafts included; merge then keeps
    the winners' rows and issues. The outcome is the same as validating only the winners afterwards."""
    import pandas as pd
    from pipeline.catalog import load_config
    from pipeline.intake.ingest import list_inbox, read_workbook
    from pipeline.intake.merge import Checked, merge
    from pipeline.report import sort_issues
    inbox = ROOT / "examples" / "inbox"
    config = load_config(ROOT / "config")
    paths, _ = list_inbox(inbox)

    def records():
        return [read_workbook(p, inbox, config) for p in paths]

    whole = merge(records(), config, YEAR)
    monkeypatch.setattr(Checked, "BATCH", 2)
    checked, batched = Checked(config, YEAR), records()
    for rec in batched:
        checked.add(rec)
    assert len(checked.frames["roster"]) > 2  # really validated in several batches
    streamed = merge(batched, config, YEAR, checked)
    assert any(streamed.superseded.values())  # the sample has a resubmission, validated and then dropped
    for kind, frame in whole.frames.items():
        pd.testing.assert_frame_equal(frame, streamed.frames[kind], check_dtype=False)
    assert [i.as_dict() for i in sort_issues(whole.issues, config)] == \
        [i.as_dict() for i in sort_issues(streamed.issues, config)]


def test_files_are_only_ignored_when_evidence_is_not_checked(tmp_path):
    """With evidence_rules.enabled: false nothing but workbooks is looked at, and the other files say so."""
    import shutil
    cdir = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parent.parent / "config", cdir)
    catalog = cdir / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    assert "  enabled: auto" in text
    catalog.write_text(text.replace("  enabled: auto", "  enabled: false", 1), encoding="utf-8")
    inbox = tmp_path / "inbox"
    workbook(inbox / "工会.xlsx", "工会", roster=[person("己", "4001")])
    (inbox / "照片.jpg").write_bytes(b"\xff\xd8\xff")
    scores = report(inbox, tmp_path / "out", "--config", str(cdir))
    assert [i["file"] for i in issues(scores, "file-ignored")] == ["照片.jpg"]
    assert not issues(scores, "evidence-unassigned")


def test_validated_workbooks_give_up_their_cells_and_count_the_same(tmp_path, config):
    """Once a batch of workbooks is validated their raw cells are dropped (200 MB at 1,000 workbooks): the
    run's frames, row counts and issues are those of validating the winners afterwards, a superseded draft
    included."""
    from pipeline.intake.merge import merge
    from pipeline.report import collect

    inbox = tmp_path / "inbox"
    workbook(inbox / "工会-初稿.xlsx", "工会", roster=staff(3), submitted=f"{YEAR}-03-01",
             activities=[activity(f"{YEAR}-03-01", "初稿活动", "3.6.1")])
    workbook(inbox / "工会-定稿.xlsx", "工会", roster=staff(4), submitted=f"{YEAR}-04-01",
             activities=[activity(f"{YEAR}-04-01", "定稿活动", "3.6.1"), activity(f"{YEAR}-13-01", "坏日期", "3.6.1")])
    workbook(inbox / "团委.xlsx", "团委", roster=staff(2, start=50))
    result = collect(inbox, config)
    raws = [raw for rec in result.merged.records for sheets in rec.sheets.values() for raw in sheets]
    assert raws and all(raw.values == [] and len(raw) == len(raw.numbers) for raw in raws)
    counts = result.row_counts()
    assert counts["roster"] == {"read": 9, "used": 6, "rejected": 0, "duplicate": 0, "superseded": 3}
    assert counts["activities"]["superseded"] == 1 and counts["activities"]["rejected"] == 1

    from pipeline.intake.ingest import list_inbox, read_workbook
    records = [read_workbook(p, inbox, config) for p in list_inbox(inbox)[0]]
    again = merge(records, config, config.year)   # validated after the winners are known, cells kept
    for kind, frame in again.frames.items():
        assert frame.astype(str).values.tolist() == result.merged.frames[kind].astype(str).values.tolist(), kind
    assert sorted(map(str, again.issues)) == sorted(map(str, result.merged.issues))
