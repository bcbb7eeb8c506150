"""The mailbox: collect from .eml folders and a real IMAP server (Dovecot), notify through a real SMTP server."""

import base64
import email
import email.policy
import io
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import openpyxl
import pytest

from conftest import needs
from builders import YEAR, free_port, report, run, staff, workbook
from mailkit import ROOT, XLSX, Recorder, mail_config, manifest, smtp_server
from mailkit import message as _message


def _xlsx(tmp: Path, dept: str, name: str) -> bytes:
    return workbook(tmp / name, dept, roster=staff(2, prefix=dept, start=hash(dept) % 1000 * 10)).read_bytes()


@pytest.fixture(scope="module")
def messages(tmp_path_factory):
    """Chinese names (RFC 2231 and GBK RFC 2047), several attachments, a forwarded message, none at all."""
    tmp = tmp_path_factory.mktemp("att")
    union = _xlsx(tmp, "工会", "u.xlsx")
    youth = _xlsx(tmp, "团委", "y.xlsx")
    women = _xlsx(tmp, "妇联", "w.xlsx")
    old = _xlsx(tmp, "普及部", "p.xlsx")
    m1 = _message("<m1@unit.cn>", "工会 <gonghui@unit.cn>", "文明单位创建台账-工会",
                  [("工会-2026年文明单位创建台账.xlsx", union, XLSX), ("活动照片.jpg", b"\xff\xd8\xff", ("image", "jpeg")),
                   ("普及部旧表.xls", old, ("application", "vnd.ms-excel"))])
    # an old client: the name encoded as RFC 2047 in GBK
    m2 = _message("<m2@unit.cn>", "tuanwei@unit.cn", "=?GBK?B?" + base64.b64encode("文明单位 团委报送".encode("gbk")).decode() + "?=")
    m2.add_attachment(youth, maintype=XLSX[0], subtype=XLSX[1], filename="x.xlsx")
    part = list(m2.iter_attachments())[0]
    gbk = "=?GBK?B?" + base64.b64encode("团委台账.xlsx".encode("gbk")).decode() + "?="
    part.replace_header("Content-Disposition", f'attachment; filename="{gbk}"')
    del part["Content-Type"]
    part["Content-Type"] = f'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name="{gbk}"'
    inner = _message("<inner@unit.cn>", "fulian@unit.cn", "妇联台账", [("妇联台账.xlsx", women, XLSX)])
    m3 = _message("<m3@unit.cn>", "office@unit.cn", "转发：文明单位 妇联台账")
    m3.add_attachment(inner)
    m4 = _message("<m4@unit.cn>", "someone@unit.cn", "文明单位 会议通知")
    m5 = _message("<m5@unit.cn>", "工会 <gonghui@unit.cn>", "文明单位 重发", [("工会台账-重发.xlsx", union, XLSX)])
    return [m1, m2, m3, m4, m5], {"工会": union, "团委": youth, "妇联": women, "普及部": old}


def _check_inbox(inbox: Path, contents: dict) -> dict:
    saved_manifest = manifest(inbox)
    saved = {f["original"]: f for f in saved_manifest["files"]}
    assert set(saved) == {"工会-2026年文明单位创建台账.xlsx", "普及部旧表.xls", "团委台账.xlsx", "妇联台账.xlsx", "活动照片.jpg"}
    assert saved["活动照片.jpg"]["kind"] == "evidence" and saved["活动照片.jpg"]["department"] == "工会"
    assert saved["团委台账.xlsx"]["kind"] == "workbook"
    assert saved["工会-2026年文明单位创建台账.xlsx"]["saved"] == "20261116-gonghui@unit.cn-工会-2026年文明单位创建台账.xlsx"
    assert saved["工会-2026年文明单位创建台账.xlsx"]["message_id"] == "<m1@unit.cn>"
    assert saved["团委台账.xlsx"]["sender"] == "tuanwei@unit.cn"
    for f in saved_manifest["files"]:
        data = (inbox / f["saved"]).read_bytes()
        assert set(f) >= {"message_id", "sender", "date", "original", "saved", "sha256"}
        assert data in contents.values() or f["kind"] == "evidence"
    assert saved["团委台账.xlsx"]["department"] == "团委"         # from the file's 填报信息
    assert {"<m1@unit.cn>", "<m2@unit.cn>", "<m3@unit.cn>", "<m4@unit.cn>", "<m5@unit.cn>"} <= set(saved_manifest["messages"])
    files = sorted(p.name for p in inbox.iterdir() if p.name != ".manifest.lock")
    assert len(files) == 6 and not any(n.startswith(".tmp") for n in files)
    return saved_manifest


