"""Command line: the only module that imports click. Each command calls one library function."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from pipeline.errors import PipelineError, os_error_message

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _config_option(f):
    return click.option("--config", "config_dir", type=click.Path(file_okay=False), default=None,
                        help="配置文件夹（unit.yaml、catalog.yaml 所在处）或 profiles/ 下的单位配置名；"
                             "默认为记住的配置（.wenming-profile），没有时用项目的 config/")(f)


def _load(config_dir):
    from pipeline.catalog import load_config
    from pipeline.profile import resolve_config_dir
    return load_config(resolve_config_dir(config_dir))


class Fatal(click.ClickException):
    """One Chinese line on stderr, exit 1."""

    def show(self, file=None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


# ------------------------------------------------------------------ click's own usage errors, in Chinese

def _hint(param) -> str:
    if param is None:
        return ""
    if getattr(param, "opts", None) and param.param_type_name == "option":
        return max(param.opts, key=len)
    return (param.human_readable_name or "").upper()


def _bad_value(exc: click.BadParameter) -> str:
    """'Invalid value for --year: …' as a Chinese sentence naming the option, the value and what is allowed."""
    param, msg = exc.param, exc.message
    hint = _hint(param) or "参数"
    kind = getattr(param, "type", None)
    m = re.match(r"^'?(.*?)'? (?:is not|does not|is a|is not a)", msg)
    value = m.group(1) if m else ""
    if isinstance(kind, click.IntRange) and "is not in the range" in msg:
        low, high = kind.min, kind.max
        span = f"{low} 到 {high} 之间" if low is not None and high is not None else \
            (f"不小于 {low}" if low is not None else f"不大于 {high}")
        return f"选项 {hint} 的值 {value} 不在允许的范围内，应在 {span}"
    if isinstance(kind, (click.IntRange, click.types.IntParamType)) or "valid integer" in msg:
        return f"选项 {hint} 的值“{value}”不是整数，请填写数字，例如 2026"
    if isinstance(kind, click.types.FloatParamType):
        return f"选项 {hint} 的值“{value}”不是数字"
    if isinstance(kind, click.Choice):
        return f"选项 {hint} 的值“{value}”不是可选的值，可选：{'、'.join(map(str, kind.choices))}"
    if isinstance(kind, click.DateTime):
        return f"选项 {hint} 的值“{value}”不是有效日期，请写成 2026-11-01 的形式"
    if isinstance(kind, click.Path):
        path = re.search(r"'(.*)'", msg)
        shown = path.group(1) if path else value
        if "is a file" in msg:
            return f"选项 {hint} 需要一个文件夹，但“{shown}”是一个文件，请换一个文件夹名"
        if "is a directory" in msg:
            return f"选项 {hint} 需要一个文件，但“{shown}”是一个文件夹"
        if "does not exist" in msg:
            return f"选项 {hint} 指定的“{shown}”不存在"
        return f"选项 {hint} 指定的“{shown}”无法使用"
    return f"选项 {hint} 的值无效（{msg}）"


def usage_message(exc: click.UsageError) -> str:
    """One Chinese line for any of click's usage errors (the English original only as a last resort)."""
    if isinstance(exc, click.exceptions.NoSuchCommand) or exc.message.startswith("No such command"):
        name = getattr(exc, "command_name", None) or re.sub(r"^No such command '?(.*?)'?\.$", r"\1", exc.message)
        group = exc.ctx.command if exc.ctx else None
        names = "、".join(group.list_commands(exc.ctx)) if isinstance(group, click.Group) else ""
        guess = getattr(exc, "possibilities", None)
        return (f"没有 {name} 这个命令" + (f"，是不是要用 {'、'.join(guess)}？" if guess else "")
                + (f"（可用的命令：{names}）" if names else ""))
    if isinstance(exc, click.NoSuchOption):
        guess = exc.possibilities
        return f"没有 {exc.option_name} 这个选项" + (f"，是不是要用 {'、'.join(guess)}？" if guess else "")
    if isinstance(exc, click.MissingParameter):
        hint = _hint(exc.param)
        if exc.param is not None and exc.param.param_type_name == "option":
            return f"缺少必填的选项 {hint}"
        return f"缺少参数 {hint}" if hint else "缺少参数"
    if isinstance(exc, click.BadParameter):
        return _bad_value(exc)
    msg = exc.message
    if isinstance(exc, click.BadOptionUsage) and "requires an argument" in msg:
        return f"选项 {exc.option_name} 后面需要填写一个值"
    if (m := re.match(r"Option '(.*)' requires (\d+) arguments", msg)):
        return f"选项 {m.group(1)} 后面需要填写 {m.group(2)} 个值"
    if (m := re.match(r"Option '(.*)' does not take a value", msg)):
        return f"选项 {m.group(1)} 不需要填写值"
    if (m := re.match(r"Got unexpected extra arguments? \((.*)\)", msg)):
        return f"多余的参数：{m.group(1)}（含空格的文件夹名请加引号）"
    if msg.startswith("Missing command"):
        return "缺少命令"
    return f"命令行有误（{msg}）"


