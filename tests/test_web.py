"""The 工作台 over real HTTP (a server on a free loopback port): its interface, its safety, its library parts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import needs
from builders import report as run_report
from builders import run
from webkit import EXAMPLES, ROOT, SOME, Client, make_folders, running

from pipeline.catalog import load_config
from pipeline.intake.cache import WorkbookCache
from pipeline.report import collect
from pipeline.result import scores_dict


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with running(tmp_path_factory.mktemp("web")) as s:
        yield s


@pytest.fixture
def client(srv):
    return Client(srv.server.server_port)


def _text(body: bytes) -> str:
    text = body.decode("utf-8")
    assert "Traceback" not in text and "File \"" not in text
    return text


# ---------------------------------------------------------------- the interface (contract section 9)

def test_board_names_every_department_and_its_state(client, srv):
    status, headers, body = client.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    text = _text(body)
    for name in srv.bench.config.department_names:
        assert f'data-department="{name}"' in text
    assert 'data-department="工会" data-state="已报送"' in text
    assert 'data-department="团委" data-state="未报送"' in text


def test_api_status_has_the_scores_json_fields_plus_state(client, srv, tmp_path):
    data = client.json("/api/status")
    assert data["unit"] == "天津市科学技术协会" and data["year"] == 2026
    scores = run_report(srv.bench.inbox, tmp_path / "out", "--config", str(srv.bench.config_dir))
    assert data["metrics"] == scores["metrics"]
    assert [d["name"] for d in data["departments"]] == [d["name"] for d in scores["departments"]]
    for mine, theirs in zip(data["departments"], scores["departments"]):
        added = ("state", "state_label", "late", "submitted_on", "date_source")
        assert {k: v for k, v in mine.items() if k not in added} == {k: v for k, v in theirs.items() if k not in added}
        assert mine["state"] == ("submitted" if theirs["submitted"] else "missing")
        assert mine["state_label"] == ("已报送" if theirs["submitted"] else "未报送")
        if "state" in theirs:  # scores.json has intake's state: the page says the same
            assert theirs["state"] == mine["state"]
    assert next(d for d in data["departments"] if d["name"] == "工会")["file"] == "工会-2026年文明单位创建台账.xlsx"


def test_upload_saves_as_collect_does_and_the_board_changes(client, srv):
    data = (EXAMPLES / "团委-2026年文明单位创建台账.xlsx").read_bytes()
    status, _, body = client.upload([("团委-2026年文明单位创建台账.xlsx", data)])
    assert status == 200, body.decode()
    (row,) = json.loads(body)["files"]
    assert row["department"] == "团委" and row["state"] == "已采用" and row["refused"] is None
    saved = srv.bench.inbox / row["saved"]
    assert saved.read_bytes() == data and row["saved"].endswith("-工作台上传-团委-2026年文明单位创建台账.xlsx")
    manifest = json.loads((srv.bench.inbox / "manifest.json").read_text(encoding="utf-8"))
    entry = next(f for f in manifest["files"] if f["saved"] == row["saved"])
    assert entry["original"] == "团委-2026年文明单位创建台账.xlsx" and len(entry["sha256"]) == 64
    tuanwei = next(d for d in client.json("/api/status")["departments"] if d["name"] == "团委")
    assert tuanwei["state"] == "submitted" and tuanwei["state_label"] == "已报送" and tuanwei["file"] == row["saved"]
    # the same content again: stored once, never overwritten
    before = sorted(p.name for p in srv.bench.inbox.iterdir())
    status, _, body = client.upload([("团委台账-再次上传.xlsx", data)])
    (again,) = json.loads(body)["files"]
    assert again["duplicate_of"] == row["saved"] and sorted(p.name for p in srv.bench.inbox.iterdir()) == before


def test_upload_answers_html_for_the_page(client):
    data = (EXAMPLES / "妇联-2026年文明单位创建台账.xlsx").read_bytes()
    status, headers, body = client.upload([("妇联-2026年文明单位创建台账.xlsx", data)], accept_json=False,
                                          headers={"HX-Request": "true"})
    assert status == 200 and headers.get("HX-Trigger") == "board-changed"
    text = _text(body)
    assert "妇联" in text and "已采用" in text


def test_a_corrupt_workbook_gets_its_chinese_message(client, srv):
    status, _, body = client.upload([("反协办-台账.xlsx", b"PK\x03\x04 this is not really a workbook")])
    assert status == 200
    (row,) = json.loads(body)["files"]
    assert row["state"] == "文件无法读取" and row["department"] == "反协办"
    assert any("文件无法打开" in i["message"] for i in row["issues"])
    dept = next(d for d in client.json("/api/status")["departments"] if d["name"] == "反协办")
    assert dept["state"] == "unreadable" and dept["state_label"] == "文件无法读取" and dept["submitted"] is False
    status, _, body = client.get("/")  # the server goes on
    assert status == 200 and 'data-department="反协办" data-state="文件无法读取"' in _text(body)


def test_download_serves_output_files_only(client, srv):
    srv.bench.out.mkdir(parents=True, exist_ok=True)
    (srv.bench.out / "scores.json").write_text('{"x": 1}', encoding="utf-8")
    (srv.bench.out.parent / "secret.txt").write_text("secret", encoding="utf-8")
    status, headers, body = client.get("/files/scores.json")
    assert status == 200 and body == b'{"x": 1}' and "attachment" in headers["Content-Disposition"]
    for path in ("/files/../secret.txt", "/files/..%2Fsecret.txt", "/files/%2e%2e%2fsecret.txt",
                 "/files/..%5Csecret.txt", "/files/%2e%2e/config/unit.yaml", "/files//etc/passwd",
                 "/files/subdir/../../secret.txt", "/files/.", "/files/%00scores.json"):
        status, headers, body = client.get(path)
        if status == 308:  # werkzeug merges double slashes first: follow it, it is refused there
            status, _, body = client.get(headers["Location"].replace(f"http://127.0.0.1:{client.port}", ""))
        assert status in (404, 400), path
        assert b"secret" not in body and b"root:" not in body


# ---------------------------------------------------------------- safety

def test_a_foreign_host_header_is_refused(client):
    for host in ("evil.example", f"evil.example:{client.port}", "attacker.test:80", "127.0.0.1.nip.io"):
        status, _, body = client.get("/api/status", Host=host)
        assert status == 403, host
        assert "error" in json.loads(body)
    status, _, body = client.get("/", Host="evil.example")
    assert status == 403 and "主机名" in _text(body)
    assert client.get("/", Host=f"localhost:{client.port}")[0] == 200


def test_a_cross_origin_state_changing_request_is_refused(client, srv):
    files = [("团委-跨站.xlsx", b"PK-not-a-workbook")]
    before = sorted(p.name for p in srv.bench.inbox.iterdir())
    for headers in ({"Origin": "http://evil.example"}, {"Origin": None},
                    {"Origin": None, "Referer": "http://evil.example/page"},
                    {"Origin": f"http://127.0.0.1:{client.port}", "Sec-Fetch-Site": "cross-site"},
                    {"Origin": "null"}):
        status, _, body = client.upload(files, headers=headers)
        assert status == 403, headers
    assert sorted(p.name for p in srv.bench.inbox.iterdir()) == before
    status, _, _ = client.post_form("/departments/工会/review", {"status": "已审核"},
                                    headers={"Origin": "http://evil.example"})
    assert status == 403
    # same origin by Referer alone is accepted
    status, _, _ = client.upload([("空.txt", b"x")], headers={"Origin": None,
                                                                "Referer": f"http://127.0.0.1:{client.port}/"})
    assert status == 200


def test_upload_names_never_leave_the_inbox(client, srv):
    names = ["../../逃逸-团委.xlsx", "..\\..\\逃逸2.xlsx", "/etc/cron.d/x.xlsx", "CON.xlsx", "nul.txt.xlsx",
             "长" * 200 + ".xlsx", "a\x00b.xlsx", ".hidden.xlsx", "汇总\u202eslx.exe.xlsx"]
    files = [(n, f"content {i}".encode()) for i, n in enumerate(names)]
    status, _, body = client.upload(files)
    assert status == 200, body
    rows = json.loads(body)["files"]
    inbox = srv.bench.inbox.resolve()
    for row in rows:
        assert row["saved"], row
        path = (inbox / row["saved"]).resolve()
        assert path.parent == inbox and path.is_file()
        assert len(row["saved"].encode("utf-8")) <= 255 and row["saved"].endswith(".xlsx")
        assert not Path(row["saved"]).name.startswith(".") and "\u202e" not in row["saved"]
    reserved = [r["saved"] for r in rows if r["original"] in ("CON.xlsx", "nul.txt.xlsx")]
    assert all("-_CON.xlsx" in s or "-_nul.txt.xlsx" in s for s in reserved)
    assert not (srv.bench.inbox.parent / "逃逸-团委.xlsx").exists()
    assert not list(srv.bench.inbox.parent.parent.glob("逃逸*"))


def test_upload_limits_from_config(tmp_path):
    with running(tmp_path, files=SOME[:1], workbench={"max_upload_mb": 1, "max_upload_files": 2,
                                                      "max_request_mb": 3}) as s:
        c = Client(s.server.server_port)
        status, _, body = c.upload([("工会-大.xlsx", b"x" * (1536 * 1024)), ("工会-小.xlsx", b"PK small")])
        rows = json.loads(body)["files"]
        assert status == 200 and "文件过大" in rows[0]["refused"] and rows[1]["saved"]
        assert not any("大.xlsx" in p.name for p in s.bench.inbox.iterdir())
        status, _, body = c.upload([(f"{i}.xlsx", b"PK") for i in range(3)])
        assert status == 400 and "一次最多上传 2 个文件" in json.loads(body)["error"]
        status, _, body = c.upload([("工会-巨大.xlsx", b"x" * (4 * 1048576))], accept_json=False)
        assert status == 413 and "3 MB" in _text(body)


def test_other_hosts_need_the_token(tmp_path):
    from pipeline.web.security import is_loopback
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20") and is_loopback("127.0.0.1")
    with running(tmp_path, files=SOME[:1], token="s3cret-token") as s:
        assert s.url.endswith("?token=s3cret-token")
        port = s.server.server_port
        anonymous = Client(port)
        status, _, body = anonymous.get("/")
        assert status == 403 and "访问口令" in _text(body)
        assert "天津市科学技术协会" not in _text(body) and str(s.bench.inbox) not in _text(body)
        assert anonymous.get("/api/status")[0] == 403
        assert anonymous.get("/files/scores.json")[0] == 403
        assert anonymous.upload([("工会.xlsx", b"PK")])[0] == 403
        assert anonymous.get("/?token=wrong")[0] == 403
        status, headers, _ = anonymous.get("/?token=s3cret-token")  # the printed address: cookie, then clean URL
        assert status == 302 and headers["Location"].endswith("/")
        assert f"wm_token_{port}=s3cret-token" in headers["Set-Cookie"]  # named per port
        assert anonymous.get("/", Cookie=f"wm_token_{port}=s3cret-token")[0] == 200
        assert Client(port, token="s3cret-token").get("/api/status")[0] == 200


def test_no_traceback_reaches_the_page(client, srv, monkeypatch):
    def broken():
        raise RuntimeError("boom inside")
    monkeypatch.setattr(srv.bench, "board", broken)
    status, _, body = client.get("/")
    text = _text(body)
    assert status == 500 and "处理请求时出错（RuntimeError）" in text and "boom inside" not in text
    status, _, body = client.get("/api/status")
    assert status == 500 and "RuntimeError" in json.loads(body)["error"]
    status, _, body = client.get("/no-such-page")
    assert status == 404 and "找不到" in _text(body)


# ---------------------------------------------------------------- pages

def test_department_page_and_its_downloads(client, srv):
    status, _, body = client.get("/departments/工会")
    text = _text(body)
    assert status == 200 and "工会-2026年文明单位创建台账（初稿）.xlsx" in text and "已作废的旧版本" in text
    status, headers, body = client.get("/departments/%E5%B7%A5%E4%BC%9A/template")
    assert status == 200 and body[:2] == b"PK" and "attachment" in headers["Content-Disposition"]
    status, headers, body = client.get("/departments/工会/sheet")
    assert status == 200 and body[:2] == b"PK"
    import io
    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(body))
    cells = [str(c) for row in wb.worksheets[0].iter_rows(values_only=True) for c in row if c is not None]
    assert any("缺少姓名" in c for c in cells)
    assert client.get("/departments/不存在的部门")[0] == 404


def test_standards_page_lists_evidence_with_its_source(client):
    status, _, body = client.get("/standards")
    text = _text(body)
    assert status == 200 and "3.2.2" in text and "第" in text and "行" in text and "活动记录" in text


def test_documents_page_says_when_libreoffice_is_missing(client, monkeypatch):
    from pipeline.documents import pdf
    monkeypatch.setattr(pdf, "soffice", lambda: None)
    status, _, body = client.get("/documents")
    assert status == 200 and "本机未安装 LibreOffice，无法生成 PDF" in _text(body)


def test_settings_are_validated_and_written_with_comments(tmp_path):
    with running(tmp_path, files=SOME[:1]) as s:
        c = Client(s.server.server_port)
        path = s.bench.config_dir / "unit.yaml"
        original = path.read_text(encoding="utf-8")
        status, _, body = c.post_form("/settings", {"year": "2027", "deadline": "2027-02-30", "report_date": ""})
        assert status == 400 and "报送截止日期“2027-02-30”不是有效日期" in _text(body)
        status, _, body = c.post_form("/settings", {"year": "2027", "deadline": "2027-11-20", "report_date": "",
                                                    "email-工会": "bad-address"})
        assert status == 400 and "工会的邮箱“bad-address”格式不对" in _text(body)
        assert path.read_text(encoding="utf-8") == original
        status, _, body = c.post_form("/settings", {"year": "2027", "deadline": "2027年11月20日", "report_date": "",
                                                    "email-工会": "gonghui@example.com"})
        assert status == 200 and "已保存" in _text(body)
        text = path.read_text(encoding="utf-8")
        assert "year: 2027                        # 自查年度（命令行 --year 可临时改）" in text
        assert "deadline: 2027-11-20" in text and "gonghui@example.com" in text
        assert "# 实施方案“组织领导”" in text  # other comments kept
        cfg = load_config(s.bench.config_dir)
        assert cfg.year == 2027 and next(d.email for d in cfg.departments if d.name == "工会") == "gonghui@example.com"
        assert c.json("/api/status")["year"] == 2027


def test_returned_mark_is_in_the_dry_run_receipt(tmp_path):
    from pipeline.mail.review import mark
    inbox, out, config = make_folders(tmp_path)
    run_report(inbox, out, "--config", str(config))
    mark(out, "工会", "退回", "工会-2026年文明单位创建台账.xlsx", "人员名单缺少工号，请补填")
    mark(out, "办公室", "退回", "办公室-旧文件.xlsx", "这是旧文件的意见")  # not the file the receipt is about
    result = run("notify", "--scores", str(out), "--dry-run", "--outbox", str(tmp_path / "outbox"),
                 "--config", str(config), "--templates", str(ROOT / "input_templates"))
    assert result.exit_code == 0, result.output
    import email
    import email.policy

    def body(name):
        msg = email.message_from_bytes((tmp_path / "outbox" / name).read_bytes(), policy=email.policy.default)
        return msg.get_body(("plain",)).get_content()
    assert "经审核退回，原因：人员名单缺少工号，请补填" in body("工会-回执.eml")
    assert "旧文件的意见" not in body("办公室-回执.eml")


# ---------------------------------------------------------------- the cache

def test_cached_collect_gives_the_same_result_and_reads_only_new_files(tmp_path, monkeypatch):
    from pipeline.intake import merge
    inbox, _, config_dir = make_folders(tmp_path)
    config = load_config(config_dir)
    cache = WorkbookCache()
    validated: list[set] = []
    real = merge.validate_kind

    def spy(kind, frame, *args):
        validated.append(set(frame["file"]))
        return real(kind, frame, *args)
    monkeypatch.setattr(merge, "validate_kind", spy)
    cold = scores_dict(collect(inbox, config))
    first = scores_dict(collect(inbox, config, cache=cache))
    second = scores_dict(collect(inbox, config, cache=cache))
    assert first == cold and second == cold
    assert cache.misses == 4 and cache.hits == 4
    (inbox / "团委.xlsx").write_bytes((EXAMPLES / "团委-2026年文明单位创建台账.xlsx").read_bytes())
    validated.clear()
    third = scores_dict(collect(inbox, config, cache=cache))
    assert cache.misses == 5 and cache.hits == 8
    assert validated and set().union(*validated) == {"团委.xlsx"}  # only the new workbook was validated
    assert next(d for d in third["departments"] if d["name"] == "团委")["submitted"] is True
    assert third == scores_dict(collect(inbox, config))


# ---------------------------------------------------------------- the command

def test_serve_has_chinese_help_and_is_listed():
    result = run("serve", "--help")
    assert result.exit_code == 0 and "工作台" in result.output and "--no-browser" in result.output
    assert "--token" in result.output and "访问口令" in result.output
    assert "serve" in run("--help").output


def test_serve_takes_a_free_port_when_the_default_is_taken(tmp_path):
    import socket
    from pipeline.web.server import start
    inbox, out, config = make_folders(tmp_path, files=[])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        srv = start(inbox, out, config, port=taken)
        try:
            assert srv.server.server_port != taken and srv.url == f"http://127.0.0.1:{srv.server.server_port}/"
            assert srv.token is None
        finally:
            srv.server.server_close()


def test_documents_with_pdf_through_the_progress_endpoint(tmp_path):
    from pipeline.documents import pdf
    needs("soffice")  # the missing case is tested above
    with running(tmp_path, files=SOME[:2]) as s:
        c = Client(s.server.server_port)
        status, _, body = c.post_form("/documents/generate", {"pdf": "1"}, headers={"HX-Request": "true"})
        first = _text(body)
        assert status == 200 and ("<progress" in first or 'id="done"' in first)
        deadline = time.time() + 240
        while time.time() < deadline:
            status, _, body = c.get("/documents/progress")
            if 'id="done"' in body.decode() or "msg error" in body.decode():
                break
            time.sleep(1)
        text = _text(body)
        assert 'id="done"' in text, text
        name = next(p.name for p in s.bench.output_files() if p.suffix == ".pdf")
        assert "自查报告" in name and name in text
        status, headers, data = c.get("/files/" + name)
        assert status == 200 and data[:5] == b"%PDF-" and headers["Content-Type"] == "application/pdf"


def test_mail_collect_failure_is_one_line_and_the_password_is_not_kept(tmp_path):
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with running(tmp_path, files=SOME[:1]) as s:
        c = Client(s.server.server_port)
        status, _, body = c.post_form("/mail/collect", {"host": "127.0.0.1", "port": str(closed), "user": "u",
                                                        "password": "pw-typed-in-page-123", "folder": "INBOX",
                                                        "confirm_server": "1"})
        text = _text(body)
        assert status == 400 and "无法连接邮箱服务器 127.0.0.1" in text and "pw-typed-in-page-123" not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"pw-typed-in-page-123" not in path.read_bytes(), path


def test_upload_says_when_the_file_name_and_its_info_disagree(client, srv, tmp_path):
    from builders import staff, workbook
    path = workbook(tmp_path / "x.xlsx", "工会", roster=staff(2, prefix="错放"))
    status, _, body = client.upload([("团委-错放的台账.xlsx", path.read_bytes())])
    assert status == 200, body.decode()
    (row,) = json.loads(body)["files"]
    assert row["department"] == "工会"
    (issue,) = [i for i in row["issues"] if i["code"] == "department-name-mismatch"]
    assert issue["level"] == "warning" and "文件名表明是团委的台账" in issue["message"]
    other = workbook(tmp_path / "y.xlsx", "工会", roster=staff(3, prefix="又错放"))
    status, _, body = client.upload([("团委-又一份.xlsx", other.read_bytes())], accept_json=False,
                                    headers={"HX-Request": "true"})
    assert status == 200
    assert "文件名表明是团委的台账，但“填报信息”中的部门是“工会”" in _text(body)
