"""Mail nobody cleaned: every message handled on its own, no server can hang a run, evidence saved too."""

import email.policy
import io
import os
import time
import zipfile
from email.message import EmailMessage

import openpyxl
import pytest

from builders import report, run, staff, workbook
from mailkit import OCTET, XLSX, FakeIMAP, Trickler, collect_imap, notify, unanswered_port
from mailkit import mail_config as _config
from mailkit import manifest as _manifest
from mailkit import message as _message


def _huge_sheet_workbook() -> bytes:
    """A small xlsx whose sheet declares and uses cell XFD1048576."""
    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.title = "人员名单"
    wb.active["A1"] = "姓名"
    wb.active["XFD1048576"] = "x"
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    eml = tmp / "eml"
    eml.mkdir()
    good = workbook(tmp / "g.xlsx", "工会", roster=staff(2, prefix="工会")).read_bytes()
    youth = workbook(tmp / "y.xlsx", "团委", roster=staff(2, prefix="团委", start=50)).read_bytes()

    def put(name, msg):
        (eml / name).write_bytes(msg.as_bytes(policy=email.policy.SMTP) if isinstance(msg, EmailMessage) else msg)
    long_name = "工会" + "很长的附件名称" * 40 + ".xlsx"                            # ~860 bytes
    put("01-long-name.eml", _message("<long@x>", "工会 <gonghui@unit.cn>", "台账", [(long_name, good, OCTET)]))
    put("02-long-sender.eml", _message("<sender@x>", "工" * 3000 + " <" + "a" * 900 + "@unit.cn>", "台账",
                                       [("团委台账.xlsx", youth, XLSX)]))
    nested = b"From: a@b\r\nSubject: x\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    for i in range(1500):
        nested = (b"From: a@b\r\nSubject: fwd\r\nMessage-ID: <n%d@x>\r\nMIME-Version: 1.0\r\n"
                  b"Content-Type: message/rfc822\r\n\r\n" % i) + nested
    put("03-nested.eml", nested)
    put("04-year.eml", _message("<year@x>", "fulian@unit.cn", "台账",
                                [("妇联.ods", b"PK\x03\x04ods", ("application", "vnd.oasis.opendocument.spreadsheet")),
                                 ("妇联.xlsb", b"PK\x03\x04xlsb", OCTET), ("妇联.et", b"\xd0\xcf\x11\xe0et", OCTET)],
                                date="Mon, 16 Nov 99999 09:30:00 +0800"))
    put("05-huge-sheet.eml", _message("<xfd@x>", "puji@unit.cn", "台账", [("普及部.xlsx", _huge_sheet_workbook(), XLSX)]))
    put("06-escape.eml", _message("<esc@x>", '"\x1b[2J\x1b]0;pwned\x07办公室" <office@unit.cn>', "台账",
                                  [("办公室照片.jpg", b"\xff\xd8\xff\xe0 photo", ("image", "jpeg"))]))
    # a second message reusing a Message-ID with other content
    put("07-reuse.eml", _message("<long@x>", "工会 <gonghui@unit.cn>", "补充照片",
                                 [("活动照片1.png", b"\x89PNG photo", ("image", "png"))]))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("照片/1.jpg", b"\xff\xd8\xff zipped")
    put("08-evidence.eml", _message("<ev@x>", "团委 <tuanwei@unit.cn>", "团委佐证",
                                    [("团委台账.xlsx", youth, XLSX), ("活动通知.pdf", b"%PDF-1.4 pdf", ("application", "pdf")),
                                     ("总结.docx", b"PK\x03\x04word/", ("application", "msword")),
                                     ("照片.zip", zbuf.getvalue(), ("application", "zip")),
                                     ("工具.exe", b"MZ", OCTET)]))
    put("09-too-big.eml", _message("<big@x>", "zuren@unit.cn", "台账", [("组人部照片.jpg", b"\xff\xd8\xff" + b"0" * 3_000_000,
                                                                         ("image", "jpeg"))]))
    os.mkfifo(eml / "10-fifo.eml")
    (eml / "11-folder.eml").mkdir()
    return eml, good, youth


