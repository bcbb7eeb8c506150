"""Console output for office staff: progress per file and a short summary table (rich).

Every line reaches the console safely (issue 12, items 13 and 15):
- text that came from outside (file names, sender names, cell values) never carries terminal control sequences:
  `safe()` shows ESC, other control characters and bidirectional overrides as visible `\\x1b`-style escapes;
- library warnings are not shown (`install_streams`; the readers also silence theirs, `intake.ingest`);
- a console whose encoding lacks a character (a Chinese Windows console is GBK/cp936, a pipe may be ASCII) gets a
  plain equivalent (✓ → √ → v, ✗ → × → x, ASCII spinner and box lines), never a UnicodeEncodeError.
"""

from __future__ import annotations

import codecs
import io
import re
import sys
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.catalog import format_percent
from pipeline.score import STATUSES

if TYPE_CHECKING:
    from pipeline.result import Result

_console = Console(highlight=False, soft_wrap=True)

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional formatting characters that can make a
# name read differently from what it is (right-to-left override and friends).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe(text: object) -> str:
    """Text from outside made printable: control and bidi characters shown as visible escapes."""
    s = str(text)
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), s) if _UNSAFE.search(s) else s


# Plain equivalents for characters an encoding lacks, best first; the last resort is ASCII.
_PLAIN: dict[str, tuple[str, ...]] = {
    "✓": ("√", "v"), "✔": ("√", "v"), "✗": ("×", "x"), "✘": ("×", "x"), "×": ("x",), "√": ("v",),
    "—": ("-",), "–": ("-",), "…": ("...",), "·": (".",), "•": ("*",),
    "“": ('"',), "”": ('"',), "‘": ("'",), "’": ("'",), "：": (":",), "，": (",",), "。": (".",), "、": (",",),
    "；": (";",), "（": ("(",), "）": (")",), "【": ("[",), "】": ("]",), "《": ("<",), "》": (">",),
    "！": ("!",), "？": ("?",), "\u3000": (" ",), "％": ("%",),
    "─": ("-",), "━": ("-",), "│": ("|",), "┃": ("|",), "┏": ("+",), "┓": ("+",), "┗": ("+",), "┛": ("+",),
    "┌": ("+",), "┐": ("+",), "└": ("+",), "┘": ("+",), "├": ("+",), "┤": ("+",), "┬": ("+",), "┴": ("+",),
    "┼": ("+",), "╭": ("+",), "╮": ("+",), "╰": ("+",), "╯": ("+",), "┡": ("+",), "┩": ("+",), "╇": ("+",),
}
ERRORS = "wenming-plain"


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def _plain(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start:exc.end]:
        choice = next((c for c in _PLAIN.get(ch, ()) if _encodable(c, exc.encoding)), None)
        if choice is None and 0x2800 <= ord(ch) <= 0x28FF:  # braille spinner frames
            choice = "."
        out.append(choice if choice is not None else "?")
    return "".join(out), exc.end


codecs.register_error(ERRORS, _plain)


def encoding_of(stream) -> str:
    return (getattr(stream, "encoding", None) or "utf-8").lower()


def is_unicode(stream) -> bool:
    return encoding_of(stream).replace("_", "-").startswith(("utf", "cp65001"))


class SafeStream(io.TextIOBase):
    """A text stream in front of stdout/stderr that shows control characters as escapes (for click.echo, print)."""

    def __init__(self, raw) -> None:
        super().__init__()
        self.raw = raw

    def write(self, s: str) -> int:
        if not isinstance(s, str):  # as a real text stream does (click probes with b"")
            raise TypeError("write() argument must be str")
        self.raw.write(safe(s))
        return len(s)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.raw.encoding

    @property
    def errors(self) -> str:  # type: ignore[override]
        return getattr(self.raw, "errors", ERRORS)

    def writable(self) -> bool:
        return True


