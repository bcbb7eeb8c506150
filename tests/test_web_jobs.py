"""The 工作台 runs the year through the very functions the command line calls (contract §12): the same
scores.json facts, documents, output names and history rows; one job per folder (409); withdrawn files; the
说明报告 texts downloadable; the page's mail path refuses sample data as notify does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from builders import activity, document, person, run, staff, workbook
from docx import Document
from test_mail import imap_server, messages  # noqa: F401 - Dovecot on loopback (skips without it)
from webkit import EXAMPLES, ROOT

from pipeline import jobs
from pipeline.store.history import list_years
from pipeline.web.app import create_app
from pipeline.web.state import Workbench

BASE = "http://localhost"
POST = {"Origin": BASE}
AS_OF = "2026-09-15"


def messy_inbox(inbox: Path) -> Path:
    """Example workbooks (one department twice: 初稿 superseded), a hand-made one with rejected rows, a duplicate
    person and an unknown code, a corrupt workbook and an untouched one, a photo nobody names."""
    inbox.mkdir(parents=True)
    for name in ("办公室-2026年文明单位创建台账.xlsx", "工会-2026年文明单位创建台账.xlsx",
                 "工会-2026年文明单位创建台账（初稿）.xlsx", "普及部-2026年文明单位创建台账.xlsx"):
        shutil.copy2(EXAMPLES / name, inbox / name)
    workbook(inbox / "团委-台账.xlsx", "团委", submitted="2026-06-30",
             roster=[*staff(8, volunteer="是", served="是"), person("人员1", "1"), person(None, "99"),
                     person("张三", "100", satisfaction="很好")],
             activities=[activity("2026-03-05", "学雷锋志愿服务", "3.2.2"), activity("2025-12-01", "去年的活动", "3.2.2"),
                         activity("2026.4.1", "无编码活动", "9.9.9"), activity(None, "没有日期", "1.1.1")],
             documents=[document("团委志愿服务制度", "3.2.1", "2026-02-01")])
    (inbox / "妇联-台账.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    workbook(inbox / "反协办-台账.xlsx", "反协办")  # no data row: 空模板
    (inbox / "随手拍.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    return inbox


def docx_text(path: Path) -> list[str]:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return [p.text for p in doc.paragraphs] + cells


def names(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def history_rows(path: Path) -> list[dict]:
    records, _ = list_years(path)
    return [{k: v for k, v in dataclasses.asdict(r).items() if k != "ran_at"} for r in records]


class Page:
    """A 工作台 over its own folders, driven through Flask's test client."""

    def __init__(self, inbox: Path, out: Path, history: Path, templates: Path) -> None:
        self.bench = Workbench(inbox, out, ROOT / "config", templates, history=history)
        self.client = create_app(self.bench).test_client()

    def post(self, path: str, data: dict | None = None, headers: dict | None = None):
        return self.client.post(path, data=data or {}, headers={**POST, **(headers or {})}, base_url=BASE)

    def get(self, path: str, **headers):
        return self.client.get(path, headers=headers, base_url=BASE)

    def start(self, command: str, **form) -> str:
        resp = self.post(f"/jobs/{command}", form)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["job"]

    def wait(self, job_id: str, timeout: float = 120) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            state = self.get(f"/jobs/{job_id}").get_json()
            if state["state"] != "running":
                return state
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} still running")

    def run(self, command: str, **form) -> dict:
        state = self.wait(self.start(command, **form))
        assert state["state"] == "done", state
        return state


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """One messy inbox through the command line and through the page's jobs, each into its own folders."""
    tmp = tmp_path_factory.mktemp("both")
    inbox = messy_inbox(tmp / "inbox")
    cli_out, web_out = tmp / "cli", tmp / "web"
    cli_history, web_history = tmp / "cli.sqlite", tmp / "web.sqlite"
    past = tmp / "2025"  # an earlier year, imported into both history databases (the page through its job)
    assert run("report", "--inbox", str(inbox), "--out", str(past), "--year", "2025", "--silent",
               "--history", str(tmp / "scratch.sqlite")).exit_code == 0
    assert run("history", "--history", str(cli_history), "--import", str(past)).exit_code == 0
    page = Page(inbox, web_out, web_history, tmp / "web-templates")
    assert page.run("history", **{"import": str(past)})["lines"][0] == "已导入天津市科学技术协会2025年的记录"
    cli = {}
    for command, args in (("report", ["--inbox", str(inbox), "--out", str(cli_out), "--history", str(cli_history)]),
                          ("plan", ["--out", str(cli_out)]),
                          ("halfyear", ["--inbox", str(inbox), "--out", str(cli_out)]),
                          ("bulletin", ["--inbox", str(inbox), "--out", str(cli_out), "--date", AS_OF]),
                          ("templates", ["--out", str(tmp / "cli-templates")])):
        result = run(command, *args)
        assert result.exit_code == 0, result.output
        cli[command] = result.output
    web = {command: page.run(command, **form) for command, form in
           (("report", {}), ("plan", {}), ("halfyear", {}), ("bulletin", {"date": AS_OF}), ("templates", {}))}
    return {"inbox": inbox, "cli_out": cli_out, "web_out": web_out, "cli_history": cli_history,
            "web_history": web_history, "cli": cli, "web": web, "page": page, "tmp": tmp}


