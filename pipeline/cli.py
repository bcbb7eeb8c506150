"""Command line: the only module that imports click. Each command calls one library function."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.errors import PipelineError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _config_option(f):
    return click.option("--config", "config_dir", type=click.Path(file_okay=False), default=None,
                        help="配置文件夹（unit.yaml、catalog.yaml 所在处），默认为项目的 config/")(f)


def _load(config_dir):
    from pipeline.catalog import load_config
    return load_config(config_dir)


class Fatal(click.ClickException):
    """One Chinese line on stderr, exit 1."""

    def show(self, file=None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


class _ChineseHelp:
    """Help pages in Chinese: usage, section headings and the help option itself."""

    def get_help_option(self, ctx):
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = "显示本帮助并退出"
        return opt

    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix="用法：")

    def format_options(self, ctx, formatter):
        rows = [r for p in self.get_params(ctx) if (r := p.get_help_record(ctx)) is not None]
        if rows:
            with formatter.section("选项"):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            commands = [(n, self.get_command(ctx, n)) for n in self.list_commands(ctx)]
            if commands:
                with formatter.section("命令"):
                    formatter.write_dl([(n, c.get_short_help_str(80)) for n, c in commands if c])


class _Command(_ChineseHelp, click.Command):
    pass


class _Group(_ChineseHelp, click.Group):
    command_class = _Command

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PipelineError as exc:
            raise Fatal(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - never a traceback for office staff
            raise Fatal(f"运行出错（{exc.__class__.__name__}: {exc}），请把此行发给技术支持") from None


@click.group(cls=_Group, context_settings=CONTEXT, help="文明单位创建自查：生成部门台账模板、汇总校验各部门报送、"
             "测评打分并生成自查报告。")
@click.version_option(package_name="wenming-pipeline", message="%(version)s", help="显示版本号并退出")
def main():
    pass


@main.command(help="为每个部门生成一份 Excel 台账模板。")
@_config_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="input_templates", show_default=True,
              help="模板输出文件夹")
def templates(config_dir, out_dir):
    from pipeline.templates import write_templates
    paths = write_templates(_load(config_dir), out_dir)
    click.echo(f"已生成 {len(paths)} 份部门台账模板：{out_dir}")


@main.command(help="读取收件箱中各部门报送的台账，校验、汇总、打分，生成自查报告等文件。")
@click.option("--inbox", "inbox", type=click.Path(), required=True, help="各部门报送文件所在文件夹")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="输出文件夹")
@_config_option
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="自查年度，默认取 unit.yaml 中的年度")
@click.option("--silent", is_flag=True, help="不显示进度和汇总表")
def report(inbox, out_dir, config_dir, year, silent):
    from pipeline import console
    from pipeline.report import collect, write_outputs
    config = _load(config_dir)
    with console.progress(silent) as tick:
        result = collect(inbox, config, year, progress=tick)
    write_outputs(result, out_dir)
    if not silent:
        console.summary(result, out_dir)


@main.command(help="生成创建文明单位工作实施方案（含任务分工表）。")
@_config_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="输出文件夹")
def plan(config_dir, out_dir):
    from pipeline.render_docx import write_plan
    path = write_plan(_load(config_dir), Path(out_dir))
    click.echo(f"已生成实施方案：{path}")


@main.command(help="用 LibreOffice 把输出文件夹中的 Word 文件转为 PDF，便于打印。")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="输出文件夹")
def pdf(out_dir):
    from pipeline.pdf import convert_folder
    for path in convert_folder(Path(out_dir)):
        click.echo(f"已转换：{path}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
