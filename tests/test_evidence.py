"""Evidence (佐证材料): listing, safe ZIP unpacking, department attribution, matching rows to files, rules."""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from builders import ACTIVITY_HEADERS, DOCUMENT_HEADERS, ROSTER_HEADERS, YEAR, issues, person, report, sheet
from evidence_files import gbk_zip, jpeg, jpeg_bytes, pdf, raw_zip, tree, word
from pipeline.catalog import load_config
from pipeline.errors import ConfigError
from pipeline.intake import evidence as ev
from pipeline.intake.evidence import Index, list_evidence, name_key, split_names, stage

ROOT = Path(__file__).resolve().parent.parent


def act(date, title, standard, evidence=None, place="机关会议室", host=None, participants=20):
    return [None, date, title, standard, host, participants, 2, place, "内容", evidence]


def doc(title, standard, number="津科协〔2026〕1号", kind="方案", date=f"{YEAR}-03-01", evidence=None):
    return [None, title, number, date, kind, standard, evidence]


def ledger(path: Path, dept: str, activities=(), documents=()) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "填报信息"
    for r, (k, v) in enumerate({"单位": "天津市科学技术协会", "部门": dept, "年度": YEAR}.items(), 1):
        ws.cell(r, 1, k)
        ws.cell(r, 2, v)
    sheet(wb.create_sheet("人员名单"), ROSTER_HEADERS, [person(f"{dept}甲", f"{dept}-1")])
    sheet(wb.create_sheet("活动记录"), ACTIVITY_HEADERS, activities)
    sheet(wb.create_sheet("制度文件"), DOCUMENT_HEADERS + ["佐证材料"], documents)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def std(scores, code):
    return next(s for s in scores["standards"] if s["code"] == code)


# ---------------------------------------------------------------- names


def test_cell_separators_and_name_keys():
    assert split_names("照片1.jpg、照片2.jpg，签到表,通知；会议记录;纪要\n方案\r\n 总结 ") == [
        "照片1.jpg", "照片2.jpg", "签到表", "通知", "会议记录", "纪要", "方案", "总结"]
    assert split_names(None) == [] and split_names("  ") == []
    assert name_key("ＰＨＯＴＯ１.JPG") == name_key("photo1.jpg")
    assert name_key("《创建工作方案》.PDF") == name_key("创建工作方案.pdf")


# ---------------------------------------------------------------- hostile ZIPs


def test_zip_traversal_names_are_skipped_and_nothing_leaves_the_staging_folder(tmp_path, config):
    inbox = tmp_path / "inbox"
    raw_zip(inbox / "团委-照片.zip", {"../../逃逸.jpg": b"x", "/etc/绝对.jpg": b"x", "C:/Windows/盘符.jpg": b"x",
                                     "好/../../../上层.jpg": b"x", "正常/合影.jpg": jpeg_bytes()})
    before = tree(tmp_path)
    files, found = list_evidence(inbox, config)
    assert [f.name for f in files] == ["团委-照片.zip/正常/合影.jpg"]
    assert sorted(i.value for i in found if i.code == "archive-unsafe-entry") == sorted(
        ["../../逃逸.jpg", "/etc/绝对.jpg", "C:/Windows/盘符.jpg", "好/../../../上层.jpg"])
    staging = tmp_path / "out" / "staging"
    assert stage(files, staging) == []
    after = tree(tmp_path)
    new = sorted(set(after) - set(before))
    assert new == [p for p in new if p.startswith("out/staging/")] and len(new) == 1
    assert files[0].path.read_bytes() == jpeg_bytes()
    assert tree(inbox) == {k[len("inbox/"):]: v for k, v in before.items() if k.startswith("inbox/")}


