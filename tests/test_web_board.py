"""A board staff can trust (over real HTTP): 逾期 from the 填报日期 or the mail's date, as the 进度通报 finds it,
never the upload time; unreadable and unassigned files listed and withdrawn; mailing every department only
after a confirmation; errors in place for the page's htmx targets."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import openpyxl
import yaml

from builders import run
from mailkit import XLSX, Recorder, message, smtp_server
from webkit import EXAMPLES, Client, running

from pipeline.catalog import load_config
from pipeline.documents.bulletin import progress
from pipeline.report import collect

ALL = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".xlsx", ".xls"))
# the sample workbooks' 填报日期: 办公室, 机关党委办, 工会, 团委 11-13; 普及部 11-14; 调宣部, 机关纪委 11-12;
# 组人部, 妇联 11-11. With the deadline on 11-12 these five are late, whatever the files' times say:
LATE_BY_DATE = ["办公室", "机关党委办", "普及部", "工会", "团委"]


def _set(config: Path, **values) -> None:
    path = config / "unit.yaml"
    unit = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in values.items():
        if key.startswith("mail_"):
            unit["mail"][key[5:]] = value
        elif key == "emails":
            for d in unit["departments"]:
                d["email"] = value.get(d["name"], d.get("email", ""))
        else:
            unit[key] = value
    path.write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")


def _late(client) -> list[str]:
    return [d["name"] for d in client.json("/api/status")["departments"] if d["late"]]


def test_late_is_by_the_filled_in_date_as_the_bulletin_finds_it_never_the_upload_time(tmp_path):
    with running(tmp_path, files=ALL) as s:
        _set(s.bench.config_dir, deadline=dt.date(2026, 11, 12))
        s.bench.reload_config()
        after = dt.datetime(2026, 12, 1).timestamp()  # every file uploaded (modified) long after the deadline
        for p in s.bench.inbox.iterdir():
            os.utime(p, (after, after))
        c = Client(s.server.server_port)
        assert _late(c) == LATE_BY_DATE
        # the bulletin's own rule on the same inbox finds the same departments
        cfg = load_config(s.bench.config_dir)
        assert progress(collect(s.bench.inbox, cfg), dt.date(2026, 12, 1)).late == LATE_BY_DATE
        result = run("bulletin", "--inbox", str(s.bench.inbox), "--out", str(tmp_path / "b"), "--config",
                     str(s.bench.config_dir), "--date", "2026-12-01")
        assert result.exit_code == 0, result.output
        assert "逾期：" + "、".join(LATE_BY_DATE) in result.output
        # the board shows each date and its source
        status, _, body = c.get("/")
        text = body.decode()
        row = re.search(r'<tr data-department="普及部".*?</tr>', text, re.S).group(0)
        assert 'data-late="yes"' in row and "2026年11月14日" in row and "逾期" in row
        row = re.search(r'<tr data-department="妇联".*?</tr>', text, re.S).group(0)
        assert 'data-late="no"' in row and "2026年11月11日" in row and "逾期" not in row
        # files modified long BEFORE the deadline change nothing either
        before = dt.datetime(2026, 1, 1).timestamp()
        for p in s.bench.inbox.iterdir():
            os.utime(p, (before, before))
        assert _late(c) == LATE_BY_DATE


def test_a_workbook_without_filled_in_date_takes_its_mails_date(tmp_path):
    """No 填报日期: the date of the mail it came in (manifest.json) decides; an upload without one is not late."""
    work = tmp_path / "work"
    work.mkdir()
    book = work / "调宣部-2026年文明单位创建台账.xlsx"
    shutil.copy(EXAMPLES / book.name, book)
    wb = openpyxl.load_workbook(book)
    info = wb["填报信息"]
    for row in info.iter_rows():
        if row[0].value and "填报日期" in str(row[0].value):
            row[1].value = None
    wb.save(book)
    eml = work / "eml"
    eml.mkdir()
    msg = message("<m1@unit.cn>", "调宣部 <tx@unit.cn>", "文明单位台账", [(book.name, book.read_bytes(), XLSX)],
                  date="Sun, 15 Nov 2026 09:30:00 +0800")
    (eml / "1.eml").write_bytes(bytes(msg))
    with running(tmp_path / "srv", files=["妇联-2026年文明单位创建台账.xlsx"]) as s:
        _set(s.bench.config_dir, deadline=dt.date(2026, 11, 12))
        s.bench.reload_config()
        assert run("collect", "--eml", str(eml), "--inbox", str(s.bench.inbox)).exit_code == 0
        c = Client(s.server.server_port)
        data = {d["name"]: d for d in c.json("/api/status")["departments"]}
        assert data["调宣部"]["late"] is True
        assert (data["调宣部"]["submitted_on"], data["调宣部"]["date_source"]) == ("2026-11-15", "邮件日期")
        assert data["妇联"]["late"] is False and data["妇联"]["date_source"] == "填报日期"
        cfg = load_config(s.bench.config_dir)
        assert progress(collect(s.bench.inbox, cfg), dt.date(2026, 12, 1)).late == ["调宣部"]
        # the same workbook uploaded (no mail date): its date is unknown, and it is not called late
        saved = next(p for p in s.bench.inbox.iterdir() if "调宣部" in p.name)
        manifest = json.loads((s.bench.inbox / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest["files"]:
            entry["date"] = ""
        (s.bench.inbox / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        os.utime(saved, (dt.datetime(2026, 12, 1).timestamp(),) * 2)
        data = {d["name"]: d for d in c.json("/api/status")["departments"]}
        assert data["调宣部"]["late"] is False and data["调宣部"]["submitted_on"] is None
        assert "未填写" in re.search(r'<tr data-department="调宣部".*?</tr>', c.get("/")[2].decode(), re.S).group(0)


def test_unreadable_and_unassigned_files_are_listed_and_withdrawn(tmp_path):
    with running(tmp_path, files=["工会-2026年文明单位创建台账.xlsx"]) as s:
        c = Client(s.server.server_port)
        status, _, body = c.upload([("反协办-台账.xlsx", b"PK\x03\x04 broken"), ("随手存的表.xlsx", b"not a zip"),
                                    ("照片.jpg", b"\xff\xd8\xff\xe0 jpeg")])
        assert status == 200
        names = {f["original"]: f["saved"] for f in json.loads(body)["files"]}
        data = c.json("/api/status")
        problems = {f["name"]: f for f in data["problem_files"]}
        nameless = names["随手存的表.xlsx"]
        assert set(problems) == {names["反协办-台账.xlsx"], nameless}
        assert problems[nameless]["department"] is None  # no department: listed all the same
        text = c.get("/")[2].decode()
        assert 'id="problem-count"><b>2</b>' in text
        card = re.search(r'<section class="card" id="problem-files">.*?</section>', text, re.S).group(0)
        table = re.search(r'<table class="grid stack" id="problem-table">.*?</table>', card, re.S).group(0)
        assert nameless in table and "部门不明" in table and table.count('action="/inbox/withdraw"') == 2
        assert table.count("撤回</button>") == 2
        # withdraw the nameless one, as the page's button does (htmx)
        status, headers, body = c.post_form("/inbox/withdraw", {"name": nameless}, headers={"HX-Request": "true"})
        assert status == 200 and "已撤回" in body.decode() and "<html" not in body.decode()
        assert "board-changed" in (headers.get("HX-Trigger", "") + headers.get("HX-Trigger-After-Settle", ""))
        assert not (s.bench.inbox / nameless).exists()
        assert (s.bench.inbox / "已撤回" / nameless).read_bytes() == b"not a zip"  # moved, never deleted
        manifest = json.loads((s.bench.inbox / "manifest.json").read_text(encoding="utf-8"))
        entry = next(f for f in manifest["files"] if f["saved"] == nameless)
        assert f"已撤回/{nameless}" in json.dumps(entry, ensure_ascii=False)  # the entry says where it went
        assert any(w["name"] == nameless for w in manifest["withdrawn"])
        data = c.json("/api/status")
        assert [f["name"] for f in data["problem_files"]] == [names["反协办-台账.xlsx"]]
        assert 'id="problem-count"><b>1</b>' in c.get("/")[2].decode()
        # the reader never sees it again: the report over the inbox does not list it
        scores = collect(s.bench.inbox, load_config(s.bench.config_dir))
        assert nameless not in {r.name for r in scores.merged.records}
        assert not any(nameless in (i.file or "") for i in scores.issues)
        # names that are not files of the inbox: one Chinese line in place, nothing moved
        for bad in ("../unit.yaml", "已撤回/" + nameless, "manifest.json", "没有这个文件.xlsx", "", "a\x00b"):
            status, _, body = c.post_form("/inbox/withdraw", {"name": bad}, headers={"HX-Request": "true"})
            text = body.decode()
            assert status == 400 and "没有文件" in text and "<html" not in text, (bad, text)
        assert (s.bench.inbox / "已撤回" / nameless).is_file()
        assert (s.bench.config_dir / "unit.yaml").is_file()
        # an evidence file no row names is listed too, and withdrawn the same way
        photo = names["照片.jpg"]
        assert [f["name"] for f in c.json("/api/status")["unassigned_files"]] == [photo]
        assert photo in re.search(r'<details id="unassigned".*?</details>', c.get("/")[2].decode(), re.S).group(0)
        status, _, body = c.post_form("/inbox/withdraw", {"name": photo}, headers={"HX-Request": "true"})
        assert status == 200 and (s.bench.inbox / "已撤回" / photo).is_file()
        assert c.json("/api/status")["unassigned_files"] == []
        # the same content uploaded again is saved again (the withdrawn copy does not count)
        status, _, body = c.upload([("随手存的表.xlsx", b"not a zip")])
        assert json.loads(body)["files"][0]["saved"] and not json.loads(body)["files"][0]["duplicate_of"]


def test_mailing_every_department_needs_a_confirmation(tmp_path):
    handler = Recorder()
    with smtp_server(handler) as port, running(tmp_path, files=["工会-2026年文明单位创建台账.xlsx"]) as s:
        _set(s.bench.config_dir, mail_sender="coord@unit.cn", mail_smtp_host="127.0.0.1", mail_smtp_port=port,
             mail_smtp_security="none", emails={"工会": "gh@unit.cn", "团委": "tw@unit.cn"})
        s.bench.reload_config()
        c = Client(s.server.server_port)
        status, _, body = c.post_form("/mail/send", {}, headers={"HX-Request": "true"})
        assert status == 400 and "请先在“生成文件”页生成" in body.decode() and "<html" not in body.decode()
        run("report", "--inbox", str(s.bench.inbox), "--out", str(s.bench.out), "--config", str(s.bench.config_dir),
            "--silent")
        status, _, body = c.post_form("/mail/send", {"smtp_password": ""}, headers={"HX-Request": "true"})
        text = body.decode()
        assert status == 200 and 'id="confirm-send"' in text and "<html" not in text
        assert "gh@unit.cn" in text and "tw@unit.cn" in text and "未填邮箱，不发送" in text
        assert "确认发送 2 封" in text
        assert handler.envelopes == []  # nothing sent before the confirmation
        status, _, body = c.post_form("/mail/send", {"smtp_password": "", "confirm": "1"},
                                      headers={"HX-Request": "true"})
        assert status == 200 and "已发送 2 封" in body.decode()
        assert sorted(e.rcpt_tos[0] for e in handler.envelopes) == ["gh@unit.cn", "tw@unit.cn"]


def test_page_forms_answer_in_place_with_busy_indicators(tmp_path):
    with running(tmp_path, files=["工会-2026年文明单位创建台账.xlsx"]) as s:
        c = Client(s.server.server_port)
        text = c.get("/mail")[2].decode()
        for action in ("/mail/collect", "/mail/preview", "/mail/send"):
            form = re.search(rf'<form[^>]*action="{action}"[^>]*>', text).group(0)
            assert f'hx-post="{action}"' in form and 'hx-target="#mail-result"' in form and "hx-indicator" in form
        board = c.get("/")[2].decode()
        upload = re.search(r'<form id="upload-form".*?</form>', board, re.S).group(0)
        assert 'hx-indicator="#upload-busy"' in upload
        assert "<button" not in upload.replace("<noscript><button", "")  # no 上传 button to press twice
        # an error of a mail form comes back as a fragment for the target, not an error page
        status, _, body = c.post_form("/mail/collect", {"host": "imap.example.com", "port": "x"},
                                      headers={"HX-Request": "true"})
        assert status == 400 and "端口“x”不是" in body.decode() and "<html" not in body.decode()
        status, _, body = c.upload([], headers={"HX-Request": "true"}, accept_json=False)
        assert status == 400 and "<html" not in body.decode()
