"""Receipts and reminders for each department, worded by the text templates in config/templates/."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

import jinja2

from pipeline import settings
from pipeline.catalog import Config
from pipeline.documents.text import strip_controls
from pipeline.documents.workbook import workbook_bytes
from pipeline.mail.review import receipt_note
from pipeline.templates import build_template, template_filename
from pipeline.vocabulary import STATE_LABELS, UNREADABLE, state_code

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
ISSUE_LINES = 30
#: Issue codes meaning "the department sent a file we cannot read": it gets 请重新报送, not a reminder.
UNREADABLE_CODES = {"file-unreadable", "file-encrypted", "file-too-large", "file-unsupported", "unsupported-format",
                    "sheet-too-large", "formula-scan-timeout"}


@dataclass
class Notice:
    department: str
    kind: str                     # 回执, 催报 or 重新报送
    message: EmailMessage
    fingerprint: str = ""         # the notice's facts (not its date): the sent log knows a notice sent before


def build_notices(config: Config, scores: dict, scores_dir: Path, templates_dir: Path) -> list[Notice]:
    """A receipt for every department that reported, a reminder with its template for every one that did not."""
    return [notice_for(config, scores, dept, scores_dir, templates_dir) for dept in scores["departments"]]


def _template(config: Config, name: str) -> jinja2.Template:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(config.template_file(name).read_text(encoding="utf-8"))


def _chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def department_sheet(config: Config, scores: dict, department: str) -> bytes | None:
    """That department's sheet of 校验报告.xlsx as a workbook of its own, to mail back as it is (written by the
    same code as the sheet in the 校验报告, through the one workbook writer)."""
    from pipeline.documents.render_xlsx import department_workbook
    return department_workbook(config, scores, department)


def unreadable_files(config: Config, scores: dict, dept: dict) -> list[str]:
    """The files a department sent that could not be read ("file：reason"), when none of its files could.

    intake's department `state` decides (`unreadable`, with `state_files`); scores.json written before states
    existed are read from their issues (file-level errors of that department or naming it)."""
    state = str(dept.get("state") or "")
    if dept.get("submitted") or (state and state_code(state) != UNREADABLE):
        return []
    name = dept["name"]
    files = [str(f) for f in dept.get("state_files") or dept.get("unreadable") or []]
    lines = []
    for i in scores.get("issues", []):
        if i.get("level") != "error" or (i.get("code") not in UNREADABLE_CODES and str(i.get("file")) not in files):
            continue
        owner = i.get("department") or config.department_in_text(str(i.get("file") or ""))
        if owner == name or (files and str(i.get("file")) in files):
            lines.append(f"{i.get('file') or ''}：{i.get('message') or ''}")
    if not lines and state:
        lines = [f"{f}：{STATE_LABELS[UNREADABLE]}" for f in files or ["报送的文件"]]
    return list(dict.fromkeys(lines))


def template_of_profile(path: Path, config: Config) -> bool:
    """Whether a template file on disk was written for this profile (its 填报信息: 单位, 年度, 模板版本)."""
    from openpyxl import load_workbook
    try:
        wb = load_workbook(path, read_only=True)
        try:
            info = {str(r[0]).strip(): r[1] for r in wb["填报信息"].iter_rows(max_col=2, values_only=True)
                    if r and r[0] is not None}
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 - an unreadable file is not this profile's template
        return False
    return (str(info.get("单位") or "") == config.unit and str(info.get("年度") or "") == str(config.year)
            and str(info.get("模板版本") or "") == config.template_version)


def notice_for(config: Config, scores: dict, dept: dict, scores_dir: Path, templates_dir: Path) -> Notice:
    name = dept["name"]
    year = scores["year"]
    mail = settings.of(config).mail
    coordinator = settings.of(config).coordinator
    mine = [s for s in scores["standards"] if name in s["responsible"]]
    standards = [{"code": s["code"], "short": config.standards[s["code"]].short if s["code"] in config.standards
                  else s["title"][:14], "status": s["status"]} for s in mine]
    from pipeline import schedule
    deadline = schedule.deadline(config, int(year)) if year else settings.of(config).deadline   # the scores' year
    context = {"unit": config.unit, "year": year, "department": name, "coordinator": coordinator,
               "today": _chinese_date(dt.date.today()), "standards": standards,
               "deadline": _chinese_date(deadline) if isinstance(deadline, dt.date) else "规定时间",
               "deadline_passed": isinstance(deadline, dt.date) and deadline < dt.date.today()}
    attachment: tuple[str, bytes] | None = None
    unreadable = unreadable_files(config, scores, dept)
    if unreadable:
        kind = "重新报送"
        att_name = ""
        context.update(files=unreadable, attachment="")
        text = _template(config, "重报邮件.txt").render(context)
    elif dept["submitted"]:
        kind = "回执"
        issues = [i for i in scores["issues"] if i.get("department") == name and i["level"] in ("error", "warning")
                  and i["code"] not in ("superseded", "file-duplicate")]
        lines = [" / ".join(p for p in (i["file"], i["sheet"], f"第{i['row']}行" if i["row"] else "", i["column"])
                            if p) + "：" + i["message"] for i in issues]
        sheet = department_sheet(config, scores, name)
        att_name = f"{name}-{year}年台账校验问题.xlsx"
        if sheet and issues:
            attachment = (att_name, sheet)
        context.update(file=dept["file"], superseded=dept["superseded"], errors=dept["errors"],
                       warnings=dept["warnings"], issue_lines=lines[:ISSUE_LINES],
                       more_issues=max(0, len(lines) - ISSUE_LINES), attachment=att_name)
        note = receipt_note(scores_dir, name, dept["file"])  # the coordinator's 退回/已审核 mark, if any
        template = _template(config, "回执邮件.txt")
        text = template.render(context, review_note=note)
        if note and "review_note" not in config.template_file("回执邮件.txt").read_text(encoding="utf-8"):
            text += "\n" + note  # a unit's own wording without the placeholder still carries the mark
    else:
        kind = "催报"
        att_name = template_filename(config, name)
        path = templates_dir / att_name
        if path.is_file() and template_of_profile(path, config):
            data = path.read_bytes()
        else:  # none there, or one another profile wrote: this profile's own
            data = workbook_bytes(build_template(config, name))
        attachment = (att_name, data)
        context.update(attachment=att_name)
        text = _template(config, "催报邮件.txt").render(context)
    subject, _, body = strip_controls(text).partition("\n")  # file names from the inbox: no bidi in a mail either
    facts = "\n".join((kind, subject, body.replace(context["today"], ""), att_name))
    fingerprint = hashlib.sha256(facts.encode("utf-8")).hexdigest()[:32]
    msg = EmailMessage()
    msg["Subject"] = subject.strip()
    sender = mail.sender
    msg["From"] = formataddr((f"{config.short_name}{coordinator}", sender)) if sender else f"{config.short_name}{coordinator}"
    email_to = next((d.email for d in config.departments if d.name == name), "")
    if email_to:
        msg["To"] = formataddr((name, email_to))
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="wenming.local")
    msg.set_content(body.lstrip("\n"), charset="utf-8")
    if attachment:
        msg.add_attachment(attachment[1], maintype=XLSX[0], subtype=XLSX[1], filename=attachment[0])
    return Notice(name, kind, msg, fingerprint)