def test_collect_from_eml_folder_twice(messages, tmp_path):
    msgs, contents = messages
    eml = tmp_path / "eml"
    eml.mkdir()
    for i, m in enumerate(msgs):
        (eml / f"{i}.eml").write_bytes(m.as_bytes(policy=email.policy.SMTP))
    inbox = tmp_path / "inbox"
    first = run("collect", "--eml", str(eml), "--inbox", str(inbox))
    assert first.exit_code == 0, first.output
    assert "保存附件 5 个，跳过 1 个" in first.output
    assert "（发件人 tuanwei@unit.cn，团委）" in first.output
    saved = _check_inbox(inbox, contents)
    second = run("collect", "--eml", str(eml), "--inbox", str(inbox))
    assert "新邮件 0 封，保存附件 0 个" in second.output and "此前已收取的邮件 5 封" in second.output
    assert manifest(inbox) == saved
    scores = report(inbox, tmp_path / "out")
    assert {d["name"] for d in scores["departments"] if d["submitted"]} == {"工会", "团委", "妇联", "普及部"}


def test_collect_never_overwrites(tmp_path, messages):
    msgs, _ = messages
    eml = tmp_path / "eml"
    eml.mkdir()
    (eml / "a.eml").write_bytes(msgs[0].as_bytes())
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    taken = inbox / "20261116-gonghui@unit.cn-工会-2026年文明单位创建台账.xlsx"
    taken.write_bytes(b"someone else's file")
    assert run("collect", "--eml", str(eml), "--inbox", str(inbox)).exit_code == 0
    assert taken.read_bytes() == b"someone else's file"
    assert (inbox / "20261116-gonghui@unit.cn-工会-2026年文明单位创建台账(2).xlsx").is_file()


def test_collect_needs_a_source(tmp_path):
    result = run("collect", "--inbox", str(tmp_path / "inbox"))
    assert result.exit_code != 0 and result.output.startswith("错误：请指定 --eml")


# ---------------------------------------------------------------- a real IMAP server

def _dovecot_or_skip():
    needs("dovecot")


