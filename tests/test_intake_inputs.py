"""Inputs that stopped or hung a run, unreadable submissions and untouched templates (issue 12, items 1, 5, 8, 9,
13): each is an issue for its file, the department's state says what it sent, and the run goes on."""

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import openpyxl
import pytest

from builders import YEAR, issues, person, report, rewrite_zip, staff, workbook
from pipeline.catalog import load_config
from pipeline.intake.ingest import MAX_FILE_BYTES, list_inbox, read_workbook
from pipeline.report import collect
from pipeline.templates import build_template, template_filename

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_config(ROOT / "config")


def _rewrite_sheet(path: Path, sheet: str, edit) -> None:
    """Pass one worksheet's XML through edit(); every other member is copied as it is."""
    rewrite_zip(path, lambda name, data: edit(data) if name == sheet else data)


def _roster_xml(path: Path) -> str:
    """The member holding the 人员名单 sheet of a workbook written by builders.workbook (sheet 2)."""
    return "xl/worksheets/sheet2.xml"


def _report_in_a_process(inbox: Path, out: Path) -> dict:
    """`report` in its own Python process (a crash there cannot take the test run with it); scores.json."""
    done = subprocess.run([sys.executable, "-m", "pipeline", "report", "--inbox", str(inbox), "--out", str(out),
                           "--silent"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((out / "scores.json").read_text(encoding="utf-8"))


def _read_in_a_process(path: Path, root: Path, show: str, timeout: float = 120) -> str:
    """read_workbook(path) in its own Python process (a crash or a hang there cannot take the test run with it);
    what `print(show)` printed, `show` being an expression of its result r."""
    code = ("from pathlib import Path; from pipeline.catalog import load_config; "
            "from pipeline.intake.ingest import read_workbook; "
            f"r = read_workbook(Path({str(path)!r}), Path({str(root)!r}), load_config(Path('config'))); "
            f"print({show})")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


# ---------------------------------------------------------------- item 8: a far cell must not abort the process

def _far_cell_workbook(path: Path) -> Path:
    workbook(path, "工会", roster=staff(2, prefix="远", start=7100))
    _rewrite_sheet(path, _roster_xml(path), lambda d: d.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'))
    return path


def test_a_value_in_xfd1048576_is_an_error_for_its_file_and_the_run_goes_on(tmp_path):
    inbox = tmp_path / "inbox"
    far = _far_cell_workbook(inbox / "工会-台账.xlsx")
    assert far.stat().st_size < 10_000
    workbook(inbox / "团委-台账.xlsx", "团委", roster=staff(3, prefix="团", start=7200))
    scores = _report_in_a_process(inbox, tmp_path / "out")
    (err,) = issues(scores, "sheet-too-large")
    assert (err["level"], err["file"], err["sheet"], err["value"], err["department"]) == \
        ("error", "工会-台账.xlsx", "人员名单", "XFD1048576", "工会")
    assert "1048576 行 × 16384 列" in err["message"] and "删除" in err["message"]
    depts = {d["name"]: d for d in scores["departments"]}
    assert depts["团委"]["submitted"] and depts["工会"]["state"] == "unreadable"


def test_read_workbook_refuses_the_far_cell_for_collect_too(tmp_path):
    """collect attributes a saved attachment through read_workbook: the same check protects it."""
    far = _far_cell_workbook(tmp_path / "附件.xlsx")
    shown = _read_in_a_process(far, tmp_path, "[i.code for i in r.issues], r.readable, r.department")
    assert shown == "['sheet-too-large'] False 工会"


def test_a_sheet_within_the_limits_but_wide_is_still_read(tmp_path):
    path = tmp_path / "普及部-宽表.xlsx"
    workbook(path, "普及部", roster=staff(2, prefix="宽", start=7300))
    _rewrite_sheet(path, _roster_xml(path), lambda d: d.replace(
        b"</sheetData>", b'<row r="5"><c r="XFD5" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))
    rec = read_workbook(path, tmp_path, CONFIG)
    assert rec.readable and [i.code for i in rec.issues if i.level == "error"] == []


# ---------------------------------------------------------------- item 9: the formula scan is linear and bounded

def _comment_bomb(path: Path, tokens: int) -> Path:
    workbook(path, "组人部", roster=staff(2, prefix="注", start=7400))
    bomb = b"<!--" + b"<c><f>" * tokens + b"-->"  # after the last real </c>: a lazy <c>.*?</c> rescans to the end
    _rewrite_sheet(path, _roster_xml(path), lambda d: d.replace(b"</worksheet>", bomb + b"</worksheet>", 1))
    return path


def test_a_comment_full_of_cell_tokens_is_scanned_in_linear_time(tmp_path):
    path = _comment_bomb(tmp_path / "组人部-注释.xlsx", 300_000)
    assert path.stat().st_size < 40_000
    shown = _read_in_a_process(path, tmp_path, "r.readable, len(r.sheets['roster'][0]), [i.code for i in r.issues]",
                               timeout=90)
    assert shown == "True 2 []"  # nothing in the comment is a cell


def test_the_formula_scan_gives_up_after_its_time_bound(tmp_path, monkeypatch):
    from pipeline.intake import scan
    path = tmp_path / "机关纪委-公式.xlsx"
    workbook(path, "机关纪委", roster=staff(2, prefix="限", start=7500))
    monkeypatch.setattr(scan, "SCAN_SECONDS", -1.0)
    rec = read_workbook(path, tmp_path, CONFIG)
    assert rec.readable and [i.code for i in rec.issues] == ["formula-scan-incomplete"]


# ---------------------------------------------------------------- item 13: what an inbox may hold

def _remove_tree(top: str) -> None:
    """Without recursion (shutil.rmtree, and pytest's own clean-up of old temporary folders, recurse)."""
    stack = [(top, False)]
    while stack:
        path, emptied = stack.pop()
        if emptied:
            os.rmdir(path)
            continue
        stack.append((path, True))
        for entry in os.scandir(path):
            if entry.is_dir(follow_symlinks=False):
                stack.append((entry.path, False))
            else:
                os.unlink(entry.path)


@pytest.fixture
def deep_tree(tmp_path):
    """1,200 nested folders under tmp_path/inbox/d, removed afterwards."""
    path = str(tmp_path / "inbox")
    os.makedirs(path, exist_ok=True)
    for _ in range(1200):
        path += "/d"
        os.mkdir(path)
    yield Path(path)
    _remove_tree(str(tmp_path / "inbox" / "d"))


def test_fifos_folders_named_like_workbooks_outside_links_and_deep_trees_never_stop_report(tmp_path, deep_tree):
    inbox = tmp_path / "inbox"
    workbook(inbox / "x.xlsx" / "团委-台账.xlsx", "团委", roster=staff(2, prefix="夹", start=7600))
    os.mkfifo(inbox / "管道.xlsx")
    (inbox / "y.eml").mkdir()
    outside = workbook(tmp_path / "别处" / "工会-台账.xlsx", "工会", roster=staff(2, prefix="外", start=7700))
    (inbox / "工会-链接.xlsx").symlink_to(outside)
    (inbox / "外部文件夹").symlink_to(outside.parent)
    workbook(deep_tree / "妇联-深处.xlsx", "妇联", roster=staff(1, prefix="深", start=7800))
    scores = _report_in_a_process(inbox, tmp_path / "out")
    depts = {d["name"]: d for d in scores["departments"]}
    assert depts["团委"]["file"] == "x.xlsx/团委-台账.xlsx"
    assert not depts["工会"]["submitted"] and not depts["妇联"]["submitted"]
    by_code = {}
    for i in scores["issues"]:
        by_code.setdefault(i["code"], []).append(i["file"])
    assert by_code["file-special"] == ["管道.xlsx"]
    assert sorted(by_code["link-outside"]) == ["外部文件夹", "工会-链接.xlsx"]
    (too_deep,) = by_code["folder-too-deep"]
    assert too_deep == "/".join(["d"] * 33)
    assert "y.eml" not in str(by_code)


def test_the_size_is_checked_before_a_file_is_read(tmp_path):
    big = tmp_path / "工会-巨大.xlsx"
    with open(big, "wb") as f:
        f.truncate(4 * MAX_FILE_BYTES)  # sparse: no disk used
    tracemalloc.start()
    try:
        rec = read_workbook(big, tmp_path, CONFIG)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [i.code for i in rec.issues] == ["file-too-large"] and "200 MB" in rec.issues[0].message
    assert rec.department == "工会" and len(rec.sha256) == 64
    assert peak < 16 * 1024 * 1024  # streamed in 1 MB chunks, never held whole


def test_list_inbox_reports_a_fifo_without_opening_it(tmp_path):
    os.mkfifo(tmp_path / "a.xlsx")
    start = time.monotonic()
    paths, found = list_inbox(tmp_path)
    assert paths == [] and [i.code for i in found] == ["file-special"]
    rec = read_workbook(tmp_path / "a.xlsx", tmp_path, CONFIG)  # called directly (as collect may): no hang
    assert [i.code for i in rec.issues] == ["file-special"]
    assert time.monotonic() - start < 10


# ---------------------------------------------------------------- item 1: unreadable submissions are not 未报送

def test_an_unreadable_spreadsheet_counts_its_department_as_having_sent_something(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "工会-台账.ods").write_bytes(b"PK\x03\x04" + b"\x00" * 200)   # a broken .ods
    (inbox / "团委-台账.csv").write_text("序号,姓名\n1,张三\n", encoding="utf-8")
    (inbox / "妇联").mkdir()
    (inbox / "妇联" / "台账.xlsb").write_bytes(b"not a workbook")          # the folder names the department
    workbook(inbox / "普及部-台账.xlsx", "普及部", roster=staff(2, prefix="普", start=7900))
    scores = report(inbox, tmp_path / "out")
    depts = {d["name"]: d for d in scores["departments"]}
    assert {n: (d["state"], d["state_files"]) for n, d in depts.items() if d["state"] != "missing"} == {
        "工会": ("unreadable", ["工会-台账.ods"]), "团委": ("unreadable", ["团委-台账.csv"]),
        "妇联": ("unreadable", ["妇联/台账.xlsb"]), "普及部": ("submitted", [])}
    assert depts["工会"]["errors"] == 1 and not depts["工会"]["submitted"]
    (csv,) = issues(scores, "file-format-unsupported")
    assert csv["department"] == "团委" and "CSV" in csv["message"] and "另存为 .xlsx" in csv["message"]
    assert not issues(scores, "file-ignored")


# ---------------------------------------------------------------- item 5: untouched templates, negative list

def test_an_untouched_template_is_an_empty_submission_and_its_standards_stay_unfilled(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    template = inbox / template_filename(CONFIG, "组人部")  # exactly what `templates` writes
    build_template(CONFIG, "组人部").save(template)
    workbook(inbox / "团委-台账.xlsx", "团委", roster=staff(2, prefix="模", start=8000))
    scores = report(inbox, tmp_path / "out")
    (err,) = issues(scores, "template-empty")
    assert (err["level"], err["file"], err["department"]) == ("error", template.name, "组人部")
    dept = next(d for d in scores["departments"] if d["name"] == "组人部")
    assert (dept["submitted"], dept["state"], dept["errors"]) == (False, "empty", 1)
    only_theirs = [s for s in scores["standards"] if s["responsible"] == ["组人部"]]
    assert only_theirs and {s["status"] for s in only_theirs} == {"未填报"}
    assert not [r for r in scores["rows"]["negative"].values() if r]


def _office_workbook(path: Path, answers: dict[int, str]) -> Path:
    """办公室's own template, a person added and the negative list answered as given (index -> answer)."""
    wb = openpyxl.Workbook()
    wb.active.title = "填报信息"
    wb.active.append(["部门", "办公室"])
    ws = wb.create_sheet("人员名单")
    ws.append(["序号", "姓名", "工号"])
    ws.append([1, "办一", "8100"])
    neg = wb.create_sheet("负面清单自查")
    neg.append(["项目", "是否存在", "说明"])
    for i, item in enumerate(CONFIG.negative_items):
        neg.append([item, answers.get(i), None])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def test_each_blank_negative_list_answer_is_a_warning_and_the_check_is_incomplete(tmp_path):
    inbox = tmp_path / "inbox"
    _office_workbook(inbox / "办公室-台账.xlsx", {0: "否", 1: "否", 2: "×"})
    result = collect(inbox, CONFIG, YEAR)
    blank = [i for i in result.issues if i.code == "negative-unanswered"]
    assert [i.row for i in blank] == list(range(5, 2 + len(CONFIG.negative_items)))
    assert all(i.level == "warning" and i.column == "是否存在" for i in blank)
    from pipeline.intake.merge import negative_check
    check = negative_check(result.merged, CONFIG)
    assert (check.department, check.submitted, check.complete) == ("办公室", True, False)
    assert check.unanswered == list(CONFIG.negative_items[3:])
    assert [a.answer for a in check.answers[:3]] == [False, False, False]


def test_a_fully_answered_negative_list_is_complete(tmp_path):
    inbox = tmp_path / "inbox"
    _office_workbook(inbox / "办公室-台账.xlsx", {i: "否" for i in range(len(CONFIG.negative_items))} | {4: "是"})
    result = collect(inbox, CONFIG, YEAR)
    assert not [i for i in result.issues if i.code == "negative-unanswered"]
    from pipeline.intake.merge import negative_check
    check = negative_check(result.merged, CONFIG)
    assert check.complete and [a.item for a in check.answers if a.answer] == [CONFIG.negative_items[4]]


def test_no_negative_sheet_from_the_responsible_department_is_incomplete(tmp_path):
    inbox = tmp_path / "inbox"
    workbook(inbox / "办公室-台账.xlsx", "办公室", roster=[person("办二", "8200")])
    from pipeline.intake.merge import negative_check
    check = negative_check(collect(inbox, CONFIG, YEAR).merged, CONFIG)
    assert check.submitted and not check.complete and len(check.unanswered) == len(CONFIG.negative_items)


@pytest.mark.parametrize("xml, extent", [
    (b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>', (0, 0)),                 # the usual: fast
    (b'<sheetData><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>', (1048576, 16384)),
    (b"<x:sheetData><x:row r='3'><x:c t='n' r='XFD3'><x:v>1</x:v></x:c></x:row></x:sheetData>", (3, 16384)),
    (b'<sheetData><row r="200000"><c><v>1</v></c></row></sheetData>', (200000, 1)),            # no r on the cell
    (b'<sheetData><row r="9"><c r="ZZ9" s="1"/></row></sheetData>', (9, 0)),                    # styled, empty
    (b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData><!-- <c r="XFD1048576"><v>1</v></c> -->',
     (0, 0)),                                                                                  # in a comment
])
def test_sheet_extents_are_measured_whatever_the_spelling(xml, extent):
    from pipeline.intake.scan import sheet_extent, strip_markup
    assert sheet_extent(strip_markup(xml)) == extent


def test_a_file_named_for_one_department_whose_info_names_another_is_counted_by_info_and_said_so(tmp_path):
    """团委-….xlsx whose 填报信息 says 工会 is 工会's submission (contract §2), and a warning says so on the file:
    in scores.json, in the 校验报告 and on the console; 工会's earlier file is superseded as before."""
    from builders import run
    inbox = tmp_path / "inbox"
    workbook(inbox / "工会-台账.xlsx", "工会", roster=staff(2), submitted=f"{YEAR}-03-01")
    workbook(inbox / "团委-2026年台账.xlsx", "工会", roster=staff(4, prefix="团"), submitted=f"{YEAR}-04-01")
    workbook(inbox / "工会、团委联合活动台账.xlsx", "团委", roster=staff(1, prefix="联"))  # names 团委 too: no warning
    result = run("report", "--inbox", str(inbox), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "out" / "scores.json").read_text(encoding="utf-8"))
    found = issues(scores, "department-name-mismatch")
    assert [(i["level"], i["file"], i["sheet"], i["column"], i["value"], i["department"]) for i in found] == [
        ("warning", "团委-2026年台账.xlsx", "填报信息", "部门", "工会", "工会")]
    message = found[0]["message"]
    assert message == ("文件名表明是团委的台账，但“填报信息”中的部门是“工会”；已按“填报信息”计入工会。"
                       "如文件名或“填报信息”填错，请改正后重新报送")
    depts = {d["name"]: d for d in scores["departments"]}
    assert depts["工会"]["file"] == "团委-2026年台账.xlsx" and depts["工会"]["superseded"] == ["工会-台账.xlsx"]
    assert depts["团委"]["file"] == "工会、团委联合活动台账.xlsx"
    assert f"提醒：团委-2026年台账.xlsx / 填报信息 / 部门：{message}" in result.output  # the console
    (checked,) = (tmp_path / "out").glob("*校验报告.xlsx")
    texts = [c for ws in openpyxl.load_workbook(checked) for row in ws.iter_rows(values_only=True) for c in row]
    assert message in texts