def test_each_message_on_its_own_and_a_rerun_neither_duplicates_nor_stops(tmp_path, hostile_folder):
    eml, good, youth = hostile_folder
    cfg = _config(tmp_path, max_file_mb=2, max_message_mb=10)
    inbox = tmp_path / "inbox"
    start = time.monotonic()
    first = run("collect", "--eml", str(eml), "--inbox", str(inbox), "--config", str(cfg))
    assert first.exit_code == 0, first.output
    assert time.monotonic() - start < 60
    out = first.output
    assert "\x1b" not in out and "\x07" not in out
    assert max(len(line) for line in out.splitlines()) < 400           # a 3,000-character sender is shortened
    assert "无法收取：03-nested.eml：邮件转发嵌套层数过多" in out
    assert "无法收取：10-fifo.eml：不是普通文件" in out
    assert "未保存：组人部照片.jpg（发件人 zuren@unit.cn）：超过单个文件大小上限 2.0 MB" in out
    assert "未保存：工具.exe" in out and "不是台账或佐证材料" in out
    assert "07-reuse.eml：Message-ID <long@x> 此前已用于另一封内容不同的邮件" in out
    manifest = _manifest(inbox)
    by_original = {f["original"]: f for f in manifest["files"]}
    long_entry = next(f for f in manifest["files"] if f["original"].startswith("工会很长"))
    assert long_entry["saved"].endswith(".xlsx") and len(long_entry["saved"].encode()) <= 200
    assert (inbox / long_entry["saved"]).read_bytes() == good and long_entry["department"] == "工会"
    assert {"妇联.ods", "妇联.xlsb", "妇联.et"} <= set(by_original)          # never dropped
    assert all(by_original[n]["kind"] == "workbook" for n in ("妇联.ods", "妇联.xlsb", "妇联.et"))
    assert by_original["妇联.ods"]["date"] == "" and by_original["妇联.ods"]["department"] == "妇联"
    assert by_original["普及部.xlsx"]["department"] == "普及部"                # the XFD1048576 workbook is saved
    assert by_original["办公室照片.jpg"]["sender"] == "office@unit.cn"
    assert by_original["活动照片1.png"]["kind"] == "evidence" and by_original["活动照片1.png"]["department"] == "工会"
    for name in ("活动通知.pdf", "总结.docx", "照片.zip"):
        entry = by_original[name]
        assert entry["kind"] == "evidence" and entry["department"] == "团委"
        assert entry["saved"].startswith("20261116-tuanwei@unit.cn-") and (inbox / entry["saved"]).is_file()
    assert (inbox / by_original["照片.zip"]["saved"]).read_bytes().startswith(b"PK")   # archives saved as they are
    assert "组人部照片.jpg" not in by_original and "工具.exe" not in by_original
    long_sender = by_original["团委台账.xlsx"]
    assert len(long_sender["saved"].encode()) <= 200 and long_sender["department"] == "团委"
    names = sorted(p.name for p in inbox.iterdir())
    assert not [n for n in names if n.startswith(".tmp")]
    assert "<big@x>" not in manifest["messages"]            # refused for its size: tried again next time

    second = run("collect", "--eml", str(eml), "--inbox", str(inbox), "--config", str(cfg))
    assert second.exit_code == 0, second.output
    assert sorted(p.name for p in inbox.iterdir()) == names                  # nothing duplicated
    assert "保存附件 0 个" in second.output and "03-nested.eml" in second.output
    assert "组人部照片.jpg" in second.output                                  # still refused, still said
    assert len(_manifest(inbox)["files"]) == len(manifest["files"])


def test_over_the_message_limit_is_one_line_and_nothing_written(tmp_path, hostile_folder):
    eml, _, _ = hostile_folder
    cfg = _config(tmp_path, max_message_mb=1)
    inbox = tmp_path / "inbox"
    result = run("collect", "--eml", str(eml), "--inbox", str(inbox), "--config", str(cfg))
    assert result.exit_code == 0
    line = next(x for x in result.output.splitlines() if "09-too-big.eml" in x)
    assert "超过单封邮件上限 1.0 MB（unit.yaml 的 mail.max_message_mb），未收取" in line
    assert not any("组人部" in p.name for p in inbox.iterdir())


# ---------------------------------------------------------------- servers that trickle

def test_trickling_imap_server_is_one_line_and_a_clean_exit(tmp_path):
    with Trickler(b"* OK ") as server:
        result, elapsed = collect_imap(server.port, tmp_path / "inbox", _config(tmp_path, timeout_seconds=1.5))
    assert result.exit_code == 1 and elapsed < 6
    assert result.output.strip().splitlines() == [
        "错误：邮箱服务器 127.0.0.1 响应过慢（1.5 秒内未完成一次收发），已停止收取；已保存的附件保留，请稍后重新运行"]


