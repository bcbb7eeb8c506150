"""Console output for office staff: progress per file and a short summary table (rich)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from rich.console import Console
from rich.table import Table

from pipeline.catalog import format_percent
from pipeline.score import STATUSES

if TYPE_CHECKING:
    from pipeline.result import Result

_console = Console(highlight=False, soft_wrap=True)


@contextmanager
def progress(silent: bool) -> Iterator[Callable[[str], None]]:
    if silent:
        yield lambda name: None
        return
    count = 0
    with _console.status("正在读取报送文件…") as status:
        def tick(name: str) -> None:
            nonlocal count
            count += 1
            status.update(f"正在读取第 {count} 个文件：{name}")
        yield tick
    _console.print(f"已读取 {count} 个工作簿")


def summary(result: "Result", out_dir) -> None:
    cfg = result.config
    missing = result.missing
    _console.print(f"[bold]{cfg.unit} {result.year}年文明单位创建自查[/bold]")
    _console.print(f"报送部门 {len(result.submitted)}/{len(cfg.department_names)}"
                   + (f"，未报送：{'、'.join(missing)}" if missing else ""))
    table = Table(title="测评指标", show_lines=False)
    for h in ("指标", "实际", "要求", ""):
        table.add_column(h)
    for m in result.metrics.values():
        mark = {True: "[green]✓[/green]", False: "[red]✗[/red]", None: "[yellow]无数据[/yellow]"}[m.passed]
        value = "—" if m.value is None else f"{format_percent(m.value)}（{m.numerator}/{m.denominator}）"
        table.add_row(m.metric.label, value, m.metric.requirement, mark)
    _console.print(table)
    counts = {s: sum(r.status == s for r in result.standards) for s in STATUSES}
    _console.print("测评标准：" + "，".join(f"{s} {n} 条" for s, n in counts.items()))
    errors = sum(i.level == "error" for i in result.issues)
    warnings = sum(i.level == "warning" for i in result.issues)
    _console.print(f"校验发现错误 {errors} 处、提醒 {warnings} 处，详见校验报告")
    _console.print(f"输出文件在：{out_dir}")
    for path in result.outputs.values():
        _console.print(f"  {path.name}")