def show_usage_error(exc: click.UsageError) -> None:
    """Usage line, where to get help, and the error, all in Chinese (click's own layout)."""
    ctx = exc.ctx
    if ctx is not None:
        click.echo(ctx.get_usage(), err=True)
        if ctx.command.get_help_option(ctx) is not None:
            click.echo(f"运行 {ctx.command_path} --help 查看用法和全部选项。", err=True)
        click.echo("", err=True)
    click.echo(f"错误：{usage_message(exc)}", err=True)


_METAVARS = [(" INTEGER RANGE", " 整数"), (" INTEGER", " 整数"), (" DIRECTORY", " 文件夹"), (" PATH", " 路径"),
             (" FILE", " 文件"), (" TEXT", " 文字"), (" FLOAT", " 数字"), (" [%Y-%m-%d]", " 日期")]


def _chinese_record(record: tuple[str, str]) -> tuple[str, str]:
    names, text = record
    for en, zh in _METAVARS:
        names = names.replace(en, zh)
    text = text.replace("[required]", "[必填]").replace("[default: ", "[默认：")
    return names, text


class _ChineseHelp:
    """Help pages and usage errors in Chinese: usage, section headings, the help option, click's own errors."""

    options_metavar = "[选项]"

    def get_help_option(self, ctx):
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = "显示本帮助并退出"
        return opt

    def format_usage(self, ctx, formatter):
        pieces = " ".join(self.collect_usage_pieces(ctx)).replace("[OPTIONS]", "[选项]")
        pieces = pieces.replace("COMMAND [ARGS]...", "命令 [参数]...")
        formatter.write_usage(ctx.command_path, pieces, prefix="用法：")

    def format_options(self, ctx, formatter):
        rows = [_chinese_record(r) for p in self.get_params(ctx) if (r := p.get_help_record(ctx)) is not None]
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

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Click's main, with safe console streams and every error as Chinese lines (never a traceback)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from pipeline import console
        if sys.stdout is sys.__stdout__:  # a real process, not click's test runner
            console.install_streams()
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            show_usage_error(exc)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("已中止", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PipelineError as exc:
            raise Fatal(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except OSError as exc:  # a full disk, no permission, …: one line naming the file
            raise Fatal(os_error_message(exc)) from None
        except Exception as exc:  # noqa: BLE001 - never a traceback for office staff
            raise Fatal(f"运行出错（{exc.__class__.__name__}: {exc}），请把此行发给技术支持") from None
        finally:
            from pipeline.atomic import pop_kept
            for line in pop_kept():  # a file the tool wrote and someone edited was moved aside: say so
                click.echo(f"提醒：{line}", err=True)


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
    from pipeline import jobs
    _echo(jobs.templates(_load(config_dir), out_dir))


def _echo(job, silent: bool = False) -> None:
    """A job's console lines, in order (stderr for notes and problems)."""
    for line in job.lines:
        if not (silent and line.quiet):
            click.echo(line.text, err=line.err)


def _stopped(exc) -> None:
    """A job that did part of its work, then stopped: what it did, then its one-line reason."""
    _echo(exc.job)
    raise Fatal(str(exc)) from None


def _notes(notes) -> None:
    for note in notes:  # what the documents could not state: the coordinator checks it
        click.echo(f"请核实：{note}", err=True)


@main.command(help="读取收件箱中各部门报送的台账，校验、汇总、打分，生成自查报告等文件。")
@click.option("--inbox", "inbox", type=click.Path(), required=True, help="各部门报送文件所在文件夹")
@click.option("--out", "out_dir", type=click.Path(), required=True, help="输出文件夹")
@_config_option
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="自查年度，默认取 unit.yaml 中的年度")
@click.option("--silent", is_flag=True, help="不显示进度和汇总表")
@click.option("--sample", is_flag=True, help="标明这是示例数据：每份输出文件首页标注“示例数据”（make report 演示时使用）")
@click.option("--history", "history_file", type=click.Path(dir_okay=False), default=None,
              help="历史数据库文件（记录各年结果，用于历年对比），默认 history/history.sqlite")
@click.option("--replace", "replace_history", is_flag=True,
              help="确认以本次结果替换历史数据库中该年的记录（本次报送部门或数据行比已记录的少时须加此项）")
def report(inbox, out_dir, config_dir, year, silent, sample, history_file, replace_history):
    from pipeline import console, jobs
    config = _load(config_dir)
    with console.progress(silent) as tick:
        job = jobs.report(inbox, out_dir, config, year, sample=sample, progress=tick, on_notes=_notes,
                          history=history_file, replace_history=replace_history)
    _echo(job, silent)
    if not silent:
        console.summary(job.detail, out_dir)


@main.command(help="生成创建文明单位工作实施方案（含任务分工表）。")
@_config_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="输出文件夹")
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="方案年度，默认取 unit.yaml 中的年度")
def plan(config_dir, out_dir, year):
    from pipeline import jobs
    _echo(jobs.plan(_load(config_dir), out_dir, year=year))


