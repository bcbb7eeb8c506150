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
    from pipeline.profile import ensure_same_profile
    scores = json.loads(path.read_text(encoding="utf-8"))
    ensure_same_profile(scores, g.bench.config, "据此发送通知")
    return scores


def _notices():
    from pipeline.mail.notices import build_notices
    bench = g.bench
    return build_notices(bench.config, _scores(), bench.out, bench.templates_dir)


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


def preview():
    from pipeline.mail.mailbox import write_outbox
    notices = _notices()
    paths = write_outbox(notices, g.bench.out / "outbox")
    return page(notices=_shown(notices), written=len(paths))


def collect():
    from pipeline.mail.mailbox import collect_imap
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
    with bench.inbox_lock:
        result = collect_imap(host, bench.inbox, bench.config, port=port, user=form.get("user", "").strip(),
                              password=password, folder=form.get("folder") or "INBOX", since=since,
                              subject=form.get("subject") or None)
    return page(collected=result)


def send():
    from pipeline.mail.mailbox import SENT_LOG
    from pipeline.mail.mailbox import send as smtp_send
    notices = _notices()
    out = smtp_send(notices, g.bench.config, request.form.get("smtp_password", ""), sent_log=g.bench.out / SENT_LOG)
    return page(sent=out)




def _reminders():
    from pipeline.mail.reminders import build
    bench = g.bench
    dues = _due()
    return dues, build(bench.config, _scores(), dues, bench.out, bench.templates_dir)


def reminders_preview():
    from pipeline.mail.mailbox import write_outbox
    dues, notices = _reminders()
    write_outbox(notices, g.bench.out / "outbox" / "催报")
    return page(notices=_shown(notices), written=len(notices))


def reminders_send():
    from pipeline.mail.mailbox import SENT_LOG
    from pipeline.mail.mailbox import send as smtp_send
    from pipeline.mail.reminders import record
    bench = g.bench
    dues, notices = _reminders()
    out = smtp_send(notices, bench.config, request.form.get("smtp_password", ""), sent_log=bench.out / SENT_LOG)
    record(bench.config, bench.out, dues, out.sent + out.already)
    return page(sent=out)
