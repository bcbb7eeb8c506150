"""notify against real and hostile SMTP servers; what each department is sent."""

import email
import email.policy
import io
import json
import zipfile

import openpyxl
import pytest

from builders import person, run, staff, workbook
from mailkit import ROOT, Recorder, Trickler, mail_config, notify, smtp_server


@pytest.fixture
def scored(tmp_path):
    """A report over an inbox: 工会 with formula-looking text in its cells, 团委 with a file nobody can read."""
    inbox = tmp_path / "inbox"
    workbook(inbox / "工会.xlsx", "工会", roster=[*staff(2), person("张三", "A9", satisfaction='=HYPERLINK("http://evil.example","点我")'),
                                              person("李四", "A10", satisfaction="=cmd|' /C calc'!A0")])
    (inbox / "团委-2026年台账.xlsx").write_bytes(b"this is not a workbook at all")
    out = tmp_path / "out"
    result = run("report", "--inbox", str(inbox), "--out", str(out), "--silent")
    assert result.exit_code == 0, result.output
    return out


def _dry(scored, tmp_path):
    outbox = tmp_path / "outbox"
    result = run("notify", "--scores", str(scored), "--dry-run", "--outbox", str(outbox),
                 "--templates", str(ROOT / "input_templates"))
    assert result.exit_code == 0, result.output
    return outbox


def test_unreadable_submission_gets_save_as_xlsx_notice_not_a_reminder(scored, tmp_path):
    outbox = _dry(scored, tmp_path)
    names = sorted(p.name for p in outbox.iterdir())
    assert "团委-重新报送.eml" in names and "团委-催报.eml" not in names and "办公室-催报.eml" in names
    msg = email.message_from_bytes((outbox / "团委-重新报送.eml").read_bytes(), policy=email.policy.default)
    body = msg.get_body().get_content()
    assert msg["Subject"].startswith("【请重新报送】") and "请另存为 .xlsx 后重新报送" in body
    assert "团委-2026年台账.xlsx" in body


def test_formula_looking_text_arrives_as_text_in_the_mailed_sheet(scored, tmp_path):
    outbox = _dry(scored, tmp_path)
    msg = email.message_from_bytes((outbox / "工会-回执.eml").read_bytes(), policy=email.policy.default)
    (att,) = list(msg.iter_attachments())
    data = att.get_content()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheets = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any(b"<f>" in s or b"<f " in s for s in sheets)      # no live formula anywhere
    values = [c.value for row in openpyxl.load_workbook(io.BytesIO(data))["工会"].iter_rows() for c in row]
    assert '=HYPERLINK("http://evil.example","点我")' in values and "=cmd|' /C calc'!A0" in values


def test_refused_recipient_is_named_the_rest_go_and_a_rerun_mails_nobody_twice(scored, tmp_path):
    handler = Recorder(refuse={"dept3@unit.cn"})           # 机关党委办
    with smtp_server(handler) as port:
        cfg = mail_config(tmp_path, smtp_port=port)
        first, _ = notify(scored, cfg)
        second, _ = notify(scored, cfg)
    assert first.exit_code == 0, first.output
    assert "已发送 9 封" in first.output
    assert "未发送：机关党委办（邮件服务器拒收该地址：550 5.1.1 mailbox unavailable），请核对 unit.yaml 中的邮箱或邮件大小" in first.output
    assert len(handler.envelopes) == 9
    log = json.loads((scored / "notify-sent.json").read_text(encoding="utf-8"))["sent"]
    assert len(log) == 9 and "机关党委办" not in {e["department"] for e in log}
    assert second.exit_code == 0 and "已发送 0 封" in second.output and "此前已发送过相同内容，本次不再发送" in second.output
    assert len(handler.envelopes) == 9                    # nobody mailed twice
    assert "未发送：机关党委办" in second.output              # the refused one is tried again, and named again


def test_trickling_smtp_server_is_one_line_and_a_clean_exit(scored, tmp_path):
    with Trickler(b"220", byte=b"-") as server:
        result, elapsed = notify(scored, mail_config(tmp_path, smtp_port=server.port, timeout_seconds=1.5))
    assert result.exit_code == 1 and elapsed < 5
    assert result.output.strip().splitlines() == [
        "错误：发件服务器 127.0.0.1 响应过慢（1.5 秒内未完成一次收发），已停止发送；已发送：无；重新运行不会重复发送已发出的邮件"]


def test_the_outbox_never_overwrites_a_mail_the_tool_did_not_write(scored, tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "办公室-催报.eml").write_bytes(b"my draft")
    result = run("notify", "--scores", str(scored), "--dry-run", "--outbox", str(outbox),
                 "--templates", str(ROOT / "input_templates"))
    assert result.exit_code == 1 and "已有同名文件“办公室-催报.eml”，不是本工具生成的" in result.output
    assert (outbox / "办公室-催报.eml").read_bytes() == b"my draft"
    (outbox / "办公室-催报.eml").unlink()
    assert _dry(scored, tmp_path) == outbox and _dry(scored, tmp_path) == outbox  # its own mails, again


def test_a_receipt_names_files_without_bidi_or_control_characters(tmp_path):
    inbox = tmp_path / "inbox"
    workbook(inbox / "工会-台账\u202egpj.exe.xlsx", "工会", roster=[*staff(2), person("无工号", None, satisfaction="很好")])
    out = tmp_path / "out"
    assert run("report", "--inbox", str(inbox), "--out", str(out), "--silent").exit_code == 0
    outbox = _dry(out, tmp_path)
    raw = (outbox / "工会-回执.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_body().get_content()
    assert "工会-台账gpj.exe.xlsx" in body and "\u202e" not in body and "\u202e" not in msg["Subject"]
