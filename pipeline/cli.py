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
                        help="配置文件夹（unit.yaml、catalog.yaml 所在处），默认为项目的 config/")(f)


def _load(config_dir):
    from pipeline.catalog import load_config
    return load_config(config_dir)


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
    from pipeline.templates import write_templates
    paths = write_templates(_load(config_dir), out_dir)
    click.echo(f"已生成 {len(paths)} 份部门台账模板：{out_dir}")


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
    from pipeline import console
    from pipeline.report import run_report
    config = _load(config_dir)
    with console.progress(silent) as tick:
        result = run_report(inbox, out_dir, config, year, sample=sample, progress=tick, notes=_notes,
                            history=history_file, replace_history=replace_history)
    for kind, line in getattr(result.history, "messages", []):  # the history database: one line each
        if kind == "problem" or not silent:
            click.echo(line, err=True)
    if not silent:
        console.summary(result, out_dir)


@main.command(help="生成创建文明单位工作实施方案（含任务分工表）。")
@_config_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="输出文件夹")
def plan(config_dir, out_dir):
    from pipeline.documents.render_docx import ReportRun, write_plan
    run = ReportRun()
    path = write_plan(_load(config_dir), Path(out_dir), run)
    click.echo(f"已生成实施方案：{path}")
    for note in run.notes:
        click.echo(f"请核实：{note}", err=True)


@main.command(help="用自带的示例数据生成全部文书，检查 Word 模板和措辞文件（wording.yaml）能否正常使用。")
@_config_option
def check(config_dir):
    from pipeline.documents.check import check_documents
    check_documents(_load(config_dir))
    click.echo("检查通过：全部文书均可正常生成。")


@main.command(help="用 LibreOffice 把输出文件夹中的 Word 文件转为 PDF，便于打印。")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="输出文件夹")
def pdf(out_dir):
    from pipeline import console
    from pipeline.documents.pdf import convert_folder
    with console.steps(first="正在用 LibreOffice 转换…") as step:
        paths = convert_folder(Path(out_dir), progress=lambda name: step(f"正在转换：{name}"))
    for path in paths:
        click.echo(f"已转换：{path}")


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
    from pipeline.mail import mailbox as mail
    config = _load(config_dir)
    if bool(eml_dir) == bool(imap_host):
        raise Fatal("请指定 --eml 邮件文件夹或 --imap-host 邮箱服务器（二选一）")
    if eml_dir:
        result = mail.collect_eml(Path(eml_dir), Path(inbox), config, subject)
    else:
        env = str((config.settings.get("mail") or {}).get("imap_password_env") or "WENMING_IMAP_PASSWORD")
        password = os.environ.get(env)
        if password is None:
            if not sys.stdin.isatty():
                raise Fatal(f"未提供邮箱密码：请设置环境变量 {env}")
            password = click.prompt("邮箱密码", hide_input=True)
        result = mail.collect_imap(imap_host, Path(inbox), config, port=imap_port, user=imap_user,
                                   password=password, folder=imap_folder, since=since.date() if since else None,
                                   subject=subject, security=imap_security)
    _print_collected(result)
    if result.stopped:
        raise Fatal(result.stopped)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _print_collected(result) -> None:
    for s in result.saved:
        kind = "佐证材料" if s.kind == "evidence" else "台账"
        click.echo(f"已保存{kind}：{s.saved}（发件人 {_short(s.sender) or '未知'}，{s.department or '部门待确认'}）")
    for s in result.skipped:
        click.echo(f"已跳过：{s.original}（{s.skipped}：{s.saved}）")
    for s in [*result.refused, *result.ignored]:
        click.echo(f"未保存：{s.original}（发件人 {_short(s.sender) or '未知'}）：{s.skipped}")
    for line in result.notes:
        click.echo(f"提示：{line}")
    for line in result.problems:
        click.echo(f"无法收取：{line}")
    click.echo(f"新邮件 {result.messages} 封，保存附件 {len(result.saved)} 个，跳过 {len(result.skipped)} 个；"
               f"此前已收取的邮件 {result.known} 封" + (f"；{len(result.problems)} 封邮件无法收取，见上" if result.problems
                                                  else ""))


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
    import json
    import os
    from pipeline.mail import mailbox as mail
    from pipeline.mail.notices import build_notices
    config = _load(config_dir)
    from pipeline.atomic import settled
    path = Path(scores_dir) / "scores.json"
    if not path.is_file():
        raise Fatal(f"{scores_dir} 中没有 scores.json，请先运行 make report")
    with settled(scores_dir, "发送回执"):  # one run's complete set, never half of two
        scores = json.loads(path.read_text(encoding="utf-8"))
        if scores.get("sample") and not dry_run:
            raise Fatal(f"{scores_dir} 中是示例数据生成的结果，不能据此给各部门发邮件；请用真实收件箱运行 make report")
        notices = build_notices(config, scores, Path(scores_dir), Path(templates_dir))
    if dry_run:
        paths = mail.write_outbox(notices, Path(outbox))
        click.echo(f"已生成 {len(paths)} 封邮件（未发送）：{outbox}")
        return
    env = str((config.settings.get("mail") or {}).get("smtp_password_env") or "WENMING_SMTP_PASSWORD")
    out = mail.send(notices, config, os.environ.get(env, ""), sent_log=Path(scores_dir) / mail.SENT_LOG)
    click.echo(f"已发送 {len(out.sent)} 封：{'、'.join(out.sent) or '无'}")
    for dept, reason in out.refused:
        click.echo(f"未发送：{dept}（邮件服务器{reason}），请核对 unit.yaml 中的邮箱或邮件大小")
    if out.already:
        click.echo(f"此前已发送过相同内容，本次不再发送：{'、'.join(out.already)}")
    if out.no_address:
        click.echo(f"未发送（unit.yaml 中没有邮箱地址）：{'、'.join(out.no_address)}")