def test_the_page_and_the_command_line_write_the_same_scores_facts(both):
    cli = json.loads((both["cli_out"] / "scores.json").read_text(encoding="utf-8"))
    web = json.loads((both["web_out"] / "scores.json").read_text(encoding="utf-8"))
    assert cli == web
    states = {d["name"]: d["state"] for d in web["departments"]}
    assert states["妇联"] == "unreadable" and states["反协办"] == "empty" and states["团委"] == "submitted"
    assert web["rows"]["activities"]["rejected"] >= 3 and web["rows"]["roster"]["duplicate"] >= 1


def test_the_page_and_the_command_line_write_the_same_files(both):
    assert names(both["cli_out"]) == names(both["web_out"])
    assert names(both["tmp"] / "cli-templates") == names(both["tmp"] / "web-templates")
    written = set(names(both["web_out"]))
    for job in both["web"].values():  # every output a job names is there
        assert job["outputs"] and all(name in written or (both["tmp"] / "web-templates" / name).exists()
                                      for name in job["outputs"])
    assert any(n.startswith("说明报告/") and n.endswith(".txt") for n in both["web"]["report"]["outputs"])


def test_the_page_and_the_command_line_write_the_same_documents(both):
    docx = [n for n in names(both["cli_out"]) if n.endswith(".docx")]
    assert len(docx) >= 6
    for name in docx:
        assert docx_text(both["cli_out"] / name) == docx_text(both["web_out"] / name), name
    for name in names(both["cli_out"]):
        if name.endswith(".txt"):
            assert (both["cli_out"] / name).read_text(encoding="utf-8") == \
                (both["web_out"] / name).read_text(encoding="utf-8")


def test_the_page_records_the_same_history_rows_and_the_history_sheet(both):
    from openpyxl import load_workbook
    cli, web = history_rows(both["cli_history"]), history_rows(both["web_history"])
    assert [r["year"] for r in cli] == [2025, 2026] and cli == web
    book = load_workbook(next(both["web_out"].glob("*测评得分表.xlsx")))
    assert "历年对比" in book.sheetnames
    page = both["page"]
    listed = page.run("history")
    assert listed["message"].startswith("历史数据库：") and any("2026年" in line for line in listed["lines"])
    html = page.get("/history").get_data(as_text=True)
    assert 'data-year="2026"' in html


def test_the_page_shows_the_same_notes_to_check_as_the_console(both):
    report = both["web"]["report"]
    assert report["notes"], "the messy inbox leaves something to check"
    for note in report["notes"]:
        assert f"请核实：{note}" in both["cli"]["report"]
    assert report["message"].startswith(f"已生成 {len(report['outputs'])} 个文件") and report["progress"]["percent"] == 100