def test_evidence_listing_uses_the_safe_walk_no_link_out_no_fifo(tmp_path, config):
    """The deep-tree case runs through report in test_intake_inputs (os.walk recursed and aborted it)."""
    inbox = tmp_path / "inbox"
    jpeg(inbox / "团委" / "照片1.jpg")
    outside = tmp_path / "别处" / "密件.pdf"
    outside.parent.mkdir(parents=True)
    outside.write_bytes(b"%PDF-1.4 secret")
    (inbox / "团委" / "链接.pdf").symlink_to(outside)
    os.mkfifo(inbox / "管道.jpg")
    files, _ = list_evidence(inbox, config)
    assert [f.name for f in files] == ["团委/照片1.jpg"]


def test_zip_symlink_entry_is_skipped(tmp_path, config):
    path = tmp_path / "inbox" / "团委.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("链接.jpg")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
        zf.writestr("真.jpg", jpeg_bytes())
    files, found = list_evidence(path.parent, config)
    assert [f.original for f in files] == ["真.jpg"]
    assert [i.value for i in found if i.code == "archive-unsafe-entry"] == ["链接.jpg"]


def test_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "团委-炸弹.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("零.bin", "w") as out:
            block = bytes(1024 * 1024)
            for _ in range(40):  # 40 MB of zeros, about 40 KB compressed
                out.write(block)
    files, found = list_evidence(inbox, config)
    assert [i.code for i in found] == ["archive-too-large"] and "压缩比异常" in found[0].message
    assert found[0].file == "团委-炸弹.zip" and found[0].department == "团委"
    assert [f.name for f in files] == []   # neither its members nor the bomb itself go anywhere


def test_zip_over_the_size_limit_is_refused(tmp_path, config, monkeypatch):
    inbox = tmp_path / "inbox"
    raw_zip(inbox / "大.zip", {f"{i}.jpg": jpeg_bytes() for i in range(3)})
    monkeypatch.setattr(ev, "MAX_ZIP_BYTES", 1000)
    _, found = list_evidence(inbox, config)
    assert [i.code for i in found] == ["archive-too-large"] and "上限" in found[0].message


def test_zip_with_thousands_of_entries_is_refused(tmp_path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "多.zip", "w") as zf:
        for i in range(ev.MAX_ZIP_ENTRIES + 500):
            zf.writestr(f"{i}.txt", b"")
    files, found = list_evidence(inbox, config)
    assert files == [] and [i.code for i in found] == ["archive-too-large"]
    assert f"有{ev.MAX_ZIP_ENTRIES + 500}个文件" in found[0].message


def test_member_larger_than_declared_stops_unpacking(tmp_path, config):
    inbox = tmp_path / "inbox"
    path = raw_zip(inbox / "团委-谎报.zip", {"照片.jpg": bytes(range(256)) * 400})
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x01\x02")      # central directory: claim 100 bytes uncompressed
    data[at + 24:at + 28] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    files, found = list_evidence(inbox, config)
    assert found == [] and files[0].size == 100
    staging = tmp_path / "staging"
    problems = stage(files, staging)
    assert [i.code for i in problems] == ["archive-unreadable"] and files[0].path is None
    assert sum(p.stat().st_size for p in staging.rglob("*") if p.is_file()) <= 100


def test_gbk_names_without_the_utf8_flag_are_decoded(tmp_path, config):
    inbox = tmp_path / "inbox"
    gbk_zip(inbox / "活动照片.zip", {"团委/学雷锋志愿服务/现场照片1.jpg": jpeg_bytes()})
    with zipfile.ZipFile(inbox / "活动照片.zip") as zf:
        assert not zf.infolist()[0].flag_bits & 0x800
    files, found = list_evidence(inbox, config)
    assert found == []
    assert [(f.original, f.department) for f in files] == [("现场照片1.jpg", "团委")]
    assert files[0].containers == ("活动照片.zip", "团委", "学雷锋志愿服务")
    stage(files, tmp_path / "staging")
    assert files[0].path.name == "现场照片1.jpg" and files[0].path.read_bytes() == jpeg_bytes()


