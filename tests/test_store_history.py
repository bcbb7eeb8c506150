"""The history database: each report run records its year; later years compare against earlier ones."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from builders import person, report, run, workbook
from pipeline.catalog import load_config
from pipeline.report import collect
from pipeline.store import history as hist
from pipeline.store.history import History, HistoryRun, SCHEMA_VERSION
from pipeline.documents.history_docs import change_phrase, metric_changes, term_table

ROOT = Path(__file__).resolve().parent.parent
SCORES_XLSX = "测评得分表"


def _roster(registered: int, total: int = 20) -> list[list]:
    """total in-service staff, the first `registered` of them registered volunteers (all serve)."""
    return [person(f"人员{i}", str(i), volunteer="是" if i < registered else "否",
                   served="是" if i < registered else "否") for i in range(total)]


def _inbox(root: Path, name: str, registered: int, total: int = 20) -> Path:
    inbox = root / name
    workbook(inbox / "机关党委办-台账.xlsx", "机关党委办", roster=_roster(registered, total))
    return inbox


def _year(tmp_path: Path, year: int, registered: int, db: Path, total: int = 20) -> dict:
    inbox = _inbox(tmp_path, f"inbox{year}-{registered}", registered, total)
    return report(inbox, tmp_path / f"out{year}", "--year", str(year), "--history", str(db))


def _scores_book(out: Path):
    path = next(p for p in out.iterdir() if SCORES_XLSX in p.name)
    return load_workbook(path)


def test_two_years_give_the_year_over_year_change_with_its_sign_and_figure(tmp_path):
    db = tmp_path / "h.sqlite"
    _year(tmp_path, 2025, 10, db)              # 50.0% registered
    config = load_config()
    result = collect(_inbox(tmp_path, "again", 13), config, 2026)   # 65.0%
    HistoryRun(result, db)
    changes = result.history.changes()
    assert changes["volunteer_registration_rate"].points == 15.0
    assert changes["volunteer_registration_rate"].direction == "up"
    assert metric_changes(result)["volunteer_registration_rate"] == "较上年提高15个百分点"

    down = collect(_inbox(tmp_path, "down", 7), config, 2026)     # 35.0%: 15 points lower
    HistoryRun(down, db)
    assert down.history.changes()["volunteer_registration_rate"].points == -15.0
    assert metric_changes(down)["volunteer_registration_rate"] == "较上年降低15个百分点"


def test_a_fractional_change_is_stated_to_one_decimal(tmp_path):
    db = tmp_path / "h.sqlite"
    _year(tmp_path, 2025, 16, db, total=31)    # 51.6%
    result = collect(_inbox(tmp_path, "y2026", 17, 31), load_config(), 2026)   # 54.8%
    HistoryRun(result, db)
    assert change_phrase(result.history.changes()["volunteer_registration_rate"]) == "较上年提高3.2个百分点"


def test_no_comparison_across_catalogs_or_thresholds(tmp_path):
    db = tmp_path / "h.sqlite"
    scores = _year(tmp_path, 2025, 10, db)
    other = json.loads(json.dumps(scores))
    other["metrics"]["volunteer_registration_rate"]["threshold"] = 0.6   # the threshold changed that year
    with History(db) as store:
        store.record(other, fingerprint="x", source="test")
    result = collect(_inbox(tmp_path, "y2026", 13), load_config(), 2026)
    HistoryRun(result, db)
    changes = result.history.changes()
    assert "volunteer_registration_rate" not in changes
    assert "participation_rate" in changes and changes["participation_rate"].direction == "same"

    other["catalog"] = "another-city-2020"
    with History(db) as store:
        store.record(other, fingerprint="x", source="test")
    result = collect(_inbox(tmp_path, "y2026b", 13), load_config(), 2026)
    HistoryRun(result, db)
    assert result.history.changes() == {}


def test_the_scores_workbook_gets_a_history_sheet_with_a_line_chart_per_metric(tmp_path):
    db = tmp_path / "h.sqlite"
    _year(tmp_path, 2025, 10, db)
    _year(tmp_path, 2026, 13, db)
    wb = _scores_book(tmp_path / "out2026")
    ws = wb["历年对比"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=4)]
    assert rows[0][:4] == ["年度", "达标条数", "参与率", "要求"]
    assert [r[0] for r in rows[1:]] == [2025, 2026]
    volunteer = rows[0].index("志愿者注册率")
    assert [r[volunteer] for r in rows[1:]] == [0.5, 0.65]
    assert len(ws._charts) == len(load_config().metrics)
    assert {type(c).__name__ for c in ws._charts} == {"LineChart"}
    # the first year has nothing to compare with: no sheet
    assert "历年对比" not in _scores_book(tmp_path / "out2025").sheetnames


def test_rerunning_a_year_replaces_its_record_and_keeps_the_run_log(tmp_path):
    db = tmp_path / "h.sqlite"
    _year(tmp_path, 2025, 10, db)
    _year(tmp_path, 2025, 12, db)
    with History(db) as store:
        records = store.records()
        log = store.run_log()
    assert [(r.year, r.metrics["volunteer_registration_rate"]["numerator"]) for r in records] == [(2025, 12)]
    assert [(e["year"], e["replaced"]) for e in log] == [(2025, 0), (2025, 1)]
    assert log[0]["fingerprint"] != log[1]["fingerprint"]      # the winning input files differed
    assert len(log[0]["fingerprint"]) == 64


def test_a_record_holds_metrics_standards_and_department_counts(tmp_path):
    db = tmp_path / "h.sqlite"
    scores = _year(tmp_path, 2025, 10, db)
    with History(db) as store:
        (rec,) = store.records()
    assert rec.unit == scores["unit"] and rec.catalog == "tianjin-2018" and len(rec.catalog_version) == 12
    assert rec.metrics["volunteer_registration_rate"] == {"numerator": 10, "denominator": 20, "value": 0.5,
                                                          "threshold": 0.5, "op": ">"}
    assert {c: s["status"] for c, s in rec.standards.items()} == {s["code"]: s["status"] for s in scores["standards"]}
    assert rec.departments["机关党委办"]["metrics"]["volunteer_registration_rate"] == [10, 20]
    assert rec.departments["团委"]["submitted"] is False


def test_a_damaged_database_is_one_line_and_the_documents_are_still_written(tmp_path):
    db = tmp_path / "h.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    before = db.read_bytes()
    inbox = _inbox(tmp_path, "inbox", 10)
    res = run("report", "--inbox", str(inbox), "--out", str(tmp_path / "out"), "--silent", "--history", str(db))
    assert res.exit_code == 0
    lines = [line for line in res.output.splitlines() if "历史数据库" in line]
    assert len(lines) == 1 and "已损坏" in lines[0] and "本次不作历年对比" in lines[0]
    assert (tmp_path / "out" / "scores.json").is_file()
    names = " ".join(p.name for p in (tmp_path / "out").iterdir())
    assert all(kind in names for kind in ("自查报告", "测评得分表", "任务分解", "校验报告"))
    assert db.read_bytes() == before          # never overwritten


def test_a_database_from_a_newer_version_is_one_line_and_left_untouched(tmp_path):
    db = tmp_path / "h.sqlite"
    with sqlite3.connect(db) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = db.read_bytes()
    inbox = _inbox(tmp_path, "inbox", 10)
    res = run("report", "--inbox", str(inbox), "--out", str(tmp_path / "out"), "--silent", "--history", str(db))
    assert res.exit_code == 0
    assert "来自更新版本的本工具" in res.output and "请升级本工具" in res.output
    assert (tmp_path / "out" / "scores.json").is_file()
    assert db.read_bytes() == before


def test_an_old_schema_is_migrated_forward_keeping_its_records(tmp_path):
    db = tmp_path / "h.sqlite"
    scores = _year(tmp_path, 2025, 10, tmp_path / "scratch.sqlite")
    with sqlite3.connect(db) as con:          # a version-1 database with a record, as the first release wrote
        hist.MIGRATIONS[0](con)
        con.execute("PRAGMA user_version = 1")
        con.execute("INSERT INTO records VALUES (?,?,?,?,?,?,?)",
                    (scores["unit"], 2025, "tianjin-2018", "v", "2025-12-01T10:00:00", "f", "report"))
        con.execute("INSERT INTO run_log (unit, year, catalog, ran_at, fingerprint, source, replaced) "
                    "VALUES (?,?,?,?,?,?,?)", (scores["unit"], 2025, "tianjin-2018", "2025-12-01", "f", "report", 0))
    with History(db) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [r.year for r in store.records()] == [2025]
        assert store.run_log()[0]["tool_version"] == ""           # the column added by version 2
        store.record(scores, fingerprint="g", source="report", out_dir="/x")
        assert store.run_log()[-1]["out_dir"] == "/x"


def test_history_import_reads_an_earlier_scores_json_and_lists_the_years(tmp_path):
    db = tmp_path / "h.sqlite"
    _year(tmp_path, 2024, 8, tmp_path / "elsewhere.sqlite")      # last year's run, on another machine
    res = run("history", "--history", str(db), "--import", str(tmp_path / "out2024"))
    assert res.exit_code == 0, res.output
    assert "已导入天津市科学技术协会2024年的记录" in res.output
    assert "天津市科学技术协会 2024年" in res.output and "导入" in res.output
    with History(db) as store:
        (rec,) = store.records()
    assert rec.year == 2024 and rec.source.startswith("import:")
    assert rec.metrics["volunteer_registration_rate"]["numerator"] == 8
    # this year's run now compares against the imported year
    result = collect(_inbox(tmp_path, "y2025", 10), load_config(), 2025)
    HistoryRun(result, db)
    assert result.history.changes()["volunteer_registration_rate"].points == 10.0


def test_history_import_of_a_malformed_scores_json_is_one_line(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "scores.json").write_text('{"unit": "某单位", "year": "去年"}', encoding="utf-8")
    res = run("history", "--history", str(tmp_path / "h.sqlite"), "--import", str(folder))
    assert res.exit_code == 1
    assert res.output.startswith("错误：") and "格式有误" in res.output and len(res.output.splitlines()) == 1


def test_history_lists_nothing_yet_without_a_database(tmp_path):
    res = run("history", "--history", str(tmp_path / "none.sqlite"))
    assert res.exit_code == 0 and "还没有记录" in res.output
    assert not (tmp_path / "none.sqlite").exists()


def test_report_records_into_the_default_database_created_on_first_use(tmp_path, monkeypatch):
    db = tmp_path / "deep" / "history.sqlite"
    monkeypatch.setenv(hist.ENV_PATH, str(db))
    report(_inbox(tmp_path, "inbox", 10), tmp_path / "out", "--year", "2025")
    with History(db) as store:
        assert [r.year for r in store.records()] == [2025]


def test_three_year_term_table_with_averages_and_standards_weak_two_years_running(tmp_path):
    db = tmp_path / "h.sqlite"
    s24 = _year(tmp_path, 2024, 8, db)
    _year(tmp_path, 2025, 10, db)
    result = collect(_inbox(tmp_path, "y2026", 12), load_config(), 2026)
    HistoryRun(result, db)
    term = term_table(result)
    assert term["years"] == [2024, 2025, 2026]
    row = next(r for r in term["metrics"] if r["key"] == "volunteer_registration_rate")
    assert row["values"] == {2024: 0.4, 2025: 0.5, 2026: 0.6}
    assert row["average"] == pytest.approx(0.5) and row["average_shown"] == "50.0%"
    weak = {w["code"] for w in term["weak_two_years"]}
    not_met_2024 = {s["code"] for s in s24["standards"] if s["status"] != "达标"}
    assert weak and weak <= not_met_2024                  # only standards weak in consecutive years
    assert "1.1.1" in weak                                 # no activities in any year
    assert set(term["met"]) == {2024, 2025, 2026}


def test_the_history_command_and_option_have_chinese_help():
    for args in (["history", "--help"], ["report", "--help"], ["export", "--help"], ["rollup", "--help"]):
        res = run(*args)
        assert res.exit_code == 0 and "用法：" in res.output
    assert "历史数据库" in run("report", "--help").output


def test_sample_history_database_path_is_ignored_by_git():
    root = Path(__file__).resolve().parent.parent
    assert "/history/" in (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert hist.DEFAULT_PATH == root / "history" / "history.sqlite"


def _docx_text(folder: Path, kind: str) -> str:
    from docx import Document
    doc = Document(str(next(p for p in folder.iterdir() if kind in p.name and p.suffix == ".docx")))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_the_self_report_weaves_the_change_into_the_metric_sentence(tmp_path):
    db = tmp_path / "h.sqlite"
    _year(tmp_path, 2025, 16, db, total=31)    # 51.6%
    inbox = _inbox(tmp_path, "y2026", 17, 31)   # 54.8%: passes 大于50% in both years
    report(inbox, tmp_path / "out", "--year", "2026", "--history", str(db))
    text = _docx_text(tmp_path / "out", "自查报告")
    # (one department's roster: the rate says what it covers, issue 22)
    assert re.search(r"为54\.8%(（按1个部门的人员名单统计）)?，较上年提高3\.2个百分点，超过测评标准规定的50%", text)
    # a failing metric in both years: the shortfall sentence carries the change too, and says 仍未达到
    db2 = tmp_path / "h2.sqlite"
    _year(tmp_path, 2025, 8, db2)              # 40%
    report(_inbox(tmp_path, "fail2026", 9), tmp_path / "fail", "--year", "2026", "--history", str(db2))   # 45%
    failing = _docx_text(tmp_path / "fail", "自查报告").split("二、存在问题")[1]
    assert re.search(r"注册志愿者9人，占45\.0%(（按1个部门的人员名单统计）)?，较上年提高5个百分点，仍未达到测评标准“大于50%”的要求",
                     failing)
    # no history: no comparison anywhere
    report(inbox, tmp_path / "fresh", "--year", "2026", "--history", str(tmp_path / "empty.sqlite"))
    assert "较上年" not in _docx_text(tmp_path / "fresh", "自查报告")


def test_the_internal_notice_gets_the_term_table(tmp_path):
    db = tmp_path / "h.sqlite"
    _year(tmp_path, 2024, 8, db)
    _year(tmp_path, 2025, 10, db)
    _year(tmp_path, 2026, 12, db)
    text = _docx_text(tmp_path / "out2026", "内部")
    assert "五、届期内历年对比" in text and "2024—2026年" in text
    assert "40.0%\n50.0%\n60.0%\n50.0%" in text          # 志愿者注册率 per year, then the average
    assert "连续两年未达标的测评标准：1.1.1" in text
    assert "届期内历年对比" not in _docx_text(tmp_path / "out2024", "内部")   # nothing before a second year


def test_check_names_a_broken_history_or_rollup_wording_entry(tmp_path):
    import shutil as sh
    from pipeline.catalog import DEFAULT_CONFIG_DIR
    for key, line in (("历年对比", "  提高: 较上年提高{百分比}个百分点\n"), ("汇总报告", "  前列: \"{前列的单位}位居前列\"\n")):
        cdir = tmp_path / key
        sh.copytree(DEFAULT_CONFIG_DIR, cdir)
        (cdir / "wording.yaml").write_text(f"{key}:\n{line}", encoding="utf-8")
        res = run("check", "--config", str(cdir))
        assert res.exit_code == 1, res.output
        assert f"“{key}." in res.output and "不存在的占位符" in res.output


# ---------------------------------------------------------------- nothing replaced quietly (issue 23, item 6)

def _youth(registered: int, total: int = 8) -> list[list]:
    return [person(f"团员{i}", f"T{i}", volunteer="是" if i < registered else "否",
                   served="是" if i < registered else "否") for i in range(total)]


def _two_departments(root: Path, name: str) -> Path:
    inbox = root / name
    workbook(inbox / "机关党委办-台账.xlsx", "机关党委办", roster=_roster(10))
    workbook(inbox / "团委-台账.xlsx", "团委", roster=_youth(5))
    return inbox


def _current(db: Path) -> tuple[int, dict]:
    with History(db) as store:
        (rec,) = store.records()
        versions = store.versions()
    return sum(d["submitted"] for d in rec.departments.values()), {v["id"]: bool(v["current"]) for v in versions}


def test_a_smaller_run_or_an_empty_folder_never_replaces_the_years_record_unless_confirmed(tmp_path):
    db = tmp_path / "h.sqlite"
    full = report(_two_departments(tmp_path, "full"), tmp_path / "o1", "--history", str(db))
    assert _current(db) == (2, {1: True})
    smaller = run("report", "--inbox", str(_inbox(tmp_path, "one", 10)), "--out", str(tmp_path / "o2"),
                  "--history", str(db), "--silent")
    assert smaller.exit_code == 0
    assert ("未替换历史数据库中2026年的记录：本次报送部门1个，少于已记录的2个" in smaller.output
            and "本次结果另存为第2版" in smaller.output and "report 加 --replace" in smaller.output), smaller.output
    assert _current(db) == (2, {1: True, 2: False})
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run("report", "--inbox", str(empty), "--out", str(tmp_path / "o3"), "--history", str(db), "--silent")
    assert res.exit_code == 0 and "未替换历史数据库中2026年的记录：本次没有任何部门报送可用的台账" in res.output
    assert _current(db) == (2, {1: True, 2: False, 3: False})
    # the same size with other figures is a normal re-run: it replaces, and the earlier version stays
    again = _two_departments(tmp_path, "again")
    workbook(again / "团委-台账.xlsx", "团委", roster=_youth(7))
    res = run("report", "--inbox", str(again), "--out", str(tmp_path / "o4"), "--history", str(db))
    assert "已替换历史数据库中2026年的记录（原记录保留为旧版本）" in res.output
    assert _current(db) == (2, {1: False, 2: False, 3: False, 4: True})
    # confirmed: the smaller run replaces
    res = run("report", "--inbox", str(_inbox(tmp_path, "one-b", 10)), "--out", str(tmp_path / "o5"),
              "--history", str(db), "--replace", "--silent")
    assert res.exit_code == 0 and "未替换" not in res.output
    assert _current(db) == (1, {1: False, 2: False, 3: False, 4: False, 5: True})
    # `history` shows every version and which one is current; `--use` goes back to one
    shown = run("history", "--history", str(db), "--use", "4").output
    assert "已采用第4版作为天津市科学技术协会2026年的记录" in shown
    lines = [line.strip() for line in shown.splitlines() if line.strip().startswith("第")]
    assert [line.split()[0] for line in lines] == ["第1版", "第2版", "第3版", "第4版", "第5版"]
    assert [("【当前】" in line) for line in lines] == [False, False, False, True, False]
    assert "报送部门 2 个，有效数据" in lines[0] and "报送部门 0 个" in lines[2]
    assert _current(db) == (2, {1: False, 2: False, 3: False, 4: True, 5: False})
    with History(db) as store:
        (rec,) = store.records()
    assert rec.departments["团委"]["metrics"]["volunteer_registration_rate"] == [7, 8]
    assert full["year"] == 2026


def test_sample_data_is_kept_apart_from_the_years_record(tmp_path):
    db = tmp_path / "h.sqlite"
    report(_two_departments(tmp_path, "real"), tmp_path / "real-out", "--history", str(db))
    sample = report(ROOT / "examples" / "inbox", tmp_path / "sample-out", "--sample", "--history", str(db))
    assert sample["sample"] is True and _current(db) == (2, {1: True})  # a demo run records nothing
    res = run("history", "--history", str(db), "--import", str(tmp_path / "sample-out"))
    assert "本次是示例数据，不作为本单位的记录" in res.output and "history --import 加 --replace" in res.output
    assert _current(db) == (2, {1: True, 2: False})
    only = tmp_path / "only-sample.sqlite"
    run("history", "--history", str(only), "--import", str(tmp_path / "sample-out"))
    shown = run("history", "--history", str(only)).output
    assert "2026年  （尚无采用的记录；可用 --use 采用下列某一版）" in shown and "第1版" in shown and "【示例数据】" in shown


def test_a_version_2_database_gets_its_records_as_current_versions(tmp_path):
    db = tmp_path / "h.sqlite"
    with History(db) as store:
        store.db.execute("DROP TABLE versions")
        store.db.execute("PRAGMA user_version = 2")
    _year(tmp_path, 2025, 10, db)  # recorded at version 3 now: the migration ran first
    with History(db) as store:
        assert [(v["year"], v["current"]) for v in store.versions()] == [(2025, 1)]
