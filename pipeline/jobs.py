"""One function per command (contract §7 and §12): the command line and the 工作台 call these and nothing else.

Each job takes plain arguments (folders, the loaded Config, the command's options) and an optional progress
callback, holds the output folder's lock where it writes, runs the stages (collect → documents → store) and
returns a `JobResult`: the files written, the 【待核实】 subjects, the console lines in order and one closing
message. A job that cannot do its work raises a PipelineError (one Chinese line); a job that did part of it and
then had to stop (collect) raises `JobStopped`, which carries what was done.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from pipeline import settings
from pipeline.catalog import Config
from pipeline.errors import InboxError, OutputError, PipelineError, os_error_message

Progress = Callable[[str], None]

#: the commands a job exists for, in the order of a year's work (`serve` starts the 工作台, which runs these)
COMMANDS = ("templates", "report", "plan", "halfyear", "bulletin", "archive", "collect", "notify", "history",
            "export", "rollup", "check", "pdf")


@dataclass
class Line:
    """One console line of a job: `err` lines go to stderr; `quiet` lines are left out by --silent."""

    text: str
    err: bool = False
    quiet: bool = False


@dataclass
class JobResult:
    """What a job did: the files it wrote, what the coordinator must check, the console lines, one message."""

    command: str
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)     # 【待核实】 subjects (and warnings) of the documents
    lines: list[Line] = field(default_factory=list)
    message: str = ""
    detail: Any = None  # the library's own result (Result, ArchiveResult, …) for a caller that shows more

    def say(self, text: str, *, err: bool = False, quiet: bool = False) -> None:
        self.lines.append(Line(text, err, quiet))


class JobStopped(PipelineError):
    """A job did part of its work, then had to stop: the message, and what was done (`job`)."""

    def __init__(self, message: str, job: JobResult) -> None:
        super().__init__(message)
        self.job = job


def _files(paths) -> list[Path]:
    """Outputs as files: a folder of outputs (the 说明报告 texts) as the files in it."""
    out: list[Path] = []
    for p in map(Path, paths):
        out += sorted(q for q in p.iterdir() if q.is_file()) if p.is_dir() else [p]
    return out


def _quiet(progress: Progress | None) -> Progress:
    return progress or (lambda text: None)


def _kept(job: JobResult, out: str | Path) -> None:
    """A file the tool wrote and someone edited since was moved aside before being written again: say so."""
    from pipeline.atomic import pop_kept
    for line in pop_kept(out):
        job.say(f"提醒：{line}", err=True)


def _note_lines(job: JobResult) -> None:
    for note in job.notes:  # what the documents could not state: the coordinator checks it
        job.say(f"请核实：{note}", err=True)


@contextmanager
def _staged(out: str | Path) -> Iterator[None]:
    """An operating-system error while writing (full disk, …): one line, the previous set left as it was."""
    try:
        yield
    except OSError as exc:
        raise OutputError(os_error_message(exc, "；输出文件夹中上次生成的文件保持不变", out)) from None


_MARKER = re.compile(r"【待核实：([^】]*)】")
_PARA = re.compile(r"<w:p[ >].*?</w:p>", re.S)
_TEXT = re.compile(r"<w:t(?: [^>]*)?>([^<]*)</w:t>")


def docx_markers(path: str | Path) -> list[str]:
    """The subjects of the 【待核实：…】 markers a Word document carries, in order, each once."""
    import html
    import zipfile
    try:
        with zipfile.ZipFile(path) as zf:
            xml = zf.read("word/document.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return []
    found = []
    for para in _PARA.findall(xml):
        text = html.unescape("".join(_TEXT.findall(para)))
        found += _MARKER.findall(text)
    return list(dict.fromkeys(found))


# ------------------------------------------------------------------ templates, plan

def templates(config: Config, out_dir: str | Path = "input_templates", progress: Progress | None = None) -> JobResult:
    """One workbook per department."""
    from pipeline.templates import write_templates
    _quiet(progress)("正在生成部门台账模板")
    job = JobResult("templates")
    job.outputs = list(write_templates(config, out_dir))
    job.message = f"已生成 {len(job.outputs)} 份部门台账模板：{out_dir}"
    job.say(job.message)
    _kept(job, out_dir)
    return job


def plan(config: Config, out_dir: str | Path = "output", progress: Progress | None = None,
         year: int | None = None) -> JobResult:
    """The 实施方案 docx (of `year`: unit.yaml's year unless told)."""
    from pipeline.documents.render_docx import ReportRun, write_plan
    _quiet(progress)("正在生成实施方案")
    run = ReportRun()
    path = write_plan(config, Path(out_dir), run, year=year)
    job = JobResult("plan", outputs=[Path(path)], notes=list(run.notes), detail=path)
    job.message = f"已生成实施方案：{path}"
    job.say(job.message)
    _note_lines(job)
    _kept(job, out_dir)
    return job


def check(config: Config | None = None, progress: Progress | None = None, *,
          config_dir: str | Path | None = None) -> JobResult:
    """Every mistake of the profile at once (file and line each), then the department templates built and every
    document rendered from sample data made for its catalog. The profile is `config`'s folder, else `config_dir`
    (else the remembered one). Its mistakes are raised together, one line each (PipelineError)."""
    from pipeline.catalog import load_config
    from pipeline.documents.check import check_profile
    from pipeline.documents.official import year_warnings
    _quiet(progress)("正在检查配置，并用示例数据生成全部文书")
    notes: list[str] = []
    problems = check_profile(config.dir if config is not None else config_dir, notes)
    if problems:  # printed as 错误：… one a line
        raise PipelineError("\n错误：".join(problems))
    if config is None:
        from pipeline.profile import resolve_config_dir
        config = load_config(resolve_config_dir(config_dir))
    job = JobResult("check", notes=list(notes), message="检查通过：配置无误，各部门台账模板和全部文书均可正常生成。")
    for line in notes:
        job.say(f"提醒：{line}", err=True)
    for line in year_warnings(config):   # the report year's official themes: missing or still to be verified
        job.say(f"提醒：{line}")
    job.say(job.message)
    return job


def pdf(out_dir: str | Path = "output", progress: Progress | None = None) -> JobResult:
    """The Word files of an output folder as PDF, through LibreOffice."""
    from pipeline.documents.pdf import convert_folder
    say = _quiet(progress)
    say("正在转换为 PDF")
    job = JobResult("pdf", outputs=list(convert_folder(Path(out_dir), progress=lambda name: say(f"正在转换：{name}"))))
    for path in job.outputs:
        job.say(f"已转换：{path}")
    job.message = f"已转换 {len(job.outputs)} 个文件"
    return job


# ------------------------------------------------------------------ report

def report(inbox: str | Path, out: str | Path, config: Config, year: int | None = None, *, sample: bool = False,
           history: str | Path | None = None, progress: Progress | None = None, cache=None,
           on_notes: Callable[[list[str]], None] | None = None, replace_history: bool = False) -> JobResult:
    """The whole `report` command: check the folders, hold the output folder's lock, read, score, swap the new
    set of outputs into place and record the year in the history database. An operating-system error (full
    disk, …) is one OutputError line and leaves the previous set as it was. `on_notes` hears the 【待核实】
    subjects as soon as the documents are written, also when a broken wording entry then stops the run.
    The year's history record is replaced only by a run that is not smaller and not sample data, unless
    `replace_history` (the user confirmed: `report --replace`, or the 工作台 after asking); otherwise this run
    is kept as a version: `job.detail.history.recorded.state == "kept"`, and a line says so."""
    from pipeline.atomic import folder_lock
    from pipeline.report import check_out_dir, collect, write_outputs
    check_out_dir(inbox, out)
    with _staged(out), folder_lock(out, "生成报告"):
        result = collect(inbox, config, year, progress=progress, cache=cache)
        result.sample = sample
        from pipeline.store.history import HistoryRun  # earlier years for the documents (never raises)
        recorder = None if sample else HistoryRun(result, history)
        try:
            write_outputs(result, out)
        finally:
            if on_notes:
                on_notes(result.notes)
        if recorder is not None:
            recorder.record(out, replace=replace_history)  # this year, once the documents are written
    job = JobResult("report", outputs=_files(result.outputs.values()), notes=list(result.notes), detail=result)
    if on_notes is None:
        _note_lines(job)
    for kind, line in getattr(result.history, "messages", []):  # the history database: one line each
        job.say(line, err=True, quiet=kind != "problem")
    job.message = f"已生成 {len(job.outputs)} 个文件：{out}"
    _kept(job, out)
    return job


# ------------------------------------------------------------------ halfyear, bulletin, archive

def halfyear(inbox: str | Path, out: str | Path, config: Config, year: int | None = None, *, sample: bool = False,
             today: dt.date | None = None, progress: Progress | None = None) -> JobResult:
    """上半年工作总结及下半年工作计划: read the inbox, write the document into `out` (locked, staged)."""
    from pipeline.atomic import output_set
    from pipeline.documents.halfyear import write_halfyear
    from pipeline.report import check_out_dir, collect
    check_out_dir(inbox, out)
    with _staged(out):
        result = collect(inbox, config, year, progress=progress)
        with output_set(Path(out), "halfyear", "生成半年总结") as stage:
            path, h = write_halfyear(result, stage, today)
            if sample:
                from pipeline.documents.sample import mark_sample
                mark_sample(stage)
    path = Path(out) / path.name
    job = JobResult("halfyear", outputs=[path], notes=docx_markers(path), detail=h)
    job.say(f"上半年（1月1日至6月30日）活动 {len(h.acts)} 项、文件 {len(h.docs)} 份；存在不足 {len(h.gaps)} 处")
    if h.undated_documents:
        job.say(f"另有 {h.undated_documents} 份制度文件没有填日期，未计入上半年")
    job.message = f"已生成：{path}"
    job.say(job.message)
    _kept(job, out)
    return job


def bulletin(inbox: str | Path, out: str | Path, config: Config, as_of: dt.date | None = None,
             year: int | None = None, *, sample: bool = False, progress: Progress | None = None) -> JobResult:
    """创建工作进度通报: read the inbox, write the next numbered bulletin into `out` (locked, staged)."""
    from pipeline.atomic import folder_lock, output_set
    from pipeline.documents.bulletin import SAMPLE_LINES, detail_name, next_number, save_number, write_bulletin
    from pipeline.report import check_out_dir, collect
    from pipeline import schedule
    year = year or (as_of.year if as_of else config.year)   # unit.yaml's year unless told, never the clock's
    as_of = as_of or schedule.document_day(year)   # 截至: today, or the report year's last day
    out = Path(out)
    check_out_dir(inbox, out)
    with _staged(out):
        result = collect(inbox, config, year, progress=progress)
        with folder_lock(out, "生成进度通报"):
            number = next_number(out, year)
            with output_set(out, f"bulletin-{year}-{number}", "生成进度通报") as stage:
                path, p = write_bulletin(result, stage, as_of, number, reserve=SAMPLE_LINES if sample else 0)
                if sample:
                    from pipeline.documents.sample import mark_sample
                    mark_sample(stage)
            save_number(out, year, number)
    path = out / path.name
    outputs = [path] + [q for q in [out / detail_name(year, number)] if q.exists()]
    job = JobResult("bulletin", outputs=outputs, notes=docx_markers(path), detail=(path, number, p))
    for line in p.lines:
        job.say(line)
    job.message = f"已生成第 {number} 期：{path}"
    job.say(job.message)
    _kept(job, out)
    return job


ARCHIVE_NOTICES = ("archive-unsafe-entry", "archive-too-large", "archive-unreadable", "archive-manual",
                   "evidence-photo-date")


def archive(inbox: str | Path, out: str | Path, config: Config, year: int | None = None,
            progress: Progress | None = None) -> JobResult:
    """The 分类档案 (contract §8), under the output folder's lock."""
    from pipeline.atomic import folder_lock
    from pipeline.documents.archive import build_archive
    from pipeline.report import check_out_dir
    check_out_dir(inbox, out)  # not inside the inbox, not a file: one Chinese line, nothing written
    if not Path(inbox).is_dir():  # before the lock: nothing written
        raise InboxError(f"收件箱文件夹不存在：{inbox}")
    with folder_lock(out, "生成分类档案"):
        result = build_archive(inbox, out, config, year, progress=progress)
    job = JobResult("archive", outputs=[result.zip_path], notes=list(result.markers), detail=result)
    records = sum(m.kind == "record" for m in result.materials)
    files = sum(m.kind == "file" for m in result.materials)
    job.message = f"已生成分类档案：{result.folder}（活动记录单和文件登记单 {records} 份，佐证文件 {files} 个）"
    job.say(job.message)
    job.say(f"压缩包：{result.zip_path}")
    if result.missing:
        job.say(f"台账列明但未找到的佐证材料 {len(result.missing)} 项，见 档案目录.xlsx 的“缺少的材料”工作表")
    if result.unassigned:
        job.say(f"未被台账引用的文件 {len(result.unassigned)} 个，已放入 分类档案/未归类材料")
    if result.markers:
        shown = "；".join(result.markers[:10]) + (f"等{len(result.markers)}处" if len(result.markers) > 10 else "")
        job.say(f"【待核实】{len(result.markers)}处，请补充后再打印：{shown}")
    for issue in result.issues:
        if issue.code in ARCHIVE_NOTICES:
            job.say(f"提醒：{issue.line()}")
    _kept(job, out)
    return job


# ------------------------------------------------------------------ mail: collect, notify

def imap_password_env(config: Config) -> str:
    return settings.of(config).mail.imap_password_env


def smtp_password_env(config: Config) -> str:
    return settings.of(config).mail.smtp_password_env


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def collect(inbox: str | Path, config: Config, *, eml_dir: str | Path | None = None, imap_host: str | None = None,
            imap_port: int | None = None, imap_user: str = "", imap_folder: str = "INBOX",
            imap_security: str = "auto", since: dt.date | None = None, subject: str | None = None,
            password: str | None = None, progress: Progress | None = None) -> JobResult:
    """Save the spreadsheet attachments of .eml files or of a mailbox into the inbox (never overwriting)."""
    from pipeline.mail import mailbox as mail
    if bool(eml_dir) == bool(imap_host):
        raise PipelineError("请指定 --eml 邮件文件夹或 --imap-host 邮箱服务器（二选一）")
    _quiet(progress)("正在收取邮件附件")
    if eml_dir:
        result = mail.collect_eml(Path(eml_dir), Path(inbox), config, subject)
    else:
        if password is None:
            password = os.environ.get(imap_password_env(config))
        if password is None:
            raise PipelineError(f"未提供邮箱密码：请设置环境变量 {imap_password_env(config)}")
        result = mail.collect_imap(imap_host, Path(inbox), config, port=imap_port, user=imap_user,
                                   password=password, folder=imap_folder, since=since, subject=subject,
                                   security=imap_security)
    job = JobResult("collect", outputs=[Path(inbox) / s.saved for s in result.saved], detail=result)
    for s in result.saved:
        kind = "佐证材料" if s.kind == "evidence" else "台账"
        job.say(f"已保存{kind}：{s.saved}（发件人 {_short(s.sender) or '未知'}，{s.department or '部门待确认'}）")
    for s in result.skipped:
        job.say(f"已跳过：{s.original}（{s.skipped}：{s.saved}）")
    for s in [*result.refused, *result.ignored]:
        job.say(f"未保存：{s.original}（发件人 {_short(s.sender) or '未知'}）：{s.skipped}")
    for line in result.notes:
        job.say(f"提示：{line}")
    for line in result.problems:
        job.say(f"无法收取：{line}")
    job.message = (f"新邮件 {result.messages} 封，保存附件 {len(result.saved)} 个，跳过 {len(result.skipped)} 个；"
                   f"此前已收取的邮件 {result.known} 封" + (f"；{len(result.problems)} 封邮件无法收取，见上"
                                                      if result.problems else ""))
    job.say(job.message)
    if result.stopped:
        raise JobStopped(result.stopped, job)
    return job


def notify(scores_dir: str | Path, config: Config, *, dry_run: bool = False, outbox: str | Path = "output/outbox",
           templates_dir: str | Path = "input_templates", password: str | None = None,
           progress: Progress | None = None) -> JobResult:
    """Receipts and reminders to every department: written to the outbox with `dry_run`, else sent by SMTP
    (the password from the environment unless given). Never mails from a sample run's scores."""
    import json

    from pipeline.atomic import settled
    from pipeline.mail import mailbox as mail
    from pipeline.mail.notices import build_notices
    path = Path(scores_dir) / "scores.json"
    if not path.is_file():
        raise PipelineError(f"{scores_dir} 中没有 scores.json，请先运行 make report")
    _quiet(progress)("正在生成回执和催报邮件")
    with settled(scores_dir, "发送回执"):  # one run's complete set, never half of two
        scores = json.loads(path.read_text(encoding="utf-8"))
        if scores.get("sample") and not dry_run:
            raise PipelineError(f"{scores_dir} 中是示例数据生成的结果，不能据此给各部门发邮件；请用真实收件箱运行 make report")
        from pipeline.profile import ensure_same_profile
        ensure_same_profile(scores, config, "据此给各部门发邮件")  # another profile's scores: one line, nothing sent
        notices = build_notices(config, scores, Path(scores_dir), Path(templates_dir))
    job = JobResult("notify", detail=notices)
    if dry_run:
        paths = mail.write_outbox(notices, Path(outbox))
        job.outputs = list(paths)
        job.message = f"已生成 {len(paths)} 封邮件（未发送）：{outbox}"
        job.say(job.message)
        _kept(job, outbox)
        return job
    _quiet(progress)("正在发送邮件")
    if password is None:
        password = os.environ.get(smtp_password_env(config), "")
    out = mail.send(notices, config, password, sent_log=Path(scores_dir) / mail.SENT_LOG)
    job.detail = out
    job.message = f"已发送 {len(out.sent)} 封：{'、'.join(out.sent) or '无'}"
    job.say(job.message)
    for dept, reason in out.refused:
        job.say(f"未发送：{dept}（邮件服务器{reason}），请核对 unit.yaml 中的邮箱或邮件大小")
    if out.already:
        job.say(f"此前已发送过相同内容，本次不再发送：{'、'.join(out.already)}")
    if out.no_address:
        job.say(f"未发送（unit.yaml 中没有邮箱地址）：{'、'.join(out.no_address)}")
    return job


# ------------------------------------------------------------------ store: history, export, rollup

def history(history_file: str | Path | None = None, import_dir: str | Path | None = None,
            progress: Progress | None = None, *, replace: bool = False, use_version: int | None = None) -> JobResult:
    """The years recorded in the history database, each with its kept versions and which one is current; with
    `import_dir`, a past scores.json recorded first (replacing the year's record only when not smaller and not
    sample data, unless `replace`); with `use_version`, that version adopted as its year's record."""
    from pipeline.store import history as store
    job = JobResult("history")
    if import_dir:
        scores, outcome = store.import_scores(import_dir, history_file, replace=replace)
        if outcome.state == "kept":
            job.say(store.kept_line(scores["year"], outcome).replace("report 加 --replace",
                                                                    "history --import 加 --replace"), err=True)
        else:
            job.say(f"{'已替换' if outcome.state == 'replaced' else '已导入'}{scores['unit']}{scores['year']}年的记录")
    if use_version:
        scores = store.use_version(use_version, history_file)
        job.say(f"已采用第{use_version}版作为{scores['unit']}{scores['year']}年的记录")
    path = Path(history_file) if history_file else store.default_path()
    if not path.exists():
        job.message = f"历史数据库中还没有记录：{path}（运行 report 后自动记录）"
        job.say(job.message)
        job.detail = []
        return job
    records, log = store.list_years(path)
    versions = store.list_versions(path)
    job.detail = [(r, sum(1 for e in log if e["unit"] == r.unit and e["year"] == r.year)) for r in records]
    job.message = f"历史数据库：{path}"
    job.say(job.message)

    def show_versions(unit: str, year: int) -> None:
        for v in versions:
            if (v["unit"], v["year"]) == (unit, year):
                rows = "" if v["rows"] is None else f"，有效数据 {v['rows']} 行"
                mark = "【当前】" if v["current"] else ("【示例数据】" if v["sample"] else "")
                job.say(f"    第{v['id']}版 {v['ran_at'].replace('T', ' ')}  报送部门 {v['departments']} 个{rows}"
                        f"{'  ' + mark if mark else ''}")

    for r, runs in job.detail:
        counts = r.status_counts()
        source = "导入" if r.source.startswith("import") else "自查运行"
        job.say(f"  {r.unit} {r.year}年  测评细则 {r.catalog}  达标 {counts.get('达标', 0)}/{len(r.standards)} 条"
                f"  记录于 {r.ran_at.replace('T', ' ')}（{source}，共记录 {runs} 次）")
        show_versions(r.unit, r.year)
    recorded = {(r.unit, r.year) for r in records}
    for unit, year in dict.fromkeys((v["unit"], v["year"]) for v in versions):
        if (unit, year) not in recorded:
            job.say(f"  {unit} {year}年  （尚无采用的记录；可用 --use 采用下列某一版）")
            show_versions(unit, year)
    if not records and not versions:
        job.say("  （还没有记录）")
    return job


def export(scores_dir: str | Path, out_file: str | Path, progress: Progress | None = None, *,
           config: Config | None = None, internal: bool = False) -> JobResult:
    """A unit package (ZIP: scores.json, documents, manifest.json with SHA-256 per file): never of sample data,
    never over a file the tool did not write, the internal documents only with `internal`; with the profile in
    use (`config`), scores made with another profile are refused in one line."""
    from pipeline.store.package import export_package
    _quiet(progress)("正在打包")
    manifest = export_package(scores_dir, out_file, config, internal=internal)
    job = JobResult("export", outputs=[Path(out_file)], detail=manifest)
    job.message = f"已生成单位数据包：{out_file}（{manifest['unit']} {manifest['year']}年，{len(manifest['files'])} 个文件）"
    job.say(job.message)
    return job


def rollup(packages_dir: str | Path, out_dir: str | Path, config_dir: str | Path | None = None,
           progress: Progress | None = None) -> JobResult:
    """The roll-up of many unit packages: the 汇总表 (xlsx), 汇总报告 (docx) and rollup.json."""
    from pipeline.atomic import atomic_write_json, claimed
    from pipeline.catalog import load_config
    from pipeline.documents.rollup_docs import start_rollup_workbook, write_rollup_report, write_rollup_workbook
    from pipeline.profile import resolve_config_dir
    from pipeline.store.rollup import RollupSummary, build_rollup, output_names
    config_dir = resolve_config_dir(config_dir)  # the remembered profile when none is given
    config = load_config(config_dir)
    _quiet(progress)("正在读取各单位数据包")
    facts = build_rollup(packages_dir, config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = output_names(facts.year)
    paths = {k: out / v for k, v in names.items()}
    _quiet(progress)("正在生成汇总表和汇总报告")
    with claimed(out, "rollup", names.values(), "生成汇总"):  # never over a file the tool did not write
        child = start_rollup_workbook(facts, paths["xlsx"])   # the 汇总表 in a forked child meanwhile (many units)
        write_rollup_report(facts, paths["docx"], config_dir)
        atomic_write_json(paths["json"], facts.as_dict())
        if child is not None:
            child.join()
        if child is None or child.exitcode != 0:  # no child, or it failed: written here, never missing
            write_rollup_workbook(facts, paths["xlsx"])
    summary = RollupSummary(len(facts.units), [p.line() for p in facts.problems], list(paths.values()))
    job = JobResult("rollup", outputs=list(summary.outputs), detail=summary)
    for line in summary.problem_lines:
        job.say(line, err=True)
    job.message = f"已汇总 {summary.n_units} 个单位的数据包，问题 {len(summary.problem_lines)} 个；输出文件在：{out_dir}"
    job.say(job.message)
    for path in summary.outputs:
        job.say(f"  {Path(path).name}")
    _kept(job, out)
    return job
