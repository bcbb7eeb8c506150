"""Mail: collect from the mailbox (password typed here, held in memory only), preview every notice as it will
be sent (written to the outbox as .eml, nothing sent), and send."""

from __future__ import annotations

import datetime as dt
import json

from flask import g, render_template, request

from pipeline.errors import PipelineError
from pipeline.web.mailguard import configured


def _scores():
    path = g.bench.out / "scores.json"
    if not path.is_file():
        raise PipelineError("还没有生成文件：请先在“生成文件”页生成，再预览或发送通知")
    from pipeline.profile import ensure_same_profile
    scores = json.loads(path.read_text(encoding="utf-8"))
    ensure_same_profile(scores, g.bench.config, "据此发送通知")
    return scores


def _body(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def _due():
    from pipeline.mail.reminders import due
    bench = g.bench
    if not (bench.out / "scores.json").is_file():
        return []
    return due(bench.config, _scores(), bench.out)


def page(**extra):
    """The mail page; an htmx request gets only the result fragment, for the page's #mail-result."""
    if request.headers.get("HX-Request") and request.method == "POST":
        return render_template("_mail_result.html", **extra)
    from pipeline.mail.reminders import stages
    return render_template("mail.html", outbox=g.bench.out / "outbox", have_scores=(g.bench.out / "scores.json").is_file(),
                           due=_due(), stages=stages(g.bench.config), imap=configured(g.bench.config), **extra)


def _confirmation(notices, what: str, action: str):
    """Nothing is mailed until the coordinator has seen every recipient and confirmed (field confirm=1)."""
    rows = [{"department": n.department, "kind": n.kind, "to": str(n.message["To"] or "")} for n in notices]
    if not any(r["to"] for r in rows):
        raise PipelineError("没有可发送的邮件：各部门都未填写邮箱（在“设置”中填写）")
    return page(confirm={"what": what, "rows": rows, "action": action})


def _shown(notices) -> list[dict]:
    """What the page shows of each notice written to the outbox."""
    return [{"department": n.department, "kind": n.kind, "to": str(n.message["To"] or ""),
             "subject": str(n.message["Subject"]), "body": _body(n.message),
             "attachments": [a.get_filename() for a in n.message.iter_attachments()]} for n in notices]


def _notify(dry_run: bool, password: str | None = None):
    """The notify job (pipeline.jobs.notify, as the command line runs it: its lock, its refusal to mail from
    sample data), holding the output folder against other jobs of the page."""
    from pipeline import jobs
    bench = g.bench
    with bench.runner.hold(bench.out, "发送回执和催报"):
        _scores()  # no scores.json yet: the page's own message
        return jobs.notify(bench.out, bench.config, dry_run=dry_run, outbox=bench.out / "outbox",
                           templates_dir=bench.templates_dir, password=password)


def preview():
    job = _notify(dry_run=True)
    return page(notices=_shown(job.detail), written=len(job.outputs))


def collect():
    """The collect job, as the command line runs it, from the mailbox set in unit.yaml or from a typed server
    once confirmed; the password only for the server and user it was typed for (web/mailguard.py)."""
    from pipeline import jobs
    from pipeline.web.mailguard import guarded, imap_target
    bench = g.bench
    form = request.form
    target = imap_target(bench, form.get("host"), form.get("port"), form.get("user"), form.get("security"),
                         form.get("password"), form.get("confirm_server") == "1")
    since = None
    if form.get("since"):
        try:
            since = dt.date.fromisoformat(form["since"])
        except ValueError:
            raise PipelineError("起始日期请写成 2026-11-01") from None

    def work():
        with bench.runner.hold(bench.inbox, "收取邮件附件"), bench.inbox_lock:
            try:
                return jobs.collect(bench.inbox, bench.config, imap_host=target.host, imap_port=target.port,
                                    imap_user=target.user, imap_folder=form.get("folder") or "INBOX",
                                    imap_security=target.security, since=since,
                                    subject=form.get("subject") or None, password=target.password)
            except jobs.JobStopped as exc:  # stopped part way: what was saved, and why it stopped
                return exc.job
    return page(collected=guarded(bench, target, work).detail)


def _all_notices():
    """The notices `send` would mail now (for the confirmation), refused as the notify job refuses."""
    from pipeline.mail.notices import build_notices
    bench = g.bench
    scores = _scores()
    if scores.get("sample"):
        raise PipelineError(f"{bench.out} 中是示例数据生成的结果，不能据此给各部门发邮件；请用真实收件箱生成文件")
    return build_notices(bench.config, scores, bench.out, bench.templates_dir)


def send():
    if request.form.get("confirm") != "1":
        notices = _all_notices()
        return _confirmation(notices, f"向各部门发送回执和催报（{len(notices)} 个部门）", "/mail/send")
    from pipeline.web.mailguard import smtp_password
    job = _notify(dry_run=False, password=smtp_password(g.bench, g.bench.config, request.form.get("smtp_password")))
    return page(sent=job.detail)


def _reminders():
    from pipeline.mail.reminders import build
    bench = g.bench
    dues = _due()
    return dues, build(bench.config, _scores(), dues, bench.out, bench.templates_dir)


def reminders_preview():
    from pipeline.mail.mailbox import write_outbox
    with g.bench.runner.hold(g.bench.out, "预览催报"):
        dues, notices = _reminders()
        write_outbox(notices, g.bench.out / "outbox" / "催报")
    return page(notices=_shown(notices), written=len(notices))


def reminders_send():
    from pipeline.mail.mailbox import SENT_LOG
    from pipeline.mail.mailbox import send as smtp_send
    from pipeline.mail.reminders import record
    bench = g.bench
    with bench.runner.hold(bench.out, "发送催报"):
        dues, notices = _reminders()
        if request.form.get("confirm") != "1":
            if not notices:
                raise PipelineError("今天没有需要发送的催报")
            return _confirmation(notices, "发送今天的催报", "/mail/reminders/send")
        from pipeline.web.mailguard import smtp_password
        password = smtp_password(bench, bench.config, request.form.get("smtp_password"))
        if password is None:  # the server set in unit.yaml: its password from the environment, as notify reads it
            import os

            from pipeline.jobs import smtp_password_env
            password = os.environ.get(smtp_password_env(bench.config), "")
        out = smtp_send(notices, bench.config, password, sent_log=bench.out / SENT_LOG)
        record(bench.config, bench.out, dues, out.sent + out.already)
    return page(sent=out)