def test_the_bulletin_and_the_templates_say_what_the_console_says(both):
    web = [line.replace(str(both["web_out"]), "OUT") for line in both["web"]["bulletin"]["lines"]]
    cli = [line.replace(str(both["cli_out"]), "OUT") for line in both["cli"]["bulletin"].splitlines() if line]
    assert web == cli and web[-1].startswith("已生成第 1 期")
    assert both["web"]["templates"]["message"].startswith("已生成 10 份部门台账模板")


def test_a_second_job_on_the_same_folder_gets_409_in_chinese(tmp_path, monkeypatch):
    release = threading.Event()
    real = jobs.plan

    def slow_plan(*args, **kwargs):
        release.wait(30)
        return real(*args, **kwargs)
    monkeypatch.setattr(jobs, "plan", slow_plan)
    inbox = messy_inbox(tmp_path / "inbox")
    page = Page(inbox, tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "templates")
    first = page.start("plan")
    try:
        resp = page.post("/jobs/report")
        assert resp.status_code == 409
        message = resp.get_json()["error"]
        assert "正在进行" in message and "生成实施方案" in message
        assert page.get(f"/jobs/{first}").get_json()["state"] == "running"
        other = page.start("templates")  # another folder: not held
        assert page.wait(other)["state"] == "done"
        busy = page.post("/mail/preview")  # the mail page's notify holds the same folder
        assert busy.status_code == 409
    finally:
        release.set()
    assert page.wait(first)["state"] == "done"
    assert page.run("report")["state"] == "done"  # free again


def test_unknown_commands_and_jobs_are_404_and_bad_options_400(tmp_path):
    page = Page(messy_inbox(tmp_path / "inbox"), tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "t")
    assert page.post("/jobs/format-disk").status_code == 404
    assert page.get("/jobs/nope").status_code == 404
    resp = page.post("/jobs/bulletin", {"date": "15/09/2026"})
    assert resp.status_code == 400 and "2026-11-01" in resp.get_json()["error"]
    resp = page.post("/jobs/collect", {})
    assert resp.status_code == 400 and "二选一" in resp.get_json()["error"]
    resp = page.client.post("/jobs/bulletin", json={"date": "2026-13-01"}, headers=POST, base_url=BASE)
    assert resp.status_code == 400 and "2026-13-01" in resp.get_json()["error"]  # JSON bodies take the same options
    resp = page.client.post("/jobs/halfyear", json={"year": 2026}, headers=POST, base_url=BASE)
    assert resp.status_code == 200 and page.wait(resp.get_json()["job"])["state"] == "done"


def test_a_failed_job_says_why_in_one_chinese_line(tmp_path):
    page = Page(messy_inbox(tmp_path / "inbox"), tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "t")
    state = page.wait(page.start("notify"))  # no report yet: no scores.json
    assert state["state"] == "failed" and "scores.json" in state["message"] and state["outputs"] == []


