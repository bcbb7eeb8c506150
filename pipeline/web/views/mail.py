"""Mail: collect from the mailbox (password typed here, held in memory only), preview every notice as it will
be sent (written to the outbox as .eml, nothing sent), and send."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os

from flask import g, render_template, request

from pipeline.errors import PipelineError

log = logging.getLogger("pipeline.web")


def _scores():
    path = g.bench.out / "scores.json"
    if not path.is_file():
        raise PipelineError("还没有生成文件：请先在“生成文件”页生成，再预览或发送通知")
    return json.loads(path.read_text(encoding="utf-8"))


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
    """The mail page; an htmx request gets only the result fragment, for the page's #mail-result."""
    if request.headers.get("HX-Request") and request.method == "POST":
        return render_template("_mail_result.html", **extra)
    from pipeline.mail.reminders import stages
    return render_template("mail.html", outbox=g.bench.out / "outbox", have_scores=(g.bench.out / "scores.json").is_file(),
                           due=_due(), stages=stages(g.bench.config), imap=imap_server(g.bench.config), **extra)


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


def preview():
    from pipeline.mail.mailbox import write_outbox
    notices = _notices()
    paths = write_outbox(notices, g.bench.out / "outbox")
    return page(notices=_shown(notices), written=len(paths))


def imap_server(config) -> dict:
    """The mailbox set in unit.yaml (mail.imap_host / imap_port / imap_user / imap_security), or empty values."""
    mail = config.settings.get("mail") or {}
    port = str(mail.get("imap_port") or "").strip()
    return {"host": str(mail.get("imap_host") or "").strip().lower(), "port": int(port) if port.isdigit() else None,
            "user": str(mail.get("imap_user") or "").strip(), "security": str(mail.get("imap_security") or "auto")}


def _effective_port(port: int | None, security: str) -> int:
    return port or (143 if security in ("starttls", "none") else 993)


def collect():
    """Collect from the mailbox set in 设置, or from the server typed into the form once the coordinator has
    ticked “确认连接此服务器”. A password is used only for the host, port and user it was typed (or set) for;
    every failure to connect or log in reads the same, so the page cannot be used to probe ports."""
    from pipeline.mail.imap import NotConnected, collect_imap
    bench = g.bench
    form = request.form
    configured = imap_server(bench.config)
    host = (form.get("host") or "").strip().lower() or configured["host"]
    if not host:
        raise PipelineError("请填写邮箱服务器地址（如 imap.example.com），或在“设置”中填写收件服务器")
    port_text = (form.get("port") or "").strip()
    if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
        raise PipelineError(f"端口“{port_text}”不是 1–65535 之间的数字")
    security = (form.get("security") or "").strip() or (configured["security"] if host == configured["host"]
                                                         else "auto")
    if security not in ("auto", "ssl", "starttls", "none"):
        raise PipelineError("加密方式只能是 auto、ssl、starttls 或 none")
    port = _effective_port(int(port_text) if port_text else (configured["port"] if host == configured["host"] else None),
                           security)
    user = (form.get("user") or "").strip() or (configured["user"] if host == configured["host"] else "")
    known = bool(configured["host"]) and (host, port) == (configured["host"],
                                                         _effective_port(configured["port"], configured["security"]))
    if not known and form.get("confirm_server") != "1":
        where = (f"设置中的收件服务器是 {configured['host']}:{_effective_port(configured['port'], configured['security'])}"
                 if configured["host"] else "设置中还没有填写收件服务器")
        raise PipelineError(f"邮箱服务器 {host}:{port} 不是设置中填写的服务器（{where}）；"
                            "如确要连接它，请勾选“确认连接此服务器”后再点收取")
    since = None
    if form.get("since"):
        try:
            since = dt.date.fromisoformat(form["since"])
        except ValueError:
            raise PipelineError("起始日期请写成 2026-11-01") from None
    key = (host, port, user)
    password = form.get("password") or bench.imap_passwords.get(key)
    if not password and known and user == configured["user"]:
        env = str((bench.config.settings.get("mail") or {}).get("imap_password_env") or "WENMING_IMAP_PASSWORD")
        password = os.environ.get(env, "")
    try:
        with bench.inbox_lock:
            result = collect_imap(host, bench.inbox, bench.config, port=port, user=user, password=password or "",
                                  folder=form.get("folder") or "INBOX", since=since,
                                  subject=form.get("subject") or None, security=security)
    except NotConnected as exc:
        log.warning("收取邮件：%s", exc)  # the reason, on the console only
        raise PipelineError(f"无法连接邮箱服务器 {host}:{port} 或登录失败：请核对服务器地址、端口、加密方式、账号和密码"
                            "（具体原因见运行工作台的窗口）") from None
    except PipelineError:
        _remember(key, form.get("password"))  # logged in: the password was right for this server and user
        raise
    _remember(key, form.get("password"))
    return page(collected=result)


def _remember(key: tuple[str, int, str], password: str | None) -> None:
    """Keep a password that logged in, in memory only, for the very (host, port, user) it was typed for."""
    if password:
        g.bench.imap_passwords[key] = password


def send():
    from pipeline.mail.mailbox import SENT_LOG
    from pipeline.mail.mailbox import send as smtp_send
    notices = _notices()
    if request.form.get("confirm") != "1":
        return _confirmation(notices, f"向各部门发送回执和催报（{len(notices)} 个部门）", "/mail/send")
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
    if request.form.get("confirm") != "1":
        if not notices:
            raise PipelineError("今天没有需要发送的催报")
        return _confirmation(notices, "发送今天的催报", "/mail/reminders/send")
    out = smtp_send(notices, bench.config, request.form.get("smtp_password", ""), sent_log=bench.out / SENT_LOG)
    record(bench.config, bench.out, dues, out.sent + out.already)
    return page(sent=out)