@pytest.fixture
def imap_server(messages):
    _dovecot_or_skip()
    msgs, _ = messages
    base = Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
    os.chmod(base, 0o755)
    port = free_port()
    for d in ("run", "state", "mail/coord/cur", "mail/coord/new", "mail/coord/tmp"):
        (base / d).mkdir(parents=True)
    for i, m in enumerate(msgs):
        (base / "mail/coord/new" / f"{1700000000 + i}.M{i}P1.test").write_bytes(m.as_bytes(policy=email.policy.SMTP))
    (base / "passwd").write_text("coord:{PLAIN}secret\n")
    (base / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{base}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={base}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")
    subprocess.run(["chown", "-R", "dovecot:dovecot", str(base / "mail")], check=True)
    subprocess.run(["dovecot", "-c", str(base / "dovecot.conf")], check=True)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port
    subprocess.run(["dovecot", "-c", str(base / "dovecot.conf"), "stop"], check=False)
    shutil.rmtree(base, ignore_errors=True)


def _imap(port, inbox, *extra, password="secret"):
    os.environ["WENMING_IMAP_PASSWORD"] = password
    try:
        return run("collect", "--imap-host", "127.0.0.1", "--imap-port", str(port), "--imap-user", "coord",
                   "--imap-security", "none", "--inbox", str(inbox), *extra)
    finally:
        del os.environ["WENMING_IMAP_PASSWORD"]


def test_collect_from_imap_twice(imap_server, messages, tmp_path):
    _, contents = messages
    inbox = tmp_path / "inbox"
    first = _imap(imap_server, inbox, "--since", "2026-01-01")
    assert first.exit_code == 0, first.output
    saved = _check_inbox(inbox, contents)
    second = _imap(imap_server, inbox)
    assert second.exit_code == 0 and "新邮件 0 封" in second.output and "此前已收取的邮件 5 封" in second.output
    assert manifest(inbox) == saved


def test_imap_subject_filter(imap_server, tmp_path):
    result = _imap(imap_server, tmp_path / "inbox", "--subject", "团委")
    assert result.exit_code == 0 and "保存附件 1 个" in result.output


def test_imap_bad_password_missing_folder_and_no_server(imap_server, tmp_path):
    inbox = tmp_path / "inbox"
    bad = _imap(imap_server, inbox, password="wrong")
    assert bad.exit_code != 0 and bad.output.strip() == "错误：邮箱用户名或密码错误，登录失败"
    missing = _imap(imap_server, inbox, "--imap-folder", "不存在的文件夹")
    assert missing.exit_code != 0 and "邮箱中没有文件夹“不存在的文件夹”" in missing.output
    closed = _imap(free_port(), inbox)
    assert closed.exit_code != 0 and "无法连接邮箱服务器" in closed.output and closed.output.count("\n") == 1
    assert not [p for p in inbox.iterdir() if p.suffix in (".xlsx", ".xls")]


# ---------------------------------------------------------------- notices, through a real SMTP server

def test_notify_sends_receipts_and_reminders_over_smtp(tmp_path):
    handler = Recorder()
    with smtp_server(handler) as port:
        cfg = mail_config(tmp_path, smtp_port=port)
        inbox = tmp_path / "inbox"
        workbook(inbox / "工会.xlsx", "工会", roster=[*staff(2), [None, None, "9"] + [None] * 9])
        out = tmp_path / "out"
        assert run("report", "--inbox", str(inbox), "--out", str(out), "--config", str(cfg), "--silent").exit_code == 0
        result = run("notify", "--scores", str(out), "--config", str(cfg), "--templates", str(ROOT / "input_templates"))
        assert result.exit_code == 0, result.output
    assert len(handler.envelopes) == 10
    got = {}
    for env in handler.envelopes:
        msg = email.message_from_bytes(env.content, policy=email.policy.default)
        got[msg["Subject"]] = (env.rcpt_tos, msg)
    union = next(v for k, v in got.items() if "工会" in k)
    assert union[0] == ["dept6@unit.cn"]
    subject = next(k for k in got if "工会" in k)
    assert subject == f"【回执】{YEAR}年文明单位创建台账已收到（工会）"
    body = union[1].get_body().get_content()
    assert "发现错误1处" in body and "第5行缺少姓名，请补填" in body
    (att,) = list(union[1].iter_attachments())
    wb = openpyxl.load_workbook(io.BytesIO(att.get_content()))
    assert wb.sheetnames == ["工会"]
    assert "第5行缺少姓名，请补填" in [c.value for row in wb["工会"].iter_rows() for c in row]
    office_subject = next(k for k in got if "办公室" in k)
    assert office_subject.startswith("【催报】")
    (tpl,) = list(got[office_subject][1].iter_attachments())
    assert tpl.get_filename() == f"办公室-{YEAR}年文明单位创建台账.xlsx"
    assert "负面清单自查" in openpyxl.load_workbook(io.BytesIO(tpl.get_content())).sheetnames


def test_notify_dry_run_writes_one_eml_per_department(tmp_path):
    out = tmp_path / "out"
    report(ROOT / "examples" / "inbox", out)
    outbox = tmp_path / "outbox"
    result = run("notify", "--scores", str(out), "--dry-run", "--outbox", str(outbox))
    assert result.exit_code == 0 and "未发送" in result.output
    files = sorted(p.name for p in outbox.glob("*.eml"))
    assert len(files) == 10 and "反协办-催报.eml" in files and "工会-回执.eml" in files
    msg = email.message_from_bytes((outbox / "工会-回执.eml").read_bytes(), policy=email.policy.default)
    assert "工会-2026年文明单位创建台账（初稿）.xlsx" in msg.get_body().get_content()


def test_notify_without_scores_is_one_line(tmp_path):
    result = run("notify", "--scores", str(tmp_path), "--dry-run")
    assert result.exit_code != 0 and "请先运行 make report" in result.output


def test_imap_sizes_checked_before_download_on_a_real_server(imap_server, tmp_path):
    cfg = mail_config(tmp_path, max_message_mb=0.002)           # 2 KB: only the message without attachments fits
    inbox = tmp_path / "inbox"
    result = _imap(imap_server, inbox, "--config", str(cfg))
    assert result.exit_code == 0, result.output
    refused = [line for line in result.output.splitlines() if "超过单封邮件上限 2 KB" in line]
    assert len(refused) == 4 and all(line.startswith("无法收取：邮件 UID ") for line in refused)
    saved = manifest(inbox)
    assert saved["files"] == [] and saved["messages"] == ["<m4@unit.cn>"]
    again = _imap(imap_server, inbox, "--config", str(cfg))
    assert "此前已收取的邮件 1 封" in again.output and again.output.count("超过单封邮件上限") == 4


def test_messages_saved_from_eml_are_known_on_the_imap_server(imap_server, messages, tmp_path):
    """Clients export .eml with LF line ends, the server keeps CRLF: the same message is recognised, not re-saved."""
    msgs, _ = messages
    eml = tmp_path / "eml"
    eml.mkdir()
    for i, m in enumerate(msgs):
        (eml / f"{i}.eml").write_bytes(m.as_bytes())              # LF line ends
    assert b"\r\n" not in (eml / "0.eml").read_bytes()
    inbox = tmp_path / "inbox"
    assert run("collect", "--eml", str(eml), "--inbox", str(inbox)).exit_code == 0
    files = sorted(p.name for p in inbox.iterdir())
    first = _imap(imap_server, inbox)
    assert first.exit_code == 0 and "此前已收取的邮件 5 封" in first.output and "提示" not in first.output
    assert sorted(p.name for p in inbox.iterdir()) == files
    seen = manifest(inbox)["seen"]["<m1@unit.cn>"]
    assert len({s["size"] for s in seen}) == 2 and len({s["sha256"] for s in seen}) == 1   # both sizes, one message
