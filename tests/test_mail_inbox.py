"""Saving a received file into the inbox: the one path collect and the web upload share."""

import io
import multiprocessing
import time
from pathlib import Path

import pytest

from builders import free_port, run
from mailkit import mail_config
from mailkit import manifest as _manifest
from pipeline.errors import MailError
from pipeline.mail.inbox import (EVIDENCE, WORKBOOK, Limits, Manifest, locked_manifest, printable,
                                 save_into_inbox, saved_name)


def test_save_records_contract_fields_and_never_overwrites(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    taken = inbox / "20261116-tw@unit.cn-团委台账.xlsx"
    taken.write_bytes(b"someone else's")
    import datetime as dt
    when = dt.datetime(2026, 11, 16, 9, 30)
    first = save_into_inbox(inbox, "团委台账.xlsx", b"PK\x03\x04 workbook", sender="tw@unit.cn", message_id="<a@x>",
                            date=when, department="团委")
    assert first.saved == "20261116-tw@unit.cn-团委台账(2).xlsx" and first.kind == WORKBOOK and first.skipped is None
    assert taken.read_bytes() == b"someone else's"
    again = save_into_inbox(inbox, "copy.xlsx", io.BytesIO(b"PK\x03\x04 workbook"), sender="other@unit.cn")
    assert again.skipped == "已保存过相同内容" and again.saved == first.saved
    photo = save_into_inbox(inbox, "活动照片.JPG", b"\xff\xd8\xff photo", sender="tw@unit.cn", date=when)
    assert photo.kind == EVIDENCE
    (entry, photo_entry) = _manifest(inbox)["files"]
    assert {k: entry[k] for k in ("message_id", "sender", "original", "saved", "department", "kind")} == {
        "message_id": "<a@x>", "sender": "tw@unit.cn", "original": "团委台账.xlsx", "saved": first.saved,
        "department": "团委", "kind": "workbook"}
    assert entry["sha256"] == __import__("hashlib").sha256(b"PK\x03\x04 workbook").hexdigest()
    assert entry["date"] == "2026-11-16T09:30:00" and photo_entry["kind"] == "evidence"
    assert sorted(p.name for p in inbox.iterdir() if not p.name.startswith(".")) == sorted(
        [taken.name, first.saved, photo.saved, "manifest.json"])


def test_long_names_are_cut_by_bytes_keeping_the_extension(tmp_path):
    name = "很长的文件名" * 60 + ".xlsx"          # 1,085 bytes
    saved = save_into_inbox(tmp_path, name, b"data", sender="x" * 300 + "@unit.cn")
    assert saved.saved.endswith(".xlsx") and len(saved.saved.encode()) <= 200
    assert (tmp_path / saved.saved).read_bytes() == b"data"
    assert saved_name("20260101-a-", "é" * 300 + ".pdf", 50).encode().__len__() <= 50


def test_control_and_bidi_characters_never_reach_names_or_the_terminal(tmp_path):
    saved = save_into_inbox(tmp_path, "a\x1b[2Jb\u202egpj.exe.xlsx", b"1", sender="\x1b]0;evil\x07x@y")
    assert "\x1b" not in saved.saved and "\u202e" not in saved.saved and "\x1b" not in saved.sender
    assert printable("\x1b[31m工会\x9b") == "[31m工会"


def test_over_the_size_limit_nothing_is_written(tmp_path):
    limits = Limits(file_bytes=1000, message_bytes=5000)
    saved = save_into_inbox(tmp_path, "big.pdf", io.BytesIO(b"x" * 5000), limits=limits)
    assert saved.saved is None and "超过单个文件大小上限" in saved.skipped
    assert sorted(p.name for p in tmp_path.iterdir()) == [".manifest.lock", "manifest.json"]
    assert _manifest(tmp_path)["files"] == []


def _hold(inbox, seconds, ready):
    with locked_manifest(Path(inbox)):
        ready.set()
        time.sleep(seconds)


def test_second_writer_waits_then_is_refused_with_one_line(tmp_path):
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(tmp_path), 3, ready))
    holder.start()
    try:
        assert ready.wait(10)
        start = time.monotonic()
        with pytest.raises(MailError, match="另一个收取或上传程序正在写入收件箱"):
            save_into_inbox(tmp_path, "a.xlsx", b"1", limits=Limits(lock_wait=0.5))
        assert time.monotonic() - start < 2.5
        waited = save_into_inbox(tmp_path, "b.xlsx", b"2", limits=Limits(lock_wait=10))   # waits for the holder
        assert waited.saved and (tmp_path / waited.saved).is_file()
    finally:
        holder.join(10)
    assert [f["original"] for f in _manifest(tmp_path)["files"]] == ["b.xlsx"]


def _writer(inbox, k):
    for i in range(10):
        save_into_inbox(Path(inbox), f"{k}-{i}.pdf", f"{k}-{i}".encode(), sender="s@x")