def test_imap_checks_sizes_first_saves_what_arrived_and_stops_on_a_stall(tmp_path):
    small = _message("<u2@x>", "gonghui@unit.cn", "台账", [("工会照片.jpg", b"\xff\xd8\xff small", ("image", "jpeg"))])
    inbox = tmp_path / "inbox"
    with FakeIMAP(small.as_bytes(policy=email.policy.SMTP)) as server:
        result, elapsed = collect_imap(server.port, inbox, _config(tmp_path, timeout_seconds=1.5))
    assert elapsed < 10 and result.exit_code == 1, result.output
    assert not any(c.endswith("FETCH 1 (BODY.PEEK[])") for c in server.commands)    # 3 GB never asked for
    assert sum("RFC822.SIZE" in c for c in server.commands) == 1                  # sizes of all asked at once
    lines = result.output.strip().splitlines()
    assert "邮件 UID 1" in result.output and "超过单封邮件上限" in result.output
    assert lines[-1].startswith("错误：邮箱服务器 127.0.0.1 响应过慢")
    manifest = _manifest(inbox)
    assert [f["original"] for f in manifest["files"]] == ["工会照片.jpg"] and "<u2@x>" in manifest["messages"]


def test_manifest_written_when_a_run_is_interrupted_and_the_rerun_goes_on(tmp_path, hostile_folder, monkeypatch):
    from pipeline.mail import eml as eml_module
    from pipeline.mail import messages
    eml, _, _ = hostile_folder
    cfg = _config(tmp_path, max_file_mb=2, max_message_mb=10)
    inbox = tmp_path / "inbox"
    real, calls = messages.store_message, []

    def interrupted(*args, **kwargs):
        calls.append(args[3])
        if len(calls) == 3:
            raise KeyboardInterrupt            # the user presses Ctrl+C on the third message
        return real(*args, **kwargs)
    monkeypatch.setattr(eml_module, "store_message", interrupted)
    first = run("collect", "--eml", str(eml), "--inbox", str(inbox), "--config", str(cfg))
    assert first.exit_code != 0
    saved_before = {f["saved"] for f in _manifest(inbox)["files"]}
    assert len(saved_before) == 2 and all((inbox / n).is_file() for n in saved_before)
    monkeypatch.setattr(eml_module, "store_message", real)
    second = run("collect", "--eml", str(eml), "--inbox", str(inbox), "--config", str(cfg))
    assert second.exit_code == 0 and "此前已收取的邮件 2 封" in second.output
    files = _manifest(inbox)["files"]
    assert len({f["saved"] for f in files}) == len(files) and saved_before <= {f["saved"] for f in files}
    assert "活动通知.pdf" in {f["original"] for f in files}


def test_notice_follows_intakes_unreadable_state():
    from pipeline.catalog import load_config
    from pipeline.mail.notices import unreadable_files
    config = load_config(None)
    scores = {"issues": [{"level": "error", "code": "file-unreadable", "file": "妇联/台账.et",
                          "message": "文件无法打开（文件格式无法识别），请用 Excel 或 WPS 打开后另存为 .xlsx 重新报送"}]}
    dept = {"name": "妇联", "submitted": False, "state": "unreadable", "state_files": ["妇联/台账.et"]}
    assert unreadable_files(config, scores, dept) == [
        "妇联/台账.et：文件无法打开（文件格式无法识别），请用 Excel 或 WPS 打开后另存为 .xlsx 重新报送"]
    assert unreadable_files(config, scores, {**dept, "state": "missing", "state_files": []}) == []
    assert unreadable_files(config, {"issues": []}, {**dept, "state_files": ["a.ods"]}) == ["a.ods：文件无法读取"]


def test_a_server_that_never_answers_the_connection_is_unreachable_not_slow(tmp_path):
    """No watchdog reaches a socket still connecting: the connect has the exchange's time, and its failure is
    said as 无法连接 (check address, port, network), for collect and notify alike."""
    with unanswered_port() as port:
        collected, took = collect_imap(port, tmp_path / "inbox", _config(tmp_path / "a", timeout_seconds=1))
        cfg = _config(tmp_path / "b", smtp_port=port, timeout_seconds=1)
        workbook(tmp_path / "ledgers" / "工会.xlsx", "工会", roster=staff(2))
        report(tmp_path / "ledgers", tmp_path / "out")
        sent, took_too = notify(tmp_path / "out", cfg)
    assert took < 4 and took_too < 4
    assert collected.exit_code == 1 and collected.output.strip().splitlines() == [
        f"错误：无法连接邮箱服务器 127.0.0.1:{port}（连接超时），请检查地址、端口和网络"]
    assert sent.exit_code == 1 and sent.output.strip().splitlines()[-1] == (
        f"错误：无法连接发件服务器 127.0.0.1:{port}，请检查 unit.yaml 的 mail 设置和网络"), sent.output
