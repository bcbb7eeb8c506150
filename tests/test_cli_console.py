"""The console (issue 12, items 15 and 16): every command runs on GBK, cp936 and ASCII outputs, and the command
line's own usage errors are Chinese."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import run

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "inbox"

# Every command once, with its cheapest real invocation, in one interpreter per encoding (sys.exit caught).
_ALL_COMMANDS = """
import sys
from pipeline.cli import main
tmp = sys.argv[1]
calls = [
    ["--help"], ["report", "--help"], ["collect", "--help"], ["notify", "--help"], ["plan", "--help"],
    ["templates", "--out", tmp + "/t"],
    ["plan", "--out", tmp + "/plan"],
    ["report", "--inbox", sys.argv[2], "--out", tmp + "/out"],
    ["notify", "--scores", tmp + "/out", "--dry-run", "--outbox", tmp + "/ob", "--templates", tmp + "/t"],
    ["collect", "--eml", tmp + "/no-such-folder", "--inbox", tmp + "/inbox"],
    ["report", "--inbox", tmp + "/no-such-inbox", "--out", tmp + "/out2"],
    ["repot"], ["report", "--year", "abc"],
]
for args in calls:
    print("#", " ".join(args[:1]), file=sys.stderr, flush=True)
    try:
        main(args)
    except SystemExit as exc:
        print("# exit", exc.code, file=sys.stderr, flush=True)
"""


@pytest.mark.parametrize("encoding", ["gbk", "cp936", "ascii"])
def test_every_command_runs_on_a_console_without_unicode(tmp_path, encoding):
    env = dict(os.environ, PYTHONIOENCODING=encoding)
    proc = subprocess.run([sys.executable, "-c", _ALL_COMMANDS, str(tmp_path), str(SAMPLE)], cwd=ROOT,
                          capture_output=True, timeout=300, env=env)
    out = proc.stdout.decode(encoding)  # strictly in the console's encoding: it would raise otherwise
    err = proc.stderr.decode(encoding)
    assert proc.returncode == 0
    assert "Traceback" not in err and "Error" not in err and "技术支持" not in err and "support" not in err
    exits = [line for line in err.splitlines() if line.startswith("# exit")]
    assert exits == ["# exit 0"] * 9 + ["# exit 1"] * 2 + ["# exit 2"] * 2, err
    if encoding == "ascii":
        assert "v" in out and "+" in out  # ✓ -> v, the table's box lines as ASCII
        assert "?" in out  # Chinese the encoding cannot show: a question mark, never an exception
    else:
        assert "√" in out and "×" in out  # ✓ and ✗ as the GBK console can show them
        assert "测评指标" in out and "已生成 10 封邮件" in out and "已生成实施方案" in out
        assert "错误：没有 repot 这个命令" in err
        assert "错误：收件箱文件夹不存在" in err and "错误：邮件文件夹不存在" in err
    assert (tmp_path / "out" / "scores.json").is_file()


def test_plain_equivalents_are_chosen_per_encoding():
    import pipeline.console  # noqa: F401 - registers the error handler
    from pipeline.console import ERRORS
    text = "✓ 达标 ✗ 未达标 — 共 3 条…"
    assert text.encode("gbk", ERRORS).decode("gbk") == "√ 达标 × 未达标 — 共 3 条…"
    assert text.encode("ascii", ERRORS).decode("ascii") == "v ?? x ??? - ? 3 ?..."
    assert "⠋ 读取".encode("cp936", ERRORS).decode("cp936") == ". 读取"


# ------------------------------------------------------------------ item 16: usage errors in Chinese

def _usage(*args: str) -> str:
    res = run(*args)
    assert res.exit_code == 2, res.output
    text = res.output
    for english in ("Usage:", "Error:", "Try '", "for help", "No such", "Missing", "Invalid value", "is not"):
        assert english not in text, text
    return text


def test_no_such_command_is_chinese_and_suggests_the_right_one():
    text = _usage("repot")
    assert "用法：main [选项] 命令 [参数]..." in text
    assert "运行 main --help 查看用法和全部选项。" in text
    assert "错误：没有 repot 这个命令，是不是要用 report？（可用的命令：" in text


def test_missing_required_option_is_chinese():
    text = _usage("report", "--out", "o")
    assert "用法：main report [选项]" in text
    assert text.strip().endswith("错误：缺少必填的选项 --inbox")


def test_option_without_its_value_is_chinese():
    assert _usage("report", "--inbox").strip().endswith("错误：选项 --inbox 后面需要填写一个值")


def test_invalid_values_are_chinese_and_say_what_is_allowed():
    assert "错误：选项 --year 的值“abc”不是整数，请填写数字，例如 2026" in _usage("report", "--year", "abc")
    assert "错误：选项 --year 的值 1999 不在允许的范围内，应在 2000 到 2100 之间" in _usage("report", "--year", "1999")
    assert "错误：选项 --imap-security 的值“tls”不是可选的值，可选：auto、ssl、starttls、none" in \
        _usage("collect", "--inbox", "i", "--imap-security", "tls")
    assert "错误：选项 --since 的值“2026-13-01”不是有效日期，请写成 2026-11-01 的形式" in \
        _usage("collect", "--inbox", "i", "--since", "2026-13-01")


def test_unknown_option_and_extra_arguments_are_chinese():
    assert "错误：没有 --outt 这个选项，是不是要用 --out？" in _usage("report", "--outt", "x")
    assert "错误：多余的参数：extra" in _usage("report", "--inbox", "i", "--out", "o", "extra")


def test_out_naming_a_file_is_chinese_for_every_command_that_takes_a_folder(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("x", encoding="utf-8")
    text = _usage("templates", "--out", str(target))
    assert f"错误：选项 --out 需要一个文件夹，但“{target}”是一个文件，请换一个文件夹名" in text


def test_help_is_chinese():
    res = run("report", "--help")
    assert res.exit_code == 0
    assert "用法：" in res.output and "显示本帮助并退出" in res.output and "[必填]" in res.output
    assert "[required]" not in res.output and "DIRECTORY" not in res.output and "Show this" not in res.output