def test_rar_and_7z_are_kept_and_reported_for_a_manual_look(tmp_path, config):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "团委-照片.rar").write_bytes(b"Rar!\x1a\x07\x00")
    (inbox / "工会-照片.7z").write_bytes(b"7z\xbc\xaf\x27\x1c")
    files, found = list_evidence(inbox, config)
    assert sorted((f.name, f.kind) for f in files) == [("团委-照片.rar", "archive"), ("工会-照片.7z", "archive")]
    assert sorted(i.message for i in found) == sorted([
        "RAR 压缩包不能自动解压，已保留原文件，请人工打开查看；以后请改用 .zip 格式报送",
        "7z 压缩包不能自动解压，已保留原文件，请人工打开查看；以后请改用 .zip 格式报送"])


# ---------------------------------------------------------------- departments


def test_department_from_manifest_then_folder_then_file_name(tmp_path, config):
    inbox = tmp_path / "inbox"
    jpeg(inbox / "20261101-a@x.cn-照片.jpg")
    jpeg(inbox / "妇联" / "材料" / "合影.jpg")
    jpeg(inbox / "工会活动.jpg")
    jpeg(inbox / "无名.jpg")
    ledger(inbox / "团委.xlsx", "团委")
    (inbox / "manifest.json").write_text(json.dumps({"messages": [], "files": [
        {"saved": "20261101-a@x.cn-照片.jpg", "original": "照片.jpg", "department": "机关党委", "kind": "evidence",
         "sha256": "0"}]}, ensure_ascii=False), encoding="utf-8")
    files, _ = list_evidence(inbox, config)
    got = {f.name: (f.original, f.department) for f in files}
    assert got == {"20261101-a@x.cn-照片.jpg": ("照片.jpg", "机关党委办"), "妇联/材料/合影.jpg": ("合影.jpg", "妇联"),
                   "工会活动.jpg": ("工会活动.jpg", "工会"), "无名.jpg": ("无名.jpg", None)}  # workbooks are not evidence


def test_content_sent_again_under_another_name_matches_both_names(tmp_path, config):
    inbox = tmp_path / "inbox"
    jpeg(inbox / "20261101-a@x.cn-合影.jpg")
    (inbox / "manifest.json").write_text(json.dumps({"messages": [], "files": [
        {"saved": "20261101-a@x.cn-合影.jpg", "original": "合影.jpg", "department": "团委", "kind": "evidence"},
        {"saved": "20261101-a@x.cn-合影.jpg", "original": "集体照.JPG", "department": "团委", "kind": "evidence"}]},
        ensure_ascii=False), encoding="utf-8")
    files, _ = list_evidence(inbox, config)
    assert [(f.original, f.aliases) for f in files] == [("合影.jpg", ("集体照.JPG",))]
    index = Index(files)
    assert index.find("合影.jpg", "团委") == [0] and index.find("集体照", "团委") == [0]
    assert index.find("20261101-a@x.cn-合影.jpg", "团委") == [0]   # the saved name works too


# ---------------------------------------------------------------- matching


def test_own_department_then_host_then_unknown_never_another_department(tmp_path, config):
    """Contract §8 (amended): own department's file, then the row's 主办部门's, then files of unknown department;
    never another department's file because the names are equal."""
    inbox = tmp_path / "inbox"
    jpeg(inbox / "团委" / "合影.jpg", color=(1, 2, 3))
    jpeg(inbox / "工会" / "合影.jpg", color=(200, 2, 3))
    jpeg(inbox / "独有.JPG")
    jpeg(inbox / "照片3.jpg", color=(9, 9, 9))           # department unknown
    jpeg(inbox / "工会" / "照片3.jpg", color=(8, 8, 8))
    files, _ = list_evidence(inbox, config)
    index = Index(files)
    assert [files[i].name for i in index.find("合影.jpg", "团委")] == ["团委/合影.jpg"]
    assert [files[i].name for i in index.find("合影", "工会")] == ["工会/合影.jpg"]
    assert index.find("合影.jpg", "妇联") == []                                   # never another department's
    assert [files[i].name for i in index.find("合影.jpg", "妇联", "工会")] == ["工会/合影.jpg"]   # the 主办部门's
    assert [files[i].name for i in index.find("照片3.jpg", "机关党委办")] == ["照片3.jpg"]        # unknown department
    assert [files[i].name for i in index.find("照片3.jpg", "工会")] == ["工会/照片3.jpg"]
    assert [files[i].name for i in index.find("独有．ｊｐｇ", "妇联")] == ["独有.JPG"]   # width and case
    assert [files[i].name for i in index.find("独有.png", "妇联")] == ["独有.JPG"]      # same name, other extension
    assert index.find("独", "妇联") == [] and index.find("有.JPG", "妇联") == []