@main.command(help="用自带的示例数据生成全部文书，检查 Word 模板和措辞文件（wording.yaml）能否正常使用。")
@_config_option
def check(config_dir):
    from pipeline import jobs
    _echo(jobs.check(config_dir=config_dir))


@main.command(help="用 LibreOffice 把输出文件夹中的 Word 文件转为 PDF，便于打印。")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="输出文件夹")
def pdf(out_dir):
    from pipeline import console, jobs
    with console.steps(first="正在用 LibreOffice 转换…") as step:
        job = jobs.pdf(out_dir, progress=step)
    _echo(job)


@main.command(help="从邮箱（IMAP）或导出的 .eml 邮件文件中收取各部门报送的 Excel 附件，存入收件箱。")
@click.option("--inbox", type=click.Path(file_okay=False), required=True, help="附件保存到的收件箱文件夹")
@click.option("--eml", "eml_dir", type=click.Path(file_okay=False), default=None, help="存放 .eml 邮件文件的文件夹")
@click.option("--imap-host", default=None, help="IMAP 服务器地址，如 imap.example.com")
@click.option("--imap-port", type=int, default=None, help="IMAP 端口（默认 SSL 993）")
@click.option("--imap-user", default="", help="邮箱用户名；密码从环境变量 WENMING_IMAP_PASSWORD 读取，未设置时提示输入")
@click.option("--imap-folder", default="INBOX", show_default=True, help="邮箱文件夹")
@click.option("--imap-security", type=click.Choice(["auto", "ssl", "starttls", "none"]), default="auto",
              show_default=True, help="加密方式：auto 按端口判断")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="只收取此日期以后的邮件，如 2026-11-01")
@click.option("--subject", default=None, help="只收取主题含此关键词的邮件，如 文明单位")
@_config_option
def collect(inbox, eml_dir, imap_host, imap_port, imap_user, imap_folder, imap_security, since, subject, config_dir):
    import os
    from pipeline import jobs
    config = _load(config_dir)
    password = None
    if imap_host and not eml_dir:
        env = jobs.imap_password_env(config)
        password = os.environ.get(env)
        if password is None:
            if not sys.stdin.isatty():
                raise Fatal(f"未提供邮箱密码：请设置环境变量 {env}")
            password = click.prompt("邮箱密码", hide_input=True)
    try:
        job = jobs.collect(inbox, config, eml_dir=eml_dir, imap_host=imap_host, imap_port=imap_port,
                           imap_user=imap_user, imap_folder=imap_folder, imap_security=imap_security,
                           since=since.date() if since else None, subject=subject, password=password)
    except jobs.JobStopped as exc:
        _stopped(exc)
    _echo(job)


@main.command(help="给各部门发送回执（报送情况和需修改的问题）和催报邮件（附模板）。")
@click.option("--scores", "scores_dir", type=click.Path(file_okay=False), required=True,
              help="report 的输出文件夹（含 scores.json 和校验报告）")
@click.option("--dry-run", is_flag=True, help="不发送，只把邮件写成 .eml 文件供查看")
@click.option("--outbox", type=click.Path(file_okay=False), default="output/outbox", show_default=True,
              help="--dry-run 时邮件文件的存放处")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False), default="input_templates",
              show_default=True, help="部门模板所在文件夹（催报邮件附件）")
@_config_option
def notify(scores_dir, dry_run, outbox, templates_dir, config_dir):
    from pipeline import jobs
    _echo(jobs.notify(scores_dir, _load(config_dir), dry_run=dry_run, outbox=outbox, templates_dir=templates_dir))


@main.command(help="生成文明单位创建分类档案：按测评指标、项目、标准分文件夹整理活动记录单、照片和文件，"
              "附测评材料提交表、档案目录、各部门工作档案和部门单位任务台账，并打包为 ZIP。")
@click.option("--inbox", "inbox", type=click.Path(), required=True, help="各部门报送文件（台账和佐证材料）所在文件夹")
@click.option("--out", "out_dir", type=click.Path(), required=True,  # checked as report does (check_out_dir)
              help="输出文件夹（不能在收件箱里面）")
@_config_option
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="自查年度，默认取 unit.yaml 中的年度")
def archive(inbox, out_dir, config_dir, year):
    from pipeline import console, jobs
    with console.steps(first="正在整理分类档案…") as step:
        job = jobs.archive(inbox, out_dir, _load(config_dir), year, progress=step)
    _echo(job)


