"""TLS that goes wrong: a handshake never answered or answered a byte at a time, on implicit TLS (993/465) and
after STARTTLS, and a server that completes TLS and then trickles. collect and notify stop within the mail
deadline (unit.yaml mail.timeout_seconds) with one Chinese line naming the server and what timed out, leave no
thread or socket behind, and write nothing half-done."""

import asyncio
import email.policy
import json
import shutil
import threading
import time

import pytest

from builders import run, staff, workbook
from mailkit import (FakeIMAP, Recorder, TLSMisbehaver, collect_imap, mail_config, manifest, message, notify,
                     open_sockets, self_signed, smtp_server)

TIMEOUT = 1.0          # mail.timeout_seconds for these tests: every case ends in under 5 s (a send also gets time for its size)
CASES = [("ssl", "stall"), ("ssl", "slow"), ("ssl", "trickle"),
         ("starttls", "stall"), ("starttls", "slow"), ("starttls", "trickle")]


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusted(cert, monkeypatch):
    """The client trusts the test certificate, as it would a real server's (so TLS itself succeeds)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    return cert


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    base = tmp_path_factory.mktemp("scored")
    workbook(base / "inbox" / "工会.xlsx", "工会", roster=staff(2))
    result = run("report", "--inbox", str(base / "inbox"), "--out", str(base / "out"), "--silent")
    assert result.exit_code == 0, result.output
    return base / "out"


def _no_mail_thread_left() -> bool:
    end = time.monotonic() + 1
    while time.monotonic() < end:
        if not any(t.name == "mail-deadline" for t in threading.enumerate()):
            return True
        time.sleep(0.02)
    return False


def _what_timed_out(tls: str, then: str) -> str:
    return "加密连接的 TLS 握手" if then != "trickle" else "一次收发"


@pytest.mark.parametrize("tls,then", CASES)
def test_imap_tls_that_stalls_or_trickles_ends_in_one_line(tmp_path, trusted, tls, then):
    cfg = mail_config(tmp_path, timeout_seconds=TIMEOUT)
    inbox = tmp_path / "inbox"
    sockets = open_sockets()
    with TLSMisbehaver("imap", tls, then, cert=trusted) as server:
        result, elapsed = collect_imap(server.port, inbox, cfg, tls)
        assert _no_mail_thread_left()
    assert result.exit_code == 1 and elapsed < 5, (elapsed, result.output)
    if tls == "starttls":
        assert any(c.endswith(b"STARTTLS") for c in server.seen)        # the plain part was really gone through
    (line,) = result.output.strip().splitlines()
    assert line.startswith("错误：邮箱服务器 127.0.0.1 ") and _what_timed_out(tls, then) in line, line
    assert f"{TIMEOUT:g} 秒" in line and "Traceback" not in result.output
    assert open_sockets() == sockets                                   # no socket left open, the client's included
    leftovers = [p.name for p in inbox.iterdir() if p.name not in ("manifest.json", ".manifest.lock")]
    assert leftovers == [] and (not (inbox / "manifest.json").exists() or manifest(inbox)["files"] == [])


@pytest.mark.parametrize("tls,then", CASES)
def test_smtp_tls_that_stalls_or_trickles_ends_in_one_line(tmp_path, trusted, scored, tls, then):
    out = tmp_path / "out"
    shutil.copytree(scored, out)
    sockets = open_sockets()
    with TLSMisbehaver("smtp", tls, then, cert=trusted) as server:
        cfg = mail_config(tmp_path, smtp_port=server.port, smtp_security=tls, timeout_seconds=TIMEOUT)
        result, elapsed = notify(out, cfg)
        assert _no_mail_thread_left()
    assert result.exit_code == 1 and elapsed < 5, (elapsed, result.output)
    if tls == "starttls":
        assert any(c.startswith(b"STARTTLS") for c in server.seen)
    (line,) = result.output.strip().splitlines()
    assert line.startswith("错误：发件服务器 127.0.0.1 ") and _what_timed_out(tls, then) in line, line
    assert f"{TIMEOUT:g} 秒" in line and "已发送：无" in line and "Traceback" not in result.output
    assert open_sockets() == sockets
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in scored.iterdir())   # no sent log, no temp file


def test_imap_over_tls_keeps_what_arrived_and_nothing_half_written(tmp_path, trusted):
    """TLS from the first byte, one message fetched whole, the next one's body trickles: the first is saved and
    recorded, nothing of the second is, and the run ends within the deadline."""
    small = message("<u2@x>", "gonghui@unit.cn", "台账", [("工会照片.jpg", b"\xff\xd8\xff small", ("image", "jpeg"))])
    inbox = tmp_path / "inbox"
    sockets = open_sockets()
    with FakeIMAP(small.as_bytes(policy=email.policy.SMTP), cert=trusted) as server:
        result, elapsed = collect_imap(server.port, inbox, mail_config(tmp_path, timeout_seconds=TIMEOUT), "ssl")
        assert _no_mail_thread_left()
    assert result.exit_code == 1 and elapsed < 5, (elapsed, result.output)
    assert any("BODY.PEEK[]" in c and " 3 " in c for c in server.commands)      # the trickling body was asked for
    assert result.output.strip().splitlines()[-1] == (
        "错误：邮箱服务器 127.0.0.1 响应过慢（1 秒内未完成一次收发），已停止收取；已保存的附件保留，请稍后重新运行")
    saved = manifest(inbox)
    assert [f["original"] for f in saved["files"]] == ["工会照片.jpg"]
    assert "<u2@x>" in saved["messages"] and "<u3@x>" not in saved["messages"]
    names = {p.name for p in inbox.iterdir()}
    assert names - {"manifest.json", ".manifest.lock"} == {saved["files"][0]["saved"]}       # no temp file left
    assert open_sockets() == sockets


class _StallsOnTheThird(Recorder):
    async def handle_DATA(self, server, session, envelope):
        if len(self.envelopes) == 2:
            await asyncio.sleep(30)            # cancelled when the server stops
        return await super().handle_DATA(server, session, envelope)


def test_smtps_stall_after_two_sends_names_them_and_logs_exactly_them(tmp_path, trusted, scored):
    """A real SMTP server over TLS takes two notices and stalls on the third: the line names the two, the sent
    log holds exactly them (so a rerun mails nobody twice), and nothing is left open."""
    out = tmp_path / "out"
    shutil.copytree(scored, out)
    handler = _StallsOnTheThird()
    sockets = open_sockets()
    with smtp_server(handler, cert=trusted) as port:
        cfg = mail_config(tmp_path, smtp_port=port, smtp_security="ssl", timeout_seconds=TIMEOUT)
        result, elapsed = notify(out, cfg)
        assert _no_mail_thread_left()
    assert result.exit_code == 1 and elapsed < 5, (elapsed, result.output)
    logged = [e["department"] for e in json.loads((out / "notify-sent.json").read_text(encoding="utf-8"))["sent"]]
    assert len(handler.envelopes) == 2 and len(logged) == 2
    assert result.output.strip().splitlines() == [
        f"错误：发件服务器 127.0.0.1 响应过慢（{TIMEOUT:g} 秒内未完成一次收发），已停止发送；已发送：{'、'.join(logged)}；"
        "重新运行不会重复发送已发出的邮件"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".tmp")]
    assert open_sockets() == sockets