def test_rows_match_files_and_report_missing_and_unassigned(tmp_path):
    inbox = tmp_path / "inbox"
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[
        act(f"{YEAR}-03-05", "学雷锋志愿服务", "3.2.2", "学雷锋1.JPG、ＸＵＥ２，照片3.jpg"),
        act(f"{YEAR}-04-05", "结对帮扶", "3.2.2", "帮扶照片")], documents=[
        doc("志愿服务管理制度", "3.2.3", kind="制度"), doc("志愿服务计划", "3.2.3", kind="计划", evidence="计划正文.pdf")])
    jpeg(inbox / "团委" / "学雷锋1.jpg")
    jpeg(inbox / "团委" / "xue2.jpeg")
    gbk_zip(inbox / "团委-帮扶.zip", {"帮扶照片/1.jpg": jpeg_bytes(), "帮扶照片/2.jpg": jpeg_bytes(color=(9, 9, 9))})
    word(inbox / "团委" / "《志愿服务管理制度》.docx")
    pdf(inbox / "计划正文.pdf")
    jpeg(inbox / "团委" / "没人提到.jpg")
    scores = report(inbox, tmp_path / "out")
    missing = issues(scores, "evidence-missing")
    assert [(i["file"], i["sheet"], i["row"], i["column"], i["value"], i["message"]) for i in missing] == [
        ("团委-台账.xlsx", "活动记录", 3, "佐证材料", "照片3.jpg", "佐证材料“照片3.jpg”未找到，请随台账一并报送")]
    assert missing[0]["level"] == "warning" and missing[0]["department"] == "团委"
    unassigned = issues(scores, "evidence-unassigned")
    assert [(i["file"], i["department"], i["level"]) for i in unassigned] == [("团委/没人提到.jpg", "团委", "info")]
    assert scores["evidence"]["unassigned"] == [{"file": "团委/没人提到.jpg", "department": "团委"}]
    assert scores["evidence"]["files"] == 7 and scores["evidence"]["matched"] == 6
    assert std(scores, "3.2.2")["evidence_files"] == 4 and std(scores, "3.2.2")["evidence_missing"] == 1
    assert std(scores, "3.2.3")["evidence_files"] == 2 and std(scores, "3.2.3")["evidence_missing"] == 0


def test_missing_evidence_flows_into_the_validation_report(tmp_path):
    import openpyxl
    inbox = tmp_path / "inbox"
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[act(f"{YEAR}-03-05", "学雷锋", "3.2.2", "照片3.jpg")])
    jpeg(inbox / "团委" / "别的.jpg")  # 团委 sent evidence, so its rows are checked
    report(inbox, tmp_path / "out")
    (path,) = (tmp_path / "out").glob("*校验报告.xlsx")
    ws = openpyxl.load_workbook(path)["团委"]
    rows = [tuple(c.value for c in r) for r in ws.iter_rows(min_row=2)]
    assert ("提醒", "活动记录", 3, "佐证材料", "照片3.jpg", "佐证材料“照片3.jpg”未找到，请随台账一并报送") in rows