@main.command(name="history", help="列出历史数据库中记录的各年结果（各版本，标明当前采用的一版）；--import 导入往年 "
              "report 输出文件夹中的 scores.json；--use 采用某一版作为该年的记录。")
@click.option("--history", "history_file", type=click.Path(dir_okay=False), default=None,
              help="历史数据库文件，默认 history/history.sqlite")
@click.option("--import", "import_dir", type=click.Path(exists=True), default=None,
              help="往年 report 的输出文件夹（含 scores.json），导入为该年的记录")
@click.option("--replace", "replace_history", is_flag=True, help="与 --import 同用：确认替换该年已有的较大记录")
@click.option("--use", "use_version", type=click.IntRange(1), default=None, help="采用第几版作为该年的记录（见列表中的版本号）")
def history_command(history_file, import_dir, replace_history, use_version):
    from pipeline import jobs
    _echo(jobs.history(history_file, import_dir, replace=replace_history, use_version=use_version))


@main.command(help="把一个单位的结果打包（scores.json、各文件和 manifest.json），报送上级汇总。")
@click.option("--scores", "scores_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="report 的输出文件夹（含 scores.json）")
@click.option("--out", "out_file", type=click.Path(), required=True, help="生成的 ZIP 文件（不会覆盖不是本工具生成的文件）")
@click.option("--internal", is_flag=True, help="连同内部文件（创建工作情况提示（内部）、校验报告、进度通报）一起打包")
@_config_option
def export(scores_dir, out_file, internal, config_dir):
    from pipeline import jobs
    _echo(jobs.export(scores_dir, out_file, config=_load(config_dir), internal=internal))


@main.command(help="汇总多个单位的数据包，生成汇总表（xlsx）、汇总报告（docx）和 rollup.json。")
@click.option("--packages", "packages_dir", type=click.Path(file_okay=False), required=True,
              help="存放各单位数据包（ZIP 或已解压的文件夹）的文件夹")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="输出文件夹")
@_config_option
def rollup(packages_dir, out_dir, config_dir):
    from pipeline import jobs
    _echo(jobs.rollup(packages_dir, out_dir, config_dir))


@main.command(help="打开本机的工作台网页：报送情况、上传文件、生成文件、通知各部门。")
@click.option("--inbox", type=click.Path(file_okay=False), default="inbox", show_default=True, help="收件箱文件夹")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="输出文件夹")
@_config_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址；不是本机地址（如 0.0.0.0）时须凭访问口令打开")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="端口；被占用时自动换一个空闲端口")
@click.option("--no-browser", is_flag=True, help="不自动打开浏览器")
@click.option("--token", default=None, help="访问口令（监听其他地址时使用；不填则自动生成并显示）")
def serve(inbox, out_dir, config_dir, host, port, no_browser, token):
    from pipeline.profile import resolve_config_dir
    from pipeline.web.server import serve as run
    run(Path(inbox), Path(out_dir), resolve_config_dir(config_dir), host, port,
        open_browser=not no_browser, token=token, echo=click.echo)


@main.command(help="生成上半年创建文明单位工作总结及下半年工作计划（只统计1月1日至6月30日的活动和文件）。")
@click.option("--inbox", "inbox", type=click.Path(), required=True, help="各部门报送文件所在文件夹")
@click.option("--out", "out_dir", type=click.Path(), required=True, help="输出文件夹")
@_config_option
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="年度，默认取 unit.yaml 中的年度")
@click.option("--sample", is_flag=True, help="标明这是示例数据（文件首页标注“示例数据”）")
def halfyear(inbox, out_dir, config_dir, year, sample):
    from pipeline import jobs
    _echo(jobs.halfyear(inbox, out_dir, _load(config_dir), year, sample=sample))


@main.command(help="生成创建工作进度通报（内部，供领导小组会议），期号自动递增。")
@click.option("--inbox", "inbox", type=click.Path(), required=True, help="各部门报送文件所在文件夹")
@click.option("--out", "out_dir", type=click.Path(), required=True, help="输出文件夹（期号记在其中的 .bulletin.json）")
@_config_option
@click.option("--date", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="通报截至日期，如 2026-09-15；默认为今天（通报年度不是今年时为该年度最后一天）")
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="年度，默认取 --date 所在年度；未给 --date 时取 unit.yaml 中的年度")
@click.option("--sample", is_flag=True, help="标明这是示例数据（文件首页标注“示例数据”）")
def bulletin(inbox, out_dir, config_dir, as_of, year, sample):
    from pipeline import jobs
    _echo(jobs.bulletin(inbox, out_dir, _load(config_dir), as_of.date() if as_of else None, year, sample=sample))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
