"""Mail: collect from the mailbox (password typed here, held in memory only), preview every notice as it will
be sent (written to the outbox as .eml, nothing sent), and send."""

from __future__ import annotations

import datetime as dt
import json

from flask import g, render_template, request

from pipeline.errors import PipelineError


def _scores():
    path = g.bench.out / "scores.json"
    if not path.is_file():
        raise PipelineError("还没有生成文件：请先在“生成文件”页生成，再预览或发送通知")
    return json.loads(path.read_text(encoding="utf-8"))


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
    from pipeline.mail.reminders import stages
    return render_template("mail.html", outbox=g.bench.out / "outbox", have_scores=(g.bench.out / "scores.json").is_file(),
                           due=_due(), stages=stages(g.bench.config), **extra)


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
    from pipeline import jobs
    bench = g.bench
    form = request.form
    host = form.get("host", "").strip()
    if not host:
        raise PipelineError("请填写邮箱服务器地址（如 imap.example.com）")
    since = None
    if form.get("since"):
        try:
            since = dt.date.fromisoformat(form["since"])
        except ValueError:
            raise PipelineError("起始日期请写成 2026-11-01") from None
    password = form.get("password") or bench.imap_password or ""
    bench.imap_password = password  # memory only, never written
    port = int(form["port"]) if form.get("port", "").isdigit() else None
    with bench.runner.hold(bench.inbox, "收取邮件附件"), bench.inbox_lock:  # the collect job, as the CLI runs it
        try:
            job = jobs.collect(bench.inbox, bench.config, imap_host=host, imap_port=port,
                               imap_user=form.get("user", "").strip(), imap_folder=form.get("folder") or "INBOX",
                               since=since, subject=form.get("subject") or None, password=password)
        except jobs.JobStopped as exc:  # stopped part way: what was saved, and why it stopped
            job = exc.job
    return page(collected=job.detail)


def send():
    job = _notify(dry_run=False, password=request.form.get("smtp_password") or g.bench.smtp_password)
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
        out = smtp_send(notices, bench.config, request.form.get("smtp_password") or bench.smtp_password or "",
                        sent_log=bench.out / SENT_LOG)
        record(bench.config, bench.out, dues, out.sent + out.already)
    return page(sent=out)