def test_concurrent_writers_lose_no_manifest_entry(tmp_path):
    procs = [multiprocessing.Process(target=_writer, args=(str(tmp_path), k)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    files = _manifest(tmp_path)["files"]
    assert len(files) == 30 and all((tmp_path / f["saved"]).is_file() for f in files)


def test_manifest_message_states(tmp_path):
    m = Manifest(tmp_path, {"messages": ["<old@x>"]})
    assert m.message_state("<old@x>", sha256="abc") == "known"   # written before hashes were kept
    m.add_message("<a@x>", 10, "h1", "a.eml")
    assert m.message_state("<a@x>", sha256="h1") == "known" and m.message_state("<a@x>", sha256="h2") == "reused"
    assert m.message_state("<a@x>", size=10) == "known" and m.message_state("<a@x>", size=11) == "reused"
    assert m.message_state("<b@x>") == "new"


def test_second_collect_into_a_locked_inbox_is_refused_with_one_line(tmp_path):
    from builders import run
    import shutil
    import yaml
    cfg = tmp_path / "cfg"
    shutil.copytree(Path(__file__).resolve().parent.parent / "config", cfg)
    unit = yaml.safe_load((cfg / "unit.yaml").read_text(encoding="utf-8"))
    unit["mail"]["lock_wait_seconds"] = 0.5
    (cfg / "unit.yaml").write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
    inbox, eml = tmp_path / "inbox", tmp_path / "eml"
    eml.mkdir()
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(inbox), 3, ready))
    holder.start()
    try:
        assert ready.wait(10)
        result = run("collect", "--eml", str(eml), "--inbox", str(inbox), "--config", str(cfg))
    finally:
        holder.join(10)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"错误：另一个收取或上传程序正在写入收件箱 {inbox}，请等它结束后再运行"]


@pytest.mark.parametrize("key,value,said", [("timeout_seconds", "很慢", "应为数字（当前为“很慢”）"),
                                            ("connection_deadline_seconds", -1, "应大于 0（当前为 -1）"),
                                            ("max_file_mb", 0, "应大于 0（当前为 0）"),
                                            ("lock_wait_seconds", "x", "应为数字（当前为“x”）")])
def test_a_bad_mail_setting_is_one_line_naming_it(tmp_path, monkeypatch, key, value, said):
    """Size limits and time limits are checked by the one function, before any connection is made."""
    monkeypatch.setenv("WENMING_IMAP_PASSWORD", "x")
    cfg = mail_config(tmp_path, **{key: value})
    result = run("collect", "--imap-host", "127.0.0.1", "--imap-port", str(free_port()), "--imap-security", "none",
                 "--inbox", str(tmp_path / "inbox"), "--config", str(cfg))
    lines = (cfg / "unit.yaml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.strip().startswith(f"{key}:"))
    assert result.exit_code == 1 and result.output.strip() == f"错误：unit.yaml 第{line}行：mail.{key} {said}"


# ---------------------------------------------------------------- collect killed at any moment (issue 23 item 2)

def _kill_set(tmp_path):
    """Three .eml messages with two workbooks each (six distinct contents)."""
    import hashlib
    from mailkit import XLSX, message
    examples = sorted((Path(__file__).resolve().parent.parent / "examples" / "inbox").glob("*.xlsx"))[:6]
    eml = tmp_path / "eml"
    eml.mkdir()
    for m in range(3):
        pair = examples[2 * m:2 * m + 2]
        msg = message(f"<kill-{m}@unit.cn>", f"dept{m}@unit.cn", "文明单位台账",
                      [(f"file{k:02d}.xlsx", p.read_bytes(), XLSX) for k, p in enumerate(pair)])
        (eml / f"{m}.eml").write_bytes(bytes(msg))
    return eml, {hashlib.sha256(p.read_bytes()).hexdigest() for p in examples}


def _collect_process(eml, inbox, kill: str | None = None):
    import os
    import subprocess
    import sys
    from pipeline.mail.inbox import KILL_ENV
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    if kill:
        env[KILL_ENV] = kill
    return subprocess.run([sys.executable, "-m", "pipeline", "collect", "--eml", str(eml), "--inbox", str(inbox)],
                          cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("kill", ["journaled:1", "renamed:1", "renamed:4", "recorded:2", "message:1"])
def test_collect_killed_at_any_moment_and_rerun_saves_nothing_twice(tmp_path, kill):
    import hashlib
    import signal
    eml, expected = _kill_set(tmp_path)
    inbox = tmp_path / "inbox"
    killed = _collect_process(eml, inbox, kill)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    for _ in range(2):  # the rerun, and one more that finds everything collected
        done = _collect_process(eml, inbox)
        assert done.returncode == 0, done.stdout + done.stderr
    on_disk = sorted(p.name for p in inbox.iterdir() if not p.name.startswith(".") and p.name != "manifest.json")
    data = _manifest(inbox)
    assert sorted(f["saved"] for f in data["files"]) == on_disk  # every saved file listed, once
    assert not any("(2)" in name for name in on_disk)
    assert sorted(hashlib.sha256((inbox / n).read_bytes()).hexdigest() for n in on_disk) == sorted(expected)
    assert sorted(data["messages"]) == [f"<kill-{m}@unit.cn>" for m in range(3)]
    assert not [p for p in inbox.iterdir() if p.name.startswith(".tmp-")]
    assert "新邮件 0 封，保存附件 0 个" in done.stdout