def test_withdrawn_file_is_moved_recorded_and_skipped_by_every_reader(tmp_path):
    inbox = messy_inbox(tmp_path / "inbox")
    page = Page(inbox, tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "t")
    before = page.run("report")
    resp = page.post("/inbox/withdraw", {"name": "妇联-台账.xlsx"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["moved_to"] == "已撤回/妇联-台账.xlsx"
    assert not (inbox / "妇联-台账.xlsx").exists()
    assert (inbox / "已撤回" / "妇联-台账.xlsx").read_bytes().startswith(b"PK\x03\x04 not really")
    manifest = json.loads((inbox / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = manifest["withdrawn"]
    assert entry["name"] == "妇联-台账.xlsx" and entry["moved_to"] == "已撤回/妇联-台账.xlsx" and entry["date"]
    page.run("report")
    scores = json.loads((tmp_path / "out" / "scores.json").read_text(encoding="utf-8"))
    assert {d["name"]: d["state"] for d in scores["departments"]}["妇联"] == "missing"
    assert not [i for i in scores["issues"] if "妇联-台账" in str(i.get("file"))]
    assert before["state"] == "done"
    result = run("report", "--inbox", str(inbox), "--out", str(tmp_path / "cli"), "--silent")  # the CLI too
    assert result.exit_code == 0 and "妇联-台账" not in (tmp_path / "cli" / "scores.json").read_text(encoding="utf-8")
    archive = page.run("archive")
    assert not any("妇联-台账" in name for name in archive["outputs"])
    html = page.get("/jobs").get_data(as_text=True)
    assert 'href="/archive/%E5%9B%A2%E5%A7%94.zip"' in html  # each department's 工作档案 as a ZIP
    import io
    import zipfile
    resp = page.get("/archive/团委.zip")
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        listed = zf.namelist()
    on_disk = sorted(p for p in (tmp_path / "out" / "各部门工作档案" / "团委").rglob("*") if p.is_file())
    assert resp.status_code == 200 and len(listed) == len(on_disk) > 0 and all(n.startswith("团委/") for n in listed)
    for bad in ("妇联-台账", "..", "%2e%2e", "团委%2F..%2F.."):
        assert page.get(f"/archive/{bad}.zip").status_code == 404
    assert (inbox / "已撤回" / "妇联-台账.xlsx").exists()  # never deleted, by any job


def test_withdraw_takes_only_a_file_of_the_inbox(tmp_path):
    inbox = messy_inbox(tmp_path / "inbox")
    (tmp_path / "secret.xlsx").write_bytes(b"x")
    page = Page(inbox, tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "t")
    for name in ("../secret.xlsx", "", "manifest.json", "没有这个文件.xlsx", str(inbox / "团委-台账.xlsx")):
        resp = page.post("/inbox/withdraw", {"name": name}, headers={"Accept": "application/json"})
        assert resp.status_code == 400 and "收件箱中没有文件" in resp.get_json()["error"], name
    assert (tmp_path / "secret.xlsx").exists() and (inbox / "团委-台账.xlsx").exists()
    page.post("/inbox/withdraw", {"name": "团委-台账.xlsx"})
    page.post("/inbox/withdraw", {"name": "已撤回/团委-台账.xlsx"})  # already withdrawn: not listed any more
    assert (inbox / "已撤回" / "团委-台账.xlsx").exists()


def test_the_explanation_texts_download_and_nothing_outside_the_outputs(both):
    page = both["page"]
    texts = [n for n in names(both["web_out"]) if n.startswith("说明报告/")]
    assert texts
    for name in texts:
        resp = page.get(f"/files/{name}")
        assert resp.status_code == 200 and resp.mimetype == "text/plain"
        assert resp.data == (both["web_out"] / name).read_bytes()
    html = page.get("/documents").get_data(as_text=True)
    assert all(f"/files/{name.replace('/', '%2F')}" in html or f"/files/{name}" in html for name in texts) or \
        all(name in html for name in texts)
    for bad in ("说明报告/../scores.json", "../inbox/团委-台账.xlsx", "说明报告", ".lock", "说明报告/x/y.txt"):
        assert page.get(f"/files/{bad}").status_code == 404, bad


def test_templates_download_as_one_zip(both):
    import io
    import zipfile
    resp = both["page"].get("/templates.zip")
    assert resp.status_code == 200
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        listed = sorted(zf.namelist())
    assert listed == sorted(names(both["tmp"] / "cli-templates"))


def test_the_page_refuses_to_mail_from_sample_data_as_notify_does(tmp_path):
    inbox = messy_inbox(tmp_path / "inbox")
    page = Page(inbox, tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "t")
    result = run("report", "--inbox", str(inbox), "--out", str(tmp_path / "out"), "--silent", "--sample")
    assert result.exit_code == 0
    state = page.wait(page.start("notify"))
    assert state["state"] == "failed" and "示例数据" in state["message"]
    resp = page.post("/mail/send", {"smtp_password": "x"})
    assert resp.status_code == 400 and "示例数据" in resp.get_data(as_text=True)
    assert page.run("notify", dry_run="1")["outputs"]  # a dry run is still allowed, as on the command line


def test_new_endpoints_keep_the_guard(tmp_path):
    page = Page(messy_inbox(tmp_path / "inbox"), tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "t")
    c = page.client
    assert c.post("/jobs/report", base_url=BASE).status_code == 403                      # no Origin
    assert c.post("/jobs/report", headers={"Origin": "http://evil.example"}, base_url=BASE).status_code == 403
    assert c.post("/inbox/withdraw", data={"name": "团委-台账.xlsx"}, headers={"Origin": "http://evil.example"},
                  base_url=BASE).status_code == 403
    assert c.get("/jobs", base_url="http://evil.example").status_code == 403             # foreign Host
    assert (tmp_path / "inbox" / "团委-台账.xlsx").exists()
    guarded = Workbench(tmp_path / "inbox", tmp_path / "out", ROOT / "config", tmp_path / "t")
    locked = create_app(guarded, token="s3cret").test_client()
    assert locked.post("/jobs/report", headers=POST, base_url=BASE).status_code == 403
    assert locked.post("/jobs/templates", headers={**POST, "X-Wenming-Token": "s3cret"},
                       base_url=BASE).status_code == 200
    assert dt.date.today()  # the page's bulletin date defaults to today


def test_the_page_sends_through_the_smtp_server_typed_there_and_writes_no_password(tmp_path):
    """unit.yaml has every address but no SMTP server: the server typed on the page is used for the session,
    the password is kept in memory only, and the notify job's lock and sent log apply as on the command line."""
    import yaml
    from mailkit import Recorder, mail_config, smtp_server
    cfg_dir = mail_config(tmp_path, smtp_port=1)
    unit = yaml.safe_load((cfg_dir / "unit.yaml").read_text(encoding="utf-8"))
    unit["mail"]["smtp_host"] = ""
    (cfg_dir / "unit.yaml").write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
    inbox = messy_inbox(tmp_path / "inbox")
    page = Page(inbox, tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "t")
    page.bench.config_dir = cfg_dir
    page.bench.reload_config()
    page.run("report")
    failed = page.wait(page.start("notify"))
    assert failed["state"] == "failed" and "mail.smtp_host" in failed["message"]
    secret = "pw-never-on-disk-7f3a"
    handler = Recorder()
    with smtp_server(handler) as port:
        sent = page.run("notify", smtp_host="127.0.0.1", smtp_port=str(port), smtp_security="none",
                        smtp_password=secret)
        assert sent["message"].startswith("已发送 10 封") and len(handler.envelopes) == 10
        again = page.run("notify")  # remembered for the session: the server and the password
        assert "此前已发送过相同内容" in " ".join(again["lines"]) and len(handler.envelopes) == 10
    html = page.get("/jobs").get_data(as_text=True)
    assert 'value="127.0.0.1"' in html and secret not in html
    for folder in (tmp_path / "out", cfg_dir, inbox):
        for path in folder.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
    bad = page.post("/jobs/notify", {"smtp_port": "七"})
    assert bad.status_code == 400 and "邮件服务器设置 smtp_port" in bad.get_json()["error"]


def test_every_command_but_serve_runs_through_one_job():
    """cli.py only parses options and calls pipeline.jobs (sqlite-utils' thin CLI): every command of the command
    line has its job, and no command body reaches past the job layer into the library."""
    import ast
    import inspect

    from pipeline import cli
    commands = set(cli.main.commands) - {"serve"}
    assert commands == set(jobs.COMMANDS)
    tree = ast.parse(inspect.getsource(cli))
    bodies = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    for name, command in cli.main.commands.items():
        if name == "serve":
            continue
        body = bodies[command.callback.__name__]
        imported = {a.name for n in ast.walk(body) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert imported <= {"jobs", "console"}, (name, imported)


def test_collect_from_the_page_saves_as_the_command_line_does(tmp_path):
    from mailkit import XLSX, message
    eml = tmp_path / "eml"
    eml.mkdir()
    data = (EXAMPLES / "团委-2026年文明单位创建台账.xlsx").read_bytes()
    (eml / "1.eml").write_bytes(message("<a@x>", "团委 <tw@unit.cn>", "团委台账",
                                        [("团委台账.xlsx", data, XLSX)]).as_bytes())
    cli_inbox, web_inbox = tmp_path / "cli-inbox", tmp_path / "web-inbox"
    result = run("collect", "--eml", str(eml), "--inbox", str(cli_inbox))
    assert result.exit_code == 0, result.output
    web_inbox.mkdir()
    page = Page(web_inbox, tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "t")
    state = page.run("collect", eml=str(eml))
    assert state["lines"] == result.output.strip().splitlines()
    saved = [n for n in names(cli_inbox) if n != "manifest.json"]
    assert saved and state["outputs"] == saved == [n for n in names(web_inbox) if n != "manifest.json"]
    again = page.run("collect", eml=str(eml))  # nothing twice
    assert again["outputs"] == [] and "此前已收取的邮件 1 封" in again["message"]


def test_the_page_keeps_a_smaller_run_apart_until_the_coordinator_confirms(tmp_path):
    """A report job over a folder with fewer departments does not replace the year's record: the job says so;
    sent again with `replace` (the coordinator confirmed on the page) it does. History and export take their
    options from the form as the command line does."""
    inbox = tmp_path / "inbox"
    workbook(inbox / "团委-台账.xlsx", "团委", roster=staff(3, prefix="团"))
    workbook(inbox / "工会-台账.xlsx", "工会", roster=staff(2, prefix="工"))
    page = Page(inbox, tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "templates")
    page.run("report")
    (inbox / "工会-台账.xlsx").unlink()
    kept = page.run("report")
    assert any("未替换历史数据库中2026年的记录：本次报送部门1个，少于已记录的2个" in line for line in kept["lines"])
    (own,) = (tmp_path / "out").glob("*自查报告.docx")
    own.write_bytes(own.read_bytes() + b"\0")  # edited in WPS meanwhile: kept aside, and the job says so
    replaced = page.run("report", replace="1")
    assert any("已替换历史数据库中2026年的记录" in line for line in replaced["lines"]), replaced["lines"]
    assert f"提醒：“{own.name}”在上次生成后被修改过，已另存为“{own.stem}（修改稿）.docx”，新生成的文件不会覆盖这些修改" \
        in replaced["lines"]
    shown = page.run("history", use="1")["lines"]
    assert shown[0] == "已采用第1版作为天津市科学技术协会2026年的记录"
    assert [("【当前】" in line) for line in shown if line.strip().startswith("第")] == [True, False, False]
    page.run("export", internal="1")
    import zipfile
    (package,) = (tmp_path / "out").glob("*数据包.zip")
    with zipfile.ZipFile(package) as zf:
        assert any("校验报告" in n for n in zf.namelist())


def test_collect_from_a_real_imap_server_on_the_page_as_on_the_command_line(imap_server, tmp_path):
    """Dovecot on loopback: the page's collect job saves what the command line saves, remembers the server for
    the session (the form is prefilled) and writes the password nowhere."""
    from test_mail import _imap
    cli_inbox, web_inbox = tmp_path / "cli-inbox", tmp_path / "web-inbox"
    result = _imap(imap_server, cli_inbox)
    assert result.exit_code == 0, result.output
    web_inbox.mkdir()
    page = Page(web_inbox, tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "t")
    state = page.run("collect", imap_host="127.0.0.1", imap_port=str(imap_server), imap_user="coord",
                     imap_security="none", password="secret", confirm_server="1")  # not the server in unit.yaml
    assert state["lines"] == result.output.strip().splitlines()
    assert sorted(state["outputs"]) == [n for n in names(cli_inbox) if n != "manifest.json"]
    again = page.run("collect", imap_host="127.0.0.1", imap_port=str(imap_server), imap_user="coord",
                     imap_security="none")  # the password typed before, kept in memory
    assert again["outputs"] == [] and "此前已收取的邮件 5 封" in again["message"]
    html = page.get("/jobs").get_data(as_text=True)
    assert f'value="{imap_server}"' in html and 'value="coord"' in html and "secret" not in html
    for path in [*web_inbox.rglob("*"), *(tmp_path / "out").rglob("*")]:
        assert not path.is_file() or b"secret" not in path.read_bytes(), path


def test_progress_is_seen_while_the_report_runs(tmp_path, monkeypatch):
    """GET /jobs/<id> says "running" with the file being read, then "done"."""
    reading, release = threading.Event(), threading.Event()
    from pipeline import report as report_module
    original = report_module.read_all

    def slow(paths, inbox, config, progress=None):
        for rec in original(paths, inbox, config, progress):
            reading.set()
            release.wait(30)
            yield rec
    monkeypatch.setattr(report_module, "read_all", slow)
    page = Page(messy_inbox(tmp_path / "inbox"), tmp_path / "out", tmp_path / "h.sqlite", tmp_path / "t")
    job = page.start("report")
    try:
        assert reading.wait(30)
        state = page.get(f"/jobs/{job}").get_json()
        assert state["state"] == "running" and state["outputs"] == []
        assert state["progress"]["done"] >= 1 and state["progress"]["total"] == 7  # the workbooks, not the photo
        assert state["progress"]["stage"].startswith("正在读取报送文件：") and 5 <= state["progress"]["percent"] < 100
        fragment = page.get(f"/jobs/{job}", **{"HX-Request": "true"}).get_data(as_text=True)
        assert 'data-state="running"' in fragment and f'hx-get="/jobs/{job}"' in fragment and "<progress" in fragment
    finally:
        release.set()
    done = page.wait(job)
    assert done["state"] == "done" and done["progress"]["percent"] == 100
    fragment = page.get(f"/jobs/{job}", **{"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-get" not in fragment and "【待核实】" in fragment and "/files/" in fragment


def test_the_year_over_real_http(tmp_path):
    """A live 工作台 (threaded server on loopback): upload, every job by form POST, polling, withdraw, downloads."""
    from urllib.parse import quote

    from webkit import Client, running
    with running(tmp_path / "srv") as srv:
        srv.bench.templates_dir = tmp_path / "templates"  # the templates job writes here, not into the project
        c = Client(srv.server.server_port)
        status, _, body = c.upload([("团委-2026年文明单位创建台账.xlsx",
                                     (EXAMPLES / "团委-2026年文明单位创建台账.xlsx").read_bytes()),
                                    ("误传的表.xlsx", b"PK\x03\x04 broken")])
        assert status == 200
        wrong = json.loads(body)["files"][1]["saved"]  # the name the board shows
        status, _, body = c.post_form("/inbox/withdraw", {"name": wrong}, {"Accept": "application/json"})
        assert status == 200 and json.loads(body)["moved_to"] == f"已撤回/{wrong}"

        def run_job(command: str, **form) -> dict:
            status, _, body = c.post_form(f"/jobs/{command}", form)
            assert status == 200, body.decode()
            job = json.loads(body)["job"]
            for _ in range(600):
                state = c.json(f"/jobs/{job}")
                if state["state"] != "running":
                    return state
                time.sleep(0.2)
            raise AssertionError(command)

        for command, form in (("templates", {}), ("report", {}), ("plan", {}), ("halfyear", {}),
                              ("bulletin", {"date": AS_OF}), ("archive", {}), ("notify", {"dry_run": "1"}),
                              ("history", {}), ("export", {})):
            state = run_job(command, **form)
            assert state["state"] == "done", (command, state)
        report = run_job("report")
        scores = json.loads((srv.bench.out / "scores.json").read_text(encoding="utf-8"))
        assert {d["name"]: d["state"] for d in scores["departments"]}["团委"] == "submitted"
        assert not any("误传的表" in str(i.get("file")) for i in scores["issues"])
        for name in report["outputs"]:
            status, headers, body = c.get("/files/" + quote(name))
            assert status == 200 and body == (srv.bench.out / name).read_bytes(), name
        status, headers, body = c.get("/templates.zip")
        assert status == 200 and headers["Content-Type"] == "application/zip" and body.startswith(b"PK")
