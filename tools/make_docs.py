"""Write the generated pages of docs/: the FAQ from the message table, the command reference from --help.

Both are made from the code itself so they cannot drift from it; `tests/test_docs.py` fails when a
committed page differs from what this script writes. Run `python tools/make_docs.py` after changing a
message in `pipeline/issues.py` or a command's help.
"""

from __future__ import annotations

import string
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import click  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from pipeline.cli import main as cli_main  # noqa: E402
from pipeline.issues import ERROR, INFO, LEVEL_ZH, MESSAGES, WARNING  # noqa: E402

FAQ = ROOT / "docs" / "faq.md"
COMMANDS = ROOT / "docs" / "commands.md"

#: What a placeholder stands for, as the reader of a 校验报告 would call it.
PLACEHOLDER_NAMES = {
    "row": "行号", "column": "栏目", "value": "填写的内容", "sheet": "工作表", "year": "年度", "detail": "原因",
    "other": "另一处", "known": "本单位部门名单", "winner": "较新的文件", "required": "必填栏目", "kind": "类别",
    "expected": "当前版本", "key": "工号或姓名", "last": "末行", "number": "数值", "standard": "测评标准编码",
    "rows": "行数", "cols": "列数", "max_rows": "行数上限", "max_cells": "单元格上限", "seconds": "秒数",
    "depth": "层数", "owner": "部门", "count": "张数", "min": "最少张数", "fields": "缺少的栏目", "type": "类型",
    "date": "日期", "eg_date": "年度-03-05", "eg_day": "年度年3月5日", "code_hint": "（如 本部门的测评标准编码）",
}

LEVEL_MEANING = {
    ERROR: "该行（或该文件）本次不计入统计，改正后重新报送。",
    WARNING: "该行照常计入，有问题的那一栏按未填处理；请核对改正。",
    INFO: "只是说明，一般无须处理。",
}


def shown(template: str) -> str:
    """A message template with each placeholder written as 〔what it stands for〕."""
    out = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if field is not None:
            out.append(f"〔{PLACEHOLDER_NAMES.get(field, field)}〕")
    return "".join(out).replace("|", "｜")


def faq_page() -> str:
    lines = [
        "# 常见问题：校验报告和屏幕上的每一种提示",
        "",
        "<!-- 本页由 tools/make_docs.py 根据 pipeline/issues.py 的提示表生成，请勿手工修改。 -->",
        "",
        "校验报告（`…台账校验报告.xlsx`）中每个问题一行，写明文件、工作表、第几行、哪一栏、原值和怎么改。"
        "下面按级别列出全部提示；〔 〕中的内容在实际提示中换成具体的行号、栏目和数值。",
        "",
    ]
    for level in (ERROR, WARNING, INFO):
        lines += [f"## {LEVEL_ZH[level]}", "", LEVEL_MEANING[level], "", "| 代码 | 提示 |", "|---|---|"]
        lines += [f"| `{code}` | {shown(template)} |" for code, (lvl, template) in MESSAGES.items() if lvl == level]
        lines.append("")
    return "\n".join(lines)


def _help(args: list[str]) -> str:
    result = CliRunner().invoke(cli_main, args, prog_name="python -m pipeline", terminal_width=100)
    return result.output.rstrip()


def commands_page() -> str:
    ctx = click.Context(cli_main, info_name="python -m pipeline")
    names = cli_main.list_commands(ctx)
    lines = [
        "# 命令参考",
        "",
        "<!-- 本页由 tools/make_docs.py 根据各命令的 --help 生成，请勿手工修改。 -->",
        "",
        "每个命令都可以加 `--help` 查看同样的说明。在项目文件夹中运行，例如 `.venv/bin/python -m pipeline report --help`"
        "（Windows：`.venv\\Scripts\\python -m pipeline report --help`）。",
        "",
        "```text",
        _help(["--help"]),
        "```",
        "",
    ]
    for name in names:
        lines += [f"## {name}", "", "```text", _help([name, "--help"]), "```", ""]
    return "\n".join(lines)


def pages() -> dict[Path, str]:
    return {FAQ: faq_page(), COMMANDS: commands_page()}


def main() -> None:
    for path, text in pages().items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"已写入 {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