# ---------------------------------------------------------------- rules


def _rules_inbox(inbox: Path) -> None:
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[
        act(f"{YEAR}-03-05", "学雷锋志愿服务", "3.2.3", "一张.jpg"),
        act(f"{YEAR}-04-05", "志愿服务注册日", "3.2.3", "a.jpg、b.jpg", place=None)], documents=[
        doc("志愿服务方案", "3.2.3", number=None, kind="方案", evidence="a.jpg"),
        doc("往年制度", "3.2.3", kind="制度", date=f"{YEAR - 1}-12-01", evidence="a.jpg")])
    for name in ("一张.jpg", "a.jpg", "b.jpg"):
        jpeg(inbox / "团委" / name)


RULE_REASONS = [
    "活动“学雷锋志愿服务”只有1张照片，要求不少于2张",
    "活动“志愿服务注册日”缺少地点，照片说明（时间、地点、人物、主题）不完整，请补填",
    "文件“志愿服务方案”（方案）缺少文号，请补填",
    f"文件“往年制度”日期{YEAR - 1}-12-01不在{YEAR}年度内，请核对"]


def test_rules_say_what_fails_but_the_status_stays_the_contracts(tmp_path):
    """Contract section 5: 佐证不足 counts used rows; the evidence rules are reported, not scored, by default."""
    inbox = tmp_path / "inbox"
    _rules_inbox(inbox)
    scores = report(inbox, tmp_path / "out")
    s = std(scores, "3.2.3")
    assert s["status"] == "达标"
    assert s["evidence_reasons"] == RULE_REASONS
    rows = {(i["code"], i["sheet"], i["row"]) for i in scores["issues"]}
    assert {("evidence-photos-short", "活动记录", 3), ("evidence-caption", "活动记录", 4),
            ("evidence-number-missing", "制度文件", 3), ("evidence-out-of-year", "制度文件", 4)} <= rows


def test_rules_affect_the_status_when_the_catalog_says_so(tmp_path):
    import shutil
    conf = tmp_path / "config"
    shutil.copytree(ROOT / "config", conf)
    catalog = conf / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    assert "affects_status: false" in text
    catalog.write_text(text.replace("affects_status: false", "affects_status: true"), encoding="utf-8")
    inbox = tmp_path / "inbox"
    _rules_inbox(inbox)
    scores = report(inbox, tmp_path / "out", "--config", str(conf))
    s = std(scores, "3.2.3")
    assert s["status"] == "佐证不足"
    assert s["evidence_reasons"] == RULE_REASONS + ["符合佐证要求的活动和文件0条，要求不少于1条"]


def test_one_row_meeting_the_rules_is_enough(tmp_path):
    inbox = tmp_path / "inbox"
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[
        act(f"{YEAR}-03-05", "学雷锋志愿服务", "3.2.3", "a.jpg、b.jpg"),
        act(f"{YEAR}-04-05", "注册日", "3.2.3", "c.jpg")])
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        jpeg(inbox / name)
    s = std(report(inbox, tmp_path / "out"), "3.2.3")
    assert s["status"] == "达标" and s["evidence_reasons"] == ["活动“注册日”只有1张照片，要求不少于2张"]


def test_catalog_defaults_and_per_standard_overrides(tmp_path):
    import shutil

    import yaml
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    cat = yaml.safe_load((cfg / "catalog.yaml").read_text(encoding="utf-8"))
    cat["evidence_rules"]["min_photos"] = 1
    cat["indicators"][2]["items"][1]["standards"][2]["evidence_rules"] = {"min_photos": 3}   # 3.2.3
    (cfg / "catalog.yaml").write_text(yaml.safe_dump(cat, allow_unicode=True), encoding="utf-8")
    config = load_config(cfg)
    assert config.evidence_rules("3.2.2").min_photos == 1 and config.evidence_rules("3.2.3").min_photos == 3
    assert config.evidence_rules("3.2.3").captions is True  # the rest from the defaults
    inbox = tmp_path / "inbox"
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[act(f"{YEAR}-03-05", "学雷锋", "3.2.2", "a.jpg"),
                                                       act(f"{YEAR}-03-06", "注册日", "3.2.3", "a.jpg")])
    jpeg(inbox / "a.jpg")
    scores = report(inbox, tmp_path / "out", "--config", str(cfg))
    assert std(scores, "3.2.2")["evidence_reasons"] == []
    assert std(scores, "3.2.3")["evidence_reasons"][0] == "活动“注册日”只有1张照片，要求不少于3张"