@main.command(help="生成文明单位创建分类档案：按测评指标、项目、标准分文件夹整理活动记录单、照片和文件，"
              "附测评材料提交表、档案目录、各部门工作档案和部门单位任务台账，并打包为 ZIP。")
@click.option("--inbox", "inbox", type=click.Path(), required=True, help="各部门报送文件（台账和佐证材料）所在文件夹")
@click.option("--out", "out_dir", type=click.Path(), required=True,  # checked as report does (check_out_dir)
              help="输出文件夹（不能在收件箱里面）")
@_config_option
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="自查年度，默认取 unit.yaml 中的年度")
def archive(inbox, out_dir, config_dir, year):
    from pipeline import console
    from pipeline.documents.archive import build_archive
    with console.steps(first="正在整理分类档案…") as step:
        result = build_archive(inbox, out_dir, _load(config_dir), year, progress=step)
    records = sum(m.kind == "record" for m in result.materials)
    files = sum(m.kind == "file" for m in result.materials)
    click.echo(f"已生成分类档案：{result.folder}（活动记录单和文件登记单 {records} 份，佐证文件 {files} 个）")
    click.echo(f"压缩包：{result.zip_path}")
    if result.missing:
        click.echo(f"台账列明但未找到的佐证材料 {len(result.missing)} 项，见 档案目录.xlsx 的“缺少的材料”工作表")
    if result.unassigned:
        click.echo(f"未被台账引用的文件 {len(result.unassigned)} 个，已放入 分类档案/未归类材料")
    if result.markers:
        shown = "；".join(result.markers[:10]) + (f"等{len(result.markers)}处" if len(result.markers) > 10 else "")
        click.echo(f"【待核实】{len(result.markers)}处，请补充后再打印：{shown}")
    for issue in result.issues:
        if issue.code in ("archive-unsafe-entry", "archive-too-large", "archive-unreadable", "archive-manual",
                          "evidence-photo-date"):
            click.echo(f"提醒：{issue.line()}")


@main.command(name="history", help="列出历史数据库中记录的各年结果（各版本，标明当前采用的一版）；--import 导入往年 "
              "report 输出文件夹中的 scores.json；--use 采用某一版作为该年的记录。")
@click.option("--history", "history_file", type=click.Path(dir_okay=False), default=None,
              help="历史数据库文件，默认 history/history.sqlite")
@click.option("--import", "import_dir", type=click.Path(exists=True), default=None,
              help="往年 report 的输出文件夹（含 scores.json），导入为该年的记录")
@click.option("--replace", "replace_history", is_flag=True, help="与 --import 同用：确认替换该年已有的较大记录")
@click.option("--use", "use_version", type=click.IntRange(1), default=None, help="采用第几版作为该年的记录（见列表中的版本号）")
def history_command(history_file, import_dir, replace_history, use_version):
    from pipeline.store import history as store
    if import_dir:
        scores, outcome = store.import_scores(import_dir, history_file, replace=replace_history)
        if outcome.state == "kept":
            click.echo(store.kept_line(scores["year"], outcome).replace("report 加 --replace", "history --import 加 --replace"),
                       err=True)
        else:
            click.echo(f"{'已替换' if outcome.state == 'replaced' else '已导入'}{scores['unit']}{scores['year']}年的记录")
    if use_version:
        scores = store.use_version(use_version, history_file)
        click.echo(f"已采用第{use_version}版作为{scores['unit']}{scores['year']}年的记录")
    path = Path(history_file) if history_file else store.default_path()
    if not path.exists():
        click.echo(f"历史数据库中还没有记录：{path}（运行 report 后自动记录）")
        return
    records, log, versions = store.list_years(path)
    click.echo(f"历史数据库：{path}")

    def show_versions(unit: str, year: int) -> None:
        for v in versions:
            if (v["unit"], v["year"]) == (unit, year):
                rows = "" if v["rows"] is None else f"，有效数据 {v['rows']} 行"
                mark = "【当前】" if v["current"] else ("【示例数据】" if v["sample"] else "")
                click.echo(f"    第{v['id']}版 {v['ran_at'].replace('T', ' ')}  报送部门 {v['departments']} 个{rows}"
                           f"{'  ' + mark if mark else ''}")

    for r in records:
        counts = r.status_counts()
        runs = sum(1 for e in log if e["unit"] == r.unit and e["year"] == r.year)
        source = "导入" if r.source.startswith("import") else "自查运行"
        click.echo(f"  {r.unit} {r.year}年  测评细则 {r.catalog}  达标 {counts.get('达标', 0)}/{len(r.standards)} 条"
                   f"  记录于 {r.ran_at.replace('T', ' ')}（{source}，共记录 {runs} 次）")
        show_versions(r.unit, r.year)
    recorded = {(r.unit, r.year) for r in records}
    for unit, year in dict.fromkeys((v["unit"], v["year"]) for v in versions):
        if (unit, year) not in recorded:
            click.echo(f"  {unit} {year}年  （尚无采用的记录；可用 --use 采用下列某一版）")
            show_versions(unit, year)
    if not records and not versions:
        click.echo("  （还没有记录）")


