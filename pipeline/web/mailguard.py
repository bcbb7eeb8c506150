"""Which IMAP server a request from the page may reach, and with which password.

The page connects only to the mailbox set in unit.yaml (`mail.imap_host`, `imap_port`, `imap_user`,
`imap_security`), or to a server typed into the form once the coordinator has ticked “确认连接此服务器”. A password
typed into the page is kept in memory only, for the very (host, port, user) it logged in to, and never offered to
another; the environment's password only to the configured mailbox. Every failure to connect or log in reads the
same on the page (the reason goes to the console), so the page cannot be used to probe hosts and ports.
Every view that collects from IMAP (the mail page, `POST /jobs/collect`) goes through `imap_target`."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from dataclasses import dataclass
from typing import Callable, TypeVar

from pipeline.errors import PipelineError

log = logging.getLogger("pipeline.web")
SECURITIES = ("auto", "ssl", "starttls", "none")
T = TypeVar("T")


@dataclass(frozen=True)
class ImapTarget:
    host: str
    port: int
    user: str
    security: str
    password: str
    typed: str | None       # the password typed into this request (remembered once it logged in)

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.host, self.port, self.user)


def configured(config) -> dict:
    """The mailbox set in unit.yaml (its typed settings), or empty values."""
    from pipeline import settings
    mail = settings.of(config).mail
    return {"host": str(mail.imap_host or "").strip().lower(), "port": mail.imap_port,
            "user": str(mail.imap_user or "").strip(), "security": str(mail.imap_security or "auto")}


_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def server_name(host: str) -> str:
    """A host name or IP address as typed (a Chinese domain in its ASCII form), or PipelineError."""
    text = host.strip().lower().strip("[]")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    try:
        import idna
        name = text if text.isascii() else idna.encode(text, uts46=True).decode("ascii")
    except Exception:  # noqa: BLE001 - idna's errors are several classes; any of them: not a host name
        name = ""
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in name.rstrip(".").split(".")):
        from pipeline.addresses import visible
        raise PipelineError(f"邮箱服务器地址“{visible(host.strip()[:80])}”不对，应如 imap.example.com 或 192.168.1.10")
    return name


def effective_port(port: int | None, security: str) -> int:
    return port or (143 if security in ("starttls", "none") else 993)


def imap_target(bench, host: str | None, port: str | None, user: str | None, security: str | None,
                password: str | None, confirmed: bool) -> ImapTarget:
    """The server, user and password one request may use, or a PipelineError saying in Chinese why not."""
    conf = configured(bench.config)
    host = (host or "").strip().lower() or conf["host"]
    if not host:
        raise PipelineError("请填写邮箱服务器地址（如 imap.example.com），或在 unit.yaml 的 mail.imap_host 中填写收件服务器")
    host = server_name(host)
    if conf["host"]:
        conf["host"] = server_name(conf["host"])
    same = host == conf["host"]
    port_text = (port or "").strip()
    if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
        raise PipelineError(f"端口“{port_text}”不是 1–65535 之间的数字")
    security = (security or "").strip() or (conf["security"] if same else "auto")
    if security not in SECURITIES:
        raise PipelineError("加密方式只能是 auto、ssl、starttls 或 none")
    number = effective_port(int(port_text) if port_text else (conf["port"] if same else None), security)
    user = (user or "").strip() or (conf["user"] if same else "")
    known = bool(conf["host"]) and (host, number) == (conf["host"], effective_port(conf["port"], conf["security"]))
    known = known or (host, number) in bench.imap_confirmed  # confirmed, and logged in to, earlier this session
    if not known and not confirmed:
        where = (f"设置中的收件服务器是 {conf['host']}:{effective_port(conf['port'], conf['security'])}"
                 if conf["host"] else "设置中还没有填写收件服务器")
        raise PipelineError(f"邮箱服务器 {host}:{number} 不是设置中填写的服务器（{where}）；"
                            "如确要连接它，请勾选“确认连接此服务器”后再点收取")
    typed = password or None
    if not (user or "").isascii() or not (typed or "").isascii():
        raise PipelineError("邮箱账号和密码只能含英文字母、数字和符号（IMAP 登录不支持中文等字符）")
    chosen = typed or bench.imap_passwords.get((host, number, user))
    if not chosen and known and user == conf["user"]:
        from pipeline import settings
        chosen = os.environ.get(settings.of(bench.config).mail.imap_password_env or "WENMING_IMAP_PASSWORD", "")
    return ImapTarget(host, number, user, security, chosen or "", typed)


def guarded(bench, target: ImapTarget, work: Callable[[], T]) -> T:
    """Run `work` (a collect from `target`): a failure to connect or log in becomes the one line every such
    failure reads as; a password that logged in is remembered for its (host, port, user) only."""
    from pipeline.mail.imap import NotConnected
    try:
        out = work()
    except NotConnected as exc:
        log.warning("收取邮件：%s", exc)  # the reason, on the console only
        raise PipelineError(f"无法连接邮箱服务器 {target.host}:{target.port} 或登录失败："
                            "请核对服务器地址、端口、加密方式、账号和密码（具体原因见运行工作台的窗口）") from None
    except PipelineError:
        remember(bench, target)  # it got past the login
        raise
    remember(bench, target)
    return out


def remember(bench, target: ImapTarget) -> None:
    """Keep a typed password, in memory only, for the very (host, port, user) it was typed for; the server,
    once logged in to, needs no second confirmation this session."""
    if target.typed:
        bench.imap_passwords[target.key] = target.typed
    bench.imap_confirmed.add((target.host, target.port))


# ---------------------------------------------------------------- SMTP: the password stays with its server too

def smtp_server(config) -> tuple[str, int, str]:
    """(host, port, user) of the SMTP server a configuration sends through."""
    from pipeline import settings
    mail = settings.of(config).mail
    return (str(mail.smtp_host or "").strip().lower(), int(mail.smtp_port or 0), str(mail.smtp_user or "").strip())


def smtp_password(bench, mailing, typed: str | None) -> str | None:
    """The password to send through `mailing`'s SMTP server: the one typed now (then kept, in memory only, for
    that server and user), else the one typed earlier for exactly that server and user; else None, which lets
    the notify job read the environment, but only for the server set in unit.yaml: a server typed on the
    page gets no password it was not given."""
    key = smtp_server(mailing)
    if typed:
        bench.smtp_passwords[key] = typed
        return typed
    if key in bench.smtp_passwords:
        return bench.smtp_passwords[key]
    return None if key == smtp_server(bench.config) else ""