def test_bad_evidence_rules_are_one_chinese_line(tmp_path):
    import shutil
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    text = (cfg / "catalog.yaml").read_text(encoding="utf-8").replace("min_photos: 2 ", "min_photos: -1 ")
    (cfg / "catalog.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="min_photos 应为不小于 0 的整数"):
        load_config(cfg)


def test_without_evidence_files_the_contract_statuses_stand(tmp_path):
    inbox = tmp_path / "inbox"
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[act(f"{YEAR}-03-05", "学雷锋", "3.2.3", "照片")])
    scores = report(inbox, tmp_path / "out")
    assert scores["evidence"]["checked"] is False and issues(scores, "evidence-missing") == []
    assert std(scores, "3.2.3")["status"] == "达标" and std(scores, "3.2.3")["evidence_reasons"] == []


def test_evidence_listing_never_changes_the_inbox(tmp_path, config):
    inbox = tmp_path / "inbox"
    gbk_zip(inbox / "团委.zip", {"a/1.jpg": jpeg_bytes()})
    jpeg(inbox / "b.jpg", when=dt.date(2020, 1, 1))
    before = tree(inbox)
    files, _ = list_evidence(inbox, config)
    stage(files, tmp_path / "staging")
    assert tree(inbox) == before


def test_evidence_checks_switch_on_per_department_by_its_own_evidence(tmp_path):
    """One coordinator's Word note (and another department's photos) in the inbox turn on no checks for a
    department that sent no evidence: 办公室 gets no photo reminders; 团委, which sent photos, is checked."""
    inbox = tmp_path / "inbox"
    ledger(inbox / "办公室-台账.xlsx", "办公室", activities=[
        act(f"{YEAR}-03-0{d}", f"办公室活动{d}", "2.1.2", "会议照片.jpg" if d == 1 else None) for d in (1, 2, 3)])
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[
        act(f"{YEAR}-03-05", "学雷锋", "3.2.2", "学雷锋1.jpg"), act(f"{YEAR}-04-05", "结对帮扶", "3.2.2", "帮扶.jpg")])
    jpeg(inbox / "团委" / "学雷锋1.jpg")
    word(inbox / "报送说明.docx")  # the coordinator's note: no department
    scores = report(inbox, tmp_path / "out")
    evidence = [i for i in scores["issues"] if i["code"].startswith("evidence-") and i["code"] != "evidence-unassigned"]
    assert {i["department"] for i in evidence} == {"团委"}
    assert sorted((i["code"], i["row"]) for i in evidence) == [
        ("evidence-missing", 4), ("evidence-photos-none", 4), ("evidence-photos-short", 3)]
    assert scores["evidence"]["departments_checked"] == ["团委"]
    assert [i["file"] for i in issues(scores, "evidence-unassigned")] == ["报送说明.docx"]
    # once 办公室 sends a photo of its own, its rows are checked too
    jpeg(inbox / "办公室" / "会议照片.jpg")
    scores = report(inbox, tmp_path / "out2")
    office = [i for i in scores["issues"] if i["code"].startswith("evidence-photos") and i["department"] == "办公室"]
    assert sorted(i["row"] for i in office) == [3, 4, 5]
    assert scores["evidence"]["departments_checked"] == ["办公室", "团委"]
