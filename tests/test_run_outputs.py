"""A report run's outputs as one consistent set (issue 12, items 2, 13 and 14): the demo never stands in for real
data, the set is swapped into place whole, a kill or a full disk leaves the previous set, one run at a time."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from builders import run
from pipeline.atomic import LOCK, MANIFEST, folder_lock, settle
from pipeline.documents.sample import SAMPLE_BANNER, SAMPLE_SHORT, SAMPLE_TEXT

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "inbox"
PY = sys.executable


def _cmd(inbox: Path, out: Path, *extra: str) -> list[str]:
    return [PY, "-m", "pipeline", "report", "--inbox", str(inbox), "--out", str(out), "--silent", *extra]


def _env(**extra: str) -> dict:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.update(extra)
    return env


def _docx_text(path: Path) -> list[str]:
    return [p.text for p in Document(path).paragraphs]


def _xlsx_values(path: Path) -> list:
    wb = openpyxl.load_workbook(path)
    return [[list(r) for r in ws.iter_rows(values_only=True)] for ws in wb]


def _fingerprint(out: Path) -> dict:
    """What a reader sees of a set: names, scores.json bytes, document text and sheet values (not zip timestamps)."""
    seen = {}
    for p in sorted(out.iterdir()):
        if p.name.startswith("."):
            continue
        if p.suffix == ".docx":
            seen[p.name] = _docx_text(p)
        elif p.suffix == ".xlsx":
            seen[p.name] = _xlsx_values(p)
        elif p.is_file():
            seen[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            seen[p.name] = sorted(q.name for q in p.rglob("*"))
    return seen


@pytest.fixture(scope="module")
def inboxes(tmp_path_factory):
    """Two inboxes whose sets differ in every document: the sample, and the sample without two departments."""
    base = tmp_path_factory.mktemp("inboxes")
    a = base / "a"
    shutil.copytree(SAMPLE, a)
    b = base / "b"
    shutil.copytree(SAMPLE, b)
    for p in sorted(b.iterdir()):
        if p.name.startswith(("工会", "团委")):
            p.unlink()
    refs = {}
    for name, inbox in (("a", a), ("b", b)):
        out = base / f"ref-{name}"
        subprocess.run(_cmd(inbox, out), check=True, cwd=ROOT, timeout=120, env=_env())
        refs[name] = _fingerprint(out)
    assert refs["a"] != refs["b"]
    assert refs["a"].keys() == refs["b"].keys()
    return a, b, refs


# ------------------------------------------------------------------ item 2: the demo never stands in for real data

def _make(tmp_path: Path, inbox: Path) -> subprocess.CompletedProcess:
    stamp = tmp_path / "stamp"
    stamp.touch()  # the venv step of the Makefile counts as done; the Python under test runs the command
    out = tmp_path / "output"
    out.mkdir(exist_ok=True)
    return subprocess.run(["make", "-s", "report", f"INBOX={inbox}", f"OUT={out}", f"PY={PY}", f"STAMP={stamp}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=180, env=_env())


def test_make_report_on_an_empty_inbox_writes_the_marked_demo_to_its_own_folder(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / ".gitkeep").touch()
    proc = _make(tmp_path, inbox)
    assert proc.returncode == 0, proc.stderr
    assert "示例收件箱" in proc.stdout and "示例" in proc.stdout
    out = tmp_path / "output"
    assert [p.name for p in out.iterdir()] == ["示例"]  # nothing of the demo beside real outputs
    demo = out / "示例"
    scores = json.loads((demo / "scores.json").read_text(encoding="utf-8"))
    assert scores["sample"] is True
    (docx,) = demo.glob("*自查报告.docx")
    doc = Document(docx)
    assert doc.paragraphs[0].text == SAMPLE_TEXT  # the first line of the first page
    assert all(SAMPLE_SHORT in "".join(p.text for p in s.header.paragraphs) for s in doc.sections)
    xlsx = sorted(demo.glob("*.xlsx"))
    assert len(xlsx) == 3
    for path in xlsx:
        wb = openpyxl.load_workbook(path)
        for ws in wb:
            assert str(ws["A1"].value).startswith(SAMPLE_BANNER), (path.name, ws.title)
            assert SAMPLE_SHORT in ws.oddHeader.left.text
    (scores_xlsx,) = demo.glob("*测评得分表.xlsx")
    assert any(n.startswith("xl/charts/") for n in zipfile.ZipFile(scores_xlsx).namelist())  # the chart kept


def test_make_report_with_only_unreadable_files_reports_them_and_never_uses_the_demo(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "工会-台账.pdf").write_bytes(b"%PDF-1.4 not a workbook")
    (inbox / "团委-台账.xlsx").write_bytes(b"this is not a zip file")
    proc = _make(tmp_path, inbox)
    out = tmp_path / "output"
    assert proc.returncode == 0, proc.stderr
    assert "示例" not in proc.stdout
    assert not (out / "示例").exists()
    scores = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    assert "sample" not in scores
    assert not any(d["submitted"] for d in scores["departments"])
    assert any(i["file"] == "团委-台账.xlsx" and i["level"] == "error" for i in scores["issues"])
    (docx,) = out.glob("*自查报告.docx")
    assert not any("示例数据" in t for t in _docx_text(docx))


def test_notify_refuses_to_mail_from_the_demo(tmp_path):
    out = tmp_path / "示例"
    res = run("report", "--inbox", str(SAMPLE), "--out", str(out), "--silent", "--sample")
    assert res.exit_code == 0, res.output
    res = run("notify", "--scores", str(out), "--templates", str(tmp_path / "t"))
    assert res.exit_code == 1
    assert "示例数据" in res.output and "不能据此给各部门发邮件" in res.output
    res = run("notify", "--scores", str(out), "--dry-run", "--outbox", str(tmp_path / "outbox"),
              "--templates", str(tmp_path / "t"))
    assert res.exit_code == 0, res.output  # looking at what would be sent is fine


# ------------------------------------------------------------------ item 13: where outputs may go

def test_out_inside_the_inbox_is_refused_and_nothing_is_written(tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE, inbox)
    before = sorted(p.name for p in inbox.rglob("*"))
    for out in (inbox / "output", inbox):
        res = run("report", "--inbox", str(inbox), "--out", str(out), "--silent")
        assert res.exit_code == 1
        assert res.output.startswith("错误：输出文件夹") and "在收件箱" in res.output and "里面" in res.output
        assert len(res.output.strip().splitlines()) == 1
    assert sorted(p.name for p in inbox.rglob("*")) == before


def test_out_naming_a_file_is_one_chinese_line(tmp_path):
    target = tmp_path / "报告.txt"
    target.write_text("x", encoding="utf-8")
    proc = subprocess.run(_cmd(SAMPLE, target), cwd=ROOT, capture_output=True, text=True, timeout=60, env=_env())
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"错误：输出位置 {target} 是一个文件，不是文件夹，请换一个文件夹名"
    assert target.read_text(encoding="utf-8") == "x"
    nested = target / "sub"  # a path through a file: the operating system's error, in Chinese
    proc = subprocess.run(_cmd(SAMPLE, nested), cwd=ROOT, capture_output=True, text=True, timeout=60, env=_env())
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("错误：读写") and "不是文件夹" in proc.stderr


def test_escape_sequences_in_names_never_reach_the_console_raw(tmp_path):
    evil = tmp_path / "收件箱\x1b]0;pwned\x07\x1b[31m\u202egpj.xlsx"
    proc = subprocess.run([PY, "-m", "pipeline", "report", "--inbox", str(evil), "--out", str(tmp_path / "o")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=_env())
    assert proc.returncode == 1
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr and "\u202e" not in proc.stderr
    assert "收件箱\\x1b]0;pwned\\x07" in proc.stderr and "\\u202egpj.xlsx" in proc.stderr  # visibly escaped


def test_console_safe_shows_control_and_bidi_characters_as_escapes():
    from pipeline.console import safe
    assert safe("调宣部\x1b[2J.xlsx") == "调宣部\\x1b[2J.xlsx"
    assert safe("a\u202eb\u2066c\x9bd\x00") == "a\\u202eb\\u2066c\\x9bd\\x00"
    assert safe("第1行\t姓名\n") == "第1行\t姓名\n"


# ------------------------------------------------------------------ item 14: one complete set, always

def test_a_run_leaves_one_set_and_no_staging(tmp_path, inboxes):
    a, b, refs = inboxes
    out = tmp_path / "out"
    subprocess.run(_cmd(a, out), check=True, cwd=ROOT, timeout=120, env=_env())
    (out / "notes.txt").write_text("coordinator's own file", encoding="utf-8")
    subprocess.run(_cmd(b, out), check=True, cwd=ROOT, timeout=120, env=_env())
    assert _fingerprint(out) == {**refs["b"], "notes.txt": _fingerprint(out)["notes.txt"]}
    assert (out / "notes.txt").read_text(encoding="utf-8") == "coordinator's own file"  # not part of the set
    assert not list(out.glob(".tmp-*"))
    assert json.loads((out / MANIFEST).read_text(encoding="utf-8"))["report"] == sorted(refs["b"])


_KILL_DURING_SWAP = """
import os, signal, sys
import pipeline.atomic as atomic
real, count = os.replace, [0]
def replace(src, dst):
    if atomic.COMMIT_PREFIX in os.fspath(src) and ".old" not in os.fspath(dst):
        count[0] += 1
        if count[0] == int(sys.argv[1]):
            os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst)
