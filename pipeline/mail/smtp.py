"""Send notices over SMTP: each exchange under a deadline, a refused recipient skipped and named, a sent log
so that running notify again after an interruption does not mail anyone twice."""

from __future__ import annotations

import datetime as dt
import email.policy
import json
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from pipeline.atomic import atomic_path, atomic_write_json
from pipeline.catalog import Config
from pipeline.errors import MailError
from pipeline.mail import deadline as dl

if TYPE_CHECKING:
    from pipeline.mail.notices import Notice

SENT_LOG = "notify-sent.json"


@dataclass
class Sent:
    sent: list[str] = field(default_factory=list)          # departments mailed now
    no_address: list[str] = field(default_factory=list)    # no address in unit.yaml
    refused: list[tuple[str, str]] = field(default_factory=list)   # (department, the server's reason)
    already: list[str] = field(default_factory=list)       # mailed before with the same content (sent log)


class _Guarded(dl.Guarded):
    def _get_socket(self, host, port, timeout):  # type: ignore[override]
        get_socket = super()._get_socket  # type: ignore[misc]
        return self._guard.connect(lambda seconds: get_socket(host, port, seconds))


class GuardedSMTP(_Guarded, smtplib.SMTP):
    pass


class GuardedSMTPSSL(_Guarded, smtplib.SMTP_SSL):
    pass


def write_outbox(notices: Iterable["Notice"], outbox: Path) -> list[Path]:
    """One .eml per notice into the outbox, never over a file the tool did not write (atomic.claimed)."""
    from pipeline.atomic import claimed
    notices = list(notices)
    paths = [outbox / f"{n.department}-{n.kind}.eml" for n in notices]
    with claimed(outbox, "outbox", [p.name for p in paths], "生成邮件"):
        for n, path in zip(notices, paths):
            with atomic_path(path) as tmp:
                tmp.write_bytes(n.message.as_bytes(policy=email.policy.SMTP))
    return paths


def _load_log(path: Path | None) -> list[dict]:
    if path is None or not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [e for e in data.get("sent", []) if isinstance(e, dict)]
    except (ValueError, OSError, AttributeError):
        return []


def _reason(exc: Exception) -> str:
    code = getattr(exc, "smtp_code", None)
    error = getattr(exc, "smtp_error", b"")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, error = next(iter(exc.recipients.values()), (None, b""))
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error or "")
    what = {smtplib.SMTPRecipientsRefused: "拒收该地址", smtplib.SMTPSenderRefused: "拒收发件地址"}.get(
        type(exc), "拒收该邮件")
    return f"{what}：" + (f"{code} {text}".strip()[:120] if code else exc.__class__.__name__)


def send(notices: list["Notice"], config: Config, password: str, sent_log: Path | None = None,
         progress: Callable[[str], None] | None = None) -> Sent:
    """Send over SMTP. A recipient the server refuses is skipped and named, the others still go; every sent
    message is written to the sent log (`notify-sent.json` beside scores.json) at once, and a message already
    in it with the same content is not sent again. A stalled or lost server stops with one line naming
    what was sent."""
    from pipeline import settings
    mail = settings.of(config).mail
    host, port, security, user = mail.smtp_host, mail.smtp_port, mail.smtp_security, mail.smtp_user
    if not host:
        raise MailError("没有设置发件服务器（unit.yaml 的 mail.smtp_host），无法发送：请在工作台“全年工作”页填写发件服务器，"
                        "或写入 unit.yaml；也可先只生成邮件文件查看（命令行加 --dry-run）")
    per_step, total = dl.settings(config)
    log = _load_log(sent_log)
    done = {(e.get("department"), e.get("kind"), e.get("fingerprint")) for e in log}
    out = Sent()
    todo = []
    for n in notices:
        if (n.department, n.kind, n.fingerprint) in done:
            out.already.append(n.department)
        elif not n.message["To"]:
            out.no_address.append(n.department)
        else:
            todo.append(n)
    if not todo:
        return out
    with dl.Deadline(per_step, total) as guard:
        try:
            if security == "ssl":
                smtp: smtplib.SMTP = GuardedSMTPSSL(guard, host, port, context=guard.tls(ssl.create_default_context()))
            else:
                smtp = GuardedSMTP(guard, host, port)
            with smtp:
                if security == "starttls":
                    guard.step()
                    smtp.starttls(context=guard.tls(ssl.create_default_context()))
                if user:
                    guard.step()
                    smtp.login(user, password)
                for n in todo:
                    data = n.message.as_bytes(policy=email.policy.SMTP)
                    guard.step(len(data))
                    try:
                        refused = smtp.send_message(n.message)
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                        out.refused.append((n.department, _reason(exc)))
                        guard.step()
                        smtp.rset()
                        continue
                    if refused:
                        out.refused.append((n.department, _reason(smtplib.SMTPRecipientsRefused(refused))))
                    out.sent.append(n.department)
                    log.append({"department": n.department, "kind": n.kind, "fingerprint": n.fingerprint,
                                "to": str(n.message["To"]), "message_id": str(n.message["Message-ID"]),
                                "time": dt.datetime.now().isoformat(timespec="seconds")})
                    if sent_log is not None:
                        atomic_write_json(sent_log, {"sent": log})
                    if progress:
                        progress(n.department)
        except smtplib.SMTPAuthenticationError:
            raise MailError("发件邮箱用户名或密码错误，登录失败") from None
        except (OSError, smtplib.SMTPException) as exc:
            done_text = "、".join(out.sent) or "无"
            if guard.expired and guard.what != dl.CONNECT:
                raise MailError(f"发件服务器 {host} 响应过慢（{per_step:g} 秒内未完成{guard.what}），已停止发送；"
                                f"已发送：{done_text}；重新运行不会重复发送已发出的邮件") from None
            if (isinstance(exc, (ConnectionRefusedError, socket.gaierror)) or guard.what == dl.CONNECT) and not out.sent:
                raise MailError(f"无法连接发件服务器 {host}:{port}，请检查 unit.yaml 的 mail 设置和网络") from None
            raise MailError(f"发送邮件失败（{exc.__class__.__name__}），已发送：{done_text}；"
                            "重新运行不会重复发送已发出的邮件") from None
    return out