def install_streams() -> None:
    """Make the process's stdout and stderr safe (called once by the command line entry point).

    Python warnings of the libraries (openpyxl's UserWarnings, pandas' FutureWarnings, …) are not for office
    staff: they are silenced unless a developer asks for them (`python -W …` or PYTHONWARNINGS)."""
    if not sys.warnoptions:
        warnings.simplefilter("ignore")
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, SafeStream) or stream is None:
            continue
        if isinstance(stream, io.TextIOWrapper):
            try:
                stream.reconfigure(errors=ERRORS)
            except (ValueError, io.UnsupportedOperation):  # pragma: no cover - a detached stream
                pass
        setattr(sys, name, SafeStream(stream))
        if name == "stdout":
            _console.file = stream  # rich writes its own colour codes; what it prints is escaped by safe()


def _out():
    return _console.file


@contextmanager
def progress(silent: bool) -> Iterator[Callable[[str], None]]:
    if silent:
        yield lambda name: None
        return
    count = 0
    spinner = "dots" if is_unicode(_out()) else "line"  # the line spinner is ASCII: - \ | /
    with _console.status("正在读取报送文件…", spinner=spinner) as status:
        def tick(name: str) -> None:
            nonlocal count
            count += 1
            status.update(f"正在读取第 {count} 个文件：{escape(safe(name))}")
        yield tick
    _console.print(f"已读取 {count} 个工作簿")


@contextmanager
def steps(silent: bool = False, first: str = "正在准备…") -> Iterator[Callable[[str], None]]:
    """A status line showing the latest step of a long command (`archive`: documents, LibreOffice page counts)."""
    if silent:
        yield lambda text: None
        return
    spinner = "dots" if is_unicode(_out()) else "line"
    with _console.status(first, spinner=spinner) as status:
        yield lambda text: status.update(escape(safe(text)))


def line(text: str) -> None:
    """One plain line (text from outside is escaped)."""
    _console.print(escape(safe(text)))


def summary(result: "Result", out_dir) -> None:
    cfg = result.config
    missing = result.missing
    e = lambda s: escape(safe(s))  # noqa: E731
    if getattr(result, "sample", False):
        _console.print("[bold yellow]【示例数据】本次使用自带的示例收件箱，输出只供演示，不是本单位的报送数据[/bold yellow]")
    _console.print(f"[bold]{e(cfg.unit)} {result.year}年文明单位创建自查[/bold]")
    _console.print(f"报送部门 {len(result.submitted)}/{len(cfg.department_names)}"
                   + (f"，未报送：{e('、'.join(missing))}" if missing else ""))
    table = Table(title="测评指标", show_lines=False)
    for h in ("指标", "实际", "要求", ""):
        table.add_column(h)
    for m in result.metrics.values():
        mark = {True: "[green]✓[/green]", False: "[red]✗[/red]", None: "[yellow]无数据[/yellow]"}[m.passed]
        value = "—" if m.value is None else f"{format_percent(m.value)}（{m.numerator}/{m.denominator}）"
        table.add_row(e(m.metric.label), value, e(m.metric.requirement), mark)
    _console.print(table)
    counts = {s: sum(r.status == s for r in result.standards) for s in STATUSES}
    _console.print("测评标准：" + "，".join(f"{s} {n} 条" for s, n in counts.items()))
    errors = sum(i.level == "error" for i in result.issues)
    warnings = sum(i.level == "warning" for i in result.issues)
    _console.print(f"校验发现错误 {errors} 处、提醒 {warnings} 处，详见校验报告")
    from pipeline.issues import ANNOUNCED, LEVEL_ZH
    for issue in result.issues:
        if issue.code in ANNOUNCED:
            _console.print(f"{LEVEL_ZH[issue.level]}：{e(issue.line())}")
    for message in getattr(result, "messages", []):
        _console.print(e(message))
    _console.print(f"输出文件在：{e(out_dir)}")
    for path in result.outputs.values():
        _console.print(f"  {e(path.name)}")