atomic.os.replace = replace
from pipeline.cli import main
main(sys.argv[2:])
"""


@pytest.mark.parametrize("renames", [1, 4])
def test_a_kill_between_two_renames_is_finished_by_the_next_reader(tmp_path, inboxes, renames):
    a, b, refs = inboxes
    out = tmp_path / "out"
    subprocess.run(_cmd(a, out), check=True, cwd=ROOT, timeout=120, env=_env())
    proc = subprocess.run([PY, "-c", _KILL_DURING_SWAP, str(renames), *_cmd(b, out)[3:]], cwd=ROOT,
                          timeout=120, env=_env())
    assert proc.returncode == -9  # killed with renames-1 of the new files in place
    assert list(out.glob(".tmp-commit-*"))  # the committed set waits, journal and all
    settle(out)  # what every run and every reader (report, notify) does first, under the folder's lock
    assert _fingerprint(out) == refs["b"]
    assert not list(out.glob(".tmp-*"))
    res = run("notify", "--scores", str(out), "--dry-run", "--outbox", str(tmp_path / "ob"),
              "--templates", str(tmp_path / "t"))
    assert res.exit_code == 0, res.output


def test_a_kill_before_the_commit_leaves_the_previous_set(tmp_path, inboxes):
    a, b, refs = inboxes
    out = tmp_path / "out"
    subprocess.run(_cmd(a, out), check=True, cwd=ROOT, timeout=120, env=_env())
    script = _KILL_DURING_SWAP.replace("atomic.COMMIT_PREFIX in os.fspath(src)", "atomic.STAGE_PREFIX in os.fspath(src)")
    proc = subprocess.run([PY, "-c", script, "1", *_cmd(b, out)[3:]], cwd=ROOT, timeout=120, env=_env())
    assert proc.returncode == -9  # killed at the commit rename itself: nothing committed
    assert _fingerprint(out) == refs["a"]
    subprocess.run(_cmd(b, out), check=True, cwd=ROOT, timeout=120, env=_env())
    assert _fingerprint(out) == refs["b"]
    assert not list(out.glob(".tmp-*"))


def _limit_file_size(limit: int):
    def apply():
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def _tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_a_full_disk_is_one_chinese_line_and_leaves_the_previous_set(tmp_path, inboxes):
    """A real full disk (a 3 MB tmpfs filled up) where the test may mount one; otherwise a real write failure
    from the operating system (RLIMIT_FSIZE: EFBIG on the write that passes the limit)."""
    a, b, refs = inboxes
    disk = tmp_path / "disk"
    mounted = _tmpfs(disk, "3m")
    try:
        out = disk / "out"
        subprocess.run(_cmd(a, out), check=True, cwd=ROOT, timeout=120, env=_env())
        if mounted:
            st = os.statvfs(disk)
            free = st.f_bavail * st.f_frsize
            filler = disk / "filler"
            with open(filler, "wb") as fh:  # leave 40 KB: the staging of the next set runs out of space
                fh.write(b"\0" * max(0, free - 40_000))
            preexec, reason = None, "磁盘空间不足"
        else:
            preexec, reason = _limit_file_size(20_000), "超过了系统允许的大小"
        proc = subprocess.run(_cmd(b, out), cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env(),
                              preexec_fn=preexec)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("错误：读写 ") and reason in lines[0], proc.stderr
        assert "上次生成的文件保持不变" in lines[0]
        assert _fingerprint(out) == refs["a"]
        assert not list(out.glob(".tmp-*"))  # the staging folder is gone too
        if mounted:
            filler.unlink()
        subprocess.run(_cmd(b, out), check=True, cwd=ROOT, timeout=120, env=_env())
        assert _fingerprint(out) == refs["b"]
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=True)


def test_a_second_run_into_a_busy_folder_waits_then_is_refused(tmp_path, inboxes):
    a, b, refs = inboxes
    out = tmp_path / "out"
    subprocess.run(_cmd(a, out), check=True, cwd=ROOT, timeout=120, env=_env())
    with folder_lock(out, "生成报告"):  # another run holds the folder
        start = time.monotonic()
        proc = subprocess.run(_cmd(b, out), cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env=_env(WENMING_LOCK_WAIT="1.5"))
        waited = time.monotonic() - start
    assert proc.returncode == 1
    assert waited >= 1.5
    assert proc.stderr.startswith(f"错误：文件夹 {out} 正被另一次运行使用（进程 {os.getpid()}，生成报告")
    assert proc.stderr.strip().endswith("请等它结束后再运行")
    assert _fingerprint(out) == refs["a"]

    lock = folder_lock(out, "生成报告")
    lock.__enter__()
    threading.Timer(1.0, lock.__exit__, (None, None, None)).start()  # the other run ends a second later
    proc = subprocess.run(_cmd(b, out), cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert _fingerprint(out) == refs["b"]
    assert (out / LOCK).exists()


def test_two_runs_at_once_into_one_folder_leave_one_complete_set(tmp_path, inboxes):
    a, b, refs = inboxes
    out = tmp_path / "out"
    procs = [subprocess.Popen(_cmd(x, out), cwd=ROOT, env=_env()) for x in (a, b)]
    assert [p.wait(timeout=180) for p in procs] == [0, 0]
    assert _fingerprint(out) in (refs["a"], refs["b"])
    assert not list(out.glob(".tmp-*"))


def test_os_error_message_names_the_file_and_the_cause():
    from pipeline.errors import os_error_message
    exc = OSError(errno.ENOSPC, "No space left on device", "/data/output/scores.json")
    assert os_error_message(exc) == "读写 /data/output/scores.json 时出错：磁盘空间不足，请腾出空间后重新运行"
    assert "没有权限" in os_error_message(PermissionError(errno.EACCES, "Permission denied", "x.xlsx"))


def _xls_xlrd_warns_about(path: Path) -> None:
    """An old .xls (xlwt) with 100 bytes of padding and a stray byte in the terminator of its Workbook stream's
    directory name: calamine refuses it, xlrd reads it and prints `WARNING *** file size (…) not 512 + multiple
    of sector size (512)` on its log file (sys.stdout unless told otherwise)."""
    import xlwt
    book = xlwt.Workbook(encoding="utf-8")
    info = book.add_sheet("填报信息")
    info.write(0, 0, "部门"), info.write(0, 1, "妇联")
    ws = book.add_sheet("人员名单")
    for c, h in enumerate(["序号", "姓名", "工号", "参与创建工作", "满意度"]):
        ws.write(1, c, h)
    ws.write(2, 1, "壬"), ws.write(2, 2, "5001"), ws.write(2, 3, "是"), ws.write(2, 4, "满意")
    buf = __import__("io").BytesIO()
    book.save(buf)
    data = bytearray(buf.getvalue() + b"\0" * 100)
    at = data.index("Workbook".encode("utf-16-le")) + 17
    data[at] = 0x93
    path.write_bytes(bytes(data))


def test_library_warnings_never_reach_the_console(tmp_path):
    """xlrd's log lines and the libraries' Python warnings are not shown to office staff; the file is read."""
    import io as _io
    import xlrd
    from python_calamine import CalamineWorkbook
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _xls_xlrd_warns_about(inbox / "妇联-旧表.xls")
    data = (inbox / "妇联-旧表.xls").read_bytes()
    with pytest.raises(Exception):
        CalamineWorkbook.from_filelike(_io.BytesIO(data))
    log = _io.StringIO()
    xlrd.open_workbook(file_contents=data, logfile=log)
    assert "WARNING *** file size" in log.getvalue()  # the input really makes xlrd talk
    out = tmp_path / "out"
    proc = subprocess.run([PY, "-m", "pipeline", "report", "--inbox", str(inbox), "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=_env())
    assert proc.returncode == 0, proc.stderr
    both = proc.stdout + proc.stderr
    assert "WARNING" not in both and "Warning" not in both and "warn(" not in both, both
    scores = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    women = next(d for d in scores["departments"] if d["name"] == "妇联")
    assert women["submitted"] and women["metrics"]["participation_rate"]["numerator"] == 1


def test_an_output_never_overwrites_a_same_named_file_the_tool_did_not_write(tmp_path):
    """A coordinator's own file that bears an output's name (say a 自查报告 written by hand) stays as it is: the run
    says so in one Chinese line and writes nothing; once the file is moved away the run goes through."""
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "2026年天津市科学技术协会创建文明单位工作自查报告.docx"
    mine.write_bytes(b"my own report")
    res = run("report", "--inbox", str(SAMPLE), "--out", str(out), "--silent")
    assert res.exit_code == 1
    assert res.output.strip().splitlines()[-1] == (f"错误：输出文件夹 {out} 中已有同名文件“{mine.name}”，不是本工具生成的；"
                                                   "为免覆盖，请先把它移到别处或改名，或换一个输出文件夹")
    assert mine.read_bytes() == b"my own report" and sorted(p.name for p in out.iterdir()) == [".lock", mine.name]
    mine.rename(tmp_path / "moved.docx")
    assert run("report", "--inbox", str(SAMPLE), "--out", str(out), "--silent").exit_code == 0
    assert run("report", "--inbox", str(SAMPLE), "--out", str(out), "--silent").exit_code == 0  # its own files


@pytest.mark.parametrize("command,name", [
    (["templates"], "工会-2026年文明单位创建台账.xlsx"),
    (["plan"], "2026年天津市科学技术协会创建文明单位工作实施方案.docx"),
    (["archive", "--inbox", str(SAMPLE)], "分类档案"),
    (["rollup", "--packages", "{packages}"], "2026年文明单位创建汇总表.xlsx"),
])
def test_no_folder_output_overwrites_what_the_tool_did_not_write(tmp_path, command, name):
    """templates, plan, archive and rollup write files of known names: a same-named file or folder of the
    user's stops the command with one Chinese line, untouched; the tool's own files are written again."""
    out = tmp_path / "out"
    out.mkdir()
    packages = tmp_path / "packages"
    if "{packages}" in command:
        assert run("export", "--scores", str(_sample_scores(tmp_path)), "--out", str(packages / "甲.zip"),
                   "--internal").exit_code == 0
    args = [a.replace("{packages}", str(packages)) for a in command] + ["--out", str(out)]
    mine = out / name
    if name == "分类档案":
        mine.mkdir()
        (mine / "我的笔记.txt").write_text("留着", encoding="utf-8")
    else:
        mine.write_bytes(b"mine")
    res = run(*args)
    assert res.exit_code == 1, res.output
    assert res.output.strip() == (f"错误：输出文件夹 {out} 中已有同名文件“{name}”，不是本工具生成的；为免覆盖，"
                                  "请先把它移到别处或改名，或换一个输出文件夹")
    assert (mine / "我的笔记.txt").read_text(encoding="utf-8") == "留着" if mine.is_dir() else mine.read_bytes() == b"mine"
    mine.rename(tmp_path / "moved")
    assert run(*args).exit_code == 0
    assert run(*args).exit_code == 0 and mine.exists()  # what it wrote itself, it writes again


def _sample_scores(tmp_path: Path) -> Path:
    """A real (not sample-marked) report of the sample inbox."""
    out = tmp_path / "real"
    assert run("report", "--inbox", str(SAMPLE), "--out", str(out), "--silent").exit_code == 0
    return out


def test_a_generated_file_edited_since_is_kept_aside_not_overwritten(tmp_path):
    """The coordinator polishes the 自查报告 in WPS and saves it; the next run moves that edit aside as
    “…（修改稿）.docx”, says so, and writes the new report; a run over untouched files keeps nothing aside."""
    out = tmp_path / "out"
    assert run("report", "--inbox", str(SAMPLE), "--out", str(out), "--silent").exit_code == 0
    res = run("report", "--inbox", str(SAMPLE), "--out", str(out), "--silent")
    assert res.exit_code == 0 and "修改" not in res.output and not list(out.glob("*修改稿*"))
    (report_docx,) = out.glob("*自查报告.docx")
    edited = report_docx.read_bytes() + b"\0edited in WPS"
    report_docx.write_bytes(edited)
    res = run("report", "--inbox", str(SAMPLE), "--out", str(out), "--silent")
    assert res.exit_code == 0, res.output
    kept = out / f"{report_docx.stem}（修改稿）.docx"
    assert kept.read_bytes() == edited and report_docx.read_bytes() != edited
    assert f"提醒：“{report_docx.name}”在上次生成后被修改过，已另存为“{kept.name}”，新生成的文件不会覆盖这些修改" in res.output
    _docx_text(report_docx)  # the new report is whole
    # templates edited by hand are kept the same way
    tpl = tmp_path / "tpl"
    assert run("templates", "--out", str(tpl)).exit_code == 0
    (one,) = tpl.glob("工会-*.xlsx")
    one.write_bytes(one.read_bytes() + b"\0")
    res = run("templates", "--out", str(tpl))
    assert res.exit_code == 0 and "已另存为" in res.output and (tpl / f"{one.stem}（修改稿）.xlsx").exists()