@main.command(help="把一个单位的结果打包（scores.json、各文件和 manifest.json），报送上级汇总。")
@click.option("--scores", "scores_dir", type=click.Path(file_okay=False), default="output", show_default=True,
              help="report 的输出文件夹（含 scores.json）")
@click.option("--out", "out_file", type=click.Path(), required=True, help="生成的 ZIP 文件（不会覆盖不是本工具生成的文件）")
@click.option("--internal", is_flag=True, help="连同内部文件（创建工作情况提示（内部）、校验报告、进度通报）一起打包")
def export(scores_dir, out_file, internal):
    from pipeline.store.package import export_package
    manifest = export_package(scores_dir, out_file, internal=internal)
    click.echo(f"已生成单位数据包：{out_file}（{manifest['unit']} {manifest['year']}年，{len(manifest['files'])} 个文件）")


@main.command(help="汇总多个单位的数据包，生成汇总表（xlsx）、汇总报告（docx）和 rollup.json。")
@click.option("--packages", "packages_dir", type=click.Path(file_okay=False), required=True,
              help="存放各单位数据包（ZIP 或已解压的文件夹）的文件夹")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="输出文件夹")
@_config_option
def rollup(packages_dir, out_dir, config_dir):
    from pipeline.store.rollup import run_rollup
    summary = run_rollup(packages_dir, out_dir, config_dir)
    for line in summary.problem_lines:
        click.echo(line, err=True)
    click.echo(f"已汇总 {summary.n_units} 个单位的数据包，问题 {len(summary.problem_lines)} 个；输出文件在：{out_dir}")
    for path in summary.outputs:
        click.echo(f"  {Path(path).name}")
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
    from pipeline.web.server import serve as run
    run(Path(inbox), Path(out_dir), Path(config_dir) if config_dir else None, host, port,
        open_browser=not no_browser, token=token, echo=click.echo)


@main.command(help="生成上半年创建文明单位工作总结及下半年工作计划（只统计1月1日至6月30日的活动和文件）。")
@click.option("--inbox", "inbox", type=click.Path(), required=True, help="各部门报送文件所在文件夹")
@click.option("--out", "out_dir", type=click.Path(), required=True, help="输出文件夹")
@_config_option
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="年度，默认取 unit.yaml 中的年度")
@click.option("--sample", is_flag=True, help="标明这是示例数据（文件首页标注“示例数据”）")
def halfyear(inbox, out_dir, config_dir, year, sample):
    from pipeline.documents.halfyear import run_halfyear
    path, h = run_halfyear(inbox, out_dir, _load(config_dir), year, sample=sample)
    click.echo(f"上半年（1月1日至6月30日）活动 {len(h.acts)} 项、文件 {len(h.docs)} 份；存在不足 {len(h.gaps)} 处")
    if h.undated_documents:
        click.echo(f"另有 {h.undated_documents} 份制度文件没有填日期，未计入上半年")
    click.echo(f"已生成：{path}")


@main.command(help="生成创建工作进度通报（内部，供领导小组会议），期号自动递增。")
@click.option("--inbox", "inbox", type=click.Path(), required=True, help="各部门报送文件所在文件夹")
@click.option("--out", "out_dir", type=click.Path(), required=True, help="输出文件夹（期号记在其中的 .bulletin.json）")
@_config_option
@click.option("--date", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="通报截至日期，如 2026-09-15，默认今天")
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="年度，默认取通报日期所在年度")
@click.option("--sample", is_flag=True, help="标明这是示例数据（文件首页标注“示例数据”）")
def bulletin(inbox, out_dir, config_dir, as_of, year, sample):
    from pipeline.documents.bulletin import run_bulletin
    path, number, p = run_bulletin(inbox, out_dir, _load(config_dir), as_of.date() if as_of else None, year,
                                   sample=sample)
    for line in p.lines:
        click.echo(line)
    click.echo(f"已生成第 {number} 期：{path}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
